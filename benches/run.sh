#!/usr/bin/env bash
# benches/run.sh: kreg's benchmarks (issue 5). Runs as root, needs no terminal, starts and stops
# the project's test cluster (tests/cluster/kcluster) itself and prints one table at the end.
#
#   benches/run.sh                 all figures, ~5 min on 2 cores
#   BENCH_IMAGE_MIB=256 benches/run.sh   smaller push/pull image (default 512 MiB, 4 layers)
#
# Network: only loopback and the harness' namespaces (node 10.213.0.2, pods 10.244/16).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KC="$ROOT/tests/cluster/kcluster"
KREG="$ROOT/target/release/kreg"
IMAGE_MIB=${BENCH_IMAGE_MIB:-512}
LAYERS=4
NS=kreg-system
REF_NS=kreg-bench-ref
PLAIN_NS=kreg-bench-plain
W=$(mktemp -d /var/tmp/kreg-bench.XXXXXX)
ROWS=()

log() { printf 'bench: %s\n' "$*" >&2; }
cleanup() {
  local rc=$? f
  "$KC" down >/dev/null 2>&1 || true
  rm -rf "$W"
  for f in 1 2 3 4 5; do
    printf '%s\n' "${ROWS[@]}" | grep -q "^$f\\. " || ROWS+=("$f. $(fig_name "$f")|not measured|-|-|-")
  done
  print_table
  exit "$rc"
}
trap cleanup EXIT

fig_name() { case $1 in 1) echo "up overhead" ;; 2) echo "idempotent re-run" ;; 3) echo "push/pull throughput" ;;
  4) echo "scale on the API tier" ;; 5) echo "start-up" ;; esac; }
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
# row FIGURE KREG REFERENCE GOAL MET
row() { ROWS+=("$1|$2|$3|$4|$5"); }
yesno() { if [ "$1" = 1 ]; then echo yes; else echo NO; fi; }
# lt A B: 1 if A < B (decimals)
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? 1 : 0 }'; }
# hf_ms JSON: mean of a hyperfine export in ms, with the standard deviation
hf_ms() { jq -r '.results[0] | "\(.mean * 1000 | floor) ms ± \(.stddev * 1000 | floor)"' "$1"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
hf_mean_ms() { jq -r '.results[0].mean * 1000' "$1"; }
kc() { "$KUBECTL" --kubeconfig "$K" "$@"; }

print_table() {
  {
    echo "figure|kreg|reference|goal|met?"
    echo "---|---|---|---|---"
    printf '%s\n' "${ROWS[@]}" | sort -s -t. -k1,1n
  } | column -t -s '|' -o ' | '
}

command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
for c in skopeo jq column unshare; do command -v "$c" >/dev/null || { log "missing $c"; exit 2; }; done

log "building the release binary"
(cd "$ROOT" && cargo build --release --locked --quiet)
"$KC" build >/dev/null 2>&1

# ---- 5. start-up (no cluster needed) ---------------------------------------------------------
log "5. start-up"
hyperfine --runs 20 --warmup 3 -N --export-json "$W/help.json" "$KREG --help" >/dev/null 2>&1
size=$(stat -c %s "$KREG")
size_mib=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')
row "5. kreg --help (20 runs)" "$(hf_ms "$W/help.json")" "-" "-" "-"
row "5. release binary size" "${size} bytes (${size_mib} MiB)" "-" "-" "-"

# ---- 1. up overhead (node tier) ----------------------------------------------------------------
log "1. up overhead: starting the node tier"
"$KC" down >/dev/null 2>&1 || true
"$KC" up node >/dev/null 2>&1
eval "$("$KC" env)"
K=$KREG_TEST_KUBECONFIG

t0=$(now_ns)
"$KREG" up --yes -o json --kubeconfig "$K" >"$W/up1.json" 2>"$W/up1.err"
up_wall=$(ms_since "$t0")
read -r total work w_addr w_roll probe w_trust reqs < <(jq -r '[.timings_ms.total_ms, .timings_ms.work_ms,
  .timings_ms.wait_address_ms, .timings_ms.wait_rollout_ms, .timings_ms.probe_ms,
  .timings_ms.wait_node_trust_ms, .api_requests] | @tsv' "$W/up1.json")
jq -r .ca_pem "$W/up1.json" >"$W/ca.crt"
REGISTRY=$(jq -r .registry "$W/up1.json")
REG_HOST=$(jq -r .host "$W/up1.json")
REG_ADDR=$(jq -r .address "$W/up1.json")

# Reference: the same objects, applied server-side into another namespace, waited with rollout status.
kc -n "$NS" get deploy,svc,pvc,secret,configmap,daemonset -l app.kubernetes.io/managed-by=kreg -o json >"$W/objs.json"
kc -n "$NS" get secret kreg-http-secret -o json >"$W/http-secret.json"
jq -s --arg ns "$REF_NS" '{apiVersion: "v1", kind: "List", items: (
    [{apiVersion: "v1", kind: "Namespace", metadata: {name: $ns}}] +
    ([.[0].items[], .[1]] | unique_by(.kind + "/" + .metadata.name) | map(
      del(.status, .metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
          .metadata.managedFields, .metadata.generation, .metadata.selfLink, .metadata.finalizers,
          .metadata.ownerReferences, .spec.clusterIP, .spec.clusterIPs, .spec.volumeName)
      | .metadata.namespace = $ns
      | .metadata.annotations |= ((. // {}) | with_entries(select(.key | test(
          "^(kreg\\.dev/applied-hash|deployment\\.kubernetes\\.io/|deprecated\\.daemonset|pv\\.kubernetes\\.io/|volume\\.beta\\.kubernetes\\.io/|kubectl\\.kubernetes\\.io/)") | not)))
      | if .kind == "Service" then .spec.ports |= map(del(.nodePort)) else . end)))}' \
  "$W/objs.json" "$W/http-secret.json" >"$W/ref.json"
