# Goal: the C2SP tlog-mirror role of glasslog-witness, checked by an
# independent Python client (mirror.py: subtree proofs and packages written
# from the spec). A fake log (Python-signed checkpoints) drives every
# add-entries status: 404 unknown origin; 409 for an unknown or stale
# upload_end and an upload_start beyond the next entry (with mirror info);
# 400 for a malformed header, a body without a whole package and trailing
# bytes; 422 for a flipped proof hash, an altered entry, a proof into the
# wrong tree and a 64-hash proof; refused packages of the wrong boundaries;
# 202 after a truncated body, resumed to 200 (gzip); already stored entries
# skipped; an unaligned start over stored entries; 409 for an upload_start
# more than one package below the next entry's package. gzip bodies: a bad
# CRC, a plain body labelled gzip and a truncated member are 400
# "malformed gzip body", two members are read whole. The mirror listener's
# own limits: a body announced over 34 MiB gets 413 before it is sent, a
# fifth connection from one address is closed at once; it and the witness
# listener share the connections the descriptor limit allows. A 1 MiB budget
# of add-entries bytes in flight (--mirror-inflight-mb): while a gzip bomb
# decodes past it, an add-entries gets 503 with Retry-After and a one-line
# reason; every byte comes back (answered, or its client gone) and an
# upload is then taken. Tickets: an
# upload_end the mirror no longer remembers is taken on the ticket of its
# mirror info (202 then 200), and forged, truncated, oversized (400) or
# other-origin tickets are not trusted. The mirror checkpoint is
# the log's note plus a mirror cosignature that verifies independently (and
# no witness cosignature), its tiles equal a recomputation, and it survives
# a clean restart; an upload interrupted by kill -9 resumes from the
# durable next entry. Then a real glasslogd is mirrored and every tile and
# entry bundle the mirror serves equals the log's byte for byte. A mirror
# key equal to the witness key, or a mirror line without --mirror-key, is
# refused at start.
. "$(dirname "$0")/lib.sh"
need_py_crypto
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
PY="$(dirname "$0")/mirror.py"
TLOG="$(dirname "$0")/tlog.py"
loadgen_tool

mirror_keys
"$G" keygen --name fake.example/log --out "$T/fake.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\nmirror\nvkey %s\nmirror\n' "$(cat "$T/fake.key.pub")" \
    "$(cat "$T/log.key.pub")" > "$T/logs"
FHEX=$(printf %s fake.example/log | sha256sum | cut -c1-64)
LHEX=$(printf %s example.com/log | sha256sum | cut -c1-64)

# refused configurations
expect_rc 1 "$W" --listen 127.0.0.1:0 --data "$T/bad1" --create --key "$T/w1.key" --logs "$T/logs"
grep -q "need --mirror-key (a mirror line without it)" "$T/err" || fail "mirror line without key: $(cat "$T/err")"
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs-plain"
expect_rc 1 "$W" --listen 127.0.0.1:0 --data "$T/bad1b" --create --key "$T/w1.key" \
    --logs "$T/logs-plain" --mirror-max-logs 2
grep -q "need --mirror-key (--mirror-max-logs without it)" "$T/err" ||
    fail "--mirror-max-logs without key: $(cat "$T/err")"
expect_rc 1 "$W" --listen 127.0.0.1:0 --data "$T/bad2" --create --key "$T/w1.key" --logs "$T/logs" \
    --mirror-key "$T/w1.key"
grep -q "name of its own" "$T/err" || fail "witness key as mirror key: $(cat "$T/err")"

start_m() {
    start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT"
    wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
}
start_m
# the mirror listener's own limits: bodies over 34 MiB refused (413) before
# they are read, at most 4 connections from one address
python3 "$PY" limits "$MURL" $((34 << 20)) 4 || fail "mirror listener limits"
python3 "$PY" protocol "$MURL" "$T/fake.key" > "$T/line" || fail "protocol cases"
grep -q "^— mirror1.example " "$T/line" || fail "200 body: $(cat "$T/line")"
python3 "$PY" serve-check "$MURL/mirror/$FHEX" "$T/fake.key" "$T/m1.key.pub" 1000 ||
    fail "mirror checkpoint"
python3 "$TLOG" check-tiles "$MURL/mirror/$FHEX" || fail "mirror tiles differ from a recomputation"
# its JSON entries: text whole, entries with a NUL or not UTF-8 refused (422)
python3 "$PY" api-entries "$MURL/mirror/$FHEX" "$T/fake.key" || fail "JSON entries of binary entries"
# the read API is on the witness listener too; the witness's own monitoring
# endpoint is distinct and carries the witness cosignature, not the mirror's
WURL="http://127.0.0.1:$PORT1"
curl -sf "$WURL/mirror/$FHEX/checkpoint" | cmp -s - <(curl -sf "$MURL/mirror/$FHEX/checkpoint") ||
    fail "the two listeners serve different mirror checkpoints"
