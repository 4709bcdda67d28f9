# Goal: a submitter key's rate limit holds across every front-end of a
# PostgreSQL log (the bucket is the database's, store_bucket_take), not
# per process, and exactly. Two glasslogd share one log; a key with
# rate=1 burst=3 is driven at both for RUN_S seconds (or longer, until
# both refused one) by two curl loops each (one request in flight per
# loop). Then the 200s of all loops together must be at most
# burst + rate * t, with no slack: a front-end takes the token after the
# signature check only if the database's bucket holds a whole one (one
# conditional statement), so appends verified together cannot run it
# into debt, and t (the test's clock, the server's: one host) spans every
# take. Per-process buckets would accept about twice the rest. Both
# front-ends must have refused some with 429 and a Retry-After of exactly
# 1 s (no debt: a token is due within 1 s), each front-end's /metrics
# counts exactly its own 429s (those after the signature check too), the
# database holds exactly one bucket, and an unlimited key appends through
# both front-ends without a refusal meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
RATE=1 BURST=3 RUN_S=5
G="$GL_BIN/glasslog"
make_keys
"$G" keygen --name lim.example --out "$T/lim.key" > "$T/lim.vkey" || fail keygen
{
    echo "$(cat "$T/submitters") rate=unlimited"
    echo "$(cat "$T/lim.vkey") rate=$RATE burst=$BURST"
} > "$T/subs"
cp "$T/subs" "$T/submitters"
pg_log_db
pg_two_fronts

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# sign KEY FILE SUBJECT: a statement by KEY into FILE.
sign() {
    printf 'glasslog.dev/statement/v1\nkind build\nsubject %s\nversion 1\nsha256 %s\ntime %s\n' \
        "$3" "$(printf '%s' "$3" | sha256sum | cut -c1-64)" "$(date +%s)" |
        "$G" note sign --key "$T/$1.key" > "$2" || fail "sign $3"
}
LOOPS="A1 A2 B1 B2" # front-end and loop
# post_loop LOOP URL: posts a new statement (signed just before: a
# statement the log holds spends no token) until $T/stop exists; one
# "CODE RETRY-AFTER" line per answer in $T/codes.LOOP ("-" without the
# header); the end time in $T/end.LOOP.
post_loop() {
    local n=$1 url=$2 i=0 code ra
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        sign lim "$T/st.$n" "rl-$n-$i"
        code=$(curl -s -m 10 -D "$T/h.$n" -o "$T/r.$n" -w '%{http_code}' \
            --data-binary "@$T/st.$n" "$url/api/v1/add")
        ra=$(tr -d '\r' < "$T/h.$n" | sed -n 's/^[Rr]etry-[Aa]fter: *//p')
        echo "$code ${ra:--}" >> "$T/codes.$n"
    done
    now_ms > "$T/end.$n"
}
# the loops run RUN_S seconds, and on (up to 30 s) until both front-ends
# refused one: the bound holds for any t
both_refused() { grep -q '^429 ' "$T/codes.A1" "$T/codes.A2" && grep -q '^429 ' "$T/codes.B1" "$T/codes.B2"; }
t0=$(now_ms)
lps=""
for l in $LOOPS; do
    : > "$T/codes.$l"
    post_loop "$l" "$(eval echo "\$URL_${l%?}")" &
    lps="$lps $!"
done
PIDS="$PIDS $lps"
sleep "$RUN_S"
wait_until 25 both_refused || true # (asserted below)
touch "$T/stop"
wait $lps
t_ms=$(( $(cat "$T/end.A1" "$T/end.A2" "$T/end.B1" "$T/end.B2" | sort -n | tail -1) - t0 ))
cat "$T/codes.A1" "$T/codes.A2" > "$T/codes.A"
cat "$T/codes.B1" "$T/codes.B2" > "$T/codes.B"

# every answer is a 200 or a 429, the 429s with a Retry-After of 1
awk '$1 == 429 && $2 == 1 { next } $1 == 200 { next }
     { print FILENAME ": " $0; bad = 1 } END { exit bad }' "$T/codes.A" "$T/codes.B" > "$T/bad" ||
    fail "unexpected answers: $(head -5 "$T/bad"); last bodies: $(cat "$T/r.A1" "$T/r.B1")"
okA=$(grep -c '^200 ' "$T/codes.A") okB=$(grep -c '^200 ' "$T/codes.B")
limA=$(grep -c '^429 ' "$T/codes.A") limB=$(grep -c '^429 ' "$T/codes.B")
ok=$((okA + okB))
[ "$limA" -gt 0 ] && [ "$limB" -gt 0 ] || fail "a front-end refused none: A $okA/$limA, B $okB/$limB (200/429)"
# at most burst + rate * t (in milli-appends: exact integers)
[ $((ok * 1000)) -le $((BURST * 1000 + RATE * t_ms)) ] ||
    fail "$ok appends accepted in $t_ms ms (A $okA, B $okB): more than $BURST + $RATE/s * t"
# and the limit is not met by refusing what it allows: at least the burst
# and half the rate (each loop posts far faster than the rate)
[ $((ok * 1000)) -ge $((BURST * 1000 + RATE * t_ms / 2)) ] ||
    fail "only $ok appends accepted in $t_ms ms: fewer than $BURST + $RATE/s * t / 2"

# each front-end counts its own 429s
kid=$(cut -d+ -f2 "$T/lim.vkey")
for fe in A B; do
    url=$(eval echo "\$URL_$fe")
    curl -sf "$url/metrics" > "$T/metrics.$fe" || fail "metrics of $fe"
    got=$(grep -F "glasslog_rate_limited_total{submitter=\"lim.example\",key_id=\"$kid\"} " \
        "$T/metrics.$fe" | sed 's/.* //')
    want=$(eval echo "\$lim$fe")
    [ "$got" = "$want" ] || fail "$fe /metrics counts '$got' refusals, its clients got $want"
done
[ "$(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_buckets")" = 1 ] ||
    fail "buckets in the database: $(PG_DB=log pg_sql a "SELECT name, level FROM glasslog_buckets")"

# the unlimited key: 2 appends in a row through each front-end, none refused
for fe in A B; do
    url=$(eval echo "\$URL_$fe")
    for i in 1 2; do
        statement "free-$fe-$i" 1 > "$T/free.st" || fail "sign free-$fe-$i"
        code=$(curl -s -m 10 -o "$T/r" -w '%{http_code}' --data-binary "@$T/free.st" "$url/api/v1/add")
        [ "$code" = 200 ] || fail "unlimited key through $fe: $code $(cat "$T/r")"
    done
done
LOG_PID=$PID_B LOG_OUT=$OUT_B stop_log
LOG_PID=$PID_A LOG_OUT=$OUT_A stop_log
echo "65-pg-ratelimit: rate $RATE/s burst $BURST over two front-ends: $ok accepted in $t_ms ms" \
    "(A $okA, B $okB; bound $BURST + $RATE/s * t), 429s A $limA B $limB: ok"
