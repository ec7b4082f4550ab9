#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run only calls this). Stands alone on a fresh
# machine: it installs what it needs itself.
#   0. tools: shellcheck (apt-get), the toolchain's rustfmt and clippy (rustup), cargo-deny
#      (cargo install, cached); the test clusters' Debian packages, Kubernetes, images and
#      containerd releases (kcluster build)
#   1. static checks: cargo fmt --check, cargo clippy -D warnings, cargo deny (bans, licences,
#      sources), shellcheck of every shell script in the repository (found by shebang, not
#      listed)
#   2. unit, snapshot and CLI tests: every tests/*.rs that is not api_*, node_* or runtime_*
#   3. the runtime tier: tests/runtime_*.rs (root, real containerd releases, no cluster)
#   4. the API tier: etcd + kube-apiserver + controllers (tests/api_*.rs)
#   5. the node tier: the API tier plus two real nodes (tests/node_*.rs): containerd 1.7 with
#      kube-proxy in iptables mode, containerd 2.1 with kube-proxy in nftables mode, with the
#      node-agent image built from this tree's kreg (KREG_AGENT_IMAGE)
#   Both cluster tiers run Kubernetes 1.34, built from the Go module proxy; KREG_K8S=1.20 runs
#   them on the Debian build instead (whose kubelet drives containerd 1.6 and 1.7).
# Test files are found by pattern: a new tests/<tier>_*.rs runs without editing this file. A
# node-tier file holding the line `// tests/run.sh: last` runs after the others (node_runtime.rs
# restarts the node tier).
# Fails closed: KREG_TEST_REQUIRE_CLUSTER=1 makes a cluster test without its cluster fail
# instead of skipping (tests/support/mod.rs).
# `tests/run.sh --list` prints the test files of each tier, in the order they run, and exits;
# `tests/run.sh --check` (make check) runs only the fast checks: no root, no cluster.
# The test clusters need root (network namespaces, mounts); run it with sudo on a workstation.
set -euo pipefail
cd "$(dirname "$0")/.."
KC=$PWD/tests/cluster/kcluster
step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'tests/run.sh: %s\n' "$*" >&2; exit 2; }
now() { date +%s; }