curl -sf "$WURL/$FHEX/checkpoint" > "$T/wck" || fail "witness monitoring endpoint"
grep -q "^— witness1.example " "$T/wck" || fail "witness checkpoint lacks its cosignature"
grep -q "^— mirror1.example " "$T/wck" && fail "witness checkpoint carries the mirror's cosignature"
grep -q "^— witness1.example " <(curl -sf "$MURL/mirror/$FHEX/checkpoint") &&
    fail "mirror checkpoint carries the witness cosignature"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$MURL/mirror/$FHEX/tile/0/003.p/233")
[ "$CODE" = 404 ] || fail "a tile beyond the mirror checkpoint answered $CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$MURL/mirror/$LHEX/checkpoint")
[ "$CODE" = 404 ] || fail "a log not mirrored yet answered $CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$MURL/mirror/$FHEX/tile/0/x1")
[ "$CODE" = 400 ] || fail "a malformed tile path answered $CODE"

curl -sf "$WURL/metrics" > "$T/metrics" || fail "metrics"
grep -q '^glasslog_mirror_size{origin="fake.example/log"} 1000$' "$T/metrics" ||
    fail "mirror size metric: $(grep mirror "$T/metrics")"
grep -q '^glasslog_mirror_next_entry{origin="fake.example/log"} 1000$' "$T/metrics" ||
    fail "next entry metric"

# clean restart: the same checkpoint and tiles
curl -sf "$MURL/mirror/$FHEX/checkpoint" > "$T/ck1"
stop_witness 1
start_m
curl -sf "$MURL/mirror/$FHEX/checkpoint" | cmp -s - "$T/ck1" || fail "checkpoint changed on restart"
python3 "$TLOG" check-tiles "$MURL/mirror/$FHEX" || fail "tiles after restart"

# kill -9 after a 202: the next entry is durable, the upload resumes
python3 "$PY" partial "$MURL" "$T/fake.key" || fail "partial upload"
kill -9 "$WPID1"; wait "$WPID1" 2>/dev/null
start_m
python3 "$PY" resume "$MURL" "$T/fake.key" || fail "resume after kill -9"
python3 "$PY" serve-check "$MURL/mirror/$FHEX" "$T/fake.key" "$T/m1.key.pub" 1500 ||
    fail "mirror checkpoint after resume"
python3 "$TLOG" check-tiles "$MURL/mirror/$FHEX" || fail "tiles after resume"

# tickets: an upload_end out of the mirror's memory, taken on its ticket
python3 "$PY" tickets "$MURL" "$T/fake.key" || fail "tickets"
python3 "$PY" serve-check "$MURL/mirror/$FHEX" "$T/fake.key" "$T/m1.key.pub" 1609 ||
    fail "mirror checkpoint after the ticket uploads"

# a 1 MiB budget for add-entries in flight: 503 with Retry-After past it,
# every byte given back (answered or client gone), then an upload is taken
stop_witness 1
start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" \
    --mirror-inflight-mb 1
wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
python3 "$PY" budget "$MURL" "$T/fake.key" "$WURL" || fail "in-flight budget"
# the two listeners share the connections the descriptors allow: the
# mirror's at most half, the witness API the rest
python3 - "$WOUT1" <<'PY' || fail "the listeners' connections exceed the descriptor budget"
import re, sys
log = open(sys.argv[1]).read()
total = int(re.search(r"http: open-file limit .*: (\d+) connections", log).group(1))
m, w = map(int, re.search(r"mirror .*: (\d+) connections, the witness API (\d+)", log).groups())
assert m + w <= total and 0 < m <= total // 2 and w > 0, (total, m, w)
PY
python3 "$PY" serve-check "$MURL/mirror/$FHEX" "$T/fake.key" "$T/m1.key.pub" 1620 ||
    fail "mirror checkpoint after the budget"
# on the mirror listener only add-entries takes more than 64 KiB: a
# larger body to any other route is refused (413), never copied
head -c $((1 << 20)) /dev/zero > "$T/1mib"
for p in /add-checkpoint "/mirror/$FHEX/checkpoint" /metrics; do
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/1mib" "$MURL$p")
    [ "$CODE" = 413 ] && [ "$(cat "$T/body")" = "request body too large" ] ||
        fail "1 MiB to $p: $CODE $(head -c 200 "$T/body")"
done

# a real glasslogd, mirrored: tiles and bundles byte for byte
start_log "$T/data" --create --batch-ms 2
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 700 -c 4 --seed 50 > "$T/lg.out" 2> "$T/lg.err" ||
    fail "loadgen: $(tail -3 "$T/lg.err")"
wait_until 10 sh -c "[ \"\$(curl -sf $LOG_URL/checkpoint | sed -n 2p)\" = 700 ]" || fail "log size"
python3 "$PY" upload "$MURL" "$LOG_URL" > "$T/up" || fail "upload from the log"
[ "$(cat "$T/up")" = "700 1" ] || fail "upload: $(cat "$T/up")"
N=$(python3 "$PY" same-tiles "$LOG_URL" "$MURL/mirror/$LHEX") || fail "tiles differ from the log's"
[ "$N" = 7 ] || fail "compared $N tiles, want 7 (3 level-0 tiles, 3 bundles, 1 level-1 tile)"
stop_log
stop_witness 1
echo "50-mirror-protocol: ok"
