# Goal: glasslogd end to end on loopback: --create rules, appends and
# dedup, every tile/bundle/root against an independent recomputation
# (tlog.py), proofs from the API verifying independently, every bad-input
# class answering its status with a JSON reason and leaving the tree
# unchanged, 503 back-pressure, clean SIGTERM, and restart keeping
# everything (and refusing a different key).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
loadgen_tool
G="$GL_BIN/glasslog"
PY="python3 $(dirname "$0")/tlog.py"
make_keys

# A missing data dir without --create is refused; so is --create on data.
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" --submitters "$T/submitters"
expect_err "missing or empty"
start_log "$T/data" --create --batch-ms 2
expect_http 200 GET /checkpoint
"$G" note verify --vkey "@$T/log.key.pub" "$T/body" > "$T/ck0" || fail "size-0 checkpoint does not verify"
[ "$(sed -n 2p "$T/ck0")" = 0 ] || fail "new log is not at size 0"
[ "$(sed -n 3p "$T/ck0")" = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" ] || fail "empty root"
expect_http 200 GET /healthz

# 600 appends (three bundles, partial tiles on two levels), in parallel:
# 16 by the CLI (prod-N 1.N, looked up below) among 584 by the load
# generator.
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 584 -c 6 --seed 2 \
    > "$T/lg.out" 2>&1 &
LG=$!
seq 16 | xargs -P 4 -I{} sh -c "$(declare -f append_one fail); T='$T' GL_BIN='$GL_BIN' \
    LOG_URL='$LOG_URL' append_one prod-{} 1.{} > '$T/a.{}' || exit 255" || fail "appends failed"
wait "$LG" || fail "loadgen: $(tail -3 "$T/lg.out")"
grep -h '^index' "$T"/a.* | sort -u | wc -l | grep -qx 16 || fail "16 distinct indices"
expect_http 200 GET /checkpoint
"$G" note verify --vkey "@$T/log.key.pub" "$T/body" > "$T/ck1" || fail "checkpoint verify"
[ "$(sed -n 2p "$T/ck1")" = 600 ] || fail "size after 600 appends: $(sed -n 2p "$T/ck1")"
$PY check-tiles "$LOG_URL" || fail "tiles differ from the recomputation"
$PY check-proofs "$LOG_URL" 40 || fail "proofs do not verify"

# Dedup: the same signed bytes again answer 200 with the original index.
append_one dup 1 --out "$T/dup.tlog-proof" > "$T/dup1" || fail "append dup"
sed -n 's/^extra //p' "$T/dup.tlog-proof" | base64 -d > "$T/dup.st"
expect_http 200 POST /api/v1/add --data-binary "@$T/dup.st"
grep -q '"duplicate":true' "$T/body" || fail "resubmission not marked duplicate"
grep -q "\"index\":$(sed -n 's/^index //p' "$T/dup1")," "$T/body" || fail "duplicate got another index"
expect_http 200 POST /api/v1/add --data-binary "@$T/dup.st" -H 'Content-Type: application/json'
expect_http 200 GET /checkpoint
cp "$T/body" "$T/ck-before-bad"

# Bad input: each class answers its status with a JSON reason.
printf 'not a statement\n' > "$T/junk"
expect_http 400 POST /api/v1/add --data-binary "@$T/junk"
grep -q '"error":"malformed statement' "$T/body" || fail "400 reason"
sed 's/^version 1$/version 2/' "$T/dup.st" > "$T/tampered.st"
expect_http 403 POST /api/v1/add --data-binary "@$T/tampered.st"
grep -q 'does not verify' "$T/body" || fail "bad signature reason"
"$G" append --log "$LOG_URL" --key "$T/other.key" --kind build --subject x --version 1 \
    --sha256 "$(printf x | sha256sum | cut -c1-64)" > /dev/null 2> "$T/err" && fail "intruder append accepted"
grep -q "unknown submitter" "$T/err" || fail "403 unknown submitter: $(cat "$T/err")"
head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big"
expect_http 413 POST /api/v1/add --data-binary "@$T/big"
expect_http 404 GET /nope
grep -q '"error"' "$T/body" || fail "404 has no JSON reason"
expect_http 405 GET /api/v1/add
expect_http 405 POST /checkpoint
expect_http 400 GET /tile/0/1
expect_http 400 GET /tile/0/000.p/0
expect_http 404 GET /tile/0/003
expect_http 404 GET /tile/0/002.p/90
expect_http 200 GET /tile/0/002.p/89
expect_http 200 GET /tile/0/002.p/1
expect_http 200 GET /tile/1/000.p/2
expect_http 404 GET /tile/1/000.p/3
expect_http 404 GET /tile/2/000.p/1
expect_http 404 GET /tile/entries/003
expect_http 400 GET '/api/v1/proof/inclusion?index=abc'
expect_http 400 GET '/api/v1/proof/inclusion?index=1&leaf_hash=00'
# past this server's tree: 404 naming its size (another front-end on the
# same store, or this one later, may have it), not a permanent-looking 400
expect_http 404 GET '/api/v1/proof/inclusion?index=700'
grep -q '"error":"index 700 is past this server.s tree (size 601)"' "$T/body" || fail "404 reason: $(cat "$T/body")"
expect_http 404 GET '/api/v1/proof/inclusion?index=1&tree_size=700'
grep -q '"error":"tree_size 700 is past this server.s tree (size 601)"' "$T/body" || fail "404 reason: $(cat "$T/body")"
expect_http 404 GET "/api/v1/proof/inclusion?leaf_hash=$(printf 'no' | sha256sum | cut -c1-64)"
expect_http 400 GET '/api/v1/proof/consistency?first=5&second=4'
expect_http 404 GET '/api/v1/proof/consistency?first=1&second=100000'
expect_http 400 GET '/api/v1/proof/consistency?first=0&second=5' # RFC 9162: 0 < first
grep -q '"error":"first must be at least 1"' "$T/body" || fail "first=0 reason: $(cat "$T/body")"
# a parameter given twice is refused, naming it; a cache-buster is ignored
expect_http 400 GET '/api/v1/proof/inclusion?index=7&index=8'
grep -q '"error":"parameter index is given more than once"' "$T/body" || fail "duplicate reason: $(cat "$T/body")"
expect_http 200 GET '/api/v1/proof/inclusion?index=7&nocache'
grep -q '"index":7,' "$T/body" || fail "a cache-buster changed the answer: $(cat "$T/body")"
expect_http 404 GET /api/v1/entries/601
expect_http 400 GET /api/v1/entries/-1
expect_http 400 GET '/api/v1/lookup?sha256=XYZ'
expect_http 200 GET /checkpoint
cmp -s "$T/body" "$T/ck-before-bad" || fail "bad input changed the checkpoint"

# Headers: tiles immutable, checkpoint short-lived, Content-Type exact.
curl -s -D "$T/h" -o /dev/null "$LOG_URL/tile/0/000"
grep -qi '^cache-control: public, max-age=31536000, immutable' "$T/h" || fail "tile cache-control"
grep -qi '^content-type: application/octet-stream' "$T/h" || fail "tile content-type"
grep -qi '^content-length: 8192' "$T/h" || fail "tile content-length"
curl -s -D "$T/h" -o /dev/null "$LOG_URL/checkpoint"
grep -qi '^content-type: text/plain; charset=utf-8' "$T/h" || fail "checkpoint content-type"
grep -qi '^cache-control: public, max-age=2' "$T/h" || fail "checkpoint cache-control"
# errors are the state of the moment: no cache (CDN) may keep them
for p in /tile/0/003 /tile/0/1 '/api/v1/proof/inclusion?index=700'; do
    curl -s -D "$T/h" -o /dev/null "$LOG_URL$p"
    grep -qi '^cache-control: no-store' "$T/h" || fail "error answer to $p is cacheable: $(cat "$T/h")"
done

# Lookup by artifact digest.
expect_http 200 GET "/api/v1/lookup?sha256=$(printf 'prod-7 1.7' | sha256sum | cut -c1-64)"
grep -q '"statements":\[{"index":' "$T/body" || fail "lookup found nothing"
expect_http 200 GET "/api/v1/lookup?sha256=$(printf 'unknown' | sha256sum | cut -c1-64)"
grep -q '"statements":\[\]' "$T/body" || fail "lookup of an unknown artifact"
grep -q '"tree_size":601[,}]' "$T/body" || fail "lookup answer without its tree size: $(cat "$T/body")"
# By subject, and by subject and version: the statements' own fields,
# checked independently (python), and their proofs against the checkpoint.
lookup_fields() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for s in d["statements"]:
    f = dict(l.split(" ", 1) for l in s["statement"].split("\n")[1:6])
    print(s["index"], f["subject"], f["version"])' "$T/body"
}
expect_http 200 GET '/api/v1/lookup?subject=prod-7'
[ "$(lookup_fields | cut -d' ' -f2-)" = "prod-7 1.7" ] || fail "lookup by subject: $(cat "$T/body")"
expect_http 200 GET '/api/v1/lookup?subject=prod-7&version=1.7'
[ "$(lookup_fields | cut -d' ' -f2-)" = "prod-7 1.7" ] || fail "lookup by subject and version"
expect_http 200 GET '/api/v1/lookup?subject=prod%2D7&version=1%2e7'   # percent-encoded
[ "$(lookup_fields | cut -d' ' -f2-)" = "prod-7 1.7" ] || fail "percent-encoded lookup"
expect_http 200 GET '/api/v1/lookup?subject=prod-7&version=1.8'
grep -q '"statements":\[\]' "$T/body" || fail "lookup of another version"
expect_http 200 GET '/api/v1/lookup?subject=prod'
grep -q '"statements":\[\]' "$T/body" || fail "a subject is not a prefix match"
for q in 'version=1.7' 'subject=' 'subject=a%20b' 'subject=a%2' 'subject=a%zz' \
    "subject=prod-7&sha256=$(printf x | sha256sum | cut -c1-64)"; do
    expect_http 400 GET "/api/v1/lookup?$q"
