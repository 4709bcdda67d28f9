#!/bin/sh
# bench_log: the running log's figures (latency, throughput, durability
# cost against same-run references), run by
# `make bench-log`. Prints "bench <name> <value> <unit>" lines and exits
# non-zero if anything fails (a proof that does not verify, a refused
# append, a non-2xx answer under wrk, a server that does not start).
#
# In a temp dir: fresh keys, glasslogd on a free 127.0.0.1 port (--create,
# default batching), then
#   1. append_light_p50/p99_ms       loadgen append -c 1 (one request in flight)
#   2. ref_ed25519_verify_allcores   loadgen ref-verify, the mean of one run
#                                    just before and one just after step 3
#   3. append_durable, append_p50/p99_ms, ratio_append_vs_verify,
#      cpu_glasslogd_us_per_append   loadgen append -c 256, every proof checked
#      ref_ed25519_verify_cpu_us     CPU time of one verify on one thread
#                                    (loadgen ref-verify -t 1, the mean of
#                                    one run before and one after the heavy run)
#      append_cpu_per_verify         glasslogd's CPU time (utime + stime of
#                                    all its threads, /proc/PID/stat) per
#                                    append, over ref_ed25519_verify_cpu_us
#   4. loadgen verify                random entries + proofs vs /checkpoint
#   5. tiles_glasslogd, ref_tiles_nginx, ratio_tiles_vs_nginx: wrk over the
#      full level-0 and level-1 tiles, from glasslogd and from nginx serving
#      the same tiles (dumped from glasslogd into tile/<L>/<N> files)
#   6. inclusion_glasslogd, ratio_inclusion_vs_nginx: wrk over random
#      /api/v1/proof/inclusion?index=i&tree_size=N
#   (5 and 6 in alternating rounds, best round of each)
#   7. ref_http_request_cpu_us        nginx's worker CPU time per request
#                                    on a 33-byte file (wrk, C connections;
#                                    the least of WRK_ROUNDS rounds)
#      append_cpu_floor_per_verify    (one verify + that request) / verify:
#                                    the least append_cpu_per_verify of any
#                                    server taking one append per request
#      append_cpu_over_floor         glasslogd's CPU per append / that floor
#      glasslogd_http_request_cpu_us  glasslogd's CPU time per GET /healthz
#                                    (the same wrk runs, the least of them):
#                                    its own HTTP exchange, h2o and libuv
#      append_cpu_log_work_us        cpu_glasslogd_us_per_append less one
#                                    verify and that exchange: what the log
#                                    itself does per append (parse, hash,
#                                    hand-offs, sequence, store, proof)
#      tree_size, rss_glasslogd_kb
#   8. append_durable_pg, ratio_append_pg_vs_rocksdb: the runs of 3 again
#      (same N and C) on glasslogd with --store on a PostgreSQL cluster
#      started here (tests/integration/pg.sh), against 3's append_durable
#   9. tiles_pg_frontend, inclusion_pg_frontend and their ratios to nginx:
#      a second glasslogd on the same database (a front-end that does not
#      sequence) serving the wrk runs of 5 and 6
#  10. append_durable_pg_2fe, ratio_append_pg_2fe_vs_rocksdb: the runs of 3
#      again (same N and C), the connections spread round robin over both
#      front-ends (loadgen --log URL,URL), against 3's append_durable
# nginx gets the CPU budget glasslogd has for reads (one worker; glasslogd
# serves reads on its one loop thread); wrk uses the same threads,
# connections and duration for every figure. Every process is stopped by
# PID on exit; everything listens on loopback only; every wait is bounded.
#
# Environment: GL_BIN (binaries), GL_LOADGEN (loadgen binary); optional
# BENCH_N (heavy appends, default 66000: enough for one full level-1
# tile), BENCH_C (connections, 256), BENCH_LIGHT_N (300), BENCH_WRK_SECONDS
# (3 per round), BENCH_WRK_ROUNDS (3), BENCH_WRK_THREADS (2),
# BENCH_WRK_CONNS (32).
set -eu

