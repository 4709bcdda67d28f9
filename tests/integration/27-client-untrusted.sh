# Goal: nothing a log or a mirror sends reaches the user's terminal
# unescaped, a pipeline's append refuses what it can before it posts, and
# a mirror that lies about a consistency proof never makes the log look
# forked (tools/tamper_proxy.py in front of a real glasslogd):
# - get entry: a leaf_hash that is not hex is never echoed (it may carry
#   an escape sequence); get checkpoint on a terminal shows a lone 0x9b
#   (invalid UTF-8, an 8-bit CSI) as \x9b;
# - get checkpoint --policy: an origin with a C1 control and DEL, which no
#   policy log has, is quoted escaped; so is the error text of an append
#   refused by the log;
# - append: a --log-vkey that is not a log key, and an --out that is a
#   dangling symlink, are refused before anything is posted (exit 3, the
#   log unchanged); without --log-vkey stderr says the proof was not
#   verified;
# - lookup --log LOG --log MIRROR, the lookup served by the mirror (the log
#   answers 503), the mirror's consistency proof wrong: the proof is asked
#   of the log again and verifies (exit 0, no alarm); when the log cannot
#   answer, a verification failure naming the mirror (exit 2), no alarm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
LOGK=$(cat "$T/log.key.pub")
ID=$(printf '%s' "$LOGK" | sha256sum | cut -c1-64)
policy "$T/policy" "log $LOGK" "submitter $(cat "$T/sub.key.pub")" "quorum none"
command -v script > /dev/null || fail "script is missing (bsdutils, installed by make deps)"
ESC=$(printf '\033')
start_log "$T/a" --create --batch-ms 2
A=$LOG_URL
for i in 1 2 3; do append_one a "$i" > /dev/null || fail "append $i"; done
size() { curl -s "$A/checkpoint" | sed -n 2p; }

# --- get: untrusted strings ----------------------------------------------------------
start_proxy
P=$PROXY_URL
echo entry-leaf-escape > "$MODE"
expect_rc 2 "$G" get entry 1 --log "$P"
expect_err "the log's leaf_hash is not 64 lowercase hex digits"
grep -q "$ESC" "$T/err" && fail "get entry echoed the log's leaf_hash: $(cat -v "$T/err")"
: > "$MODE"
{ curl -s "$A/checkpoint" | head -1; printf 'x\2331;31mred\n'; } > "$MODE.checkpoint"
script -qec "$G get checkpoint --log $P" /dev/null > "$T/tty.out" || true
grep -q 'x\\x9b1;31mred' "$T/tty.out" || fail "lone 0x9b not shown: $(cat -v "$T/tty.out")"
grep -q "$(printf '\233')" "$T/tty.out" && fail "a lone 0x9b reached the terminal"
printf 'ex\302\233ample\177.com/log\n3\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$MODE.checkpoint" || fail "signing a checkpoint"
expect_rc 2 "$G" get checkpoint --log "$P" --policy "$T/policy"
expect_err 'no log in the policy has origin "ex\\xc2\\x9bample\\x7f.com/log"'
grep -q "$(printf '\302\233')\|$(printf '\177')" "$T/err" && fail "the origin reached stderr raw"
rm -f "$MODE.checkpoint"

