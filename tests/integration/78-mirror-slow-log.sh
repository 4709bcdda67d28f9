# Goal: a slow party holds a witness round back by about one timeout, not
# by (requests x timeout). One witness mirrors two pulled logs, with
# --mirror-pull-timeout-ms and --pull-timeout-ms 500 and a 1 s poll
# interval: log B (example.com/a-slow-log, 1000 entries; the witness goes
# through its logs in origin order, so B comes first) is reached through
# a delay line (tools/delayproxy.py) that makes each of its answers take
# 400 ms, inside the timeout; log A (example.com/log) answers at once. The
# witness first cosigns both logs and is restarted once A has grown from
# 10 to 20 entries, beside a peer that lists 16 evidence files of A and
# answers each in 400 ms (404). Asserted: A is mirrored up to 20 within
# 2 s of the restart (the mirror's round, 1.25 s: a timeout per log and
# 250 ms of slack, gives B half, then A its turn; B's catch-up alone
# takes about ten GETs of 400 ms, which a round used to wait for), the
# puller says B is too slow for its share; the feeder finishes its first
# round (pulls of both logs, the peer) within 3 s (its budget is 1.75 s;
# the peer's 16 files used to take 6.4 s) and says the peer is too slow
# for its share.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
TOOLS=$(dirname "$0")/tools
LOADGEN="$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || LOADGEN="$(dirname "$0")/../../$GL_BUILD/tests/bench/loadgen"
[ -x "$LOADGEN" ] || fail "loadgen not built ($LOADGEN)"
hexof() { printf %s "$1" | sha256sum | cut -c1-64; }
now_ms() { date +%s%3N; }
# port_of FILE: the port of FILE's "(port N)" or "listening on port N" line
port_of() { sed -n 's/.*(port \([0-9]*\)).*/\1/p; s/^listening on port \([0-9]*\)$/\1/p' "$1" | head -1; }

make_keys
"$G" keygen --name example.com/a-slow-log --out "$T/log2.key" > /dev/null || fail keygen
"$G" keygen --name mirror1.example --cosigner --out "$T/m1.key" > /dev/null || fail keygen
"$G" keygen --name slow.example --cosigner --out "$T/slow.key" > /dev/null || fail keygen
"$G" keygen --name witness1.example --cosigner --out "$T/w1.key" > /dev/null || fail keygen

start_log "$T/data" --create --batch-ms 2 || fail "start log A"
A_URL=$LOG_URL
spawn glasslogd2 "$GL_BIN/glasslogd" --data "$T/data2" --create --key "$T/log2.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --batch-ms 2 || fail "start log B"
B_URL=$SPAWN_URL B_PID=$SPAWN_PID
# the python servers start while the logs fill
python3 "$TOOLS/delayproxy.py" "${B_URL##*:}" 400 > "$T/proxy.out" 2>&1 &
PIDS="$PIDS $!"
python3 -u -c '
import http.server, json, os, sys, time
ids = [{"id": os.urandom(32).hex(), "origin": "example.com/log"} for _ in range(16)]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.split("?")[0] == "/evidence":
            body, status = json.dumps(ids).encode(), 200
        else:
            if self.path.startswith("/evidence/"):
                time.sleep(0.4)
            body, status = b"no\n", 404
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("(port %d)" % s.server_address[1], file=sys.stderr, flush=True)
s.serve_forever()' 2> "$T/peer.out" &
PIDS="$PIDS $!"
"$LOADGEN" append --log "$A_URL" --key "$T/sub.key" -n 10 -c 4 --seed 78 > "$T/lga.out" 2> "$T/lga.err" &
LGA=$!
"$LOADGEN" append --log "$B_URL" --key "$T/sub.key" -n 1000 -c 32 --seed 78 > "$T/lgb.out" 2> "$T/lgb.err" ||
    fail "loadgen B: $(tail -3 "$T/lgb.err")"
