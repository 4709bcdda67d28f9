# Goal: glasslogd on PostgreSQL (--store postgresql://...) keeps every
# promise it keeps on RocksDB. A test cluster (tests/integration/pg.sh)
# runs the store-contract unit tests against the PostgreSQL backend, then
# serves a glasslogd: --create makes the schema, an existing log is not
# made again, an empty database or an unknown schema version is refused;
# appends under load are each at their acknowledged index, the tiles and
# proofs the log serves agree with an independent recomputation (tlog.py)
# and with the client (glasslog get ... verifies with the log key), across
# a clean restart and a kill -9 under load; a database that stops
# answering (SIGSTOP) for 3 s does not stall the front-ends' event loops
# (their /healthz and /checkpoint answer within 3 s); batches of MiBs over
# a slow link (500 kB/s) to the database are taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
. "$(dirname "$0")/pg.sh"
PY="python3 $(dirname "$0")/tlog.py"
case "${GL_BUILD:-}" in *asan*) N=1500 ;; *) N=6000 ;; esac
make_keys
loadgen_tool
pg_init a
pg_start a
DB="$PG_URL_a/log"

# 1. the store contract on PostgreSQL (a database per test)
UNIT="${GL_BUILD:-build}/tests/unit/test_log_store"
case "$UNIT" in /*) ;; *) UNIT="$ROOT/$UNIT" ;; esac
[ -x "$UNIT" ] || fail "no $UNIT (make test-build makes it)"
GL_TEST_PG="$PG_URL_a" "$UNIT" > "$T/unit.out" 2>&1 || { tail -40 "$T/unit.out"; fail "store contract tests on PostgreSQL"; }
npg=$(grep -c '^\[       OK \] .*(postgresql)$' "$T/unit.out")
[ "$npg" -ge 12 ] || fail "only $npg store tests ran on PostgreSQL: $(tail -5 "$T/unit.out")"

# start_pg_log [ARGS...]: glasslogd on the test database.
start_pg_log() {
    local rc=0
    spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 "$@" || rc=$?
    LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=${SPAWN_URL:-}
    return $rc
}

# 2. the create rules
pg_sql a "CREATE DATABASE log"
expect_rc 2 "$GL_BIN/glasslogd" --store "$DB" --data "$T/d" --key "$T/log.key" --submitters "$T/submitters"
expect_err "exactly one of --data DIR and --store URL"
start_pg_log && fail "glasslogd started on an empty database without --create"
grep -q "no glasslog log (use --create" "$LOG_OUT" || fail "empty database: $(cat "$LOG_OUT")"
start_pg_log --create || fail "--create on an empty database: $(cat "$LOG_OUT")"
grep -q "created the glasslog schema (version 4)" "$LOG_OUT" || fail "no schema line: $(cat "$LOG_OUT")"
[ "$(PG_DB=log pg_sql a "SELECT v FROM glasslog_meta WHERE k = 'schema_version'")" = '\x34' ] ||
    fail "schema_version is not 4"

# 3. appends under load, with a watcher of every checkpoint served
: > "$T/acks"
: > "$T/seen"
watcher() {
    while curl -sf "$LOG_URL/checkpoint" > "$T/w.ck" 2>/dev/null; do
        printf '%s %s\n' "$(sed -n 2p "$T/w.ck")" "$(sed -n 3p "$T/w.ck")" >> "$T/seen"
        sleep 0.05
    done
}
load() { # load SEED N
    "$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$2" -c 8 --seed "$1" \
        --subject-prefix "pg$1" --ack-log "$T/acks" --log-vkey "@$T/log.key.pub" \
        --timeout 5 > "$T/lg.out" 2> "$T/lg.err"
}
check_all() { # check_all WHAT
    $PY check-acks "$LOG_URL" "$T/acks" > "$T/chk.acks" || fail "$1: an acknowledged append is not at its index"
    $PY check-consistent "$LOG_URL" "$T/seen" > "$T/chk.seen" || fail "$1: a checkpoint seen is inconsistent"
    $PY check-tiles "$LOG_URL" || fail "$1: tiles"
    $PY check-proofs "$LOG_URL" 20 || fail "$1: proofs"
}
watcher & wp=$!
PIDS="$PIDS $wp"
load 1 "$N" || fail "loadgen exited $?: $(tail -5 "$T/lg.err")"
append_one app 1.0 > "$T/one" || fail "glasslog append"
idx=$(sed -n 's/^index //p' "$T/one")
check_all "after the load"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
[ "$size" -eq "$((N + 1))" ] || fail "size $size after $N + 1 appends"
# the client checks the proofs it gets
"$G" get proof inclusion --index "$idx" --log "$LOG_URL" > "$T/p" 2>&1 ||
    fail "glasslog get proof inclusion: $(cat "$T/p")"
"$G" get proof consistency --first 7 --second "$((N + 1))" --log "$LOG_URL" > "$T/p" 2>&1 ||
    fail "glasslog get proof consistency: $(cat "$T/p")"
"$G" get tile tile/0/000 --log "$LOG_URL" > "$T/p" 2>&1 || fail "glasslog get tile: $(cat "$T/p")"
"$G" get entry "$idx" --log "$LOG_URL" > "$T/e" 2>&1 || fail "glasslog get entry: $(cat "$T/e")"
grep -q "app" "$T/e" || fail "entry $idx is not the statement appended: $(head -c 300 "$T/e")"
stop_log
kill "$wp" 2>/dev/null; wait "$wp" 2>/dev/null

# 4. a clean restart: the same log, the tiles still match; --create refused
start_pg_log --create && fail "--create made a second log over an existing one"
grep -q "this one has one" "$LOG_OUT" || fail "--create on a log: $(cat "$LOG_OUT")"
start_pg_log || fail "restart: $(cat "$LOG_OUT")"
grep -q "$((N + 1)) entries, tiles match" "$LOG_OUT" || fail "restart: $(cat "$LOG_OUT")"
check_all "after the restart"

# 5. kill -9 under load, restart: nothing acknowledged is lost
watcher & wp=$!
PIDS="$PIDS $wp"
load 2 "$N" & lg=$!
PIDS="$PIDS $lg"
acked() { [ "$(wc -l < "$T/acks")" -gt "$((N + 200))" ]; }
wait_until 120 acked || fail "nothing acknowledged under the second load"
kill -9 "$LOG_PID"
wait "$LOG_PID" 2>/dev/null
wait "$wp" 2>/dev/null
wait "$lg"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "loadgen exited $rc: $(tail -5 "$T/lg.err")"
start_pg_log || fail "restart after kill -9: $(cat "$LOG_OUT")"
check_all "after kill -9"
acks=$(wc -l < "$T/acks")

# 6. the database stops answering (every process of the cluster
# SIGSTOPped: connections and their statements get no answer, though the
# kernel still accepts and acknowledges) for 3 s, under the sequencer
# (--lease-ms 3000: its loop's store calls wait at most 1000 ms) and a
# follower F (--lease-ms 1000: 333 ms). Their loops' own store calls (the
# lease renewal, the follower's poll) time out, so /healthz and
# /checkpoint answer from memory within 3 s all along (the old code
# stalled both loops on their first such call until the database came
# back). An append to each, sent meanwhile, is answered once the database
# is back, and later appends through both work: every acknowledged entry
# is at its index, and every checkpoint served is consistent with the
# final tree.
pg_front F
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
size0=$size
f_serves() { [ "$(curl -sf -m 2 "$URL_F/checkpoint" | sed -n 2p)" = "$size" ]; }
wait_until 10 f_serves || fail "the follower does not serve size $size: $(tail -3 "$OUT_F")"
: > "$T/stall"
# prompt URL PATH: answers within 3 s (any status: the front-end tells
# what it knows); its status and time in $T/stall, a checkpoint's size
# and root in $T/seen
prompt() {
    local out
    out=$(curl -s -o "$T/p.body" -w '%{http_code} %{time_total}' --max-time 3 "$1$2") ||
        { pg_resume a; fail "$1$2 did not answer within 3 s while the database is stopped ($out)"; }
    echo "$out" >> "$T/stall"
    [ "$2" != /checkpoint ] || [ "${out% *}" != 200 ] || seen "$T/p.body"
}
seen() { printf '%s %s\n' "$(sed -n 2p "$1")" "$(sed -n 3p "$1")" >> "$T/seen"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
pg_pause a
t_stop=$(ms)
for u in "$LOG_URL" "$URL_F"; do
    LOG_URL=$u append_one stopped "${u##*:}" --timeout 30 > "$T/stopped.${u##*:}" 2>&1 &
    PIDS="$PIDS $!"
done
while [ "$(ms)" -lt "$((t_stop + 3000))" ]; do
    for u in "$LOG_URL" "$URL_F"; do
        prompt "$u" /healthz
        prompt "$u" /checkpoint
    done
done
pg_resume a
grep -q "no answer from PostgreSQL within 1000 ms" "$LOG_OUT" ||
    fail "the sequencer logged no timed-out store call: $(tail -3 "$LOG_OUT")"
grep -q "no answer from PostgreSQL within 333 ms" "$OUT_F" ||
    fail "the follower logged no timed-out store call: $(tail -3 "$OUT_F")"
ack() { # ack FILE: the index and leaf hash glasslog append printed, into $T/acks
    printf '%s %s\n' "$(sed -n 's/^index //p' "$1")" "$(sed -n 's/^leaf_hash //p' "$1")" >> "$T/acks"
}
for f in "$T"/stopped.*; do
    wait_until 30 grep -q "^leaf_hash " "$f" || fail "an append sent while the database was stopped: $(cat "$f")"
    ack "$f"
done
for u in "$LOG_URL" "$URL_F"; do
    LOG_URL=$u append_one after "${u##*:}" > "$T/after" 2>&1 ||
        fail "append through $u after the stop: $(cat "$T/after")"
    ack "$T/after"
done
size=$((size0 + 4))
serves() { [ "$(curl -sf -m 2 "$LOG_URL/checkpoint" | sed -n 2p)" = "$size" ] && f_serves; }
wait_until 10 serves ||
    fail "not both serve size $size ($size0 + 4) after the stop: $(curl -s "$LOG_URL/checkpoint" | sed -n 2p), $(curl -s "$URL_F/checkpoint" | sed -n 2p)"
# every acknowledged entry at its index in the tree the sequencer serves,
# which is the follower's (consistent at the same size), and every
# checkpoint served meanwhile is consistent with it
curl -sf -o "$T/p.body" "$LOG_URL/checkpoint" || fail "/checkpoint after the stop"
seen "$T/p.body"
$PY check-acks "$LOG_URL" "$T/acks" > "$T/chk.acks" ||
    fail "after the stop: an acknowledged append is not at its index"
$PY check-consistent "$URL_F" "$T/seen" > "$T/chk.seen" ||
    fail "after the stop: a checkpoint served is inconsistent with the follower's tree"
stall=$(sort -k2 -n "$T/stall" | tail -1)
LOG_PID=$PID_F LOG_OUT=$OUT_F stop_log

# 7. a slow link to the database (tools/delayproxy.py --rate, 500 kB/s
# towards the server): 64 statements of ~33 KiB (2 MiB) appended at once,
# with a --batch-ms window of 4 s, make batches whose entries INSERT
# takes seconds to arrive, longer than the sessions'
# idle_in_transaction_session_timeout (1 s). The server times only the
# wait for a statement's first message (the small Parse of
# PQexecParams), so the batches are taken: every append 200.
stop_log
start_tool slow python3 "$TOOLS/delayproxy.py" --rate 500000 "$PG_PORT_a" 0
FAST_DB=$DB
DB="postgresql://postgres@127.0.0.1:$TOOL_PORT/log"
start_pg_log --batch-ms 4000 || fail "start over the slow link: $(cat "$LOG_OUT")"
DB=$FAST_DB
m=$(head -c 1000 /dev/zero | tr '\0' m)
meta=()
for i in $(seq 32); do meta+=(--meta "k$i=$m"); done
aps=""
for i in $(seq 64); do
    append_one slow "1.$i" --timeout 60 "${meta[@]}" > "$T/slow.$i" 2>&1 & aps="$aps $!"
done
PIDS="$PIDS $aps"
for p in $aps; do wait "$p" || fail "an append over the slow link failed: $(cat "$T"/slow.* | grep -v '^index\|^leaf' | head -5)"; done
grep -q "answered 503" "$T"/slow.* && fail "an append over the slow link was answered 503"
grep -q "idle-in-transaction\|batch of .* failed" "$LOG_OUT" && fail "a batch failed over the slow link: $(tail -5 "$LOG_OUT")"
size=$((size + 64))
[ "$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)" = "$size" ] || fail "not 64 more entries over the slow link"

# 8. an unknown schema version is refused, and nothing is changed
stop_log
PG_DB=log pg_sql a "UPDATE glasslog_meta SET v = '9' WHERE k = 'schema_version'"
start_pg_log && fail "glasslogd started on schema version 9"
grep -q "schema is version 9" "$LOG_OUT" || fail "schema 9: $(cat "$LOG_OUT")"
[ "$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")" = "$size" ] || fail "the state changed"
echo "60-pg-store: $npg store tests on PostgreSQL; $acks acknowledged appends (one kill -9)," \
    "lost 0, log size $size; database stopped 3 s: $(wc -l < "$T/stall") reads from memory," \
    "the slowest $(echo "$stall" | cut -d' ' -f2) s ($(echo "$stall" | cut -d' ' -f1));" \
    "tiles, proofs and checkpoints consistent: ok"
