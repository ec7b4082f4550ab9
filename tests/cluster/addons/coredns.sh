# shellcheck shell=bash
# shellcheck disable=SC2154
# coredns add-on: a real CoreDNS as the cluster's DNS, run the way kubeadm runs it.
#
#   kcluster coredns build          build CoreDNS $COREDNS_VERSION once (Go module proxy, static)
#   kcluster coredns start [--custom]
#                                   the OCI image into every node, then in kube-system: ConfigMap
#                                   coredns (kubeadm's Corefile), ServiceAccount + RBAC, Deployment
#                                   coredns, Service kube-dns at $COREDNS_IP; every kubelet's
#                                   clusterDNS set to it (kubelet restarted); waits until it answers.
#                                   --custom: as k3s ships it, the Corefile imports the server files
#                                   of ConfigMap coredns-custom (optional, mounted at
#                                   /etc/coredns/custom; nobody creates it)
#   kcluster coredns stop           all of that removed, clusterDNS unset again
#
# Built from github.com/coredns/coredns at $COREDNS_VERSION (CGO_ENABLED=0, -trimpath) into
# $CACHE/coredns-$COREDNS_VERSION (binary and image cached by version). The Corefile has no
# `forward`: the machine has no upstream DNS, and names outside the cluster are the test's
# business (kreg's entry). Pods reach the API server through the `kubernetes` Service (the
# apiserver advertises $HOST_IP), so the `kubernetes` plugin is kept.
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
COREDNS_DIR="$CACHE/coredns-$COREDNS_VERSION"
COREDNS_BIN="$COREDNS_DIR/coredns"
COREDNS_TAR="$COREDNS_DIR/coredns.oci.tar"
COREDNS_IMAGE="docker.io/kreg-test/coredns:${COREDNS_VERSION#v}"
COREDNS_IP=10.96.0.10

build_coredns() {
  if [ ! -x "$COREDNS_BIN" ]; then
    local go=${GO:-/usr/local/go/bin/go} t0 tmp
    [ -x "$go" ] || die "no Go toolchain at $go (set GO=/path/to/go)"
    t0=$(now_ms)
    log "building CoreDNS $COREDNS_VERSION (github.com/coredns/coredns, Go module proxy)"
    mkdir -p "$GO_ADDONS" "$CACHE"
    tmp=$(mktemp -d "$CACHE/coredns.XXXXXX"); chmod 0755 "$tmp"
    if ! (cd "$tmp" && env GOPATH="$GO_ADDONS" GOMODCACHE="$GO_ADDONS/mod" GOFLAGS=-modcacherw \
      GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$tmp" \
      nice -n 10 "$go" install -trimpath -ldflags '-s -w' "github.com/coredns/coredns@$COREDNS_VERSION"); then
      rm -rf "$tmp"
      die "building CoreDNS $COREDNS_VERSION failed"
    fi
    rm -rf "$COREDNS_DIR"; mv "$tmp" "$COREDNS_DIR"
    log "CoreDNS $COREDNS_VERSION built in $(secs_since "$t0") s"
  fi
  [ -s "$COREDNS_TAR" ] && return 0
  # The image: the static binary, a passwd file and nothing else (no shell), like upstream's.
  local w; w=$(mktemp -d "$CACHE/coredns-image.XXXXXX")
  mkdir -p "$w/etc" "$w/tmp"
  cp "$COREDNS_BIN" "$w/coredns"
  printf 'root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' >"$w/etc/passwd"
  oci_archive "$w" "$COREDNS_TAR.tmp" "$COREDNS_IMAGE" \
    "$(jq -cn '{Entrypoint: ["/coredns"], Cmd: ["-conf", "/etc/coredns/Corefile"], ExposedPorts: {"53/udp": {}, "53/tcp": {}}}')"
  mv "$COREDNS_TAR.tmp" "$COREDNS_TAR"
  rm -rf "$w"
}

# kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns), without `forward` (see above) and
# with `reload 2s` so an edit is served within seconds of reaching the pod.
coredns_corefile() { # [--custom]
  cat <<'COREFILE'
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    cache 30
    loop
    reload 2s
    loadbalance
}
COREFILE
  if [ "${1:-}" = --custom ]; then echo 'import /etc/coredns/custom/*.server'; fi
}

