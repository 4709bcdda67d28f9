# Goal: a mirror serves glasslogd's JSON read API from its own copy, byte
# for byte glasslogd's answers for the same tree. A log pushes to a mirror
# (hosted by witness 1); once both serve the same checkpoint (the log's,
# with the mirror's cosignature), every answer of the mirror under
# /mirror/<hex>/api/v1/ (entries, inclusion proofs by index, by leaf hash
# and in smaller trees, consistency proofs, lookups by artifact digest,
# subject, subject and version, percent-encoded subject) equals the log's,
# status and bytes, errors (400, 404) included; the leaf hashes are
# recomputed here and the lookups' proofs embed the mirror checkpoint as
# served. Then the log grows without the mirror: entries beyond the mirror
# checkpoint are 404 there, lookups do not report them, proofs in the
# mirror's tree still equal the log's; an origin not mirrored is 404.
# Finally, with the log stopped, `glasslog lookup FILE --log LOG,MIRROR`
# finds and verifies the statement through the mirror (bundle verified
# offline), `get proof` works through it, and a client that remembers the
# log's larger checkpoint refuses the mirror's smaller one (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
mirror_setup
OTHER="$MURL/mirror/$(printf %s other.example/log | sha256sum | cut -c1-64)"
start_log "$T/data" --create --batch-ms 2 --mirrors "$T/mirrors"
policy "$T/p.none" "log $LOGK" "submitter $SUBK" "quorum none"
digest() { printf '%s' "$1" | sha256sum | cut -c1-64; }

for v in 1.1 1.2 1.3 1.4 1.5; do append_one my-app "$v" > /dev/null || fail "append $v"; done
append_one lib-z 0.1 > /dev/null || fail "append lib-z"
# the mirror holds all 6 entries and the log serves its cosignature
wait_until 30 sh -c "[ \"\$(curl -sf $MIRROR/checkpoint | sed -n 2p)\" = 6 ] &&
    curl -sf $LOG_URL/checkpoint | grep -q '^— mirror1.example '" ||
    fail "the mirror never reached size 6: $(curl -s "$MIRROR/checkpoint"; grep mirror "$LOG_OUT" | tail -3)"
curl -sf "$LOG_URL/checkpoint" > "$T/ck.log" && curl -sf "$MIRROR/checkpoint" > "$T/ck.mirror" ||
    fail "cannot read the checkpoints"
cmp -s "$T/ck.log" "$T/ck.mirror" || fail "the log and the mirror serve different checkpoints"

# get BASE PATH NAME: body into $T/NAME, status into CODE
get() { CODE=$(curl -s -o "$T/$3" -w '%{http_code}' "$1/$2"); }
# same CODE PATH: the log and the mirror answer PATH with CODE and the same bytes
NSAME=0
same() {
    local c1 c2
    c1=$(curl -s -o "$T/a.log" -w '%{http_code}' "$LOG_URL/$2")
    c2=$(curl -s -o "$T/a.mirror" -w '%{http_code}' "$MIRROR/$2")
    [ "$c1" = "$1" ] || fail "the log answered $2 with $c1, want $1: $(cat "$T/a.log")"
    [ "$c2" = "$1" ] || fail "the mirror answered $2 with $c2, want $1: $(cat "$T/a.mirror")"
    cmp -s "$T/a.log" "$T/a.mirror" ||
        fail "$2: the mirror's answer differs from the log's: $(cat "$T/a.mirror") vs $(cat "$T/a.log")"
    NSAME=$((NSAME + 1))
}
# idx FILE: the "index" values of a JSON answer, space-separated
idx() { grep -o '"index":[0-9]*' "$1" | cut -d: -f2 | tr '\n' ' '; }
leaf() { sed -n 's/.*"leaf_hash":"\([0-9a-f]\{64\}\)".*/\1/p' "$1"; }

for i in 0 3 5; do
    same 200 "api/v1/entries/$i"
    cp "$T/a.mirror" "$T/entry.$i"
    LEAF=$(leaf "$T/a.mirror")
    same 200 "api/v1/proof/inclusion?index=$i"
    same 200 "api/v1/proof/inclusion?leaf_hash=$LEAF"
    [ "$(idx "$T/a.mirror")" = "$i " ] && grep -q '"tree_size":6,' "$T/a.mirror" ||
        fail "inclusion by leaf hash: $(cat "$T/a.mirror")"
    same 200 "api/v1/proof/inclusion?index=$i&tree_size=$((i + 1))"
done
for q in "first=1&second=6" "first=3&second=5" "first=6&second=6"; do
    same 200 "api/v1/proof/consistency?$q"
done
same 200 "api/v1/lookup?sha256=$(digest 'my-app 1.3')"
[ "$(idx "$T/a.mirror")" = "2 " ] || fail "lookup by digest: $(cat "$T/a.mirror")"
# each entry's leaf hash is the RFC 9162 hash of its statement, and the
# lookup's proof embeds the mirror checkpoint as the mirror serves it
python3 - "$T" <<'PY' || fail "the mirror's entries or lookup proof do not check out"
import hashlib, json, sys
t = sys.argv[1]
for i in (0, 3, 5):
    j = json.load(open("%s/entry.%d" % (t, i)))
    assert j["index"] == i, j
    assert hashlib.sha256(b"\0" + j["statement"].encode()).hexdigest() == j["leaf_hash"], j
