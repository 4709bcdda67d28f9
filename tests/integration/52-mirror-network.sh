# Goal: a log, two witnesses and a mirror (hosted by witness 1, with its
# own key) under a policy that requires both witnesses and one of two
# mirrors. glasslogd pushes to the mirror (every add-entries body gzipped,
# counted by the mirror's metrics; to a fake second mirror that answers
# gzip with 415 it resends identity bodies until the fake lists gzip in
# Accept-Encoding; a third that answers 503 is logged as refusing the
# push, with the status, and retried after doubling waits; a fourth,
# listed first, that answers every upload 202 without moving its next
# entry is a failed push, backed off like the others, and does not keep
# the mirrors after it waiting; a fifth answers its 200 with two
# signature lines, an unknown key's first, and only its own line is
# verified and served; a sixth, listed first, moves one entry a second
# and is paused after a slice of uploads each round, so the mirrors after
# it keep up with a growing log and SIGTERM does not wait for its
# catch-up; an eighth whose 409 to add-checkpoint carries no tree size is
# a failed push, never taken for a 200: no upload follows it; two more
# issue a fresh ticket of 4,000 and of 65,535 bytes with every 202 and
# 409 and check that each upload echoes the last one byte for byte, and
# catch up; a third, whose ticket of 65,536 bytes could not be echoed in
# the request's u16 field, is a failed push that names the ticket) and then
# serves the mirror's
# cosignature on its checkpoint; a customer's lookup saves bundles that
# carry it; with the log stopped, `glasslog verify` accepts the file under
# that policy offline, refuses it under a policy requiring both mirrors
# (exit 2), and the mirror still serves the log's tiles, which equal a
# recomputation from its entries. The mirror's checkpoint carries the
# mirror cosignature and never the witness's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
need_py_crypto
PY="$(dirname "$0")/mirror.py"
TLOG="$(dirname "$0")/tlog.py"
make_keys
make_witness_keys 1 2
for m in 1 2 3 4 5 6 7 8 9 10 11; do
    "$G" keygen --name "mirror$m.example" --cosigner --out "$T/m$m.key" > /dev/null || fail keygen
done
LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub")
M1PORT=$(free_port)
M1URL="http://127.0.0.1:$M1PORT"
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
printf 'logs/v0\nvkey %s\nmirror\n' "$LOGK" > "$T/logs-m"
printf 'logs/v0\nvkey %s\n' "$LOGK" > "$T/logs"
start_witness 1 "$T/logs-m" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$M1PORT"
start_witness 2 "$T/logs"
{
    for n in 1 2; do echo "witness w$n $(cat "$T/w$n.key.pub") http://127.0.0.1:$(eval echo \$PORT$n)"; done
    echo "group both 2 w1 w2"
    echo "quorum both"
} > "$T/witnesses"
# mirror2.example: a fake that refuses gzip (415) until it lists it
spawn fakemirror python3 "$PY" fake-mirror "$T/fake.log" || fail "fake mirror"
FAKE_PID=$SPAWN_PID FAKE_URL=$SPAWN_URL
# mirror5.example (two signature lines) and mirror6.example (slow: a 200
# only for an upload that reaches the end, as when the log is small)
# and mirror7.example (413 for bodies of more than one package);
# mirror9, 10 and 11.example issue tickets of 4000, 65535 and 65536 bytes
spawn fakemirror2 python3 "$PY" fake-mirror2 "$T/fake2.log" "$T/m5.key" "$T/m7.key" "$T/m6.key" \
    "4000:$T/m9.key" "65535:$T/m10.key" "65536:$T/m11.key" || fail "fake mirror 2"
FAKE2_URL=$SPAWN_URL
{
    echo "mirror mirror6.example $(cat "$T/m6.key.pub") $FAKE2_URL/slow"
    echo "mirror mirror4.example $(cat "$T/m4.key.pub") $FAKE_URL/stuck"
    echo "mirror mirror1.example $(cat "$T/m1.key.pub") $M1URL"
    echo "mirror mirror2.example $(cat "$T/m2.key.pub") $FAKE_URL"
    echo "mirror mirror3.example $(cat "$T/m3.key.pub") $FAKE_URL/unavailable"
    echo "mirror mirror5.example $(cat "$T/m5.key.pub") $FAKE2_URL/two"
    echo "mirror mirror7.example $(cat "$T/m7.key.pub") $FAKE2_URL/small"
    echo "mirror mirror8.example $(cat "$T/m8.key.pub") $FAKE_URL/nosize"
    echo "mirror mirror9.example $(cat "$T/m9.key.pub") $FAKE2_URL/ticket4000"
    echo "mirror mirror10.example $(cat "$T/m10.key.pub") $FAKE2_URL/ticket65535"
    echo "mirror mirror11.example $(cat "$T/m11.key.pub") $FAKE2_URL/ticket65536"
} > "$T/mirrors"
start_log "$T/data" --create --batch-ms 2 --witnesses "$T/witnesses" --mirrors "$T/mirrors"

