# Goal: split views are caught. Three glasslogd share one log key with
# different entries (A: 4 entries, B: 7, C: 4 others; 4 is a power of two,
# the case where the evidence needs the prefix root from the tiles). A monitor whose
# state has followed A, pointed at B (larger) or C (same size), raises a
# fork alarm: exit 2, the --on-alarm hook, evidence with both checkpoints,
# the consistency proof the tiles gave and a split-view evidence file that
# `glasslog evidence verify` accepts; the remembered checkpoint stays A's.
# A monitor that followed B, pointed at the smaller A, refuses it. lookup
# with A's state against B records the fork too. So does a log signed with
# a second key of the same origin (rotation: one log, one memory).
# A fork that appears while a monitor catches up is caught too: X and Y
# share A's first 4 entries (copies of A's data), then differ (X: 8
# entries, Y: 6). A monitor that remembers A's 4 adopts X's 8 and, while
# it downloads X's entries (slowly, through a delay proxy), a lookup on the
# same state stores Y's 6 (consistent with 4). Storing X's 8 then needs a
# proof from 6, which fails: fork alarm, exit 2, Y's 6 stays. The same when
# the monitor is killed during the catch-up and resumes its target later.
# Two logs of different origins with the same tree are two memories: a
# lookup answer listing a statement in both checks each checkpoint; one
# log's checkpoint planted in the other's directory is an error (exit 3),
# not a fork. A fork found as the checkpoint is stored runs its hook once
# the state lock is let go.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
LOGK=$(cat "$T/log.key.pub")
policy "$T/policy" "log $LOGK" "submitter $(cat "$T/sub.key.pub")" "quorum none"
ID=$(printf '%s' "$LOGK" | sha256sum | cut -c1-64)
fill() { # fill PREFIX N: N appends to the current log
    for i in $(seq "$2"); do append_one "$1" "$i" > /dev/null || fail "append $1 $i"; done
}
start_log "$T/a" --create --batch-ms 2
A=$LOG_URL APID=$LOG_PID
fill a 4
start_log "$T/b" --create --batch-ms 2
B=$LOG_URL BPID=$LOG_PID
fill b 7
start_log "$T/c" --create --batch-ms 2
C=$LOG_URL CPID=$LOG_PID
fill c 4
mon() { # mon URL STATE
    "$G" monitor --log "$1" --policy "$T/policy" --state "$2" --once --no-progress \
        --on-alarm "env | grep '^GLASSLOG_' > \"$T/hook.\$\$\""
}

expect_rc 0 mon "$A" "$T/s"
cp "$T/s/$ID/checkpoint" "$T/a.note"