wait "$LGA" || fail "loadgen A: $(tail -3 "$T/lga.err")"
wait_until 10 sh -c "[ \"\$(curl -sf $A_URL/checkpoint | sed -n 2p)\" = 10 ] &&
    [ \"\$(curl -sf $B_URL/checkpoint | sed -n 2p)\" = 1000 ]" || fail "the logs did not reach 10 and 1000"
wait_until 5 sh -c "[ -n \"\$(sed -n 's/^listening on port //p' $T/proxy.out)\" ] &&
    grep -q '(port ' $T/peer.out" || fail "the delay proxy or the slow peer did not start"
B_SLOW="http://127.0.0.1:$(port_of "$T/proxy.out")"
printf 'witness slow %s http://127.0.0.1:%s\n' "$(cat "$T/slow.key.pub")" "$(port_of "$T/peer.out")" > "$T/peers"
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
    wait_until 5 grep -q "witness witness1.example serving" "$W" || fail "witness did not start: $(cat "$W")"
    MURL="http://127.0.0.1:$(sed -n 's/.*mirror mirror1.example of .*(port \([0-9]*\)).*/\1/p' "$W")"
    WURL="http://127.0.0.1:$(sed -n 's/.*witness witness1.example serving .*(port \([0-9]*\)).*/\1/p' "$W")"
}
# First the witness accepts both logs' checkpoints (so that the mirror
# knows at once, after the restart below, that B is behind), then A grows.
start_witness_here first
wait_until 5 sh -c "[ \"\$(curl -sf $WURL/$(hexof example.com/a-slow-log)/checkpoint | sed -n 2p)\" = 1000 ] &&
    [ \"\$(curl -sf $WURL/$(hexof example.com/log)/checkpoint | sed -n 2p)\" = 10 ]" ||
    fail "the witness did not cosign both logs: $(tail -3 "$W")"
kill -TERM "$WPID" && wait "$WPID" || fail "witness exited $? on SIGTERM"
"$LOADGEN" append --log "$A_URL" --key "$T/sub.key" -n 10 -c 4 --seed 79 > "$T/lga.out" 2> "$T/lga.err" ||
    fail "loadgen A: $(tail -3 "$T/lga.err")"
wait_until 5 sh -c "[ \"\$(curl -sf $A_URL/checkpoint | sed -n 2p)\" = 20 ]" || fail "log A did not reach 20"

start_witness_here second --peers "$T/peers"
START=$(now_ms) # its threads started before it logged that it serves
AM="$MURL/mirror/$(hexof example.com/log)"
rounds() { curl -sf "$WURL/metrics" | awk '$1 == "glasslog_witness_poll_rounds_total" { print $2 }'; }
wait_until 4 sh -c "[ \"\$(curl -sf $AM/checkpoint | sed -n 2p)\" = 20 ]" ||
    fail "log A not mirrored beside a slow log B: $(grep 'mirror' "$W" | tail -4)"
took=$(($(now_ms) - START))
[ "$took" -le 2000 ] || fail "log A mirrored after $took ms, want at most 2000"
for i in $(seq 40); do
    [ "$(rounds)" -ge 1 ] 2>/dev/null && break
    sleep 0.1
done
took2=$(($(now_ms) - START))
[ "$(rounds)" -ge 1 ] 2>/dev/null && [ "$took2" -le 3000 ] ||
    fail "the feeder's first round beside a slow peer: $(rounds) rounds in $took2 ms, want 1 within 3000"
grep -q "mirror pull of example.com/a-slow-log at 0 of 1000: too slow, out of its time this round (a share of 500 ms a log); it goes on next round" "$W" ||
    fail "no 'too slow' line for log B: $(grep 'mirror pull' "$W" | tail -3)"
grep -q "gossip with peer slow: too slow, out of its time this round" "$W" ||
    fail "no 'too slow' line for the peer: $(tail -3 "$W")"
kill -TERM "$WPID" && wait "$WPID" || fail "witness exited $? on SIGTERM"
stop_log
kill -TERM "$B_PID" && wait "$B_PID" || fail "log B exited $? on SIGTERM"
echo "78-mirror-slow-log: ok (A mirrored in $took ms, a feeder round in $took2 ms)"
