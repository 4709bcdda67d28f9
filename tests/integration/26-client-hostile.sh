# Goal: a hostile or broken log costs the client little and hides nothing
# (tools/tamper_proxy.py in front of a real glasslogd):
# - lookup: a page of 200000 JSON values is refused before cJSON parses it,
#   a page listing more than 100 statements is refused before any is
#   verified, and malformed items are reported once (the first ends the
#   lookup): exit 2, a few lines on stderr, quickly; lookup --chain reads
#   its pages under the same bounds;
# - monitor: tiles that were wrong once (a tampered level-0 tile) raise the
#   fork alarm only while the log serves them: a running monitor verifies
#   again on the first cycle after the log serves the right tiles (the cache
#   is emptied each cycle and before a proof from it is believed to fail);
# - monitor: a catch-up stalled on a malformed entry bundle still compares
#   every served checkpoint with its target: a log-signed checkpoint of the
#   same size with another root is a fork alarm;
# - get: on a terminal, control bytes from the log are shown as \xHH
#   (no escape sequence reaches the terminal); into a pipe the checkpoint
#   is verbatim; an entry answer for another index is refused (exit 2);
# - get tile: a partial tile answering 404 slowly, then its full tile
#   slowly, costs one --timeout in all, not one per GET;
# - get and append: a server answering 503 with Retry-After: 0 is asked at
#   the client's back-off, not in a tight loop; gzip is the only content
#   encoding offered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
loadgen_tool
LOGK=$(cat "$T/log.key.pub")
ID=$(printf '%s' "$LOGK" | sha256sum | cut -c1-64)
policy "$T/policy" "log $LOGK" "submitter $(cat "$T/sub.key.pub")" "quorum none"
bulk() { # bulk N PREFIX: N appends to $LOG_URL
    "$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n "$1" -c 8 \
        --subject-prefix "$2" > /dev/null 2> "$T/loadgen.err" ||
        fail "loadgen: $(cat "$T/loadgen.err")"
}
mon() { # mon URL STATE: one monitor cycle
    "$G" monitor --log "$1" --policy "$T/policy" --state "$2" --once --no-progress
}

# Log A: 5 entries, remembered by the state m2, then 295 more.
start_log "$T/a" --create --batch-ms 2
A=$LOG_URL
bulk 5 a
expect_rc 0 mon "$A" "$T/m2"
[ "$(sed -n 2p "$T/m2/$ID/checkpoint")" = 5 ] || fail "state m2 does not remember size 5"
bulk 295 a
start_proxy
P=$PROXY_URL

