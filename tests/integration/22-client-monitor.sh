# Goal: `glasslog monitor` against a live glasslogd: catches up over bulk
# entries of another submitter and the expected releases of the watched
# one (exit 0); an unexpected statement by the watched submitter is an
# alarm (exit 2 with --once, evidence whose bundle verifies offline, the
# --on-alarm hook run with its environment) raised once, a hanging hook
# stopped at --on-alarm-timeout with its child; the polling mode
# raises it too; a log that serves an entry bundle or a tile differing from
# its signed tree (tools/tamper_proxy.py) is an alarm and its checkpoint is
# not adopted; gzip-encoded bundles and 503s are handled; a checkpoint
# without the policy's quorum is refused, and so is the target of an
# interrupted catch-up under a policy that changed since (the catch-up
# starts over); with --max-age, a checkpoint whose freshest quorum of
# cosignatures is older than the limit fails the cycle (exit 2); usage
# errors exit 3 (so does --expect with nothing to watch).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
loadgen_tool
"$G" keygen --name bulk.example.com --out "$T/bulk.key" >> "$T/submitters" || fail keygen
"$G" keygen --name w1.example --out "$T/w1.key" --cosigner > /dev/null || fail keygen
LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub") BULKK=$(cat "$T/bulk.key.pub")
start_log "$T/data" --create --batch-ms 2
policy "$T/policy" "log $LOGK" "submitter $SUBK" "submitter $BULKK" "quorum none"
policy "$T/p.ci" "log $LOGK" "submitter $SUBK" "quorum none"
policy "$T/p.w1" "log $LOGK" "witness W1 $(cat "$T/w1.key.pub")" "quorum W1" "submitter $SUBK"

bulk() { "$LOADGEN" append --log "$LOG_URL" --key "$T/bulk.key" -n "$1" -c 8 --subject-prefix "$2" \
    > /dev/null 2> "$T/loadgen.err" || fail "loadgen: $(cat "$T/loadgen.err")"; }
release() { # release VERSION: the CI pipeline appends my-app VERSION
    echo "my-app $1" > "$T/rel"
    "$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject my-app --version "$1" \
        --file "$T/rel" > /dev/null || fail "append my-app $1"
    echo "build my-app $1 $(sha "$T/rel")" >> "$T/expected.all"
}
mon() { # mon STATE [ARGS...]: one monitor pass watching the CI key
    local s=$1
    shift
    "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$s" --once \
        --watch-submitter "@$T/sub.key.pub" --expect "$T/expected" --no-progress "$@"
}
HOOK="env | grep '^GLASSLOG_' | sort > \"$T/hook.\$\$\""

# Catch up: 700 bulk entries (3 bundles) and two expected releases.
bulk 700 b1
release 1.0
release 1.1
{ echo "# kind subject version sha256"; echo; cat "$T/expected.all"; } > "$T/expected"
expect_rc 0 mon "$T/s1" --on-alarm "$HOOK"
expect_out "log example.com/log: tree size 702, verified, no alarm"
expect_err "first checkpoint of log example.com/log (size 702): checking every entry"
expect_err "checked 702 entries .* (2 by watched submitters: 2 expected, 0 unexpected; 700 by other submitters of the policy; 0 by keys outside the policy; 0 bad)"
ID=$(ls "$T/s1")
[ "$(sed -n 2p "$T/s1/$ID/checkpoint")" = 702 ] || fail "the checkpoint was not stored"
grep -qx 'checked 702' "$T/s1/$ID/monitor" || fail "progress file"

