# Goal: the witness's state survives kill -9 and never regresses or forks.
# A client streams a growing chain of checkpoints (each with its
# consistency proof) while two attackers keep posting a forked chain with
# proofs of their own tree; the witness is killed with SIGKILL at a random
# moment, three times. After each restart: the stored size is at least the
# largest size ever acknowledged with 200, its root is the honest chain's
# (checked with independent code), no forked checkpoint was ever
# cosigned, and the stream resumes from the witness's size (learned from
# a 409 with old 0). Every acknowledged cosignature verifies (Python).
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
STEPS=400

cat > "$T/chain.py" <<'EOF'
import base64, functools, hashlib, sys
def H(b): return hashlib.sha256(b).digest()
tag, n, step, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
L = [H(b"\x00" + (tag + str(i)).encode()) for i in range(n * step + 2)]
@functools.lru_cache(maxsize=None)
def mth(a, b):
    if b - a == 0: return H(b"")
    if b - a == 1: return L[a]
    k = 1
    while k * 2 < b - a: k *= 2
    return H(b"\x01" + mth(a, a + k) + mth(a + k, b))
def sub(m, a, b, full):
    if m == b - a: return [] if full else [mth(a, b)]
    k = 1
    while k * 2 < b - a: k *= 2
    if m <= k: return sub(m, a, a + k, full) + [mth(a + k, b)]
    return sub(m - k, a + k, b, False) + [mth(a, a + k)]
e = lambda h: base64.b64encode(h).decode()
off = 1 if tag == "fork" else 0  # the fork's sizes are never the chain's
with open(out, "w") as f:
    for i in range(2 if off else 1, n + 1):  # a fork from 0 would be a first checkpoint
        s, old = i * step + off, (i - 1) * step
        proof = sub(old, 0, s, True) if old > 0 else []
        f.write("%d %d %s %s\n" % (old, s, e(mth(0, s)), ",".join(e(h) for h in proof)))
EOF
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/crash --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
python3 "$T/chain.py" honest "$STEPS" 3 "$T/honest.txt" || fail "chain"
python3 "$T/chain.py" fork 60 3 "$T/fork.txt" || fail "fork chain"

# Bodies: $T/b/<kind>.<size> ("old <m>", proof lines, blank, signed note).
mkdir -p "$T/b"
mkbodies() {
    local kind=$1 old size root proof
    while read -r old size root proof; do
        printf 'example.com/log\n%s\n%s\n' "$size" "$root" | "$G" note sign --key "$T/log.key" > "$T/b/$kind.$size.ck" ||
            fail "sign"
        { printf 'old %s\n' "$old"; [ -n "$proof" ] && printf '%s\n' ${proof//,/ }; printf '\n'
          cat "$T/b/$kind.$size.ck"; } > "$T/b/$kind.$size"
    done < "$T/$kind.txt"
}
mkbodies honest
mkbodies fork

start_witness() {
    spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wdata" $(create_flag "$T/wdata") \
        --key "$T/w.key" --logs "$T/logs" || return 1
    WPID=$SPAWN_PID WOUT=$SPAWN_OUT WURL=$SPAWN_URL
}
# witness_size: the stored size, from the 409 to "old 0" (0 if it answers 200).
witness_size() {
    local c
    c=$(curl -s -o "$T/ws" -w '%{http_code}' --data-binary "@$T/b/honest.3" "$WURL/add-checkpoint")
    case $c in
        409) cat "$T/ws" ;;
        200) echo 3 ;;
        *) fail "size probe answered $c" ;;
    esac
}
# stream FROM: posts the honest chain from size FROM on; logs "size line".
stream() {
    local size=$1 c
    while :; do
        size=$((size + 3))
        [ -f "$T/b/honest.$size" ] || return 0
        c=$(curl -s -o "$T/sb" -w '%{http_code}' --max-time 2 --data-binary "@$T/b/honest.$size" \
            "$WURL/add-checkpoint") || return 0
        [ "$c" = 200 ] || return 0
        printf '%s %s\n' "$size" "$(cat "$T/sb")" >> "$T/acks"
    done
}
# attacker N: posts forked checkpoints until the witness dies; a 200 is fatal.
attacker() {
    local f c
    while :; do
        for f in "$T"/b/fork.*[0-9]; do
            c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --data-binary "@$f" \
                "$WURL/add-checkpoint") || return 0
            [ "$c" = 200 ] && echo "$f" >> "$T/forks-cosigned"
            sleep 0.02
        done
    done
}

: > "$T/acks"
start_witness
from=0
for round in 1 2 3; do
    stream "$from" & sp=$!
    attacker & a1=$!
    attacker & a2=$!
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 100) / 100 }')"
    kill -9 "$WPID"
    wait "$WPID" 2>/dev/null
    wait "$sp" "$a1" "$a2"
    [ -s "$T/forks-cosigned" ] && fail "a forked checkpoint was cosigned: $(cat "$T/forks-cosigned")"
    acked=$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$T/acks")
    [ "$acked" -gt "$from" ] || fail "round $round: nothing acknowledged"
    start_witness || fail "restart after kill -9 failed: $(cat "$WOUT")"
    size=$(witness_size)
    [ "$size" -ge "$acked" ] || fail "round $round: state regressed: size $size < acknowledged $acked"
    want=$(awk -v s="$size" '$2 == s { print $3 }' "$T/honest.txt")
    curl -sf "$WURL/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint" > "$T/mon" ||
        fail "monitoring after restart"
    [ "$(sed -n 2p "$T/mon")" = "$size" ] && [ "$(sed -n 3p "$T/mon")" = "$want" ] ||
        fail "round $round: stored tree is not the honest chain at $size"
    from=$size
done
[ "$(curl -s "$WURL/evidence")" = "[]" ] || fail "an honest chain produced evidence"

# Every acknowledged cosignature verifies with independent code.
need_py_crypto
python3 - "$T/w.key.pub" "$T/acks" "$T/b" <<'EOF' || fail "an acknowledged cosignature does not verify"
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
name, kid, kb = open(sys.argv[1]).read().strip().split("+", 2)
pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(kb)[1:])
for line in open(sys.argv[2]):
    size, dash, who, b64 = line.split()
    assert who == name
    blob = base64.b64decode(b64)
    assert blob[:4].hex() == kid
    note = open("%s/honest.%s.ck" % (sys.argv[3], size)).read()
    text = note[:note.index("\n\n") + 1]
    t = int.from_bytes(blob[4:12], "big")
    pub.verify(blob[12:], ("cosignature/v1\ntime %d\n" % t + text).encode())
EOF
kill -TERM "$WPID"
wait "$WPID" || fail "witness exit status on SIGTERM"
echo "11-witness-crash: $(wc -l < "$T/acks") acknowledged cosignatures survived 3 kills: ok"
