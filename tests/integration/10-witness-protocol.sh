# Goal: glasslog-witness answers C2SP tlog-witness add-checkpoint exactly as
# the spec says, case by case with curl: 400 (no note; bad old line; bad
# proof line; old > size), 404 (unknown origin), 403 (another key with the
# log's name), 409 (body "<size>\n", Content-Type text/x.tlog.size), 422
# (bad or truncated proof, non-empty proof from 0, size 0 with a non-empty
# root, equal sizes with a proof, same size with another root -> evidence
# and the origin frozen), 429 (qpd), 413 (64 KiB cap), 405; 200 with a
# cosignature line verified by independent code (Python), the monitoring
# endpoint serving log signature + cosignature right after the 200, the
# evidence list/file/CLI check, a refused note key, and everything kept
# across a restart (and the data dir refusing another witness key). A
# log whose latest cosignature is far in the future (a clock that was
# ahead, test shim) is refused with 503 and /healthz fails. A log with a
# post-quantum key (about 1,760 characters) in the log list is skipped with
# a warning, not the whole list refused.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"

# --- helpers ---------------------------------------------------------------
cat > "$T/wt.py" <<'EOF'
import base64, hashlib, sys
def H(b): return hashlib.sha256(b).digest()
def leaves(n, tag): return [H(b"\x00" + (tag + str(i)).encode()) for i in range(n)]
def mth(l):
    if len(l) == 0: return H(b"")
    if len(l) == 1: return l[0]
    k = 1
    while k * 2 < len(l): k *= 2
    return H(b"\x01" + mth(l[:k]) + mth(l[k:]))
def sub(m, l, b):
    if m == len(l): return [] if b else [mth(l)]
    k = 1
    while k * 2 < len(l): k *= 2
    if m <= k: return sub(m, l[:k], b) + [mth(l[k:])]
    return sub(m - k, l[k:], False) + [mth(l[:k])]
def b64(h): return base64.b64encode(h).decode()
cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "root":
    print(b64(mth(leaves(int(a[0]), a[1] if len(a) > 1 else ""))))
elif cmd == "proof":
    for h in sub(int(a[0]), leaves(int(a[1]), a[2] if len(a) > 2 else ""), True): print(b64(h))
elif cmd == "cosig":  # VKEY NOTE: verify the witness's cosignature line
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    name, kid, kb = open(a[0]).read().strip().split("+", 2)
    raw = base64.b64decode(kb)
    assert raw[0] == 4 and len(raw) == 33, "not a cosignature key"
    assert H(name.encode() + b"\n" + raw).hex()[:8] == kid, "key id"
    note = open(a[1], "rb").read().decode()
    text, sigs = note[:note.rindex("\n\n") + 1], note[note.rindex("\n\n") + 2:]
    for line in sigs.splitlines():
        if not line.startswith("\u2014 " + name + " "): continue
        blob = base64.b64decode(line.split(" ")[2])
        assert blob[:4].hex() == kid and len(blob) == 76, "cosignature blob"
        t = int.from_bytes(blob[4:12], "big")
        msg = ("cosignature/v1\ntime %d\n" % t + text).encode()
        Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:], msg)
        print(t); sys.exit(0)
    sys.exit("no cosignature line by " + name)
EOF
PY="python3 $T/wt.py"
need_py_crypto

# mkck KEY ORIGIN SIZE ROOT: a signed checkpoint note on stdout.
mkck() { printf '%s\n%s\n%s\n' "$2" "$3" "$4" | "$G" note sign --key "$1" || fail "note sign"; }
# body OLD CKFILE [PROOF LINES...]: an add-checkpoint body in $T/body.in
body() {
    local old=$1 ck=$2
    shift 2
    { printf 'old %s\n' "$old"; for l in "$@"; do printf '%s\n' "$l"; done; printf '\n'; cat "$ck"; } > "$T/body.in"
}
# post WANT_CODE: POSTs $T/body.in; body in $T/body, headers in $T/hdr.
post() {
    CODE=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' --data-binary "@$T/body.in" \
        "$WURL/add-checkpoint")
    [ "$CODE" = "$1" ] || fail "add-checkpoint answered $CODE, want $1: $(head -c 300 "$T/body")"
}
ctype() { tr -d '\r' < "$T/hdr" | sed -n 's/^[Cc]ontent-[Tt]ype: //p'; }
start_witness() {
    spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wdata" $(create_flag "$T/wdata") \
        --key "$T/w.key" --logs "$T/logs" "$@" || return 1
    WPID=$SPAWN_PID WOUT=$SPAWN_OUT WURL=$SPAWN_URL
}
stop_witness() { kill -TERM "$WPID"; wait "$WPID" || fail "witness exited $? on SIGTERM: $(tail -3 "$WOUT")"; }