# An unexpected release: alarm once, evidence verifies, the hook ran.
release 6.6.6
tail -1 "$T/expected.all" > "$T/evil.line"
sed -i '$d' "$T/expected.all"
release 1.2
cat "$T/expected.all" > "$T/expected"
bulk 10 b2
expect_rc 2 mon "$T/s1" --on-alarm "$HOOK"
expect_err "ALARM (unexpected-statement): entry 702: unexpected statement by ci.example.com: build my-app 6.6.6 sha256"
expect_err "1 unexpected"
expect_out "ALARM"
EV=$(ls -d "$T/s1/$ID"/alarms/unexpected-statement-702-*) || fail "no evidence directory"
grep -q '^kind unexpected-statement$' "$EV/alarm" || fail "alarm summary"
grep -q "^log $LOGK$" "$EV/alarm" || fail "alarm summary names the log"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$EV/statement.tlog-proof"
expect_out "build my-app 6.6.6"
cmp -s <(sed -n 's/^extra //p' "$EV/statement.tlog-proof" | base64 -d) "$EV/statement" ||
    fail "evidence statement"
cat "$T"/hook.* > "$T/hooks"
grep -q "^GLASSLOG_ALARM_KIND=unexpected-statement$" "$T/hooks" || fail "hook: $(cat "$T/hooks")"
grep -q "^GLASSLOG_ALARM_DIR=$EV$" "$T/hooks" || fail "hook dir"
grep -q "^GLASSLOG_LOG_URL=$LOG_URL$" "$T/hooks" || fail "hook url"
[ "$(sed -n 2p "$T/s1/$ID/checkpoint")" = 714 ] || fail "checkpoint after the alarm"
rm -f "$T"/hook.*
expect_rc 0 mon "$T/s1" --on-alarm "$HOOK"
expect_out "tree size 714, verified, no alarm"
ls "$T"/hook.* > /dev/null 2>&1 && fail "the hook ran again"

# --expect alone watches the policy's submitters; keys outside the policy
# are other submitters (no alarm).
cat "$T/expected.all" "$T/evil.line" > "$T/expected.every"
expect_rc 0 "$G" monitor --log "$LOG_URL" --policy "$T/p.ci" --state "$T/s2" --once \
    --expect "$T/expected.every" --no-progress
expect_err "(4 by watched submitters: 4 expected, 0 unexpected"
# (with a hook that hangs: stopped after --on-alarm-timeout 1, with the
# child it started, and the alarm still reported)
t0=$(date +%s)
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/p.ci" --state "$T/s2b" --once \
    --expect "$T/expected" --no-progress --on-alarm-timeout 1 \
    --on-alarm "sleep 300 & echo \"\$\$ \$!\" > '$T/hang.pids'; sleep 300"
expect_err "1 unexpected; 0 by other submitters of the policy; 710 by keys outside the policy"
expect_err "the --on-alarm command timed out after 1 s"
[ $(($(date +%s) - t0)) -lt 25 ] || fail "the hanging --on-alarm command was not stopped in time"
# gone PID: no such process, or a zombie that init has not collected yet.
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
for p in $(cat "$T/hang.pids"); do
    wait_until 10 gone "$p" || { kill -9 $(cat "$T/hang.pids") 2>/dev/null; fail "hook process $p left after the timeout"; }
done
[ "$(wc -w < "$T/hang.pids")" = 2 ] || fail "hang hook pids: $(cat "$T/hang.pids")"

# Polling mode: a new unexpected statement is caught between two polls.
"$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/s1" --interval 1 --no-progress \
    --watch-submitter "@$T/sub.key.pub" --expect "$T/expected" --on-alarm "$HOOK" \
    > "$T/poll.out" 2> "$T/poll.err" &
MPID=$!
PIDS="$PIDS $MPID"
sleep 1.5
release 7.7.7
for _ in $(seq 100); do ls "$T"/hook.* > /dev/null 2>&1 && break; sleep 0.1; done
kill "$MPID"
wait "$MPID" 2>/dev/null
grep -q "unexpected statement by ci.example.com: build my-app 7.7.7" "$T/poll.err" ||
    fail "polling monitor missed 7.7.7: $(cat "$T/poll.err")"
grep -q "^GLASSLOG_ALARM_KIND=unexpected-statement$" "$T"/hook.* || fail "polling hook"

