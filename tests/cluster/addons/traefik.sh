# shellcheck shell=bash
# shellcheck disable=SC2154 # CACHE, GO_ADDONS, RUN, PKI, ... are kcluster's
#
# traefik: Traefik Proxy as the cluster's Ingress and Gateway API controller, a host process.
#
#   kcluster traefik build          build it from the Go module proxy (cached by version)
#   kcluster traefik start [--tls-from NS]
#                                   run it on the machine (node tier); make IngressClass traefik,
#                                   GatewayClass traefik and Gateway traefik/public (below)
#   kcluster traefik stop           stop the process (its objects stay; `start` takes them again)
#   kcluster traefik status         "running ..." (exit 0) or "stopped" (exit 1)
#
# Traefik runs as a host process with the admin kubeconfig (KUBECONFIG: its kubernetesIngress
# and kubernetesGateway providers read it as an out-of-cluster client). Its entry point
# websecure listens on the bridge address $HOST_IP:443, which this machine, the nodes and the
# pods reach; it reaches the backends at their pod IPs (routed from the machine into the
# nodes). Ingress and Gateway statuses carry $HOST_IP, so kreg finds the address there.
# What a registry push needs of it:
#  - entryPoints.websecure.transport.respondingTimeouts.readTimeout 0: Traefik v3 cuts a
#    request whose body takes longer than 60 s to read (one layer upload is one request);
#  - no body limit or buffering: Traefik has none unless a buffering middleware is added;
#  - Traefik's CRDs (traefik.io/v1alpha1, the upstream YAML of the module) and its
#    kubernetesCRD provider: an https Ingress backend is verified against the system roots
#    unless its Service names a ServersTransport, which kreg writes with its CA and host name
#    (as on k3s, whose Traefik has both); a Gateway route gets the BackendTLSPolicy's own
#    transport. No insecureSkipVerify: every hop to the registry is verified.
# Gateway traefik/public, routes from every namespace, both on port 443:
#  - listener tls: TLS Passthrough for *.tls.kreg.test (kreg's TLSRoute mode);
#  - listener https: HTTPS for *.https.kreg.test, serving Secret kreg-tls of namespace NS
#    (--tls-from, default kreg-system: kreg's own certificate, which names the host) once a
#    ReferenceGrant in NS admits it (kreg's HTTPRoute + BackendTLSPolicy mode).
# Access log (JSON, HTTP routers only): $RUN/logs/traefik-access.log (KREG_TEST_TRAEFIK_ACCESS_LOG).
#
# Built from github.com/traefik/traefik/v3 at $TRAEFIK_VERSION. `go install module@version`
# refuses the module (its go.mod has replace directives), so the build runs inside a copy of
# the module's source. The Go module proxy here serves no zip of a few of its dependencies
# (403 "not available"), so the copy is changed in two places, both outside the paths the
# tests use:
#  - lego (ACME) is a local copy whose DNS-challenge list leaves out the providers whose SDKs
#    are missing: $TRAEFIK_LEGO_DROP;
#  - github.com/abbot/go-http-auth (basic/digest auth middlewares): Traefik's fork
#    github.com/containous/go-http-auth is absent, so it is a local copy of upstream's v0.4.0
#    plus the two names the fork adds and Traefik calls: CheckSecret (the comparison
#    BasicAuth.CheckAuth makes) and DigestAuth.RequireAuthStale (here: RequireAuth).
# And the module zip leaves out the nested module pkg/config/dynamic/ext (Traefik's extension
# point, two empty structs in the open-source build, absent from the proxy too): the build
# writes those two declarations.

TRAEFIK_VERSION=${TRAEFIK_VERSION:-v3.7.13}
TRAEFIK_DIR="$CACHE/traefik-$TRAEFIK_VERSION"
TRAEFIK="$TRAEFIK_DIR/bin/traefik"
TRAEFIK_LEGO_DROP="edgedns huaweicloud oraclecloud sakuracloud ucloud yandexcloud"

TRAEFIK_CRDS="$TRAEFIK_DIR/crds.yml"

