# Goal: a front-end's appends resume in bounded time after a fail-over
# whose old primary is paused (SIGSTOP of all its processes: its kernel
# still accepts and acknowledges, so no TCP timer notices), not hang on a
# pooled connection to it for ever. A primary p with a synchronous
# standby s; front-end A sequences and follower B queues, both through a
# multi-host connection string (p, s; target_session_attrs=read-write).
# Under appends through both (and reads, so the pools hold several
# connections to p), p is paused and s promoted. Appends through A and
# through B must be answered 200 again within RESUME_S seconds (a
# statement waits for a silent server PG_SILENT_MS, then its probe (a new
# connection the server must say something on) PG_PROBE_MS, then connect_timeout for p in the string, then the
# lease), every request under way must get an answer (none hangs), A
# must log that it gave p up (its commit is made to wait on p when p is
# paused: a session of p holds the state row), and every append answered 200, before or
# after, must be at its index on the promoted standby. (Before, the
# writer thread's COMMIT, or the follower's queue INSERT, waited on p
# for ever: no append was answered again.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
RESUME_S=90 # the old code never resumed; a resumption takes about 15 s
make_keys

pg_init p
pg_start p -c synchronous_commit=on
pg_sql p "CREATE DATABASE log"
pg_base_standby s p application_name=standby1
pg_start s
pg_sql p "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" &&
    pg_sql p "SELECT pg_reload_conf()" > /dev/null || fail "cannot make the standby synchronous"
sync_standby() { [ "$(pg_sql p "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ]; }
wait_until 30 sync_standby || fail "the standby is not synchronous: $(pg_sql p 'SELECT * FROM pg_stat_replication')"

DB="postgresql://postgres@127.0.0.1:$PG_PORT_p,127.0.0.1:$PG_PORT_s/log?target_session_attrs=read-write&connect_timeout=2"
pg_two_fronts

# add FRONT SUBJECT [SECONDS]: appends a fresh statement through FRONT;
# prints the HTTP code; the answer in $T/r.SUBJECT.
add() {
    statement "$2" 1.0 > "$T/st.$2"
    curl -s -m "${3:-20}" -o "$T/r.$2" -w '%{http_code}' --data-binary "@$T/st.$2" \
        "$(eval echo "\$URL_$1")/api/v1/add"
}
# acked SUBJECT: records "index subject" of an append answered 200
acked() { printf '%s %s\n' "$(sed -n 's/.*"index": *\([0-9]*\).*/\1/p' "$T/r.$1")" "$1" >> "$T/acks"; }
: > "$T/acks"
for f in A B; do
    for i in 1 2 3; do
        [ "$(add $f "pre.$f.$i")" = 200 ] || fail "append pre.$f.$i: $(cat "$T/r.pre.$f.$i")"
        acked "pre.$f.$i"
    done
done

# loader FRONT N: appends through FRONT one after another until $T/stop;
# each line of $T/load.FRONT.N: code, milliseconds taken, subject
loader() {
    local i=0 t c
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        t=$(date +%s%3N)
        c=$(add "$1" "load.$1.$2.$i" 300)
        echo "$c $(($(date +%s%3N) - t)) load.$1.$2.$i" >> "$T/load.$1.$2"
    done
}
reader() { # concurrent reads, so each pool holds several connections
    while [ ! -e "$T/stop" ]; do
        curl -s -m 5 -o /dev/null "$(eval echo "\$URL_$1")/api/v1/entries/$((RANDOM % 6))"
    done
}
for f in A B; do
    for n in 1 2 3; do
        loader $f $n & PIDS="$PIDS $!"
        reader $f & PIDS="$PIDS $!"
    done
done
loaded() { [ "$(cat "$T"/load.* 2>/dev/null | grep -c '^200')" -ge 20 ]; }
wait_until 120 loaded || fail "the appends do not flow: $(cat "$T"/load.* 2>/dev/null | tail -3)"

# A's writer is sure to wait on p when it is paused: a session of p
# holds the state row, so A's next commit waits for it in its first
# statement (the compare-and-set)
PG_DB=log pg_sql p "BEGIN; SELECT 1 FROM glasslog_state FOR UPDATE; SELECT pg_sleep(600)" \
    > /dev/null 2>&1 & PIDS="$PIDS $!"
a_waits() {
    [ "$(PG_DB=log pg_sql p "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
        AND query LIKE 'UPDATE glasslog_state%' AND application_name LIKE 'glasslogd %'")" -gt 0 ]
}
wait_until 20 a_waits || fail "A's commit does not wait for the state row"
pg_pause p
pg_as_owner "$PG_BIN/pg_ctl" -D "$S" -w promote > "$T/promote.log" 2>&1 || fail "promote: $(cat "$T/promote.log")"
t0=$(date +%s)
ok() { [ "$(add "$1" "after.$1.$RANDOM" 10)" = 200 ]; }
wait_until "$RESUME_S" ok A || fail "no append through A answered 200 within ${RESUME_S} s of the fail-over: $(tail -15 "$OUT_A")"
ta=$(($(date +%s) - t0))
wait_until "$RESUME_S" ok B || fail "no append through B answered 200 within ${RESUME_S} s of the fail-over: $(tail -15 "$OUT_B")"
tb=$(($(date +%s) - t0))
touch "$T/stop"
# every request under way got its answer (curl's own limit is 300 s)
drained() { ! pgrep -f "curl -s -m 300 " > /dev/null; }
wait_until 30 drained || fail "appends under way at the fail-over still unanswered $(( $(date +%s) - t0 )) s after it"
grep -q "stopped answering" "$OUT_A" || fail "A did not give the paused primary up: $(grep -i 'store' "$OUT_A" | tail -5)"
for f in "$T"/load.*; do
    awk '$1 == 200 { print $3 }' "$f"
done > "$T/ok"
while read -r sub; do acked "$sub"; done < "$T/ok"
[ "$(wc -l < "$T/ok")" -ge 20 ] || fail "too few appends acknowledged"
n=0
while read -r idx sub; do
    [ -n "$idx" ] || fail "an append of $sub answered 200 without an index: $(cat "$T/r.$sub")"
    curl -sf -m 5 "$URL_A/api/v1/entries/$idx" > "$T/e" || fail "entry $idx ($sub) is not served"
    grep -q "subject $sub\\\\n" "$T/e" || fail "entry $idx is not $sub: $(head -c 300 "$T/e")"
    n=$((n + 1))
done < "$T/acks"
size=$(PG_DB=log pg_sql s "SELECT size FROM glasslog_state")
codes=$(cat "$T"/load.* | awk '{ n[$1]++ } END { for (c in n) printf " %s x%d", c, n[c] }')
LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
echo "91-pg-paused-primary: appends answered again ${ta} s (A) and ${tb} s (B) after the paused primary's fail-over; $n acknowledged appends at their index (size $size); answers to the load:$codes: ok"
