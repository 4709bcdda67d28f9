# Goal: zero acknowledged entries lost when the database's primary dies.
# A primary with a synchronous streaming standby (pg_basebackup -R,
# synchronous_standby_names, synchronous_commit = on: a COMMIT returns
# once the standby has the WAL on disk); glasslogd connects through a
# multi-host connection string with target_session_attrs=read-write.
# Under load the primary is killed with SIGKILL and the standby promoted;
# glasslogd must reconnect by itself (its change notices too: it LISTENs
# again) and go on appending. Then every
# acknowledged entry is at its index, every checkpoint served before the
# fail-over is consistent with the tree after it, and the tiles match
# (tlog.py). Prints the acknowledged and lost counts (lost must be 0).
# Before that (with a statement_timeout on the role), a standby outage:
# no append is acknowledged until the standby is back, not even when
# the COMMIT's wait for the standby is cancelled (committed on the
# primary only); then the appends made during the outage are at their
# index.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
. "$(dirname "$0")/pg.sh"
PY="python3 $(dirname "$0")/tlog.py"
case "${GL_BUILD:-}" in *asan*) N=1500 ;; *) N=5000 ;; esac
make_keys
loadgen_tool

pg_init p
pg_start p -c synchronous_commit=on
pg_sql p "CREATE DATABASE log"
pg_base_standby s p application_name=standby1
grep -q "application_name=standby1\|application_name=''standby1''" "$S/postgresql.auto.conf" ||
    pg_as_owner sh -c "echo \"primary_conninfo = 'host=127.0.0.1 port=$PG_PORT_p user=postgres application_name=standby1'\" >> '$S/postgresql.auto.conf'"
pg_start s
# synchronous only now that the standby runs (a commit waits for it)
pg_sql p "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" &&
    pg_sql p "SELECT pg_reload_conf()" > /dev/null || fail "cannot make the standby synchronous"
sync_standby() { [ "$(pg_sql p "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ]; }
wait_until 30 sync_standby || fail "the standby is not synchronous: $(pg_sql p 'SELECT * FROM pg_stat_replication')"

# a role timeout (glasslogd's sessions turn it off)
pg_sql p "ALTER ROLE postgres SET statement_timeout = '500ms'" || fail "ALTER ROLE"

DB="postgresql://postgres@127.0.0.1:$PG_PORT_p,127.0.0.1:$PG_PORT_s/log?target_session_attrs=read-write&connect_timeout=2"
spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --create --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --lease-ms 1000 ||
    fail "glasslogd did not start: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL

# The standby down: COMMIT waits for it, so no append is acknowledged; a
# COMMIT whose wait an administrator cancels (PostgreSQL returns it as a
# success, with a WARNING: committed on the primary only) is not either.
# Once the standby is back (same port), appends are acknowledged again,
# those made during the outage included.
append_one app up.1 --timeout 10 > "$T/one" 2>&1 || fail "append with the standby up: $(cat "$T/one")"
pg_stop s
append_one app outage.1 --timeout 3 > "$T/one" 2>&1 &&
    fail "an append was acknowledged while the synchronous standby was down: $(cat "$T/one")"
grep -q '^index' "$T/one" && fail "an index was answered while the standby was down"
# Waits cancelled every 0.2 s: the COMMIT is warned about, and so is
# every later commit's wait, so no append is acknowledged, the retry of
# one (a duplicate of a batch committed on the primary only) included.
cancel_waits() {
    while :; do
        pg_sql p "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'" > /dev/null
        sleep 0.2
    done
}
cancel_waits & cw=$!
PIDS="$PIDS $cw"
append_one app outage.2 --timeout 4 > "$T/two" 2>&1
grep -q "^index" "$T/two" && fail "an append was acknowledged after a cancelled wait: $(cat "$T/two")"
grep -q "COMMIT warned" "$LOG_OUT" || fail "no COMMIT cut short: $(tail -5 "$LOG_OUT")"
append_one app outage.1 --timeout 4 > "$T/two" 2>&1
grep -q '^index' "$T/two" && fail "a batch committed on the primary only was acknowledged: $(cat "$T/two")"
kill "$cw"
wait "$cw" 2>/dev/null
pg_as_owner "$PG_BIN/pg_ctl" -D "$S" -l "$S/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT_s -c unix_socket_directories=$S" \
    start > "$T/pg_ctl-s2.log" 2>&1 || fail "cannot restart the standby: $(tail -5 "$S/server.log")"