# --- keys and config ----------------------------------------------------------
for o in example.com/log split.example/log zero.example/log rl.example/log; do
    f=$(printf %s "$o" | tr '/.' '__')
    "$G" keygen --name "$o" --out "$T/$f.key" > /dev/null || fail keygen
done
LK="$T/example_com_log.key"
"$G" keygen --name example.com/log --out "$T/evil.key" > /dev/null || fail keygen
"$G" keygen --name other.example/log --out "$T/other.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/w1 --cosigner --out "$T/w.key" > /dev/null || fail keygen
{
    echo "logs/v0"
    echo "# glasslog witness test"
    echo "vkey $(cat "$T/example_com_log.key.pub")"
    echo "contact ops@example.com"
    echo "vkey $(cat "$T/split_example_log.key.pub")"
    echo "vkey $(cat "$T/zero_example_log.key.pub")"
    echo "bastion bastion.example.com"
    echo "vkey $(cat "$T/rl_example_log.key.pub")"
    echo "qpd 2880"
    # A post-quantum log key (ML-DSA-44 shaped: type 0x06, 1312 bytes, about
    # 1,760 characters, its key ID computed here): skipped, not refused.
    python3 -c '
import base64, hashlib, os
name = b"pq.example/log"
raw = b"\x06" + os.urandom(1312)
kid = hashlib.sha256(name + b"\n" + raw).digest()[:4]
print("vkey %s+%s+%s" % (name.decode(), kid.hex(), base64.b64encode(raw).decode()))
print("qpd 7")'
} > "$T/logs"

# A note key is refused as the witness key.
expect_rc 1 "$W" --data "$T/nope" --key "$LK" --logs "$T/logs" --listen 127.0.0.1:0
expect_err "cosigning key"
expect_rc 2 "$W" --data "$T/nope" --key "$T/w.key"

start_witness
[ "$(cat "$WOUT.stdout")" = "$(cat "$T/w.key.pub")" ] || fail "stdout is not the 0x04 vkey: $(cat "$WOUT.stdout")"
grep -q "skipped 1 logs with keys this build cannot verify" "$WOUT" ||
    fail "no warning for the post-quantum log: $(cat "$WOUT")"
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
expect_mon() { CODE=$(curl -s -o "$T/mon" -w '%{http_code}' "$WURL/$HEX/checkpoint"); [ "$CODE" = "$1" ] || fail "monitoring answered $CODE, want $1"; }
expect_mon 404

R3=$($PY root 3); R7=$($PY root 7); R8=$($PY root 8)
mkck "$LK" example.com/log 3 "$R3" > "$T/ck3"
mkck "$LK" example.com/log 7 "$R7" > "$T/ck7"
mkck "$LK" example.com/log 8 "$R8" > "$T/ck8"
mapfile -t P37 < <($PY proof 3 7)
mapfile -t P78 < <($PY proof 7 8)

