# Goal: a failed storage commit of the mirror is recovered without a
# restart. glasslogd pushes its checkpoints to the mirror (--mirrors);
# the witness runs under the fault shim (tests/fault/faultfs.c) faulting
# its mirror copies only (DATA/mirror). While every sync there fails
# ("eio 0 sync") the push's upload gets 503 and the witness logs the
# failed commit. Once the fault clears, the mirror reopens the copy's
# store (RocksDB refuses every write after a failed one until reopened),
# reloads its state from what reached the disk, and the push catches the
# mirror up to the log's size: no 503 for good, no restart.
. "$(dirname "$0")/lib.sh"
need_py_crypto

# a first start makes DATA/mirror, the shim's directory, which must exist
one_mirror
stop_witness 1
[ -d "$T/wd1/mirror" ] || fail "no mirror directory in the witness's data"
fault_wrap "$T/wd1/mirror"
spawn witness1 $FAULT_WRAP "$GL_BIN/glasslog-witness" --listen "127.0.0.1:$PORT1" \
    --data "$T/wd1" --key "$T/w1.key" --logs "$T/logs" --mirror-key "$T/m1.key" \
    --mirror-listen "127.0.0.1:$MPORT" || fail "witness under the shim: $(cat "$SPAWN_OUT")"
WPID1=$SPAWN_PID WOUT1=$SPAWN_OUT
wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"

mirror_size() { curl -sf "$MURL/mirror/$LHEX/checkpoint" | sed -n 2p; }
log_size() { curl -sf "$LOG_URL/checkpoint" | sed -n 2p; }
is_size() { [ "$(mirror_size)" = "$1" ]; }

start_log "$T/data" --create --batch-ms 2 --mirrors "$T/mirrors" || fail "start: $(cat "$LOG_OUT")"
for i in 1 2 3; do
    append_one before "$i" --timeout 20 > /dev/null 2> "$T/a.err" || fail "append $i: $(cat "$T/a.err")"
done
wait_until 20 is_size 3 || fail "the mirror holds '$(mirror_size)', want 3"

# the mirror's syncs fail: the push's upload cannot be committed
fault_set "eio 0 sync"
append_one during 1 --timeout 20 > /dev/null 2> "$T/a.err" || fail "append during: $(cat "$T/a.err")"
wait_until 20 grep -q "mirror of example.com/log: storage commit failed" "$WOUT1" ||
    fail "no failed mirror commit logged: $(grep -i mirror "$WOUT1" | tail -5)"
grep -q "faultfs: injecting" "$WOUT1" || fail "the fault never fired"
[ "$(mirror_size)" = 3 ] || fail "during the fault the mirror holds '$(mirror_size)', want 3"
sleep 2 # recovery attempts while the disk still fails (at most one a second)

# the disk works again: the copy recovers and the push catches it up
fault_set off
append_one after 1 --timeout 20 > /dev/null 2> "$T/a.err" || fail "append after: $(cat "$T/a.err")"
n=$(log_size)
[ "$n" -ge 5 ] || fail "the log's size is '$n', want at least 5"
wait_until 30 is_size "$n" ||
    fail "after the fault the mirror holds '$(mirror_size)', want $n: $(grep -i 'mirror' "$WOUT1" | tail -5)"
grep -q "mirror of example.com/log: store recovered" "$WOUT1" ||
    fail "no recovery logged: $(grep -i mirror "$WOUT1" | tail -5)"
python3 "$(dirname "$0")/mirror.py" same-tiles "$LOG_URL" "$MURL/mirror/$LHEX" > /dev/null ||
    fail "the mirror's tiles differ from the log's"
stop_log
stop_witness 1
echo "85-mirror-storage-recover: ok"
