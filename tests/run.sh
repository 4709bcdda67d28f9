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

# Integration tests each work in their own temporary directory on ports
# the kernel or free_port picks, and mostly wait on daemons and timers:
# GL_TEST_JOBS (default 2) run at once. A script with a line "# run: alone"
# runs with no other beside it. Results are reported in order, each as soon
# as it and those before it are done.
integ=() next=0
report_done() { # reports, in order, the finished scripts not yet reported
    local name rc
    while [ "$next" -lt "${#integ[@]}" ]; do
        name=${integ[$next]}
        [ -f "$log/$name.rc" ] || return 0
        rc=$(cat "$log/$name.rc")
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1)); echo "ok   $name ($(cat "$log/$name.secs") s)"
        else
            failed=$((failed + 1)); failures+=("$name")
            echo "FAIL $name ($(cat "$log/$name.secs") s)"; tail -40 "$log/$name.out"
        fi
        next=$((next + 1))
    done
}
run_integ() { # run_integ SCRIPT NAME: runs one script, leaves NAME.rc last
    local start=$SECONDS rc=0
    timeout 900 bash "$1" >"$log/$2.out" 2>&1 || rc=$?
    echo $((SECONDS - start)) >"$log/$2.secs"
    echo "$rc" >"$log/$2.rc"
}
for s in tests/integration/[0-9]*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    slots=${GL_TEST_JOBS:-2}
    grep -qx '# run: alone' "$s" && slots=1
    while [ "$(jobs -rp | wc -l)" -ge "$slots" ]; do wait -n; report_done; done
    integ+=("$name")
    run_integ "$s" "$name" &
    if [ "$slots" -eq 1 ]; then wait; fi
    report_done
done
wait
report_done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
