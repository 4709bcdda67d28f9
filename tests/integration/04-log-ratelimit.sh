# Goal: per-submitter rate limits end to end. A key with rate=1 burst=2
# gets 429 with Retry-After and a JSON reason on its 3rd quick append,
# while statements that fail their signature check under its name spend
# nothing and another submitter is unaffected; /metrics counts every 429
# per key; `glasslog append` waits the Retry-After it is given (429) and
# then succeeds, and fails at once (exit 3) when the wait would pass its
# --timeout; keys without options take --submit-rate/--submit-burst;
# bad submitters files and settings are refused with file:line reasons.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
make_keys
for k in lim slow dflt pub; do
    "$G" keygen --name "$k.example" --out "$T/$k.key" > "$T/$k.vkey" || fail keygen
done
keyid() { cut -d+ -f2 "$T/$1.vkey"; }
{
    echo "# ci: exempt from the global limit"
    echo "$(cat "$T/submitters") rate=unlimited"
    printf '%s\trate=1 burst=2   # the one under test\n' "$(cat "$T/lim.vkey")"
    echo "$(cat "$T/slow.vkey") rate=0.25 burst=1"
    echo "$(cat "$T/pub.vkey") rate=0.01 burst=2"
    cat "$T/dflt.vkey"
} > "$T/subs"
cp "$T/subs" "$T/submitters"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# sign NAME SUBJECT: a statement by NAME.key in $T/NAME.SUBJECT.st, not posted.
sign() {
    printf 'glasslog.dev/statement/v1\nkind build\nsubject %s\nversion 1\nsha256 %s\ntime %s\n' \
        "$2" "$(printf '%s' "$2" | sha256sum | cut -c1-64)" "$(date +%s)" |
        "$G" note sign --key "$T/$1.key" > "$T/$1.$2.st" || fail "sign $2"
}
# append NAME SUBJECT [ARGS]: glasslog append with NAME.key; stderr in $T/err.
append() {
    local k=$1 s=$2
    shift 2
    "$G" append --log "$LOG_URL" --key "$T/$k.key" --kind build --subject "$s" --version 1 \
        --sha256 "$(printf '%s' "$s" | sha256sum | cut -c1-64)" --log-vkey "@$T/log.key.pub" \
        "$@" > "$T/out" 2> "$T/err"
}
# metric LINE-PREFIX: the value of the /metrics line starting with it ("" if none).
metric() {
    expect_http 200 GET /metrics
    grep -F "$1 " "$T/body" | sed 's/.* //'
}

# Refused at start: a bad option value, with the file and line; a bad
# global rate.
printf '%s\n%s rate=fast\n' "$(cat "$T/lim.vkey")" "$(cat "$T/slow.vkey")" > "$T/subs.bad"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --create --key "$T/log.key" \
    --submitters "$T/subs.bad" --listen 127.0.0.1:0
expect_err "subs.bad:2: rate= takes"
printf '%s burst=3 burst=4\n' "$(cat "$T/lim.vkey")" > "$T/subs.bad"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --create --key "$T/log.key" \
    --submitters "$T/subs.bad" --listen 127.0.0.1:0
expect_err "subs.bad:1: burst= given twice"
expect_rc 2 "$GL_BIN/glasslogd" --data "$T/data" --create --key "$T/log.key" \
    --submitters "$T/subs" --submit-rate 0 --listen 127.0.0.1:0
expect_err "submit-rate takes"

start_log "$T/data" --create --submit-rate 0.5 --submit-burst 1 || fail "glasslogd: $(cat "$LOG_OUT")"
grep -q "5 submitter key(s), 4 with a rate limit" "$LOG_OUT" || fail "start-up line: $(cat "$LOG_OUT")"

# Statements under lim's name whose signature fails: 403, no token spent.
lim429=0
sign lim forged
sed 's/^version 1$/version 2/' "$T/lim.forged.st" > "$T/forged.st"
for i in 1 2 3 4 5; do
    expect_http 403 POST /api/v1/add --data-binary "@$T/forged.st"
done

