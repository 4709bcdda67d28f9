# Goal: gossip tells "nothing yet" from a failure. A witness gossips with
# two stub peers: "empty" answers 404 to everything (it has cosigned
# nothing of the log yet: not an error), "broken" answers 500 to
# everything (a failure: counted in gossip_errors_total and logged with
# the status). After a few rounds gossip_errors_total counts the broken
# peer's polls only (at least one, at most one per round) and the log
# names the broken peer, never the empty one.
# A dead party costs one timeout per round, not one per request: a second
# witness pulls three logs (their urls answer 404 at once) and gossips
# with a black-holed peer (it accepts connections and never answers, so
# each GET waits the feeder's 5 s timeout); once the peer gave no answer
# in a round it is not asked again that round, so rounds (pulls) go on
# every ~6 s (one timeout + the 1 s poll), where asking it about every log
# and for its evidence took 4 timeouts (20 s) per round. The same for a
# trickling peer, alongside: it answers 200 headers at once, then one body
# byte a second, so each GET times out after a status; a fourth witness
# gossiping with it (and pulling the same three logs) asks it once a round
# and logs that it timed out (not that it "answered HTTP 200").
# A reload never freezes the HTTP loop: a third witness gossips with a slow
# peer listing 16 evidence files and answering each in 4.9 s; on SIGHUP
# during that import, /healthz answers within 1 s all along and the reload
# completes within a few seconds (the feeder aborts its request in flight)
# rather than after the rest of the import (about 75 s).
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/g --cosigner --out "$T/w.key" > /dev/null || fail keygen
for p in empty broken; do
    "$G" keygen --name "$p.example" --cosigner --out "$T/$p.key" > /dev/null || fail keygen
done
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"

# pyserver NAME SCRIPT: an HTTP peer stub from a python script (which prints
# "(port N)" to stderr once listening; it may import stubhttp); sets
# STUB_URL.
pyserver() {
    spawn "$1" env PYTHONPATH="$TOOLS" python3 -u -c "$2" || fail "$1 did not start"
    STUB_URL=$SPAWN_URL
}
# stub STATUS: an HTTP server answering STATUS to every GET; sets STUB_URL.
stub() {
    pyserver "stub$1" "import stubhttp
stubhttp.serve(lambda method, path, body: ($1, b'stub\\n'))"
}
stub 404
printf 'witness empty %s %s\n' "$(cat "$T/empty.key.pub")" "$STUB_URL" > "$T/peers"
stub 500
printf 'witness broken %s %s\n' "$(cat "$T/broken.key.pub")" "$STUB_URL" >> "$T/peers"

spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wd" --create --key "$T/w.key" \
    --logs "$T/logs" --peers "$T/peers" --poll-interval 1 ||
    fail "witness did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
metric() { awk -v m="glasslog_witness_$1" '$1 == m { print $2 }' "$T/metrics"; }
# metrics_until URL NAME MIN TRIES: reads URL's metrics into $T/metrics
# every 0.1 s until metric NAME is at least MIN, TRIES times at the most.
metrics_until() {
    local i
    for i in $(seq "$4"); do
        curl -sf "$1/metrics" > "$T/metrics" || fail "metrics of $1"
        [ "$(metric "$2")" -ge "$3" ] && return
        sleep 0.1
    done
}
metrics_until "$WURL" poll_rounds_total 3 100
rounds=$(metric poll_rounds_total) polls=$(metric gossip_polls_total)
errors=$(metric gossip_errors_total)
[ "$rounds" -ge 3 ] || fail "only $rounds rounds"
[ "$polls" -ge 4 ] || fail "only $polls gossip polls in $rounds rounds"
# one failed poll per round of the broken peer, the one in progress too
[ "$errors" -ge 1 ] && [ "$errors" -le $((rounds + 1)) ] ||
    fail "gossip_errors_total $errors after $rounds rounds ($polls polls)"
grep -q "peer broken served no valid cosigned checkpoint: answered HTTP 500" "$WOUT" ||
    fail "no log line for the broken peer: $(tail -5 "$WOUT")"
grep -q "peer empty" "$WOUT" && fail "the empty peer's 404 logged as a failure: $(grep "peer empty" "$WOUT")"
kill -TERM "$WPID"
wait "$WPID" || fail "witness exited $? on SIGTERM"
summary="$errors errors in $rounds rounds, $polls polls"

pyserver blackhole '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("(port %d)" % s.getsockname()[1], file=sys.stderr, flush=True)
time.sleep(3600)'
"$G" keygen --name dead.example --cosigner --out "$T/dead.key" > /dev/null || fail keygen
printf 'witness dead %s %s\n' "$(cat "$T/dead.key.pub")" "$STUB_URL" > "$T/peers2"
stub 404
printf 'logs/v0\n' > "$T/logs2"
for l in a b c; do
    "$G" keygen --name "$l.example/log" --out "$T/$l.key" > /dev/null || fail keygen
    printf 'vkey %s\nurl %s/%s\n' "$(cat "$T/$l.key.pub")" "$STUB_URL" "$l" >> "$T/logs2"
done
pyserver trickle '
import socket, sys, threading, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
def serve(c):
    try:
        print(c.recv(4096).split(b"\r\n")[0].decode(), file=sys.stderr, flush=True)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        for _ in range(60):
            time.sleep(1)
            c.sendall(b"x")
    except OSError:
        pass
    c.close()