# --- append: the log's error text; refusals before the post ----------------------------
cat > "$T/stub.py" <<'EOF'
import stubhttp
stubhttp.serve(lambda m, p, b: (400, '{"error": "no\\u009b31m\\u007f way"}'.encode()))
EOF
spawn stub env PYTHONPATH="$TOOLS" python3 -u "$T/stub.py" || fail "stub did not start"
STUB=$SPAWN_URL
LOG_URL=$STUB expect_rc 3 append_one s 1
expect_err 'the log refused the statement (400): no\\xc2\\x9b31m\\x7f way'
grep -q "$(printf '\302\233')\|$(printf '\177')" "$T/err" && fail "the log's reason reached stderr raw"
LOG_URL=$A
N=$(size)
expect_rc 3 append_one v 1 --log-vkey "@$T/sub.key.pub.typo"
[ "$(size)" = "$N" ] || fail "appended despite an unreadable --log-vkey"
"$G" keygen --name w.example --cosigner --out "$T/wit.key" > /dev/null || fail "keygen"
expect_rc 3 append_one v 2 --log-vkey "@$T/wit.key.pub"
expect_err "is a witness key; give the log's (note) key"
[ "$(size)" = "$N" ] || fail "appended despite a witness --log-vkey"
ln -s "$T/nowhere" "$T/dangling.tlog-proof"
expect_rc 3 append_one v 3 --out "$T/dangling.tlog-proof"
expect_err "refusing to overwrite"
[ "$(size)" = "$N" ] || fail "appended despite a dangling --out symlink"
[ -e "$T/nowhere" ] && fail "--out followed the symlink"
expect_rc 0 "$G" append --log "$A" --key "$T/sub.key" --kind build --subject v --version 4 \
    --sha256 "$(printf v4 | sha256sum | cut -c1-64)"
expect_err "the log's proof was not verified (no --log-vkey)"

# --- lookup: a mirror that lies about consistency ------------------------------------
# the log behind proxy L (lookups 503), the mirror behind proxy M (wrong proofs)
MODE_M=$MODE M=$P MODE_L="$T/l.mode"
: > "$MODE_L"
python3 "$TOOLS/tamper_proxy.py" "$A" "$MODE_L" "$T/l.port" 2> "$T/l.err" &
PIDS="$PIDS $!"
wait_until 30 test -s "$T/l.port" || fail "the log's proxy did not start: $(cat "$T/l.err")"
L="http://127.0.0.1:$(cat "$T/l.port")"
echo consistency-wrong > "$MODE_M"
sha256sum_of() { printf '%s %s' "$1" "$2" | sha256sum | cut -c1-64; }
expect_rc 0 "$G" lookup --log "$A" --policy "$T/policy" --state "$T/s" --sha256 "$(sha256sum_of a 1)"
for i in 4 5 6; do append_one a "$i" > /dev/null || fail "append a $i"; done
echo lookup-unavailable > "$MODE_L"
expect_rc 0 "$G" lookup --log "$L" --log "$M" --policy "$T/policy" --state "$T/s" \
    --sha256 "$(sha256sum_of a 5)"
[ -d "$T/s/$ID/alarms" ] && fail "a mirror's wrong proof raised an alarm: $(ls "$T/s/$ID/alarms")"
for i in 7 8; do append_one a "$i" > /dev/null || fail "append a $i"; done
echo api-unavailable > "$MODE_L"
expect_rc 2 "$G" lookup --log "$L" --log "$M" --policy "$T/policy" --state "$T/s" \
    --sha256 "$(sha256sum_of a 7)"
expect_err "from the mirror $M does not verify, and the log's own could not be had"
[ -d "$T/s/$ID/alarms" ] && fail "a mirror's wrong proof raised an alarm: $(ls "$T/s/$ID/alarms")"
echo none > "$MODE_L"
echo none > "$MODE_M"
expect_rc 0 "$G" lookup --log "$L" --log "$M" --policy "$T/policy" --state "$T/s" \
    --sha256 "$(sha256sum_of a 7)"

# --- get: a 404 from a mirror alone is not "not found" -------------------------------
# the log (L) fails, the second URL answers 404 (it lacks the entry): not
# every URL said 404, so the answer is a failure to ask (3), never "not
# found" (1); with both answering 404 it is not found
echo api-unavailable > "$MODE_L"
expect_rc 3 "$G" get entry 99999 --log "$L" --log "$M" --timeout 3
expect_err "not every URL answered"
echo none > "$MODE_L"
expect_rc 1 "$G" get entry 99999 --log "$L" --log "$M" --timeout 3
echo "PASS"
