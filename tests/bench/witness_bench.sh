#!/usr/bin/env bash
# witness_bench: add-checkpoint throughput of glasslog-witness with its
# durable state, and memory over many requests. Makes ORIGINS log keys and
# a logs file, starts a witness on a fresh data dir, cosigns one size-10
# checkpoint per origin, then drives wrk (witness_bench.lua) re-submitting
# those checkpoints ("old 10", same note: always valid, each one a signed,
# fsync'd state change) from CONNS connections for SECONDS, twice, and
# reports requests/s, latency, the batching the engine achieved and the
# resident memory after each run ("bench <name> <value> <unit>" lines).
# Usage: GL_BIN=bin [RUNS=2] tests/bench/witness_bench.sh [ORIGINS] [SECONDS] [CONNS]
set -eu
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
ORIGINS=${1:-200} SECONDS_RUN=${2:-10} CONNS=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
WPID=""
trap 'if [ -n "$WPID" ]; then kill "$WPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
G="$GL_BIN/glasslog"
command -v wrk > /dev/null || { echo "witness_bench: wrk is not installed" >&2; exit 1; }

echo "logs/v0" > "$T/logs"
ROOT=$(printf 'bench' | sha256sum | cut -c1-64 | xxd -r -p | base64)
for i in $(seq "$ORIGINS"); do
    o="bench$i.example/log"
    "$G" keygen --name "$o" --out "$T/k$i" > /dev/null
    echo "vkey $(cat "$T/k$i.pub")" >> "$T/logs"
    printf '%s\n10\n%s\n' "$o" "$ROOT" | "$G" note sign --key "$T/k$i" > "$T/ck$i"
    { printf 'old 0\n\n'; cat "$T/ck$i"; } > "$T/first$i"
    { printf 'old 10\n\n'; cat "$T/ck$i"; } > "$T/again$i"
    echo "$T/again$i" >> "$T/bodies"
done
"$G" keygen --name bench.example/witness --cosigner --out "$T/w.key" > /dev/null
"$GL_BIN/glasslog-witness" --listen 127.0.0.1:0 --data "$T/data" --create --key "$T/w.key" \
    --logs "$T/logs" > /dev/null 2> "$T/w.log" &
WPID=$!
PORT=""
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/w.log" 2>/dev/null)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "witness did not start: $(cat "$T/w.log")" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
for i in $(seq "$ORIGINS"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary "@$T/first$i" "$URL/add-checkpoint")" = 200 ]
done
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
echo "bench witness_rss_start $(($(metric glasslog_witness_resident_memory_bytes) / 1024)) KiB"
for run in $(seq "${RUNS:-2}"); do
    b0=$(metric glasslog_witness_batches_total)
    r0=$(metric glasslog_witness_batch_requests_total)
    wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s "$HERE/witness_bench.lua" "$URL" -- \
        "$T/bodies" > "$T/wrk.out"
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$T/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$T/wrk.out")
    bad=$(awk '/^non-200 answers/ { print $3 }' "$T/wrk.out")
    b1=$(metric glasslog_witness_batches_total)
    r1=$(metric glasslog_witness_batch_requests_total)
    echo "bench witness_add_checkpoint_run$run $rps req/s (p50 $p50, p99 $p99, non-200 $bad," \
        "$ORIGINS origins, $CONNS connections)"
    echo "bench witness_requests_per_fsync_run$run $(awk -v a=$((r1 - r0)) -v b=$((b1 - b0)) \
        'BEGIN { printf "%.1f", b ? a / b : 0 }') requests"
    echo "bench witness_rss_after_run$run $(($(metric glasslog_witness_resident_memory_bytes) / 1024)) KiB"
done
kill -TERM "$WPID"
wait "$WPID"
WPID=""
