#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. static checks: shellcheck of every script kreg ships or the harness runs
#   2. unit, snapshot and CLI-transcript tests (no cluster)
#   3. the API tier: etcd + kube-apiserver + controllers (tests/api_*.rs)
#   4. the node tier: the API tier plus a real kubelet/containerd node (tests/node_*.rs)
# The test clusters need root (network namespaces, mounts); run it with sudo on a workstation.
set -euo pipefail
cd "$(dirname "$0")/.."
KC=$PWD/tests/cluster/kcluster
step() { printf '\n==> %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "tests/run.sh: the test clusters need root; re-running with sudo" >&2
  exec sudo -E "$0" "$@"
fi

step "test-cluster dependencies and binaries (cached in ${KREG_CACHE:-/var/cache/kreg})"
"$KC" build

step "static checks"
shellcheck -s sh manifests/gc.sh manifests/gc-cron.sh
shellcheck tests/cluster/kcluster tests/run.sh .ci/run

step "unit, snapshot and CLI tests"
cargo build --locked --all-targets
cargo test --locked --lib --bins --test cli --test completions

trap '"$KC" down >/dev/null 2>&1 || true' EXIT

step "API tier"
"$KC" down >/dev/null 2>&1 || true
"$KC" up api
eval "$("$KC" env)"
cargo test --locked --test 'api_*' -- --test-threads=1
"$KC" down

step "node tier"
"$KC" up node
eval "$("$KC" env)"
# node_runtime restarts the node without containerd's config_path: it goes last.
for t in node_smoke node_up node_localhost node_addons node_push node_mirror node_faults node_runtime; do
  cargo test --locked --test "$t" -- --test-threads=1
done
"$KC" down
step "all tiers passed"
