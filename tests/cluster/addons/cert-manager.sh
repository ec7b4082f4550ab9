# shellcheck shell=bash
# shellcheck disable=SC2154 # CACHE, RUN, HERE, GO_ADDONS, API_PORT, PKI: set by kcluster
# cert-manager add-on: `kcluster cert-manager start|stop|status` (tests/node_issuer.rs).
#
# The controller is the cert-manager library (module github.com/cert-manager/cert-manager from
# the Go module proxy) driven by the small main package beside this file
# (addons/cert-manager/main.go): the proxy does not serve the separate module that holds
# upstream's controller binary. It runs the Issuer/ClusterIssuer, Certificate and
# CertificateRequest loops a CA or self-signed issuer needs, as a host process on the admin
# kubeconfig, leader election off. No webhook: the webhook only validates and defaults objects,
# so what kreg writes must be complete and valid by itself (the CRDs' OpenAPI schemas still
# apply). No cainjector, no ACME. The CRDs are the module's deploy/crds (controller-gen's plain
# YAML, no Helm templating; the chart only adds labels around the same schemas).
#
#   kcluster cert-manager build    build the controller and copy the CRDs (cached; `kcluster build`
#                                  runs it too)
#   kcluster cert-manager start    apply the 6 CRDs, start the controller (namespace cert-manager
#                                  for ClusterIssuers' Secrets), wait until it runs
#   kcluster cert-manager stop     stop the controller and delete the CRDs (with every object
#                                  of theirs: the API server deletes them)
#   kcluster cert-manager status   running or not
CERT_MANAGER_VERSION=${CERT_MANAGER_VERSION:-v1.21.2}
CM_NS=cert-manager

# The cache key holds the version and main.go's digest: a change to main.go rebuilds.
cm_dir() {
  local sum
  sum=$(sha256sum "$HERE/addons/cert-manager/main.go" | cut -c1-12)
  echo "$CACHE/cert-manager-$CERT_MANAGER_VERSION-$sum"
}

build_cert_manager() {
  local dir go=${GO:-/usr/local/go/bin/go} t0 tmp src f n=0
  dir=$(cm_dir)
  [ -x "$dir/bin/cm-controller" ] && [ -s "$dir/crds/count" ] && return 0
  [ -x "$go" ] || die "no Go toolchain at $go (set GO=/path/to/go)"
  t0=$(now_ms)
  log "building cert-manager $CERT_MANAGER_VERSION (Go module proxy) into $dir (cold: about 11 minutes on 2 shared cores)"
  mkdir -p "$GO_ADDONS" "$CACHE"
  tmp=$(mktemp -d "$CACHE/cert-manager.XXXXXX")
  mkdir -p "$tmp/src" "$tmp/bin" "$tmp/crds"
  cp "$HERE/addons/cert-manager/main.go" "$tmp/src/"
  if ! (cd "$tmp/src" &&
      export GOPATH="$GO_ADDONS" GOMODCACHE="$GO_ADDONS/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0 &&
      "$go" mod init kreg.test/cm-controller >/dev/null 2>&1 &&
      "$go" get "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" &&
      "$go" mod tidy &&
      nice -n 10 "$go" build -trimpath -ldflags=-s -o "$tmp/bin/cm-controller" .); then
    rm -rf "$tmp"
    die "building cert-manager $CERT_MANAGER_VERSION failed"
  fi
  src=$(cd "$tmp/src" && GOPATH="$GO_ADDONS" GOMODCACHE="$GO_ADDONS/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    "$go" list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager) || { rm -rf "$tmp"; die "no cert-manager module directory"; }
  for f in "$src"/deploy/crds/*.yaml; do
    grep -q '^kind: CustomResourceDefinition' "$f" || continue
    cp "$f" "$tmp/crds/"; n=$((n + 1))
  done
  [ "$n" -eq 6 ] || { rm -rf "$tmp"; die "expected 6 CRDs in $src/deploy/crds, found $n"; }
  echo "$n" >"$tmp/crds/count"
  rm -rf "$tmp/src"
  rm -rf "$dir"; mv "$tmp" "$dir"
  log "cert-manager $CERT_MANAGER_VERSION built in $(secs_since "$t0") s"
}

cm_group_served() {
  curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$API_PORT/apis/cert-manager.io/v1" |
    jq -e '[.resources[] | select(.name | contains("/") | not)] | length == 4' >/dev/null
}
cm_group_gone() {
  ! curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$API_PORT/apis/cert-manager.io" >/dev/null 2>&1
}

cmd_cert_manager() {
  local dir f p
  [ "${1:-}" = build ] && { build_cert_manager; return; }
  [ -f "$RUN/tier" ] || die "no cluster is up"
  case "${1:-}" in
    start)
      build_cert_manager
      dir=$(cm_dir)
      for f in "$dir"/crds/*.yaml; do
        kc apply --server-side --field-manager=kcluster -f "$f" >/dev/null ||
          die "the API server refused the CRD in $f"
      done
      wait_until kube-apiserver 30 "the cert-manager CRDs established" cm_group_served
      kc create namespace "$CM_NS" >/dev/null 2>&1 || true
      if ! alive cert-manager; then
        spawn cert-manager "$dir/bin/cm-controller" --kubeconfig "$RUN/admin.kubeconfig" \
          --cluster-resource-namespace "$CM_NS"
        wait_until cert-manager 30 "the cert-manager controller running" \
          grep -q 'running [0-9]* control loops' "$RUN/logs/cert-manager.log"
      fi
      log "cert-manager $CERT_MANAGER_VERSION running (no webhook; ClusterIssuer Secrets in namespace $CM_NS; log $RUN/logs/cert-manager.log)"
      ;;
    stop)
      p=$(pid_of cert-manager)
      if [ -n "$p" ]; then
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || true
        rm -f "$RUN/pids/cert-manager"
      fi
      for f in $(api GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions --fail |
          jq -r '.items[] | select(.spec.group == "cert-manager.io" or .spec.group == "acme.cert-manager.io") | .metadata.name'); do
        api DELETE "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$f" -o /dev/null || true
      done
      wait_until kube-apiserver 60 "the cert-manager group gone" cm_group_gone
      log "cert-manager stopped, its CRDs deleted"
      ;;
    status)
      if alive cert-manager; then echo running; else echo stopped; fi
      ;;
    *) die "usage: kcluster cert-manager build|start|stop|status" ;;
  esac
}
