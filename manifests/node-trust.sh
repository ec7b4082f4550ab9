#!/bin/sh
# kreg node trust: installs the CA of kreg's registry into this node's container runtime and
# keeps it there. Runs in the kreg-node-trust DaemonSet (privileged, hostPID), one pod per node.
#
# Input (env):  KREG_REGISTRY       host[:port] the images are tagged with
#               KREG_MODE           install | remove
#               KREG_ALLOW_RESTART  true: may set containerd's config_path and restart it
#               KREG_PERIOD         seconds between re-checks (files deleted by hand come back)
#               KREG_MIRRORS        pull-through caches, "UPSTREAM=FILE ..." (may be empty)
# Input (files, rendered by kreg in Rust): /kreg/ca.crt, /kreg/hosts.toml, /kreg/registries.yaml,
#               and per cache /kreg/FILE, the hosts.toml for <config_path>/UPSTREAM/
# Output: a verdict line per check, read by `kreg up`, `kreg status` and `kreg down`:
#   kreg-node-trust: trusted: <what was written>
#   kreg-node-trust: untrusted: <reason> | remedy: <what to do>
# and /tmp/kreg-done while the verdict is good (the readiness probe checks it).
#
# The runtime is found by its process: its command line names its config file, and
# /proc/<pid>/root is its own view of the disk (k3s and kreg's test node run containerd in
# mount namespaces of their own, so PID 1's view is not always the runtime's).
set -u

REG=${KREG_REGISTRY:-}
MODE=${KREG_MODE:-install}
PERIOD=${KREG_PERIOD:-60}
ALLOW_RESTART=${KREG_ALLOW_RESTART:-false}
MIRRORS=${KREG_MIRRORS:-}
SRC=/kreg
DONE=/tmp/kreg-done
CERTS_D=/etc/containerd/certs.d

say() { echo "kreg-node-trust: $*"; }
good() {
  if [ "$MODE" = remove ]; then say "removed: $*"; else say "trusted: $*"; fi
  touch "$DONE"
}
bad() { say "untrusted: $1 | remedy: $2"; rm -f "$DONE"; }

# The registry name becomes a directory name on the node: only a plain DNS name or IP, with an
# optional port, is accepted (no '/', no '..', no shell or TOML metacharacters).
valid_registry() {
  case "$1" in "" | *..* | */* | .* | -*) return 1 ;; esac
  [ "${#1}" -le 260 ] || return 1
  printf '%s\n' "$1" | grep -Eq '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:]+\])(:[0-9]{1,5})?$'
}

# Every cache entry is UPSTREAM=FILE: UPSTREAM a registry name as above, FILE one of kreg's
# ConfigMap keys (kreg-mirror-<name>.toml).
valid_mirrors() {
  for pair in $MIRRORS; do
    case "$pair" in *=*) ;; *) return 1 ;; esac
    valid_registry "${pair%%=*}" || return 1
    printf '%s\n' "${pair#*=}" | grep -Eq '^kreg-mirror-[a-z0-9-]{1,60}\.toml$' || return 1
  done
}

# Is upstream $1 one of the caches this pod was given?
listed() {
  for pair in $MIRRORS; do [ "${pair%%=*}" = "$1" ] && return 0; done
  return 1
}

# Pull-through caches: <root>/<upstream>/hosts.toml makes containerd try kreg's cache first and
# the upstream last. .kreg-mirror, a copy of the hosts.toml kreg wrote, marks the directory as
# kreg's: a hosts.toml kreg did not write is never replaced or removed. .kreg-owner names the
# installation (its registry) that wrote it: another kreg on the same cluster, in another
# namespace, never takes this one's caches away. $1 is the root as the runtime sees it
# (/proc/<pid>/root<root>), $2 the root for messages. Sets MIRRORED.
mirrors_trust() {
  MIRRORED=""
  # Caches no longer listed (every cache in remove mode): take kreg's files back.
  for mark in "$1"/*/.kreg-mirror; do
    [ -f "$mark" ] || continue
    d=${mark%/.kreg-mirror}
    if [ "$MODE" != remove ] && listed "${d##*/}"; then continue; fi
    if [ -f "$d/.kreg-owner" ] && [ "$(cat "$d/.kreg-owner")" != "$REG" ]; then continue; fi
    if cmp -s "$mark" "$d/hosts.toml"; then rm -f "$d/hosts.toml"; fi
    rm -f "$d/kreg-ca.crt" "$d/.kreg-owner" "$mark"
    rmdir "$d" 2>/dev/null
  done
  [ "$MODE" = remove ] && return
  for pair in $MIRRORS; do
    up=${pair%%=*} file=$SRC/${pair#*=} d=$1/${pair%%=*}
    if [ -e "$d/hosts.toml" ] && ! cmp -s "$d/.kreg-mirror" "$d/hosts.toml" && ! cmp -s "$file" "$d/hosts.toml"; then
      say "note: $2/$up/hosts.toml is not kreg's; left as it is, so this node does not use the cache for $up"
      continue
    fi
    put "$SRC/ca.crt" "$d/kreg-ca.crt" >/dev/null
    [ "$(cat "$d/.kreg-owner" 2>/dev/null)" = "$REG" ] || printf '%s\n' "$REG" >"$d/.kreg-owner"
    put "$file" "$d/.kreg-mirror" >/dev/null
    put "$file" "$d/hosts.toml" >/dev/null
    MIRRORED="$MIRRORED $up"
  done
}

# pid of the first process whose comm is $1
pid_of() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] && { echo "${d#/proc/}"; return 0; }
  done
  return 1
}

