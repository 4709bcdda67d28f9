# Goal: a pulled log under steady write load is mirrored. glasslogd
# pushes each new checkpoint to the witness (--witnesses, a sequencer tick
# of 20 ms) while it takes 30 statements a second, so the mirror's ring
# of MIRROR_PENDING_KEEP (8) pending checkpoints moves on many sizes
# while the witness's puller builds one upload: it reaches the log
# through a proxy that answers each tile and entry bundle in 300 ms, and
# a batch from entry 0 to 600 and more takes a dozen of them. The puller
# seals its batch's pending checkpoint in a ticket and sends it, so the
# upload is taken although its upload_end left the ring long before.
# Asserted, while the load goes on: the mirror checkpoint reaches the
# log's size after a burst of 600 more entries within 40 s, then the size
# the log had once that was reached within 40 s more; the copy serves
# the log's tiles byte for byte.
. "$(dirname "$0")/lib.sh"
need_py_crypto
loadgen_tool
mirror_keys
LHEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
N=600
printf 'witness w1 %s http://127.0.0.1:%s\nquorum w1\n' "$(cat "$T/w1.key.pub")" "$PORT1" \
    > "$T/witnesses"
start_log "$T/data" --create --batch-ms 20 --witnesses "$T/witnesses" ||
    fail "start: $(cat "$LOG_OUT")"
# the slow proxy: 300 ms for each tile and entry bundle
spawn slowproxy env PYTHONPATH="$TOOLS" python3 -u -c '
import stubhttp, sys, time, urllib.error, urllib.request
up = sys.argv[1]
def respond(method, path, body):
    if path.startswith("/tile/"):
        time.sleep(0.3)
    try:
        with urllib.request.urlopen(up + path, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
stubhttp.serve(respond, http11=True)' "$LOG_URL" || fail "slow proxy"
SLOW=$SPAWN_URL
printf 'logs/v0\nvkey %s\nurl %s\nmirror\n' "$(cat "$T/log.key.pub")" "$SLOW" > "$T/logs"
start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" \
    --poll-interval 1
wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"

log_size() { curl -sf "$LOG_URL/checkpoint" | sed -n 2p; }
mirror_size() { curl -sf "$MURL/mirror/$LHEX/checkpoint" | sed -n 2p; }
at_least() { s=$(mirror_size); [ -n "$s" ] && [ "$s" -ge "$1" ]; }

# the steady load, on until the end (about 30 sizes a second; loadgen
# signs its statements before it posts the first)
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 4000 -c 4 --rate 30 --seed 860 \
    > "$T/load.out" 2> "$T/load.err" &
LOAD=$!
PIDS="$PIDS $LOAD"
log_at_least() { s=$(log_size); [ -n "$s" ] && [ "$s" -ge "$1" ]; }
wait_until 30 log_at_least 30 ||
    fail "the steady load did not start: $(tail -3 "$T/load.err")"
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$N" -c 4 --seed 86 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
first=$(log_size)
wait_until 40 at_least "$first" ||
    fail "the mirror holds '$(mirror_size)' under load, want at least $first (log at $(log_size)): $(grep 'mirror pull' "$WOUT1" | tail -4)"
second=$(log_size)
[ "$((second - first))" -ge 30 ] ||
    fail "the log grew from $first to $second only: no steady load to test with"
wait_until 40 at_least "$second" ||
    fail "the mirror holds '$(mirror_size)' under load, want at least $second: $(grep 'mirror pull' "$WOUT1" | tail -4)"
kill "$LOAD" 2>/dev/null
wait "$LOAD" 2>/dev/null
python3 "$(dirname "$0")/mirror.py" same-tiles "$LOG_URL" "$MURL/mirror/$LHEX" > /dev/null ||
    fail "the mirror's tiles differ from the log's"
stop_witness 1
stop_log
echo "86-mirror-busy-log: ok (mirrored $first, then $second, under load)"
