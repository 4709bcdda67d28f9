# Goal: a follower front-end of a PostgreSQL log never takes a stored tree
# that does not extend the one it served. A sequences, B1 and B2 follow
# (their lease attempts 100 s apart, so neither takes over during the
# test); three entries are logged and both followers serve size 3. Then
# the database loses the last two (as an asynchronous standby promoted
# without them would): A is stopped, the rows go back to size 1, and a
# fresh front-end C takes the lease and logs three other entries (size 4,
# another history). B1 watched throughout: it sees the smaller tree; B2
# was paused (SIGSTOP) meanwhile: it sees only the larger tree of the
# other history. Both must say released data was lost, keep serving
# their size-3 checkpoint (never C's), and answer appends 503 saying they
# stopped sequencing (not "storage failure").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
sql() { PG_DB=log pg_sql a "$1"; }

pg_leader
LEASE_MS=600000 pg_front B1
LEASE_MS=600000 pg_front B2

# add FRONT SUBJECT: appends a fresh statement through FRONT; prints the HTTP code.
add() {
    local url
    url=$(eval echo "\$URL_$1")
    statement "$2" 1.0 > "$T/st"
    curl -s -m 40 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st" "$url/api/v1/add"
}
# size FRONT: the size of the checkpoint FRONT serves.
size() { curl -sf -m 5 "$(eval echo "\$URL_$1")/checkpoint" | sed -n 2p; }
at_size() { [ "$(size "$1")" = "$2" ]; }

[ "$(add A one)" = 200 ] || fail "append one: $(cat "$T/r")"
sql "CREATE TABLE snap AS SELECT size, checkpoint FROM glasslog_state"
[ "$(add B1 two)" = 200 ] || fail "append two: $(cat "$T/r")"
[ "$(add B2 three)" = 200 ] || fail "append three: $(cat "$T/r")"
for b in B1 B2; do
    wait_until 10 at_size "$b" 3 || fail "$b serves size $(size "$b"), want 3"
    curl -sf "$(eval echo "\$URL_$b")/checkpoint" > "$T/ck3.$b" || fail "checkpoint of $b"
done
cmp -s "$T/ck3.B1" "$T/ck3.B2" || fail "B1 and B2 serve different checkpoints of size 3"

LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
kill -STOP "$PID_B2"
sql "BEGIN;
DELETE FROM glasslog_entries WHERE idx >= 1;
DELETE FROM glasslog_leaves WHERE idx >= 1;
DELETE FROM glasslog_index WHERE idx >= 1;
UPDATE glasslog_tiles SET data = substring(data from 1 for 32) WHERE level = 0 AND idx = 0;
UPDATE glasslog_state SET size = s.size, checkpoint = s.checkpoint FROM snap s;
COMMIT;" || { kill -CONT "$PID_B2"; fail "rollback"; }
[ "$(sql "SELECT size FROM glasslog_state")" = 1 ] || fail "the rollback did not take"
# B1 sees the smaller tree before C writes another (it polls every 100 ms;
# a loaded machine could otherwise let it see only C's)
lost() { grep -q "released data lost: the stored tree of size $2 does not extend" "$1"; }
wait_until 30 lost "$OUT_B1" 1 ||
    { kill -CONT "$PID_B2"; fail "B1 does not say it lost released data: $(tail -5 "$OUT_B1")"; }

pg_front C
wait_until 10 pg_leads "$OUT_C" || { kill -CONT "$PID_B2"; fail "C did not take the lease: $(cat "$OUT_C")"; }
for s in four five six; do
    [ "$(add C "$s")" = 200 ] || { kill -CONT "$PID_B2"; fail "append $s through C: $(cat "$T/r")"; }
done
[ "$(size C)" = 4 ] || { kill -CONT "$PID_B2"; fail "C serves size $(size C), want 4"; }
kill -CONT "$PID_B2"

wait_until 10 lost "$OUT_B2" 4 || fail "B2 does not say it lost released data: $(tail -5 "$OUT_B2")"
sleep 0.5 # several polls and notices later
for b in B1 B2; do
    curl -sf "$(eval echo "\$URL_$b")/checkpoint" > "$T/ck.$b" || fail "checkpoint of $b"
    cmp -s "$T/ck3.$b" "$T/ck.$b" || fail "$b no longer serves its size-3 checkpoint: $(cat "$T/ck.$b")"
    code=$(add "$b" "seven$b")
    [ "$code" = 503 ] || fail "append through $b after the loss answered $code: $(cat "$T/r")"
    grep -q "stopped sequencing" "$T/r" || fail "the 503 of $b does not say it stopped: $(cat "$T/r")"
done
grep -q "took the lease" "$OUT_B1" "$OUT_B2" && fail "a follower took the lease: the test needs them to follow"
LOG_PID=$PID_C LOG_OUT=$OUT_C stop_log
for b in B1 B2; do LOG_PID=$(eval echo "\$PID_$b") LOG_OUT=$(eval echo "\$OUT_$b") stop_log; done
echo "68-pg-follower-rollback: followers refuse a stored tree that does not extend what they served: ok"
