# Goal: what a witness stores it can load again, whatever a request
# carries. A checkpoint with the log's real signature and 99 junk
# signature lines by unknown keys (the signed-note maximum of 100 lines)
# is cosigned (200, one cosignature line that verifies with independent
# code), the monitoring endpoint serves only the log's signature and the
# cosignature, and the witness restarts and serves it. One line more is a
# 400; a signature line by the log's key in invalid base64 is a 403.
# A split view (a second validly log-signed checkpoint of the same size,
# also padded with junk lines) is still recorded as evidence: listed at
# /evidence, accepted by `glasslog evidence verify`, kept across another
# restart. A list in the published witness-network shape loads its logs.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
need_py_crypto
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/rec --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)

start() {
    spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wd" $(create_flag "$T/wd") \
        --key "$T/w.key" --logs "$T/logs" || fail "witness did not start: $(cat "$SPAWN_OUT")"
    WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
}
stop() { kill -TERM "$WPID"; wait "$WPID" || fail "witness exited $? on SIGTERM: $(tail -3 "$WOUT")"; }
# post WANT FILE: POSTs "old <OLD>", a blank line and FILE; body in $T/body.
post() {
    { printf 'old %s\n\n' "$OLD"; cat "$2"; } > "$T/body.in"
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/body.in" "$WURL/add-checkpoint")
    [ "$CODE" = "$1" ] || fail "add-checkpoint of $2 answered $CODE, want $1: $(head -c 300 "$T/body")"
}
# signed SIZE TAG: the log's checkpoint of SIZE with a root made from TAG.
signed() {
    printf 'example.com/log\n%s\n%s\n' "$1" \
        "$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode())' "$2")" |
        "$G" note sign --key "$T/log.key" || fail "note sign"
}
# junk N: N well-formed signature lines by unknown keys.
junk() {
    python3 -c '
import base64, os, sys
for i in range(int(sys.argv[1])):
    print("\u2014 junk%d.example/key %s" % (i, base64.b64encode(os.urandom(68)).decode()))' "$1"
}
# cosig_ok FILE: FILE (a note) carries a valid cosignature by w.key.
cosig_ok() {
    python3 - "$T/w.key.pub" "$1" <<'PY'
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
name, kid, kb = open(sys.argv[1]).read().strip().split("+", 2)
raw = base64.b64decode(kb)
note = open(sys.argv[2], encoding="utf-8").read()
text, sigs = note[:note.rindex("\n\n") + 1], note[note.rindex("\n\n") + 2:].splitlines()
mine = [l for l in sigs if l.startswith("\u2014 " + name + " ")]
assert len(mine) == 1, mine
blob = base64.b64decode(mine[0].split(" ")[2])
assert blob[:4].hex() == kid and len(blob) == 76
t = int.from_bytes(blob[4:12], "big")
Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:], ("cosignature/v1\ntime %d\n" % t + text).encode())
PY
}

start
signed 5 one > "$T/ck5a"
{ cat "$T/ck5a"; junk 99; } > "$T/ck5a.100"
[ "$(grep -c '^— ' "$T/ck5a.100")" = 100 ] || fail "the padded note has not 100 signature lines"
{ cat "$T/ck5a"; junk 100; } > "$T/ck5a.101"

# 101 signature lines: 400, before any signature check.
OLD=0 post 400 "$T/ck5a.101"
grep -q "signature lines" "$T/body" || fail "400 reason: $(cat "$T/body")"
# The log's line in invalid base64 (a character outside the alphabet):
# 403. (Non-zero unused bits would not do: signed-note readers ignore them.)
python3 - "$T/ck5a" > "$T/ck5a.badb64" <<'PY' || fail "cannot make an invalid line"
import sys
note = open(sys.argv[1], encoding="utf-8").read()
head, sig = note[:note.rindex("\n\n") + 2], note[note.rindex("\n\n") + 2:]
i = sig.index("=") - 1
sig = sig[:i] + "*" + sig[i + 1:]
assert sig != note[note.rindex("\n\n") + 2:]
sys.stdout.write(head + sig)
PY
OLD=0 post 403 "$T/ck5a.badb64"
grep -q "malformed" "$T/body" || fail "403 reason: $(cat "$T/body")"
# The 100-line note: cosigned; the record holds the log's line and ours.
OLD=0 post 200 "$T/ck5a.100"
[ "$(wc -l < "$T/body")" = 1 ] || fail "200 body is not one line: $(cat "$T/body")"
{ cat "$T/ck5a"; cat "$T/body"; } > "$T/ck5a.cosigned"
cosig_ok "$T/ck5a.cosigned" || fail "the cosignature does not verify"
curl -sf "$WURL/$HEX/checkpoint" > "$T/mon" || fail "monitoring"
cmp -s "$T/mon" "$T/ck5a.cosigned" || fail "monitoring serves more than log signature + cosignature: $(cat "$T/mon")"

# Restart: the witness loads its record and serves it.
stop
start
curl -sf "$WURL/$HEX/checkpoint" > "$T/mon" || fail "monitoring after restart: $(tail -5 "$WOUT")"
cmp -s "$T/mon" "$T/ck5a.cosigned" || fail "after restart it serves: $(cat "$T/mon")"

# A split view, also padded to 100 lines: 422 and evidence.
signed 5 two > "$T/ck5b"
{ cat "$T/ck5b"; junk 99; } > "$T/ck5b.100"
OLD=5 post 422 "$T/ck5b.100"
grep -q "split view" "$T/body" || fail "split reason: $(cat "$T/body")"
curl -sf "$WURL/evidence" > "$T/evlist" || fail "GET /evidence"
ID=$(python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 1 and l[0]["origin"] == "example.com/log" and l[0]["kind"] == "same-size", l
assert l[0]["sizes"] == [5, 5], l
print(l[0]["id"])' "$T/evlist") || fail "evidence list: $(cat "$T/evlist")"
curl -sf "$WURL/evidence/$ID" > "$T/ev" || fail "GET /evidence/$ID"
expect_rc 0 "$G" evidence verify --log-vkey "@$T/log.key.pub" "$T/ev"
grep -q "SPLIT VIEW" "$T/out" || fail "evidence verify: $(cat "$T/out")"
grep -q "junk" "$T/ev" && fail "the evidence carries the junk signature lines"
stop
start
[ "$(curl -sf "$WURL/evidence" | grep -o "$ID")" = "$ID" ] || fail "evidence lost on restart"
OLD=5 post 422 "$T/ck5a.100"
stop

# A list in the published witness-network shape (comments before logs/v0,
# indented lines) loads all its logs.
FIX="$(dirname "$0")/../unit/fixtures/witness-network.logs"
[ -f "$FIX" ] || fail "missing fixture $FIX"
spawn published "$W" --listen 127.0.0.1:0 --data "$T/wpub" --create --key "$T/w.key" \
    --logs "$FIX" || fail "the published-shape list was refused: $(cat "$SPAWN_OUT")"
grep -q "witnessing 5 logs" "$SPAWN_OUT" || fail "published-shape list: $(cat "$SPAWN_OUT")"
kill -TERM "$SPAWN_PID"
wait "$SPAWN_PID" || fail "witness exited $? on SIGTERM"
echo "16-witness-records: ok"