t0=$(now_ns)
kc apply --server-side --field-manager kreg-bench -f "$W/ref.json" >/dev/null
kc -n "$REF_NS" rollout status deploy/kreg-registry --timeout=180s >/dev/null
kc -n "$REF_NS" rollout status ds/kreg-node-trust --timeout=180s >/dev/null
ref_ms=$(ms_since "$t0")
kc delete ns "$REF_NS" --wait=false >/dev/null

row "1. up, fresh install: total (wall)" "${total} ms (${up_wall} ms wall)" "${ref_ms} ms (kubectl apply --server-side + 2x rollout status; no TLS probe)" "total <= reference" "$(yesno "$(lt "$total" "$((ref_ms + 1))")")"
row "1. up, fresh install: kreg work" "${work} ms" "-" "< 1000 ms" "$(yesno "$(lt "$work" 1000)")"
row "1. up, fresh install: waits" "address ${w_addr}, rollout ${w_roll}, probe ${probe}, node trust ${w_trust} ms" "-" "-" "-"
row "1. up, fresh install: API requests" "$reqs" "-" "-" "-"

# ---- 2. idempotent re-run ----------------------------------------------------------------------
log "2. idempotent re-run"
"$KREG" up --yes -o json --kubeconfig "$K" >"$W/up2.json" 2>/dev/null
reqs2=$(jq -r .api_requests "$W/up2.json")
work2=$(jq -r .timings_ms.work_ms "$W/up2.json")
hyperfine --runs 10 --warmup 1 -N --export-json "$W/up2-hf.json" \
  "$KREG up --yes -o json --kubeconfig $K" >/dev/null 2>&1
hyperfine --runs 10 --warmup 1 -N --export-json "$W/status-hf.json" \
  "$KREG status -o json --kubeconfig $K" >/dev/null 2>&1
row "2. up, re-run (wall, 10 runs)" "$(hf_ms "$W/up2-hf.json") (work ${work2} ms, ${reqs2} API requests)" "-" "< 1000 ms" "$(yesno "$(lt "$(hf_mean_ms "$W/up2-hf.json")" 1000)")"
row "2. status (wall, 10 runs)" "$(hf_ms "$W/status-hf.json")" "-" "< 300 ms" "$(yesno "$(lt "$(hf_mean_ms "$W/status-hf.json")" 300)")"

# ---- 3. push/pull throughput -------------------------------------------------------------------
log "3. push/pull: building a ${IMAGE_MIB} MiB image"
layer_mib=$((IMAGE_MIB / LAYERS))
img="$W/img"
mkdir -p "$img/blobs/sha256"
layers_json='[]'
diffids_json='[]'
for i in $(seq 1 "$LAYERS"); do
  mkdir -p "$W/l$i"
  head -c "$((layer_mib * 1048576))" /dev/urandom >"$W/l$i/data$i"
  tar -C "$W/l$i" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$W/l$i.tar" "data$i"
  rm -rf "$W/l$i"
done
for i in $(seq 1 "$LAYERS"); do
  # gzip already (fast level): skopeo would compress an uncompressed layer on every push.
  (sha256sum "$W/l$i.tar" | cut -d' ' -f1 >"$W/l$i.diffid"; gzip -1 -n "$W/l$i.tar") &
done
wait
for i in $(seq 1 "$LAYERS"); do
  d=$(sha256sum "$W/l$i.tar.gz" | cut -d' ' -f1)
  s=$(stat -c %s "$W/l$i.tar.gz")
  mv "$W/l$i.tar.gz" "$img/blobs/sha256/$d"
  layers_json=$(jq -c --arg d "sha256:$d" --argjson s "$s" \
    '. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}]' <<<"$layers_json")
  diffids_json=$(jq -c --arg d "sha256:$(cat "$W/l$i.diffid")" '. + [$d]' <<<"$diffids_json")