# B extends nothing of A: fork 4 -> 7.
expect_rc 2 mon "$B" "$T/s"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 verified before (the consistency proof from the log's tiles does not verify)"
EV=$(ls -d "$T/s/$ID"/alarms/fork-4-7-*) || fail "no fork evidence"
for f in alarm checkpoint.old checkpoint.new consistency-proof split-view.evidence; do
    [ -s "$EV/$f" ] || fail "fork evidence lacks $f"
done
cmp -s "$EV/checkpoint.old" "$T/a.note" || fail "evidence: A's checkpoint"
curl -s "$B/checkpoint" | cmp -s - "$EV/checkpoint.new" || fail "evidence: B's checkpoint"
head -2 "$EV/consistency-proof" | tr '\n' ' ' | grep -qx 'old 4 new 7 ' || fail "proof file header"
if "$G" evidence --help > /dev/null 2>&1; then
    expect_rc 0 "$G" evidence verify --log-vkey "@$T/log.key.pub" "$EV/split-view.evidence"
fi
grep -q '^GLASSLOG_ALARM_KIND=fork$' "$T"/hook.* || fail "fork hook"
cmp -s "$T/s/$ID/checkpoint" "$T/a.note" || fail "the fork replaced the remembered checkpoint"
expect_rc 2 mon "$B" "$T/s"
expect_err "ALARM (fork, recorded before in $EV)"

# C: same size, another root.
expect_rc 2 mon "$C" "$T/s"
expect_err "is not consistent with the one of size 4 verified before (same size, different root)"
EV=$(ls -d "$T/s/$ID"/alarms/fork-4-4-*) || fail "no same-size fork evidence"
if "$G" evidence --help > /dev/null 2>&1; then
    expect_rc 0 "$G" evidence verify --log-vkey "@$T/log.key.pub" "$EV/split-view.evidence"
fi

# A smaller tree than the one followed cannot be shown to be a prefix.
expect_rc 0 mon "$B" "$T/sb"
expect_rc 2 mon "$A" "$T/sb"
expect_err "the log serves a checkpoint of size 4, smaller than the size 7 verified before"
[ "$(sed -n 2p "$T/sb/$ID/checkpoint")" = 7 ] || fail "rolled back the remembered checkpoint"

# lookup with A's memory against B.
expect_rc 2 "$G" lookup --log "$B" --policy "$T/policy" --state "$T/s" \
    --sha256 "$(printf 'b 3' | sha256sum | cut -c1-64)"
expect_err "ALARM (fork.*): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 seen before"

# A fork found as the checkpoint is stored (another command sharing the
# state remembered one meanwhile) runs its --on-alarm hook once the state
# lock is let go, so a hook may use the state. C's catch-up on a fresh
# state: its first hook (an unexpected statement) has lookup remember A's
# checkpoint; storing C's then meets a fork, whose hook finds the lock free
# (on the old code it ran under the lock).
: > "$T/none"
LOOKA="'$G' lookup --log '$A' --policy '$T/policy' --state '$T/h' --sha256 $(printf 'a 1' | sha256sum | cut -c1-64) > /dev/null 2>&1"
HOOKF="case \$GLASSLOG_ALARM_KIND in
unexpected-statement) [ -s '$T/h/$ID/checkpoint' ] || $LOOKA ;;
fork) if flock -n '$T/h/$ID/lock' true; then echo free; else echo held; fi > '$T/lock.at.fork' ;;
esac"
expect_rc 2 "$G" monitor --log "$C" --policy "$T/policy" --state "$T/h" --once --no-progress \
    --watch-submitter "@$T/sub.key.pub" --expect "$T/none" --on-alarm "$HOOKF"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 4 is not consistent with the one of size 4 verified before (same size, different root)"
cmp -s "$T/h/$ID/checkpoint" "$T/a.note" || fail "the fork at store time replaced A's checkpoint"
[ "$(cat "$T/lock.at.fork" 2>/dev/null)" = free ] ||
    fail "the hook of a fork found at store time ran under the state lock ($(cat "$T/lock.at.fork" 2>&1))"

# A fork the witnesses did not cosign (the policy's quorum is not met: no
# witness cosigns these logs) is still a fork: the log signed it. The
# monitor and lookup compare it with their memory and raise the alarm,
# and never remember it; A's own checkpoint fails the quorum without an
# alarm.
"$G" keygen --name w1.example --out "$T/w1.key" --cosigner > /dev/null || fail keygen
policy "$T/policyw" "log $LOGK" "witness W1 $(cat "$T/w1.key.pub")" \
    "submitter $(cat "$T/sub.key.pub")" "quorum W1"
monw() { # monw URL STATE
    "$G" monitor --log "$1" --policy "$T/policyw" --state "$2" --once --no-progress
}
expect_rc 0 mon "$A" "$T/sq"
cp -r "$T/sq" "$T/sq2"
expect_rc 2 monw "$A" "$T/sq"
expect_err "does not verify"
grep -q "ALARM" "$T/err" && fail "A's checkpoint without its quorum raised an alarm"
expect_rc 2 monw "$B" "$T/sq"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 verified before"
ls -d "$T/sq/$ID"/alarms/fork-4-7-* > /dev/null || fail "no fork evidence for a fork without quorum"
cmp -s "$T/sq/$ID/checkpoint" "$T/a.note" || fail "a checkpoint without its quorum was remembered"
expect_rc 2 "$G" lookup --log "$B" --policy "$T/policyw" --state "$T/sq2" \
    --sha256 "$(printf 'b 3' | sha256sum | cut -c1-64)"
