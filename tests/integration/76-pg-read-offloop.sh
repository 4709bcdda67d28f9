# Goal: on the PostgreSQL store, a read that waits on the database does
# not stall the rest of the front-end. A psql session holds ACCESS
# EXCLUSIVE locks on glasslog_entries, glasslog_tiles and glasslog_index
# for a few seconds, so glasslogd's reads of them wait in the server (seen
# in pg_stat_activity): an entry, a proof whose full tile is not cached, a
# lookup, a full tile and an entry bundle. Meanwhile /healthz, /checkpoint
# and the partial tile (served from memory) answer within a second (the
# old code answered them only once the lock was gone), clients that leave
# free their places at once (glasslog_store_reads_waiting), and the
# waiting reads answer what is stored (checked against answers read after
# the lock and an independent recomputation of the tiles and proofs) once
# the lock is gone. Past the bound on reads waiting for the database
# (32), a read gets 503 with its reason at once, counted in
# glasslog_store_reads_refused_total.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
PY="python3 $(dirname "$0")/tlog.py"
make_keys
pg_log_db
# two threadpool threads: one for reads (half), whatever the machine
export UV_THREADPOOL_SIZE=2
spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --create --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 ||
    fail "glasslogd did not start: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
# 300 entries: tile 0/000 is full (read from the store), 0/001.p/44 is
# the right edge (held in memory)
for s in 1 2 3; do
    "$GL_BIN/glasslog" append --log "$LOG_URL" --key "$T/sub.key" --kind build \
        --subject "s$s" --version 1 --sha256 "$(printf 's%s' "$s" | sha256sum | cut -c1-64)" \
        --log-vkey "@$T/log.key.pub" > "$T/one" 2>&1 || fail "append: $(cat "$T/one")"
done
LOADGEN="$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || LOADGEN="$(dirname "$0")/../../$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || fail "no loadgen (make test-build makes it)"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 297 -c 8 --seed 7 \
    --subject-prefix ro --timeout 10 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
[ "$size" = 300 ] || fail "size $size, want 300"
curl -sf -o "$T/e0.want" "$LOG_URL/api/v1/entries/0" || fail "entries/0"

