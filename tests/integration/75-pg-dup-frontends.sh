# Goal: copies of one statement submitted at the same moment to different
# front-ends of one PostgreSQL log get one answer between them: exactly
# one says "duplicate":false (the copy that created the entry), every
# other says true, and all name the same index. Three glasslogd share
# the log: A sequences, B and C follow (their copies go through the
# shared queue). Each of 20 new statements is POSTed to A, B and C at
# once (all 60 requests in flight together), so a sequencer's own copy
# races the followers' queued ones and two followers' queued copies race
# each other. (Each front-end knowing only its own submissions, A and a
# follower, or two followers, both said false.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
pg_front A --create
wait_until 10 pg_leads "$OUT_A" || fail "A did not take the lease: $(cat "$OUT_A")"
LEASE_MS=600000 pg_front B # lease attempts 100 s apart: B and C follow
LEASE_MS=600000 pg_front C

N=20
for k in $(seq $N); do statement "dup-$k-$RANDOM" 1.0 > "$T/st.$k" || fail "sign $k"; done
cpids=""
for k in $(seq $N); do
    for fe in A B C; do
        url=$(eval echo "\$URL_$fe")
        curl -s -m 40 -o "$T/r.$k.$fe" -w '%{http_code}' --data-binary "@$T/st.$k" \
            "$url/api/v1/add" > "$T/c.$k.$fe" &
        cpids="$cpids $!"
    done
done
for p in $cpids; do wait "$p"; done
grep -q 'took the lease' "$OUT_B" "$OUT_C" && fail "B or C sequenced: the test needs them to follow"

for k in $(seq $N); do
    nfalse=0
    for fe in A B C; do
        [ "$(cat "$T/c.$k.$fe")" = 200 ] ||
            fail "statement $k through $fe: $(cat "$T/c.$k.$fe") $(cat "$T/r.$k.$fe")"
        grep -q '"duplicate": *\(true\|false\)' "$T/r.$k.$fe" ||
            fail "statement $k through $fe: no duplicate flag: $(cat "$T/r.$k.$fe")"
        grep -q '"duplicate": *false' "$T/r.$k.$fe" && nfalse=$((nfalse + 1))
    done
    [ "$nfalse" = 1 ] || fail "statement $k: $nfalse of its 3 copies (A, B, C) say duplicate false, want 1: $(cat "$T/r.$k.A" "$T/r.$k.B" "$T/r.$k.C" | grep -o '"\(index\|duplicate\)": *[a-z0-9]*' | tr '\n' ' ')"
    [ "$(cat "$T/r.$k.A" "$T/r.$k.B" "$T/r.$k.C" | grep -o '"index": *[0-9]*' | sort -u | wc -l)" = 1 ] ||
        fail "statement $k: its copies got different indices: $(cat "$T/r.$k.A" "$T/r.$k.B" "$T/r.$k.C")"
done
# every statement logged once
[ "$(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_leaves")" = "$N" ] ||
    fail "the log holds $(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_leaves") entries, want $N"
for fe in C B A; do
    LOG_PID=$(eval echo "\$PID_$fe") LOG_OUT=$(eval echo "\$OUT_$fe") stop_log
done
echo "75-pg-dup-frontends: of $N statements each sent to three front-ends at once, exactly one copy says duplicate false: ok"
