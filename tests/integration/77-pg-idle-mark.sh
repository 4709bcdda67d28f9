# Goal: the front-ends of an idle PostgreSQL log whose stored state has
# no durable mark under the current epoch (its sequencer died between its
# COMMIT and the mark, the mark failed, or a new sequencer took the lease)
# serve its tree without waiting for a new append: the sequencer, on
# taking the lease, makes the stored state durable (a commit whose wait
# covers it) and marks it itself; and until then it serves nothing of it.
# 1. A creates the log and logs three entries, then stops (giving the
#    lease up), and the mark is removed (as if A died before marking). A
#    starts again and takes the lease; a follower C started after it
#    serves the tree of size 3 (/checkpoint and /healthz 200) within a
#    few seconds, with no append. A mark lost while A holds the lease
#    (removed again) is written again at A's next lease renewal.
# 2. Both stop, the mark is removed again, and another session holds
#    locked, for 3 s, the row the sequencer's durable commit writes (as a
#    commit waiting for a synchronous standby would wait). B starts alone,
#    with a witness that has cosigned nothing, and takes the lease: while
#    that commit waits, B serves no tree (503 on /checkpoint and /healthz)
#    and its start-up probe has shown the witness no checkpoint beyond
#    the marked state (none: the witness holds size 0, not the stored 3);
#    then B serves the tree of size 3, marked under its epoch, and the
#    witness cosigns it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
pg_leader
for k in 1 2 3; do
    statement "idle-$k" 1.0 > "$T/st.$k" || fail "sign $k"
    code=$(curl -s -m 20 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st.$k" "$URL_A/api/v1/add")
    [ "$code" = 200 ] || fail "append $k through A: $code $(cat "$T/r")"
done
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
unmark() {
    PG_DB=log pg_sql a "UPDATE glasslog_state SET durable_epoch = -1" || fail "cannot unmark"
}
unmark
[ "$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")" = 3 ] || fail "stored size is not 3"

# serves URL SIZE: URL answers /checkpoint 200 with the tree of SIZE
serves() { [ "$(curl -sf -m 2 "$1/checkpoint" | sed -n 2p)" = "$2" ]; }
pg_front A
wait_until 10 pg_leads "$OUT_A" || fail "A did not take the lease again: $(cat "$OUT_A")"
LEASE_MS=600000 pg_front C
wait_until 20 serves "$URL_C" 3 ||
    fail "follower C does not serve the idle log's tree: $(curl -s "$URL_C/checkpoint"); A: $(cat "$OUT_A")"
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL_C/healthz")
[ "$code" = 200 ] || fail "C serving the tree: /healthz $code $(cat "$T/body")"
serves "$URL_A" 3 || fail "A does not serve size 3: $(curl -s "$URL_A/checkpoint")"
unmark
remarked() { [ "$(PG_DB=log pg_sql a "SELECT durable, durable_epoch = epoch FROM glasslog_state")" = "3|t" ]; }
wait_until 15 remarked || fail "A did not mark its tree again: $(PG_DB=log pg_sql a "SELECT durable, durable_epoch, epoch FROM glasslog_state")"
grep -q "the released tree of size 3 is not marked durable under epoch" "$OUT_A" ||
    fail "A did not log its new mark: $(cat "$OUT_A")"
for fe in C A; do
    LOG_PID=$(eval echo "\$PID_$fe") LOG_OUT=$(eval echo "\$OUT_$fe") stop_log
done

# 2. A takeover serves nothing before its durable commit went through.
unmark
one_witness
# wsize: the size the witness holds for the log (its monitoring endpoint)
wsize() { curl -s -m 2 "http://127.0.0.1:$PORT1/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint" | sed -n 2p; }
# The lock is held until cancelled below (its transaction then rolls back).
PGAPPNAME=locker PG_DB=log pg_sql a "BEGIN; SELECT 1 FROM glasslog_meta WHERE k = 'vkey' FOR UPDATE;
  SELECT pg_sleep(120); COMMIT" > /dev/null 2>&1 &
LOCK_PID=$!
PIDS="$PIDS $LOCK_PID"
locked() { ! PG_DB=log pg_sql a "SELECT 1 FROM glasslog_meta WHERE k = 'vkey' FOR UPDATE NOWAIT" > /dev/null 2>&1; }
wait_until 20 locked || fail "the vkey row was not locked"
pg_front B --witnesses "$T/witnesses" --witness-mode fail-open
wait_until 30 pg_leads "$OUT_B" || fail "B did not take the lease: $(cat "$OUT_B")"
[ "$(wsize)" = 0 ] || fail "B's start-up probe showed the witness size $(wsize), not the marked state (none)"
for p in /checkpoint /healthz; do
    code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL_B$p")
    [ "$code" = 503 ] || fail "B, its durable commit waiting, answers $p $code: $(cat "$T/body")"
done
locked || fail "the lock ended before B was checked"
PG_DB=log pg_sql a "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" |
    grep -qx t || fail "cannot cancel the locking session"
wait "$LOCK_PID" # cancelled: it fails, its transaction rolled back, the lock free
wait_until 20 serves "$URL_B" 3 || fail "B does not serve size 3 after the lock: $(curl -s "$URL_B/checkpoint")"
[ "$(PG_DB=log pg_sql a "SELECT durable, durable_epoch = epoch FROM glasslog_state")" = "3|t" ] ||
    fail "B did not mark size 3 under its epoch: $(PG_DB=log pg_sql a "SELECT durable, durable_epoch, epoch FROM glasslog_state")"
grep -q "the stored tree of size 3 is durable, marked so for the followers" "$OUT_B" ||
    fail "B did not log its mark: $(cat "$OUT_B")"
wcosigned() { [ "$(wsize)" = 3 ]; }
wait_until 20 wcosigned || fail "the witness holds size $(wsize), not B's 3"
LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
stop_witness 1
echo "77-pg-idle-mark: an idle log without a mark is marked by its sequencer: ok"
