#!/usr/bin/env bash
# Crash soak (make soak): the kill -9 tests with more cycles than `make
# test` runs (GL_CRASH_CYCLES, 20 by default): glasslogd under append load
# (03-log-crash) and the witness under add-checkpoint load
# (11-witness-crash). Their per-cycle and total lines are printed as they
# come, then the duration of each; exits non-zero if either fails.
set -u
cd "$(dirname "$0")/.."
: "${GL_BUILD:=build}" "${GL_BIN:=$PWD/bin}"
export GL_BIN GL_BUILD GL_CRASH_CYCLES="${GL_CRASH_CYCLES:-20}"
export GL_VECTORS="${GL_VECTORS:-$PWD/tests/vectors}"
status=0 summary=""
for s in 03-log-crash 11-witness-crash; do
    t0=$(date +%s)
    if bash "tests/integration/$s.sh"; then r=ok; else r=FAILED status=1; fi
    summary="$summary
soak $s: $GL_CRASH_CYCLES cycles, $(($(date +%s) - t0)) s, $r"
done
echo "$summary"
exit $status
