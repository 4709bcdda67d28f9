# Goal: a mirror catches up with a real glasslogd by itself (pull: the
# witness feeder pulls the checkpoint, the mirror's puller downloads
# bundles and proves each package from the log's tiles), is killed -9 in
# the middle, restarts with a durable next entry strictly between 0 and
# the log's size, resumes and finishes; its tiles and bundles then equal
# the log's byte for byte. A same-size fork signed with the log's key is
# refused by the witness (split-view evidence, the origin frozen) and its
# entries by the mirror (422); the mirror checkpoint does not move. Then
# glasslogd (--mirrors) pushes the same log to a second mirror that nobody
# else feeds (add-checkpoint, then add-entries resumed from the mirror
# info), the mirror is killed -9 in the middle, the push resumes from its
# durable next entry and ends with a cosignature the log verifies and
# then serves on its checkpoint; tiles equal again.
# Restarted at the end, the mirror opens at the log's size and serves it.
# GL_MIRROR_N sets the number of entries (default 29952, a multiple of
# 256, so the restart opens a mirror whose last tile is full and has none
# after it; it spans four of the mirror's storage commits, so each kill -9
# lands between two). Catch-up at scale is measured by make bench-mirror.
# The mirror reaches the log, and glasslogd the second mirror, through a
# delay line (tools/delayproxy.py: each request 30 ms, each push 300 ms
# late), so the rest of a catch-up takes seconds after the first
# progress line (a pull's commits come about 1.5 s apart; a push also
# pauses between its rounds' slices), far longer than the test takes to
# stop the mirror (SIGSTOP) at that line before it kills it.
. "$(dirname "$0")/lib.sh"
need_py_crypto
G="$GL_BIN/glasslog"
PY="$(dirname "$0")/mirror.py"
loadgen_tool
N=${GL_MIRROR_N:-29952}
echo "51-mirror-catchup: $N entries"

mirror_keys
WURL="http://127.0.0.1:$PORT1"
LHEX=$(printf %s example.com/log | sha256sum | cut -c1-64)

start_log "$T/data" --create --batch-ms 5
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$N" -c 8 --seed 51 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
log_size() { curl -sf "$LOG_URL/checkpoint" | sed -n 2p; }
wait_until 30 sh -c "[ \"\$(curl -sf $LOG_URL/checkpoint | sed -n 2p)\" = $N ]" ||
    fail "log size $(log_size), want $N"

start_tool pull python3 "$TOOLS/delayproxy.py" "${LOG_URL##*:}" 30
printf 'logs/v0\nvkey %s\nurl http://127.0.0.1:%s\nmirror\n' "$(cat "$T/log.key.pub")" "$TOOL_PORT" > "$T/logs"
# freeze PID FILE PATTERN: stops PID (SIGSTOP) as soon as FILE has a line
# matching PATTERN (polled every 20 ms, for up to 60 s).
freeze() {
    local end=$(($(date +%s) + 60))
    until grep -q "$3" "$2"; do
        [ "$(date +%s)" -lt "$end" ] || fail "no '$3' in 60 s: $(tail -5 "$2")"
        sleep 0.02
    done
    kill -STOP "$1"
}
start_m() {
    start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" \
        --poll-interval 1
    wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
}
mirror_size() { curl -sf "$MURL/mirror/$LHEX/checkpoint" | sed -n 2p; }
t0=$(date +%s.%N)
start_m
# kill -9 once some packages are durable (the puller's progress lines)
freeze "$WPID1" "$WOUT1" "mirror pull of example.com/log: next entry"
kill -9 "$WPID1"; wait "$WPID1" 2>/dev/null
start_m
NEXT=$(sed -n 's/.*mirror of example.com\/log: checkpoint [0-9]*, next entry \([0-9]*\).*/\1/p' "$WOUT1")
[ -n "$NEXT" ] && [ "$NEXT" -gt 0 ] && [ "$NEXT" -lt "$N" ] ||
    fail "after kill -9 the next entry is '$NEXT', want strictly between 0 and $N"
wait_until 120 sh -c "[ \"\$(curl -sf $MURL/mirror/$LHEX/checkpoint | sed -n 2p)\" = $N ]" ||
    fail "the mirror did not catch up: size $(mirror_size): $(tail -5 "$WOUT1")"