# The tiers' test files, by pattern.
shopt -s nullglob
unit=()
for f in tests/*.rs; do
  case "$(basename "$f")" in api_*|node_*|runtime_*) ;; *) unit+=("$f") ;; esac
done
runtime=(tests/runtime_*.rs)
api=(tests/api_*.rs)
first=() last=()
for f in tests/node_*.rs; do
  if grep -qx '// tests/run.sh: last' "$f"; then last+=("$f"); else first+=("$f"); fi
done
node=("${first[@]}" "${last[@]}")
if [ "${1:-}" = --list ]; then
  printf 'unit: %s\nruntime: %s\napi: %s\nnode: %s\n' "${unit[*]}" "${runtime[*]}" "${api[*]}" "${node[*]}"
  exit 0
fi

# `tests/run.sh --check` (make check): the fast loop, no root and no cluster: formatting,
# clippy, and the unit, snapshot and CLI tests but tests/dist.rs (a release build).
if [ "${1:-}" = --check ]; then
  quick=()
  for f in "${unit[@]}"; do
    [ "$(basename "$f")" = dist.rs ] || quick+=(--test "$(basename "$f" .rs)")
  done
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy --all-targets -D warnings"
  cargo clippy --locked --all-targets -- -D warnings
  step "unit, snapshot and CLI tests (all but tests/dist.rs; ./tests/run.sh runs everything)"
  cargo test --locked --lib --bins "${quick[@]}"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "tests/run.sh: the test clusters need root; re-running with sudo" >&2
  exec sudo -E bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
export KREG_TEST_REQUIRE_CLUSTER=1
export KREG_TEST_KCLUSTER=$KC
# tests/dist.rs's release build, outside the clone like the other slow builds.
export KREG_DIST_TARGET_DIR=${KREG_CACHE:-/var/cache/kreg}/dist-target

step "tools"
command -v cargo >/dev/null || die "cargo is required (a rustup toolchain)"
if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || die "rustup component add rustfmt clippy failed"
fi
if ! command -v shellcheck >/dev/null; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends shellcheck >/dev/null
fi

# cargo-deny, pinned, built once into the cache outside the clone (about 8 minutes on 2 cores).
DENY_VERSION=0.20.2
DENY=${KREG_CACHE:-/var/cache/kreg}/cargo-deny-$DENY_VERSION/bin/cargo-deny
if [ ! -x "$DENY" ]; then
  cargo install --locked --quiet cargo-deny --version "$DENY_VERSION" --root "${DENY%/bin/cargo-deny}"
fi

K8S=${KREG_K8S:-1.34}
export K8S_VERSION=$K8S
step "test-cluster dependencies and binaries, Kubernetes $K8S (cached in ${KREG_CACHE:-/var/cache/kreg})"
"$KC" build

# tests NAMES...: the test binaries of the tests/*.rs files given, as cargo --test arguments.
tests_of() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || continue
    printf -- '--test\n%s\n' "$(basename "$f" .rs)"
  done
}

step "static checks"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
mapfile -t scripts < <(
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files; else find . -path ./target -prune -o -type f -print | sed 's,^\./,,'; fi |
    while read -r f; do
      [ -f "$f" ] || continue
      case "$f" in
        *.sh) echo "$f" ;;
        *) head -n1 "$f" 2>/dev/null | grep -qE '^#!(/usr/bin/env )?/?(usr/)?(bin/)?(ba|da)?sh( |$)' && echo "$f" ;;
      esac
    done
)
# Licences, bans and sources of every crate in Cargo.lock (all platforms' crates fetched first,
# so the check runs offline).
cargo fetch --locked --quiet
"$DENY" --offline --log-level error check bans licenses sources
[ ${#scripts[@]} -gt 0 ] || die "no shell scripts found: the search is broken"
echo "shellcheck: ${scripts[*]}" >&2
shellcheck "${scripts[@]}"

step "unit, snapshot and CLI tests"
mapfile -t unit_args < <(tests_of "${unit[@]}")
cargo build --locked --all-targets
cargo test --locked --lib --bins "${unit_args[@]}"

step "runtime tier (root, real containerd releases, no cluster)"
if [ ${#runtime[@]} -eq 0 ]; then
  echo "no tests/runtime_*.rs yet" >&2
else
  for f in "${runtime[@]}"; do
    t0=$(now)
    cargo test --locked --test "$(basename "$f" .rs)" -- --test-threads=1
    echo "$(basename "$f"): $(($(now) - t0)) s" >&2
  done
fi

# The kreg binary these tests run, as the node agent's image (KREG_AGENT_IMAGE via kcluster env).
target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
[ -x "$target_dir/debug/kreg" ] || die "no kreg binary at $target_dir/debug/kreg"
step "node-agent image from $target_dir/debug/kreg"
"$KC" agent-image "$target_dir/debug/kreg"

trap '"$KC" down >/dev/null 2>&1 || true' EXIT

step "API tier (Kubernetes $K8S)"
[ ${#api[@]} -gt 0 ] || die "no tests/api_*.rs: the API tier would pass without running anything"
"$KC" down >/dev/null 2>&1 || true
"$KC" up api
eval "$("$KC" env)"
for f in "${api[@]}"; do
  t0=$(now)
  cargo test --locked --test "$(basename "$f" .rs)" -- --test-threads=1
  echo "$(basename "$f"): $(($(now) - t0)) s" >&2
done
"$KC" down

step "node tier (Kubernetes $K8S)"
[ ${#node[@]} -gt 0 ] || die "no tests/node_*.rs: the node tier would pass without running anything"
"$KC" up node
eval "$("$KC" env)"
[ -n "${KREG_AGENT_IMAGE:-}" ] || die "kcluster env exported no KREG_AGENT_IMAGE"
for f in "${node[@]}"; do
  t0=$(now)
  cargo test --locked --test "$(basename "$f" .rs)" -- --test-threads=1
  echo "$(basename "$f"): $(($(now) - t0)) s" >&2
done
"$KC" down
step "all tiers passed"