: "${GL_BIN:?GL_BIN must name the directory holding glasslog and glasslogd}"
: "${GL_LOADGEN:?GL_LOADGEN must name the loadgen binary}"
N=${BENCH_N:-66000}
C=${BENCH_C:-256}
LIGHT_N=${BENCH_LIGHT_N:-300}
WRK_D=${BENCH_WRK_SECONDS:-3}
WRK_ROUNDS=${BENCH_WRK_ROUNDS:-3}
WRK_T=${BENCH_WRK_THREADS:-2}
WRK_C=${BENCH_WRK_CONNS:-32}
HERE=$(cd "$(dirname "$0")" && pwd)

for tool in curl wrk nginx; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
        echo "bench_log: $tool is not installed (make deps installs it)" >&2
        exit 1
    }
done
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

T=$(mktemp -d)
LOG_PID=""
NGINX_PID=""

# stop PID: SIGTERM, up to 10 s for a clean exit, then SIGKILL.
stop() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    rc=$?
    stop "$NGINX_PID"
    stop "$LOG_PID"
    stop "${PG_LOG_PID:-}"
    stop "${PG_FRONT_PID:-}"
    command -v pg_stop_all >/dev/null 2>&1 && pg_stop_all
    if [ $rc -ne 0 ] && [ -f "$T/glasslogd.log" ]; then
        echo "bench_log: FAILED; the last lines of glasslogd's log:" >&2
        tail -20 "$T/glasslogd.log" >&2
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

