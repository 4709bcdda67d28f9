# Goal: many front-ends, one sequencer, and fail-over without losing an
# acknowledged entry. Two glasslogd share one PostgreSQL log; both take
# appends under load (one load generator each, every acknowledged entry
# logged with --ack-log) and serve reads. The first to start holds the
# sequencer lease; it is killed with SIGKILL under load. The other must
# take over within --lease-ms and keep appending; then every entry either
# front-end acknowledged is at its acknowledged index in the tree the
# survivor's checkpoint signs, every checkpoint either served is
# consistent with it, and its tiles match (all checked by tlog.py).
# Prints the acknowledged and lost counts (lost must be 0) and the
# takeover time. Then a third front-end whose connection string's first
# host is a black hole (accepts, never answers) follows and takes over:
# its event loop never connects itself (below).
# Timed bounds (a takeover within the lease and a second): no other script
# beside it.
# run: alone
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
. "$(dirname "$0")/pg.sh"
PY="python3 $(dirname "$0")/tlog.py"
case "${GL_BUILD:-}" in *asan*) N=1500 ;; *) N=${GL_FO_N:-5000} ;; esac
LEASE_MS=2000
make_keys
loadgen_tool
pg_log_db

pg_two_fronts
sleep 0.5
pg_leads "$OUT_B" && fail "B took the lease while A held it: $(cat "$OUT_B")"

# each front-end serves the other's appends (reads from the database)
LOG_URL=$URL_B append_one app 1.0 > "$T/one" || fail "append through B (a follower)"
idx=$(sed -n 's/^index //p' "$T/one")
[ -n "$idx" ] || fail "no index from B: $(cat "$T/one")"
LOG_URL=$URL_A "$G" get entry "$idx" --log "$URL_A" > "$T/e" || fail "A does not serve B's entry $idx"

watcher() { # watcher NAME URL: "size root" of each checkpoint served
    : > "$T/seen.$1"
    while curl -sf "$2/checkpoint" > "$T/w.$1" 2>/dev/null; do
        printf '%s %s\n' "$(sed -n 2p "$T/w.$1")" "$(sed -n 3p "$T/w.$1")" >> "$T/seen.$1"
        sleep 0.05
    done
}
load() { # load NAME SEED URL
    "$LOADGEN" append --log "$3" --key "$T/sub.key" -n "$N" -c 8 --seed "$2$RANDOM" \
        --subject-prefix "fo$1" --ack-log "$T/acks.$1" --log-vkey "@$T/log.key.pub" \
        --timeout 10 > "$T/lg.$1.out" 2> "$T/lg.$1.err"
}
: > "$T/acks.A"
: > "$T/acks.B"
watcher A "$URL_A" & wa=$!
watcher B "$URL_B" & wb=$!
load A 1 "$URL_A" & la=$!
load B 2 "$URL_B" & lb=$!
PIDS="$PIDS $wa $wb $la $lb"
enough() { [ "$(cat "$T/acks.A" "$T/acks.B" | wc -l)" -gt "$((N / 3))" ]; }
wait_until 120 enough || fail "too few appends acknowledged ($(cat "$T/acks.A" "$T/acks.B" | wc -l)): $(tail -n 3 "$T/lg.A.err" "$T/lg.B.err" "$OUT_A" "$OUT_B")"
acked_before=$(cat "$T/acks.A" "$T/acks.B" | wc -l)
t0=$(date +%s%N)
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null
wait_until 30 pg_leads "$OUT_B" || fail "B did not take over: $(tail -20 "$OUT_B")"
takeover_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$takeover_ms" -le "$((LEASE_MS + 1000))" ] || fail "takeover took $takeover_ms ms (lease $LEASE_MS ms)"
wait "$la"
rca=$?
wait "$lb" || fail "the load on B failed ($?): $(tail -5 "$T/lg.B.err")"
[ "$rca" -eq 0 ] || [ "$rca" -eq 3 ] || fail "loadgen on A exited $rca: $(tail -5 "$T/lg.A.err")"
kill "$wa" "$wb" 2>/dev/null
wait "$wa" "$wb" 2>/dev/null

