#!/usr/bin/env bash
# radosgw-up.sh, tried up to 3 times. A whole-cluster retry is needed now and then: ceph-osd
# sometimes dies at boot with "mon_cmd_maybe_osd_create fail: 'wrong fsid'", and restarting only
# that OSD does not recover the cluster. Each failed try has already stopped its daemons.
# Same env as radosgw-up.sh; prints the endpoint when up.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export D=${D:-$(mktemp -d "${TMPDIR:-/tmp}/kloset-radosgw.XXXXXX")}
for try in 1 2 3; do
  "$HERE/radosgw-up.sh" && exit 0
  status=$?
  # not worth retrying: no disk space, a port taken, a directory that is not ours
  case $status in 2|4|5) echo "radosgw-up-retry: not retrying (exit $status)" >&2; exit "$status" ;; esac
  echo "radosgw-up-retry: try $try of 3 failed" >&2
  D="$D" "$HERE/radosgw-down.sh" >/dev/null 2>&1
done
echo "radosgw-up-retry: radosgw did not start in 3 tries" >&2
exit 1