die() { echo "bench_log: $*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
# figure NAME OUTPUT: the value of "bench NAME <value> <unit>" in OUTPUT.
figure() { printf '%s\n' "$2" | awk -v n="$1" '$1 == "bench" && $2 == n { print $3 }'; }

# --- the log ------------------------------------------------------------------
"$GL_BIN/glasslog" keygen --name bench.glasslog.test/log --out "$T/log.key" >/dev/null
"$GL_BIN/glasslog" keygen --name bench.glasslog.test/submitter --out "$T/sub.key" >/dev/null
cp "$T/sub.key.pub" "$T/submitters"
: >"$T/glasslogd.log" # exists before the child's redirection, for the sed below
# The load generator is one client with many connections: lift the
# per-client connection limit (64) for it.
"$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" --submitters "$T/submitters" \
    --conns-per-client 4096 \
    --listen 127.0.0.1:0 --create >"$T/glasslogd.log" 2>&1 &
LOG_PID=$!
# Port 0: the kernel picks a free port; glasslogd logs the one it got.
PORT=""
i=0
while [ -z "$PORT" ] && [ $i -lt 100 ]; do
    kill -0 "$LOG_PID" 2>/dev/null || die "glasslogd exited at start-up"
    PORT=$(sed -n 's/.*serving log .*(port \([0-9]*\)).*/\1/p' "$T/glasslogd.log")
    [ -n "$PORT" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$PORT" ] || die "glasslogd did not report its port within 10 s"
URL="http://127.0.0.1:$PORT"
i=0
until curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "glasslogd did not answer /healthz within 10 s"
    sleep 0.1
done
VKEY="@$T/log.key.pub"

# --- appends ------------------------------------------------------------------
out=$("$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n "$LIGHT_N" -c 1 \
    --log-vkey "$VKEY" --subject-prefix bench-light)
printf '%s\n' "$out" | sed -n 's/^bench append_p\(50\|99\)_ms /bench append_light_p\1_ms /p'

# The reference is taken just before and just after the heavy run and
# averaged: on a shared VM the machine's speed drifts within a minute.
out=$("$GL_LOADGEN" ref-verify --seconds 2)
REF_BEFORE=$(figure ref_ed25519_verify_allcores "$out")
# The CPU time of one verify on one thread: the reference of
# append_cpu_per_verify (CPU time barely depends on the machine's load).
out=$("$GL_LOADGEN" ref-verify -t 1 --seconds 1)
VERIFY_US_BEFORE=$(figure ref_ed25519_verify_cpu_us "$out")

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$LOG_PID/stat"; }
TICKS_BEFORE=$(cpu_ticks)
out=$("$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n "$N" -c "$C" \
    --log-vkey "$VKEY" --subject-prefix bench-heavy)
TICKS=$(($(cpu_ticks) - TICKS_BEFORE))
out2=$("$GL_LOADGEN" ref-verify --seconds 2)
REF_AFTER=$(figure ref_ed25519_verify_allcores "$out2")
echo "ref_ed25519_verify_allcores: $REF_BEFORE before, $REF_AFTER after the heavy run" >&2
REF_VERIFY=$(awk -v a="$REF_BEFORE" -v b="$REF_AFTER" 'BEGIN { printf "%.0f", (a + b) / 2 }')
echo "bench ref_ed25519_verify_allcores $REF_VERIFY verifies/s"
echo "$out"
APPENDS=$(figure append_durable "$out")
echo "bench ratio_append_vs_verify $(ratio "$APPENDS" "$REF_VERIFY") ratio"
# glasslogd's CPU time (all threads) per heavy-run append, signature check
# included, and its ratio to one verify's CPU time (the mean of one
# single-thread run before and one after the heavy run).
out=$("$GL_LOADGEN" ref-verify -t 1 --seconds 1)
VERIFY_US_AFTER=$(figure ref_ed25519_verify_cpu_us "$out")
APPEND_US=$(awk -v t="$TICKS" -v hz="$(getconf CLK_TCK)" -v n="$N" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
VERIFY_US=$(awk -v a="$VERIFY_US_BEFORE" -v b="$VERIFY_US_AFTER" 'BEGIN { printf "%.1f", (a + b) / 2 }')
echo "bench cpu_glasslogd_us_per_append $APPEND_US us"
echo "bench ref_ed25519_verify_cpu_us $VERIFY_US us"
echo "bench append_cpu_per_verify $(ratio "$APPEND_US" "$VERIFY_US") ratio"

"$GL_LOADGEN" verify --log "$URL" --log-vkey "$VKEY" -n 200

SIZE=$(curl -fsS "$URL/checkpoint" | sed -n 2p)
case "$SIZE" in '' | *[!0-9]*) die "cannot read the tree size from /checkpoint" ;; esac

# --- the tiles, served by glasslogd and by nginx ----------------------------------
# tile_path N: the C2SP form of tile index N (1234067 -> x001/x234/067).
tile_path() {
    n=$1
    p=$(printf '%03d' $((n % 1000)))
    n=$((n / 1000))
    while [ "$n" -gt 0 ]; do
        p=$(printf 'x%03d/%s' $((n % 1000)) "$p")
        n=$((n / 1000))
    done
    echo "$p"
}
# The full tiles of levels 0 and 1 at SIZE, as URL paths.
: >"$T/paths"
for level in 0 1; do
    full=$((SIZE >> (8 * (level + 1))))
    n=0
    while [ $n -lt $full ]; do
        echo "/tile/$level/$(tile_path $n)" >>"$T/paths"
        n=$((n + 1))
    done
done
[ -s "$T/paths" ] || die "the log has no full tile (size $SIZE)"
mkdir -p "$T/www"
# One curl for all tiles (keep-alive); --fail makes any non-200 fatal.
sed 's|.*|url = "'"$URL"'&"\noutput = "'"$T/www"'&"|' "$T/paths" >"$T/curl.cfg"
curl -fsS --create-dirs -K "$T/curl.cfg"

mkdir -p "$T/nginx/tmp"
NGINX_USER=""
# A root master would hand requests to "nobody", who cannot read $T.
[ "$(id -u)" -ne 0 ] || NGINX_USER="user $(id -un) $(id -gn);"
start_nginx() {
    cat >"$T/nginx/nginx.conf" <<EOF
$NGINX_USER
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    open_file_cache max=1024 inactive=60s; # tiles are immutable: the fair setup
    keepalive_requests 1000000;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$1;
        root $T/www;
    }
}
EOF
    "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" \
        >"$T/nginx/stdout" 2>&1 &
    NGINX_PID=$!
    first=$(head -1 "$T/paths")
    i=0
    while [ $i -lt 50 ]; do
        curl -fsS -o /dev/null "http://127.0.0.1:$1$first" 2>/dev/null && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    stop "$NGINX_PID"
    NGINX_PID=""
    # Only a port clash is worth another try.
    grep -q 'Address already in use' "$T/nginx/error.log" 2>/dev/null || {
        cat "$T/nginx/error.log" "$T/nginx/stdout" >&2 2>/dev/null || true
        die "nginx did not start"
    }
    return 1
}
# A free port: sh cannot ask the kernel for one, so try a few random high
# ports (nginx exits at once if the bind fails).
NGINX_PORT=""
for try in 1 2 3 4 5 6 7 8 9 10; do
    p=$(awk -v s="$$$try" 'BEGIN { srand(s); print 20000 + int(rand() * 40000) }')
    if start_nginx "$p"; then
        NGINX_PORT=$p
        break
    fi
done
[ -n "$NGINX_PORT" ] || die "nginx found no free port in 10 tries"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"

# wrk_rate URL SCRIPT ARG: requests/s; fails on any non-2xx or socket error.
wrk_rate() {
    out=$(wrk -t"$WRK_T" -c"$WRK_C" -d"${WRK_D}s" -s "$2" "$1" -- "$3")
    if printf '%s\n' "$out" | grep -q -e 'Non-2xx' -e 'Socket errors'; then
        printf '%s\n' "$out" >&2
        die "wrk against $1 saw errors"
    fi
    rate=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
    [ -n "$rate" ] || die "no Requests/sec in wrk's output against $1"
    echo "$rate"
}
max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }
# Warm both servers (glasslogd's tile cache, nginx's page cache), then
# alternate short rounds and keep each figure's best: the machine's speed
# drifts, and alternating keeps the drift from favouring one server.
wrk -t1 -c4 -d1s -s "$HERE/paths.lua" "$URL" -- "$T/paths" >/dev/null
wrk -t1 -c4 -d1s -s "$HERE/paths.lua" "$NGINX_URL" -- "$T/paths" >/dev/null
TILES=0 NGINX_RATE=0 INCL=0
round=0
while [ $round -lt "$WRK_ROUNDS" ]; do
    # (each wrk_rate alone in its assignment, so that set -e sees it fail)
    r=$(wrk_rate "$URL" "$HERE/paths.lua" "$T/paths")
    TILES=$(max "$TILES" "$r")
    r=$(wrk_rate "$NGINX_URL" "$HERE/paths.lua" "$T/paths")
    NGINX_RATE=$(max "$NGINX_RATE" "$r")
    r=$(wrk_rate "$URL" "$HERE/inclusion.lua" "$SIZE")
    INCL=$(max "$INCL" "$r")
    round=$((round + 1))
done
echo "bench tiles_glasslogd $TILES requests/s"
echo "bench ref_tiles_nginx $NGINX_RATE requests/s"
echo "bench ratio_tiles_vs_nginx $(ratio "$TILES" "$NGINX_RATE") ratio"
echo "bench inclusion_glasslogd $INCL requests/s"
echo "bench ratio_inclusion_vs_nginx $(ratio "$INCL" "$NGINX_RATE") ratio"

# The floor of append_cpu_per_verify: the CPU time nginx's worker spends
# per request on a 33-byte static file over keep-alive connections (wrk,
# the heavy run's connection count), the least any server spends on one
# HTTP exchange on this machine. One verify plus that exchange is the
# floor of any log taking one append per request; append_cpu_over_floor
# says how far glasslogd's CPU per append is above it.
printf 'glasslog floor reference\n\n\n\n\n\n\n\n' >"$T/www/floor"
# (the worker is the master's child: field 4 of /proc/PID/stat)
NGINX_WORKER=$(cat /proc/[0-9]*/stat 2>/dev/null |
    awk -v m="$NGINX_PID" '$2 == "(nginx)" && $4 == m { print $1; exit }')
[ -n "$NGINX_WORKER" ] || die "nginx has no worker process"
# cpu_per_request PID URL: the CPU microseconds process PID spends per
# request of one wrk run on URL, the least of WRK_ROUNDS rounds (a floor:
# the cheapest the server managed).
cpu_per_request() {
    best=""
    round=0
    while [ $round -lt "$WRK_ROUNDS" ]; do
        t0=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
        out=$(wrk -t"$WRK_T" -c"$C" -d"${WRK_D}s" "$2")
        ticks=$(($(awk '{ print $14 + $15 }' "/proc/$1/stat") - t0))
        reqs=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
        case "$reqs" in '' | *[!0-9]*) die "no request count in wrk's output for $2" ;; esac
        ! printf '%s\n' "$out" | grep -q -e 'Non-2xx' -e 'Socket errors' ||
            die "wrk saw errors from $2"
        r=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
            'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
        best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (a == "" || b < a) ? b : a }')
        round=$((round + 1))
    done
    printf '%s\n' "$best"
}
HTTP_US=$(cpu_per_request "$NGINX_WORKER" "$NGINX_URL/floor")
FLOOR_US=$(awk -v a="$VERIFY_US" -v b="$HTTP_US" 'BEGIN { printf "%.1f", a + b }')
echo "bench ref_http_request_cpu_us $HTTP_US us"
echo "bench append_cpu_floor_per_verify $(ratio "$FLOOR_US" "$VERIFY_US") ratio"
echo "bench append_cpu_over_floor $(ratio "$APPEND_US" "$FLOOR_US") ratio"
# The same for glasslogd's own exchange (h2o and libuv against nginx),
# and what is left of an append's CPU once one verify and that exchange
# are taken out: the log's own work, the part a faster log would cut.
GL_HTTP_US=$(cpu_per_request "$LOG_PID" "$URL/healthz")
echo "bench glasslogd_http_request_cpu_us $GL_HTTP_US us"
echo "bench append_cpu_log_work_us $(awk -v a="$APPEND_US" -v v="$VERIFY_US" -v h="$GL_HTTP_US" \
    'BEGIN { printf "%.1f", a - v - h }') us"