# --- lookup: bounded pages --------------------------------------------------------
look() {
    "$G" lookup --log "$P" --policy "$T/policy" --state "$T/ls" --timeout 5 \
        --sha256 "$(printf 'x' | sha256sum | cut -c1-64)"
}
echo lookup-flood > "$MODE"
t0=$(date +%s)
expect_rc 2 look
[ $(($(date +%s) - t0)) -le 5 ] || fail "a flooded lookup page took $(($(date +%s) - t0)) s"
expect_err "the log's lookup answer holds more JSON values than 100 statements need"
[ "$(wc -l < "$T/err")" -le 3 ] || fail "flooded lookup: $(wc -l < "$T/err") lines on stderr"
echo lookup-101 > "$MODE"
expect_rc 2 look
expect_err "the log's lookup answer lists 101 statements, more than the 100 of a page"
grep -q "malformed" "$T/err" && fail "an item of a 101-item page was checked"
# lookup --chain reads its pages under the same bounds
printf 'x' > "$T/x.bin"
chain() { "$G" lookup --log "$P" --policy "$T/policy" --state "$T/ls" --timeout 5 --chain "$T/x.bin"; }
echo lookup-flood > "$MODE"
expect_rc 2 chain
expect_err "the log's lookup answer holds more JSON values than 100 statements need"
echo lookup-101 > "$MODE"
expect_rc 2 chain
expect_err "the log's lookup answer lists more than the 100 statements of a page"
echo lookup-bad3 > "$MODE"
expect_rc 2 look
[ "$(grep -c "the log's answer is malformed" "$T/err")" = 1 ] ||
    fail "3 malformed items: not reported once: $(cat "$T/err")"

# --- monitor: tiles wrong once do not alarm forever --------------------------------
echo tile-hash > "$MODE"
"$G" monitor --log "$P" --policy "$T/policy" --state "$T/m2" --interval 1 --no-progress \
    > "$T/poll.out" 2> "$T/poll.err" &
MPID=$!
PIDS="$PIDS $MPID"
wait_until 10 grep -q "ALARM" "$T/poll.out" ||
    fail "tampered tiles: no alarm: $(cat "$T/poll.out" "$T/poll.err")"
grep -q "consistency proof from the log's tiles does not verify" "$T/poll.err" ||
    fail "tampered tiles: $(cat "$T/poll.err")"
: > "$MODE"
wait_until 30 grep -q "tree size 300, verified, no alarm" "$T/poll.out" ||
    fail "the right tiles again: still no verified cycle: $(tail -3 "$T/poll.out")"
kill "$MPID"
wait "$MPID" 2>/dev/null
[ "$(sed -n 2p "$T/m2/$ID/checkpoint")" = 300 ] || fail "size 300 not remembered"

# --- monitor: a stalled catch-up still sees a fork ---------------------------------
echo entries-malformed > "$MODE"
expect_rc 2 mon "$P" "$T/m3"
expect_out "tree size 300, not verified"
grep -qx "checked 256" "$T/m3/$ID/monitor" || fail "no progress at bundle 1: $(cat "$T/m3/$ID/monitor")"
# a checkpoint the log signed of the same size, another root
printf 'example.com/log\n300\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$MODE.checkpoint" || fail "signing a forked checkpoint"
expect_rc 2 mon "$P" "$T/m3"
expect_err "resuming at entry 256 of 300"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 300 is not consistent with the one of size 300 verified before (same size, different root)"
ls -d "$T/m3/$ID"/alarms/fork-300-300-* > /dev/null 2>&1 || fail "no fork evidence"
rm -f "$MODE.checkpoint"

# --- get: untrusted text on a terminal ---------------------------------------------
command -v script > /dev/null || fail "script is missing (bsdutils, installed by make deps)"
echo entry-escape > "$MODE"
script -qec "$G get entry 1 --log $P" /dev/null > "$T/tty.out" ||
    fail "get entry on a terminal: $(cat "$T/tty.out")"
grep -q 'version \\x1b\]52;c;aGk=\\x07' "$T/tty.out" || fail "escape not shown: $(cat -v "$T/tty.out")"
grep -q "$(printf '\033')" "$T/tty.out" && fail "an escape byte reached the terminal"
expect_rc 0 "$G" get entry 1 --log "$P"
grep -q "$(printf '\033')" "$T/out" || fail "piped: the statement was altered"
echo entry-index > "$MODE"
expect_rc 2 "$G" get entry 1 --log "$P"
expect_err "the log answered entry 2 for entry 1"
: > "$MODE"
{ curl -s "$A/checkpoint" | head -1; printf '\033]0;pwned\007\n'; } > "$MODE.checkpoint"
script -qec "$G get checkpoint --log $P" /dev/null > "$T/tty.out" || true
grep -q '\\x1b\]0;pwned\\x07' "$T/tty.out" || fail "checkpoint escape not shown: $(cat -v "$T/tty.out")"
grep -q "$(printf '\033')" "$T/tty.out" && fail "an escape byte of the checkpoint reached the terminal"
expect_rc 0 "$G" get checkpoint --log "$P"
cmp -s "$T/out" "$MODE.checkpoint" || fail "piped: the checkpoint is not verbatim"
rm -f "$MODE.checkpoint"

# --- get tile: the fallback to a full tile shares the --timeout --------------------
# 4 s to the partial tile's 404, 4 s more to the full tile: past a
# --timeout of 5 s, so the client gives up at about 5 s (a timeout per GET
# would take 8 s; the bound leaves 2.8 s for a loaded machine)
echo partial-gone-slow > "$MODE"
t0=$(date +%s%N)
expect_rc 3 "$G" get tile tile/0/000.p/5 --log "$P" --timeout 5
ms=$((($(date +%s%N) - t0) / 1000000))
echo "get tile with a slow fallback: $ms ms"
[ "$ms" -lt 7800 ] || fail "a slow fallback took $ms ms, past the --timeout of 5 s"
expect_err "tile/0/000.p/5 not found (404), nor its full tile: $P/tile/0/000: "
: > "$MODE"
stop_proxy
stop_log

# A server answering every request 503 with Retry-After: 0 (or 0.001)
# slows the client down to its back-off, never into a tight loop: get
# and append within --timeout 2 ask a handful of times (the old code
# asked hundreds to thousands of times), and the client offers gzip alone as a
# content encoding (no other decoder).
spawn busy env PYTHONPATH="$TOOLS" python3 -u -c "import stubhttp
def respond(method, path, body, headers):
    with open('$T/busy.hits', 'a') as f:
        f.write('%s %s\\n' % (method, headers.get('Accept-Encoding')))
    return 503, b'{\"error\": \"busy\"}\\n', {'Retry-After': '0' if method == 'GET' else '0.001'}
stubhttp.serve(respond)" || fail "the busy server did not start"
BUSY=$SPAWN_URL
expect_rc 3 "$G" get checkpoint --log "$BUSY" --timeout 2
hits=$(grep -c '^GET ' "$T/busy.hits")
[ "$hits" -ge 2 ] && [ "$hits" -le 12 ] || fail "get asked a busy server $hits times in 2 s"
expect_rc 3 "$G" append --log "$BUSY" --key "$T/sub.key" --kind build --subject busy --version 1 \
    --sha256 "$(printf busy | sha256sum | cut -c1-64)" --timeout 2
hits=$(grep -c '^POST ' "$T/busy.hits")
[ "$hits" -ge 2 ] && [ "$hits" -le 12 ] || fail "append asked a busy server $hits times in 2 s"
[ "$(cut -d' ' -f2- "$T/busy.hits" | sort -u)" = gzip ] ||
    fail "content encodings offered: $(cut -d' ' -f2- "$T/busy.hits" | sort -u | tr '\n' ' ')"
echo "26-client-hostile: ok"
