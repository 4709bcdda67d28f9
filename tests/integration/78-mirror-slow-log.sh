# Goal: a slow party holds a witness round back by its share of the round
# plus a few timeouts, not by (requests x timeout); a slow party still
# progresses; and slowness never hides a withheld proof. One witness
# mirrors two pulled logs, with --mirror-pull-timeout-ms and
# --pull-timeout-ms 500 and a 1 s poll interval: log B
# (example.com/a-slow-log, 2000 entries, listed first) is reached through
# an HTTP proxy that makes each of its answers take 400 ms, inside the
# timeout; log A (example.com/log) answers at once. The witness first
# cosigns both logs and is restarted once A has grown from 10 to 20 and B
# from 2000 to 2010, beside a peer that lists 16 evidence files of A and
# answers each in 400 ms (404). Asserted, with times measured from the
# restarted witness's "serving" line (seen within 0.1 s; its start, up to
# about a second under ASan on a loaded machine, is left out):
# - the witness cosigns B at 2010 (checkpoint and proof, 800 ms, in a
#   share of about 580 ms: the proof is exempt from the share) within 9 s;
# - once it cosigned A at 20, A is mirrored up to 20 within 2 s, and
#   within 4.5 s of the start (with the start limit off, as on main, B's
#   mirror catch-up, GETs of 400 ms each, holds the round: A was mirrored
#   3.7 s after its cosignature in one such run);
# - the feeder's first round (pulls of both logs, the peer) ends within
#   4 s (the peer's 16 files alone take 6.4 s on main: over 7 s), the peer
#   is logged too slow for its share and
#   glasslog_witness_round_parts_late_total counts late parts of both
#   threads;
# - B then stalls its consistency proofs beyond the timeout (a split-view
#   log's way to hide) and grows: the witness says SUSPECTED, counts it
#   and does not cosign B's new size, as on main, however slow B is;
# - meanwhile B's mirror moves on over the next rounds;
# - the peer's first listed evidence file, which fails (404), is fetched
#   again in later rounds (the next round resumes at it), not left until
#   the read comes round the list again;
# - then B answers its proofs in 400 ms again and three more peers (their
#   checkpoints of B at 2000, cosigned by three witnesses run at the
#   start) are served: each round now compares B's size with theirs three
#   times (and with the pull's once B grew), a proof of 400 ms each, so a
#   third proof in a round finds B's proofs at 800 ms, over the cap of
#   one timeout (500 ms): not asked, the log taken as not answering
#   (the cap's log line), that comparison SUSPECTED and counted. Without
#   the cap (rounds_exempt_may_start() returning 1) no such line comes
#   and the script fails there.
# On main the script fails at the witness's start only, on the options
# --pull-timeout-ms and --mirror-pull-timeout-ms it lacks. To see the
# timing assertions fail as they would there, build with the start limit
# disabled (rounds_may_start() in witness/rounds.c returning 1): in one
# such run A was mirrored 3.7 s after its cosignature (the first check
# to fail), and the feeder's first round cannot end within 4 s (the
# peer's 16 files alone take 6.4 s).
# Timed stubs (slow answers against pull timeouts): no other script beside it.
# run: alone
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
loadgen_tool
hexof() { printf %s "$1" | sha256sum | cut -c1-64; }
now_ms() { date +%s%3N; }
# port_of FILE: the port of FILE's "(port N)" or "listening on port N" line
port_of() { sed -n 's/.*(port \([0-9]*\)).*/\1/p; s/^listening on port \([0-9]*\)$/\1/p' "$1" | head -1; }

make_keys
"$G" keygen --name example.com/a-slow-log --out "$T/log2.key" > /dev/null || fail keygen
"$G" keygen --name mirror1.example --cosigner --out "$T/m1.key" > /dev/null || fail keygen
"$G" keygen --name slow.example --cosigner --out "$T/slow.key" > /dev/null || fail keygen
"$G" keygen --name witness1.example --cosigner --out "$T/w1.key" > /dev/null || fail keygen
make_witness_keys 2 3 4 # the witnesses behind peers w2 to w4

