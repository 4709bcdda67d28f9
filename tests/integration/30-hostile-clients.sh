# Goal: glasslogd and glasslog-witness stay available and bounded under
# hostile clients, with their default limits: one address opening 4,100
# connections (each idle after one byte of a request head) keeps 64, the
# rest closed at once and counted by the server, while another loopback
# address is still served within 2 s and the first is refused; 400
# concurrent 1 MiB request bodies (Content-Length and chunked) are all
# refused 413 without being buffered (resident memory grows by less than
# 64 MiB; the server counts 400 answers 413, and the client sees each, or
# a reset that may have discarded it: the server closes with the body
# unread); 200 connections each sending 400,000 bytes of a request head
# that never ends are all reset within 3 s (the 64 KiB head cap, checked
# every 500 ms; without it they would hold about 80 MiB for the whole 10 s
# request timeout) and counted; a request head dribbled one byte at a time
# is cut at the request timeout; 16 MiB of answers read at 1 KB/s, steadily
# enough to show progress, are reset at the 4 KiB/s floor (within the
# request timeout + bytes read / 4 KiB/s + 2 s); a SIGTERM with such a
# reader and half a request head connected ends glasslogd within 5 s (both
# reset 2 s into the shutdown); and the limits are settable
# (--conns-per-client, --request-timeout-ms). Prints the figures.
# Timed bounds on connections, memory and resets: no other script beside it.
# run: alone
. "$(dirname "$0")/lib.sh"
HOSTILE="python3 $(dirname "$0")/hostile.py"
HELD=4100

# The client side needs a descriptor per held connection (soft limit only:
# the daemons started from here must keep the hard limit to raise to).
ulimit -Sn $((HELD + 512)) 2>/dev/null ||
    fail "cannot raise the open-file limit to $((HELD + 512)) (hard limit $(ulimit -Hn)): this test holds $HELD connections"
for a in 127.0.0.2 127.0.1.1 127.0.1.8 127.0.2.4; do
    python3 -c "import socket; socket.socket().bind(('$a', 0))" ||
        fail "cannot bind $a: the test needs all of 127.0.0.0/8 on loopback (Linux)"
done

