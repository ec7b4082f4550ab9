#!/usr/bin/env bash
# make dist: kreg's release artifacts in $DIST_DIR (default dist/):
#   kreg-<version>-<target>.tar.gz  per target in $TARGETS (default: this machine's triple):
#                                   the release binary, LICENSE, README.md, CHANGELOG.md,
#                                   completions/, man/ and schemas/, under kreg-<version>-<target>/
#   SHA256SUMS                      the tarballs' sums (`sha256sum -c SHA256SUMS` checks them)
#   kreg.yaml                       the krew plugin manifest (packaging/kreg.yaml.in filled in)
#   kreg.rb                         the Homebrew formula (packaging/kreg.rb.in filled in)
#   kreg-agent-image.tar            kreg's own image (the host's Linux binary) as an OCI archive,
#   kreg-agent-image.ref            and its digest reference: `kreg up --agent-image-archive`
#                                   serves it to air-gapped nodes; pushed to $DIST_AGENT_REPO it is
#                                   what a release's `kreg up` names by default (below). In
#                                   SHA256SUMS too.
# DIST_AGENT_REPO (e.g. ghcr.io/OWNER/kreg-agent): where the image will be published. When set,
# the host's binary is built a second time with KREG_DEFAULT_AGENT_IMAGE=$DIST_AGENT_REPO@<digest>
# baked in (the image holds the first build, which names none: an image cannot hold its own
# digest), so a macOS or Windows kreg of the same release, or one run with --agent-image unset
# on a cluster that reaches the publisher, finds it.
# The manifest and the formula point at $DIST_BASE_URL/<tarball>: set it to where the tarballs
# will be published (default: file://<DIST_DIR>, these very files). $DIST_HOMEPAGE is the
# homepage they name (default: $DIST_BASE_URL).
# Reproducible: the build date is SOURCE_DATE_EPOCH (default: the time of the last commit), and
# the tarballs have sorted names, that time as mtime, owner 0 and no gzip timestamp; the same
# sources and toolchain give the same bytes. The default reaches cargo as KREG_BUILD_EPOCH (read
# by kreg's build.rs alone): a SOURCE_DATE_EPOCH that changes every commit would rebuild the C
# dependencies (aws-lc-sys, ring) each time. Set SOURCE_DATE_EPOCH to pass it to every crate.
# A target other than this machine's needs its Rust standard library (`rustup target add`) and
# a linker for it.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { printf 'packaging/dist.sh: %s\n' "$*" >&2; exit 2; }
say() { printf 'dist: %s\n' "$*" >&2; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || die "no version in Cargo.toml"
host=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$host" ] || die "rustc -vV names no host triple"
read -r -a targets <<<"${TARGETS:-$host}"
[ ${#targets[@]} -gt 0 ] || die "TARGETS is empty"
dist=${DIST_DIR:-dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
base=${DIST_BASE_URL:-file://$dist}
base=${base%/}
homepage=${DIST_HOMEPAGE:-$base}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  epoch=$SOURCE_DATE_EPOCH
  export SOURCE_DATE_EPOCH
else
  epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  export KREG_BUILD_EPOCH=$epoch
fi
target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)

# platform TARGET: "OS ARCH" as krew's selectors name them (Homebrew's follow from them).
platform() {
  case "$1" in
    x86_64-unknown-linux-*) echo "linux amd64" ;;
    aarch64-unknown-linux-*) echo "linux arm64" ;;
    x86_64-apple-darwin) echo "darwin amd64" ;;
    aarch64-apple-darwin) echo "darwin arm64" ;;
    x86_64-pc-windows-*) echo "windows amd64" ;;
    *) return 1 ;;
  esac
}

seen=" "
for t in "${targets[@]}"; do
  p=$(platform "$t") || die "target $t: no krew or Homebrew platform for it (see platform() in $0)"
  case "$seen" in *" ${p/ /-} "*) die "two targets for the platform $p in TARGETS" ;; esac
  seen="$seen${p/ /-} "
done