expect_err "ALARM (fork.*): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 seen before"
cmp -s "$T/sq2/$ID/checkpoint" "$T/a.note" || fail "lookup remembered a checkpoint without its quorum"

# Two keys of one origin (a key rotation) are one log with one memory: K
# (7 entries, signed with log2.key, listed first) against A's 4 (log.key) is
# a fork for lookup and monitor, on a fresh state (the first key's
# directory) and on one made before log2.key was in the policy (the
# existing directory of log.key is used, no other is made). Once log.key
# leaves the policy its directory is still used when its checkpoint
# carries a log2.key signature (the memory is kept).
"$G" keygen --name example.com/log --out "$T/log2.key" > /dev/null || fail keygen
LOGK2=$(cat "$T/log2.key.pub")
ID2=$(printf '%s' "$LOGK2" | sha256sum | cut -c1-64)
policy "$T/policy2" "log $LOGK2" "log $LOGK" "submitter $(cat "$T/sub.key.pub")" \
    "quorum none"
spawn glasslogd "$GL_BIN/glasslogd" --data "$T/k" --key "$T/log2.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --create --batch-ms 2 ||
    fail "log with log2.key"
K=$SPAWN_URL KPID=$SPAWN_PID
for i in $(seq 7); do
    "$G" append --log "$K" --key "$T/sub.key" --kind build --subject k --version "$i" \
        --sha256 "$(printf 'k %s' "$i" | sha256sum | cut -c1-64)" \
        --log-vkey "@$T/log2.key.pub" > /dev/null || fail "append k $i"
done
look2() { # look2 URL STATE SUBJECT
    "$G" lookup --log "$1" --policy "$T/policy2" --state "$2" \
        --sha256 "$(printf '%s 1' "$3" | sha256sum | cut -c1-64)"
}
mon2() { # mon2 URL STATE
    "$G" monitor --log "$1" --policy "$T/policy2" --state "$2" --once --no-progress
}
expect_rc 0 look2 "$A" "$T/k1" a
expect_rc 2 look2 "$K" "$T/k1" k
expect_err "ALARM (fork.*): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 seen before"
[ "$(ls "$T/k1")" = "$ID2" ] || fail "rotation: state dirs $(ls "$T/k1"), not the first key's"
expect_rc 0 mon2 "$A" "$T/k2"
expect_rc 2 mon2 "$K" "$T/k2"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 verified before"
[ "$(sed -n 2p "$T/k2/$ID2/checkpoint")" = 4 ] || fail "rotation: the monitor replaced A's 4"
expect_rc 0 mon "$A" "$T/k3"
expect_rc 2 look2 "$K" "$T/k3" k
expect_err "ALARM (fork.*): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 seen before"
expect_rc 2 mon2 "$K" "$T/k3"
[ "$(ls "$T/k3")" = "$ID" ] || fail "rotation: state dirs $(ls "$T/k3"), not the existing one"
# The end of the rotation (log.key removed from the policy) keeps the
# memory when a checkpoint signed during the rotation (by both keys) was
# remembered: log.key's directory is used as the log's (not renamed), and
# K's 7 against that remembered 4 is a fork. A directory whose checkpoint log.key alone
# signed may be another log of that name: it is left alone (a note), and
# the lookup starts on trust as before.
policy "$T/policy2only" "log $LOGK2" "submitter $(cat "$T/sub.key.pub")" "quorum none"
look2only() { # look2only STATE
    "$G" lookup --log "$K" --policy "$T/policy2only" --state "$1" \
        --sha256 "$(printf 'k 1' | sha256sum | cut -c1-64)"
}
expect_rc 0 mon "$A" "$T/k5"
sed '/^$/q' "$T/k5/$ID/checkpoint" | sed '$d' > "$T/a.text"
"$G" note sign --key "$T/log2.key" "$T/a.text" | tail -n 1 >> "$T/k5/$ID/checkpoint" ||
    fail "second signature"
