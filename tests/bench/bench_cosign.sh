#!/usr/bin/env bash
# bench_cosign: witness cosigning under load, run by `make bench-cosign`
# (part of `make bench`). Three witnesses, each behind a delay line adding
# DELAY ms to every request (tests/integration/tools/delayproxy.py), a
# 2-of-3 quorum, glasslogd with --batch-ms BATCH_MS.
#   1. append_nowitness_durable   the same machine's closed-loop append rate
#                                 with no witness (the reference, this run)
#   2. witness_rtt_ms             one add-checkpoint round trip through a
#                                 delay line (median of 5)
#   3. append_block_3w_*          block mode, OPEN loop (loadgen --rate) at
#                                 half the reference for SECONDS: p50, p99,
#                                 the acknowledged fraction, and the targets
#                                 BATCH_MS + 3 and + 6 round trips
#   4. append_failopen_3w_*       fail-open mode, same load: latencies and
#                                 the fraction of /checkpoint samples taken
#                                 during the load that carry the quorum
# Every process listens on 127.0.0.1 and is stopped by PID.
# Environment: GL_BIN, GL_LOADGEN; optional BENCH_COSIGN_SECONDS (10),
# BENCH_COSIGN_DELAY_MS (100), BENCH_COSIGN_BATCH_MS (20).
set -eu
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
: "${GL_LOADGEN:?GL_LOADGEN must name the loadgen binary}"
SECONDS_RUN=${BENCH_COSIGN_SECONDS:-10}
DELAY=${BENCH_COSIGN_DELAY_MS:-100}
BATCH_MS=${BENCH_COSIGN_BATCH_MS:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
PROXY="$HERE/../integration/tools/delayproxy.py"
G="$GL_BIN/glasslog"
T=$(mktemp -d)
PIDS=""
cleanup() {
    rc=$?
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    [ $rc -eq 0 ] || tail -20 "$T"/*.log >&2 2>/dev/null || true
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
die() { echo "bench_cosign: $*" >&2; exit 1; }
figure() { printf '%s\n' "$2" | awk -v n="$1" '$1 == "bench" && $2 == n { print $3 }'; }

# spawn NAME CMD...: starts CMD, waits for its "(port N)" or "port N" line,
# sets PORT.
spawn() {
    local name=$1 i
    shift
    "$@" > "$T/$name.out" 2> "$T/$name.log" &
    PIDS="$PIDS $!"
    PORT=""
    for i in $(seq 200); do
        PORT=$(sed -n 's/.*[( ]port \([0-9]*\).*/\1/p' "$T/$name.out" "$T/$name.log" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$!" 2>/dev/null || die "$name exited at start: $(cat "$T/$name.log")"
        sleep 0.05
    done
    die "$name did not start"
}

# Two logs (a witness refuses a second log under a key it knows): one for
# block mode, one for fail-open; the reference run uses the first, with no
# witness.
"$G" keygen --name bench.glasslog.test/log --out "$T/block.key" > /dev/null
"$G" keygen --name bench.glasslog.test/log2 --out "$T/failopen.key" > /dev/null
"$G" keygen --name bench.glasslog.test/submitter --out "$T/sub.key" > "$T/submitters"
printf 'logs/v0\nvkey %s\nvkey %s\n' "$(cat "$T/block.key.pub")" "$(cat "$T/failopen.key.pub")" \
    > "$T/logs"
: > "$T/witnesses"
for n in 1 2 3; do
    "$G" keygen --name "w$n.bench.example" --cosigner --out "$T/w$n.key" > /dev/null
    spawn "witness$n" "$GL_BIN/glasslog-witness" --listen 127.0.0.1:0 --data "$T/wd$n" \
        --key "$T/w$n.key" --logs "$T/logs" --create
    spawn "proxy$n" python3 "$PROXY" "$PORT" "$DELAY"
    echo "witness w$n $(cat "$T/w$n.key.pub") http://127.0.0.1:$PORT" >> "$T/witnesses"
done
printf 'group two-of-three 2 w1 w2 w3\nquorum two-of-three\n' >> "$T/witnesses"

# start_log NAME KEY ARGS...: glasslogd on a fresh data dir; sets URL, LPID.
start_log() {
    local name=$1 key=$2 i
    shift 2
    # (one load generator: lift the per-client connection limit for it)
    spawn "$name" "$GL_BIN/glasslogd" --data "$T/$name.data" --key "$T/$key.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 --create --conns-per-client 4096 "$@"
    LPID=${PIDS##* }
    URL="http://127.0.0.1:$PORT"
    for i in $(seq 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/checkpoint")" = 200 ] && return 0
        sleep 0.05
    done
    die "$name serves no checkpoint"
}
stop_log() { kill -TERM "$LPID"; wait "$LPID" || die "glasslogd exited $? on SIGTERM"; }

# 1. the reference: closed loop, no witness.
start_log plain block
out=$("$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n 20000 -c 256 \
    --subject-prefix ref --label append_nowitness)
stop_log
REF=$(figure append_nowitness_durable "$out")
echo "bench append_nowitness_durable $REF appends/s"
RATE=$(awk -v r="$REF" 'BEGIN { printf "%.0f", r / 2 }')
N=$(awk -v r="$RATE" -v s="$SECONDS_RUN" 'BEGIN { printf "%d", r * s }')
[ "$N" -ge 10 ] || die "reference rate too low ($REF)"

# 2. one witness round trip through a delay line (a 409 answer: "old 0").
P1=$(sed -n '1s/.*http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$T/witnesses")
printf 'bench.glasslog.test/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n' |
    "$G" note sign --key "$T/block.key" > "$T/ck0"
{ printf 'old 0\n\n'; cat "$T/ck0"; } > "$T/body0"
RTT=$(for i in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{time_total}\n' --data-binary "@$T/body0" \
        "http://127.0.0.1:$P1/add-checkpoint"
done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 * 1000 }')
echo "bench witness_rtt_ms $RTT ms"
echo "bench append_3w_p50_target_ms $(awk -v b="$BATCH_MS" -v r="$RTT" 'BEGIN { printf "%.0f", b + 3 * r }') ms"
echo "bench append_3w_p99_target_ms $(awk -v b="$BATCH_MS" -v r="$RTT" 'BEGIN { printf "%.0f", b + 6 * r }') ms"

# 3. block mode, open loop at half the reference.
start_log block block --batch-ms "$BATCH_MS" --witnesses "$T/witnesses"
"$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n "$N" -c 1024 --rate "$RATE" \
    --timeout 30 --subject-prefix block --label append_block_3w --log-vkey "@$T/block.key.pub" \
    2> "$T/block.loadgen" || { cat "$T/block.loadgen" >&2; die "block mode load failed"; }
stop_log

# 4. fail-open, same load, sampling the served checkpoint meanwhile.
start_log failopen failopen --batch-ms "$BATCH_MS" --witnesses "$T/witnesses" --witness-mode fail-open
"$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n "$N" -c 1024 --rate "$RATE" \
    --timeout 30 --subject-prefix failopen --label append_failopen_3w \
    --log-vkey "@$T/failopen.key.pub" 2> "$T/failopen.loadgen" &
LG=$!
samples=0 quorum=0
while kill -0 "$LG" 2>/dev/null; do
    curl -s -o "$T/ck" "$URL/checkpoint" || true
    samples=$((samples + 1))
    [ "$(grep -c '^— w[123].bench.example ' "$T/ck" || true)" -ge 2 ] && quorum=$((quorum + 1))
    sleep 0.1
done
wait "$LG" || { cat "$T/failopen.loadgen" >&2; die "fail-open load failed"; }
stop_log
echo "bench append_failopen_3w_quorum_fraction $(awk -v q=$quorum -v s=$samples \
    'BEGIN { printf "%.3f", s ? q / s : 0 }') ratio ($quorum of $samples samples)"
