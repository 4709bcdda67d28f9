# Goal: durability under kill -9. While parallel clients append and a
# watcher records every checkpoint the log serves, glasslogd is killed with
# SIGKILL at a random moment, three times. After each restart: every
# acknowledged append is present at its acknowledged index, every
# checkpoint seen before the kill is consistent with the tree after the
# restart (verified with independent code), and the tiles still match.
. "$(dirname "$0")/lib.sh"
PY="python3 $(dirname "$0")/tlog.py"
make_keys
start_log "$T/data" --create --batch-ms 2
: > "$T/acks"
: > "$T/seen"

# client N: appends until the log dies; each acknowledged index is logged.
client() {
    local n=$1 i=0
    while :; do
        i=$((i + 1))
        append_one "c$n-$ROUND" "$i" --timeout 1 > "$T/c$n.out" 2>/dev/null || return 0
        printf '%s %s\n' "$(sed -n 's/^index //p' "$T/c$n.out")" \
            "$(sed -n 's/^leaf_hash //p' "$T/c$n.out")" >> "$T/acks"
    done
}

# watcher: records "size root" of each checkpoint served.
watcher() {
    while curl -sf "$LOG_URL/checkpoint" > "$T/w.ck" 2>/dev/null; do
        printf '%s %s\n' "$(sed -n 2p "$T/w.ck")" "$(sed -n 3p "$T/w.ck")" >> "$T/seen"
        sleep 0.02
    done
}

for ROUND in 1 2 3; do
    pids=""
    for n in 1 2 3 4; do client "$n" & pids="$pids $!"; done
    watcher & pids="$pids $!"
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1 + (r % 100) / 50 }')"
    kill -9 "$LOG_PID"
    wait "$LOG_PID" 2>/dev/null
    for p in $pids; do wait "$p"; done
    [ -s "$T/acks" ] || fail "round $ROUND: no append was acknowledged"
    start_log "$T/data" --batch-ms 2 || fail "restart after kill -9 failed: $(cat "$LOG_OUT")"
    $PY check-acks "$LOG_URL" "$T/acks" || fail "round $ROUND: an acknowledged append was lost"
    $PY check-consistent "$LOG_URL" "$T/seen" || fail "round $ROUND: inconsistent checkpoint"
done
$PY check-tiles "$LOG_URL" || fail "tiles after the crashes"
stop_log
echo "03-log-crash: $(wc -l < "$T/acks") acknowledged appends survived 3 kills: ok"
