# Goal: `glasslog policy check` and `glasslog verify` (offline) against
# bundles written by a live glasslogd: a good bundle verifies; a tampered
# artifact, statement, proof, checkpoint, a missing or insufficient witness
# quorum and a stale cosignature (--max-age) each fail with exit 2 and a
# message naming the failed check; --max-age is the age of the freshest
# quorum of cosignatures (a witness dated in the future or not needed by
# the quorum cannot make a checkpoint fresh; future ones are reported); an
# empty or malformed statement fails the statement row in the table and in
# --json alike; --json reports the same; usage and I/O errors exit 3. Witness cosignatures are made with tools/cosign.c (a
# stand-in witness); 0x01 witness keys are accepted by conversion.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
cosign_tool
"$G" keygen --name w1.example --out "$T/w1.key" --cosigner > /dev/null || fail keygen
"$G" keygen --name w2.example --out "$T/w2.key" --cosigner > /dev/null || fail keygen
"$G" keygen --name w3.example --out "$T/w3.key" --cosigner > /dev/null || fail keygen
"$G" keygen --name wn.example --out "$T/wn.key" > /dev/null || fail keygen   # a 0x01 witness key
"$G" keygen --name ci2.example.com --out "$T/sub2.key" > /dev/null || fail keygen
"$G" keygen --name example.com/log --out "$T/log2.key" > /dev/null || fail keygen
LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub")
W1=$(cat "$T/w1.key.pub") W2=$(cat "$T/w2.key.pub") W3=$(cat "$T/w3.key.pub") WN=$(cat "$T/wn.key.pub")
start_log "$T/data" --create --batch-ms 2

# A bundle with a non-empty inclusion proof: index 3 of a tree of 4.
for i in 1 2 3; do append_one other "$i" > /dev/null || fail "append $i"; done
echo 'release 1.0.0' > "$T/app.bin"
"$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject my-app --version 1.0.0 \
    --file "$T/app.bin" --log-vkey "@$T/log.key.pub" --out "$T/app.tlog-proof" > /dev/null ||
    fail "append app.bin"
