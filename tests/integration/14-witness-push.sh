# Goal: glasslogd pushes its checkpoints to its witnesses (tlog-witness
# add-checkpoint) and serves them cosigned. Block mode: a new log's size-0
# checkpoint is served only once a 2-of-3 quorum cosigned it; an append's
# answer carries a quorum-cosigned checkpoint and keeps working with one
# witness down; a log whose data was lost (recreated under the same key)
# learns from the witnesses that they cosigned a larger tree and refuses
# to sign. Fail-open mode serves checkpoints while no witness answers.
. "$(dirname "$0")/lib.sh"
make_keys
make_witness_keys 1 2 3
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
for n in 1 2 3; do start_witness "$n" "$T/logs"; done
{
    for n in 1 2 3; do echo "witness w$n $(cat "$T/w$n.key.pub") http://127.0.0.1:$(eval echo \$PORT$n)"; done
    echo "group two-of-three 2 w1 w2 w3"
    echo "quorum two-of-three"
} > "$T/witnesses"

# cosigs FILE: number of witness cosignature lines in a checkpoint note.
cosigs() { grep -c '^— witness[0-9].example ' "$1"; }

start_log "$T/data" --create --batch-ms 2 --witnesses "$T/witnesses"
served() { http GET /checkpoint; [ "$CODE" = 200 ]; }
wait_until 30 served
[ "$CODE" = 200 ] || fail "no cosigned size-0 checkpoint: $CODE $(cat "$T/body")"
[ "$(sed -n 2p "$T/body")" = 0 ] || fail "size-0 checkpoint expected"
[ "$(cosigs "$T/body")" -ge 2 ] || fail "served without a quorum: $(cat "$T/body")"

append_one pushed 1 --out "$T/b1" > /dev/null || fail "append with witnesses"
[ "$(cosigs "$T/b1")" -ge 2 ] || fail "the append's proof lacks a cosigned checkpoint"
# The cosignatures are real: the witness's monitoring endpoint agrees.
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
# (the log answers once two of the three cosigned: witness 1 may be last)
recorded() {
    curl -s "http://127.0.0.1:$PORT1/$HEX/checkpoint" > "$T/mon1"
    [ "$(sed -n 2p "$T/mon1")" -ge 1 ] 2>/dev/null
}
wait_until 10 recorded || fail "witness 1 did not record the pushed checkpoint"
http GET /metrics
grep -q '^glasslog_witness_quorum_met 1' "$T/body" || fail "quorum metric"

# One witness down: 2 of 3 still cosign.
stop_witness 3
append_one pushed 2 --out "$T/b2" > /dev/null || fail "append with one witness down"
[ "$(cosigs "$T/b2")" -ge 2 ] || fail "quorum with two witnesses"
stop_log
start_witness 3 "$T/logs"

# Lost data: a new, empty log under the same key must refuse to sign.
rm -rf "$T/data"
start_log "$T/data" --create --witnesses "$T/witnesses" && fail "a log with lost data started"
grep -q "lost or replaced" "$LOG_OUT" || fail "refusal reason: $(cat "$LOG_OUT")"

# Fail-open with unreachable witnesses: served at once, quorum metric 0.
rm -rf "$T/data2"
DEAD=$(free_port)
printf 'witness dead %s http://127.0.0.1:%s\nquorum dead\n' "$(cat "$T/w1.key.pub")" "$DEAD" > "$T/dead"
rm "$T/log.key" "$T/log.key.pub"   # another log (the witnesses do not know it)
"$GL_BIN/glasslog" keygen --name other.example/log --out "$T/log.key" > /dev/null
start_log "$T/data2" --create --witnesses "$T/dead" --witness-mode fail-open --witness-timeout-ms 500
http GET /checkpoint
[ "$CODE" = 200 ] || fail "fail-open: no checkpoint ($CODE): $(cat "$LOG_OUT")"
append_one open 1 > /dev/null || fail "fail-open append"
http GET /metrics
grep -q '^glasslog_witness_quorum_met 0' "$T/body" || fail "fail-open quorum metric"
stop_log
echo "14-witness-push: ok"
