# Goal: `glasslog lookup` and `glasslog get` against a live glasslogd:
# append, then lookup (every statement verified, bundles saved with --out
# and verified offline again), not found (exit 1), the state directory
# (first checkpoint remembered, then only moved forward after a verified
# consistency proof), a remembered checkpoint the log cannot extend (fork
# evidence, exit 2), and a log that tampers with its lookup answers
# (tools/tamper_proxy.py: statement, proof, checkpoint, leaf hash) refused
# with the failed check named. Retries on 503 and gzip are exercised too.
# append: an unwritable --out still prints the index (exit 3), an existing
# one is refused before the append (exit 3, nothing appended); an index
# beyond what a JSON number holds exactly is a malformed answer (exit 2).
# A statement about the customer's file by another submitter of the log,
# whose key the policy does not list, does not count (exit 0, listed and
# counted); only such statements: none found (exit 1). A state lock that
# cannot be taken and `get entry` without one index are reported (exit 3).
# A lookup answer of more than one page (100 statements) is followed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub")
cat "$T/other.key.pub" >> "$T/submitters" # the log's, not the policy's
start_log "$T/data" --create --batch-ms 2
policy "$T/policy" "log $LOGK" "submitter $SUBK" "quorum none"
S="$T/state"

echo 'release 2.0' > "$T/app.bin"
for v in 2.0 2.0-rc1; do
    "$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject my-app --version "$v" \
        --file "$T/app.bin" > /dev/null || fail "append $v"
done
for i in 1 2 3 4 5; do append_one filler "$i" > /dev/null || fail "append filler"; done

# Found: both statements verified and saved; the bundles verify offline.
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S" --out "$T/bundles" "$T/app.bin"
expect_out "^index 0: build my-app 2.0, sha256 $(sha "$T/app.bin")"
expect_out "^index 1: build my-app 2.0-rc1, sha256"
expect_out "in log example.com/log at tree size 7"
expect_err "first checkpoint seen for log example.com/log (size 7): remembered"
expect_err "2 statements found, 2 verified"
for i in 0 1; do
    expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$T/bundles/$i.tlog-proof" --artifact "$T/app.bin"
done
ID=$(ls "$S")
[ "$(echo "$ID" | wc -l)" = 1 ] || fail "one state directory per log"
[ "$ID" = "$(printf '%s' "$LOGK" | sha256sum | cut -c1-64)" ] || fail "state keyed by the vkey's SHA-256"
[ "$(cat "$S/$ID/vkey")" = "$LOGK" ] || fail "vkey file"
[ "$(sed -n 2p "$S/$ID/checkpoint")" = 7 ] || fail "remembered size"

# Not found.
expect_rc 1 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S" \
    --sha256 "$(printf nothing | sha256sum | cut -c1-64)"
expect_err "no statement about $(printf nothing | sha256sum | cut -c1-64) in the log as of tree size 7$"

# The state moves forward after a verified consistency proof.
for i in 6 7 8; do append_one filler "$i" > /dev/null || fail "append filler"; done
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S" --sha256 "$(sha "$T/app.bin")"
[ "$(sed -n 2p "$S/$ID/checkpoint")" = 10 ] || fail "state not moved to size 10"
grep -q "first checkpoint" "$T/err" && fail "the second lookup claims a first checkpoint"

# XDG default.
XDG_STATE_HOME="$T/xdg" "$G" lookup --log "$LOG_URL" --policy "$T/policy" "$T/app.bin" > /dev/null 2>&1 ||
    fail "lookup with the XDG state"
[ -f "$T/xdg/glasslog/$ID/checkpoint" ] || fail "XDG_STATE_HOME/glasslog not used"

# A remembered checkpoint the log's tree does not extend: signed by the log
# key (a fork), size 3, another root. Lookup refuses and records evidence.
printf 'example.com/log\n3\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/forked.note" || fail "sign the forked checkpoint"
mkdir -p "$T/s2/$ID" && cp "$T/forked.note" "$T/s2/$ID/checkpoint"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/s2" "$T/app.bin"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 10 is not consistent with the one of size 3 seen before"
EV=$(ls -d "$T/s2/$ID"/alarms/fork-3-10-*) || fail "no fork evidence"
for f in alarm checkpoint.old checkpoint.new consistency-proof split-view.evidence; do
    [ -s "$EV/$f" ] || fail "fork evidence lacks $f"
