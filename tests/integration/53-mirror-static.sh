# Goal: `glasslog mirror-dir` publishes a verified copy of a real
# glasslogd as static files, served by nginx with the configuration the
# README shows: every tile and bundle nginx serves equals the log's byte
# for byte and a recomputation from the entries; the client reads the
# checkpoint and tiles through nginx; a second run after the log grew adds
# only what is new (and removes the partial forms of tiles now full); a checkpoint not signed by the given key is refused
# with exit 2 and nothing changes in the directory; so is a log whose
# checkpoint is smaller than the one the directory publishes (a rollback),
# while a log with more entries than mirror-dir handles (a signed
# checkpoint of 2^40 entries) and a --timeout that is not a number exit 3.
# A copy that dropped its partial tiles once the full ones exist (the
# copy at 600 with tile 002 full) is read from the full tiles' prefixes:
# mirror-dir, `get tile` and `monitor` (consistency 300 -> 600 and the
# bundles) succeed; a full tile that lies, is short, or a full bundle
# with a wrong entry, exits 2.
# nginx is required
# (nginx-light, installed by make deps): missing, the test fails.
. "$(dirname "$0")/lib.sh"
need_py_crypto
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || fail "nginx is not installed (make deps)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
G="$GL_BIN/glasslog"
PY="$(dirname "$0")/mirror.py"
TLOG="$(dirname "$0")/tlog.py"
loadgen_tool

make_keys
printf '%s\n' "log $(cat "$T/log.key.pub")" "submitter $(cat "$T/sub.key.pub")" "quorum none" > "$T/policy"
mon() { "$G" monitor --log "$1" --policy "$T/policy" --state "$T/mon" --once --no-progress; }
start_log "$T/data" --create --batch-ms 2
for n in 300 600; do # a monitor remembers the log at 300
    "$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 300 -c 4 --seed "53$n" > "$T/lg.out" 2> "$T/lg.err" ||
        fail "loadgen: $(tail -3 "$T/lg.err")"
    wait_until 10 sh -c "[ \"\$(curl -sf $LOG_URL/checkpoint | sed -n 2p)\" = $n ]" || fail "log size $n"
    [ "$n" = 300 ] && { expect_rc 0 mon "$LOG_URL"; grep -q "tree size 300, verified" "$T/out" || fail "monitor at 300"; }
done

D="$T/www"
expect_rc 0 "$G" mirror-dir --log "$LOG_URL" --log-vkey "@$T/log.key.pub" --dir "$D"
[ "$(sed -n 2p "$D/checkpoint")" = 600 ] || fail "no checkpoint of 600 in $D"
cp -r "$D" "$T/www600"

# nginx, as in the README, on a free loopback port, in the foreground
NPORT=$(free_port)
NGX="http://127.0.0.1:$NPORT"
mkdir -p "$T/nginx"
cat > "$T/nginx.conf" <<CONF
daemon off;
master_process off;
pid $T/nginx/pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $D;
        location = /checkpoint {
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "no-cache";
        }
        location /tile/ {
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }
    }
}
CONF
"$NGINX" -c "$T/nginx.conf" -p "$T/nginx" > "$T/nginx/out" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
wait_until 30 curl -sf -o /dev/null "$NGX/checkpoint" || fail "nginx did not start: $(cat "$T/nginx/out" "$T/nginx/error.log" 2>/dev/null)"

check_all() {
    curl -sf "$NGX/checkpoint" | cmp -s - <(curl -sf "$LOG_URL/checkpoint") ||
        fail "nginx serves another checkpoint than the log"
    python3 "$TLOG" check-tiles "$NGX" || fail "static tiles differ from a recomputation"
    N=$(python3 "$PY" same-tiles "$LOG_URL" "$NGX") || fail "static tiles differ from the log's"
    echo "$N"
}
[ "$(check_all)" = 7 ] || fail "compared $(check_all) files, want 7"
curl -sI "$NGX/tile/0/000" | tr -d '\r' > "$T/h"
grep -qi "^content-type: application/octet-stream" "$T/h" || fail "tile Content-Type: $(cat "$T/h")"
grep -qi "^cache-control: public, max-age=31536000, immutable" "$T/h" || fail "tile Cache-Control"
curl -sI "$NGX/checkpoint" | tr -d '\r' | grep -qi "^content-type: text/plain" || fail "checkpoint Content-Type"
# the client reads through nginx
expect_rc 0 "$G" get checkpoint --log "$NGX"
cmp -s "$T/out" "$D/checkpoint" || fail "glasslog get checkpoint through nginx"
expect_rc 0 "$G" get tile tile/entries/002.p/88 --log "$NGX"
[ "$(grep -c . "$T/out")" -ge 88 ] || fail "glasslog get tile through nginx: $(head -3 "$T/out")"
# the JSON API is not there: nginx's HTML 404 is still "not found" (1),
# said as what it likely is
expect_rc 1 "$G" get entry 0 --log "$NGX"
expect_err "likely no glasslog API at this URL"

