# Goal: `glasslog monitor` catching up over a large log (100k entries;
# 20k under the sanitizers; GL_MONITOR_N overrides): killed with SIGKILL
# part way, it resumes from its progress file at the next bundle (only the
# remaining entries are checked) and finishes with the log's checkpoint
# stored; memory stays flat (peak RSS reported by the monitor, bounded
# here); on a terminal it draws a progress bar. Entries are appended with
# tests/bench/loadgen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
# Under ASan the shadow memory and the allocator's quarantine dominate RSS.
case "${GL_BUILD:-}" in
*asan*) N=${GL_MONITOR_N:-20000} RSS_MAX_KB=${GL_MONITOR_RSS_MAX_KB:-1048576} ;;
*) N=${GL_MONITOR_N:-100000} RSS_MAX_KB=${GL_MONITOR_RSS_MAX_KB:-65536} ;;
esac
make_keys
loadgen_tool
start_log "$T/data" --create --batch-ms 5
policy "$T/policy" "log $(cat "$T/log.key.pub")" "submitter $(cat "$T/sub.key.pub")" "quorum none"
t0=$(date +%s)
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$N" -c 64 > "$T/loadgen.out" 2>&1 ||
    fail "loadgen: $(tail -3 "$T/loadgen.out")"
echo "appended $N entries in $(($(date +%s) - t0)) s"
S="$T/state"
ID=$(printf '%s' "$(cat "$T/log.key.pub")" | sha256sum | cut -c1-64)
mon() { "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$S" --once "$@"; }

# First run: killed once a quarter of the entries are checked.
"$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$S" --once --no-progress \
    > "$T/m1.out" 2> "$T/m1.err" &
MPID=$!
PIDS="$PIDS $MPID"
checked=0
for _ in $(seq 600); do
    checked=$(sed -n 's/^checked //p' "$S/$ID/monitor" 2>/dev/null)
    [ "${checked:-0}" -ge $((N / 4)) ] && break
    kill -0 "$MPID" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$MPID"
wait "$MPID" 2>/dev/null
checked=$(sed -n 's/^checked //p' "$S/$ID/monitor")
[ "${checked:-0}" -gt 0 ] && [ "$checked" -lt "$N" ] ||
    fail "progress after the kill: '${checked:-none}' of $N ($(cat "$T/m1.err"))"
[ $((checked % 256)) = 0 ] || fail "progress $checked is not at a bundle boundary"
[ -e "$S/$ID/checkpoint" ] && fail "a checkpoint was stored before its entries were checked"

# Second run, on a terminal (script(1)): resumes, finishes.
command -v script > /dev/null || fail "script is missing (bsdutils, installed by make deps)"
script -qec "$G monitor --log $LOG_URL --policy $T/policy --state $S --once" /dev/null \
    > "$T/m2.tty" || fail "resumed monitor failed: $(cat "$T/m2.tty")"
tr '\r' '\n' < "$T/m2.tty" > "$T/err"
grep -q "^\[#*\.*\] [0-9]*/$N entries 100%" "$T/err" || fail "no progress bar on a terminal"
expect_err "resuming at entry $checked of $N"
expect_err "checked $((N - checked)) entries in"
[ "$(sed -n 2p "$S/$ID/checkpoint")" = "$N" ] || fail "checkpoint not stored after the catch-up"
grep -qx "checked $N" "$S/$ID/monitor" || fail "final progress"
rate=$(sed -n 's/.* entries in [0-9.]* s, \([0-9]*\) entries\/s.*/\1/p' "$T/err")
rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$T/err")
echo "resumed catch-up: $((N - checked)) entries at $rate entries/s, peak RSS $rss KiB"
[ "$rss" -le "$RSS_MAX_KB" ] || fail "peak RSS $rss KiB over $RSS_MAX_KB KiB"

# A third run has nothing to do.
expect_rc 0 mon --no-progress
expect_out "tree size $N, verified, no alarm"
grep -q "checked" "$T/err" && fail "the third run checked entries again"
stop_log
echo "23-client-monitor-catchup: ok"