print("(port %d)" % s.getsockname()[1], file=sys.stderr, flush=True)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()'
TRICKLE_OUT=$SPAWN_OUT
printf 'witness trickle %s %s\n' "$(cat "$T/dead.key.pub")" "$STUB_URL" > "$T/peers4"
spawn witness4 "$W" --listen 127.0.0.1:0 --data "$T/wd4" --create --key "$T/w.key" \
    --logs "$T/logs2" --peers "$T/peers4" --poll-interval 1 ||
    fail "witness 4 did not start: $(cat "$SPAWN_OUT")"
TPID=$SPAWN_PID TURL=$SPAWN_URL TOUT=$SPAWN_OUT
spawn witness2 "$W" --listen 127.0.0.1:0 --data "$T/wd2" --create --key "$T/w.key" \
    --logs "$T/logs2" --peers "$T/peers2" --poll-interval 1 ||
    fail "witness 2 did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
START=$(date +%s)
# three pulls a round: two full rounds started within ~6 s (20 s when the
# dead peer cost a timeout per log and per evidence list)
metrics_until "$WURL" pulls_total 6 110
pulls=$(metric pulls_total) rounds=$(metric poll_rounds_total)
errors=$(metric gossip_errors_total)
[ "$pulls" -ge 6 ] ||
    fail "a dead peer stalls the pulls: $pulls pulls in $(($(date +%s) - START)) s"
# the dead peer: one failed poll per round (the one in progress too)
[ "$errors" -ge 1 ] && [ "$errors" -le $((rounds + 1)) ] ||
    fail "dead peer: gossip_errors_total $errors after $rounds rounds"
n=$(grep -c "gave no answer .*no more requests to it this round" "$WOUT")
[ "$n" -ge 1 ] && [ "$n" -le $((rounds + 1)) ] ||
    fail "dead peer: $n 'gave no answer' lines after $rounds rounds: $(tail -5 "$WOUT")"
kill -TERM "$WPID"
wait "$WPID" || fail "witness 2 exited $? on SIGTERM"
dead_pulls=$pulls
# the trickling peer (started with witness 2): likewise
metrics_until "$TURL" pulls_total 6 30
pulls=$(metric pulls_total) rounds=$(metric poll_rounds_total)
gets=$(grep -c "^GET " "$TRICKLE_OUT")
[ "$pulls" -ge 6 ] ||
    fail "a trickling peer stalls the pulls: $pulls pulls, $gets GETs to it in $(($(date +%s) - START)) s"
[ "$gets" -ge 1 ] && [ "$gets" -le $((rounds + 1)) ] ||
    fail "trickling peer: asked $gets times in $rounds rounds"
n=$(grep -c "timed out after HTTP 200 headers .*no more requests to it this round" "$TOUT")
[ "$n" -ge 1 ] && [ "$n" -le $((rounds + 1)) ] ||
    fail "trickling peer: $n 'timed out' lines after $rounds rounds: $(tail -5 "$TOUT")"
grep -q "answered HTTP 200" "$TOUT" && fail "a timeout logged as an answer: $(tail -3 "$TOUT")"
kill -TERM "$TPID"
wait "$TPID" || fail "witness 4 exited $? on SIGTERM"

pyserver slow '
import json, os, stubhttp, sys, time
ids = [{"id": os.urandom(32).hex(), "origin": "example.com/log"} for _ in range(16)]
def respond(method, path, body):
    print("GET " + path, file=sys.stderr, flush=True)
    if path.split("?")[0] == "/evidence":
        return 200, json.dumps(ids).encode()
    if path.startswith("/evidence/"):
        time.sleep(4.9)
    return 404, b"no\n"
stubhttp.serve(respond)'
SLOW_OUT=$SPAWN_OUT
printf 'witness slow %s %s\n' "$(cat "$T/dead.key.pub")" "$STUB_URL" > "$T/peers3"
spawn witness3 "$W" --listen 127.0.0.1:0 --data "$T/wd3" --create --key "$T/w.key" \
    --logs "$T/logs" --peers "$T/peers3" --poll-interval 1 ||
    fail "witness 3 did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
wait_until 10 grep -q "GET /evidence/" "$SLOW_OUT" ||
    fail "the witness did not import from the slow peer: $(cat "$SLOW_OUT")"
sleep 0.5 # inside the first 4.9 s GET
kill -HUP "$WPID"
START=$(date +%s%3N)
for i in $(seq 15); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$WURL/healthz") || code=none
    [ "$code" = 200 ] || [ "$code" = 503 ] ||
        fail "/healthz did not answer within 3 s during the reload ($code, try $i)"
    grep -q "reload: witnessing" "$WOUT" && [ "$i" -ge 5 ] && break
    sleep 0.2
done
wait_until 10 grep -q "reload: witnessing" "$WOUT" ||
    fail "the reload did not complete: $(tail -5 "$WOUT")"
took=$(($(date +%s%3N) - START))
# (waiting for the slow peer's requests would take about 75 s)
[ "$took" -le 20000 ] || fail "the reload took $took ms"
curl -sf --max-time 5 "$WURL/healthz" > /dev/null || fail "/healthz after the reload"
kill -0 "$WPID" || fail "witness 3 died on SIGHUP"
kill -TERM "$WPID"
wait "$WPID" || fail "witness 3 exited $? on SIGTERM"
echo "PASS: 19-witness-gossip-errors ($summary;" \
    "$dead_pulls pulls beside a dead peer, $pulls beside a trickling one; reload in ${took} ms beside a slow one)"
