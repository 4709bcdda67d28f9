#!/usr/bin/env bash
# Runs libFuzzer targets (built by `make fuzz` in BUILD_DIR/tests/fuzz)
# for SECONDS each, one after the other, each starting from a copy of its
# checked-in corpus (new inputs stay in BUILD_DIR/corpus, not in git;
# crash inputs go to BUILD_DIR/artifacts/NAME/). Prints one line a target:
#   fuzz NAME seconds=S execs=N exec/s=R cpu-min=C exec/cpu-s=E crashes=K
# (execs and exec/s, over wall-clock time, from libFuzzer's final stats;
# CPU from the shell's `times`: user+system of the fuzzer process; E =
# execs per CPU-second, the rate on a machine the fuzzer does not share).
# Exits non-zero if any
# target found a crash, leak, timeout or out-of-memory.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS NAME...
set -eu
build=$1 secs=$2
shift 2
[ $# -gt 0 ] || { echo "fuzz: no targets given (FUZZ_TARGETS)" >&2; exit 2; }
case $secs in
    '' | *[!0-9]* | 0) # libFuzzer would take 0 for "no limit"
        echo "fuzz: FUZZ_SECONDS must be a whole number above 0, not \"$secs\"" >&2; exit 2 ;;
esac
status=0

# CPU seconds (user+system) of this shell's children so far: `times` run
# in this shell (a subshell would see only its own children).
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file" "$cpu_file.0"' EXIT
child_cpu() {
    times >"$cpu_file"
    awk 'NR == 2 { s = 0
        for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
        printf "%.2f", s }' "$cpu_file"
}

for name in "$@"; do
    bin="$build/tests/fuzz/fuzz_$name"
    seeds="tests/fuzz/corpus/$name"
    corpus="$build/corpus/$name"
    art="$build/artifacts/$name"
    logf="$build/fuzz_$name.log"
    [ -x "$bin" ] || { echo "fuzz $name: no binary $bin" >&2; exit 2; }
    [ -d "$seeds" ] || { echo "fuzz $name: no seed corpus $seeds" >&2; exit 2; }
    mkdir -p "$corpus" "$art"
    cp -n "$seeds"/* "$corpus/"
    touch "$art/.start"
    child_cpu >"$cpu_file.0"; before=$(cat "$cpu_file.0")
    rc=0
    "$bin" -max_total_time="$secs" -max_len=70000 -print_final_stats=1 \
        -artifact_prefix="$art/" "$corpus" >"$logf" 2>&1 || rc=$?
    child_cpu >"$cpu_file.0"; after=$(cat "$cpu_file.0")
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$logf" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$logf" | tail -1)
    crashes=$(find "$art" -type f -newer "$art/.start" | wc -l)
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
    echo "fuzz $name seconds=$secs execs=${execs:-?} exec/s=${rate:-?}" \
        "$(awk -v a="$before" -v b="$after" -v e="${execs:-0}" 'BEGIN {
            c = b - a; printf("cpu-min=%.2f exec/cpu-s=%d", c / 60, (c > 0 ? e / c : 0)) }')" \
        "crashes=$crashes"
    if [ "$rc" -ne 0 ]; then
        echo "fuzz $name: FINDING (exit $rc), see $logf and $art/"
        status=1
    fi
done
exit $status