proof = json.load(open(t + "/a.mirror"))["statements"][0]["proof"]
assert open(t + "/ck.mirror").read() in proof, proof
PY
same 200 "api/v1/lookup?subject=my-app"
[ "$(idx "$T/a.mirror")" = "0 1 2 3 4 " ] || fail "lookup by subject: $(cat "$T/a.mirror")"
same 200 "api/v1/lookup?subject=my-app&version=1.2"
[ "$(idx "$T/a.mirror")" = "1 " ] || fail "lookup by version: $(cat "$T/a.mirror")"
same 200 "api/v1/lookup?subject=lib%2dz"
[ "$(idx "$T/a.mirror")" = "5 " ] || fail "lookup by encoded subject: $(cat "$T/a.mirror")"
same 200 "api/v1/lookup?sha256=$(digest nothing)"
[ "$(cat "$T/a.mirror")" = '{"statements":[],"tree_size":6}' ] || fail "lookup of nothing: $(cat "$T/a.mirror")"
# errors: the same statuses and reasons
same 404 "api/v1/entries/6"
same 404 "api/v1/proof/inclusion?leaf_hash=$(digest nothing)"
same 404 "api/v1/proof/inclusion?index=1&tree_size=7" # past the tree: maybe a lagging server
same 404 "api/v1/proof/consistency?first=1&second=7"
for p in "api/v1/entries/x1" "api/v1/entries/-1" "api/v1/proof/inclusion" \
    "api/v1/proof/inclusion?index=1&leaf_hash=$LEAF" "api/v1/proof/consistency?first=0&second=6" \
    "api/v1/proof/inclusion?index=%31" "api/v1/proof/inclusion?index=4&tree_size=3" \
    "api/v1/proof/consistency?first=3" "api/v1/proof/consistency?first=5&second=3" \
    "api/v1/lookup" "api/v1/lookup?sha256=ABC" \
    "api/v1/lookup?sha256=$(digest x)&subject=my-app" "api/v1/lookup?version=1.2" \
    "api/v1/lookup?subject=a%20b" "api/v1/lookup?subject"; do
    same 400 "$p"
done
grep -q '"error":' "$T/a.mirror" || fail "a 400 without a JSON reason: $(cat "$T/a.mirror")"
[ "$NSAME" = 39 ] || fail "compared $NSAME answers, want 39"

# the log grows without its mirror: the mirror stays at its checkpoint
stop_log
start_log "$T/data" --batch-ms 2
for v in 2.1 2.2 2.3; do append_one my-app "$v" > /dev/null || fail "append $v"; done
[ "$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)" = 9 ] || fail "the log is not at 9"
[ "$(curl -sf "$MIRROR/checkpoint" | sed -n 2p)" = 6 ] || fail "the mirror moved"
get "$LOG_URL" api/v1/entries/7 e7.log
[ "$CODE" = 200 ] || fail "the log lacks entry 7"
for i in 6 7 8 9; do
    get "$MIRROR" "api/v1/entries/$i" e
    [ "$CODE" = 404 ] || fail "the mirror served entry $i beyond its checkpoint: $(cat "$T/e")"
done
get "$MIRROR" "api/v1/proof/inclusion?leaf_hash=$(leaf "$T/e7.log")" e
[ "$CODE" = 404 ] || fail "inclusion of entry 7 at the mirror: $CODE $(cat "$T/e")"
get "$MIRROR" "api/v1/lookup?sha256=$(digest 'my-app 2.2')" e
[ "$CODE $(cat "$T/e")" = '200 {"statements":[],"tree_size":6}' ] ||
    fail "the mirror reported an entry beyond its checkpoint: $(cat "$T/e")"
get "$MIRROR" "api/v1/lookup?subject=my-app" e
[ "$(idx "$T/e")" = "0 1 2 3 4 " ] || fail "lookup at the mirror: $(cat "$T/e")"
same 200 "api/v1/proof/inclusion?index=4&tree_size=6"
same 200 "api/v1/proof/consistency?first=2&second=6"
for p in checkpoint api/v1/entries/0 "api/v1/lookup?subject=my-app"; do
    get "$OTHER" "$p" e
    [ "$CODE" = 404 ] || fail "an origin not mirrored answered $p: $CODE"
done
# a client that saw the log at 9 (quorum none) remembers it
printf 'my-app 1.3' > "$T/app.bin"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/p.none" --state "$T/s9" "$T/app.bin"

# the log is down: lookup, get entry and get proof go through the mirror
stop_log
expect_rc 0 "$G" lookup --log "$LOG_URL,$MIRROR" --policy "$T/policy" --state "$T/s" \
    --out "$T/bundles" "$T/app.bin" --timeout 5
expect_out "^index 2: build my-app 1.3, sha256 $(digest 'my-app 1.3')"
expect_out "in log example.com/log at tree size 6"
expect_err "1 statements\? found, 1 verified"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$T/bundles/2.tlog-proof" --artifact "$T/app.bin"
grep -q '^— mirror1.example ' "$T/bundles/2.tlog-proof" || fail "the bundle lacks the mirror cosignature"
expect_rc 0 "$G" get proof inclusion --index 2 --log "$LOG_URL,$MIRROR" --timeout 5
[ "$(wc -l < "$T/out")" -ge 1 ] || fail "no proof hashes"
# past the mirror's tree, with the log down: the mirror's 404 is not the
# log's, so not found is not established (3, not 1)
expect_rc 3 "$G" get entry 7 --log "$LOG_URL,$MIRROR" --timeout 5
expect_err "not every URL answered"
# the mirror's smaller checkpoint with the log down: the proof to 9 is
# not shown missing (the log did not answer), so an I/O failure (3), not
# a failed verification (2: test 24, tiles missing from every URL)
expect_rc 3 "$G" lookup --log "$LOG_URL,$MIRROR" --policy "$T/policy" --state "$T/s9" \
    "$T/app.bin" --timeout 5
expect_err "smaller than the size 9"
expect_err "Failed to connect"
stop_witness 1
echo "55-mirror-api: ok"
