# Goal: glasslogd refuses to start on damaged tiles, naming the tile. A log
# of 1000 entries (full tiles 0/000..0/002, partial tiles 0/003.p/232 and
# 1/000.p/3) is stopped; copies of its data directory get one damage each,
# made with the log's own store module (tools/tiletool.c): a flipped byte
# in a full tile and in each partial tile, a truncated full and partial
# tile, a missing full and partial tile. glasslogd must exit non-zero with
# a message naming the damaged tile (its C2SP path), for every copy; the
# undamaged original still starts, and serves tiles equal to an
# independent recomputation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
PY="python3 $(dirname "$0")/tlog.py"
TILETOOL=${GL_BUILD:-build}/tests/integration/tools/tiletool
case "$TILETOOL" in /*) ;; *) TILETOOL="$ROOT/$TILETOOL" ;; esac
[ -x "$TILETOOL" ] || fail "no tiletool at $TILETOOL (make test-build makes it)"
make_keys
loadgen_tool
start_log "$T/data" --create --batch-ms 5
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 1000 -c 8 > "$T/lg.out" 2>&1 ||
    fail "loadgen: $(tail -3 "$T/lg.out")"
[ "$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)" = 1000 ] || fail "the log does not have 1000 entries"
stop_log

# damaged NAME WANT TOOL-ARGS...: a copy of the store damaged by tiletool
# must be refused with a message containing WANT.
damaged() {
    local name=$1 want=$2 level=$4 index=$5
    shift 2
    rm -rf "$T/copy"
    cp -a "$T/data" "$T/copy" || fail "copy"
    "$TILETOOL" "$T/data" get "$level" "$index" > "$T/before" || fail "$name: tiletool get"
    "$TILETOOL" "$T/copy" "$@" || fail "$name: tiletool $*"
    if [ "$1" != delete ]; then
        "$TILETOOL" "$T/copy" get "$level" "$index" > "$T/after" || fail "$name: tiletool get"
        cmp -s "$T/before" "$T/after" && fail "$name: the tile did not change"
    elif "$TILETOOL" "$T/copy" get "$level" "$index" > /dev/null 2>&1; then
        fail "$name: the tile is still there"
    fi
    if start_log "$T/copy"; then
        fail "$name: glasslogd started on a damaged store"
    fi
    grep -q "refusing to start" "$LOG_OUT" && grep -qF -- "$want" "$LOG_OUT" ||
        fail "$name: the refusal does not name $want: $(cat "$LOG_OUT")"
    echo "$name: refused: $(grep -o 'tiles do not match.*' "$LOG_OUT")"
}

damaged "flipped byte in a full tile" "tile/0/001 does not hash" flip 0 1 4000
damaged "flipped byte in the first full tile" "tile/0/000 does not hash" flip 0 0 0
damaged "flipped byte in the level-0 partial tile" "(tile/0/003.p/232 tile/1/000.p/3) do not" \
    flip 0 3 100
damaged "flipped byte in the level-1 partial tile" "(tile/0/003.p/232 tile/1/000.p/3) do not" \
    flip 1 0 95
damaged "truncated full tile" "tile/0/000 is 8160 bytes long" truncate 0 0 8160
damaged "truncated partial tile" "tile/0/003.p/232 is short" truncate 0 3 7392
damaged "missing full tile" "tile/0/002 is missing" delete 0 2
damaged "missing partial tile" "tile/1/000.p/3 is missing" delete 1 0

start_log "$T/data" || fail "the undamaged store does not start: $(cat "$LOG_OUT")"
$PY check-tiles "$LOG_URL" || fail "tiles of the undamaged store"
stop_log
echo "07-log-corrupt-tile: ok"
