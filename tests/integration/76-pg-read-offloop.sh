# Goal: on the PostgreSQL store, a read that waits on the database does
# not stall the rest of the front-end. A psql session holds ACCESS
# EXCLUSIVE locks on glasslog_entries, glasslog_tiles and glasslog_index
# until the test releases them, so glasslogd's reads of them wait in the
# server (seen in pg_stat_activity): an entry, a proof whose full tile is
# not cached, a lookup, a full tile and an entry bundle. Meanwhile /healthz, /checkpoint
# and the partial tile (served from memory) answer within 3 s (the
# old code answered them only once the lock was gone), clients that leave
# free their places at once (glasslog_store_reads_waiting), and the
# waiting reads answer what is stored (checked against answers read after
# the lock and an independent recomputation of the tiles and proofs) once
# the lock is gone. Once warm, the tile cache holds the full tile and the
# right edge's tile of level 1 together, so proofs alternating between
# them answer while the tiles table is locked (and a tile read from the
# store counts a cache miss). Past the bound on reads
# waiting for the database
# (32), a read gets 503 with its reason at once, counted in
# glasslog_store_reads_refused_total. Look-ups made while appends grow the
# log without pause all answer 200 (their index read does not depend on
# the size served). With a threadpool of 64 threads, reads waiting on the
# database hold at most the store's read capacity (4) of its 8
# connections, so the lease renewal on the loop is not held up. A cold
# tile that eight waiting proofs want is read from the store once, and
# so is an entry that six waiting requests want (a bundle twice: at most
# four copies are handed over); a look-up's index is read by each
# look-up; the waiters of a leaf read that failed read at once, not one
# after the other; a
# waiting look-up that took its tile from the cache reads it after all if
# it was evicted before the look-up was computed again. When one job's
# reads of two tiles fail, the waiters of each read at once; a proof by
# a leaf hash waiting for the read of another one with the same first 16
# bytes is not given its result. A look-up answers as of the tree it
# started with: a match appended while its entries are read (a second
# front-end whose entry reads are slow) is listed if and only if its
# tree_size holds it.
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
loadgen_tool
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 297 -c 8 --seed 7 \
    --subject-prefix ro --timeout 10 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
[ "$size" = 300 ] || fail "size $size, want 300"
curl -sf -o "$T/e0.want" "$LOG_URL/api/v1/entries/0" || fail "entries/0"
# restart_log SIZE: stops glasslogd and starts it again on the same
# store (a fresh process: no tile cached), until it serves size SIZE
restart_log() {
    kill -TERM "$LOG_PID"
    wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
    spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 ||
        fail "glasslogd did not start again: $(cat "$SPAWN_OUT")"
    LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
    want_size=$1
    serves_size() { [ "$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)" = "$want_size" ]; }
    wait_until 10 serves_size ||
        fail "the restarted glasslogd does not serve size $want_size"
}
# a fresh process, whose tile cache holds nothing yet (the appends' own
# proofs put tile 0/000 in it)
restart_log 300

