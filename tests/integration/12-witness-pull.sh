# Goal: three witnesses of a real glasslogd, peered with each other. Two
# pull the log (url in their log lists), the third has no url and learns
# the log only from its peers (gossip, trust on first use). All three
# serve the log's current checkpoint on their monitoring endpoints; their
# cosignatures verify with independent code; a bundle from `glasslog
# append` carrying the cosignatures passes `glasslog verify` under a 2-of-3
# policy and fails with one cosignature; pulls follow the log as it grows
# (consistency proofs from the proof API); a witness stopped and restarted
# catches up; honest gossip produces no evidence and no "suspected" alarm.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
make_keys
start_log "$T/data" --create --batch-ms 2
for i in 1 2 3 4 5; do append_one pull-$i 1.$i --out "$T/bundle.$i" > /dev/null || fail "append $i"; done

make_witness_keys 1 2 3
printf 'logs/v0\nvkey %s\nurl %s\n' "$(cat "$T/log.key.pub")" "$LOG_URL" > "$T/logs-pull"
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs-gossip"
for n in 1 2 3; do
    for m in 1 2 3; do
        [ "$m" = "$n" ] || echo "witness w$m $(cat "$T/w$m.key.pub") http://127.0.0.1:$(eval echo \$PORT$m)"
    done > "$T/peers$n"
done
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
mon() { curl -s "http://127.0.0.1:$(eval echo \$PORT$1)/$HEX/checkpoint"; }
# wait_size N SIZE: until witness N's monitoring endpoint shows SIZE.
wait_size() {
    local i
    for i in $(seq 150); do
        [ "$(mon "$1" | sed -n 2p)" = "$2" ] && return 0
        sleep 0.1
    done
    fail "witness $1 did not reach size $2 (has $(mon "$1" | sed -n 2p)): $(tail -5 "$(eval echo \$WOUT$1)")"
}
log_size() { curl -sf "$LOG_URL/checkpoint" | sed -n 2p; }

start_witness 1 "$T/logs-pull" --peers "$T/peers1" --poll-interval 1
start_witness 2 "$T/logs-pull" --peers "$T/peers2" --poll-interval 1
start_witness 3 "$T/logs-gossip" --peers "$T/peers3" --poll-interval 1
S=$(log_size)
[ "$S" = 5 ] || fail "log size $S"
for n in 1 2 3; do wait_size "$n" 5; done

# The cosigned checkpoint, assembled from the monitoring endpoints.
curl -sf "$LOG_URL/checkpoint" > "$T/ck"
cp "$T/ck" "$T/ck-all"
for n in 1 2 3; do
    mon "$n" > "$T/mon$n"
    [ "$(sed -n '1,3p' "$T/mon$n")" = "$(sed -n '1,3p' "$T/ck")" ] || fail "witness $n serves another tree"
    grep "^— witness$n.example " "$T/mon$n" >> "$T/ck-all" || fail "witness $n: no cosignature"
    grep -q "^— example.com/log " "$T/mon$n" || fail "witness $n: no log signature"
    # what it holds is exactly the log's note plus its own cosignature,
    # whether pulled (1, 2) or learned from peers' cosigned notes (3)
    grep -v "^— witness$n.example " "$T/mon$n" | cmp -s - "$T/ck" ||
        fail "witness $n serves more than the log's note and its cosignature: $(cat "$T/mon$n")"
    [ "$(grep -c "^— " "$T/mon$n")" = 2 ] || fail "witness $n: signature lines: $(cat "$T/mon$n")"
done
need_py_crypto
python3 - "$T/ck-all" "$T"/w1.key.pub "$T"/w2.key.pub "$T"/w3.key.pub <<'EOF' || fail "cosignatures do not verify independently"
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
note = open(sys.argv[1]).read()
text, sigs = note[:note.index("\n\n") + 1], note[note.index("\n\n") + 2:].splitlines()
ok = 0
for vk in sys.argv[2:]:
    name, kid, kb = open(vk).read().strip().split("+", 2)
    raw = base64.b64decode(kb)
    assert raw[0] == 4 and hashlib.sha256(name.encode() + b"\n" + raw).hexdigest()[:8] == kid
    for line in sigs:
        if line.startswith("\u2014 " + name + " "):
            blob = base64.b64decode(line.split(" ")[2])
            t = int.from_bytes(blob[4:12], "big")
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:], ("cosignature/v1\ntime %d\n" % t + text).encode())
            ok += 1
assert ok == 3, ok
EOF

# A 2-of-3 policy accepts the bundle with the cosignatures, not with one.
{
    echo "log $(cat "$T/log.key.pub")"
    for n in 1 2 3; do echo "witness w$n $(cat "$T/w$n.key.pub")"; done
    echo "group two-of-three 2 w1 w2 w3"
    echo "quorum two-of-three"
    echo "submitter $(cat "$T/submitters")"
} > "$T/policy"
sed -n '2p' "$T/ck" | grep -qx "$(sed -n '/^$/,$p' "$T/bundle.5" | sed -n 3p)" ||
    fail "the last append's bundle is not at the current size"
{ sed '/^$/q' "$T/bundle.5"; cat "$T/ck-all"; } > "$T/bundle-cosigned"
{ sed '/^$/q' "$T/bundle.5"; cat "$T/ck"; grep "^— witness1.example " "$T/ck-all"; } > "$T/bundle-one"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$T/bundle-cosigned"
expect_rc 2 "$G" verify --policy "$T/policy" --bundle "$T/bundle-one"

# The pullers follow the log; a stopped witness catches up after restart.
for i in 6 7 8; do append_one pull-$i 1.$i > /dev/null || fail "append $i"; done
wait_size 1 8
wait_size 2 8
stop_witness 2
for i in 9 10 11 12 13; do append_one pull-$i 1.$i > /dev/null || fail "append $i"; done
wait_size 1 13
start_witness 2 "$T/logs-pull" --peers "$T/peers2" --poll-interval 1
wait_size 2 13
sleep 2 # a few gossip rounds between the three
for n in 1 2 3; do
    [ "$(curl -s "http://127.0.0.1:$(eval echo \$PORT$n)/evidence")" = "[]" ] || fail "witness $n made evidence"
    curl -s "http://127.0.0.1:$(eval echo \$PORT$n)/metrics" > "$T/metrics$n"
    grep -q '^glasslog_witness_suspected_total 0$' "$T/metrics$n" || fail "witness $n suspected something"
done
grep -q '^glasslog_witness_caught_up_total [1-9]' "$T/metrics3" || fail "witness 3 never caught up from a peer"
grep -q '^glasslog_witness_gossip_polls_total [1-9]' "$T/metrics1" || fail "no gossip"
for n in 1 2 3; do stop_witness "$n"; done
stop_log
echo "12-witness-pull: ok"
