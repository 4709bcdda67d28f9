# Goal: the rule for a 409 whose next entry is past upload_end
# (specs/mirror.md, "Too far below"): the mirror keeps tlog-mirror's 409
# for an upload starting too far below its next entry, and a client
# retrying with the advertised next entry clamped to upload_end (the
# empty upload) gets the cosignature. A fake log (mirror.py below): the
# copy holds [0, 512) of a pending 600; [0, 300), the pending 300, with
# its packages is 409 "300 512"; the empty upload of 300 is 200; [512,
# 600) completes the copy.
. "$(dirname "$0")/lib.sh"
need_py_crypto
PY="$(dirname "$0")/mirror.py"
mirror_keys
"$GL_BIN/glasslog" keygen --name fake.example/log --out "$T/fake.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\nmirror\n' "$(cat "$T/fake.key.pub")" > "$T/logs"
FHEX=$(printf %s fake.example/log | sha256sum | cut -c1-64)
start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT"
wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
python3 "$PY" below "$MURL" "$T/fake.key" || fail "uploads below the next entry"
[ "$(curl -sf "$MURL/mirror/$FHEX/checkpoint" | sed -n 2p)" = 600 ] ||
    fail "the mirror checkpoint is not 600"
stop_witness 1
echo "87-mirror-below: ok"