# metric NAME URL: the value of a Prometheus line starting with NAME.
metric() {
    curl -s --interface 127.0.0.3 "$2/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
# attack NAME PORT PID GET_PATH POST_PATH: 4,100 idle connections from
# 127.0.0.1 with a probe from 127.0.0.2, then 400 x 1 MiB bodies from
# 127.0.1.1-8 (50 each, under the per-client limit); prints the figures.
attack() {
    local name=$1 port=$2 pid=$3
    $HOSTILE hold "$port" $HELD 127.0.0.1 127.0.0.2 "$4" 64 > "$T/$name.hold" ||
        { cat "$T/$name.hold"; fail "$name: held connections"; }
    cat "$T/$name.hold"
    $HOSTILE bodies "$port" "$5" "$pid" 400 8 8 > "$T/$name.bodies" ||
        { cat "$T/$name.bodies"; fail "$name: large bodies"; }
    cat "$T/$name.bodies"
    $HOSTILE heads "$port" "$pid" 200 4 > "$T/$name.heads" ||
        { cat "$T/$name.heads"; fail "$name: unfinished large heads"; }
    cat "$T/$name.heads"
}

# settings NAME PORT GET_PATH: the daemon runs with --conns-per-client 3
# --request-timeout-ms 3000: of 10 connections 3 kept, a dribbled head cut
# within 3 s (+2 s).
settings() {
    local name=$1 port=$2
    $HOSTILE hold "$port" 10 127.0.0.1 127.0.0.2 "$3" 3 > "$T/$name.hold3" ||
        { cat "$T/$name.hold3"; fail "$name --conns-per-client 3"; }
    $HOSTILE slow "$port" 3000 > "$T/$name.slow" || { cat "$T/$name.slow"; fail "$name: slow head"; }
    cat "$T/$name.slow"
}

# --- glasslogd -----------------------------------------------------------------
make_keys
start_log "$T/data" --create || fail "glasslogd did not start: $(cat "$LOG_OUT")"
grep -q "http: at most [0-9]* connections, 64 per client; request timeout 10000 ms; bodies up to 65535 bytes" \
    "$LOG_OUT" || fail "limits not logged as expected: $(grep http: "$LOG_OUT")"
echo "== glasslogd: $(grep -o 'open-file limit.*' "$LOG_OUT")"
attack glasslogd "${LOG_URL##*:}" "$LOG_PID" /checkpoint /api/v1/add
[ "$(metric 'glasslog_http_responses_total{code="413"}' "$LOG_URL")" -ge 400 ] ||
    fail "glasslogd did not count 400 answers 413"
[ "$(metric glasslog_http_connections_head_too_large_total "$LOG_URL")" -ge 200 ] ||
    fail "glasslogd did not count 200 connections reset for their head"
curl -s -o /dev/null -w '%{http_code}' "$LOG_URL/checkpoint" | grep -qx 200 || fail "glasslogd stopped serving"
stop_log
grep "http: closing;" "$LOG_OUT"
refused=$(sed -n 's/.* \([0-9]*\) over the per-client limit.*/\1/p' "$LOG_OUT")
[ "${refused:-0}" -ge $((HELD - 64)) ] || fail "glasslogd counted ${refused:-no} refusals, want >= $((HELD - 64))"
grep -q "refused [0-9]* connections over the limit of 64 per client (last from 127.0.0.1)" "$LOG_OUT" ||
    fail "glasslogd did not log the refusals"
# 16 MiB of answers (a served 4 MiB file asked four times) read at 1 KB/s,
# steadily enough to show progress within the request timeout, are reset
# at the 4 KiB/s floor; a SIGTERM with such a reader and half a request
# head connected ends the process within 5 s all the same.
mkdir "$T/web" && head -c 4194304 /dev/zero | tr '\0' x > "$T/web/big.txt" ||
    fail "cannot write $T/web/big.txt"
start_log "$T/data" --request-timeout-ms 1500 --web "$T/web" || fail "glasslogd restart"
$HOSTILE slowread "${LOG_URL##*:}" /big.txt 1500 > "$T/slowread" ||
    { cat "$T/slowread"; fail "glasslogd: slow reader"; }
cat "$T/slowread"
[ "$(metric glasslog_http_connections_stalled_total "$LOG_URL")" -eq 1 ] ||
    fail "glasslogd did not count the slow reader's reset"
stop_log
start_log "$T/data" --conns-per-client 3 --request-timeout-ms 3000 --web "$T/web" ||
    fail "glasslogd restart"
settings glasslogd "${LOG_URL##*:}" /checkpoint
# (the default request timeout, 10 s: a shorter one could close the half
# head before the shutdown's reset at 2 s on a slow machine)
stop_log
start_log "$T/data" --web "$T/web" || fail "glasslogd restart"
$HOSTILE slowexit "${LOG_URL##*:}" /big.txt "$LOG_PID" > "$T/slowexit" ||
    { cat "$T/slowexit"; fail "glasslogd: shutdown with slow clients"; }
cat "$T/slowexit"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
grep -q "http: closing: reset 2 connections still open after 2000 ms" "$LOG_OUT" ||
    fail "the reset at shutdown was not logged as expected: $(grep http: "$LOG_OUT")"

# --- glasslog-witness --------------------------------------------------------------
printf 'logs/v0\n' > "$T/logs"
make_witness_keys 1
start_witness 1 "$T/logs"
W=http://127.0.0.1:$PORT1
grep -q "http: at most [0-9]* connections, 64 per client; request timeout 10000 ms; bodies up to 65536 bytes" \
    "$WOUT1" || fail "witness limits not logged as expected: $(grep http: "$WOUT1")"
echo "== glasslog-witness: $(grep -o 'open-file limit.*' "$WOUT1")"
attack witness "$PORT1" "$WPID1" /healthz /add-checkpoint
echo "# witness /metrics"
curl -s --interface 127.0.0.3 "$W/metrics" | grep -E '^glasslog_witness_http_(conn|resp)'
[ "$(metric glasslog_witness_http_connections_refused_per_client_total "$W")" -ge $((HELD - 64)) ] ||
    fail "witness refusals not counted"
[ "$(metric 'glasslog_witness_http_responses_total{code="413"}' "$W")" -ge 400 ] ||
    fail "witness did not count 400 answers 413"
[ "$(metric glasslog_witness_http_connections_head_too_large_total "$W")" -ge 200 ] ||
    fail "witness did not count 200 connections reset for their head"
[ "$(metric glasslog_witness_http_connections_refused_total "$W")" -eq 0 ] ||
    fail "witness refused connections over its total limit"
stop_witness 1
start_witness 1 "$T/logs" --conns-per-client 3 --request-timeout-ms 3000
settings witness "$PORT1" /healthz
stop_witness 1
echo "PASS"