# Three quick appends by lim in one curl run: 200, 200, 429 (the first
# two use the full burst of 2). Only a run slower than the refill (1 s)
# may legitimately admit the third; then wait for a full bucket and redo.
ok=0
for attempt in 1 2 3; do
    for n in 1 2 3; do sign lim "burst$attempt-$n"; done
    t0=$(now_ms)
    codes=$(curl -s -o "$T/r1" -w '%{http_code} ' --data-binary "@$T/lim.burst$attempt-1.st" \
        "$LOG_URL/api/v1/add" --next -s -o "$T/r2" -w '%{http_code} ' \
        --data-binary "@$T/lim.burst$attempt-2.st" "$LOG_URL/api/v1/add" --next -s \
        -D "$T/h3" -o "$T/r3" -w '%{http_code}' --data-binary "@$T/lim.burst$attempt-3.st" \
        "$LOG_URL/api/v1/add")
    took=$(( $(now_ms) - t0 ))
    case "$codes" in
    "200 200 429") lim429=$((lim429 + 1)); ok=1; break ;;
    "200 200 200") [ "$took" -ge 1000 ] || fail "3rd append within ${took} ms admitted (burst 2)"
                   sleep 2.2 ;;
    *) fail "burst of 3 answered $codes (took $took ms): $(cat "$T/r1" "$T/r2" "$T/r3")" ;;
    esac
done
[ "$ok" = 1 ] || fail "no 429 in three attempts"
grep -qi '^retry-after: 1' "$T/h3" || fail "429 without Retry-After: 1: $(cat "$T/h3")"
grep -qi '^content-type: application/json' "$T/h3" || fail "429 content type"
grep -qx '{"error":"rate limit of this submitter key exceeded; retry in 1 s"}' "$T/r3" ||
    fail "429 reason: $(cat "$T/r3")"
[ "$(metric 'glasslog_http_responses_total{code="429"}')" = "$lim429" ] || fail "429s by code"

# Replays of a logged statement (public: anybody can fetch it) spend none
# of its key's tokens: pub (burst 2, a token every 100 s) logs one
# statement; five replays of it are answered 200 as duplicates with its
# index, and pub's next statement is still admitted.
sign pub p-1
sign pub p-2
expect_http 200 POST /api/v1/add --data-binary "@$T/pub.p-1.st"
idx=$(sed -n 's/^{"index":\([0-9]*\),.*/\1/p' "$T/body")
[ -n "$idx" ] || fail "pub's first append: $(cat "$T/body")"
for i in 1 2 3 4 5; do
    expect_http 200 POST /api/v1/add --data-binary "@$T/pub.p-1.st"
    grep -q "^{\"index\":$idx,.*\"duplicate\":true" "$T/body" || fail "replay $i: $(cat "$T/body")"
done
expect_http 200 POST /api/v1/add --data-binary "@$T/pub.p-2.st"

# Another submitter is unaffected: five appends in a row, none held back.
for n in 1 2 3 4 5; do
    append sub other-$n || fail "other submitter: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "other submitter was held back: $(cat "$T/err")"
done

# glasslog append by lim succeeds; if it met the limit it said so and
# waited the 1 s the log asked for.
append lim cli-1 || fail "lim append after the burst: $(cat "$T/err")"
grep -q '^index ' "$T/out" || fail "no index"
n=$(grep -c 'log answered 429' "$T/err")
lim429=$((lim429 + n))
[ "$n" = 0 ] || grep -q 'log answered 429 (rate limit of this submitter key exceeded; retry in 1 s), retrying in 1.0 s' \
    "$T/err" || fail "lim retry message: $(cat "$T/err")"

# slow (rate=0.25 burst=1): the second append meets the limit (4 s to the
# next token; 3 s if the first took over a second to return), waits what
# Retry-After said, then succeeds.
append slow s-1 || fail "slow 1: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "slow 1 was held back: $(cat "$T/err")"
t0=$(now_ms)
append slow s-2 || fail "slow 2: $(cat "$T/err")"
took=$(( $(now_ms) - t0 ))
grep -q '^index ' "$T/out" || fail "slow 2: no index"
[ "$(grep -c 'log answered 429' "$T/err")" = 1 ] || fail "slow 2 stderr: $(cat "$T/err")"
ra=$(sed -n 's/.*log answered 429 (rate limit of this submitter key exceeded; retry in \([0-9]*\) s), retrying in \1\.0 s$/\1/p' "$T/err")
case "$ra" in 3|4) ;; *) fail "slow 2: Retry-After '$ra', want 4: $(cat "$T/err")" ;; esac
[ "$took" -ge $((ra * 1000)) ] || fail "slow 2 retried after $took ms, before its Retry-After of $ra s"