echo "bench tree_size $SIZE entries"
kill -0 "$LOG_PID" 2>/dev/null || die "glasslogd died during the run"
RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LOG_PID/status")
echo "bench rss_glasslogd_kb $RSS kB"

# --- PostgreSQL: the same appends, then reads from a second front-end ------------
fail() { die "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_OWN_TRAP=1
. "$HERE/../integration/pg.sh"
pg_init b
pg_start b
pg_sql b "CREATE DATABASE log" >/dev/null
# start_pg_log NAME [ARGS...]: glasslogd on the database; sets PG_PORT_OUT
start_pg_log() {
    name=$1
    shift
    : >"$T/$name.log"
    "$GL_BIN/glasslogd" --store "$PG_URL_b/log" --key "$T/log.key" --submitters "$T/submitters" \
        --conns-per-client 4096 --listen 127.0.0.1:0 "$@" >"$T/$name.log" 2>&1 &
    PG_STARTED=$!
    PG_PORT_OUT=""
    i=0
    while [ -z "$PG_PORT_OUT" ] && [ $i -lt 100 ]; do
        kill -0 "$PG_STARTED" 2>/dev/null || die "glasslogd on PostgreSQL exited: $(tail -5 "$T/$name.log")"
        PG_PORT_OUT=$(sed -n 's/.*serving log .*(port \([0-9]*\)).*/\1/p' "$T/$name.log")
        [ -n "$PG_PORT_OUT" ] || sleep 0.1
        i=$((i + 1))
    done
    [ -n "$PG_PORT_OUT" ] || die "glasslogd on PostgreSQL did not report its port"
}
start_pg_log glasslogd-pg --create
PG_LOG_PID=$PG_STARTED
PG_URL="http://127.0.0.1:$PG_PORT_OUT"
leads() { grep -q "took the lease (epoch" "$T/glasslogd-pg.log"; }
i=0
until leads; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "glasslogd on PostgreSQL did not take the lease"
    sleep 0.1
done
"$GL_LOADGEN" append --log "$PG_URL" --key "$T/sub.key" -n "$LIGHT_N" -c 1 \
    --log-vkey "$VKEY" --subject-prefix bench-light >/dev/null
out=$("$GL_LOADGEN" append --log "$PG_URL" --key "$T/sub.key" -n "$N" -c "$C" \
    --log-vkey "$VKEY" --subject-prefix bench-heavy)
PG_APPENDS=$(figure append_durable "$out")
echo "bench append_durable_pg $PG_APPENDS appends/s"
printf '%s\n' "$out" | sed -n 's/^bench append_p\(50\|99\)_ms /bench append_pg_p\1_ms /p'
echo "bench ratio_append_pg_vs_rocksdb $(ratio "$PG_APPENDS" "$APPENDS") ratio"
[ "$(curl -fsS "$PG_URL/checkpoint" | sed -n 2p)" = "$SIZE" ] ||
    die "the PostgreSQL log's size is not $SIZE"

# a second front-end: it serves the log from the database, does not sequence
start_pg_log glasslogd-pg-front
PG_FRONT_PID=$PG_STARTED
FRONT_URL="http://127.0.0.1:$PG_PORT_OUT"
i=0
until [ "$(curl -fsS "$FRONT_URL/checkpoint" | sed -n 2p)" = "$SIZE" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "the second front-end does not serve size $SIZE"
    sleep 0.1
done
wrk -t1 -c4 -d1s -s "$HERE/paths.lua" "$FRONT_URL" -- "$T/paths" >/dev/null
FTILES=0 FINCL=0
round=0
while [ $round -lt "$WRK_ROUNDS" ]; do
    r=$(wrk_rate "$FRONT_URL" "$HERE/paths.lua" "$T/paths")
    FTILES=$(max "$FTILES" "$r")
    r=$(wrk_rate "$FRONT_URL" "$HERE/inclusion.lua" "$SIZE")
    FINCL=$(max "$FINCL" "$r")
    round=$((round + 1))
done
echo "bench tiles_pg_frontend $FTILES requests/s"
echo "bench ratio_tiles_pg_frontend_vs_nginx $(ratio "$FTILES" "$NGINX_RATE") ratio"
echo "bench inclusion_pg_frontend $FINCL requests/s"
echo "bench ratio_inclusion_pg_frontend_vs_nginx $(ratio "$FINCL" "$NGINX_RATE") ratio"

# --- PostgreSQL: appends over both front-ends ---------------------------------------
out=$("$GL_LOADGEN" append --log "$PG_URL,$FRONT_URL" --key "$T/sub.key" -n "$N" -c "$C" \
    --log-vkey "$VKEY" --subject-prefix bench-2fe)
PG2_APPENDS=$(figure append_durable "$out")
echo "bench append_durable_pg_2fe $PG2_APPENDS appends/s"
echo "bench ratio_append_pg_2fe_vs_rocksdb $(ratio "$PG2_APPENDS" "$APPENDS") ratio"
[ "$(curl -fsS "$PG_URL/checkpoint" | sed -n 2p)" = "$((SIZE + N))" ] ||
    die "the PostgreSQL log's size is not $((SIZE + N)) after the appends over two front-ends"
