#!/usr/bin/env bash
# bench_mirror_tiles: tile serving from a glasslog-witness mirror against
# nginx serving the same tiles (written by `glasslog mirror-dir`), both
# measured with wrk in the same run over the same list of full tile and
# bundle paths. A glasslogd (in memory) gets N entries, the mirror pulls
# them, mirror-dir copies them. The two servers take turns, ROUNDS times
# each (on a shared machine the load changes from second to second), and
# the median of each is compared. Prints "bench <name> <value> <unit>"
# lines and the ratio (target >= 1.0).
# Usage: GL_BIN=bin GL_LOADGEN=.../loadgen tests/bench/bench_mirror_tiles.sh [N] [SECONDS] [CONNS] [ROUNDS]
set -eu
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
: "${GL_LOADGEN:?GL_LOADGEN must name the loadgen binary}"
N=${1:-20000} SECONDS_RUN=${2:-5} CONNS=${3:-32} ROUNDS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
G="$GL_BIN/glasslog"
command -v wrk > /dev/null || { echo "bench_mirror_tiles: wrk is not installed" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench_mirror_tiles: nginx is not installed" >&2; exit 1; }
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() { # LOGFILE: the "(port N)" of a daemon
    local p="" i
    for i in $(seq 200); do
        p=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$1" | head -1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    echo "bench_mirror_tiles: no port in $1: $(tail -3 "$1")" >&2; exit 1
}

"$G" keygen --name bench.example/log --out "$T/log.key" > /dev/null
"$G" keygen --name ci.example --out "$T/sub.key" > "$T/submitters"
"$G" keygen --name bench.example/witness --cosigner --out "$T/w.key" > /dev/null
"$G" keygen --name bench.example/mirror --cosigner --out "$T/m.key" > /dev/null
"$GL_BIN/glasslogd" --store mem: --create --key "$T/log.key" --submitters "$T/submitters" \
    --listen 127.0.0.1:0 --web none > /dev/null 2> "$T/log.err" &
PIDS="$PIDS $!"
LOG="http://127.0.0.1:$(waitport "$T/log.err")"
"$GL_LOADGEN" append --log "$LOG" --key "$T/sub.key" -n "$N" -c 8 --seed 7 > /dev/null 2> "$T/lg.err"
MPORT=$(port)
printf 'logs/v0\nvkey %s\nurl %s\nmirror\n' "$(cat "$T/log.key.pub")" "$LOG" > "$T/logs"
"$GL_BIN/glasslog-witness" --listen 127.0.0.1:0 --data "$T/wd" --create --key "$T/w.key" \
    --logs "$T/logs" --mirror-key "$T/m.key" --mirror-listen "127.0.0.1:$MPORT" \
    --mirror-conns $((CONNS + 8)) --mirror-conns-per-client $((CONNS + 8)) \
    --poll-interval 1 > /dev/null 2> "$T/w.err" &
PIDS="$PIDS $!"
waitport "$T/w.err" > /dev/null
HEX=$(printf %s bench.example/log | sha256sum | cut -c1-64)
MURL="http://127.0.0.1:$MPORT/mirror/$HEX"
for _ in $(seq 600); do
    [ "$(curl -sf "$MURL/checkpoint" | sed -n 2p)" = "$N" ] && break
    sleep 0.1
done
[ "$(curl -sf "$MURL/checkpoint" | sed -n 2p)" = "$N" ] || { echo "bench_mirror_tiles: the mirror did not catch up" >&2; exit 1; }
"$G" mirror-dir --log "$LOG" --log-vkey "@$T/log.key.pub" --dir "$T/www" > /dev/null

NPORT=$(port)
mkdir -p "$T/nginx"
cat > "$T/nginx.conf" <<CONF
daemon off;
master_process off;
pid $T/nginx/pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $T/nginx/body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $T/www;
        location /tile/ {
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }
    }
}
CONF
"$NGINX" -c "$T/nginx.conf" -p "$T/nginx" > /dev/null 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$NPORT/tile/0/000" && break; sleep 0.05; done

# the same full tiles and bundles, as absolute paths for each server
python3 - "$N" "$HEX" "$T" <<'PY'
import sys
n, hexo, t = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def path(level, index, entries):
    s = "%03d" % (index % 1000); index //= 1000
    while index > 0:
        s = "x%03d/" % (index % 1000) + s; index //= 1000
    return ("tile/entries/" if entries else "tile/%d/" % level) + s
paths = [path(0, i, e) for i in range(n // 256) for e in (False, True)]
open(t + "/paths.nginx", "w").write("".join("/%s\n" % p for p in paths))
open(t + "/paths.mirror", "w").write("".join("/mirror/%s/%s\n" % (hexo, p) for p in paths))
PY
run() { # NAME URL PATHS
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" -s "$HERE/paths.lua" "$2" -- "$3" > "$T/wrk.$1" 2>&1
    if grep -q "Non-2xx\|Socket errors" "$T/wrk.$1"; then
        echo "bench_mirror_tiles: $1: errors: $(cat "$T/wrk.$1")" >&2; exit 1
    fi
    sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T/wrk.$1"
}
median() { python3 -c 'import sys, statistics; print(statistics.median(float(a) for a in sys.argv[1:]))' "$@"; }
MS="" XS=""
for _ in $(seq "$ROUNDS"); do
    MS="$MS $(run mirror "http://127.0.0.1:$MPORT" "$T/paths.mirror")"
    XS="$XS $(run nginx "http://127.0.0.1:$NPORT" "$T/paths.nginx")"
done
echo "bench_mirror_tiles: mirror:$MS; nginx:$XS requests/s" >&2
# shellcheck disable=SC2086 # one argument per round
M=$(median $MS) X=$(median $XS)
echo "bench mirror_tiles $M requests/s"
echo "bench mirror_tiles_nginx $X requests/s"
echo "bench mirror_tiles_vs_nginx $(python3 -c "print('%.3f' % ($M / $X))") ratio"