# lock TABLES SECONDS: a session holding ACCESS EXCLUSIVE locks on TABLES
# (a list "t1, t2") for SECONDS (in the background: LOCK_PID), once it
# holds them.
lock() {
    PG_DB=log pg_sql a "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($2); COMMIT" \
        > /dev/null 2>&1 &
    LOCK_PID=$!
    PIDS="$PIDS $LOCK_PID"
    wait_until 10 locked "$(echo "$1" | tr ',' '\n' | wc -l)" || fail "the lock on $1 was not taken"
}
locked() {
    [ "$(PG_DB=log pg_sql a "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname LIKE 'glasslog_%' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = "$1" ]
}
# waiting TABLE: a glasslogd statement on TABLE waits for the lock.
waiting() {
    [ "$(PG_DB=log pg_sql a "SELECT count(*) FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%$1%' AND query NOT LIKE '%pg_stat_activity%'")" -ge 1 ]
}
metric() { curl -sf "$LOG_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
waiting_reads() { [ "$(metric glasslog_store_reads_waiting)" = "$1" ]; }
# prompt PATH WANT: PATH answers WANT within 1 s; prints its time.
prompt() {
    local out
    out=$(curl -s -o "$T/p.body" -w '%{http_code} %{time_total}' --max-time 1 "$LOG_URL$1") ||
        fail "$1 did not answer within 1 s while a read waits on the database ($out)"
    [ "${out% *}" = "$2" ] || fail "$1 answered ${out% *}, want $2: $(cat "$T/p.body")"
    echo "$1 ${out#* }s" >> "$T/times"
}

# 1. an entry read, a proof whose full tile 0/000 is not cached yet and a
# lookup (its index, then its entries and tiles) wait on locked tables
lock "glasslog_entries, glasslog_tiles, glasslog_index" 3
cps=""
for r in "e0 /api/v1/entries/0" "incl /api/v1/proof/inclusion?index=3&tree_size=300" \
    "look /api/v1/lookup?subject=s2" "tile /tile/0/000" "bundle /tile/entries/001.p/44"; do
    curl -s -o "$T/${r%% *}.got" -w '%{http_code}' --max-time 10 "$LOG_URL${r#* }" > "$T/${r%% *}.code" &
    cps="$cps $!"
done
wait_until 5 waiting glasslog_ || fail "no read waits on the lock"
prompt /healthz 200
prompt /checkpoint 200
prompt /tile/0/001.p/44 200
# three clients that leave while their reads wait for the thread: their
# places are freed at once, the five others keep theirs
gone=""
for i in 1 2 3; do
    curl -s -o /dev/null --max-time 0.4 "$LOG_URL/api/v1/entries/$((10 + i))" &
    gone="$gone $!"
done
wait_until 2 waiting_reads 8 || fail "$(metric glasslog_store_reads_waiting) reads wait, want 8"
wait $gone
wait_until 2 waiting_reads 5 || fail "$(metric glasslog_store_reads_waiting) reads wait once 3 left, want 5"
for p in $cps; do
    kill -0 "$p" 2>/dev/null || fail "a read answered while the lock was held: $(cat "$T"/*.code)"
done
wait $cps
for r in e0 incl look tile bundle; do
    [ "$(cat "$T/$r.code")" = 200 ] || fail "$r answered $(cat "$T/$r.code") after the lock: $(cat "$T/$r.got")"
done
wait "$LOCK_PID"
cmp -s "$T/e0.got" "$T/e0.want" || fail "entries/0 changed: $(cat "$T/e0.got")"
curl -sf -o "$T/incl.want" "$LOG_URL/api/v1/proof/inclusion?index=3&tree_size=300" || fail "inclusion"
cmp -s "$T/incl.got" "$T/incl.want" || fail "the proof differs: $(cat "$T/incl.got")"
curl -sf -o "$T/look.want" "$LOG_URL/api/v1/lookup?subject=s2" || fail "lookup"
cmp -s "$T/look.got" "$T/look.want" || fail "the lookup differs: $(cat "$T/look.got")"
grep -q '"statements":\[{"index":1,' "$T/look.got" || fail "lookup s2: $(cat "$T/look.got")"
# the tiles and the bundle against an independent recomputation
$PY check-tiles "$LOG_URL" || fail "tiles after the lock"
curl -sf -o "$T/bundle.want" "$LOG_URL/tile/entries/001.p/44" || fail "bundle"
cmp -s "$T/bundle.got" "$T/bundle.want" || fail "the bundle differs"
curl -sf -o "$T/tile.want" "$LOG_URL/tile/0/000" || fail "tile"
cmp -s "$T/tile.got" "$T/tile.want" || fail "the tile differs"

# 3. the bounds: with the entries table locked, one client (127.0.0.1)
# gets READAPI_ASYNC_CLIENT (8) reads waiting for the database and 503 at
# once, with the reason, past them; another client (127.0.0.2) still
# gets its reads waiting and answered
lock glasslog_entries 3
: > "$T/codes"
: > "$T/codes2"
cps=""
for i in $(seq 30); do
    curl -s -o "$T/b.$i" -w '%{http_code}\n' --max-time 10 "$LOG_URL/api/v1/entries/$((i % 300))" >> "$T/codes" &
    cps="$cps $!"
done
wait_until 5 waiting glasslog_entries || fail "no read waits on the lock"
prompt /healthz 200
wait_until 5 grep -q 503 "$T/codes" || fail "no read was refused past the bound: $(sort "$T/codes" | uniq -c)"
grep -l '"error":"too many of this client.s reads wait for the database; retry"' "$T"/b.* > /dev/null ||
    fail "no 503 names its reason: $(cat "$T"/b.* | sort | uniq -c | head -5)"
for i in $(seq 6); do
    curl -s -o "$T/c.$i" -w '%{http_code}\n' --max-time 10 --interface 127.0.0.2 \
        "$LOG_URL/api/v1/entries/$((i + 100))" >> "$T/codes2" &
    cps="$cps $!"
done
wait $cps
n200=$(grep -c '^200$' "$T/codes")
n503=$(grep -c '^503$' "$T/codes")
[ $((n200 + n503)) -eq 30 ] && [ "$n200" -ge 8 ] && [ "$n503" -ge 1 ] ||
    fail "codes after the lock: $(sort "$T/codes" | uniq -c)"
[ "$(grep -c '^200$' "$T/codes2")" = 6 ] ||
    fail "the other client's reads: $(sort "$T/codes2" | uniq -c) $(cat "$T"/c.* | head -3)"
wait "$LOCK_PID"
[ "$(metric glasslog_store_reads_refused_total)" = "$n503" ] ||
    fail "glasslog_store_reads_refused_total $(metric glasslog_store_reads_refused_total), $n503 refused"
[ "$(metric glasslog_store_reads_waiting)" = 0 ] || fail "reads still counted waiting"
$PY check-proofs "$LOG_URL" 5 || fail "proofs after the test"
cat "$T/times"
kill -TERM "$LOG_PID"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
echo "PASS 76-pg-read-offloop"