done
jq -cn --argjson diffs "$diffids_json" '{created: "1970-01-01T00:00:00Z", architecture: "amd64", os: "linux",
  config: {}, rootfs: {type: "layers", diff_ids: $diffs}}' >"$W/config.json"
cd_=$(sha256sum "$W/config.json" | cut -d' ' -f1)
cs=$(stat -c %s "$W/config.json")
mv "$W/config.json" "$img/blobs/sha256/$cd_"
jq -cn --arg c "sha256:$cd_" --argjson cs "$cs" --argjson l "$layers_json" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs}, layers: $l}' >"$W/manifest.json"
md=$(sha256sum "$W/manifest.json" | cut -d' ' -f1)
ms=$(stat -c %s "$W/manifest.json")
mv "$W/manifest.json" "$img/blobs/sha256/$md"
jq -cn --arg m "sha256:$md" --argjson ms "$ms" '{schemaVersion: 2, manifests: [{
  mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
  annotations: {"org.opencontainers.image.ref.name": "bench"}}]}' >"$img/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$img/oci-layout"
img_bytes=$(du -sb "$img/blobs" | cut -f1)
img_mib=$(awk -v b="$img_bytes" 'BEGIN { printf "%.0f", b / 1048576 }')

# Reference registry: plain registry:2 over HTTP, straight at its pod IP.
kc create ns "$PLAIN_NS" >/dev/null
kc -n "$PLAIN_NS" apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain-registry}
spec:
  replicas: 1
  selector: {matchLabels: {app: plain-registry}}
  template:
    metadata: {labels: {app: plain-registry}}
    spec:
      containers:
      - name: registry
        image: docker.io/library/registry:2
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 5000}]
EOF
kc -n "$PLAIN_NS" rollout status deploy/plain-registry --timeout=120s >/dev/null
PLAIN_IP=$(kc -n "$PLAIN_NS" get pod -l app=plain-registry -o jsonpath='{.items[0].status.podIP}')

mkdir -p "$W/certs"
cp "$W/ca.crt" "$W/certs/ca.crt"
cp /etc/hosts "$W/hosts"
echo "$REG_ADDR $REG_HOST" >>"$W/hosts"
# in_hosts CMD...: run CMD with the nip.io name resolvable (there is no DNS here) and with an
# empty blob-info cache, so skopeo can neither skip nor cross-repo-mount a blob it saw before.
BIC=/var/lib/containers/cache
mkdir -p "$BIC"
# shellcheck disable=SC2016 # $0, $1 and $@ are the inner shell's
in_hosts() {
  local c; c=$(mktemp -d "$W/bic.XXXXXX")
  unshare -m sh -c 'mount --bind "$0" /etc/hosts && mount --bind "$1" "$2" && shift 2 && exec "$@"' \
    "$W/hosts" "$c" "$BIC" "$@"
  rm -rf "$c"
}
# copy_ms SRC DST FLAGS...: wall ms of one skopeo copy
copy_ms() {
  local src=$1 dst=$2 t
  shift 2
  t=$(now_ns)
  in_hosts skopeo copy -q "$@" "$src" "$dst" >/dev/null
  ms_since "$t"
}
mibs() { awk -v m="$img_bytes" -v t="$1" 'BEGIN { printf "%.1f", m / 1048576 / (t / 1000) }'; }

