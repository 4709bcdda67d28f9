# Goal: a front-end whose connection string lists a hot standby first,
# without target_session_attrs, still reads and writes the primary only:
# glasslogd asks for a server that takes writes by default. A primary p
# with an asynchronous streaming standby s; front-end A (string: p only)
# creates the log and sequences. Three entries, replayed on s; then s is
# stopped, three more are logged (size 6), and follower B starts on
# "s,p" without target_session_attrs (s down: it reaches p) and serves
# size 6. s comes back with recovery_min_apply_delay (it lags: its state
# stays at size 3), and B's sessions on p are terminated, so B connects
# afresh with s up and first in its string. B must then still answer
# appends 200 (through the shared queue), serve them, never log
# "released data lost", and hold no session on s. (Before, B's new
# connections went to s: its stored size 3, below the 6 it served, was
# taken for released data lost, and its appends answered 503.) A
# front-end whose string names s alone does not start, logging s's
# host and port and that the session is read-only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys

pg_init p
pg_start p
pg_sql p "CREATE DATABASE log"
pg_base_standby s p
pg_start s
# s_start [ARGS...]: s again on its port (pg_start would pick another)
s_start() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$S" -l "$S/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT_s -c unix_socket_directories=$S $*" \
        start > "$T/pg_ctl-s.$#.log" 2>&1 || fail "cannot restart the standby: $(tail -5 "$S/server.log")"
    PG_PID_s=$(head -1 "$S/postmaster.pid")
}
s_size() { PG_DB=log pg_sql s "SELECT size FROM glasslog_state" 2>/dev/null; }
s_at() { [ "$(s_size)" = "$1" ]; }

DB="postgresql://postgres@127.0.0.1:$PG_PORT_p/log?connect_timeout=2&application_name=front-a"
pg_leader
# add FRONT SUBJECT: appends a fresh statement through FRONT; prints the HTTP code.
add() {
    statement "$2" 1.0 > "$T/st"
    curl -s -m 40 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st" "$(eval echo "\$URL_$1")/api/v1/add"
}
size() { curl -sf -m 5 "$(eval echo "\$URL_$1")/checkpoint" | sed -n 2p; }
at_size() { [ "$(size "$1")" = "$2" ]; }
for i in 1 2 3; do [ "$(add A "early$i")" = 200 ] || fail "append early$i: $(cat "$T/r")"; done
wait_until 30 s_at 3 || fail "the standby did not replay size 3 (it has $(s_size))"
pg_stop s
for i in 4 5 6; do [ "$(add A "late$i")" = 200 ] || fail "append late$i: $(cat "$T/r")"; done

# B: the standby first, no target_session_attrs (s is down: B reaches p)
DB="postgresql://postgres@127.0.0.1:$PG_PORT_s,127.0.0.1:$PG_PORT_p/log?connect_timeout=2&application_name=front-b"
LEASE_MS=600000 pg_front B
wait_until 15 at_size B 6 || fail "B serves size $(size B), want 6: $(tail -5 "$OUT_B")"

s_start -c recovery_min_apply_delay=1h
in_recovery() { [ "$(pg_sql s "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ]; }
wait_until 30 in_recovery || fail "the standby does not answer in recovery"
s_at 3 || fail "the standby does not lag: size $(s_size), want 3"
n=$(pg_sql p "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'front-b %'")
[ "$n" -gt 0 ] || fail "B had no session on the primary"

# B connects afresh; its first call may still meet a terminated session
ok_b() { [ "$(add B "after.$RANDOM")" = 200 ]; }
wait_until 30 ok_b || fail "B does not answer appends 200 after reconnecting: $(cat "$T/r"); $(tail -5 "$OUT_B")"
for i in 1 2 3; do
    code=$(add B "b$i")
    [ "$code" = 200 ] || fail "append b$i through B answered $code: $(cat "$T/r"); $(tail -5 "$OUT_B")"
done
want=$(($(size A)))
[ "$want" -ge 10 ] || fail "A serves size $want, want at least 10"
wait_until 15 at_size B "$want" || fail "B serves size $(size B), want $want"
sleep 1 # several polls and lease attempts of B later
grep -q "released data lost" "$OUT_B" && fail "B took the lagging standby for lost data: $(grep 'released data lost' "$OUT_B")"
s_at 3 || fail "the standby caught up (size $(s_size)): the test needs it to lag"
ns=$(pg_sql s "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'front-b %'")
[ "$ns" = 0 ] || fail "B holds $ns sessions on the standby"
[ "$(pg_sql p "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'front-b %'")" -gt 0 ] ||
    fail "B holds no session on the primary"
grep -q "took the lease" "$OUT_B" && fail "B took the lease: the test needs it to follow"

# the standby alone: refused at the start, naming it
DB="postgresql://postgres@127.0.0.1:$PG_PORT_s/log?connect_timeout=2&application_name=front-c"
spawn glasslogd-C "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --lease-ms 1000 &&
    fail "a front-end on the standby alone started: $(cat "$SPAWN_OUT")"
grep -q "cannot connect to PostgreSQL: .*127.0.0.1.*$PG_PORT_s.*read-only" "$SPAWN_OUT" ||
    fail "no log line naming the read-only standby: $(cat "$SPAWN_OUT")"

LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
echo "80-pg-standby-first: a follower whose string lists a lagging standby first reads and writes the primary ($want entries): ok"