t1=$(date +%s.%N)
echo "51-mirror-catchup: pull of $N entries (with one kill -9 at $NEXT) in $(echo "$t1 - $t0" | bc) s"
grep -q "^— mirror1.example " <(curl -sf "$MURL/mirror/$LHEX/checkpoint") || fail "no mirror cosignature"
T_N=$(python3 "$PY" same-tiles "$LOG_URL" "$MURL/mirror/$LHEX") || fail "tiles differ from the log's"
echo "51-mirror-catchup: $T_N tiles and bundles equal to the log's"

# a same-size fork of the log
python3 "$PY" fork "$WURL" "$MURL" "$T/log.key" "$N" || fail "fork"
[ "$(curl -sf "$WURL/evidence" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
    fail "no split-view evidence for the fork"
[ "$(mirror_size)" = "$N" ] || fail "the mirror checkpoint moved after the fork"
stop_witness 1
start_m
[ "$(mirror_size)" = "$N" ] || fail "restarted, the mirror serves size '$(mirror_size)', want $N"
stop_witness 1

# push: glasslogd feeds a second mirror (no url: nobody else feeds it)
"$G" keygen --name mirror2.example --cosigner --out "$T/m2.key" > /dev/null || fail keygen
make_witness_keys 2
M2PORT=$(free_port)
M2URL="http://127.0.0.1:$M2PORT"
printf 'logs/v0\nvkey %s\nmirror\n' "$(cat "$T/log.key.pub")" > "$T/logs2"
# the line's name is a local label (log lines), not the key's name; tabs
# separate fields as spaces do
start_tool push python3 "$TOOLS/delayproxy.py" "$M2PORT" 300
printf 'mirror\tm2 %s\thttp://127.0.0.1:%s\n' "$(cat "$T/m2.key.pub")" "$TOOL_PORT" > "$T/mirrors"
start_m2() {
    start_witness 2 "$T/logs2" --mirror-key "$T/m2.key" --mirror-listen "127.0.0.1:$M2PORT"
    wait_until 10 curl -sf -o /dev/null "$M2URL/healthz" || fail "mirror 2 listener not up"
}
start_m2
stop_log
t0=$(date +%s.%N)
start_log "$T/data" --mirrors "$T/mirrors"
# freeze the mirror at glasslogd's first progress line, then kill -9 it
freeze "$WPID2" "$LOG_OUT" "mirror m2: next entry"
kill -9 "$WPID2"; wait "$WPID2" 2>/dev/null
start_m2
NEXT=$(sed -n 's/.*mirror of example.com\/log: checkpoint [0-9]*, next entry \([0-9]*\).*/\1/p' "$WOUT2")
[ -n "$NEXT" ] && [ "$NEXT" -gt 0 ] && [ "$NEXT" -lt "$N" ] ||
    fail "after kill -9 the pushed next entry is '$NEXT', want strictly between 0 and $N: $(grep mirror "$LOG_OUT" | tail -5)"
wait_until 120 sh -c "[ \"\$(curl -sf $M2URL/mirror/$LHEX/checkpoint | sed -n 2p)\" = $N ]" ||
    fail "the push did not complete: $(tail -5 "$LOG_OUT")"
t1=$(date +%s.%N)
echo "51-mirror-catchup: push of $N entries (with one kill -9 at $NEXT) in $(echo "$t1 - $t0" | bc) s"
wait_until 10 grep -q "mirror m2 holds the log at $N" "$LOG_OUT" ||
    fail "glasslogd did not verify the mirror's cosignature: $(tail -5 "$LOG_OUT")"
T_N=$(python3 "$PY" same-tiles "$LOG_URL" "$M2URL/mirror/$LHEX") || fail "pushed tiles differ"
# glasslogd serves the mirror's cosignature on its checkpoint
wait_until 10 sh -c "curl -sf $LOG_URL/checkpoint | grep -q '^— mirror2.example '" ||
    fail "the log's checkpoint lacks the mirror cosignature: $(curl -sf "$LOG_URL/checkpoint")"
curl -sf "$LOG_URL/checkpoint" > "$T/lck"
python3 "$PY" cosig-check "$T/lck" "$T/m2.key.pub" mirror2.example || fail "served mirror cosignature"
stop_witness 2
stop_log
echo "51-mirror-catchup: ok"
