#!/bin/sh
# kreg up --gc-schedule: what `kreg gc` does, run by a CronJob inside the cluster with kubectl.
# kreg renders the three objects it uses into /etc/kreg-gc: readonly.json and writable.json
# (the registry's read-only switch, applied as field manager kreg-gc) and job.json (the
# collector, a copy of the registry's pod). The registry is switched back to read-write on
# every exit, failed or not.
set -eu
dir=/etc/kreg-gc
k() { kubectl -n "$KREG_NAMESPACE" "$@"; }
switch() {
  k apply --server-side --force-conflicts --field-manager=kreg-gc --validate=false -f "$dir/$1.json"
  k rollout status deployment/kreg-registry --timeout=10m
}
trap 'switch writable' EXIT
# A deleted pod gets SIGTERM: exit through the EXIT trap so the registry is switched back.
trap 'exit 1' TERM INT
# Leftovers of an interrupted run (kubectl waits until they are gone).
k delete jobs -l app.kubernetes.io/name=kreg-gc --ignore-not-found
switch readonly
k create -f "$dir/job.json"
while :; do
  state=$(k get job kreg-gc-scheduled -o jsonpath='{.status.succeeded}/{.status.failed}')
  case "$state" in
    1/*) ok=true; break ;;
    */1) ok=false; break ;;
  esac
  sleep 2
done
k logs job/kreg-gc-scheduled
k delete job kreg-gc-scheduled --wait=false
[ "$ok" = true ]
