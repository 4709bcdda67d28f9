# Goal: `glasslog mirror-dir` publishes a verified copy of a real
# glasslogd as static files, served by nginx with the configuration the
# README shows: every tile and bundle nginx serves equals the log's byte
# for byte and a recomputation from the entries; the client reads the
# checkpoint and tiles through nginx; a second run after the log grew adds
# only what is new; a checkpoint not signed by the given key is refused
# with exit 2 and nothing changes in the directory; so is a log whose
# checkpoint is smaller than the one the directory publishes (a rollback),
# while a log with more entries than mirror-dir handles (a signed
# checkpoint of 2^40 entries) and a --timeout that is not a number exit 3.
# nginx is required
# (nginx-light, installed by make deps): missing, the test fails.
. "$(dirname "$0")/lib.sh"
need_py_crypto
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || fail "nginx is not installed (make deps)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
G="$GL_BIN/glasslog"
PY="$(dirname "$0")/mirror.py"
TLOG="$(dirname "$0")/tlog.py"
LOADGEN="$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || LOADGEN="$(dirname "$0")/../../$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || fail "loadgen not built ($LOADGEN)"

make_keys
start_log "$T/data" --create --batch-ms 2
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 600 -c 4 --seed 53 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
wait_until 10 sh -c "[ \"\$(curl -sf $LOG_URL/checkpoint | sed -n 2p)\" = 600 ]" || fail "log size"

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
wait_until 10 curl -sf -o /dev/null "$NGX/checkpoint" || fail "nginx did not start: $(cat "$T/nginx/out" "$T/nginx/error.log" 2>/dev/null)"

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
    wait_until 10 curl -sf -o /dev/null "$SURL/checkpoint" || fail "python http.server for $1"
}
static "$T/www600"
expect_rc 2 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$D"
expect_err "the log's checkpoint of size 600 is smaller than the one of size 900 in $D: nothing written"
cmp -s "$D/checkpoint" "$T/ck.before" || fail "the checkpoint rolled back"
static "$T/huge"
expect_rc 3 "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$T/www-huge"
expect_err "the log has 1099511627776 entries, more than mirror-dir handles (16777216): nothing written"
[ -e "$T/www-huge/checkpoint" ] && fail "a checkpoint of 2^40 entries was written"
kill "$NPID"; wait "$NPID" 2>/dev/null
stop_log
echo "53-mirror-static: ok"
