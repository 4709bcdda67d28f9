# Goal: durability under kill -9. While the load generator appends over
# eight connections (logging every acknowledged entry, --ack-log) and a
# watcher records every checkpoint the log serves, glasslogd is killed with
# SIGKILL at a random moment, GL_CRASH_CYCLES times (5 by default; `make
# soak` runs 20). After each restart: every acknowledged append is at its
# acknowledged index in the tree the log's checkpoint signs, and every
# checkpoint seen before is consistent with it (both checked with
# independent code, tlog.py); at the end the tiles still match. Prints one
# line per cycle and a total.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
PY="python3 $(dirname "$0")/tlog.py"
CYCLES=${GL_CRASH_CYCLES:-5}
case "${GL_BUILD:-}" in *asan*) PER=${GL_CRASH_APPENDS:-5000} ;; *) PER=${GL_CRASH_APPENDS:-20000} ;; esac
make_keys
loadgen_tool
start_log "$T/data" --create --batch-ms 2
: > "$T/acks"
: > "$T/seen"

# watcher: records "size root" of each checkpoint served.
watcher() {
    while curl -sf "$LOG_URL/checkpoint" > "$T/w.ck" 2>/dev/null; do
        printf '%s %s\n' "$(sed -n 2p "$T/w.ck")" "$(sed -n 3p "$T/w.ck")" >> "$T/seen"
        sleep 0.02
    done
}

acks_now() { wc -l < "$T/acks"; }
acked_beyond() { [ "$(acks_now)" -gt "$1" ]; }
t0=$(date +%s)
for cycle in $(seq "$CYCLES"); do
    before=$(acks_now)
    # PER statements: more than the log takes before the kill (if it takes
    # them all, the kill hits an idle log: still a valid cycle).
    "$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$PER" -c 8 --seed "$cycle$RANDOM" \
        --subject-prefix "cycle$cycle" --ack-log "$T/acks" --log-vkey "@$T/log.key.pub" \
        --timeout 2 > "$T/lg.out" 2> "$T/lg.err" &
    lg=$!
    watcher & wp=$!
    PIDS="$PIDS $lg $wp"
    # The random moment counts from the first acknowledged append (the
    # generator signs its statements first).
    wait_until 120 acked_beyond "$before" || fail "cycle $cycle: nothing acknowledged"
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + (r % 100) / 50 }')"
    kill -9 "$LOG_PID"
    wait "$LOG_PID" 2>/dev/null
    wait "$wp"
    wait "$lg"
    rc=$?
    # 0: all appended; 3: some given up on (the log died). 2 would be a
    # wrong leaf hash, a bad proof or an index given twice.
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "cycle $cycle: loadgen exited $rc: $(tail -5 "$T/lg.err")"
    start_log "$T/data" --batch-ms 2 || fail "restart after kill -9 failed: $(cat "$LOG_OUT")"
    $PY check-acks "$LOG_URL" "$T/acks" > "$T/chk.acks" ||
        fail "cycle $cycle: an acknowledged append was lost"
    $PY check-consistent "$LOG_URL" "$T/seen" > "$T/chk.seen" ||
        fail "cycle $cycle: a checkpoint seen before is inconsistent with the tree"
    size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
    echo "cycle $cycle: $(($(acks_now) - before)) appends acknowledged, log size $size;" \
        "$(sed -n 's/checked //p' "$T/chk.acks"), $(sed -n 's/checked //p' "$T/chk.seen") checked"
done
$PY check-tiles "$LOG_URL" || fail "tiles after the crashes"
stop_log
echo "03-log-crash: $CYCLES kill -9 cycles, $(acks_now) acknowledged appends all at their" \
    "index, $(sort -u "$T/seen" | wc -l) distinct checkpoints seen all consistent," \
    "$(($(date +%s) - t0)) s: ok"