# 400 before anything: no blank line, no origin line.
printf 'garbage' > "$T/body.in"; post 400
printf 'old 0\n\n' > "$T/body.in"; post 400
# 404: an origin the witness does not know (checked before the signature).
mkck "$T/other.key" other.example/log 3 "$R3" > "$T/ckx"; body 0 "$T/ckx"; post 404
# 403: the log's name, another key; and a note with no signature line at all.
mkck "$T/evil.key" example.com/log 3 "$R3" > "$T/ckevil"; body 0 "$T/ckevil"; post 403
grep -q "signature" "$T/body" || fail "403 reason: $(cat "$T/body")"
sed 's/^\(— example.com\/log \)\(.\)/\1A\2/' "$T/ck3" > "$T/ckbad"; body 0 "$T/ckbad"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/body.in" "$WURL/add-checkpoint")
[ "$CODE" = 403 ] || [ "$CODE" = 400 ] || fail "tampered signature answered $CODE"
# 400 after the signature: malformed old line, proof line, old > size.
{ printf 'old 03\n\n'; cat "$T/ck3"; } > "$T/body.in"; post 400
{ printf 'olde 0\n\n'; cat "$T/ck3"; } > "$T/body.in"; post 400
body 0 "$T/ck3" "not-base64"; post 400
body 4 "$T/ck3"; post 400
grep -q "old size larger" "$T/body" || fail "old > size reason"
# 422: a non-empty proof from size 0.
body 0 "$T/ck3" "${P37[0]}"; post 422
# 200: the first checkpoint (trust on first use).
body 0 "$T/ck3"; post 200
[ "$(ctype)" = "text/plain; charset=utf-8" ] || fail "200 content type: $(ctype)"
grep -q "^— witness.example/w1 " "$T/body" || fail "200 body is not a cosignature line: $(cat "$T/body")"
[ "$(wc -l < "$T/body")" = 1 ] || fail "200 body has more than one line"
{ cat "$T/ck3"; cat "$T/body"; } > "$T/ck3.cosigned"
"$G" note verify --vkey "@$T/example_com_log.key.pub" "$T/ck3.cosigned" > /dev/null || fail "log sig"
$PY cosig "$T/w.key.pub" "$T/ck3.cosigned" > /dev/null || fail "the cosignature does not verify independently"
# The monitoring endpoint serves it at once: log signature + our cosignature.
expect_mon 200
cmp -s "$T/mon" "$T/ck3.cosigned" || fail "monitoring serves something else: $(cat "$T/mon")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/$(printf %s example.com/log | sha256sum | cut -c1-64 | tr a-f A-F)/checkpoint")" = 404 ] ||
    fail "uppercase hex must not match"
# 409: old differs; body is the size, Content-Type text/x.tlog.size.
body 5 "$T/ck7" "${P37[@]}"; post 409
[ "$(cat "$T/body")" = 3 ] && [ "$(wc -c < "$T/body")" = 2 ] || fail "409 body: $(od -c "$T/body")"
[ "$(ctype)" = "text/x.tlog.size" ] || fail "409 content type: $(ctype)"
body 0 "$T/ck7"; post 409
[ "$(cat "$T/body")" = 3 ] || fail "409 (old 0) body"
# 422: a tampered proof, a truncated proof; the state does not move.
bad=$($PY root 2 x); body 3 "$T/ck7" "$bad" "${P37[@]:1}"; post 422
body 3 "$T/ck7" "${P37[@]:1}"; post 422
body 0 "$T/ck7"; post 409; [ "$(cat "$T/body")" = 3 ] || fail "a refused request moved the state"
# 200: the right proof; then the same tree again (a cosignature); 422
# for a proof between equal sizes.
body 3 "$T/ck7" "${P37[@]}"; post 200
body 7 "$T/ck7"; post 200
body 7 "$T/ck7" "${P37[0]}"; post 422
body 7 "$T/ck8" "${P78[@]}"; post 200
expect_mon 200
sed -n 2p "$T/mon" | grep -qx 8 || fail "monitoring is not at size 8"
# Other methods, the body cap.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/add-checkpoint")" = 405 ] || fail "GET add-checkpoint"
head -c 70000 /dev/zero | tr '\0' a > "$T/body.in"; post 413

# 422 for size 0 with a root other than SHA-256(""), on a fresh log.
ZK="$T/zero_example_log.key"
mkck "$ZK" zero.example/log 0 "$($PY root 1)" > "$T/ckz"; body 0 "$T/ckz"; post 422
mkck "$ZK" zero.example/log 0 "$($PY root 0)" > "$T/ckz"; body 0 "$T/ckz"; post 200

# 429: qpd 2880 allows two signed requests that change the record (a
# bucket of 2), then refuses. Requests that cannot change it spend
# nothing: replays of what the witness holds (the same checkpoint again,
# or with old 0), and a larger checkpoint with the wrong old size (409)
# or a bad proof (422). So whoever posts the log's public checkpoints
# cannot use up its quota.
RK="$T/rl_example_log.key"
mkck "$RK" rl.example/log 3 "$R3" > "$T/ckr"; body 0 "$T/ckr"; post 200
mkck "$RK" rl.example/log 7 "$R7" > "$T/ckr7"
for i in 1 2 3; do
    body 3 "$T/ckr"; post 200
    body 0 "$T/ckr"; post 409
    body 0 "$T/ckr7"; post 409
    body 3 "$T/ckr7" "$bad" "${P37[@]:1}"; post 422
