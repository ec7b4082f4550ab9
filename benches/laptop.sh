#!/usr/bin/env bash
# benches/laptop.sh: push and pull throughput through the laptop path of `--expose localhost-tls`
# (skopeo -> `kreg port-forward` on 127.0.0.1 -> API server -> kubelet -> registry pod) against
# the direct path to the same registry (skopeo -> the NodePort at the node's address), with the
# same random image. Root; starts the node tier of tests/cluster/kcluster and stops it on exit.
#
#   benches/laptop.sh                      200 MiB, one layer, median of 3
#   BENCH_IMAGE_MIB=100 BENCH_COPY_RUNS=5 benches/laptop.sh
#
# Prints one table (path | push MiB/s | pull MiB/s) and the laptop/direct ratios on stdout.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KC="$ROOT/tests/cluster/kcluster"
KREG=${KREG:-$ROOT/target/debug/kreg}
MIB=${BENCH_IMAGE_MIB:-200}
RUNS=${BENCH_COPY_RUNS:-3}
NS=kreg-bench-laptop
W=$(mktemp -d /var/tmp/kreg-laptop.XXXXXX)
PF=

log() { printf 'laptop: %s\n' "$*" >&2; }
cleanup() {
  [ -z "$PF" ] || kill "$PF" 2>/dev/null || true
  "$KC" down >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

[ -x "$KREG" ] || { log "no kreg at $KREG (cargo build first)"; exit 2; }
log "starting the node tier"
"$KC" agent-image "$KREG" >/dev/null
"$KC" down >/dev/null 2>&1 || true
"$KC" up node >/dev/null 2>&1
eval "$("$KC" env)"
K=$KREG_TEST_KUBECONFIG
"$KREG" up -n "$NS" --expose localhost-tls --yes -o json --timeout 3m --kubeconfig "$K" >"$W/up.json"
REGISTRY=$(jq -r .registry "$W/up.json")
PORT=${REGISTRY##*:}
NODE=$(jq -r .address "$W/up.json")
mkdir -p "$W/certs"
jq -r .ca_pem "$W/up.json" >"$W/certs/ca.crt"

# One random layer, gzip-1 already, in an OCI layout.
img="$W/img"
mkdir -p "$img/blobs/sha256" "$W/l"
head -c "$((MIB * 1048576))" /dev/urandom >"$W/l/data"
tar -C "$W/l" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$W/l.tar" data
diffid=$(sha256sum "$W/l.tar" | cut -d' ' -f1)
gzip -1 -n "$W/l.tar"
ld=$(sha256sum "$W/l.tar.gz" | cut -d' ' -f1)
ls_=$(stat -c %s "$W/l.tar.gz")
mv "$W/l.tar.gz" "$img/blobs/sha256/$ld"
jq -cn --arg d "sha256:$diffid" '{architecture: "amd64", os: "linux", config: {},
  rootfs: {type: "layers", diff_ids: [$d]}}' >"$W/config.json"
cd_=$(sha256sum "$W/config.json" | cut -d' ' -f1)
cs=$(stat -c %s "$W/config.json")
mv "$W/config.json" "$img/blobs/sha256/$cd_"
jq -cn --arg c "sha256:$cd_" --argjson cs "$cs" --arg l "sha256:$ld" --argjson ls "$ls_" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' >"$W/m.json"
md=$(sha256sum "$W/m.json" | cut -d' ' -f1)
ms=$(stat -c %s "$W/m.json")
mv "$W/m.json" "$img/blobs/sha256/$md"
jq -cn --arg m "sha256:$md" --argjson ms "$ms" '{schemaVersion: 2, manifests: [{
  mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
  annotations: {"org.opencontainers.image.ref.name": "bench"}}]}' >"$img/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$img/oci-layout"
bytes=$(du -sb "$img/blobs" | cut -f1)

# A fresh blob-info cache per copy, so skopeo never skips or mounts a blob it saw before.
BIC=/var/lib/containers/cache
mkdir -p "$BIC"
# shellcheck disable=SC2016 # $0, $1 and $@ are the inner shell's
copy_ms() {
  local c t
  c=$(mktemp -d "$W/bic.XXXXXX")
  t=$(now_ns)
  unshare -m sh -c 'mount --bind "$0" "$1" && shift && exec skopeo copy -q "$@"' "$c" "$BIC" "$@" >/dev/null
  echo $((($(now_ns) - t) / 1000000))
  rm -rf "$c"
}
mibs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.1f", b / 1048576 / (t / 1000) }'; }

PATH="$(dirname "$KUBECTL"):$PATH" "$KREG" port-forward -n "$NS" --kubeconfig "$K" >/dev/null 2>"$W/pf.err" &
PF=$!
for _ in $(seq 1 40); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.5; done

lp=() lr=() dp=() dr=()
for r in $(seq 1 "$RUNS"); do
  log "round $r/$RUNS: laptop path $REGISTRY (port-forward), direct path $NODE:$PORT"
  lp+=("$(copy_ms --dest-cert-dir "$W/certs" "oci:$img:bench" "docker://$REGISTRY/bench/l$r:1")")
  lr+=("$(copy_ms --src-cert-dir "$W/certs" "docker://$REGISTRY/bench/l$r:1" "oci:$W/pl:bench")")
  rm -rf "$W/pl"
  # The certificate names localhost, not the node address: same TLS, verification off.
  dp+=("$(copy_ms --dest-tls-verify=false "oci:$img:bench" "docker://$NODE:$PORT/bench/d$r:1")")
  dr+=("$(copy_ms --src-tls-verify=false "docker://$NODE:$PORT/bench/d$r:1" "oci:$W/pd:bench")")
  rm -rf "$W/pd"
done
log "ms: laptop push ${lp[*]} pull ${lr[*]}; direct push ${dp[*]} pull ${dr[*]}"
lpm=$(median "${lp[@]}") lrm=$(median "${lr[@]}") dpm=$(median "${dp[@]}") drm=$(median "${dr[@]}")
printf 'path|push MiB/s|pull MiB/s\n'
printf 'laptop (kreg port-forward)|%s|%s\n' "$(mibs "$lpm")" "$(mibs "$lrm")"
printf 'direct (NodePort)|%s|%s\n' "$(mibs "$dpm")" "$(mibs "$drm")"
awk -v a="$lpm" -v b="$dpm" -v c="$lrm" -v d="$drm" -v m="$((bytes / 1048576))" -v n="$RUNS" \
  'BEGIN { printf "laptop/direct throughput: push %.2f, pull %.2f (%d MiB image, median of %d)\n", b / a, d / c, m, n }'
"$KREG" down -n "$NS" --purge --yes --kubeconfig "$K" >/dev/null 2>&1 || true
