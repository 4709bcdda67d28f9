# Goal: a stale sequencer cannot publish. Two glasslogd share one
# PostgreSQL log under load; the one holding the sequencer lease is paused
# (SIGSTOP) for three lease lengths, so the other takes the lease (a new
# epoch), then resumed (SIGCONT). The resumed one must not publish: its
# next commit fails the compare-and-set (the state's epoch moved on) or
# its lease renewal fails first; either way it logs that it follows, the
# stored epoch stays the new holder's, and nothing inconsistent is ever
# served: every checkpoint either front-end served (watched throughout)
# is consistent with the final tree, and every acknowledged entry is at
# its index (tlog.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
. "$(dirname "$0")/pg.sh"
PY="python3 $(dirname "$0")/tlog.py"
case "${GL_BUILD:-}" in *asan*) N=1000 ;; *) N=4000 ;; esac
LEASE_MS=1000
make_keys
loadgen_tool
pg_log_db

watcher() { # watcher NAME URL: "size root" of each checkpoint served
    : > "$T/seen.$1"
    while curl -sf -m 5 "$2/checkpoint" > "$T/w.$1" 2>/dev/null || kill -0 "$3" 2>/dev/null; do
        [ -s "$T/w.$1" ] &&
            printf '%s %s\n' "$(sed -n 2p "$T/w.$1")" "$(sed -n 3p "$T/w.$1")" >> "$T/seen.$1"
        : > "$T/w.$1"
        sleep 0.05
    done
}
load() { # load NAME SEED URL
    "$LOADGEN" append --log "$3" --key "$T/sub.key" -n "$N" -c 8 --seed "$2$RANDOM" \
        --subject-prefix "st$1" --ack-log "$T/acks.$1" --log-vkey "@$T/log.key.pub" \
        --timeout 20 > "$T/lg.$1.out" 2> "$T/lg.$1.err"
}
pg_two_fronts
: > "$T/acks.A"
: > "$T/acks.B"
load A 1 "$URL_A" & la=$!
load B 2 "$URL_B" & lb=$!
watcher A "$URL_A" "$la" & wa=$!
watcher B "$URL_B" "$lb" & wb=$!
PIDS="$PIDS $wa $wb $la $lb"
enough() { [ "$(cat "$T/acks.A" "$T/acks.B" | wc -l)" -gt "$((N / 4))" ]; }
wait_until 120 enough || fail "too few appends acknowledged: $(tail -n 3 "$OUT_A" "$OUT_B")"

epoch_a=$(PG_DB=log pg_sql a "SELECT epoch FROM glasslog_state")
kill -STOP "$PID_A"
wait_until 30 pg_leads "$OUT_B" || { kill -CONT "$PID_A"; fail "B did not take over from the paused A: $(tail -5 "$OUT_B")"; }
sleep "$(awk -v l=$LEASE_MS 'BEGIN { print 3 * l / 1000 }')"
epoch_b=$(PG_DB=log pg_sql a "SELECT epoch FROM glasslog_state")
[ "$epoch_b" -gt "$epoch_a" ] || fail "the takeover did not raise the epoch ($epoch_a -> $epoch_b)"
size_paused=$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")
kill -CONT "$PID_A"
follows() { grep -Eq "lost the lease|batch of [0-9]+ refused: another sequencer" "$1"; }
wait_until 20 follows "$OUT_A" || fail "the resumed A does not say it follows: $(tail -5 "$OUT_A")"
how=$(grep -Eo "lost the lease|batch of [0-9]+ refused" "$OUT_A" | head -1)
wait "$la"; rca=$?
wait "$lb"; rcb=$?
for rc in $rca $rcb; do
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "a load generator exited $rc: $(tail -3 "$T/lg.A.err" "$T/lg.B.err")"
done
kill "$wa" "$wb" 2>/dev/null
wait "$wa" "$wb" 2>/dev/null
# the stale sequencer published nothing: the epoch is still B's, and B
# still holds the lease
[ "$(PG_DB=log pg_sql a "SELECT epoch FROM glasslog_state")" = "$epoch_b" ] ||
    fail "the state's epoch changed after A resumed"
grep -c "took the lease (epoch" "$OUT_A" | grep -qx 1 || { grep -E "lease|refused" "$OUT_A" | tr "\n" "|"; fail "A took the lease again"; }

cat "$T/acks.A" "$T/acks.B" > "$T/acks"
cat "$T/seen.A" "$T/seen.B" > "$T/seen"
awk 'NF != 2 { print FILENAME ": " $0; bad = 1 } END { exit bad }' "$T/seen.A" "$T/seen.B" ||
    fail "a checkpoint served without its size or root"
for u in "$URL_A" "$URL_B"; do
    $PY check-acks "$u" "$T/acks" > "$T/chk" || { cat "$T/chk"; fail "acknowledged entries lost ($u)"; }
    $PY check-consistent "$u" "$T/seen" > "$T/chk.seen" || fail "an inconsistent checkpoint was served ($u)"
done
$PY check-tiles "$URL_B" || fail "tiles"
size=$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")
echo "63-pg-stale: A paused $((3 * LEASE_MS)) ms past B's takeover (epoch $epoch_a -> $epoch_b," \
    "size $size_paused), resumed: \"$how\", published nothing; $(wc -l < "$T/acks") acknowledged," \
    "lost 0; $(sort -u "$T/seen" | wc -l) checkpoints served, all consistent; size $size: ok"