# The module's source directory in the module cache (downloaded once; read-only).
traefik_source() {
  (cd "$CACHE" && env GOPATH="$GO_ADDONS" GOMODCACHE="$GO_ADDONS/mod" GOCACHE="$GO_ADDONS/cache" \
    GOFLAGS=-modcacherw GOTOOLCHAIN=local "${GO:-/usr/local/go/bin/go}" mod download -json \
    "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | jq -r '.Dir // empty') ||
    die "go mod download github.com/traefik/traefik/v3@$TRAEFIK_VERSION failed"
}

# The CRDs of Traefik's kubernetesCRD provider, from the module (cached beside the binary).
traefik_crds() {
  [ -s "$TRAEFIK_CRDS" ] && return 0
  local src
  src=$(traefik_source) || exit 2
  [ -s "$src/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" ] ||
    die "github.com/traefik/traefik/v3@$TRAEFIK_VERSION has no CRD definitions"
  mkdir -p "$TRAEFIK_DIR"
  cp "$src/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$TRAEFIK_CRDS.tmp"
  mv "$TRAEFIK_CRDS.tmp" "$TRAEFIK_CRDS"
}

build_traefik() {
  [ -x "$TRAEFIK" ] && { traefik_crds; return 0; }
  local go=${GO:-/usr/local/go/bin/go} t0 src work
  [ -x "$go" ] || die "no Go toolchain at $go (set GO=/path/to/go)"
  local genv=(env GOPATH="$GO_ADDONS" GOMODCACHE="$GO_ADDONS/mod" GOCACHE="$GO_ADDONS/cache"
    GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0)
  t0=$(now_ms)
  mkdir -p "$GO_ADDONS"
  log "building Traefik $TRAEFIK_VERSION from the Go module proxy (cold: about 15 minutes on 2 cores)"
  src=$(traefik_source) || exit 2
  [ -d "$src/cmd/traefik" ] || die "github.com/traefik/traefik/v3@$TRAEFIK_VERSION has no cmd/traefik"
  work="$CACHE/build-traefik-$TRAEFIK_VERSION"
  rm -rf "$work"; mkdir -p "$work"
  cp -r "$src/." "$work/src"; chmod -R u+w "$work/src"
  local lego_mod lego drop
  lego_mod=$(cd "$work/src" && "${genv[@]}" "$go" list -m -f '{{.Path}}@{{.Version}}' github.com/go-acme/lego/v5) ||
    die "Traefik $TRAEFIK_VERSION names no github.com/go-acme/lego/v5"
  lego=$(cd "$CACHE" && "${genv[@]}" "$go" mod download -json "$lego_mod" | jq -r '.Dir // empty') ||
    die "go mod download $lego_mod failed"
  cp -r "$lego/." "$work/lego"; chmod -R u+w "$work/lego"
  drop="^(${TRAEFIK_LEGO_DROP// /|})\$"
  # the import line and the `case "name":` line with its `return` line of each dropped provider
  awk -v re="$drop" '
    /^\t"github.com\/go-acme\/lego\/v5\/providers\/dns\// { n = $0; sub(/.*\/dns\//, "", n); sub(/"$/, "", n); if (n ~ re) next }
    /^\tcase "/ { c = $0; sub(/^\tcase "/, "", c); sub(/".*/, "", c); if (c ~ re) { skip = 1; next } }
    skip { skip = 0; next }
    { print }' "$lego/providers/dns/zz_gen_dns_providers.go" >"$work/lego/providers/dns/zz_gen_dns_providers.go"
  mkdir -p "$work/src/pkg/config/dynamic/ext"
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' >"$work/src/pkg/config/dynamic/ext/go.mod"
  printf '// Package ext: written by tests/cluster/addons/traefik.sh (the module zip lacks it).\npackage ext\n\ntype HTTP struct{}\n\ntype Router struct{}\n' \
    >"$work/src/pkg/config/dynamic/ext/ext.go"
  local auth
  auth=$(cd "$CACHE" && "${genv[@]}" "$go" mod download -json github.com/abbot/go-http-auth@v0.4.0 | jq -r '.Dir // empty') ||
    die "go mod download github.com/abbot/go-http-auth@v0.4.0 failed"
  cp -r "$auth/." "$work/go-http-auth"; chmod -R u+w "$work/go-http-auth"
  printf 'module github.com/abbot/go-http-auth\n\ngo 1.21\n' >"$work/go-http-auth/go.mod"
  cat >"$work/go-http-auth/traefik_fork.go" <<'EOF_GO'
// Written by tests/cluster/addons/traefik.sh: what Traefik calls of its fork of this package.
package auth

import (
	"net/http"
	"strings"
)

// CheckSecret reports whether password matches the htpasswd secret, compared as
// BasicAuth.CheckAuth compares.
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, cmp := range compareFuncs[1:] {
		if strings.HasPrefix(secret, cmp.prefix) {
			compare = cmp.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}

// RequireAuthStale asks for credentials again, as RequireAuth does.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	a.RequireAuth(w, r)
}
EOF_GO
  (cd "$work/src" && "${genv[@]}" "$go" mod edit -replace=github.com/go-acme/lego/v5=../lego \
    -replace=github.com/abbot/go-http-auth=../go-http-auth) ||
    die "go mod edit in $work/src failed"
  (cd "$work/src" && "${genv[@]}" GOFLAGS="-modcacherw -mod=mod" HOME="$work" nice -n 10 "$go" build -trimpath \
      -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
      -o "$work/traefik" ./cmd/traefik) >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; die "Traefik $TRAEFIK_VERSION build failed (log: $work/build.log)"; }
  mkdir -p "$TRAEFIK_DIR/bin"; mv "$work/traefik" "$TRAEFIK.tmp"; mv "$TRAEFIK.tmp" "$TRAEFIK"
  rm -rf "$work"
  traefik_crds
  log "Traefik $TRAEFIK_VERSION built in $(secs_since "$t0") s"
}