done
expect_http 200 GET /metrics
grep -q '^glasslog_tree_size 601' "$T/body" || fail "metrics tree size"
grep -q '^glasslog_integrate_seconds_count' "$T/body" || fail "metrics histogram"
cp "$T/body" "$T/metrics" && check_metrics "$T/metrics"

# Clean stop, restart keeps everything; other keys and --create refused.
stop_log
start_log "$T/data" --create && fail "--create on existing data accepted"
grep -q "has data" "$LOG_OUT" || fail "--create refusal reason"
"$G" keygen --name example.com/log --out "$T/log2.key" > /dev/null
"$GL_BIN/glasslogd" --data "$T/data" --key "$T/log2.key" --submitters "$T/submitters" \
    --listen 127.0.0.1:0 2> "$T/err" && fail "another key accepted the data"
grep -q "belongs to log key" "$T/err" || fail "other-key refusal reason: $(cat "$T/err")"
start_log "$T/data"
expect_http 200 GET /checkpoint
cmp -s "$T/body" "$T/ck-before-bad" || fail "restart changed the checkpoint"
append_one after-restart 1 > /dev/null || fail "append after restart"
# The longest subject and version (256 bytes each, a 513-byte index key)
# are indexed and found together.
LS=$(printf 's%.0s' $(seq 256))
LV=$(printf 'v%.0s' $(seq 256))
append_one "$LS" "$LV" > /dev/null || fail "append with the longest subject and version"
expect_http 200 GET "/api/v1/lookup?subject=$LS&version=$LV"
[ "$(lookup_fields | cut -d' ' -f2-)" = "$LS $LV" ] ||
    fail "lookup by the longest subject and version: $(head -c 300 "$T/body")"
