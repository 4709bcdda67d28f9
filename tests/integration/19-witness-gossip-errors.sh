# Goal: gossip tells "nothing yet" from a failure. A witness gossips with
# two stub peers: "empty" answers 404 to everything (it has cosigned
# nothing of the log yet: not an error), "broken" answers 500 to
# everything (a failure: counted in gossip_errors_total and logged with
# the status). After a few rounds gossip_errors_total counts the broken
# peer's polls only (at least one, at most one per round) and the log
# names the broken peer, never the empty one.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/g --cosigner --out "$T/w.key" > /dev/null || fail keygen
for p in empty broken; do
    "$G" keygen --name "$p.example" --cosigner --out "$T/$p.key" > /dev/null || fail keygen
done
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"

# stub STATUS: an HTTP server answering STATUS to every GET; sets STUB_URL.
stub() {
    spawn "stub$1" python3 -u -c '
import http.server, sys
status = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"stub\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("(port %d)" % s.server_address[1], file=sys.stderr, flush=True)
s.serve_forever()' "$1" || fail "stub $1 did not start"
    STUB_URL=$SPAWN_URL
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
for i in $(seq 100); do
    curl -sf "$WURL/metrics" > "$T/metrics" || fail "metrics"
    [ "$(metric poll_rounds_total)" -ge 3 ] && break
    sleep 0.1
done
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
echo "PASS: 19-witness-gossip-errors ($errors errors in $rounds rounds, $polls polls)"