echo 'release 3.0' > "$T/app.bin"
"$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject my-app --version 3.0 \
    --file "$T/app.bin" --out "$T/appended.tlog-proof" > /dev/null || fail "append"
for i in 1 2 3; do append_one filler "$i" > /dev/null || fail "append filler"; done
wait_until 20 sh -c "curl -sf $LOG_URL/checkpoint | grep -q '^— mirror1.example '" ||
    fail "the log never served the mirror's cosignature: $(curl -sf "$LOG_URL/checkpoint"; grep mirror "$LOG_OUT" | tail -5)"
# the mirror answering two lines: its own verified and served, alone
wait_until 20 sh -c "curl -sf $LOG_URL/checkpoint | grep -q '^— mirror5.example '" ||
    fail "the log never served mirror5's cosignature: $(grep mirror5 "$LOG_OUT" | tail -3)"
curl -sf "$LOG_URL/checkpoint" > "$T/ck5" || fail "checkpoint"
grep -q "unknown.example" "$T/ck5" && fail "the unknown key's line was served: $(cat "$T/ck5")"
python3 "$PY" cosig-check "$T/ck5" "$T/m5.key.pub" mirror5.example || fail "mirror5's served line"
grep -q "mirror mirror5.example .*failed" "$LOG_OUT" &&
    fail "mirror5 failed: $(grep mirror5 "$LOG_OUT" | tail -3)"
# big tickets (the spec's u16 allows 65535 bytes): each echoed byte for
# byte, the 409's here and the 202's below (the fake answers 202 only to
# an upload of two entries or more), and the push gets its cosignature
for m in 9:4000 10:65535; do
    wait_until 20 sh -c "curl -sf $LOG_URL/checkpoint | grep -q '^— mirror${m%%:*}.example '" ||
        fail "no cosignature from the mirror of ${m#*:}-byte tickets: $(grep "mirror${m%%:*}\." "$LOG_OUT" | tail -3)"
    grep -q "^ticket${m#*:} echoed ${m#*:} 409$" "$T/fake2.log.ticket" ||
        fail "the ${m#*:}-byte ticket of a 409 not echoed: $(cat "$T/fake2.log.ticket")"
done
grep -q " wrong " "$T/fake2.log.ticket" && fail "a ticket not echoed exactly: $(cat "$T/fake2.log.ticket")"
# one over the cap: a failed push naming it, no upload, glasslogd still up
wait_until 20 grep -q "mirror mirror11.example .*push at 0 failed: .*ticket of 65536 bytes (at most 65535)" \
    "$LOG_OUT" || fail "the 65536-byte ticket not refused by name: $(grep "mirror11\." "$LOG_OUT" | tail -3)"
grep -q "^ticket65536 " "$T/fake2.log.ticket" && fail "an upload carried a 65536-byte ticket"
# glasslogd's uploads arrived gzipped, every one (the mirror lists gzip)
curl -sf "http://127.0.0.1:$PORT1/metrics" > "$T/metrics" || fail "witness metrics"
GZ=$(sed -n 's/^glasslog_mirror_uploads_total{encoding="gzip"} \([0-9]*\)$/\1/p' "$T/metrics")
ID=$(sed -n 's/^glasslog_mirror_uploads_total{encoding="identity"} \([0-9]*\)$/\1/p' "$T/metrics")
[ -n "$GZ" ] && [ "$GZ" -ge 2 ] && [ "$ID" = 0 ] ||
    fail "uploads: gzip '$GZ' identity '$ID', want >= 2 (probe and entries) and 0"
# the fake: gzip refused once, the same body again as identity, identity
# while its replies list no gzip, gzip again once they do
# a mirror answering 503 (as one does while it reloads) is named as refusing
wait_until 20 grep -q "mirror mirror3.example .*failed: the mirror refused it (HTTP 503)" "$LOG_OUT" ||
    fail "no refusal logged for the 503 mirror: $(grep mirror3 "$LOG_OUT" | tail -3)"
wait_until 20 grep -q "^gzip 409$" "$T/fake.log" || fail "no gzip after the 415s: $(cat "$T/fake.log")"
# a 409 to add-checkpoint without a tree size fails the push, before any upload
wait_until 20 grep -q "mirror mirror8.example .*push at 0 failed: .*(HTTP 409)" "$LOG_OUT" ||
    fail "the sizeless 409 not a failed push: $(grep mirror8 "$LOG_OUT" | tail -3)"
grep -q "^nosize add-checkpoint$" "$T/fake.log.nosize" ||
    fail "no add-checkpoint to the sizeless mirror: $(cat "$T/fake.log.nosize")"
