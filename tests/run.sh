#!/usr/bin/env bash
# Runs the whole suite against one build tree and ends with the line
# "N passed, N failed". Counts: each cmocka test case, each fuzz corpus
# replay, each integration script. GL_BUILD is the object tree (build or
# build/asan), GL_BIN the directory holding the binaries.
set -u
cd "$(dirname "$0")/.."
: "${GL_BUILD:=build}" "${GL_BIN:=$PWD/bin}"
export GL_BIN GL_BUILD
export GL_VECTORS="${GL_VECTORS:-$PWD/tests/vectors}"
jobs_max=${GL_TEST_JOBS:-2} # integration scripts at once (below)
if ! [[ "$jobs_max" =~ ^[1-9][0-9]?$ ]] || [ "$jobs_max" -gt 16 ]; then
    echo "GL_TEST_JOBS=$jobs_max: give a number of scripts to run at once, 1 to 16" >&2
    exit 2
fi
passed=0 failed=0
failures=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# Unit tests mostly wait on timers and each works in its own temporary
# files: GL_UNIT_JOBS (default 4) run at once; reported in order.
units=()
for t in "$GL_BUILD"/tests/unit/test_*; do
    [ -x "$t" ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "${GL_UNIT_JOBS:-4}" ]; do wait -n; done
    name=$(basename "$t")
    ("$t" >"$log/$name.out" 2>&1; echo $? >"$log/$name.rc") &
    units+=("$name")
done
wait
for name in "${units[@]}"; do
    out="$log/$name.out"
    rc=$(cat "$log/$name.rc" 2>/dev/null || echo 1)
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
    p=${p:-0} f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)) failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        failures+=("$name"); echo "FAIL $name"; tail -40 "$out"
    else
        echo "ok   $name ($p tests)"
    fi
done

for r in "$GL_BUILD"/tests/fuzz/replay_*; do
    [ -x "$r" ] || continue
    name=${r##*/replay_}
    if "$r" "tests/fuzz/corpus/$name" >"$log/fuzz-$name.out" 2>&1; then
        passed=$((passed + 1)); echo "ok   fuzz-replay $name"
    else
        failed=$((failed + 1)); failures+=("fuzz-$name")
        echo "FAIL fuzz-replay $name"; tail -40 "$log/fuzz-$name.out"
    fi
done

# Integration tests each work in their own temporary directory and mostly
# wait on daemons and timers: GL_TEST_JOBS (default 2) run at once, each
# in a slot of its own whose number (GL_PORT_SLOT, of GL_PORT_SLOTS) gives
# it a share of free_port's range, so that no two running at once can pick
# one port (lib.sh; a daemon on port 0 takes one of the kernel's, outside
# that range). A script with a line "# run: alone" runs with no other
# beside it. Results are reported in order, each as soon as it and those
# before it are done (NAME.rc, written whole by a rename, says so).
integ=() next=0 slot_name=()
report_done() { # reports, in order, the finished scripts not yet reported
    local name rc
    while [ "$next" -lt "${#integ[@]}" ]; do
        name=${integ[$next]}
        [ -f "$log/$name.rc" ] || return 0
        rc=$(cat "$log/$name.rc")
        if [ "$rc" = 0 ]; then
            passed=$((passed + 1)); echo "ok   $name ($(cat "$log/$name.secs") s)"
        else
            failed=$((failed + 1)); failures+=("$name")
            echo "FAIL $name ($(cat "$log/$name.secs") s)"; tail -40 "$log/$name.out"
        fi
        next=$((next + 1))
    done
}
free_slot() { # free_slot N: sets SLOT to a slot < N whose script is done, else -1
    local i name
    [ -n "$(jobs -rp)" ] || slot_name=() # none running (one may have been killed)
    for ((i = 0; i < $1; i++)); do
        name=${slot_name[$i]:-}
        if [ -z "$name" ] || [ -f "$log/$name.rc" ]; then SLOT=$i; return; fi
    done
    SLOT=-1
}
run_integ() { # run_integ SCRIPT NAME SLOT SLOTS: runs one script, leaves NAME.rc last
    local start=$SECONDS rc=0
    GL_PORT_SLOT=$3 GL_PORT_SLOTS=$4 timeout 900 bash "$1" >"$log/$2.out" 2>&1 || rc=$?
    echo $((SECONDS - start)) >"$log/$2.secs"
    echo "$rc" >"$log/$2.rc.tmp" && mv "$log/$2.rc.tmp" "$log/$2.rc"
}
for s in tests/integration/[0-9]*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    slots=$jobs_max
    grep -qx '# run: alone' "$s" && { wait; report_done; slots=1; }
    free_slot "$slots"
    while [ "$SLOT" -lt 0 ]; do # polled: wait -n misses a job that ended just before
        sleep 0.2
        report_done
        free_slot "$slots"
    done
    integ+=("$name") slot_name[SLOT]=$name
    run_integ "$s" "$name" "$SLOT" "$slots" &
    [ "$slots" -eq 1 ] && wait
    report_done
done
wait
for name in "${integ[@]}"; do # a runner killed before its result: a failure
    [ -f "$log/$name.rc" ] && continue
    echo "no result: its runner was killed" >>"$log/$name.out"
    echo "?" >"$log/$name.secs" && echo 1 >"$log/$name.rc"
done
report_done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