LOG_URL=$URL_B
cat "$T/acks.A" "$T/acks.B" > "$T/acks"
acked=$(wc -l < "$T/acks")
cat "$T/seen.A" "$T/seen.B" > "$T/seen"
awk 'NF != 2 { print FILENAME ": " $0; bad = 1 } END { exit bad }' "$T/seen.A" "$T/seen.B" ||
    fail "a checkpoint served without its size or root"
$PY check-acks "$LOG_URL" "$T/acks" > "$T/chk" || { cat "$T/chk"; fail "acknowledged entries lost"; }
$PY check-consistent "$LOG_URL" "$T/seen" > "$T/chk.seen" || fail "a checkpoint served is inconsistent"
$PY check-tiles "$LOG_URL" || fail "tiles after the fail-over"
# appends go on through the new sequencer
append_one app 2.0 > "$T/two" || fail "append after the fail-over"

# A fail-over connection string whose first host is a black hole (it
# accepts TCP and never answers, as a primary frozen by SIGSTOP does):
# front-end C (--lease-ms 600: its loop's calls wait at most 200 ms)
# starts as B's follower while nothing listens there (refused: the next
# host at once); then the black hole listens and C's sessions are ended,
# so C's event loop needs a new connection for its next poll. The loop
# never connects itself: the connector does (libpq's connect_timeout,
# 2 s at least, moves it past the black hole), so C serves B's next
# checkpoint within seconds, answering /healthz within 2 s all along (a loop turn may stack two bounded calls; ASan),
# then takes the lease B gives up and acknowledges an append. (The
# loop's own connecting gave its whole bound to the black hole every
# time: C never served B's checkpoint.)
BH=$(free_port) # nothing listens there yet
DB="postgresql://postgres@127.0.0.1:$BH,127.0.0.1:$PG_PORT_a/log?connect_timeout=1&target_session_attrs=read-write&application_name=front-c" \
    LEASE_MS=600 pg_front C
size=$(curl -sf "$URL_B/checkpoint" | sed -n 2p)
c_serves() { [ "$(curl -sf -m 1 "$URL_C/checkpoint" | sed -n 2p)" = "$size" ]; }
wait_until 10 c_serves || fail "C does not serve B's size $size: $(tail -5 "$OUT_C")"
start_tool bh python3 "$TOOLS/blackhole.py" "$BH"
bh=$TOOL_PID
[ "$(pg_sql a "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'front-c %'")" -ge 1 ] ||
    fail "no session of C to end"
ms() { echo $(($(date +%s%N) / 1000000)); }
t_cut=$(ms)
append_one app 3.0 > "$T/three" || fail "append through B: $(cat "$T/three")"
size=$((size + 1))
slowest=0
until c_serves; do
    t=$(ms)
    [ "$t" -lt "$((t_cut + 8000))" ] ||
        fail "C does not serve B's size $size 8 s after its sessions ended: $(tail -5 "$OUT_C")"
    curl -sf -m 2 -o /dev/null "$URL_C/healthz" ||
        fail "C's /healthz did not answer within 2 s ($((t - t_cut)) ms after its sessions ended)"
    t=$(($(ms) - t))
    [ "$t" -le "$slowest" ] || slowest=$t
    sleep 0.05
done
served_ms=$(($(ms) - t_cut))
LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
wait_until 5 pg_leads "$OUT_C" || fail "C did not take the lease B gave up: $(tail -5 "$OUT_C")"
LOG_URL=$URL_C append_one app 4.0 --timeout 5 > "$T/four" 2>&1 ||
    fail "append through C: $(cat "$T/four"; tail -5 "$OUT_C")"
LOG_PID=$PID_C LOG_OUT=$OUT_C stop_log
kill "$bh"
wait "$bh" 2>/dev/null
size=$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")
echo "61-pg-failover: $acked appends acknowledged by two front-ends ($acked_before before" \
    "kill -9 of the sequencer), lost 0; takeover in $takeover_ms ms (lease $LEASE_MS ms);" \
    "log size $size; past a black hole C served B's checkpoint in $served_ms ms" \
    "(/healthz at most $slowest ms), then took over: ok"
