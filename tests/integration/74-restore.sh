# Goal: a log of 10000 entries is copied as a static tlog-tiles directory
# served by nginx; its data directory is deleted; `glasslogd
# --restore-from` rebuilds it from the copy, and the restored log serves
# byte-identical tiles and checkpoint, accepts appends from that size on,
# and passes --fsck. Copies that do not verify are refused and leave no
# data directory: an altered entry, an altered hash tile, a checkpoint
# signed by another key, a missing bundle, an entry that is no statement,
# a checkpoint without the --witnesses quorum (with it: restored, here
# into an existing empty directory given with a trailing slash); so is
# a restore over data. A copy that no longer serves the partial tiles
# of a tile that is full (at a larger size) is restored from the full
# tiles' prefixes, unless the full tile lies. A restored store is a copy: it starts only once
# every witness answered (a stopped one: refused) or, without witnesses,
# with --accept-copy (so too in fail-open mode, or with a policy whose
# quorum is met without any witness, even with the witness up); after
# that first start it starts as any other. A
# policy naming no witness ("quorum none") counts as none: the restore
# says so (not "cosigned by the witness quorum") and the copy does not
# start on it.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOADGEN="$GL_BUILD/tests/bench/loadgen"
case "$LOADGEN" in /*) ;; *) LOADGEN="$ROOT/$LOADGEN" ;; esac
[ -x "$LOADGEN" ] || fail "loadgen not built ($LOADGEN)"
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || fail "nginx is not installed (make deps installs nginx-light)"
make_keys
N=10000

start_log "$T/data" --create --batch-ms 5 || fail "start"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n $N -c 32 --timeout 60 --label fill \
    > "$T/fill.out" 2> "$T/fill.err" || fail "loadgen: $(tail -3 "$T/fill.err")"
expect_http 200 GET /checkpoint
[ "$(sed -n 2p "$T/body")" = $N ] || fail "size $(sed -n 2p "$T/body"), want $N"
# Every tile path of a tree of size N (entry bundles and hash tiles).
python3 - "$N" > "$T/paths" <<'PY'
import sys
n = int(sys.argv[1])
def path(level, index, width, entries=False):
    s = "%03d" % (index % 1000)
    index //= 1000
    while index > 0:
        s = "x%03d/" % (index % 1000) + s
        index //= 1000
    p = "/tile/" + ("entries" if entries else str(level)) + "/" + s
    return p + (".p/%d" % width if width < 256 else "")
level = 0
while n >> (8 * level):
    nodes = n >> (8 * level)
    for i in range(nodes // 256):
        print(path(level, i, 256))
        if level == 0: print(path(0, i, 256, True))
    if nodes % 256:
        print(path(level, nodes // 256, nodes % 256))
        if level == 0: print(path(0, nodes // 256, nodes % 256, True))
    level += 1
PY
mkdir -p "$T/www/good"
sed 's|.*|url = "'"$LOG_URL"'&"\noutput = "'"$T/www/good"'&"|' "$T/paths" > "$T/curl.cfg"
curl -fsS --create-dirs -K "$T/curl.cfg" || fail "copying the tiles"
curl -fsS -o "$T/www/good/checkpoint" "$LOG_URL/checkpoint" || fail "copying the checkpoint"
# The copy "full" at N no longer serves the partial tiles of level-0 tile
# 039 once the log grew past 10240 and that tile is full (tlog-tiles
# allows it): the restore reads them from the full tiles' prefixes.
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 240 -c 8 --label more \
    > "$T/more.out" 2> "$T/more.err" || fail "loadgen: $(tail -3 "$T/more.err")"
cp -a "$T/www/good" "$T/www/full"
curl -fsS -o "$T/www/full/tile/0/039" "$LOG_URL/tile/0/039" &&
    curl -fsS -o "$T/www/full/tile/entries/039" "$LOG_URL/tile/entries/039" || fail "copying tile 039"
rm "$T/www/full/tile/0/039.p/16" "$T/www/full/tile/entries/039.p/16"
stop_log
rm -rf "$T/data"

# Tampered copies, each a directory of its own.
tamper() { rm -rf "$T/www/$1"; cp -a "$T/www/good" "$T/www/$1"; }
flip() { python3 -c 'import sys; p=sys.argv[1]; o=int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=1; open(p,"wb").write(b)' "$@"; }
# An entry whose artifact hash changed by one hex digit: still a statement.
tamper entry
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); i=b.index(b"sha256 ")+7
while chr(b[i]) not in "0123456789bcde": i += 1
b[i] ^= 1; open(p,"wb").write(b)' "$T/www/entry/tile/entries/017" || fail "altering an entry"
tamper statement; flip "$T/www/statement/tile/entries/017" 300
tamper hash;   flip "$T/www/hash/tile/1/000.p/39" 40
tamper gone;   rm "$T/www/gone/tile/entries/020"
rm -rf "$T/www/fullbad"; cp -a "$T/www/full" "$T/www/fullbad"; flip "$T/www/fullbad/tile/0/039" 100
tamper key
printf 'example.com/log\n%s\n%s\n' $N "$(sed -n 3p "$T/www/good/checkpoint")" |
    "$GL_BIN/glasslog" note sign --key "$T/other.key" > "$T/www/key/checkpoint" 2>/dev/null ||
    fail "signing with the other key"

mkdir -p "$T/nginx/tmp"
NGINX_USER=""
[ "$(id -u)" -ne 0 ] || NGINX_USER="user $(id -un) $(id -gn);"
NPORT=$(free_port)
cat > "$T/nginx/nginx.conf" <<EOF
$NGINX_USER
master_process off; # one process: the test stops it by its PID
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    default_type application/octet-stream;
    server { listen 127.0.0.1:$NPORT; root $T/www; }
}
EOF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" > "$T/nginx/out" 2>&1 &
PIDS="$PIDS $!"
NG="http://127.0.0.1:$NPORT"
wait_until 30 curl -fsS -o /dev/null "$NG/good/checkpoint" || fail "nginx did not start: $(cat "$T/nginx/error.log")"

restore_refused() {
    local copy=$1 want=$2
    expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 --restore-from "$NG/$copy"
    expect_err "$want"
    expect_err "restore: refused"
    [ ! -e "$T/data" ] && [ ! -e "$T/data.restoring" ] || fail "$copy: a refused restore left data"
    echo "  refused $copy: $(grep -m1 "$want" "$T/err" | cut -c22-)"
}
restore_refused entry "do not hash to the signed root"
restore_refused statement "is not a statement"
restore_refused hash "tile/1/000.p/39 differs"
restore_refused gone "tile/entries/020"
restore_refused fullbad "tile/0/039.p/16 differs"
restore_refused key "is not this log's"

# With --witnesses, the copy's checkpoint needs the policy's quorum: the
# plain copy has no cosignature (refused); a copy whose checkpoint witness
# 1 cosigned (tools/cosign) is restored.
COSIGN="$GL_BUILD/tests/integration/tools/cosign"
case "$COSIGN" in /*) ;; *) COSIGN="$ROOT/$COSIGN" ;; esac
[ -x "$COSIGN" ] || fail "cosign tool not built ($COSIGN)"
make_witness_keys 1
printf 'witness w1 %s http://127.0.0.1:%s\nquorum w1\n' "$(cat "$T/w1.key.pub")" "$PORT1" \
    > "$T/policy"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --witnesses "$T/policy" \
    --restore-from "$NG/good"
expect_err "lacks the witness quorum: 0 of 1 witnesses"
[ ! -e "$T/data" ] || fail "a restore without the quorum left data"
tamper cosigned
"$COSIGN" "$T/w1.key" "$(date +%s)" < "$T/www/good/checkpoint" > "$T/www/cosigned/checkpoint" ||
    fail "cosigning the copy's checkpoint"
# (Into an existing empty directory named with a trailing slash: the
# copy is built beside it, in data-q.restoring, not inside it.)
# The restored store is a copy: with its witness not running, nothing
# shows it holds all the log released, so glasslogd refuses to start on
# it (the restore itself stays).
mkdir "$T/data-q"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data-q/" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --witnesses "$T/policy" \
    --restore-from "$NG/cosigned"
grep -q "cosigned by the witness quorum" "$T/err" || fail "quorum not reported"
grep -q "restore: $T/data-q holds $N verified entries" "$T/err" || fail "quorum restore"
expect_err "this store is a copy (backup or restore) and witness w1 did not answer"
# With the witness up (and consistent), it starts; the mark is gone, so a
# later start with the witness down starts as any other.
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/wlogs"
start_witness 1 "$T/wlogs"
# Witnesses show a copy current only if the log served nothing they did
# not cosign: in fail-open mode, or with a quorum met without any witness
# (quorum none), the copy needs --accept-copy too, even with them up.
sed 's/^quorum w1$/quorum none/' "$T/policy" > "$T/polnone"
expect_rc 1 timeout 20 "$GL_BIN/glasslogd" --data "$T/data-q" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --witnesses "$T/policy" --witness-mode fail-open
expect_err "in --witness-mode fail-open the log serves checkpoints no witness cosigned"
expect_rc 1 timeout 20 "$GL_BIN/glasslogd" --data "$T/data-q" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --witnesses "$T/polnone"
expect_err "the --witnesses quorum is met without any witness (quorum none)"
start_log "$T/data-q" --witnesses "$T/policy" || fail "start with the witness: $(tail -5 "$LOG_OUT")"
grep -q "every witness answered without conflict" "$LOG_OUT" || fail "copy not confirmed: $(cat "$LOG_OUT")"
stop_log
stop_witness 1
start_log "$T/data-q" --witnesses "$T/policy" --witness-mode fail-open ||
    fail "restart with the witness down: $(tail -5 "$LOG_OUT")"
grep -q "witness w1 unreachable at start" "$LOG_OUT" || fail "probe: $(cat "$LOG_OUT")"
stop_log

# A policy naming no witness: restored, reported as such, not started.
printf 'quorum none\n' > "$T/pol0"
expect_rc 1 timeout 60 "$GL_BIN/glasslogd" --data "$T/data0" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --witnesses "$T/pol0" \
    --restore-from "$NG/good"
grep -q "signed by the log (no witnesses in the policy)" "$T/err" || fail "pol0 restore: $(cat "$T/err")"
grep -q "cosigned by the witness quorum" "$T/err" && fail "pol0 restore claims a quorum"
expect_err "the --witnesses policy names no witness"
rm -rf "$T/data0"

# The good copy, as "full" (without the partial tiles of tile 039):
# rebuilt, verified, served byte for byte as the log served it. Without
# witnesses, the restored copy starts only with --accept-copy.
start=$(date +%s%N)
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --restore-from "$NG/full/"
end=$(date +%s%N)
grep -q "restore: $T/data holds $N verified entries" "$T/err" || fail "no restore line"
grep -q "tiles match the signed checkpoint" "$T/err" || fail "start-up check after restore"
expect_err "this store is a copy (backup or restore), which may be older"
echo "  restored $N entries in $(( (end - start) / 1000000 )) ms"
start_log "$T/data" --accept-copy || fail "start on the restored copy: $(tail -5 "$LOG_OUT")"
expect_http 200 GET /checkpoint
cmp -s "$T/body" "$T/www/good/checkpoint" || fail "checkpoint differs after restore"
sed 's|.*|url = "'"$LOG_URL"'&"\noutput = "'"$T/again"'&"|' "$T/paths" > "$T/curl2.cfg"
curl -fsS --create-dirs -K "$T/curl2.cfg" || fail "fetching the restored tiles"
diff -r "$T/again/tile" "$T/www/good/tile" > /dev/null || fail "restored tiles differ"
append_one after-restore 1.0 > "$T/out" 2>&1 || fail "append after restore: $(cat "$T/out")"
grep -q "^index $N\$" "$T/out" || fail "the appended entry is not index $N: $(cat "$T/out")"
stop_log
"$GL_BIN/glasslogd" --fsck "$T/data" --vkey "@$T/log.key.pub" > "$T/fsck.out" 2>&1 ||
    fail "fsck after restore: $(cat "$T/fsck.out")"
grep -q "^fsck: OK ($((N + 1)) entries)" "$T/fsck.out" || fail "fsck: $(cat "$T/fsck.out")"
# A restore over a data directory with data is refused.
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --restore-from "$NG/good"
expect_err "has data"
# A data directory given as a symbolic link (data on another disk) is
# restored into the directory it names, built beside that one.
mkdir "$T/disk2" "$T/disk2/data"
ln -s "$T/disk2/data" "$T/lnk"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/lnk" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --restore-from "$NG/good"
grep -q "restore: $T/disk2/data holds $N verified entries" "$T/err" || fail "restore through a link: $(cat "$T/err")"
[ -L "$T/lnk" ] && [ ! -e "$T/disk2/data.restoring" ] && [ ! -e "$T/lnk.restoring" ] ||
    fail "the restore through a link left: $(ls -a "$T" "$T/disk2")"
"$GL_BIN/glasslogd" --fsck "$T/lnk" --vkey "@$T/log.key.pub" > "$T/fsck.out" 2>&1 ||
    fail "fsck after a restore through a link: $(cat "$T/fsck.out")"
# One restore of a directory at a time: while something holds it (another
# restore), a second one is refused and leaves the first one's
# DIR.restoring alone.
mkdir "$T/busy" "$T/busy.restoring"
echo "the first restore's" > "$T/busy.restoring/MANIFEST"
(exec 9< "$T/busy" && flock 9 && exec sleep 30) & # the sleep holds the lock
HOLDER=$!
PIDS="$PIDS $HOLDER"
wait_until 20 sh -c "! flock -n '$T/busy' true" || fail "flock did not take $T/busy"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/busy" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --restore-from "$NG/good"
expect_err "another restore of $T/busy is running"
[ "$(cat "$T/busy.restoring/MANIFEST")" = "the first restore's" ] || fail "the refused restore touched busy.restoring"
[ -d "$T/busy" ] && [ -z "$(ls -A "$T/busy")" ] || fail "the refused restore changed $T/busy"
kill "$HOLDER"
echo "ok 74-restore"