# value of flag $2 (--flag=value or --flag value) in the NUL-separated cmdline of pid $1
flag_of() {
  tr '\0' '\n' <"/proc/$1/cmdline" | awk -v f="$2" '
    prev == 1 { print; exit }
    $0 == f { prev = 1; next }
    index($0, f "=") == 1 { print substr($0, length(f) + 2); exit }'
}

# Copies $1 to $2 when the content differs; prints 1 when it wrote.
put() {
  if ! cmp -s "$1" "$2" 2>/dev/null; then
    mkdir -p "$(dirname "$2")" && cp "$1" "$2.kreg-tmp" && mv "$2.kreg-tmp" "$2" && echo 1
  fi
}

# Removes $2 if it holds exactly kreg's $1 (never a file someone else wrote).
take() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$2"; fi
}

# The CRI registry config_path containerd really uses: its merged config (imports and drop-ins
# included), from `containerd config dump` run in its own mount namespace; the main file if
# that fails. Sets CONFIG_PATH and LEGACY (non-empty when legacy registry.mirrors are set).
read_containerd_config() {
  pid=$1 cfg=$2
  exe=$(readlink "/proc/$pid/exe")
  dump=$(nsenter -t "$pid" -m -- "$exe" --config "$cfg" config dump 2>/dev/null) ||
    dump=$(cat "/proc/$pid/root$cfg" 2>/dev/null) || dump=""
  CONFIG_PATH=$(printf '%s\n' "$dump" | awk '
    /^[ \t]*\[/ { s = $0; gsub(/[ \t]/, "", s) }
    (s == "[plugins.\"io.containerd.grpc.v1.cri\".registry]" || s == "[plugins.\"io.containerd.cri.v1.images\".registry]") &&
      $1 == "config_path" { v = $0; sub(/^[^=]*=[ \t]*/, "", v); gsub(/"/, "", v); print v; exit }')
  LEGACY=$(printf '%s\n' "$dump" | grep -E '^[ \t]*\[plugins\."io\.containerd\.(grpc\.v1\.cri|cri\.v1\.images)"\.registry\.mirrors\.' | head -1)
}

# Sets config_path in containerd's main config file and restarts containerd (only with
# --allow-runtime-restart). Returns non-zero if containerd did not come back.
enable_config_path() {
  pid=$1 cfg=$2
  file="/proc/$pid/root$cfg"
  if grep -Eq '^[ \t]*version[ \t]*=[ \t]*3' "$file" 2>/dev/null; then
    section='[plugins."io.containerd.cri.v1.images".registry]'
  else
    section='[plugins."io.containerd.grpc.v1.cri".registry]'
  fi
  if grep -qF "$section" "$file" 2>/dev/null; then
    sed -i "/^[ \t]*$(printf '%s' "$section" | sed 's/[][\.*^$"]/\\&/g')/a\\  config_path = \"$CERTS_D\"" "$file"
  else
    printf '\n# added by kreg (--allow-runtime-restart)\n%s\n  config_path = "%s"\n' "$section" "$CERTS_D" >>"$file"
  fi
  mkdir -p "/proc/$pid/root$CERTS_D"
  if [ "$(cat /proc/1/comm)" = systemd ]; then
    nsenter -t 1 -m -u -i -n -p -- systemctl restart containerd
  else
    # No init system to ask: stop it and let its supervisor start it again.
    kill -TERM "$pid"
  fi
  i=0
  while [ $i -lt 60 ]; do
    sleep 1
    i=$((i + 1))
    new=$(pid_of containerd) && [ "$new" != "$pid" ] && return 0
  done
  return 1
}

containerd_trust() {
  pid=$1
  cfg=$(flag_of "$pid" --config)
  [ -n "$cfg" ] || cfg=$(flag_of "$pid" -c)
  [ -n "$cfg" ] || cfg=/etc/containerd/config.toml
  read_containerd_config "$pid" "$cfg"
  if [ -z "$CONFIG_PATH" ]; then
    if [ "$MODE" = remove ]; then good "containerd has no config_path; nothing of kreg's to remove"; return; fi
    if [ -n "$LEGACY" ]; then
      bad "containerd uses legacy registry.mirrors, so config_path cannot be added" \
        "add [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"$REG\".tls] ca_file = \"/etc/containerd/kreg-ca.crt\" to $cfg, copy the CA there, restart containerd"
      return
    fi
    if [ "$ALLOW_RESTART" != true ]; then
      bad "containerd's CRI registry config_path is unset in $cfg, so it reads no per-registry trust" \
        "set config_path = \"$CERTS_D\" under [plugins.\"io.containerd.grpc.v1.cri\".registry] and restart containerd, or run kreg up --allow-runtime-restart"
      return
    fi
    say "setting config_path in $cfg and restarting containerd (--allow-runtime-restart)"
    if ! enable_config_path "$pid" "$cfg"; then
      bad "containerd did not come back after the restart" "check the containerd service on this node"
      return
    fi
    pid=$(pid_of containerd) || { bad "containerd is gone after the restart" "check the containerd service on this node"; return; }
    read_containerd_config "$pid" "$cfg"
    [ -n "$CONFIG_PATH" ] || { bad "config_path still unset after the restart" "set it by hand in $cfg"; return; }
  fi
  root=${CONFIG_PATH%%:*}
  dir="/proc/$pid/root$root/$REG"
  if [ "$MODE" = remove ]; then
    take "$SRC/hosts.toml" "$dir/hosts.toml"
    take "$SRC/ca.crt" "$dir/ca.crt"
    rmdir "$dir" 2>/dev/null
    mirrors_trust "/proc/$pid/root$root" "$root"
    k3s_registries remove
    if [ -e "$dir/hosts.toml" ] || [ -e "$dir/ca.crt" ]; then
      bad "files in $root/$REG are not kreg's; left in place" "remove $root/$REG by hand if it is stale"
    else
      good "containerd: removed $root/$REG"
    fi
    return
  fi
  if ! touch "$dir.kreg-probe" 2>/dev/null; then
    bad "$root is read-only on this node (immutable OS such as Bottlerocket or Talos)" \
      "add the CA through the OS's own settings (Bottlerocket: settings.pki; Talos: machine config)"
    return
  fi
  rm -f "$dir.kreg-probe"
  wrote="$(put "$SRC/ca.crt" "$dir/ca.crt")$(put "$SRC/hosts.toml" "$dir/hosts.toml")"
  mirrors_trust "/proc/$pid/root$root" "$root"
  k3s_registries install
  good "containerd: $root/$REG/hosts.toml and ca.crt${wrote:+ (written)}${MIRRORED:+; pull-through caches for$MIRRORED}"
}

# k3s and rke2 rebuild their containerd hosts folder from registries.yaml at every start:
# without an entry there, the trust written above would vanish at the next restart.
k3s_registries() {
  for distro in k3s rke2; do
    etc="/proc/1/root/etc/rancher/$distro"
    [ -d "$etc" ] || continue
    file="$etc/registries.yaml"
    if [ "$1" = remove ]; then
      take "$SRC/registries.yaml" "$file"
    elif [ ! -e "$file" ]; then
      put "$SRC/registries.yaml" "$file" >/dev/null
      # registries.yaml names the CA as /etc/rancher/kreg/ca.crt (manifests.rs K3S_CA_FILE).
      put "$SRC/ca.crt" /proc/1/root/etc/rancher/kreg/ca.crt >/dev/null
    elif ! grep -qF "$REG" "$file"; then
      say "note: $file exists and has no entry for $REG; add it so the trust survives a $distro restart"
    fi
  done
}

check() {
  if pid=$(pid_of containerd); then
    containerd_trust "$pid"
  elif pid=$(pid_of crio); then
    certs_d_trust "$pid" /etc/containers/certs.d CRI-O
  elif pid=$(pid_of dockerd); then
    certs_d_trust "$pid" /etc/docker/certs.d Docker
  else
    bad "no containerd, CRI-O or Docker process visible (hostPID off, or another runtime)" "configure this node's runtime to trust the CA by hand"
  fi
}

# CRI-O and Docker read <dir>/<host:port>/ca.crt on every pull; no restart needed.
certs_d_trust() {
  target="/proc/$1/root$2/$REG/ca.crt"
  if [ "$MODE" = remove ]; then
    take "$SRC/ca.crt" "$target"
    rmdir "$(dirname "$target")" 2>/dev/null
    good "$3: removed $2/$REG"
  elif [ -n "$(put "$SRC/ca.crt" "$target")" ] || [ -f "$target" ]; then
    good "$3: $2/$REG/ca.crt"
  else
    bad "cannot write $2/$REG/ca.crt" "check that $2 is writable on this node"
  fi
}

if ! valid_registry "$REG"; then
  bad "invalid registry name '$REG'" "run kreg up again; do not edit kreg's DaemonSet"
  exec sleep 2147483647
fi
if ! valid_mirrors; then
  bad "invalid pull-through cache list '$MIRRORS'" "run kreg up again; do not edit kreg's DaemonSet"
  exec sleep 2147483647
fi
trap 'exit 0' TERM INT
while :; do
  check
  # In remove mode one pass is the job; the pod waits to be deleted.
  sleep "$PERIOD" &
  wait $!
done
