# Goal: copies of one statement submitted at the same moment to different
# front-ends of one PostgreSQL log get one answer between them: exactly
# one says "duplicate":false (the copy that created the entry), every
# other says true, and all name the same index. Three glasslogd share
# the log: A sequences, B and C follow (their copies go through the
# shared queue). Each of 18 new statements is POSTed at once to two or
# three of them, one statement after the other: to A and B (a
# sequencer's own copy races a queued one), to B and C (two queued copies
# race), to A, B and C. (Each front-end knowing only its own
# submissions, A and a follower, or two followers, both said false.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
pg_leader
LEASE_MS=600000 pg_front B # lease attempts 100 s apart: B and C follow
LEASE_MS=600000 pg_front C

N=18
# round K FRONT...: statement K POSTed to every FRONT at once; checks the
# answers.
round() {
    local k=$1 fe url p pids="" nfalse=0 ixs=""
    shift
    statement "dup-$k-$RANDOM" 1.0 > "$T/st.$k" || fail "sign $k"
    for fe in "$@"; do
        url=$(eval echo "\$URL_$fe")
        curl -s -m 40 -o "$T/r.$k.$fe" -w '%{http_code}' --data-binary "@$T/st.$k" \
            "$url/api/v1/add" > "$T/c.$k.$fe" &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
    for fe in "$@"; do
        [ "$(cat "$T/c.$k.$fe")" = 200 ] ||
            fail "statement $k through $fe: $(cat "$T/c.$k.$fe") $(cat "$T/r.$k.$fe")"
        case $(cat "$T/r.$k.$fe") in
        *'"duplicate":false'* | *'"duplicate": false'*) nfalse=$((nfalse + 1)) ;;
        *'"duplicate":true'* | *'"duplicate": true'*) ;;
        *) fail "statement $k through $fe: no duplicate flag: $(cat "$T/r.$k.$fe")" ;;
        esac
        ixs="$ixs $(grep -o '"index": *[0-9]*' "$T/r.$k.$fe" | grep -o '[0-9]*$')"
    done
    [ "$nfalse" = 1 ] || fail "statement $k: $nfalse of its copies ($*) say duplicate false, want 1: $(cat "$T/r.$k".* | grep -o '"\(index\|duplicate\)": *[a-z0-9]*' | tr '\n' ' ')"
    [ "$(echo $ixs | tr ' ' '\n' | sort -u | wc -l)" = 1 ] ||
        fail "statement $k: its copies ($*) got different indices:$ixs"
}
for k in $(seq $N); do
    case $((k % 3)) in
    0) round "$k" A B ;;
    1) round "$k" B C ;;
    2) round "$k" A B C ;;
    esac
done
grep -q 'took the lease' "$OUT_B" "$OUT_C" && fail "B or C sequenced: the test needs them to follow"
# every statement logged once
[ "$(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_leaves")" = "$N" ] ||
    fail "the log holds $(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_leaves") entries, want $N"
for fe in C B A; do
    LOG_PID=$(eval echo "\$PID_$fe") LOG_OUT=$(eval echo "\$OUT_$fe") stop_log
done
echo "75-pg-dup-frontends: of $N statements each sent to two or three front-ends at once, exactly one copy says duplicate false: ok"
