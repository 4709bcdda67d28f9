# Goal: a sequencer of a PostgreSQL log whose own pool stays full still
# takes the other front-ends' queued appends. A sequences with
# --batch-max 4, then (restarted) with --batch-max 1, and is kept busy (a load generator, 16 connections, so
# its pool always holds a full batch); B follows. Meanwhile three appends
# through B must each answer 200 within 25 s: every batch of A keeps half
# its room for the shared queue. (A sequencer that filled its batches
# from its own pool first left them queued until the load stopped, or
# answered 503 after 30 s.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
loadgen_tool
pg_log_db
# share_round BATCH_MAX: A (leader, --batch-max BATCH_MAX, kept busy)
# and B (a follower); three appends through B answer 200 within 25 s
# (the old code: 503 after 30 s, or not before the load ended).
share_round() {
    if [ "$1" = 4 ]; then
        pg_leader --batch-max "$1"
    else # the log exists: A takes the lease of the stopped leader
        pg_front A --batch-max "$1"
        wait_until 10 pg_leads "$OUT_A" || fail "A did not take the lease: $(cat "$OUT_A")"
    fi
    LEASE_MS=600000 pg_front B # its lease attempts 100 s apart: B follows

    "$LOADGEN" append --log "$URL_A" --key "$T/sub.key" -n 30000 -c 16 --seed "9$RANDOM" \
        --subject-prefix "load$1" --timeout 60 > "$T/lg.out" 2> "$T/lg.err" &
    lg=$!
    PIDS="$PIDS $lg"
    size0=$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")
    busy() { [ "$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")" -gt $((size0 + 50)) ]; }
    wait_until 120 busy || fail "the load did not start: size $(PG_DB=log pg_sql a "SELECT size FROM glasslog_state"); $(tail -n 3 "$T/lg.err" "$T/lg.out" "$OUT_A")"
    for k in 1 2 3; do
        statement "via-b-$1-$k" 1.0 > "$T/st"
        : > "$T/r"
        t0=$(date +%s%N)
        code=$(curl -s -m 25 -o "$T/r" -w '%{http_code}' --data-binary "@$T/st" "$URL_B/api/v1/add")
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ "$code" = 200 ] || { kill "$lg"; fail "--batch-max $1: append $k through B under A's load: '$code' after $ms ms $(cat "$T/r")"; }
    done
    kill -0 "$lg" 2>/dev/null || fail "the load ended before B's appends: $(tail -3 "$T/lg.err")"
    kill "$lg"
    wait "$lg" 2>/dev/null
    grep -q "took the lease" "$OUT_B" && fail "B took the lease: the test needs it to follow"
    LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
    LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
}
share_round 4
share_round 1 # half of one entry's room: still one for the queue
echo "69-pg-queue-share: a follower's appends are sequenced while the sequencer's own pool stays full: ok"