# lock TABLES [TAG]: a session holding ACCESS EXCLUSIVE locks on TABLES
# (a list "t1, t2"), in the background, once it holds them, until unlock
# TAG cancels it: the lock lasts as long as the checks made under it,
# however slow the machine. TAG (600 unless given; the seconds the
# session sleeps) tells sessions held at once apart.
declare -A LOCK_PID LOCK_N
lock() {
    local tag=${2:-600} held
    held=$(nlocked)
    PG_DB=log pg_sql a "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($tag); COMMIT" \
        > /dev/null 2>&1 &
    LOCK_PID[$tag]=$!
    LOCK_N[$tag]=$(echo "$1" | tr ',' '\n' | wc -l)
    PIDS="$PIDS $!"
    wait_until 10 locked $((held + LOCK_N[$tag])) || fail "the lock on $1 was not taken"
}
unlock() {
    local tag=${1:-600} held
    held=$(nlocked)
    PG_DB=log pg_sql a "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
        WHERE query LIKE '%pg_sleep($tag)%' AND pid <> pg_backend_pid()" > /dev/null ||
        fail "cannot cancel the session holding the lock"
    wait "${LOCK_PID[$tag]}" 2>/dev/null # psql exits 1: its transaction was cancelled
    wait_until 10 locked $((held - LOCK_N[$tag])) || fail "the lock was not released"
}
nlocked() {
    PG_DB=log pg_sql a "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname LIKE 'glasslog_%' AND l.mode = 'AccessExclusiveLock' AND l.granted"
}
locked() { [ "$(nlocked)" = "$1" ]; }
# waiting TABLE: a glasslogd statement on TABLE waits for the lock.
waiting() {
    [ "$(PG_DB=log pg_sql a "SELECT count(*) FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%$1%' AND query NOT LIKE '%pg_stat_activity%'")" -ge 1 ]
}
metric() { curl -sf "$LOG_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
waiting_reads() { [ "$(metric glasslog_store_reads_waiting)" = "$1" ]; }
# prompt PATH WANT: PATH answers WANT within 3 s (the lock is held until
# unlock: a read queued behind it would take as long); prints its time.
prompt() {
    local out
    out=$(curl -s -o "$T/p.body" -w '%{http_code} %{time_total}' --max-time 3 "$LOG_URL$1") ||
        fail "$1 did not answer within 3 s while a read waits on the database ($out)"
    [ "${out% *}" = "$2" ] || fail "$1 answered ${out% *}, want $2: $(cat "$T/p.body")"
    echo "$1 ${out#* }s" >> "$T/times"
}
# proofs_bg NAME CODES I...: asks, in the background, the inclusion proof
# of each entry I in the tree of the next multiple of 256 in size: the
# answer in $T/NAME.I, its status appended to CODES, the pid added to cps.
proofs_bg() {
    local name=$1 codes=$2 i
    shift 2
    for i in "$@"; do
        curl -s -o "$T/$name.$i" -w '%{http_code}\n' --max-time 30 \
            "$LOG_URL/api/v1/proof/inclusion?index=$i&tree_size=$(((i / 256 + 1) * 256))" \
            >> "$codes" &
        cps="$cps $!"
    done
}

# 1. an entry read, a proof whose full tile 0/000 is not cached yet and a
# lookup (its index, then its entries and tiles) wait on locked tables
# the right edge's tiles in the cache (each a miss, put from memory)
for p in /tile/0/001.p/44 /tile/1/000.p/1; do
    curl -sf -o /dev/null "$LOG_URL$p" || fail "$p"
done
misses0=$(metric glasslog_tile_cache_misses_total)
lock "glasslog_entries, glasslog_tiles, glasslog_index"
cps=""
for r in "e0 /api/v1/entries/0" "incl /api/v1/proof/inclusion?index=3&tree_size=300" \
    "look /api/v1/lookup?subject=s2" "tile /tile/0/000" "bundle /tile/entries/001.p/44"; do
    curl -s -o "$T/${r%% *}.got" -w '%{http_code}' --max-time 30 "$LOG_URL${r#* }" > "$T/${r%% *}.code" &
    cps="$cps $!"
done
wait_until 20 waiting glasslog_ || fail "no read waits on the lock"
prompt /healthz 200
prompt /checkpoint 200
prompt /tile/0/001.p/44 200
# three clients that leave while their reads wait for the thread: their
# places are freed at once, the five others keep theirs
# (they leave when killed, once the 8 are seen: no time window to race)
gone=""
for i in 1 2 3; do
    curl -s -o /dev/null --max-time 60 "$LOG_URL/api/v1/entries/$((10 + i))" &
    gone="$gone $!"
done
wait_until 10 waiting_reads 8 || fail "$(metric glasslog_store_reads_waiting) reads wait, want 8"
kill $gone 2>/dev/null
wait $gone 2>/dev/null
wait_until 10 waiting_reads 5 || fail "$(metric glasslog_store_reads_waiting) reads wait once 3 left, want 5"
for p in $cps; do
    kill -0 "$p" 2>/dev/null || fail "a read answered while the lock was held: $(cat "$T"/*.code)"
done
unlock
wait $cps
for r in e0 incl look tile bundle; do
    [ "$(cat "$T/$r.code")" = 200 ] || fail "$r answered $(cat "$T/$r.code") after the lock: $(cat "$T/$r.got")"
done
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
# tile 0/000, missing from the cache, was read from the store: a miss
[ "$(metric glasslog_tile_cache_misses_total)" -gt "${misses0:-0}" ] ||
    fail "glasslog_tile_cache_misses_total $misses0 -> $(metric glasslog_tile_cache_misses_total) after a tile read from the store"

# 2. a warm tile cache answers proofs without the database: a proof of
# entry 3 reads the full tile 0/000, one of entry 290 the right edge's
# 1/000.p/1, and both stay cached together (the old cache put tile (L, i)
# in the slot of (0, i), so each proof of 290 pushed 0/000 out and the
# next proof of 3 read it again, waiting on the lock here); with the
# tiles table locked, proofs of both, alternating, answer within 3 s
# what they answered before, and glasslog_store_reads_total (at least the
# five reads of 1) does not move
for i in 3 290; do
    curl -sf -o "$T/hot.$i.want" "$LOG_URL/api/v1/proof/inclusion?index=$i&tree_size=300" ||
        fail "inclusion $i"
done
reads0=$(metric glasslog_store_reads_total)
[ "${reads0:-0}" -ge 5 ] || fail "glasslog_store_reads_total $reads0 after the reads of 1"
lock glasslog_tiles
for round in 1 2 3; do
    for i in 3 290; do
        prompt "/api/v1/proof/inclusion?index=$i&tree_size=300" 200
        cmp -s "$T/p.body" "$T/hot.$i.want" || fail "the proof of $i differs: $(cat "$T/p.body")"
    done
done
unlock
[ "$(metric glasslog_store_reads_total)" = "$reads0" ] ||
    fail "warm proofs read the store: glasslog_store_reads_total $reads0 -> $(metric glasslog_store_reads_total)"

# 3. the bounds: with the entries table locked, one client (127.0.0.1)
# gets half of READAPI_ASYNC_MAX (64) reads waiting for the database, more
# than READAPI_ASYNC_CLIENT (8): a lone busy client is not held to its
# share while places are plenty; past that half it gets 503 at once, with
# the reason; another client (127.0.0.2) still gets its reads waiting and
# answered
lock glasslog_entries
: > "$T/codes"
: > "$T/codes2"
cps=""
for i in $(seq 40); do
    curl -s -o "$T/b.$i" -w '%{http_code}\n' --max-time 30 "$LOG_URL/api/v1/entries/$((i % 300))" >> "$T/codes" &
    cps="$cps $!"
done
wait_until 20 waiting glasslog_entries || fail "no read waits on the lock"
prompt /healthz 200
wait_until 5 grep -q 503 "$T/codes" || fail "no read was refused past the bound: $(sort "$T/codes" | uniq -c)"
grep -l '"error":"too many of this client.s reads wait for the database; retry"' "$T"/b.* > /dev/null ||
    fail "no 503 names its reason: $(cat "$T"/b.* | sort | uniq -c | head -5)"
for i in $(seq 6); do
    curl -s -o "$T/c.$i" -w '%{http_code}\n' --max-time 30 --interface 127.0.0.2 \
        "$LOG_URL/api/v1/entries/$((i + 100))" >> "$T/codes2" &
    cps="$cps $!"
done
unlock
wait $cps
n200=$(grep -c '^200$' "$T/codes")
n503=$(grep -c '^503$' "$T/codes")
[ $((n200 + n503)) -eq 40 ] && [ "$n200" -ge 32 ] && [ "$n503" -ge 1 ] ||
    fail "codes after the lock: $(sort "$T/codes" | uniq -c)"
[ "$(grep -c '^200$' "$T/codes2")" = 6 ] ||
    fail "the other client's reads: $(sort "$T/codes2" | uniq -c) $(cat "$T"/c.* | head -3)"
[ "$(metric glasslog_store_reads_refused_total)" = "$n503" ] ||
    fail "glasslog_store_reads_refused_total $(metric glasslog_store_reads_refused_total), $n503 refused"
[ "$(metric glasslog_store_reads_waiting)" = 0 ] || fail "reads still counted waiting"
$PY check-proofs "$LOG_URL" 5 || fail "proofs after the test"

# 4. look-ups while the log grows: appends arrive without pause (up to
# 1000/s: each batch moves the served size) while 32 look-ups from four
# clients share the one read thread, six times over; every one answers
# 200 with entry 1 and a size served meanwhile (the index is read once,
# whatever the size, and cut to the size served when answering; the old
# code read it again for each new size and answered some 503 "the log
# grew while this was read")
size0=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 6000 -c 8 --rate 1000 --seed 8 \
    --subject-prefix grow --timeout 10 > "$T/lg2.out" 2> "$T/lg2.err" &
LG_PID=$!
PIDS="$PIDS $LG_PID"
grown() { [ "$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)" -gt "$1" ]; }
wait_until 5 grown "$size0" || fail "the appends do not grow the log"
: > "$T/gcodes"
for wave in 1 2 3 4 5 6; do
    cps=""
    for a in 1 2 3 4; do
        args=()
        for i in $(seq 8); do
            args+=(-o "$T/g.$wave.$a.$i" "$LOG_URL/api/v1/lookup?subject=s2")
        done
        curl -s --parallel --parallel-immediate --parallel-max 8 -w '%{http_code}\n' \
            --max-time 10 --interface "127.0.0.$a" "${args[@]}" >> "$T/gcodes" &
        cps="$cps $!"
    done
    wait $cps
done
size1=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
kill -0 "$LG_PID" 2>/dev/null || fail "the appends ended before the look-ups: $(cat "$T/lg2.out")"
[ "$(grep -c "^200$" "$T/gcodes")" = 192 ] ||
    fail "look-ups while the log grows ($size0 -> $size1): $(sort "$T/gcodes" | uniq -c) $(cat "$T"/g.* | sort | uniq -c | grep -v statements | head -3)"
bad=$(grep -L '^{"statements":\[{"index":1,"leaf_hash":"[0-9a-f]*","statement":"[^"]*","proof":"[^"]*"}\],"tree_size":[0-9]*}$' "$T"/g.* | head -1)
[ -z "$bad" ] || fail "a look-up while the log grows: $(cat "$bad")"
sed 's/.*"tree_size":\([0-9]*\)}$/\1/' "$T"/g.* |
    awk -v lo="$size0" -v hi="$size1" '$1 < lo || $1 > hi { print; exit 1 }' > "$T/gsize" ||
    fail "a look-up answered for size $(cat "$T/gsize"), not within $size0..$size1"
kill "$LG_PID"
wait "$LG_PID" 2>/dev/null
kill -TERM "$LOG_PID"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"

# 5. a large threadpool (64 threads, as main.c gives a 64-core host) takes
# no more database connections for reads than the store's read capacity
# (4 of PostgreSQL's 8): with the entries table locked, 24 reads of 24
# entries from three clients wait, but only 4 of them in the database,
# and the lease
# renewal (every 500 ms, on the loop) finds a connection, so /healthz
# stays prompt (the old code let 32 reads take all 8 connections, and
# the lease renewal then waited on the loop for the lock to go)
export UV_THREADPOOL_SIZE=64
spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 ||
    fail "glasslogd did not start again: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
for i in $(seq 20 43); do
    curl -sf -o "$T/w.$i.want" "$LOG_URL/api/v1/entries/$i" || fail "entries/$i"
done
in_db() {
    PG_DB=log pg_sql a "SELECT count(*) FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%glasslog_entries%'
        AND query NOT LIKE '%pg_stat_activity%'"
}
lock glasslog_entries
cps=""
for a in 1 2 3; do
    for i in $(seq 8); do
        curl -s -o "$T/w.$a.$i" -w '%{http_code}\n' --max-time 30 --interface "127.0.0.$a" \
            "$LOG_URL/api/v1/entries/$((11 + 8 * a + i))" >> "$T/wcodes" &
        cps="$cps $!"
    done
done
wait_until 10 waiting_reads 24 || fail "$(metric glasslog_store_reads_waiting) reads wait, want 24"
sleep 0.7 # the lease timer runs at least once
prompt /healthz 200
n=$(in_db)
[ "$n" = 4 ] || fail "$n reads wait in the database, want the store's read capacity (4)"
prompt /healthz 200
unlock
wait $cps
[ "$(grep -c '^200$' "$T/wcodes")" = 24 ] || fail "reads after the lock: $(sort "$T/wcodes" | uniq -c)"
for a in 1 2 3; do
    for i in $(seq 8); do
        cmp -s "$T/w.$a.$i" "$T/w.$((11 + 8 * a + i)).want" ||
            fail "entries/$((11 + 8 * a + i)): $(cat "$T/w.$a.$i")"
    done
done

# 6. a cold tile is read once, however many requests in flight want it:
# in this fresh process the full tiles 0/000 and 0/001 are not cached;
# with the tiles table locked, eight inclusion proofs (four in the tree of
# size 256: tile 0/000, four in that of 512: 0/001; four may read at
# once) wait; once the lock is gone they answer what they answer later,
# and glasslog_store_reads_total grew by 2, one read per tile (the old
# code read a tile once per request in flight or queued: 8)
reads0=$(metric glasslog_store_reads_total)
lock glasslog_tiles
: > "$T/ccodes"
cps=""
proofs_bg cold "$T/ccodes" 3 4 5 6 260 261 262 263
wait_until 10 waiting_reads 8 || fail "$(metric glasslog_store_reads_waiting) cold proofs wait, want 8"
unlock
wait $cps
[ "$(grep -c '^200$' "$T/ccodes")" = 8 ] || fail "cold proofs: $(sort "$T/ccodes" | uniq -c)"
reads1=$(metric glasslog_store_reads_total)
[ $((reads1 - reads0)) = 2 ] ||
    fail "8 cold proofs of 2 tiles made $((reads1 - reads0)) store reads, want 2"
for i in 3 4 5 6 260 261 262 263; do
    curl -sf -o "$T/cold.want" \
        "$LOG_URL/api/v1/proof/inclusion?index=$i&tree_size=$(((i / 256 + 1) * 256))" ||
        fail "inclusion $i"
    cmp -s "$T/cold.$i" "$T/cold.want" || fail "the cold proof of $i differs: $(cat "$T/cold.$i")"
done
[ "$(metric glasslog_store_reads_total)" = "$reads1" ] || fail "warm proofs read the store"

# 6b. so is an entry bundle or an entry: with the entries table locked,
# six requests for bundle 000 and six for entry 7 wait (four may read at
# once; the five behind the first of each wait for its read); once the
# lock is gone they all answer what they answer later, and
# glasslog_store_reads_total grew by 3: the entry once, the bundle twice,
# since a read's end hands at most four (the read slots) copies of a
# bundle over and the fifth waiter reads it itself (the code before read
# each once per request: 12, then handed all five copies over: 2). A look-up's index read is never shared: its result may be
# older than the checkpoint a look-up that came later answers with. With
# the index table locked, six look-ups of s3 each read the index (then
# entry 2, which some may share, and its tile 0/000, warmed here:
# between 7 and 12 reads; the code before read the index once, then
# entry 2 once: 2), and six of a subject never logged read it six times
# (they read nothing else; the code before: 1), and all answer what
# they answer later
curl -sf -o /dev/null "$LOG_URL/api/v1/proof/inclusion?index=2&tree_size=256" ||
    fail "inclusion 2" # tile 0/000 in the cache
shared_reads() { # TABLES WANT-MIN WANT-MAX REQUEST...
    local tables=$1 lo=$2 hi=$3 r i cps="" reads0 reads1
    shift 3
    reads0=$(metric glasslog_store_reads_total)
    lock "$tables"
    : > "$T/bcodes"
    for i in 1 2 3 4 5 6; do
        for r in "$@"; do
            curl -s -o "$T/${r%% *}.$i" -w '%{http_code}\n' --max-time 30 "$LOG_URL${r#* }" \
                >> "$T/bcodes" &
            cps="$cps $!"
        done
    done
    wait_until 10 waiting_reads $((6 * $#)) ||
        fail "$(metric glasslog_store_reads_waiting) reads wait, want $((6 * $#))"
    unlock
    wait $cps
    [ "$(grep -c '^200$' "$T/bcodes")" = $((6 * $#)) ] || fail "cold reads: $(sort "$T/bcodes" | uniq -c)"
    reads1=$(metric glasslog_store_reads_total)
    [ $((reads1 - reads0)) -ge "$lo" ] && [ $((reads1 - reads0)) -le "$hi" ] ||
        fail "6 requests each for $* made $((reads1 - reads0)) store reads, want $lo to $hi"
    for r in "$@"; do
        curl -sf -o "$T/c.want" "$LOG_URL${r#* }" || fail "${r#* }"
        for i in 1 2 3 4 5 6; do
            cmp -s "$T/${r%% *}.$i" "$T/c.want" || fail "${r#* } $i differs: $(head -c 300 "$T/${r%% *}.$i")"
        done
    done
}
shared_reads glasslog_entries 3 3 "cb /tile/entries/000" "ce /api/v1/entries/7"
shared_reads glasslog_index 7 12 "cl /api/v1/lookup?subject=s3"
shared_reads glasslog_index 6 6 "cn /api/v1/lookup?subject=nosuch"
grep -q '"tree_size"' "$T/cn.1" || fail "the look-up of nosuch: $(cat "$T/cn.1")"

# 6c. the waiters of a shared read that failed read at once, not one
# after the other: with the leaves table locked, five proofs by a leaf
# hash never logged wait, one reading (the others wait for it); once its
# statement is cancelled (the read fails: 500), the four others all read
# at once (four may: all four wait on the lock; the code before let one
# read and the three others wait for it again, one round trip each), and
# once the lock is gone they answer 404
nolog=$(printf nolog | sha256sum | cut -c1-64)
nwaiting() {
    PG_DB=log pg_sql a "SELECT count(*) FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%$1%' AND query NOT LIKE '%pg_stat_activity%'"
}
waiting_n() { [ "$(nwaiting "$1")" = "$2" ]; }
lock glasslog_leaves
: > "$T/fcodes"
cps=""
for i in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
        "$LOG_URL/api/v1/proof/inclusion?leaf_hash=$nolog" >> "$T/fcodes" &
    cps="$cps $!"
done
wait_until 10 waiting_reads 5 || fail "$(metric glasslog_store_reads_waiting) proofs wait, want 5"
wait_until 10 waiting_n glasslog_leaves 1 || fail "$(nwaiting glasslog_leaves) leaf reads wait, want 1"
PG_DB=log pg_sql a "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE '%glasslog_leaves%'
    AND query NOT LIKE '%pg_stat_activity%'" > /dev/null || fail "cannot cancel the leaf read"
wait_until 10 waiting_n glasslog_leaves 4 ||
    fail "$(nwaiting glasslog_leaves) leaf reads wait once the first failed, want 4 at once"
unlock
wait $cps
[ "$(sort "$T/fcodes" | uniq -c | tr -s ' ' | tr '\n' ,)" = " 4 404, 1 500," ] ||
    fail "proofs by an unlogged leaf hash: $(sort "$T/fcodes" | uniq -c)"
kill -TERM "$LOG_PID"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"

# 7. a tile a waiting request takes from the cache (read for another)
# is its own: in a fresh process with a 16-tile cache, a look-up of s2
# (entry 1 and its proof: tile 0/000) waits for a proof reading 0/000
# (tiles locked), takes it from the cache and waits for its entry
# (entries locked); the other full tiles read meanwhile push 0/000 out;
# the look-up then reads its entry only (1 read) and answers what it
# answers later. Then no request waits for a read of a tile by a job that
# also reads an entry: with 0/000 pushed out again and entries locked, a
# look-up of s1 reads its entry and 0/000, and a cold proof needing
# 0/000 answers at once
spawn glasslogd "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" --tile-cache 16 \
    --submitters "$T/submitters" --listen 127.0.0.1:0 ||
    fail "glasslogd did not start again: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
# 14 full tiles: four of them (2, 5, 10, 13) share 0/000's set of the
# cache's four (4 ways)
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n $((14 * 256 - size)) -c 64 \
    --seed 9 --subject-prefix ev --timeout 10 > "$T/lg3.out" 2> "$T/lg3.err" ||
    fail "loadgen: $(tail -3 "$T/lg3.err")"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
[ "$size" = $((14 * 256)) ] || fail "size $size, want $((14 * 256))"
reads_are() { [ "$(metric glasslog_store_reads_total)" = "$1" ]; }
lock glasslog_tiles 601
curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
    "$LOG_URL/api/v1/proof/inclusion?index=3&tree_size=256" > "$T/ev.p" &
ppid=$!
wait_until 20 waiting glasslog_tiles || fail "the proof does not wait on the lock"
reads0=$(metric glasslog_store_reads_total)
curl -s -o "$T/ev.look" -w '%{http_code}' --max-time 30 "$LOG_URL/api/v1/lookup?subject=s2" \
    > "$T/ev.code" &
lpid=$!
wait_until 5 reads_are $((reads0 + 1)) || fail "the look-up did not read its index"
lock glasslog_entries 602
unlock 601
wait "$ppid"
[ "$(cat "$T/ev.p")" = 200 ] || fail "the proof answered $(cat "$T/ev.p")"
wait_until 20 waiting glasslog_entries || fail "the look-up does not wait for its entry"
for i in $(seq 1 $((size / 256 - 1))); do
    curl -sf -o /dev/null "$LOG_URL/tile/0/$(printf '%03d' "$i")" || fail "tile 0/$i"
done
reads1=$(metric glasslog_store_reads_total)
unlock 602
wait "$lpid"
[ "$(cat "$T/ev.code")" = 200 ] || fail "the look-up answered $(cat "$T/ev.code"): $(cat "$T/ev.look")"
[ "$(metric glasslog_store_reads_total)" = $((reads1 + 1)) ] ||
    fail "the look-up made $(($(metric glasslog_store_reads_total) - reads1)) store reads, want 1 (its entry)"
curl -sf -o "$T/ev.want" "$LOG_URL/api/v1/lookup?subject=s2" || fail "lookup"
cmp -s "$T/ev.look" "$T/ev.want" || fail "the look-up differs: $(cat "$T/ev.look")"
for i in $(seq 1 $((size / 256 - 1))); do
    curl -sf -o /dev/null "$LOG_URL/tile/0/$(printf '%03d' "$i")" || fail "tile 0/$i"
done
lock glasslog_entries 603
curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$LOG_URL/api/v1/lookup?subject=s1" \
    > "$T/ev.code" &
lpid=$!
wait_until 20 waiting glasslog_entries || fail "the look-up of s1 does not wait for its entry"
prompt "/api/v1/proof/inclusion?index=3&tree_size=256" 200
unlock 603
wait "$lpid"
[ "$(cat "$T/ev.code")" = 200 ] || fail "the look-up of s1 answered $(cat "$T/ev.code")"
# the leaf hash of entry 0, and one with its first 16 bytes, never logged
h1=$(curl -sf "$LOG_URL/tile/0/000" | head -c 32 | od -An -tx1 | tr -d ' \n')
[ ${#h1} = 64 ] || fail "the leaf hash of entry 0: $h1"
h2=${h1:0:32}$(printf '%s' "${h1:32}" | tr 0-9a-f 1-9a-f0)

# 8. one job's end hands several reads over: in a fresh process (no tile
# cached, four read slots), with the tiles table locked, a consistency
# proof from 300 to 700 reads the full tiles 0/001 and 0/002 in one job
# (shared: tiles only), two proofs wait for each tile; each of its two
# reads is cancelled (it fails: 500), and the four waiters then all read
# at once (a hand-over that reached the waiters of one tile only would
# leave one of the other two waiting for the other: 3), and once the lock
# is gone answer what they answer later. Then a proof by leaf hash h2,
# whose key (the first 16 bytes) is that of h1, waits for the read of h1
# (leaves locked) and is not handed its result: h1 answers 200, h2 404
restart_log "$size"
# cancel_tile_read: cancels the read of a tile waiting on the lock, which
# started after the last one cancelled (the job reads its tiles in turn)
tstart=0
tile_read() {
    PG_DB=log pg_sql a "SELECT pid || ' ' || extract(epoch FROM query_start)
        FROM pg_stat_activity WHERE wait_event_type = 'Lock'
        AND query LIKE '%glasslog_tiles%' AND query NOT LIKE '%pg_stat_activity%'
        AND extract(epoch FROM query_start) > $tstart"
}
new_tile_read() { [ "$(tile_read | wc -w)" = 2 ]; }
cancel_tile_read() {
    local r
    wait_until 10 new_tile_read || fail "no new tile read waits on the lock: $(tile_read)"
    r=$(tile_read)
    tstart=${r#* }
    PG_DB=log pg_sql a "SELECT pg_cancel_backend(${r% *})" > /dev/null ||
        fail "cannot cancel the tile read"
}
lock glasslog_tiles 604
: > "$T/mcodes"
curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
    "$LOG_URL/api/v1/proof/consistency?first=300&second=700" >> "$T/mcodes" &
cps=$!
wait_until 20 waiting glasslog_tiles || fail "the consistency proof does not wait on the lock"
proofs_bg m "$T/mcodes" 260 261 520 521
wait_until 10 waiting_reads 5 || fail "$(metric glasslog_store_reads_waiting) proofs wait, want 5"
[ "$(nwaiting glasslog_tiles)" = 1 ] || fail "$(nwaiting glasslog_tiles) tile reads wait, want 1"
cancel_tile_read # 0/001
cancel_tile_read # 0/002
wait_until 10 waiting_n glasslog_tiles 4 ||
    fail "$(nwaiting glasslog_tiles) tile reads wait once both failed, want 4 at once"
unlock 604
wait $cps
[ "$(sort "$T/mcodes" | uniq -c | tr -s ' ' | tr '\n' ,)" = " 4 200, 1 500," ] ||
    fail "a consistency proof whose tile reads failed and four waiters: $(sort "$T/mcodes" | uniq -c)"
for i in 260 261 520 521; do
    curl -sf -o "$T/m.want" \
        "$LOG_URL/api/v1/proof/inclusion?index=$i&tree_size=$(((i / 256 + 1) * 256))" ||
        fail "inclusion $i"
    cmp -s "$T/m.$i" "$T/m.want" || fail "the proof of $i differs: $(cat "$T/m.$i")"
done
lock glasslog_leaves 605
curl -s -o "$T/h1.got" -w '%{http_code}' --max-time 30 \
    "$LOG_URL/api/v1/proof/inclusion?leaf_hash=$h1" > "$T/h1.code" &
cps=$!
wait_until 20 waiting glasslog_leaves || fail "the proof by h1 does not wait on the lock"
curl -s -o "$T/h2.got" -w '%{http_code}' --max-time 30 \
    "$LOG_URL/api/v1/proof/inclusion?leaf_hash=$h2" > "$T/h2.code" &
cps="$cps $!"
wait_until 10 waiting_reads 2 || fail "$(metric glasslog_store_reads_waiting) proofs wait, want 2"
[ "$(nwaiting glasslog_leaves)" = 1 ] || fail "the proof by h2 does not wait for h1's read"
unlock 605
wait $cps
[ "$(cat "$T/h1.code") $(cat "$T/h2.code")" = "200 404" ] ||
    fail "proofs by h1, h2 answered $(cat "$T/h1.code") $(cat "$T/h2.code"): $(cat "$T/h2.got")"
curl -sf -o "$T/h1.want" "$LOG_URL/api/v1/proof/inclusion?leaf_hash=$h1" || fail "h1"
cmp -s "$T/h1.got" "$T/h1.want" || fail "the proof by h1 differs: $(cat "$T/h1.got")"
# A look-up answers as of the tree it started with. Front-end B reads
# glasslog_entries through a view that takes 0.7 s a row (its
# search_path), so a look-up's entries come a round after its index;
# meanwhile a statement that matches is appended at the leader and B
# follows it. The answer lists every match below the tree_size it gives
# (the old code cut the index read before the append at the new size:
# tree_size covered the new statement, the list lacked it), each with a
# proof against the checkpoint of that size.
for v in 1 2 3; do append_one pinned "$v" > "$T/one" 2>&1 || fail "append: $(cat "$T/one")"; done
PG_DB=log pg_sql a "CREATE SCHEMA slow;
CREATE FUNCTION slow.nap() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
\$\$ BEGIN PERFORM pg_sleep(0.7); RETURN true; END \$\$;
CREATE VIEW slow.glasslog_entries AS SELECT e.idx, e.data FROM public.glasslog_entries e
WHERE slow.nap();" > /dev/null || fail "the slow view"
size=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
DB_LEADER=$DB
DB="$DB?options=-csearch_path%3Dslow%2Cpublic" pg_front B
DB=$DB_LEADER
wait_until 10 sh -c "[ \"\$(curl -sf $URL_B/checkpoint | sed -n 2p)\" = $size ]" ||
    fail "B does not serve $size: $(tail -3 "$OUT_B")"
curl -s -o "$T/pin.json" --max-time 30 "$URL_B/api/v1/lookup?subject=pinned" &
cps=$!
sleep 0.3 # B read the index and waits for the first entry
append_one pinned 4 > "$T/one" 2>&1 || fail "append: $(cat "$T/one")"
wait $cps
python3 - "$T/pin.json" "$size" <<'PY' || fail "the look-up during an append: $(cat "$T/pin.json")"
import json, sys
j = json.load(open(sys.argv[1]))
size, ts = int(sys.argv[2]), j["tree_size"]
got = [s["index"] for s in j["statements"]]
want = [i for i in range(size - 3, size + 1) if i < ts]
assert got == want, "tree_size %d lists %s, want %s" % (ts, got, want)
for s in j["statements"]:
    ck = s["proof"].split("\n\n", 1)[1].split("\n")
    assert ck[1] == str(ts), "a proof against size %s, not tree_size %d" % (ck[1], ts)
PY
kill -TERM "$PID_B"
wait "$PID_B" || fail "front-end B exited $? on SIGTERM"
cat "$T/times"
kill -TERM "$LOG_PID"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
echo "PASS 76-pg-read-offloop"