B="$T/app.tlog-proof"
split() { python3 -c 'import sys; d=open(sys.argv[1]).read(); i=d.index("\n\n")
open(sys.argv[2],"w").write(d[:i+2]); open(sys.argv[3],"w").write(d[i+2:])' "$1" "$T/head" "$T/note"; }
split "$B"
sed -n 's/^extra //p' "$B" | base64 -d > "$T/st"

# --- policy check -----------------------------------------------------------
policy "$T/p.none" "log $LOGK $LOG_URL" "submitter $SUBK" "quorum none"
expect_rc 0 "$G" policy check "$T/p.none"
expect_out "valid policy: log example.com/log; quorum: none (no cosignatures required); submitter ci.example.com"
expect_err "quorum none: checkpoints are accepted without any witness"
policy "$T/p.w1" "log $LOGK" "witness W1 $W1" "quorum W1" "submitter $SUBK"
expect_rc 0 "$G" policy check "$T/p.w1"
expect_out "quorum: witness W1"
policy "$T/p.bad" "log $LOGK" "witnes W1 $W1" "quorum none"
expect_rc 2 "$G" policy check "$T/p.bad"
expect_err "p.bad:2: unknown keyword \"witnes\""
printf 'log %s\r\nquorum none\r\n' "$LOGK" > "$T/p.crlf"
expect_rc 2 "$G" policy check "$T/p.crlf"
expect_err "p.crlf:1: carriage return"
expect_rc 3 "$G" policy check "$T/missing"
expect_rc 3 "$G" policy

# --- a good bundle ---------------------------------------------------------------
expect_rc 0 "$G" verify --policy "$T/p.none" --bundle "$B" --artifact "$T/app.bin"
expect_out "^VERIFIED"
expect_out "build my-app 1.0.0, sha256 $(sha "$T/app.bin")"
expect_out "^submitter signature  ok .*ci.example.com+"
expect_out "^inclusion proof      ok .*entry 3 of 4"
expect_rc 0 "$G" verify --policy "$T/p.none" --proof "$B" --statement "$T/st"
expect_out "^artifact             -  .*not checked"

# --- tampering ---------------------------------------------------------------------
echo 'release 1.0.1' > "$T/evil.bin"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$B" --artifact "$T/evil.bin"
expect_err "verification failed: artifact: the SHA-256 of .*evil.bin is $(sha "$T/evil.bin"), the statement says $(sha "$T/app.bin")"
expect_out "^NOT VERIFIED"

sed 's/^version 1.0.0$/version 1.0.1/' "$T/st" > "$T/st.evil"
grep -v '^extra ' "$B" > "$T/noextra.tlog-proof"
expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof" --statement "$T/st.evil"
expect_err "verification failed: submitter signature: the signature of submitter ci.example.com does not verify"
expect_err "verification failed: inclusion proof: the proof does not lead from the statement (index 3)"
{ echo "c2sp.org/tlog-proof@v1"; echo "extra $(base64 -w0 < "$T/st.evil")"; grep -v -e '^extra ' -e '^c2sp' "$B"; } > "$T/evil-extra.tlog-proof"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/evil-extra.tlog-proof"
expect_err "submitter signature: the signature of submitter ci.example.com does not verify"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$B" --statement "$T/st.evil"
expect_err "verification failed: proof: .*st.evil differs from the statement in"
printf 'garbage\n' > "$T/garbage.st"
expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof" --statement "$T/garbage.st"
expect_err "verification failed: statement: malformed statement"
policy "$T/p.sub2" "log $LOGK" "submitter $(cat "$T/sub2.key.pub")" "quorum none"
expect_rc 2 "$G" verify --policy "$T/p.sub2" --bundle "$B"
expect_err "submitter signature: signed by ci.example.com (key ID [0-9a-f]*), which is not a submitter of the policy"

python3 - "$B" "$T/evil-proof.tlog-proof" <<'EOF' || fail "tamper proof"
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
i = next(i for i, l in enumerate(lines) if l.startswith("index ")) + 1
h = bytearray(base64.b64decode(lines[i])); h[5] ^= 0x40
lines[i] = base64.b64encode(bytes(h)).decode()
open(sys.argv[2], "w").write("\n".join(lines))
EOF
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/evil-proof.tlog-proof"
expect_err "verification failed: inclusion proof: the proof does not lead from the statement (index 3) to the root of the checkpoint's tree of size 4"
sed 's/^index 3$/index 2/' "$B" > "$T/evil-index.tlog-proof"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/evil-index.tlog-proof"
expect_err "verification failed: inclusion proof"

awk 'NR == 3 { sub(/^./, ($0 ~ /^A/ ? "B" : "A")) } { print }' "$T/note" > "$T/note.evil"
cat "$T/head" "$T/note.evil" > "$T/evil-ck.tlog-proof"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/evil-ck.tlog-proof"
expect_err "verification failed: log signature: the signature of log example.com/log does not verify"
expect_out "^witness quorum       skipped"
policy "$T/p.log2" "log $(cat "$T/log2.key.pub")" "submitter $SUBK" "quorum none"
expect_rc 2 "$G" verify --policy "$T/p.log2" --bundle "$B"
expect_err "log signature: the checkpoint carries no signature by the policy's key for log example.com/log"
printf 'c2sp.org/tlog-proof@v1\nindex x\n' > "$T/junk.tlog-proof"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/junk.tlog-proof"
expect_err "verification failed: proof: .*junk.tlog-proof:2: not a valid tlog-proof: index is not a decimal"

# --- witness quorum -------------------------------------------------------------------
NOW=$(date +%s)
cosigned() { # cosigned OUT KEY TIME [KEY TIME]: the bundle with cosignatures
    local out=$1 n=0
    shift
    cp "$T/note" "$out.0"
    while [ $# -gt 0 ]; do
        "$COSIGN" "$1" "$2" < "$out.$n" > "$out.$((n + 1))" || fail "cosign"
        n=$((n + 1))
        shift 2
    done
    cat "$T/head" "$out.$n" > "$out"
}
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$B" --artifact "$T/app.bin"
expect_err "verification failed: witness quorum: the cosignatures do not satisfy the policy's quorum (0 of 1 witnesses cosigned)"
cosigned "$T/c1.tlog-proof" "$T/w1.key" "$NOW"
expect_rc 0 "$G" verify --policy "$T/p.w1" --bundle "$T/c1.tlog-proof" --artifact "$T/app.bin"
expect_out "^witness quorum       ok .*cosigned by W1 at $(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)"
cosigned "$T/c2.tlog-proof" "$T/w2.key" "$NOW"
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$T/c2.tlog-proof"
expect_err "witness quorum"
python3 - "$T/c1.tlog-proof" "$T/c1bad.tlog-proof" <<'EOF' || fail "tamper cosig"
import base64, sys
d = open(sys.argv[1]).read().rstrip("\n").split("\n")
name, b = d[-1].rsplit(" ", 1)
raw = bytearray(base64.b64decode(b)); raw[-1] ^= 1
d[-1] = name + " " + base64.b64encode(bytes(raw)).decode()
open(sys.argv[2], "w").write("\n".join(d) + "\n")
EOF
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$T/c1bad.tlog-proof"
expect_out "INVALID cosignature by W1"
policy "$T/p.both" "log $LOGK" "witness W1 $W1" "witness W2 $W2" "group G all W1 W2" "quorum G" \
    "submitter $SUBK"
expect_rc 2 "$G" verify --policy "$T/p.both" --bundle "$T/c1.tlog-proof"
expect_err "(1 of 2 witnesses cosigned)"
cosigned "$T/c12.tlog-proof" "$T/w1.key" "$NOW" "$T/w2.key" "$((NOW - 60))"
expect_rc 0 "$G" verify --policy "$T/p.both" --bundle "$T/c12.tlog-proof"
expect_out "cosigned by W1 at .*, W2 at "
policy "$T/p.any" "log $LOGK" "witness W1 $W1" "witness W2 $W2" "group G any W1 W2" "quorum G" \
    "submitter $SUBK"
expect_rc 0 "$G" verify --policy "$T/p.any" --bundle "$T/c2.tlog-proof"
expect_out "not cosigned by W1"
policy "$T/p.wn" "log $LOGK" "witness WN $WN" "quorum WN" "submitter $SUBK"
expect_rc 0 "$G" policy check "$T/p.wn"
expect_err "witness WN has a note key (type 0x01); converted to the cosignature key"
cosigned "$T/cn.tlog-proof" "$T/wn.key" "$NOW"
expect_rc 0 "$G" verify --policy "$T/p.wn" --bundle "$T/cn.tlog-proof"
expect_err "converted"

# --- --max-age ------------------------------------------------------------------------------
expect_rc 0 "$G" verify --policy "$T/p.w1" --bundle "$T/c1.tlog-proof" --max-age 10m
expect_out "^checkpoint age       ok "
cosigned "$T/old.tlog-proof" "$T/w1.key" "$((NOW - 3 * 86400))"
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$T/old.tlog-proof" --max-age 2d
expect_err "verification failed: checkpoint age: the freshest quorum of cosignatures dates from $(date -u -d "@$((NOW - 3 * 86400))" +%Y-%m-%dT%H:%M:%SZ), 2592[0-9][0-9] s ago, older than the limit of 172800 s"
expect_rc 0 "$G" verify --policy "$T/p.w1" --bundle "$T/old.tlog-proof" --max-age 7d
expect_rc 0 "$G" verify --policy "$T/p.w1" --bundle "$T/old.tlog-proof" --max-age 73h
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$B" --max-age 30s
expect_err "checkpoint age: the policy's quorum is none: no witness vouches for the checkpoint's time"
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$B" --max-age 30s
expect_err "checkpoint age: the valid cosignatures (not dated in the future) do not satisfy the policy's quorum"

# 2 of 3: W1 dated 1 h in the future (not counted, reported), W2 10 s ago,
# W3 2 h ago: the freshest quorum is W2 and W3, 2 h old.
policy "$T/p.2of3" "log $LOGK" "witness W1 $W1" "witness W2 $W2" "witness W3 $W3" \
    "group G 2 W1 W2 W3" "quorum G" "submitter $SUBK"
cosigned "$T/fut.tlog-proof" "$T/w1.key" "$((NOW + 3600))" "$T/w2.key" "$((NOW - 10))" \
    "$T/w3.key" "$((NOW - 7200))"
W1T=$(date -u -d "@$((NOW + 3600))" +%Y-%m-%dT%H:%M:%SZ)
W3T=$(date -u -d "@$((NOW - 7200))" +%Y-%m-%dT%H:%M:%SZ)
expect_rc 2 "$G" verify --policy "$T/p.2of3" --bundle "$T/fut.tlog-proof" --max-age 1h
expect_err "verification failed: checkpoint age: the freshest quorum of cosignatures dates from $W3T, 72[0-9][0-9] s ago, older than the limit of 3600 s; not counted, dated more than 300 s in the future: W1 at $W1T ([0-9]* s ahead)"
expect_err "warning: the cosignature by witness W1 is dated $W1T, [0-9]* s in the future"
expect_out "^witness quorum       ok "
expect_out "^checkpoint age       FAILED "
expect_rc 0 "$G" verify --policy "$T/p.2of3" --bundle "$T/fut.tlog-proof" --max-age 3h
expect_out "^checkpoint age       ok      the freshest quorum of cosignatures dates from $W3T (72[0-9][0-9] s ago), within 10800 s; dated more than 300 s in the future, not counted: W1 at $W1T"
expect_rc 0 "$G" verify --policy "$T/p.2of3" --bundle "$T/fut.tlog-proof"
expect_out "^checkpoint age       -       not checked (no --max-age); dated more than 300 s in the future, not counted: W1 at $W1T"
expect_err "warning: the cosignature by witness W1 is dated $W1T"
expect_rc 2 "$G" verify --policy "$T/p.2of3" --bundle "$T/fut.tlog-proof" --max-age 1h --json
python3 - "$T/out" "$NOW" <<'PY' || fail "JSON age report: $(cat "$T/out")"
import json, sys
d, now = json.load(open(sys.argv[1])), int(sys.argv[2])
assert d["verified"] is False and d["failed"] == "checkpoint age", d
w = {x["name"]: x for x in d["witnesses"]}
assert w["W1"]["future"] is True and w["W1"]["time"] == now + 3600, w
assert "future" not in w["W2"] and "future" not in w["W3"], w
assert d["quorum_time"] == now - 7200 and 7200 <= d["age"] < 7200 + 600, d
assert d["newest_cosignature"] == now - 10, d  # a future-dated one counts for nothing
c = {x["check"]: x for x in d["checks"]}
assert c["witness quorum"]["result"] == "passed", c
assert c["checkpoint age"]["result"] == "failed" and "W1 at" in c["checkpoint age"]["error"], c
PY
# A witness outside the quorum, dated 10 s ago, does not make it fresh.
policy "$T/p.w3" "log $LOGK" "witness W1 $W1" "witness W2 $W2" "witness W3 $W3" "quorum W3" \
    "submitter $SUBK"
expect_rc 2 "$G" verify --policy "$T/p.w3" --bundle "$T/fut.tlog-proof" --max-age 1h
expect_err "checkpoint age: the freshest quorum of cosignatures dates from $W3T"
# A future-dated cosignature does not count for the quorum either.
policy "$T/p.w1only" "log $LOGK" "witness W1 $W1" "witness W2 $W2" "witness W3 $W3" "quorum W1" \
    "submitter $SUBK"
expect_rc 2 "$G" verify --policy "$T/p.w1only" --bundle "$T/fut.tlog-proof"
expect_out "^witness quorum       FAILED "
expect_err "some dated more than 5 minutes in the future, not counted"

# --- JSON ---------------------------------------------------------------------------------------
expect_rc 2 "$G" verify --policy "$T/p.w1" --bundle "$T/c1.tlog-proof" --artifact "$T/evil.bin" --json
python3 - "$T/out" <<'EOF' || fail "JSON failure report: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verified"] is False and d["failed"] == "artifact", d
assert d["statement"]["version"] == "1.0.0" and d["tree_size"] == 4 and d["index"] == 3
assert d["witnesses"][0]["name"] == "W1" and d["witnesses"][0]["status"] == "cosigned"
assert [c["result"] for c in d["checks"]] == ["passed", "passed", "failed", "passed", "passed",
                                               "not_checked", "passed"], d["checks"]
EOF
expect_rc 0 "$G" verify --policy "$T/p.w1" --bundle "$T/c1.tlog-proof" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verified"] is True' \
    "$T/out" || fail "JSON success report"
expect_rc 2 "$G" verify --policy "$T/p.none" --bundle "$T/junk.tlog-proof" --json
grep -q '"failed":[[:space:]]*"proof"' "$T/out" || fail "JSON for an unparsable proof"

# Empty and malformed statements fail the statement row, table and JSON.
: > "$T/empty.st"
expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof" --statement "$T/empty.st"
expect_err "verification failed: statement: empty statement (0 bytes)"
expect_out "^statement            FAILED  empty statement (0 bytes)"
expect_out "^submitter signature  skipped"
expect_out "^NOT VERIFIED"
for st in empty garbage; do
    expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof" \
        --statement "$T/$st.st" --artifact "$T/app.bin" --json
    python3 - "$T/out" "$st" <<'PY' || fail "JSON for the $st statement: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
want = "empty statement (0 bytes)" if sys.argv[2] == "empty" else "malformed statement"
assert d["verified"] is False and d["failed"] == "statement" and want in d["error"], d
c = {x["check"]: x for x in d["checks"]}
assert c["statement"]["result"] == "failed" and want in c["statement"]["error"], c
assert c["submitter signature"]["result"] == "skipped", c
assert c["artifact"]["result"] == "skipped", c
assert "statement" not in d, d
PY
done

# --- usage and I/O --------------------------------------------------------------------------------
expect_rc 3 "$G" verify --bundle "$B"
expect_rc 3 "$G" verify --policy "$T/p.none" --bundle "$B" --max-age soon
expect_err "--max-age takes a duration"
expect_rc 3 "$G" verify --policy "$T/p.none" --bundle "$T/missing"
expect_rc 3 "$G" verify --policy "$T/p.none" --bundle "$B" --artifact "$T/missing"
expect_rc 3 "$G" verify --policy "$T/missing" --bundle "$B"
# A bundle without a statement (no extra line) is a bad proof file: exit 2,
# with the JSON error object under --json.
expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof"
expect_err "verification failed: proof: .*carries no statement"
expect_rc 2 "$G" verify --policy "$T/p.none" --proof "$T/noextra.tlog-proof" --json
python3 - "$T/out" <<'PY' || fail "no-extra --json: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verified"] is False and d["failed"] == "proof", d
assert "carries no statement" in d["error"], d
PY
stop_log
echo "20-client-verify: ok"