$PY check-tiles "$LOG_URL" || fail "tiles after restart"
stop_log

# Back-pressure: a pool of 1 answers 503 with Retry-After.
start_log "$T/data" --pool-max 1 --batch-ms 3000
append_one slow 1 > /dev/null &
sleep 0.5
curl -s -D "$T/h" -o "$T/body" -X POST --data-binary "@$T/dup.st" "$LOG_URL/api/v1/add"
grep -q '^HTTP/1.1 503' "$T/h" || fail "full pool did not answer 503: $(head -1 "$T/h")"
grep -qi '^retry-after: 1' "$T/h" || fail "503 without Retry-After"
wait $! || fail "the slow append failed"
stop_log

# Block mode with no witness reachable: no checkpoint is served, so a
# lookup answers 503 with Retry-After (as /checkpoint does), never "none"
# for an entry that is logged.
make_witness_keys 1
echo "witness w1 $(cat "$T/w1.key.pub") http://127.0.0.1:$PORT1" > "$T/witnesses"
echo "quorum w1" >> "$T/witnesses"
start_log "$T/data-block" --create --batch-ms 2 --witnesses "$T/witnesses"
curl -s -o /dev/null --max-time 20 --data-binary "@$T/dup.st" "$LOG_URL/api/v1/add" &
APID=$!
wait_until 10 curl -sf -o /dev/null "$LOG_URL/api/v1/entries/0" || fail "the append was not logged"
expect_http 503 GET /checkpoint
curl -s -D "$T/h" -o "$T/body" "$LOG_URL/api/v1/lookup?sha256=$(printf 'dup 1' | sha256sum | cut -c1-64)"
grep -q '^HTTP/1.1 503' "$T/h" || fail "lookup without a served checkpoint: $(head -1 "$T/h") $(cat "$T/body")"
grep -qi '^retry-after: 1' "$T/h" || fail "lookup 503 without Retry-After"
grep -qi '^cache-control: no-store' "$T/h" || fail "lookup 503 is cacheable"
grep -q '"error":"no checkpoint with a witness quorum yet"' "$T/body" || fail "503 reason: $(cat "$T/body")"
# (a clean stop would wait 3 s for the witness: SIGTERM is tested above)
kill -KILL "$LOG_PID" "$APID" 2>/dev/null
wait "$LOG_PID" "$APID" 2>/dev/null
echo "02-log-api: ok"
