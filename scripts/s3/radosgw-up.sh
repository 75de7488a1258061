#!/usr/bin/env bash
# Starts a throwaway single-node Ceph 16 cluster with radosgw on 127.0.0.1, for running the S3
# tests against a real S3 implementation (fauxqs, the default, is an emulator: it checks no
# signatures, caps bodies at 11 MiB, has no ListMultipartUploads). memstore keeps the data in
# RAM, no cephx keeps setup short; nothing listens beyond loopback.
#
#   D=/some/dir RGW_PORT=7480 scripts/s3/radosgw-up.sh   -> prints http://127.0.0.1:7480
#
# Env: D (state dir; default a new mktemp dir), RGW_PORT (7480), MON_PORT (6789),
# RGW_ACCESS_KEY / RGW_SECRET_KEY (TESTAK / TESTSK), OBJECTSTORE (memstore|bluestore),
# MEMSTORE_BYTES (2 GiB of RAM) / BLUESTORE_BYTES (4 GiB sparse file): the OSD's capacity,
# NO_MGR=1 (radosgw works without the mgr; it only adds status reporting).
# On failure it prints the daemons' last log lines and stops whatever it started (down.sh).
# Use radosgw-up-retry.sh: ceph-osd occasionally dies at boot (see there).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${D:-$(mktemp -d "${TMPDIR:-/tmp}/kloset-radosgw.XXXXXX")}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
AK=${RGW_ACCESS_KEY:-TESTAK}
SK=${RGW_SECRET_KEY:-TESTSK}
ENDPOINT="http://127.0.0.1:$RGW_PORT"
t0=$(date +%s.%N)
say() { echo "radosgw-up: $*" >&2; }

# down.sh deletes $D: only ever a directory this script made (marker) or an empty one.
if [ -e "$D" ] && [ ! -e "$D/.kloset-radosgw" ] && [ -n "$(ls -A "$D" 2>/dev/null)" ]; then
  say "refusing to use non-empty $D that radosgw-up.sh did not create"; exit 2
fi
mkdir -p "$D"; touch "$D/.kloset-radosgw"

# Ceph mon warns below 30 % free space on its data dir and shuts itself down below 5 %
# (mon_data_avail_crit): fail here with a clear message instead of a mon that silently exits.
# Ceph computes it as available / size (blocks reserved for root count as used), not df's Use%.
free_pct=$(df -P "$D" | awk 'NR==2 { printf "%d", 100 * $4 / $2 }')
if [ "$free_pct" -le 7 ]; then
  say "only ${free_pct}% free on the filesystem of $D; ceph-mon shuts down below 5% free. Free some space or point D elsewhere."
  exit 4
fi
[ "$free_pct" -lt 30 ] && say "warning: ${free_pct}% free on the filesystem of $D (ceph-mon warns below 30%, stops below 5%)"

# A port already taken would make the health checks below talk to someone else's server.
for port in "$MON_PORT" "$RGW_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then say "port 127.0.0.1:$port is already in use"; exit 5; fi
done

fail() {
  say "FAILED: $*"
  for log in "$D"/log/*.log; do
    [ -f "$log" ] || continue
    # errors are logged at level -1; the last few lines say where the daemon got to
    echo "---- $(basename "$log"): last errors, then last lines" >&2
    grep -a ' -1 ' "$log" | tail -n 5 >&2
    tail -n 3 "$log" | cut -c1-300 >&2
  done
  D="$D" "$HERE/radosgw-down.sh" >&2 || true
  exit 3
}
trap 'fail "command failed at line $LINENO"' ERR

mkdir -p "$D"/{mon,mgr,osd,run,log,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# without the networks the OSD heartbeat ports bind 0.0.0.0
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# At boot an OSD asks the mon to place it in the CRUSH map and set its device class; in Ceph 16
# that first command sometimes leaves before the OSD has the monmap, the mon rejects it
# ("handle_command on fsid 0000… != <fsid>", OSD: "mon_cmd_maybe_osd_create fail: 'wrong fsid'")
# and the OSD exits. The script places the OSD itself instead (osd crush add, below).
osd crush update on start = false
osd class update on start = false
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
mon data = $D/mon/\$name
mgr data = $D/mgr/\$name
osd data = $D/osd/\$name
osd objectstore = ${OBJECTSTORE:-memstore}
memstore device bytes = ${MEMSTORE_BYTES:-2147483648}
bluestore block create = true
bluestore block size = ${BLUESTORE_BYTES:-4294967296}
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
# Ceph's defaults (2048 / 256), said out loud: S3 keys go up to 1024 bytes and radosgw prefixes
# them; the 256 advised for filestore on ext4 turns keys over ~230 bytes into 500 errors.
osd max object name len = 2048
osd max object namespace len = 256
keyring = $D/\$name.keyring
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
rgw enable usage log = false
CONF
C=(-c "$D/ceph.conf")
# The first CLI calls can fail ("Error EPERM: problem getting command descriptions from mon").
cephr() { for _ in $(seq 1 30); do ceph "${C[@]}" "$@" 2>/dev/null && return 0; sleep 1; done; ceph "${C[@]}" "$@"; }

monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap"
ceph-mon "${C[@]}" -i a
cephr -s >/dev/null
if [ -z "${NO_MGR:-}" ]; then mkdir -p "$D/mgr/mgr.x"; ceph-mgr "${C[@]}" -i x; fi
mkdir -p "$D/osd/osd.0"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$(cat /proc/sys/kernel/random/uuid)" >/dev/null 2>&1
# memstore ignores --osd-uuid: register the uuid that is on disk
cephr osd new "$(cat "$D/osd/osd.0/fsid")" 0 >/dev/null
cephr osd crush add osd.0 1.0 root=default host=localhost >/dev/null 2>&1
ceph-osd "${C[@]}" -i 0
up=
for _ in $(seq 1 30); do ceph "${C[@]}" osd stat 2>/dev/null | grep -q '1 up' && { up=1; break; }; sleep 1; done
[ -n "$up" ] || fail "the OSD did not come up in 30 s"
radosgw "${C[@]}" -n client.rgw.a
up=
for _ in $(seq 1 120); do curl -s -o /dev/null "$ENDPOINT/" && { up=1; break; }; sleep 0.5; done
[ -n "$up" ] || fail "radosgw did not answer on $ENDPOINT in 60 s"
# radosgw-admin hangs forever when the cluster is wedged (an OSD that died at boot): bound it.
timeout 60 radosgw-admin "${C[@]}" user create --uid=test --display-name=test --access-key="$AK" --secret-key="$SK" >/dev/null \
  || fail "radosgw-admin user create failed or timed out"

# Up means usable: one signed request must work. The first bucket also waits for the new pools'
# placement groups to peer (~3 s), which would otherwise land on the first test.
# curl signs with --aws-sigv4 but does not send the payload hash radosgw requires.
probe="kloset-probe-$$"
s3curl() { curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" -H "x-amz-content-sha256: $EMPTY_SHA256" "$@"; }
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
ok=
for _ in $(seq 1 60); do
  code=$(s3curl -X PUT "$ENDPOINT/$probe" || true)
  if [ "$code" = 200 ]; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "a signed CreateBucket did not succeed (last HTTP status ${code:-none})"
s3curl -X DELETE "$ENDPOINT/$probe" >/dev/null || true
trap - ERR

say "up in $(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN { printf \"%.1f\", b - a }") s; state in $D (stop: D=$D $HERE/radosgw-down.sh)"
echo "$ENDPOINT"