grep -q "^nosize upload$" "$T/fake.log.nosize" &&
    fail "entries uploaded after a sizeless 409 to add-checkpoint: $(cat "$T/fake.log.nosize")"
grep -q "mirror mirror8.example: add-checkpoint answered 409 without a tree size" "$LOG_OUT" ||
    fail "the sizeless 409 not named: $(grep mirror8 "$LOG_OUT" | tail -3)"
# the mirror stuck at entry 0 (listed before the others, which got their
# pushes above): each push is a probe and one upload (202), then a failure
# with a doubling back-off; never a run of uploads
wait_until 30 grep -q "mirror mirror4.example .*did not advance (HTTP 202); retrying in 4.0 s" \
    "$LOG_OUT" || fail "no back-off to 4 s for the stuck mirror: $(grep mirror4 "$LOG_OUT" | tail -3)"
grep -q "mirror mirror4.example .*push at 0 failed: its next entry did not advance (HTTP 202)" \
    "$LOG_OUT" || fail "the stuck mirror's failure: $(grep mirror4 "$LOG_OUT" | tail -3)"
WAITS=$(grep "mirror mirror4.example " "$LOG_OUT" | sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p' |
    head -4 | tr '\n' ' ')
[ "$WAITS" = "0.5 1.0 2.0 4.0 " ] || fail "stuck mirror back-off waits: '$WAITS'"
NF=$(grep -c "mirror mirror4.example .*did not advance" "$LOG_OUT")
# /metrics: the stuck mirror's failures counted, the real mirror's size
curl -sf "$LOG_URL/metrics" > "$T/log.metrics" || fail "log metrics"
check_metrics "$T/log.metrics"
check_metrics "$T/metrics" # the witness's, with its mirror
MF=$(sed -n 's/^glasslog_mirror_push_failures_total{mirror="mirror4.example"} \([0-9]*\)$/\1/p' "$T/log.metrics")
[ -n "$MF" ] && [ "$MF" -ge 4 ] || fail "stuck mirror failures in /metrics: '$MF'"
grep -q '^glasslog_mirror_size{mirror="mirror1.example"} 4$' "$T/log.metrics" ||
    fail "mirror1's size in /metrics: $(grep glasslog_mirror_ "$T/log.metrics")"
grep -q '^glasslog_mirror_push_failures_total{mirror="mirror1.example"} 0$' "$T/log.metrics" ||
    fail "mirror1's failures in /metrics: $(grep glasslog_mirror_ "$T/log.metrics")"
N202=$(grep -c '^stuck 202$' "$T/fake.log.stuck")
[ "$N202" -ge 4 ] && [ "$N202" -le $((NF + 1)) ] ||
    fail "stuck mirror: $N202 uploads for $NF failed pushes: $(cat "$T/fake.log.stuck")"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
[ "$(sed -n 1,2p "$T/fake.log" | tr '\n' ,)" = "gzip 415,identity 409," ] ||
    fail "415 then identity: $(cat "$T/fake.log")"
[ "$(grep -c '^gzip 415$' "$T/fake.log")" = 1 ] || fail "gzip sent again after a 415: $(cat "$T/fake.log")"
[ "$(sed -n '/^gzip 409$/q;p' "$T/fake.log" | sed 1d | sort -u)" = "identity 409" ] ||
    fail "not identity until gzip was listed: $(cat "$T/fake.log")"
grep -q " 400$" "$T/fake.log" && fail "a body the fake could not read: $(cat "$T/fake.log")"

W12="witness w1 $(cat "$T/w1.key.pub")
witness w2 $(cat "$T/w2.key.pub")"
M12="mirror m1 $(cat "$T/m1.key.pub") $M1URL
mirror m2 $(cat "$T/m2.key.pub")"
policy "$T/policy" "log $LOGK $LOG_URL" "submitter $SUBK" "$W12" "$M12" \
    "group ws all w1 w2" "group ms any m1 m2" "group need all ws ms" "quorum need"
policy "$T/policy2" "log $LOGK $LOG_URL" "submitter $SUBK" "$W12" "$M12" \
    "group ws all w1 w2" "group ms all m1 m2" "group need all ws ms" "quorum need"
expect_rc 0 "$G" policy check "$T/policy"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/state" --out "$T/bundles" "$T/app.bin"
B="$T/bundles/0.tlog-proof"
[ -f "$B" ] || fail "no bundle saved: $(cat "$T/out" "$T/err")"
grep -q "^— mirror1.example " "$B" || fail "the bundle lacks the mirror cosignature"

# the 503 mirror is retried after doubling waits (from the 0.5 s round),
# not every round
wait_until 30 grep -q "mirror mirror3.example .*retrying in 4.0 s" "$LOG_OUT" ||
    fail "no back-off to 4 s: $(grep mirror3 "$LOG_OUT" | tail -3)"
