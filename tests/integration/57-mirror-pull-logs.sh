# Goal: one mirror pulls two logs (glasslogd A and B, different origins,
# the same number of entries), so their hash tiles have the same
# coordinates and widths; B is reached through a proxy that inverts every
# byte of the first hash tile it serves, once. Asserted: B's first upload
# with the wrong tile is refused (422), and the next rounds fetch the tile
# again (the puller keeps no tile of a log after a refused round) and
# catch B up; neither log is ever proven with the other's tiles (the
# puller's tile cache is keyed by origin); both mirror checkpoints reach
# the logs' size and serve the logs' tiles byte for byte. A is pulled
# from a static copy at 600 that no longer serves tile/0/002.p/88 and
# tile/entries/002.p/88 (A grew to 800, so tile 002 is full there, and
# tlog-tiles lets a copy drop the partial tiles): the puller reads them
# from the full tiles' prefixes.
. "$(dirname "$0")/lib.sh"
need_py_crypto
G="$GL_BIN/glasslog"
PY="$(dirname "$0")/mirror.py"
loadgen_tool
# 600 entries: tiles 0/002.p/88 and 1/000.p/2 in both logs
N=600
hexof() { printf %s "$1" | sha256sum | cut -c1-64; }

mirror_keys
"$G" keygen --name example.com/log2 --out "$T/log2.key" > /dev/null || fail keygen
AM="$MURL/mirror/$(hexof example.com/log)"
BM="$MURL/mirror/$(hexof example.com/log2)"

start_log "$T/data" --create --batch-ms 2 || fail "start log A"
A_URL=$LOG_URL
spawn glasslogd2 "$GL_BIN/glasslogd" --data "$T/data2" --create --key "$T/log2.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --batch-ms 2 || fail "start log B"
B_URL=$SPAWN_URL B_PID=$SPAWN_PID
for u in "$A_URL" "$B_URL"; do
    "$LOADGEN" append --log "$u" --key "$T/sub.key" -n "$N" -c 4 --seed 57 > "$T/lg.out" 2> "$T/lg.err" ||
        fail "loadgen: $(tail -3 "$T/lg.err")"
    wait_until 30 sh -c "[ \"\$(curl -sf $u/checkpoint | sed -n 2p)\" = $N ]" ||
        fail "log $u did not reach $N"
done
"$G" mirror-dir --log "$A_URL" --log-vkey "@$T/log.key.pub" --dir "$T/adir" > /dev/null 2>&1 ||
    fail "mirror-dir of A"
"$LOADGEN" append --log "$A_URL" --key "$T/sub.key" -n 200 -c 4 --seed 570 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
wait_until 30 sh -c "[ \"\$(curl -sf $A_URL/checkpoint | sed -n 2p)\" = 800 ]" || fail "log A did not reach 800"
for p in 0/002 entries/002; do
    curl -fsS -o "$T/adir/tile/$p" "$A_URL/tile/$p" && rm "$T/adir/tile/$p.p/88" || fail "copying tile $p"
done
APORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$T/adir" "$APORT" > "$T/static.out" 2>&1 &
PIDS="$PIDS $!"
A_STATIC="http://127.0.0.1:$APORT"
spawn tileproxy python3 "$PY" tile-proxy "$B_URL" || fail "tile proxy"
PROXY_OUT=$SPAWN_OUT PROXY_PID=$SPAWN_PID
B_VIA=$SPAWN_URL
wait_until 30 curl -sf -o /dev/null "$A_STATIC/checkpoint" || fail "python http.server for A's copy"

{
    echo logs/v0
    printf 'vkey %s\nurl %s\nmirror\n' "$(cat "$T/log.key.pub")" "$A_STATIC"
    printf 'vkey %s\nurl %s\nmirror\n' "$(cat "$T/log2.key.pub")" "$B_VIA"
} > "$T/logs"
start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" \
    --poll-interval 1
size_of() { curl -sf "$1/checkpoint" | sed -n 2p; }
wait_until 60 sh -c "[ \"\$(curl -sf $AM/checkpoint | sed -n 2p)\" = $N ] &&
    [ \"\$(curl -sf $BM/checkpoint | sed -n 2p)\" = $N ]" ||
    fail "mirror sizes A '$(size_of "$AM")' B '$(size_of "$BM")', want $N: $(grep 'mirror pull' "$WOUT1" | tail -4)"
grep -q "^corrupted /tile/" "$PROXY_OUT" || fail "the proxy never served a wrong tile"
# refused once, for the wrong tile (a tile of A's would be refused too)
R=$(grep -c "mirror pull of example.com/log2 at [0-9]* refused" "$WOUT1")
[ "$R" = 1 ] && grep -q "mirror pull of example.com/log2 at [0-9]* refused (422)" "$WOUT1" ||
    fail "B refused $R times, want once (422): $(grep 'mirror pull' "$WOUT1" | tail -4)"
grep -q "mirror pull of example.com/log at [0-9]* refused" "$WOUT1" &&
    fail "log A was refused: $(grep 'mirror pull of example.com/log ' "$WOUT1" | tail -3)"
python3 "$PY" same-tiles "$A_URL" "$AM" > /dev/null || fail "A's tiles differ from the log's"
for p in 0/002 entries/002; do
    grep -q "GET /tile/$p.p/88 HTTP/1.[01]\" 404" "$T/static.out" &&
        grep -q "GET /tile/$p HTTP/1.[01]\" 200" "$T/static.out" ||
        fail "A's copy was not read from the full tile $p: $(grep GET "$T/static.out" | tail -5)"
done
python3 "$PY" same-tiles "$B_URL" "$BM" > /dev/null || fail "B's tiles differ from the log's"
stop_witness 1
stop_log
kill -TERM "$B_PID" && wait "$B_PID" || fail "log B exited $? on SIGTERM"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
echo "57-mirror-pull-logs: ok"