start_log "$T/data" --create --batch-ms 2 || fail "start log A"
A_URL=$LOG_URL
spawn glasslogd2 "$GL_BIN/glasslogd" --data "$T/data2" --create --key "$T/log2.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --batch-ms 2 || fail "start log B"
B_URL=$SPAWN_URL B_PID=$SPAWN_PID
# the python servers start while the logs fill
# B's proxy: 400 ms an answer; 700 ms (beyond the timeout) for a
# consistency proof once $T/stall exists
PYTHONPATH="$TOOLS" python3 -u -c '
import os, stubhttp, sys, time, urllib.error, urllib.request
up, stall = sys.argv[1], sys.argv[2]
def respond(method, path, body):
    proof = path.startswith("/api/v1/proof/consistency")
    time.sleep(0.7 if proof and os.path.exists(stall) else 0.4)
    try:
        with urllib.request.urlopen(up + path, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
stubhttp.serve(respond, http11=True)' "$B_URL" "$T/stall" 2> "$T/proxy.out" &
PIDS="$PIDS $!"
# the slow peer; also, under /w2 /w3 /w4, three peers serving the
# checkpoint saved in $T/ck-wN-HEX once $T/behind exists (else 404)
PYTHONPATH="$TOOLS" python3 -u -c '
import json, os, stubhttp, sys, time
ids = [{"id": os.urandom(32).hex(), "origin": "example.com/log"} for _ in range(16)]
t = sys.argv[1]
open(t + "/first-id", "w").write(ids[0]["id"])
reqs = open(t + "/peer-reqs", "a")
def respond(method, path, body):
    p = path.split("/")
    if len(p) == 4 and p[1] in ("w2", "w3", "w4") and p[3] == "checkpoint":
        f = "%s/ck-%s-%s" % (t, p[1], p[2])
        ok = os.path.exists(t + "/behind") and os.path.exists(f)
        return (200, open(f, "rb").read()) if ok else (404, b"no\n")
    if path.split("?")[0] == "/evidence":
        reqs.write("/evidence\n")
        reqs.flush()
        q = dict(kv.split("=", 1) for kv in path.partition("?")[2].split("&") if "=" in kv)
        k = int(q.get("from", "0"))
        return 200, json.dumps(ids[k:k + int(q.get("limit", "256"))]).encode()
    if path.startswith("/evidence/"):
        reqs.write(path + "\n")
        reqs.flush()
        time.sleep(0.4)
    return 404, b"no\n"
stubhttp.serve(respond, http11=True)' "$T" 2> "$T/peer.out" &
PIDS="$PIDS $!"
"$LOADGEN" append --log "$A_URL" --key "$T/sub.key" -n 10 -c 4 --seed 78 > "$T/lga.out" 2> "$T/lga.err" &
LGA=$!
"$LOADGEN" append --log "$B_URL" --key "$T/sub.key" -n 2000 -c 32 --seed 78 > "$T/lgb.out" 2> "$T/lgb.err" ||
    fail "loadgen B: $(tail -3 "$T/lgb.err")"
wait "$LGA" || fail "loadgen A: $(tail -3 "$T/lga.err")"
wait_until 10 sh -c "[ \"\$(curl -sf $A_URL/checkpoint | sed -n 2p)\" = 10 ] &&
    [ \"\$(curl -sf $B_URL/checkpoint | sed -n 2p)\" = 2000 ]" || fail "the logs did not reach 10 and 2000"
wait_until 30 sh -c "grep -q '(port ' $T/proxy.out && grep -q '(port ' $T/peer.out" ||
    fail "the slow proxy or the slow peer did not start"
B_SLOW="http://127.0.0.1:$(port_of "$T/proxy.out")"
printf 'witness slow %s http://127.0.0.1:%s\n' "$(cat "$T/slow.key.pub")" "$(port_of "$T/peer.out")" > "$T/peers"
for n in 2 3 4; do
    printf 'witness w%s %s http://127.0.0.1:%s/w%s\n' "$n" "$(cat "$T/w$n.key.pub")" "$(port_of "$T/peer.out")" "$n" >> "$T/peers"
done
{
    echo logs/v0
    printf 'vkey %s\nurl %s\nmirror\n' "$(cat "$T/log2.key.pub")" "$B_SLOW"
    printf 'vkey %s\nurl %s\nmirror\n' "$(cat "$T/log.key.pub")" "$A_URL"
} > "$T/logs"

# start_witness_here NAME [ARGS...]: the witness (mirror included) on ports
# any, logging to $T/NAME.out; sets WPID, W (its log), WURL and MURL.
start_witness_here() {
    W="$T/$1.out"
    shift
    "$GL_BIN/glasslog-witness" --listen 127.0.0.1:0 --data "$T/wd" $(create_flag "$T/wd") \
        --key "$T/w1.key" --logs "$T/logs" --mirror-key "$T/m1.key" \
        --mirror-listen 127.0.0.1:0 --poll-interval 1 --pull-timeout-ms 500 \
        --mirror-pull-timeout-ms 500 "$@" > /dev/null 2> "$W" &
    WPID=$!
    PIDS="$PIDS $WPID"
    wait_until 30 grep -q "witness witness1.example serving" "$W" || fail "witness did not start: $(cat "$W")"
    MURL="http://127.0.0.1:$(sed -n 's/.*mirror mirror1.example of .*(port \([0-9]*\)).*/\1/p' "$W")"
    WURL="http://127.0.0.1:$(sed -n 's/.*witness witness1.example serving .*(port \([0-9]*\)).*/\1/p' "$W")"
}
# First the witness accepts both logs' checkpoints (so that the mirror
# knows at once, after the restart below, that B is behind), then A grows.
# Alongside, witnesses 2 to 4 cosign B at 2000 (straight from B), their
# checkpoints saved for the peers w2 to w4.
HB=$(hexof example.com/a-slow-log)
printf 'logs/v0\nvkey %s\nurl %s\n' "$(cat "$T/log2.key.pub")" "$B_URL" > "$T/logsB"
for n in 2 3 4; do start_witness "$n" "$T/logsB" --poll-interval 1; done
start_witness_here first
wait_until 5 sh -c "[ \"\$(curl -sf $WURL/$(hexof example.com/a-slow-log)/checkpoint | sed -n 2p)\" = 2000 ] &&
    [ \"\$(curl -sf $WURL/$(hexof example.com/log)/checkpoint | sed -n 2p)\" = 10 ]" ||
    fail "the witness did not cosign both logs: $(tail -3 "$W")"
for n in 2 3 4; do
    wait_until 5 sh -c "curl -sf http://127.0.0.1:$(eval echo \$PORT$n)/$HB/checkpoint > '$T/ck-w$n-$HB' &&
        [ \"\$(sed -n 2p '$T/ck-w$n-$HB')\" = 2000 ]" || fail "witness $n did not cosign B at 2000"
    stop_witness "$n"
done
kill -TERM "$WPID" && wait "$WPID" || fail "witness exited $? on SIGTERM"
"$LOADGEN" append --log "$A_URL" --key "$T/sub.key" -n 10 -c 4 --seed 79 > "$T/lga.out" 2> "$T/lga.err" ||
    fail "loadgen A: $(tail -3 "$T/lga.err")"
"$LOADGEN" append --log "$B_URL" --key "$T/sub.key" -n 10 -c 4 --seed 80 > "$T/lgb.out" 2> "$T/lgb.err" ||
    fail "loadgen B: $(tail -3 "$T/lgb.err")"
wait_until 5 sh -c "[ \"\$(curl -sf $A_URL/checkpoint | sed -n 2p)\" = 20 ] &&
    [ \"\$(curl -sf $B_URL/checkpoint | sed -n 2p)\" = 2010 ]" || fail "logs A and B did not reach 20 and 2010"

start_witness_here second --peers "$T/peers"
START=$(now_ms) # once it logged "serving": its start (about a second under ASan) is left out
AM="$MURL/mirror/$(hexof example.com/log)"
metric() { curl -sf "$WURL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
cosigned() { [ "$(curl -sf "$WURL/$(hexof "$1")/checkpoint" | sed -n 2p)" = "$2" ]; }
since() { echo $(($(now_ms) - START)); }
# the first times (ms since START) at which each held, polled together
ck_a="" m_a="" ck_b="" round1=""
while [ "$(since)" -lt 9000 ] && ! { [ -n "$ck_a" ] && [ -n "$m_a" ] && [ -n "$ck_b" ] && [ -n "$round1" ]; }; do
    [ -n "$ck_a" ] || ! cosigned example.com/log 20 || ck_a=$(since)
    [ -n "$m_a" ] || [ "$(curl -sf "$AM/checkpoint" | sed -n 2p)" != 20 ] || m_a=$(since)
    [ -n "$ck_b" ] || ! cosigned example.com/a-slow-log 2010 || ck_b=$(since)
    r=$(metric glasslog_witness_poll_rounds_total)
    [ -n "$round1" ] || [ "${r:-0}" -lt 1 ] || round1=$(since)
    sleep 0.05
done
[ -n "$ck_a" ] || fail "the witness did not cosign A at 20: $(tail -3 "$W")"
[ -n "$m_a" ] || fail "log A not mirrored beside a slow log B: $(grep 'mirror' "$W" | tail -4)"
took=$((m_a - ck_a))
[ "$took" -le 2000 ] || fail "log A mirrored $took ms after the witness cosigned it, want at most 2000"
[ "$m_a" -le 4500 ] || fail "log A mirrored $m_a ms after the witness started, want at most 4500"
[ -n "$ck_b" ] || fail "the witness did not cosign slow log B at 2010: $(grep a-slow-log "$W" | tail -3)"
[ -n "$round1" ] && [ "$round1" -le 4000 ] ||
    fail "the feeder's first round beside a slow peer: ${round1:-none} ms, want at most 4000"
grep -q "gossip with peer slow: too slow, out of its time this round" "$W" ||
    fail "no 'too slow' line for the peer: $(tail -3 "$W")"
# the line gives the log's real share (ms), not the timeout
grep -Eq "mirror pull of example.com/a-slow-log at [0-9]* of 20[01]0: too slow, out of its time this round \(a share of [1-9][0-9]* ms\); it goes on next round" "$W" ||
    fail "no 'too slow' line for log B: $(grep 'mirror pull' "$W" | tail -3)"
for t in feeder mirror; do
    [ "$(metric "glasslog_witness_round_parts_late_total{thread=\"$t\"}")" -ge 1 ] 2>/dev/null ||
        fail "no late part counted for the $t: $(curl -sf "$WURL/metrics" | grep parts_late)"
done
# Meanwhile (the mirror asks B for no consistency proof) B withholds its
# proofs and grows: a log that does is SUSPECTED, slow or not.
BN='glasslog_mirror_next_entry{origin="example.com/a-slow-log"}'
n1=$(metric "$BN")
touch "$T/stall"
"$LOADGEN" append --log "$B_URL" --key "$T/sub.key" -n 1 -c 1 --seed 81 > "$T/lgb.out" 2> "$T/lgb.err" ||
    fail "loadgen B: $(tail -3 "$T/lgb.err")"
wait_until 5 grep -q "example.com/a-slow-log: SUSPECTED inconsistency with pull (sizes 2010 and 2011)" "$W" ||
    fail "a withheld proof not SUSPECTED: $(grep a-slow-log "$W" | tail -3)"
[ "$(metric glasslog_witness_suspected_total)" -ge 1 ] || fail "the suspicion was not counted"
cosigned example.com/a-slow-log 2010 || fail "B's size 2011 cosigned without a proof"
# B's proofs in 400 ms again; three peers behind at 2000: a third proof
# in a round finds the cap spent
rm -f "$T/stall"
touch "$T/behind"
# B's mirror moves on over the next rounds
wait_until 4 sh -c "[ \"\$(curl -sf $WURL/metrics | awk -v m='$BN' '\$1 == m { print \$2 }')\" -gt $n1 ]" ||
    fail "B's mirror stuck at $n1: $(grep 'a-slow-log' "$W" | tail -3)"
n2=$(metric "$BN")
CAPPED="/api/v1/proof/consistency\?first=20[01][01]&second=20[01][01] not asked: the log's proofs took [0-9]+ ms this round, the most it may take \(1 x 500 ms\): taken as no answer"
wait_until 8 grep -Eq "$CAPPED" "$W" || fail "no proof refused by the cap: $(grep a-slow-log "$W" | tail -4)"
# the line after the cap's: the comparison that needed the proof
# (written a moment after it: waited for)
SUSPECT_LINE="example.com/a-slow-log: SUSPECTED inconsistency with (pull|peer w[234]) \(sizes 20[01][01] and 20[01][01]\): the log gave no consistency proof between the two sizes"
after_cap() { grep -A1 -E "$CAPPED" "$W" | grep -Eq "$SUSPECT_LINE"; }
wait_until 2 after_cap ||
    fail "the refused proof's comparison not SUSPECTED: $(grep a-slow-log "$W" | tail -4)"
# every SUSPECTED line counted, the cap's among them (each is counted
# before its line is written: the lines read first, then the count), so a
# stalled proof's suspicion cannot stand in for the cap's
lines=$(grep -c "SUSPECTED inconsistency" "$W")
[ "$(metric glasslog_witness_suspected_total)" -ge "$lines" ] ||
    fail "the refused proof's comparison not counted: $(metric glasslog_witness_suspected_total) of $lines"
# the peer's first listed file, whose fetch fails (404), is the first
# fetched again in the next round (the read resumes at it), not left
# until the read comes round the list again
again=$(awk '$0 == "/evidence" { n++; next } n == 2 { print; exit }' "$T/peer-reqs")
[ "$again" = "/evidence/$(cat "$T/first-id")" ] ||
    fail "the peer's failing first evidence entry not retried first in the next round: $(cat "$T/peer-reqs")"
tries=$(grep -c "^/evidence/$(cat "$T/first-id")$" "$T/peer-reqs")
kill -TERM "$WPID" && wait "$WPID" || fail "witness exited $? on SIGTERM"
stop_log
kill -TERM "$B_PID" && wait "$B_PID" || fail "log B exited $? on SIGTERM"
echo "78-mirror-slow-log: ok (A mirrored $took ms after its cosignature, $m_a ms after the start, B cosigned at $ck_b ms, a feeder round in $round1 ms, B's mirror $n1 -> $n2 of 2010, the failing first evidence entry fetched $tries times)"