# the log grows: a second run adds what is new; full files are kept
touch -d '2000-01-01' "$D/tile/0/000" "$D/tile/entries/000"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 300 -c 4 --seed 530 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
wait_until 10 sh -c "[ \"\$(curl -sf $LOG_URL/checkpoint | sed -n 2p)\" = 900 ]" || fail "log size 900"
expect_rc 0 "$G" mirror-dir --log "$LOG_URL" --log-vkey "@$T/log.key.pub" --dir "$D"
[ "$(sed -n 2p "$D/checkpoint")" = 900 ] || fail "no checkpoint of 900"
[ "$(stat -c %Y "$D/tile/0/000")" -lt 1000000000 ] || fail "a full tile was rewritten"
[ "$(stat -c %Y "$D/tile/entries/000")" -lt 1000000000 ] || fail "a full bundle was refetched"
[ "$(check_all)" = 9 ] || fail "compared $(check_all) files at 900, want 9"
# Tile 002, partial at 600, is full at 900: its partial forms are gone (as
# tlog-tiles allows); a reader of the checkpoint of 600 takes the full
# one's prefix. Level 1's tile 0 is still partial: the width each
# published checkpoint needs stays.
[ ! -e "$D/tile/0/002.p" ] && [ ! -e "$D/tile/entries/002.p" ] ||
    fail "the partial forms of a full tile stay: $(find "$D/tile" -path '*002.p*')"
[ -f "$D/tile/1/000.p/2" ] && [ -f "$D/tile/1/000.p/3" ] && [ -f "$D/tile/0/003.p/132" ] ||
    fail "a partial tile a published checkpoint needs is gone: $(find "$D/tile" -name '*.p')"
expect_rc 0 "$G" get tile tile/entries/002.p/88 --log "$NGX"
[ "$(grep -c . "$T/out")" -ge 88 ] || fail "tile/entries/002.p/88 from the full bundle: $(head -3 "$T/out")"

# a key that did not sign it: refused, nothing changes
cp "$D/checkpoint" "$T/ck.before"
expect_rc 2 "$G" mirror-dir --log "$LOG_URL" --log-vkey "@$T/other.key.pub" --dir "$D"
expect_err "not signed by"
cmp -s "$D/checkpoint" "$T/ck.before" || fail "the checkpoint changed after a refusal"
expect_rc 3 "$G" mirror-dir --log "$LOG_URL" --dir "$D"
expect_err "needs --log, --log-vkey and --dir"
expect_rc 3 "$G" mirror-dir --log "$LOG_URL" --log-vkey "@$T/log.key.pub" --dir "$D" --timeout abc
expect_err "timeout takes a number from 1 to 86400, not 'abc'"

# static logs served by python: the copy at 600 (a rollback for D), and a
# signed checkpoint of 2^40 entries
mkdir -p "$T/huge"
printf 'example.com/log\n1099511627776\n%s\n' "$(head -c 32 /dev/zero | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/huge/checkpoint" || fail "signing the huge checkpoint"
static() { # static DIR: serves DIR on a free port, sets SURL
    local port
    port=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$1" "$port" > "$T/static.$port" 2>&1 &
    PIDS="$PIDS $!"
    SURL="http://127.0.0.1:$port"
    wait_until 30 curl -sf -o /dev/null "$SURL/checkpoint" || fail "python http.server for $1"
}
static "$T/www600"
expect_rc 2 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$D"
expect_err "the log's checkpoint of size 600 is smaller than the one of size 900 in $D: nothing written"
cmp -s "$D/checkpoint" "$T/ck.before" || fail "the checkpoint rolled back"
# the copy at 600 stops serving the partial tiles tile/0/002.p/88 and
# tile/entries/002.p/88 once tile 002 is full (tlog-tiles allows it):
# readers take the first 88 hashes or entries of the full tiles, checked
# as before, so a full tile that lies, or is short, is still refused
cp -r "$T/www600/tile" "$T/tile600"
cp "$D/tile/0/002" "$T/www600/tile/0/002"
cp "$D/tile/entries/002" "$T/www600/tile/entries/002"
rm "$T/www600/tile/0/002.p/88" "$T/www600/tile/entries/002.p/88"
expect_rc 0 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/again"
diff -r "$T/again/tile" "$T/tile600" > /dev/null || fail "mirror-dir of the copy without partial tiles differs"
expect_rc 0 "$G" get tile tile/entries/002.p/88 --log "$SURL"
grep -q "^# entry 599 " "$T/out" && ! grep -q "^# entry 600 " "$T/out" || fail "get tile of a gone partial bundle"
expect_rc 0 mon "$SURL" # consistency 300 -> 600 and bundles 1, 2 from the full tiles
grep -q "tree size 600, verified, no alarm" "$T/out" || fail "monitor at 600: $(cat "$T/out" "$T/err")"
flip() { # flip FILE OFFSET: inverts the low bit of one byte
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1")
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null
}
flip "$T/www600/tile/0/002" 320 # hash 10 of the 88
expect_rc 2 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/again2"
expect_err "do not hash to its checkpoint's root: nothing written"
head -c 8160 "$D/tile/0/002" > "$T/www600/tile/0/002"
expect_rc 2 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/again2"
expect_err "tile/0/002.p/88 not found (404), nor its full tile: tile/0/002: 8160 bytes, not a full tile of 256 hashes"
cp "$D/tile/0/002" "$T/www600/tile/0/002"
flip "$T/www600/tile/entries/002" 100 # in entry 512
expect_rc 2 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/again2"
expect_err "entry 512 is not the one the checkpoint's tree holds"
[ -e "$T/again2/checkpoint" ] && fail "a copy whose full tiles lie was mirrored"
static "$T/huge"
expect_rc 3 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/www-huge"
expect_err "the log has 1099511627776 entries, more than mirror-dir handles (16777216): nothing written"
[ -e "$T/www-huge/checkpoint" ] && fail "a checkpoint of 2^40 entries was written"
kill "$NPID"; wait "$NPID" 2>/dev/null
stop_log
echo "53-mirror-static: ok"
