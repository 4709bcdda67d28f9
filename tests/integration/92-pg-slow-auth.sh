# Goal: an append whose COMMIT legitimately waits on a live server (a
# synchronous standby that is down) is not given up because the server's
# new sessions are slow to authenticate (LDAP, RADIUS, PAM, a slow
# pooler). glasslogd reaches the database through tools/slowauthproxy.py:
# once $T/slow exists, a new connection gets the server's first byte at
# once and the rest 5 s later (a session takes 5 s to make), while the
# pool's connections flow at once. With synchronous_standby_names naming
# a standby that never connects, an append's COMMIT waits, silent; its
# probes (a new connection after PG_SILENT_MS, 5 s, of silence) hear
# the server's first byte, so it waits on. Once the commit has waited 12 s
# and two probes were made, the standby is no longer required (reload):
# the append must be answered 200 at its index,
# with no "stopped answering" logged. (Before, a probe needed the whole
# session within PG_PROBE_MS, 3 s: the COMMIT was given up after 8 s, the
# append answered 503 and the store reopened.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys

pg_init p
pg_start p -c synchronous_commit=on
pg_sql p "CREATE DATABASE log"
start_tool proxy python3 "$TOOLS/slowauthproxy.py" "$PG_PORT_p" 5000 "$T/slow"
PPORT=$TOOL_PORT pp=$TOOL_PID
DB="postgresql://postgres@127.0.0.1:$PPORT/log"
LEASE_MS=30000 pg_leader # the lease's renewals wait for the standby too

# add SUBJECT [SECONDS]: appends a fresh statement; prints the HTTP code;
# the answer in $T/r.SUBJECT.
add() {
    statement "$1" 1.0 > "$T/st.$1"
    curl -s -m "${2:-10}" -o "$T/r.$1" -w '%{http_code}' --data-binary "@$T/st.$1" \
        "$URL_A/api/v1/add"
}
[ "$(add first)" = 200 ] || fail "append before the wait: $(cat "$T/r.first")"

pg_sql p "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" &&
    pg_sql p "SELECT pg_reload_conf()" > /dev/null || fail "cannot require the standby"
touch "$T/slow"
add waits 60 > "$T/code" & ap=$!
t_wait=$(date +%s)
commit_waits() {
    [ "$(PG_DB=log pg_sql p "SELECT count(*) FROM pg_stat_activity
        WHERE wait_event = 'SyncRep' AND application_name LIKE 'glasslogd %'")" -gt 0 ]
}
wait_until 10 commit_waits || fail "no commit waits for the standby"
sleep 12
kill -0 "$ap" 2>/dev/null || fail "the append was answered $(cat "$T/code") while its commit waited: $(tail -5 "$OUT_A")"
# probes about 5 s and 10 s into the silence; a loaded machine may be late
probed() { [ "$(grep -c "^slow connection" "$T/proxy.out")" -ge 2 ]; }
wait_until 10 probed ||
    fail "only $(grep -c "^slow connection" "$T/proxy.out") new connection(s) in 22 s of the commit's silence: no probe?"
slow=$(grep -c "^slow connection" "$T/proxy.out")
pg_sql p "ALTER SYSTEM RESET synchronous_standby_names" &&
    pg_sql p "SELECT pg_reload_conf()" > /dev/null || fail "cannot drop the standby"
wait "$ap"
code=$(cat "$T/code")
[ "$code" = 200 ] || fail "the append answered $code after the standby's wait: $(cat "$T/r.waits"); $(grep 'store' "$OUT_A" | tail -5)"
grep -q "stopped answering" "$OUT_A" && fail "a live server slow to authenticate was given up: $(grep 'stopped answering' "$OUT_A" | head -1)"
idx=$(sed -n 's/.*"index": *\([0-9]*\).*/\1/p' "$T/r.waits")
[ -n "$idx" ] || fail "no index in the answer: $(head -c 300 "$T/r.waits")"
curl -sf -m 5 "$URL_A/api/v1/entries/$idx" > "$T/e" || fail "entry $idx is not served"
grep -q 'subject waits\\n' "$T/e" || fail "entry $idx is not the append's: $(head -c 300 "$T/e")"
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
kill "$pp" && wait "$pp" 2>/dev/null
echo "92-pg-slow-auth: a commit waited $(($(date +%s) - t_wait)) s on a server 5 s slow to authenticate ($slow slow new connections: its probes, reconnects), then answered 200 at index $idx: ok"