# slow at once again: 4 s (or 3) to wait, --timeout 3: exit 3 without
# waiting, with the reason; the statement is not logged.
expect_rc 3 append slow s-3 --timeout 3
expect_err "rate limited (429: rate limit of this submitter key exceeded; retry in [34] s): the log allows this submitter key's next append in [34] s, past the --timeout of 3 s; giving up"
grep -q "may be in the log" "$T/err" && fail "a 429 is an answer: $(cat "$T/err")"
grep -q retrying "$T/err" && fail "slow 3 retried: $(cat "$T/err")"
expect_http 200 GET "/api/v1/lookup?sha256=$(printf 's-3' | sha256sum | cut -c1-64)"
grep -qx '{"statements":\[\],"tree_size":[0-9]*}' "$T/body" || fail "the refused statement was logged: $(cat "$T/body")"
# no answer at all: the statement may be in the log, and stderr says how to
# find out before signing another
DEAD=$(free_port)
expect_rc 3 "$G" append --log "http://127.0.0.1:$DEAD" --key "$T/slow.key" --kind build \
    --subject s --version 4 --sha256 "$(printf '%064d' 4)" --timeout 1
expect_err "the statement may be in the log all the same (no answer is not a refusal); before appending again, check: glasslog lookup --log http://127.0.0.1:$DEAD --policy POLICY --sha256 $(printf '%064d' 4)"

# dflt has no options: --submit-rate 0.5 --submit-burst 1 apply.
append dflt d-1 || fail "dflt 1: $(cat "$T/err")"
sign dflt d-2
http POST /api/v1/add -D "$T/h" --data-binary "@$T/dflt.d-2.st"
[ "$CODE" = 429 ] || fail "dflt 2nd append answered $CODE, want 429 (global limit)"
grep -Eqi '^retry-after: [12]' "$T/h" || fail "dflt Retry-After: $(cat "$T/h")"

# /metrics: the refusals per key (unlimited keys have no series), tokens.
[ "$(metric "glasslog_rate_limited_total{submitter=\"lim.example\",key_id=\"$(keyid lim)\"}")" = "$lim429" ] ||
    fail "lim count, want $lim429: $(grep rate_ "$T/body")"
[ "$(metric "glasslog_rate_limited_total{submitter=\"slow.example\",key_id=\"$(keyid slow)\"}")" = 2 ] ||
    fail "slow count: $(grep rate_ "$T/body")"
[ "$(metric "glasslog_rate_limited_total{submitter=\"dflt.example\",key_id=\"$(keyid dflt)\"}")" = 1 ] ||
    fail "dflt count: $(grep rate_ "$T/body")"
grep -q 'submitter="ci.example.com"' "$T/body" && fail "an unlimited key has a series"
tok=$(metric "glasslog_rate_tokens{submitter=\"slow.example\",key_id=\"$(keyid slow)\"}")
awk -v t="$tok" 'BEGIN { exit !(t != "" && t >= 0 && t <= 1) }' || fail "slow tokens '$tok'"
[ "$(metric 'glasslog_http_responses_total{code="429"}')" = $((lim429 + 3)) ] || fail "429s by code"
stop_log

# The original format (bare keys) still loads, unlimited by default.
grep -v '^#' "$T/subs" | awk '{ print $1 }' > "$T/submitters"
start_log "$T/data" || fail "bare-key file refused: $(cat "$LOG_OUT")"
grep -q "5 submitter key(s), 0 with a rate limit" "$LOG_OUT" || fail "bare keys limited"
for n in 1 2 3; do sign slow bare-$n; expect_http 200 POST /api/v1/add --data-binary "@$T/slow.bare-$n.st"; done
stop_log
echo "04-log-ratelimit: ok"
