#!/bin/sh
# kreg up --gc-schedule: what `kreg gc` does, run by a CronJob inside the cluster with kubectl.
# kreg renders the objects it uses into /etc/kreg-gc: readonly.json and writable.json (the
# registry's read-only switch, applied as field manager kreg-gc), job.json (the collector, a
# copy of the registry's pod, with a deadline) and lease.json (the Lease `kreg gc` shares).
#
# One collector at a time: the Lease kreg-gc, held while this runs (renewed every 30s, expiring
# 120s after its holder stops renewing). Writes come back only once the collector's pod is gone
# (its Job deleted in the foreground, waited for). Stopped early (the pod deleted, the deadline)
# it leaves the registry read-only, and `kreg gc` (or the next scheduled run) finishes.
set -eu
dir=${KREG_GC_DIR:-/etc/kreg-gc}
me="cronjob/$(cat /etc/hostname 2>/dev/null || echo kreg-gc)"
lease=kreg-gc
job=kreg-gc-scheduled
k() { kubectl -n "$KREG_NAMESPACE" "$@"; }
switch() {
  k apply --server-side --force-conflicts --field-manager=kreg-gc --validate=false -f "$dir/$1.json"
  k rollout status deployment/kreg-registry --timeout=10m
}
# The Lease as $1 writes it now ("" gives it back), with resourceVersion $2 when given: the API
# server then refuses the write if anyone changed the Lease since it was read.
lease_json() {
  now=$(date -u +%s)
  # Given back: no holder, expired; the duration stays positive (the API server requires it).
  if [ -n "$1" ]; then exp=$((now + 120)); else exp=0; fi
  dur=120
  rv=""
  [ -z "${2:-}" ] || rv="\"resourceVersion\":\"$2\","
  sed -e "s|\"HOLDER\"|\"$1\"|" \
    -e "s|\"kreg.dev/gc-lease-expires\": \"[0-9]*\"|\"kreg.dev/gc-lease-expires\": \"$exp\"|" \
    -e "s|\"leaseDurationSeconds\": [0-9]*|\"leaseDurationSeconds\": $dur|" \
    -e "s|\"renewTime\": \"[^\"]*\"|\"renewTime\": \"$(date -u +%Y-%m-%dT%H:%M:%S).000000Z\"|" \
    -e "s|\"name\": \"$lease\",|\"name\": \"$lease\",$rv|" \
    "$dir/lease.json"
}
# Prints "RV HOLDER EXPIRES" of the Lease (HOLDER "-" when none).
lease_read() {
  k get lease "$lease" -o jsonpath='{.metadata.resourceVersion} h{.spec.holderIdentity} e{.metadata.annotations.kreg\.dev/gc-lease-expires}'
}
# Takes the Lease or renews it; fails when another live holder has it or a writer raced us.
take() {
  if ! k get lease "$lease" >/dev/null 2>&1; then
    lease_json "$me" | k create -f - >/dev/null && return 0
  fi
  # shellcheck disable=SC2046 # three words, split on purpose
  set -- $(lease_read)
  holder=${2#h}; exp=${3#e}
  if [ -n "$holder" ] && [ "$holder" != "$me" ] && [ "${exp:-0}" -gt "$(date -u +%s)" ]; then
    echo "kreg-gc: another garbage collection is running ($holder); this run does nothing" >&2
    return 1
  fi
  lease_json "$me" "$1" | k replace -f - >/dev/null
}
release() {
  # shellcheck disable=SC2046 # three words, split on purpose
  set -- $(lease_read) || return 0
  [ "${2#h}" = "$me" ] || return 0
  lease_json "" "$1" | k replace -f - >/dev/null || true
}
gone() {
  k delete job "$job" --ignore-not-found --cascade=foreground --wait=true --timeout=10m
}

take || exit 1
# Stopped from outside (the pod deleted, its deadline): stop the collector, but leave the
# registry read-only; it may still be sweeping until its pod is gone.
trap 'k delete job "$job" --ignore-not-found --cascade=foreground --wait=false || true; release; exit 1' TERM INT
# Leftovers of an interrupted run (kubectl waits until they and their pods are gone).
k delete jobs -l app.kubernetes.io/name=kreg-gc --ignore-not-found --cascade=foreground --wait=true --timeout=10m
switch readonly
k create -f "$dir/job.json"
i=0
while :; do
  state=$(k get job "$job" -o jsonpath='{.status.succeeded}/{.status.failed}/{.status.conditions[?(@.type=="Failed")].status}')
  case "$state" in
    1/*) ok=true; break ;;
    */1/* | */True) ok=false; break ;;
  esac
  i=$((i + 1))
  if [ $((i % 15)) -eq 0 ]; then take || { echo "kreg-gc: lost the Lease" >&2; kill -TERM $$; }; fi
  sleep 2
done
k logs "job/$job" || true
# Only once the collector's pod is gone do writes come back.
gone
switch writable
release
[ "$ok" = true ]