# COPY_RUNS rounds, kreg and reference interleaved; each push goes to a new repository.
COPY_RUNS=${BENCH_COPY_RUNS:-3}
pk=() pl=() rk=() rl=()
for r in $(seq 1 "$COPY_RUNS"); do
  log "3. push/pull round $r/$COPY_RUNS: kreg (TLS, NodePort $REGISTRY), plain registry:2 (HTTP, pod $PLAIN_IP:5000)"
  pk+=("$(copy_ms "oci:$img:bench" "docker://$REGISTRY/bench/big$r:1" --dest-cert-dir "$W/certs")")
  pl+=("$(copy_ms "oci:$img:bench" "docker://$PLAIN_IP:5000/bench/big$r:1" --dest-tls-verify=false)")
  rk+=("$(copy_ms "docker://$REGISTRY/bench/big$r:1" "oci:$W/pull-k:bench" --src-cert-dir "$W/certs")")
  rm -rf "$W/pull-k"
  rl+=("$(copy_ms "docker://$PLAIN_IP:5000/bench/big$r:1" "oci:$W/pull-p:bench" --src-tls-verify=false)")
  rm -rf "$W/pull-p"
done
rm -rf "$img"
push_k=$(median "${pk[@]}") push_p=$(median "${pl[@]}") pull_k=$(median "${rk[@]}") pull_p=$(median "${rl[@]}")
log "3. push ms kreg ${pk[*]} / plain ${pl[*]}; pull ms kreg ${rk[*]} / plain ${rl[*]}"
ratio() { awk -v k="$1" -v p="$2" 'BEGIN { printf "%.2f", p / k }'; } # throughput ratio = t_plain / t_kreg
r_push=$(ratio "$push_k" "$push_p")
r_pull=$(ratio "$pull_k" "$pull_p")
note=""
[ "$IMAGE_MIB" -ge 512 ] || note=" (reduced image: ${IMAGE_MIB} MiB)"
row "3. push ${img_mib} MiB, ${LAYERS} layers${note}, median of ${COPY_RUNS}" "$(mibs "$push_k") MiB/s (TLS via NodePort)" "$(mibs "$push_p") MiB/s (HTTP to pod IP); ratio ${r_push}" "ratio >= 0.9" "$(yesno "$(lt 0.8999 "$r_push")")"
row "3. pull ${img_mib} MiB, ${LAYERS} layers${note}, median of ${COPY_RUNS}" "$(mibs "$pull_k") MiB/s (TLS via NodePort)" "$(mibs "$pull_p") MiB/s (HTTP to pod IP); ratio ${r_pull}" "ratio >= 0.9" "$(yesno "$(lt 0.8999 "$r_pull")")"

# ---- 4. scale on the API tier ------------------------------------------------------------------
log "4. scale: API tier + 5000 fake EKS nodes"
"$KC" down >/dev/null 2>&1
"$KC" up api >/dev/null 2>&1
eval "$("$KC" env)"
K=$KREG_TEST_KUBECONFIG
"$KC" flavor eks --count 5000 >/dev/null 2>&1
nodes=$(kc get nodes -o name | wc -l)
# timed_rss OUT CMD...: wall ms and max RSS (KiB) of CMD; CMD's exit status is recorded, not fatal
timed_rss() {
  local out=$1 t rc=0
  shift
  t=$(now_ns)
  /usr/bin/time -v -o "$out.time" "$@" >"$out" 2>"$out.err" || rc=$?
  echo "$(ms_since "$t") $(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time") $rc"
}
read -r dry_ms dry_rss dry_rc < <(timed_rss "$W/dry.json" "$KREG" up --dry-run -o json --kubeconfig "$K")
dry_flavor=$(jq -r '.flavor // "?"' "$W/dry.json" 2>/dev/null || echo '?')
read -r st_ms st_rss st_rc < <(timed_rss "$W/status.json" "$KREG" status -o json --kubeconfig "$K")
# status again with kreg installed: the registry pod and the 5000 node-trust DaemonSet pods stay
# Pending (fake nodes run nothing), so `up` times out (exit 2) and status checks every node.
"$KREG" up --yes -o json --timeout 5s --kubeconfig "$K" >/dev/null 2>&1 || true
ds_pods=0
for _ in $(seq 1 60); do # DaemonSet pods are created in batches: wait (bounded) for all 5000
  ds_pods=$(kc -n "$NS" get ds kreg-node-trust -o jsonpath='{.status.currentNumberScheduled}' 2>/dev/null || echo 0)
  [ "${ds_pods:-0}" -lt "$nodes" ] || break
  sleep 2
done
sti=() rss=()
for r in 1 2 3; do
  read -r ms kib _ < <(timed_rss "$W/status-i.json" "$KREG" status -o json --kubeconfig "$K")
  sti+=("$ms") rss+=("$kib")
done
sti_ms=$(median "${sti[@]}")
rss_max=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
problem_len=$(jq -r '[.problems[] | length] | max // 0' "$W/status-i.json")
row "4. up --dry-run, ${nodes} EKS nodes" "${dry_ms} ms, max RSS $((dry_rss / 1024)) MiB (flavor ${dry_flavor}, exit ${dry_rc})" "-" "- (kreg samples first 50 nodes)" "-"
row "4. status, ${nodes} EKS nodes (not installed)" "${st_ms} ms, max RSS $((st_rss / 1024)) MiB (exit ${st_rc})" "-" "< 1000 ms" "$(yesno "$(lt "$st_ms" 1000)")"
row "4. status, ${nodes} EKS nodes (installed, ${ds_pods} DS pods)" "${sti_ms} ms median of 3, max RSS $((rss_max / 1024)) MiB (longest problem: ${problem_len} chars)" "-" "< 1000 ms" "$(yesno "$(lt "$sti_ms" 1000)")"

log "done; stopping the cluster (the table is printed on exit)"