done
head -1 "$EV/split-view.evidence" | grep -qx 'glasslog.dev/evidence/v1' || fail "evidence format"
cmp -s "$EV/checkpoint.old" "$T/forked.note" || fail "evidence: old checkpoint"
cmp -s "$T/s2/$ID/checkpoint" "$T/forked.note" || fail "a fork replaced the remembered checkpoint"
# ... and one the log cannot reach (larger than its tree).
printf 'example.com/log\n99\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/s2/$ID/checkpoint"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/s2" "$T/app.bin"
expect_err "cannot get the consistency proof between sizes 99 and 10"

# A log that tampers with its answers.
start_proxy
for m in lookup-statement:"submitter signature: the signature of submitter ci.example.com does not verify" \
         lookup-proof:"inclusion proof: the proof does not lead" \
         lookup-checkpoint:"log signature: the signature of log example.com/log does not verify" \
         lookup-leaf:"the log's leaf_hash is not the hash of its statement"; do
    echo "${m%%:*}" > "$MODE"
    expect_rc 2 "$G" lookup --log "$PROXY_URL" --policy "$T/policy" --state "$S" --out "$T/o2" "$T/app.bin"
    expect_err "verification failed: .*${m#*:}"
    [ -z "$(ls "$T/o2" 2>/dev/null)" ] || fail "a refused statement was saved (${m%%:*})"
done
echo flaky > "$MODE"
expect_rc 0 "$G" lookup --log "$PROXY_URL" --policy "$T/policy" --state "$S" "$T/app.bin"
echo none > "$MODE"
[ "$(sed -n 2p "$S/$ID/checkpoint")" = 10 ] || fail "tampering moved the state"

# Network and usage errors.
expect_rc 3 "$G" lookup --log http://127.0.0.1:1 --policy "$T/policy" --state "$S" "$T/app.bin" --timeout 2
expect_rc 3 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S"
expect_rc 3 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --sha256 XYZ
expect_rc 3 "$G" lookup --log "ftp://x" --policy "$T/policy" --state "$S" "$T/app.bin"

# get: checkpoint (verified with --policy), entry, proofs, tiles, bundles.
expect_rc 0 "$G" get checkpoint --log "$LOG_URL" --policy "$T/policy"
[ "$(sed -n 2p "$T/out")" = 10 ] || fail "get checkpoint"
expect_err "verified: log example.com/log, tree size 10"
expect_rc 0 "$G" get entry 0 --log "$LOG_URL"
expect_out "^version 2.0$"
expect_out "^leaf_hash [0-9a-f]\{64\}$"
expect_rc 1 "$G" get entry 10 --log "$LOG_URL"
expect_rc 3 "$G" get entry --log "$LOG_URL"
expect_err "get entry takes one index N"
expect_rc 3 "$G" get entry 1 2 --log "$LOG_URL"
expect_err "get entry takes one index N"
expect_rc 0 "$G" get proof inclusion --index 3 --log "$LOG_URL"
[ "$(grep -c '^[0-9a-f]\{64\}$' "$T/out")" = 4 ] || fail "inclusion proof of 3 in 10"
expect_rc 0 "$G" get proof consistency --first 3 --second 10 --log "$LOG_URL"
expect_out "^first 3$"
expect_rc 0 "$G" get tile tile/0/000.p/10 --log "$LOG_URL"
[ "$(wc -l < "$T/out")" = 10 ] || fail "get tile"
echo gzip > "$MODE"
expect_rc 0 "$G" get tile entries/000.p/2 --log "$PROXY_URL"
expect_out "^# entry 1 "
expect_rc 3 "$G" get tile nonsense --log "$LOG_URL"
expect_rc 3 "$G" get --log "$LOG_URL"
stop_proxy