expect_rc 2 look2only "$T/k5"
expect_err "note: the state of log example.com/log is kept in $T/k5/$ID, made for a key the policy no longer lists"
expect_err "ALARM (fork.*): log example.com/log: the checkpoint of size 7 is not consistent with the one of size 4 seen before"
[ "$(ls "$T/k5")" = "$ID" ] || fail "rotation end: state dirs $(ls "$T/k5")"
expect_rc 0 mon "$A" "$T/k4"
expect_rc 0 look2only "$T/k4"
expect_err "note: $T/k4/$ID holds a memory of a log named example.com/log under a key the policy does not list"
expect_err "first checkpoint seen"
[ -d "$T/k4/$ID" ] && [ -d "$T/k4/$ID2" ] || fail "state dirs $(ls "$T/k4")"
LOG_PID=$KPID; stop_log

# Both logs X and Y grow from A's 4 entries.
expect_rc 0 mon "$A" "$T/sr"
LOG_PID=$APID; stop_log
cp -r "$T/a" "$T/x" && cp -r "$T/a" "$T/y" && cp -r "$T/sr" "$T/sr2" || fail "copies"
start_log "$T/x" --batch-ms 2
X=$LOG_URL XPID=$LOG_PID
fill x 4
start_log "$T/y" --batch-ms 2
Y=$LOG_URL YPID=$LOG_PID
fill y 2
start_tool delay python3 "$TOOLS/delayproxy.py" "${X##*:}" 3000
DPID=$TOOL_PID
SLOWX="http://127.0.0.1:$TOOL_PORT"
lookup_y() { # lookup_y STATE: Y's entry "y 1", remembering Y's 6
    expect_rc 0 "$G" lookup --log "$Y" --policy "$T/policy" --state "$1" \
        --sha256 "$(printf 'y 1' | sha256sum | cut -c1-64)"
    [ "$(sed -n 2p "$1/$ID/checkpoint")" = 6 ] || fail "lookup did not store Y's 6"
}
wait_target() { # wait_target STATE PID: until the monitor has adopted X's 8
    for _ in $(seq 400); do
        [ "$(sed -n '/^target$/{n;n;p;q}' "$1/$ID/monitor" 2>/dev/null)" = 8 ] && return 0
        kill -0 "$2" 2>/dev/null || fail "the monitor ended before adopting X's checkpoint"
        sleep 0.05
    done
    fail "the monitor adopted no target"
}
mon_bg() { # mon_bg STATE: a monitor of X through the delay proxy, MPID
    "$G" monitor --log "$SLOWX" --policy "$T/policy" --state "$1" --once --no-progress \
        > "$T/m.out" 2> "$T/m.err" &
    MPID=$!
    PIDS="$PIDS $MPID"
}
mon_bg "$T/sr"
wait_target "$T/sr" "$MPID"
lookup_y "$T/sr"
rc=0
wait "$MPID" || rc=$?
[ "$rc" = 2 ] || fail "monitor during the lookup: exit $rc, not 2: $(cat "$T/m.err")"
grep -q "ALARM (fork): log example.com/log: the checkpoint of size 8 is not consistent with the one of size 6 verified before" "$T/m.err" ||
    fail "no fork alarm: $(cat "$T/m.err")"
ls -d "$T/sr/$ID"/alarms/fork-6-8-* > /dev/null 2>&1 || fail "no fork-6-8 evidence"
[ "$(sed -n 2p "$T/sr/$ID/checkpoint")" = 6 ] || fail "the monitor replaced Y's 6"

# Killed during the catch-up, resumed after the lookup.
mon_bg "$T/sr2"
wait_target "$T/sr2" "$MPID"
kill -9 "$MPID"
wait "$MPID" 2>/dev/null
lookup_y "$T/sr2"
expect_rc 2 mon "$X" "$T/sr2"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 8 is not consistent with the one of size 6 verified before"
[ "$(sed -n 2p "$T/sr2/$ID/checkpoint")" = 6 ] || fail "the resumed monitor replaced Y's 6"
kill "$DPID"
wait "$DPID" 2>/dev/null
LOG_PID=$XPID; stop_log
LOG_PID=$YPID; stop_log
LOG_PID=$BPID; stop_log
LOG_PID=$CPID; stop_log