coredns_objects() { # [--custom]
  local custom=false
  [ "${1:-}" = --custom ] && custom=true
  jq -n --arg corefile "$(coredns_corefile "$@")" --arg image "$COREDNS_IMAGE" --arg ip "$COREDNS_IP" \
    --argjson custom "$custom" '
  {apiVersion: "v1", kind: "List", items: [
    {apiVersion: "v1", kind: "ServiceAccount", metadata: {name: "coredns", namespace: "kube-system"}},
    {apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: {name: "system:coredns"},
     rules: [{apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"]},
             {apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"]}]},
    {apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: {name: "system:coredns"},
     roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns"},
     subjects: [{kind: "ServiceAccount", name: "coredns", namespace: "kube-system"}]},
    {apiVersion: "v1", kind: "ConfigMap", metadata: {name: "coredns", namespace: "kube-system"},
     data: {Corefile: ($corefile + "\n")}},
    {apiVersion: "apps/v1", kind: "Deployment",
     metadata: {name: "coredns", namespace: "kube-system", labels: {"k8s-app": "kube-dns"}},
     spec: {replicas: 1, selector: {matchLabels: {"k8s-app": "kube-dns"}},
       template: {metadata: {labels: {"k8s-app": "kube-dns"}},
         spec: {serviceAccountName: "coredns", dnsPolicy: "Default",
           containers: [{name: "coredns", image: $image, imagePullPolicy: "Never",
             args: ["-conf", "/etc/coredns/Corefile"],
             ports: [{name: "dns", containerPort: 53, protocol: "UDP"},
                     {name: "dns-tcp", containerPort: 53, protocol: "TCP"},
                     {name: "metrics", containerPort: 9153, protocol: "TCP"}],
             volumeMounts: ([{name: "config-volume", mountPath: "/etc/coredns", readOnly: true}]
               + if $custom then [{name: "custom-config-volume", mountPath: "/etc/coredns/custom", readOnly: true}] else [] end),
             livenessProbe: {httpGet: {path: "/health", port: 8080}, initialDelaySeconds: 5, periodSeconds: 10},
             readinessProbe: {httpGet: {path: "/ready", port: 8181}, periodSeconds: 1}}],
           volumes: ([{name: "config-volume",
             configMap: {name: "coredns", items: [{key: "Corefile", path: "Corefile"}]}}]
             + if $custom then [{name: "custom-config-volume",
                 configMap: {name: "coredns-custom", optional: true}}] else [] end)}}}},
    {apiVersion: "v1", kind: "Service",
     metadata: {name: "kube-dns", namespace: "kube-system", labels: {"k8s-app": "kube-dns"}},
     spec: {selector: {"k8s-app": "kube-dns"}, clusterIP: $ip,
       ports: [{name: "dns", port: 53, protocol: "UDP"}, {name: "dns-tcp", port: 53, protocol: "TCP"},
               {name: "metrics", port: 9153, protocol: "TCP"}]}}]}'
}

# coredns_kubelets on|off: clusterDNS in every node's kubelet config.yaml (written by `up`), and
# the kubelet restarted to read it; waits until every node is Ready again. With it, syncFrequency
# 10s (the default is 1m): a ConfigMap edit reaches CoreDNS's volume within seconds, so a test
# waits seconds, not minutes, for what a real cluster does within a minute or two.
coredns_kubelets() {
  local n cfg changed mark='# coredns add-on'
  for n in "${NODES[@]}"; do
    use_node "$n"
    cfg=$N_DIR/kubelet/config.yaml
    [ -f "$cfg" ] || die "no kubelet config at $cfg"
    changed=0
    if [ "$1" = on ] && ! grep -q "$mark\$" "$cfg"; then
      grep -q '^clusterDNS:' "$cfg" && die "$cfg sets clusterDNS already"
      printf 'clusterDNS: [%s] %s\nsyncFrequency: 10s %s\n' "$COREDNS_IP" "$mark" "$mark" >>"$cfg"; changed=1
    elif [ "$1" = off ] && grep -q "$mark\$" "$cfg"; then
      sed -i "/$mark\$/d" "$cfg"; changed=1
    fi
    if [ "$changed" = 1 ]; then "$SELF" node-restart --node "$n" kubelet; fi
  done
  for n in "${NODES[@]}"; do
    wait_until "$n.kubelet" 120 "node $n Ready again" node_ready "$n"
  done
}

coredns_answers() { # the Service answers a cluster name from the first node
  use_node "${NODES[0]}"
  nsenter -t "$(pid_of "$N_NAME.node-ns")" -n -- \
    busybox nslookup kubernetes.default.svc.cluster.local "$COREDNS_IP" 2>/dev/null |
    grep -Eq "^Address:[[:space:]]+${KUBE_SVC_IP//./\\.}\$"
}

cmd_coredns() {
  case "${1:-}" in
    build) build_coredns ;;
    start)
      need_root
      [ "$(cat "$RUN/tier" 2>/dev/null)" = node ] || die "the node tier is not up"
      local t0 n; t0=$(now_ms)
      build_coredns
      for n in "${NODES[@]}"; do use_node "$n"; import_images "$COREDNS_TAR"; done
      [ "${2:-}" = "" ] || [ "$2" = --custom ] || die "usage: kcluster coredns start [--custom]"
      coredns_objects "${2:-}" | kc apply -f - >/dev/null
      kc -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null ||
        { kc -n kube-system describe pod -l k8s-app=kube-dns >&2; kc -n kube-system logs -l k8s-app=kube-dns --tail=30 >&2
          die "CoreDNS did not become ready"; }
      wait_until "" 60 "CoreDNS answering at $COREDNS_IP" coredns_answers
      coredns_kubelets on
      log "CoreDNS $COREDNS_VERSION serving at $COREDNS_IP (kube-system/kube-dns), clusterDNS on every node, in $(secs_since "$t0") s"
      ;;
    stop)
      need_root
      coredns_kubelets off
      kc delete --ignore-not-found --wait=true -n kube-system deployment/coredns service/kube-dns \
        configmap/coredns configmap/coredns-custom serviceaccount/coredns >/dev/null
      kc delete --ignore-not-found clusterrolebinding/system:coredns clusterrole/system:coredns >/dev/null
      log "CoreDNS stopped"
      ;;
    *) die "usage: kcluster coredns build|start [--custom]|stop" ;;
  esac
}