PG_PID_s=$(head -1 "$S/postmaster.pid")
wait_until 30 sync_standby || fail "the standby is not synchronous again"
appends() { append_one app "after.$RANDOM" --timeout 5 > "$T/one" 2>&1; }
wait_until 60 appends || fail "no append after the standby came back: $(tail -20 "$LOG_OUT")"
# the appends made during the outage were logged then: below the first
# one after it
after=$(sed -n 's/^index //p' "$T/one")
: > "$T/early"
i=0
while [ "$i" -lt "$after" ]; do
    curl -sf "$LOG_URL/api/v1/entries/$i" >> "$T/early" || fail "entry $i"
    i=$((i + 1))
done
for v in outage.1 outage.2; do
    grep -q "$v" "$T/early" || fail "$v was not logged during the outage: $(cat "$T/early")"
done

watcher() { # "size root" of each checkpoint served, until $1 is gone
    : > "$T/seen"
    while kill -0 "$1" 2>/dev/null; do
        curl -sf -m 5 "$LOG_URL/checkpoint" > "$T/w" 2>/dev/null &&
            printf '%s %s\n' "$(sed -n 2p "$T/w")" "$(sed -n 3p "$T/w")" >> "$T/seen"
        sleep 0.05
    done
}
: > "$T/acks"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$N" -c 8 --seed 62 \
    --subject-prefix standby --ack-log "$T/acks" --log-vkey "@$T/log.key.pub" \
    --timeout 30 > "$T/lg.out" 2> "$T/lg.err" & lg=$!
watcher "$lg" & wp=$!
PIDS="$PIDS $lg $wp"
enough() { [ "$(wc -l < "$T/acks")" -gt "$((N / 3))" ]; }
wait_until 120 enough || fail "too few appends acknowledged: $(tail -n 3 "$T/lg.err" "$LOG_OUT")"
acked_before=$(wc -l < "$T/acks")
size_before=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
pg_kill p
pg_as_owner "$PG_BIN/pg_ctl" -D "$S" -w promote > "$T/promote.log" 2>&1 || fail "promote: $(cat "$T/promote.log")"
t0=$(date +%s)
wait "$lg"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "loadgen exited $rc: $(tail -5 "$T/lg.err")"
wait "$wp"
# glasslogd reconnected to the promoted standby and appends again
wait_until 60 appends || fail "no append after the fail-over: $(tail -20 "$LOG_OUT")"
kill -0 "$LOG_PID" || fail "glasslogd died in the fail-over: $(tail -20 "$LOG_OUT")"
# its change notices (LISTEN) come from the promoted standby: it does not
# poll every 10 ms for good
wait_until 10 grep -q "change notices back" "$LOG_OUT" ||
    fail "no LISTEN again after the fail-over: $(grep -i notices "$LOG_OUT" | tail -3)"
acked=$(wc -l < "$T/acks")
awk 'NF != 2 { print; bad = 1 } END { exit bad }' "$T/seen" || fail "a checkpoint served without its size or root"
$PY check-acks "$LOG_URL" "$T/acks" > "$T/chk" || { cat "$T/chk"; fail "acknowledged entries lost in the fail-over"; }
$PY check-consistent "$LOG_URL" "$T/seen" > "$T/chk.seen" || fail "a checkpoint served before the fail-over is inconsistent with the tree after it"
$PY check-tiles "$LOG_URL" || fail "tiles after the fail-over"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
stop_log
echo "62-pg-standby: $acked appends acknowledged ($acked_before before kill -9 of the primary," \
    "size $size_before), lost 0; $(sort -u "$T/seen" | wc -l) checkpoints served, all consistent" \
    "with the promoted standby's tree of size $size: ok"