TRAEFIK_PING=127.0.0.1:9080

traefik_up() { curl -fsS --max-time 2 -o /dev/null "http://$TRAEFIK_PING/ping"; }

# traefik_objects NS: the classes and the Gateway (server-side apply, so a restart changes nothing).
traefik_objects() {
  local ns=$1
  kc apply --server-side --field-manager=kcluster-traefik -f - >/dev/null <<EOF_OBJ || die "applying Traefik's classes and Gateway failed"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: traefik}
spec: {controller: traefik.io/ingress-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: traefik}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: traefik}
spec: {controllerName: traefik.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: traefik}
spec:
  gatewayClassName: traefik
  listeners:
    - name: tls
      protocol: TLS
      port: 443
      hostname: "*.tls.kreg.test"
      tls: {mode: Passthrough}
      allowedRoutes: {namespaces: {from: All}}
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.https.kreg.test"
      tls:
        mode: Terminate
        certificateRefs: [{kind: Secret, name: kreg-tls, namespace: $ns}]
      allowedRoutes: {namespaces: {from: All}}
EOF_OBJ
}

traefik_config() { # the static configuration (YAML)
  cat <<EOF_CFG
entryPoints:
  websecure:
    address: "$HOST_IP:443"
    transport:
      respondingTimeouts: {readTimeout: "0s", writeTimeout: "0s", idleTimeout: "180s"}
  traefik:
    address: "$TRAEFIK_PING"
global: {checkNewVersion: false, sendAnonymousUsage: false}
ping: {entryPoint: traefik}
api: {insecure: true, dashboard: false}
log: {level: INFO, noColor: true}
accessLog: {filePath: "$RUN/logs/traefik-access.log", format: json}
providers:
  kubernetesIngress:
    ingressEndpoint: {ip: "$HOST_IP"}
  kubernetesCRD: {safeNaming: false}
  kubernetesGateway:
    statusAddress: {ip: "$HOST_IP"}
EOF_CFG
}

cmd_traefik() {
  local p t0 ns=kreg-system
  case "${1:-}" in
    build) build_traefik ;;
    start)
      shift
      while [ $# -gt 0 ]; do
        case "$1" in
          --tls-from) ns=${2:-}; shift ;;
          *) die "unknown option for traefik start: $1" ;;
        esac
        shift
      done
      [[ "$ns" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "--tls-from needs a namespace name"
      need_root
      [ "$(cat "$RUN/tier" 2>/dev/null)" = node ] || die "the node tier is not up"
      build_traefik
      t0=$(now_ms)
      api GET /apis/gateway.networking.k8s.io/v1 --fail -o /dev/null 2>/dev/null || gateway_crds_on
      kc apply --server-side --field-manager=kcluster-traefik -f "$TRAEFIK_CRDS" >/dev/null ||
        die "the API server refused Traefik's CRDs ($TRAEFIK_CRDS)"
      wait_until kube-apiserver 30 "Traefik's CRDs established" sh -c \
        "curl -fsS --max-time 2 --cacert '$PKI/ca.crt' --cert '$PKI/admin.crt' --key '$PKI/admin.key' https://127.0.0.1:$API_PORT/apis/traefik.io/v1alpha1 | jq -e '[.resources[].name] | index(\"serverstransports\")' >/dev/null"
      traefik_objects "$ns"
      if ! alive traefik; then
        mkdir -p "$RUN/traefik"
        traefik_config >"$RUN/traefik/traefik.yml"
        spawn traefik env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
          KUBECONFIG="$RUN/admin.kubeconfig" "$TRAEFIK" --configFile="$RUN/traefik/traefik.yml"
        wait_until traefik 30 "Traefik's ping at $TRAEFIK_PING" traefik_up
      fi
      wait_until traefik 30 "Gateway traefik/public programmed" sh -c \
        "curl -fsS --max-time 2 --cacert '$PKI/ca.crt' --cert '$PKI/admin.crt' --key '$PKI/admin.key' https://127.0.0.1:$API_PORT/apis/gateway.networking.k8s.io/v1/namespaces/traefik/gateways/public | jq -e '.status.addresses[0].value == \"$HOST_IP\"' >/dev/null"
      log "Traefik $TRAEFIK_VERSION on $HOST_IP:443 (IngressClass traefik, Gateway traefik/public), ready after $(secs_since "$t0") s"
      ;;
    stop)
      p=$(pid_of traefik)
      if [ -n "$p" ]; then
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || true
        rm -f "$RUN/pids/traefik"
      fi
      ! traefik_up || die "Traefik still answers at $TRAEFIK_PING"
      log "Traefik stopped"
      ;;
    status)
      if alive traefik && traefik_up; then echo "running on $HOST_IP:443"; else echo "stopped"; return 1; fi
      ;;
    *) die "usage: kcluster traefik build|start [--tls-from NS]|stop|status" ;;
  esac
}

env_traefik() {
  printf 'export KREG_TEST_TRAEFIK_ACCESS_LOG=%q\n' "$RUN/logs/traefik-access.log"
}
