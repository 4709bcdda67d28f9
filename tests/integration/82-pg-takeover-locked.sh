# Goal: a takeover is not held up by an expired holder's transaction that
# keeps the state row locked. A sequencer paused (or whose machine
# vanished) while it sent a statement of its commit holds the row with no
# idle-in-transaction timeout to end it; the next sequencer must end that
# transaction itself. Here a session stands in for such a holder: it is
# named as a glasslogd's sessions are (application_name "NAME TAG": the
# connection string's name, then the process's tag),
# the lease row names a holder whose name ends with TAG and has expired,
# and the session holds the state row locked (pg_sleep 60). Front-end B
# then starts and must take the lease within a few seconds and log an
# append; the stand-in's session is ended ("administrator command"), and
# the takeover ends nothing else: a session of the same name holding no
# lock on the state, and one of another glasslogd's name holding a lock on
# the state table (not its row), are still there. B's own sessions carry
# its tag, and its lease row ends with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
pg_leader
for k in 1 2; do
    statement "locked-$k" 1.0 > "$T/st.$k" || fail "sign $k"
    code=$(curl -s -m 20 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st.$k" "$URL_A/api/v1/add")
    [ "$code" = 200 ] || fail "append $k through A: $code $(cat "$T/r")"
done
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log

TAG=0123456789abcdef
OTHER=fedcba9876543210
# sleeper NAME APP SQL: a session named APP that runs SQL, then sleeps 60 s
# inside its transaction; its psql's PID in SLEEPER_NAME
sleeper() {
    PGAPPNAME="$2" PG_DB=log pg_sql a "BEGIN; $3; SELECT pg_sleep(60); COMMIT" \
        > "$T/$1.out" 2> "$T/$1.err" &
    eval "SLEEPER_$1=$!"
    PIDS="$PIDS $!"
}
sleeper ghost "front-a $TAG" "UPDATE glasslog_state SET size = size WHERE id = 1"
sleeper same "front-a $TAG" "SELECT txid_current()"
sleeper other "front-a $OTHER" "SELECT txid_current(); UPDATE glasslog_state SET size = size WHERE false"
locked() { ! PG_DB=log pg_sql a "SELECT 1 FROM glasslog_state WHERE id = 1 FOR UPDATE NOWAIT" > /dev/null 2>&1; }
wait_until 30 locked || fail "the stand-in did not lock the state row: $(cat "$T/ghost.err")"
# sessions NAME: how many sessions named NAME are inside a transaction
sessions() {
    PG_DB=log pg_sql a "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'
      AND backend_xid IS NOT NULL"
}
three() { [ "$(sessions "front-a $TAG")" = 2 ] && [ "$(sessions "front-a $OTHER")" = 1 ]; }
wait_until 30 three || fail "the sleeping sessions did not start"
PG_DB=log pg_sql a "UPDATE glasslog_lease SET holder = 'ghost/1/127.0.0.1:9 $TAG',
  expires = clock_timestamp() - interval '1 s'" || fail "cannot set the expired lease"

t0=$(date +%s%N)
DB="$DB?application_name=front-b" pg_front B
wait_until 5 pg_leads "$OUT_B" || fail "B did not take the lease from the expired holder: $(tail -5 "$OUT_B")"
statement "locked-3" 1.0 > "$T/st.3" || fail "sign 3"
code=$(curl -s -m 20 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st.3" "$URL_B/api/v1/add")
[ "$code" = 200 ] || fail "append through B: $code $(cat "$T/r")"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")" = 3 ] || fail "the stored size is not 3"
grep -q "ended 1 session(s) of the expired lease holder" "$OUT_B" ||
    fail "B did not log the session it ended: $(cat "$OUT_B")"

wait "$SLEEPER_ghost" && fail "the stand-in's transaction was not ended"
grep -q "administrator command" "$T/ghost.err" || fail "the stand-in ended otherwise: $(cat "$T/ghost.err")"
[ "$(sessions "front-a $TAG")" = 1 ] || fail "the stand-in's other session, without a lock on the state, was ended"
[ "$(sessions "front-a $OTHER")" = 1 ] || fail "another glasslogd's session was ended"
kill -0 "$SLEEPER_same" "$SLEEPER_other" 2>/dev/null || fail "a bystander's psql exited"

# B's sessions carry its tag, the end of its name in the lease row
btag=$(PG_DB=log pg_sql a "SELECT right(holder, 16) FROM glasslog_lease")
case "$btag" in "$TAG" | *[!0-9a-f]*) fail "B's lease name ends with '$btag'" ;; esac
[ "$(PG_DB=log pg_sql a "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'front-b $btag'")" = t ] ||
    fail "no session of B is named 'front-b $btag' (its connection string's name and its tag)"
PG_DB=log pg_sql a "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
  WHERE application_name IN ('front-a $TAG', 'front-a $OTHER')" > /dev/null
LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
echo "82-pg-takeover-locked: B took over from an expired holder holding the state row locked and logged an append in $ms ms: ok"