# Two logs of other origins holding the same entries have the same tree
# (size and root), but each checkpoint is checked against its own log's
# memory: a lookup answer listing the statement in E (example.com/log) and
# in F (example.com/log3), whose remembered checkpoint is a fork of the
# same size, is refused although E's identical tree was checked just
# before.
"$G" keygen --name example.com/log3 --out "$T/log3.key" > /dev/null || fail keygen
LOGK3=$(cat "$T/log3.key.pub")
ID3=$(printf '%s' "$LOGK3" | sha256sum | cut -c1-64)
policy "$T/policy3" "log $LOGK" "log $LOGK3" "submitter $(cat "$T/sub.key.pub")" \
    "quorum none"
start_log "$T/e" --create --batch-ms 2
E=$LOG_URL EPID=$LOG_PID
spawn glasslogd "$GL_BIN/glasslogd" --data "$T/f" --key "$T/log3.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --create --batch-ms 2 ||
    fail "log with log3.key"
F=$SPAWN_URL FPID=$SPAWN_PID
statement same 1 > "$T/same.st" || fail "statement"
D=$(printf 'same 1' | sha256sum | cut -c1-64)
n=0
for u in "$E" "$F"; do # lookup.1: E's answer, lookup.2: F's
    n=$((n + 1))
    curl -sf --data-binary "@$T/same.st" "$u/api/v1/add" > /dev/null || fail "add to $u"
    wait_until 10 sh -c "curl -sf '$u/api/v1/lookup?sha256=$D' | grep -q proof" ||
        fail "the statement is not found in $u"
    curl -sf "$u/api/v1/lookup?sha256=$D" > "$T/lookup.$n" || fail "lookup in $u"
done
spawn twologs env PYTHONPATH="$TOOLS" python3 -u -c '
import glob, json, stubhttp, sys
items = []
for f in sorted(glob.glob(sys.argv[1] + "/lookup.*")):
    items += json.load(open(f))["statements"]
answer = json.dumps({"statements": items}).encode()
def respond(method, path, body):
    ok = path.startswith("/api/v1/lookup")
    return 200 if ok else 404, answer if ok else b"", {"Content-Type": "application/json"}
stubhttp.serve(respond)' "$T" || fail "the two-log server did not start"
TWOLOGS=$SPAWN_URL
printf 'example.com/log3\n1\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log3.key" > "$T/f-forked.note" || fail "sign F's fork"
mkdir -p "$T/sf/$ID3" && cp "$T/f-forked.note" "$T/sf/$ID3/checkpoint"
expect_rc 2 "$G" lookup --log "$TWOLOGS" \
    --policy "$T/policy3" --state "$T/sf" --sha256 "$D"
expect_err "first checkpoint seen for log example.com/log (size 1)"
expect_err "ALARM (fork.*): log example.com/log3: the checkpoint of size 1 is not consistent with the one of size 1 seen before (same size, different root)"
# A checkpoint of log3 planted in the directory of example.com/log (a
# copied or restored file) is a clear error, not a false fork alarm.
mkdir -p "$T/sw/$ID" && cp "$T/f-forked.note" "$T/sw/$ID/checkpoint"
expect_rc 3 "$G" lookup --log "$E" --policy "$T/policy3" --state "$T/sw" --sha256 "$D"
expect_err "the stored checkpoint in $T/sw/$ID is of log example.com/log3, not example.com/log: remove it to start over"
grep -q ALARM "$T/err" && fail "another log's stored checkpoint raised an alarm"
expect_rc 3 "$G" monitor --log "$E" --policy "$T/policy3" --state "$T/sw" --once --no-progress
expect_err "is of log example.com/log3, not example.com/log: remove it to start over"
grep -q ALARM "$T/err" && fail "another log's stored checkpoint raised a monitor alarm"
LOG_PID=$EPID; stop_log
LOG_PID=$FPID; stop_log
echo "24-client-fork: ok"