done
body 3 "$T/ckr7" "${P37[@]}"; post 200
mkck "$RK" rl.example/log 8 "$R8" > "$T/ckr8"; body 7 "$T/ckr8" "${P78[@]}"; post 429
body 7 "$T/ckr7"; post 200
mkck "$T/evil.key" example.com/log 3 "$R3" > /dev/null # (unsigned requests do not spend tokens)

# Same size, another root: 422, evidence, and the origin is frozen.
SK="$T/split_example_log.key"
mkck "$SK" split.example/log 5 "$($PY root 5)" > "$T/cks1"
mkck "$SK" split.example/log 5 "$($PY root 5 other)" > "$T/cks2"
body 0 "$T/cks1"; post 200
body 5 "$T/cks2"; post 422
grep -q "split view" "$T/body" || fail "split reason: $(cat "$T/body")"
curl -sf "$WURL/evidence" > "$T/evlist" || fail "GET /evidence"
python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert isinstance(l, list) and len(l) == 1, l
e = l[0]
assert e["origin"] == "split.example/log" and len(e["id"]) == 64 and e["kind"] == "same-size", e
assert isinstance(e["found_at"], (int, float)) and e["found_at"] > 1600000000, e
print(e["id"])' "$T/evlist" > "$T/evid" || fail "evidence list: $(cat "$T/evlist")"
ID=$(cat "$T/evid")
curl -sf "$WURL/evidence/$ID" > "$T/ev" || fail "GET /evidence/<id>"
[ "$(sha256sum < "$T/ev" | cut -c1-64)" = "$ID" ] || fail "the id is not the file's SHA-256"
cmp -s "$T/ev" "$T/wdata/evidence/$ID" || fail "no file copy of the evidence"
expect_rc 0 "$G" evidence verify --log-vkey "@$SK.pub" "$T/ev"
grep -q "SPLIT VIEW" "$T/out" || fail "CLI explanation: $(cat "$T/out")"
grep -q "both signed by the key split.example/log+" "$T/out" || fail "CLI names no key: $(cat "$T/out")"
expect_rc 2 "$G" evidence verify --log-vkey "@$LK.pub" "$T/ev"
# Two keys of one name given together may be two logs' keys: a pair whose
# checkpoints no one key verifies proves nothing, whichever key signs the
# smaller root (of each pair's two orders, one is refused as out of order).
"$G" keygen --name split.example/log --out "$T/split2.key" > /dev/null || fail keygen
mkck "$T/split2.key" split.example/log 5 "$($PY root 5 other)" > "$T/cks2b"
mkck "$T/split2.key" split.example/log 5 "$($PY root 5)" > "$T/cks1b"
for pair in "cks1 cks2b" "cks1b cks2"; do
    : > "$T/ev2.out"
    for order in "$pair" "${pair#* } ${pair% *}"; do
        read -r n1 n2 <<< "$order"
        { printf 'glasslog.dev/evidence/v1\n\n'; cat "$T/$n1"; printf '\n'; cat "$T/$n2"; } > "$T/ev2"
        expect_rc 2 "$G" evidence verify --log-vkey "@$SK.pub" --log-vkey "@$T/split2.key.pub" "$T/ev2"
        cat "$T/out" >> "$T/ev2.out"
    done
    grep -q "^INVALID EVIDENCE: no one key verifies both checkpoints" "$T/ev2.out" ||
        fail "two keys of one name ($pair): $(cat "$T/ev2.out")"
done
# A key rotation: checkpoint 1 signed by both keys (the other key's line
# first), checkpoint 2 by the first key only: the key named is the one
# that signed both.
# (both ways round, so that the two-line note is checkpoint 1 in one file)
addsig() { sed -n '1,/^$/p' "$2"; sed '1,/^$/d' "$1"; sed '1,/^$/d' "$2"; }
addsig "$T/cks1b" "$T/cks1" > "$T/cks1ab"
addsig "$T/cks2b" "$T/cks2" > "$T/cks2ab"
SKID=$(cut -d+ -f2 "$SK.pub")
: > "$T/ev2.out"
for order in "cks1ab cks2" "cks2 cks1ab" "cks1 cks2ab" "cks2ab cks1"; do
    read -r n1 n2 <<< "$order"
    { printf 'glasslog.dev/evidence/v1\n\n'; cat "$T/$n1"; printf '\n'; cat "$T/$n2"; } > "$T/ev2"
    "$G" evidence verify --log-vkey "@$T/split2.key.pub" --log-vkey "@$SK.pub" "$T/ev2" >> "$T/ev2.out" 2>&1
