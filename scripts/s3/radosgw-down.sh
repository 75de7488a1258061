#!/usr/bin/env bash
# Stops the cluster radosgw-up.sh started in $D and deletes $D. Daemons get SIGTERM through
# their pid files, then SIGKILL if they linger; any process still running with this cluster's
# ceph.conf on its command line (the up script may have died between starting a daemon and its
# pid file appearing) is killed too. Matches only this $D, never daemons by name.
set -uo pipefail
: "${D:?set D to the state directory radosgw-up.sh printed}"
[ -d "$D" ] || exit 0
if [ ! -e "$D/.kloset-radosgw" ]; then echo "radosgw-down: $D was not made by radosgw-up.sh; not touching it" >&2; exit 2; fi

pids=()
for f in "$D"/run/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f" 2>/dev/null) || continue
  [[ "$pid" =~ ^[0-9]+$ ]] && pids+=("$pid")
done
# processes whose command line names this cluster's config
for p in /proc/[0-9]*; do
  if tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -qF -- "$D/ceph.conf"; then pids+=("${p#/proc/}"); fi
done
[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null
for _ in $(seq 1 15); do
  alive=()
  for pid in "${pids[@]}"; do
    # a zombie (state Z) has exited; PID 1 here does not reap the daemons' double forks
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
    [ "$state" = Z ] || alive+=("$pid")
  done
  [ ${#alive[@]} -eq 0 ] && break
  sleep 0.2
done
[ ${#alive[@]} -eq 0 ] || kill -9 "${alive[@]}" 2>/dev/null
rm -rf "$D"
exit 0
