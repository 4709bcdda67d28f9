#!/bin/sh
# bench_monitor: how fast `glasslog monitor` catches up over a local log
# (the goal: at least half the same-run all-core Ed25519 verify rate,
# memory flat in the log's size). Prints "bench <name> <value> <unit>"
# lines and exits non-zero if anything fails.
#
# In a temp dir: fresh keys, glasslogd on a free 127.0.0.1 port, then
#   1. loadgen append N/10 entries; a monitor catches up from nothing
#      (monitor_peak_rss_kb_small)
#   2. loadgen append the rest (N in all); a fresh monitor catches up over
#      all N entries: monitor_entries_per_s, monitor_peak_rss_kb
#   3. ref_ed25519_verify_allcores: loadgen ref-verify right before and
#      right after step 2 (their mean), on the same machine in the same run
#   4. ratio_monitor_vs_verify = monitor_entries_per_s / reference
# Every entry costs the monitor one Ed25519 verify (all are signed by a
# policy submitter), a SHA-256, a statement parse, an HTTP download share
# and a tile comparison; the log serving the bundles shares the cores.
#
# Environment: GL_BIN (glasslog, glasslogd), GL_LOADGEN (loadgen binary);
# optional BENCH_MONITOR_N (default 100000), BENCH_MONITOR_THREADS (the
# monitor's --threads; default one per core).
set -eu

: "${GL_BIN:?GL_BIN must name the directory holding glasslog and glasslogd}"
: "${GL_LOADGEN:?GL_LOADGEN must name the loadgen binary}"
N=${BENCH_MONITOR_N:-100000}
SMALL=$((N / 10))
THREADS=${BENCH_MONITOR_THREADS:-}
T=$(mktemp -d)
LOG_PID=""

cleanup() {
    rc=$?
    if [ -n "$LOG_PID" ]; then
        kill -TERM "$LOG_PID" 2>/dev/null || true
        wait "$LOG_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ]; then
        echo "bench_monitor: FAILED" >&2
        tail -5 "$T"/*.err "$T/glasslogd.log" 2>/dev/null >&2 || true
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench_monitor: $*" >&2; exit 1; }

G="$GL_BIN/glasslog"
"$G" keygen --name bench.example/log --out "$T/log.key" > /dev/null
"$G" keygen --name bench.example/ci --out "$T/sub.key" > "$T/submitters"
printf 'log %s\nsubmitter %s\nquorum none\n' "$(cat "$T/log.key.pub")" "$(cat "$T/sub.key.pub")" \
    > "$T/policy"
# The load generator is one client with many connections: lift the
# per-client connection limit (64) for it.
"$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" --submitters "$T/submitters" \
    --conns-per-client 4096 \
    --listen 127.0.0.1:0 --create > "$T/glasslogd.log" 2>&1 &
LOG_PID=$!
port=""
i=0
while [ -z "$port" ] && [ $i -lt 200 ]; do
    port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/glasslogd.log")
    kill -0 "$LOG_PID" 2>/dev/null || die "glasslogd exited: $(cat "$T/glasslogd.log")"
    [ -n "$port" ] || sleep 0.05
    i=$((i + 1))
done
[ -n "$port" ] || die "glasslogd did not start"
URL="http://127.0.0.1:$port"

append() { # append COUNT PREFIX
    "$GL_LOADGEN" append --log "$URL" --key "$T/sub.key" -n "$1" -c 64 --subject-prefix "$2" \
        > /dev/null 2> "$T/loadgen.err" || die "loadgen append: $(tail -3 "$T/loadgen.err")"
}
monitor() { # monitor STATE: one catch-up; its summary line in $T/mon.err
    "$G" monitor --log "$URL" --policy "$T/policy" --state "$1" --once --no-progress \
        ${THREADS:+--threads "$THREADS"} > "$T/mon.out" 2> "$T/mon.err" ||
        die "monitor failed: $(cat "$T/mon.err")"
    grep -q "verified, no alarm" "$T/mon.out" || die "monitor: $(cat "$T/mon.out")"
}
field() { sed -n "s|.*$1.*|\\1|p" "$T/mon.err"; }
ref() {
    "$GL_LOADGEN" ref-verify --seconds 3 2> /dev/null |
        sed -n 's/^bench ref_ed25519_verify_allcores \([0-9.]*\) .*/\1/p'
}

append "$SMALL" s
monitor "$T/state-small"
rss_small=$(field 'peak RSS \([0-9]*\) KiB')
append $((N - SMALL)) b
ref1=$(ref)
monitor "$T/state-full"
ref2=$(ref)
rate=$(field ', \([0-9]*\) entries/s')
rss=$(field 'peak RSS \([0-9]*\) KiB')
checked=$(field 'checked \([0-9]*\) entries')
[ "$checked" = "$N" ] || die "the monitor checked $checked entries, want $N"
[ -n "$ref1" ] && [ -n "$ref2" ] && [ -n "$rate" ] || die "missing figures"
refm=$(awk -v a="$ref1" -v b="$ref2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
echo "bench monitor_entries_per_s $rate entries/s"
echo "bench ref_ed25519_verify_allcores $refm verifies/s"
echo "bench ratio_monitor_vs_verify $(awk -v a="$rate" -v b="$refm" 'BEGIN { printf "%.3f", a / b }')"
echo "bench monitor_peak_rss_kb_small $rss_small KiB"
echo "bench monitor_peak_rss_kb $rss KiB"
echo "bench_monitor: $N entries; reference before $ref1, after $ref2 verifies/s" >&2