done
[ "$(grep -c "^  both signed by the key split.example/log+$SKID$" "$T/ev2.out")" = 2 ] &&
    [ "$(grep -c "^  both signed by the key" "$T/ev2.out")" = 2 ] ||
    fail "a rotation's evidence names another key than the one that signed both ($SKID): $(cat "$T/ev2.out")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/evidence/$(printf 0%.0s $(seq 64))")" = 404 ] || fail "unknown evidence"
mkck "$SK" split.example/log 6 "$($PY root 6)" > "$T/cks3"
body 5 "$T/cks3" $($PY proof 5 6); post 422
grep -q "split view" "$T/body" || fail "frozen reason: $(cat "$T/body")"
curl -s "$WURL/metrics" > "$T/metrics" || fail "witness metrics"
grep -q '^glasslog_witness_split_view_origins 1$' "$T/metrics" || fail "split metric"
check_metrics "$T/metrics"
grep -q "ALARM" "$WOUT" || fail "no alarm line"

# Restart: the state, the evidence and the freeze survive.
stop_witness
start_witness
body 0 "$T/ck8"; post 409; [ "$(cat "$T/body")" = 8 ] || fail "size after restart: $(cat "$T/body")"
expect_mon 200
body 5 "$T/cks3" $($PY proof 5 6); post 422
[ "$(curl -sf "$WURL/evidence" | grep -o "$ID" | head -1)" = "$ID" ] || fail "evidence lost on restart"
stop_witness

# A clock that was far ahead: run with time() 100000 s ahead (test shim
# tests/fault/timeshift.c), the witness cosigns a replay of the zero log
# at that time (its cosignature of it is older than 30 s, so a new one
# is made and written). Restarted with the right clock, it refuses to
# cosign that log (503, logged, /healthz 503) rather than date more
# cosignatures where clients do not count them, and still cosigns others.
SHIFT=${GL_BUILD:-build}/tests/fault/timeshift.so
case "$SHIFT" in /*) ;; *) SHIFT="$(cd "$(dirname "$0")/../.." && pwd)/$SHIFT" ;; esac
[ -f "$SHIFT" ] || fail "no time shim at $SHIFT (make test-build makes it)"
asan=$(ldd "$W" | awk '/libasan/ { print $3 }')
spawn witness env LD_PRELOAD="${asan:+$asan:}$SHIFT" GL_TIME_SHIFT=100000 "$W" \
    --listen 127.0.0.1:0 --data "$T/wdata" --key "$T/w.key" --logs "$T/logs" ||
    fail "witness with its clock ahead did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WOUT=$SPAWN_OUT WURL=$SPAWN_URL
body 0 "$T/ckz"; post 200
{ cat "$T/ckz"; cat "$T/body"; } > "$T/ckz.cosigned"
t=$($PY cosig "$T/w.key.pub" "$T/ckz.cosigned") || fail "cosignature with the clock ahead"
[ "$t" -gt $(($(date +%s) + 99000)) ] || fail "the shim did not move the clock: $t"
stop_witness
start_witness
body 0 "$T/ckz"; post 503
grep -q "in the future" "$T/body" || fail "503 reason: $(cat "$T/body")"
grep -q "zero.example/log: refusing to cosign" "$WOUT" || fail "no log line: $(tail -3 "$WOUT")"
code=$(curl -s -o "$T/hz" -w '%{http_code}' "$WURL/healthz")
[ "$code" = 503 ] && grep -q "in the future" "$T/hz" || fail "/healthz $code: $(cat "$T/hz")"
body 8 "$T/ck8"; post 200
stop_witness
# Another witness key on this data directory is refused.
"$G" keygen --name witness.example/w2 --cosigner --out "$T/w2.key" > /dev/null || fail keygen
expect_rc 1 "$W" --data "$T/wdata" --key "$T/w2.key" --logs "$T/logs" --listen 127.0.0.1:0
expect_err "belongs to witness key"
echo "10-witness-protocol: ok"