# A log whose bundles or tiles differ from its signed tree.
start_proxy
echo bundle-entry > "$MODE"
LOG_URL0=$LOG_URL LOG_URL=$PROXY_URL
expect_rc 2 mon "$T/s3"
expect_err "ALARM (bad-tile): entry 1: its leaf hash differs from hash 1 of the log's tile 0/0"
expect_err "ALARM (bad-entry): entry 1 claims a signature by submitter bulk.example.com that does not verify"
expect_err "ALARM (bad-tree): the log's entries do not hash to the root of its checkpoint of size 715"
ID3=$(ls "$T/s3")
[ -e "$T/s3/$ID3/checkpoint" ] && fail "a checkpoint with bad entries was stored"
[ -e "$T/s3/$ID3/monitor" ] && fail "the progress was kept after a bad tree"
# every entry bad: at most 16 alarms a cycle (715 on the old code), then
# the catch-up stops, its progress kept before the entry that made the 16th
echo bundle-every > "$MODE"
expect_rc 2 mon "$T/severy"
expect_err "16 new alarms about entries in this cycle: the catch-up stops at entry"
stop_at() { sed -n 's/.*the catch-up stops at entry \([0-9]*\) .*/\1/p' "$T/err"; }
STOP1=$(stop_at)
IDE=$(ls "$T/severy")
[ "$(ls "$T/severy/$IDE/alarms" | wc -l)" = 16 ] ||
    fail "alarms recorded in one cycle: $(ls "$T/severy/$IDE/alarms" | wc -l), want 16"
# the next cycle meets its bundle again: the alarms recorded before are
# announced, not counted, so it records 16 new ones further on (before,
# they counted: each cycle stopped sooner, and the catch-up froze)
expect_rc 2 mon "$T/severy"
expect_err "recorded before"
[ "$(ls "$T/severy/$IDE/alarms" | wc -l)" = 32 ] ||
    fail "alarms recorded after two cycles: $(ls "$T/severy/$IDE/alarms" | wc -l), want 32"
[ "$(stop_at)" -gt "$STOP1" ] || fail "the second cycle stopped at $(stop_at), the first at $STOP1"
echo tile-hash > "$MODE"
expect_rc 2 mon "$T/s4"
expect_err "entry 1: its leaf hash differs from hash 1 of the log's tile 0/0"
grep -q "bad-tree" "$T/err" && fail "a bad tile made the entries fail the root"
echo gzip > "$MODE"
expect_rc 2 mon "$T/s5"
expect_err "checked 715 entries"
expect_err "unexpected statement by ci.example.com: build my-app 6.6.6"
echo flaky > "$MODE"
expect_rc 2 mon "$T/s6"
expect_err "checked 715 entries"
LOG_URL=$LOG_URL0

# A checkpoint without the policy's quorum is refused (nothing stored).
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/p.w1" --state "$T/s7" --once
expect_err "the log's checkpoint does not verify: the cosignatures do not satisfy the policy's quorum"

# An interrupted catch-up's target is checked under the current policy,
# quorum included, before it is resumed and stored. A catch-up towards a
# target cosigned by W2 alone (policy: W1 or W2) stops after bundle 0;
# with the policy unchanged it resumes there. With W2 removed from the
# policy (a compromised witness), that target is not stored: the
# progress is dropped and the catch-up starts over from entry 0 towards
# the log's checkpoint cosigned by W1.
"$G" keygen --name w2.example --out "$T/w2.key" --cosigner > /dev/null || fail keygen
cosign_tool
curl -sf "$LOG_URL/checkpoint" > "$T/cp" || fail "GET checkpoint"
SIZE=$(sed -n 2p "$T/cp")
"$COSIGN" "$T/w1.key" "$(date +%s)" < "$T/cp" > "$T/cp.w1" || fail "cosign W1"
"$COSIGN" "$T/w2.key" "$(date +%s)" < "$T/cp" > "$T/cp.w2" || fail "cosign W2"
policy "$T/p.w12" "log $LOGK" "witness W1 $(cat "$T/w1.key.pub")" \
    "witness W2 $(cat "$T/w2.key.pub")" "group G any W1 W2" "quorum G" "submitter $SUBK"