rm -f "$dist"/kreg-*.tar.gz "$dist/SHA256SUMS" "$dist/kreg.yaml" "$dist/kreg.rb" "$dist"/kreg-agent-image.*
agent=()
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tarballs=()
for t in "${targets[@]}"; do
  exe=""
  case "$t" in *windows*) exe=.exe ;; esac
  # The host's build goes to target/release, where other release builds of this tree go.
  if [ "$t" = "$host" ]; then
    say "cargo build --release (build date from epoch $epoch)"
    cargo build --release --locked
    bin=$target_dir/release/kreg$exe
    case "$t" in
      *linux*)
        "$bin" agent-image --out "$dist/kreg-agent-image.tar" >"$dist/kreg-agent-image.ref"
        agent=(kreg-agent-image.tar)
        say "$dist/kreg-agent-image.tar: $(cat "$dist/kreg-agent-image.ref")"
        if [ -n "${DIST_AGENT_REPO:-}" ]; then
          ref="$DIST_AGENT_REPO@$(sed 's/^[^@]*@//' "$dist/kreg-agent-image.ref")"
          say "cargo build --release with KREG_DEFAULT_AGENT_IMAGE=$ref"
          KREG_DEFAULT_AGENT_IMAGE=$ref cargo build --release --locked
        fi
        ;;
    esac
  else
    say "cargo build --release --target $t (build date from epoch $epoch)"
    cargo build --release --locked --target "$t"
    bin=$target_dir/$t/release/kreg$exe
  fi
  [ -x "$bin" ] || die "cargo built no $bin"
  name=kreg-$version-$t
  mkdir "$stage/$name"
  cp "$bin" "$stage/$name/kreg$exe"
  cp LICENSE README.md CHANGELOG.md "$stage/$name/"
  cp -R completions man schemas "$stage/$name/"
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' -C "$stage" -cf - "$name" | gzip -9n >"$dist/$name.tar.gz"
  tarballs+=("$name.tar.gz")
  say "$dist/$name.tar.gz ($(wc -c <"$dist/$name.tar.gz") bytes)"
done
(cd "$dist" && sha256sum "${tarballs[@]}" "${agent[@]}" >SHA256SUMS)
sum_of() { sed -n "s/^\([0-9a-f]\{64\}\)  $1\$/\1/p" "$dist/SHA256SUMS"; }

# fill TEMPLATE BLOCK: the template with @VERSION@, @HOMEPAGE@ replaced and the line
# @PLATFORMS@ replaced by BLOCK.
fill() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    if [ "$line" = "@PLATFORMS@" ]; then
      printf '%s' "$2"
    else
      line=${line//@VERSION@/$version}
      line=${line//@HOMEPAGE@/$homepage}
      printf '%s\n' "$line"
    fi
  done <"$1"
}

krew=""
for t in "${targets[@]}"; do
  read -r os arch <<<"$(platform "$t")"
  name=kreg-$version-$t
  exe=""
  [ "$os" != windows ] || exe=.exe
  krew+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $base/$name.tar.gz
    sha256: $(sum_of "$name.tar.gz")
    files:
      - from: $name/kreg$exe
        to: .
      - from: $name/LICENSE
        to: .
    bin: kreg$exe
"
done
fill packaging/kreg.yaml.in "$krew" >"$dist/kreg.yaml"

# Homebrew: on_macos/on_linux blocks, each with on_arm/on_intel (no Windows).
brew=""
for os in darwin linux; do
  block=""
  for t in "${targets[@]}"; do
    read -r tos arch <<<"$(platform "$t")"
    [ "$tos" = "$os" ] || continue
    cpu=on_intel
    [ "$arch" = arm64 ] && cpu=on_arm
    name=kreg-$version-$t
    block+="    $cpu do
      url \"$base/$name.tar.gz\"
      sha256 \"$(sum_of "$name.tar.gz")\"
    end
"
  done
  [ -n "$block" ] || continue
  [ -z "$brew" ] || brew+=$'\n'
  if [ "$os" = darwin ]; then brew+="  on_macos do"$'\n'; else brew+="  on_linux do"$'\n'; fi
  brew+="$block  end"$'\n'
done
[ -n "$brew" ] || brew="  # No macOS or Linux target was built: Homebrew has nothing to install."$'\n'
fill packaging/kreg.rb.in "$brew" >"$dist/kreg.rb"

if grep -n '@[A-Z_]*@' "$dist/kreg.yaml" "$dist/kreg.rb"; then
  die "a template placeholder was left unfilled"
fi
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || die "SHA256SUMS does not verify"
say "done: $(cd "$dist" && echo "${tarballs[@]}" SHA256SUMS kreg.yaml kreg.rb) in $dist"