WAITS=$(grep "mirror mirror3.example " "$LOG_OUT" | sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p' |
    head -4 | tr '\n' ' ')
[ "$WAITS" = "0.5 1.0 2.0 4.0 " ] || fail "back-off waits: '$WAITS', want 0.5 1.0 2.0 4.0"

# the slow mirror (first in the list) is paused after its slice each
# round: the log grows by 15 and the mirrors after it follow quickly
for i in $(seq 4 18); do append_one filler "$i" > /dev/null || fail "append filler $i"; done
wait_until 10 sh -c "curl -sf $LOG_URL/metrics | grep -q '^glasslog_mirror_size{mirror=\"mirror1.example\"} 19\$'" ||
    fail "mirror1 not at 19 behind the slow mirror: $(curl -sf "$LOG_URL/metrics" | grep glasslog_mirror_size)"
# a mirror that refuses large bodies (413): 600 more entries, appended
# while it answers 503, span 3 packages; however the push's rounds cut
# them, some body holds more than one, is refused, and the push goes on
# in bodies of half as many packages
touch "$T/fake2.log.hold"
LOADGEN="$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || LOADGEN="$(dirname "$0")/../../$GL_BUILD/tests/bench/loadgen"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 600 -c 4 --seed 52 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
rm "$T/fake2.log.hold"
wait_until 40 sh -c "curl -sf $LOG_URL/metrics | grep -q '^glasslog_mirror_size{mirror=\"mirror7.example\"} 619\$'" ||
    fail "the 413 mirror not at 619: $(grep mirror7 "$LOG_OUT" | tail -3; tail -3 "$T/fake2.log.small")"
grep -q "^small 413 [2-9]" "$T/fake2.log.small" || fail "no body refused: $(cat "$T/fake2.log.small")"
grep -q "mirror mirror7.example: body of [0-9]* packages too large (413); sending 1$" "$LOG_OUT" ||
    fail "no halving: $(grep mirror7 "$LOG_OUT" | tail -3)"
grep -q "mirror mirror7.example .*failed.*(HTTP 413)" "$LOG_OUT" &&
    fail "a 413 counted as a failed push: $(grep mirror7 "$LOG_OUT" | tail -3)"
# the 600 entries reached the ticket mirrors in uploads of many entries:
# their 202's tickets came back byte for byte too
for n in 4000 65535; do
    wait_until 20 grep -q "^ticket$n echoed $n 202$" "$T/fake2.log.ticket" ||
        fail "the $n-byte ticket of a 202 not echoed: $(tail -5 "$T/fake2.log.ticket")"
done
grep -q " wrong " "$T/fake2.log.ticket" && fail "a ticket not echoed exactly: $(grep wrong "$T/fake2.log.ticket" | head -3)"
# SIGTERM in the middle of its push (just after an upload was answered,
# with 15 or more still to go) ends glasslogd within the upload in flight
N=$(wc -l < "$T/fake2.log.slow")
wait_until 40 sh -c "[ \$(wc -l < $T/fake2.log.slow) -gt $N ]" || fail "no slow uploads"
T0=$(date +%s%N)
stop_log
MS=$((($(date +%s%N) - T0) / 1000000))
# (the upload in flight takes 1 s; the 15 left would take 15 s or more)
[ "$MS" -lt 8000 ] || fail "SIGTERM took $MS ms during a slow mirror's push"
grep -q "mirror mirror6.example: paused at entry " "$LOG_OUT" ||
    fail "the slow mirror never paused: $(grep mirror6 "$LOG_OUT" | tail -3)"
grep -q "mirror mirror6.example .*failed" "$LOG_OUT" &&
    fail "a paused push counted as failed: $(grep -B2 "mirror mirror6.example .*failed" "$LOG_OUT" | head -6)"
# offline, the log stopped: one mirror and both witnesses
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$B" --artifact "$T/app.bin"
# a policy that wants both mirrors refuses the same bundle
expect_rc 2 "$G" verify --policy "$T/policy2" --bundle "$B" --artifact "$T/app.bin"
# the mirror still serves the log, verified by recomputation
python3 "$TLOG" check-tiles "$M1URL/mirror/$HEX" || fail "mirror tiles with the log stopped"
curl -sf "$M1URL/mirror/$HEX/checkpoint" > "$T/mck" || fail "mirror checkpoint"
grep -q "^— mirror1.example " "$T/mck" || fail "mirror checkpoint without its cosignature"
grep -q "^— witness1.example " "$T/mck" && fail "mirror checkpoint with the witness cosignature"
python3 "$PY" cosig-check "$T/mck" "$T/m1.key.pub" mirror1.example || fail "mirror cosignature"
stop_witness 1
stop_witness 2
echo "52-mirror-network: ok"