# append: a bundle that cannot be written (--out in a missing directory)
# fails the command, but the statement is in the log: its index is printed.
expect_rc 3 append_one out-fails 1 --out "$T/no-such-dir/x.tlog-proof"
expect_out "^index 10$"
expect_err "cannot create $T/no-such-dir/x.tlog-proof"
# An --out file that exists is refused before anything is appended.
echo keep > "$T/exists.tlog-proof"
"$G" get checkpoint --log "$LOG_URL" > "$T/before.note" || fail "get checkpoint"
expect_rc 3 append_one out-exists 1 --out "$T/exists.tlog-proof"
expect_err "refusing to overwrite $T/exists.tlog-proof"
grep -q '^index' "$T/out" && fail "appended although --out exists"
[ "$(cat "$T/exists.tlog-proof")" = keep ] || fail "--out overwritten"
"$G" get checkpoint --log "$LOG_URL" | cmp -s - "$T/before.note" || fail "the tree grew"
# A log answering an index no JSON integer holds exactly (1e30, with the
# right leaf hash): malformed, refused before any use of the number.
spawn fakeadd env PYTHONPATH="$TOOLS" python3 -u -c '
import hashlib, json, stubhttp
def respond(method, path, body):
    out = json.dumps({"index": 1e30, "leaf_hash": hashlib.sha256(b"\0" + body).hexdigest(),
                      "proof": "x"}).encode()
    return 200, out, {"Content-Type": "application/json"}
stubhttp.serve(respond)' || fail "fake log did not start"
expect_rc 2 "$G" append --log "$SPAWN_URL" --key "$T/sub.key" \
    --kind build --subject big --version 1 --sha256 "$(printf big | sha256sum | cut -c1-64)"
expect_err "the log's answer is malformed or names another leaf"

# Another submitter of the log, outside the policy, about the customer's
# file: listed as not counting, and the lookup still passes.
"$G" append --log "$LOG_URL" --key "$T/other.key" --kind build --subject my-app \
    --version 2.0-evil --file "$T/app.bin" > /dev/null || fail "append by other.key"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S" "$T/app.bin"
expect_out "^index 11: signed by intruder (key ID [0-9a-f]\{8\}), which is not a submitter of the policy: does not count$"
expect_out "^index 0: build my-app 2.0, sha256"
expect_err "3 statements found, 2 verified, 1 signed by a key outside the policy (does not count)"
grep -q "verification failed" "$T/err" && fail "a statement that does not count failed the lookup"
FOREIGN=$(printf 'foreign only' | sha256sum | cut -c1-64)
"$G" append --log "$LOG_URL" --key "$T/other.key" --kind build --subject other-app \
    --version 1 --sha256 "$FOREIGN" > /dev/null || fail "append by other.key"
expect_rc 1 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$S" --sha256 "$FOREIGN"
expect_err "no statement about $FOREIGN by a submitter of the policy"
# The state lock cannot be taken: said, exit 3.
mkdir -p "$T/s3/$ID/lock"
expect_rc 3 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/s3" "$T/app.bin"
expect_err "cannot lock $T/s3/$ID/lock: Is a directory"

# More statements about one file than one lookup answer holds (100): the
# client follows the answer's "next" and verifies all of them.
echo 'a popular build' > "$T/popular.bin"
PS=$(sha "$T/popular.bin")
for w in 0 1 2 3 4 5 6; do
    (for i in $(seq $((w * 15)) $((w * 15 + 14))); do
        "$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject popular \
            --version "1.$i" --sha256 "$PS" > /dev/null || exit 1
    done) &
    APPENDERS="${APPENDERS:-} $!"
done
for p in $APPENDERS; do wait "$p" || fail "appending the popular build"; done
expect_http 200 GET "/api/v1/lookup?sha256=$PS"
grep -q '"next":' "$T/body" || fail "105 statements fit one lookup answer: $(head -c 200 "$T/body")"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/state-pages" \
    --sha256 "$PS"
expect_err "105 statements found, 105 verified"
[ "$(grep -c '^index [0-9]*: build popular 1\.' "$T/out")" = 105 ] || fail "not every page listed"
stop_log
echo "21-client-lookup: ok"
