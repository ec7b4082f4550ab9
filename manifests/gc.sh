#!/bin/sh
# kreg gc: runs Distribution's garbage collector over the registry's storage, in a Job whose
# pod is a copy of the registry's own (same image, configuration, volumes), while the registry
# itself is read-only. Prints the storage size before and after for `kreg gc` to report.
# KREG_GC_DRY_RUN=true only reports what would be deleted.
set -eu
cfg=/etc/docker/registry/config.yml
[ -f "$cfg" ] || cfg=/etc/distribution/config.yml
size() {
  # Filesystem storage only; S3 has no local size to measure.
  if [ -d /var/lib/registry ]; then du -sk /var/lib/registry | cut -f1; else echo unknown; fi
}
before=$(size)
if [ "${KREG_GC_DRY_RUN:-false}" = true ]; then
  registry garbage-collect --dry-run "$cfg"
else
  registry garbage-collect "$cfg"
fi
after=$(size)
echo "kreg-gc: before_kib=$before after_kib=$after"