interrupted() { # interrupted STATE: a catch-up under p.w12 towards cp.w2, stopped at 256
    echo entries-error > "$MODE"
    cp "$T/cp.w2" "$MODE.checkpoint"
    expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/p.w12" --state "$1" --once \
        --no-progress
    expect_err "cannot download bundle 1"
    grep -qx 'checked 256' "$1/$ID/monitor" || fail "progress after bundle 0: $(cat "$1/$ID/monitor")"
    : > "$MODE"
}
interrupted "$T/s8"
expect_rc 0 "$G" monitor --log "$PROXY_URL" --policy "$T/p.w12" --state "$T/s8" --once --no-progress
expect_err "resuming at entry 256 of $SIZE"
expect_err "checked $((SIZE - 256)) entries in"
cmp -s "$T/s8/$ID/checkpoint" "$T/cp.w2" || fail "the resumed target was not stored"
# A fork without the quorum, served to a monitor whose only memory is an
# interrupted catch-up's target (its first cycle: nothing stored yet), is
# compared with that target: a same-size checkpoint with another root is
# a fork alarm.
interrupted "$T/s10"
printf 'example.com/log\n%s\n%s\n' "$SIZE" "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$MODE.checkpoint" || fail "sign a fork"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/p.w12" --state "$T/s10" --once \
    --no-progress
expect_err "ALARM (fork): log example.com/log: the checkpoint of size $SIZE is not consistent"
rm -f "$MODE.checkpoint"
interrupted "$T/s9"
cp "$T/cp.w1" "$MODE.checkpoint"
expect_rc 0 "$G" monitor --log "$PROXY_URL" --policy "$T/p.w1" --state "$T/s9" --once --no-progress
expect_err "the progress file's target does not verify: the cosignatures do not satisfy the policy's quorum"
expect_err "does not meet the policy's quorum (the policy changed since it was chosen): starting over from entry 0"
grep -q "resuming at" "$T/err" && fail "a target without the policy's quorum was resumed"
expect_err "first checkpoint of log example.com/log (size $SIZE): checking every entry"
expect_err "checked $SIZE entries in"
cmp -s "$T/s9/$ID/checkpoint" "$T/cp.w1" || fail "stored: $(cat "$T/s9/$ID/checkpoint")"
# --max-age: a log (or mirror) serving a view whose freshest quorum of
# cosignatures is older than the limit fails the cycle (a frozen view),
# though it verifies and is consistent.
"$COSIGN" "$T/w1.key" "$(($(date +%s) - 3 * 86400))" < "$T/cp" > "$T/cp.w1old" || fail "cosign"
monage() { # monage MAX-AGE
    "$G" monitor --log "$PROXY_URL" --policy "$T/p.w1" --state "$T/s9" --once --no-progress \
        --max-age "$1"
}
expect_rc 0 monage 1h
cp "$T/cp.w1old" "$MODE.checkpoint"
expect_rc 2 monage 1h
expect_err "the log's checkpoint fails --max-age: the freshest quorum of cosignatures dates from .*, older than the limit of 3600 s"
expect_rc 0 monage 7d
expect_rc 3 monage soon
expect_err "--max-age takes a duration"
rm -f "$MODE.checkpoint"

# Usage errors and a second monitor on the same state.
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --once
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/s1" --once \
    --watch-submitter "@$T/sub.key.pub"
expect_err "needs --expect"
printf 'build my-app 1.0\n' > "$T/bad.expect"
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/s1" --once \
    --expect "$T/bad.expect"
expect_err "bad.expect:1: want 4 items"
policy "$T/p.nosub" "log $LOGK" "quorum none"
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/p.nosub" --state "$T/s1" --once \
    --expect "$T/expected"
expect_err "watches the policy's submitters, but .*p.nosub lists none"
command -v flock > /dev/null || fail "flock is missing (util-linux, installed by make deps)"
flock "$T/s1/$ID/monitor.lock" sleep 30 &
FPID=$!
wait_until 20 sh -c "! flock -n '$T/s1/$ID/monitor.lock' true" || fail "flock did not take the lock"
expect_rc 3 mon "$T/s1"
expect_err "another monitor is running"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
stop_proxy
stop_log
echo "22-client-monitor: ok"
