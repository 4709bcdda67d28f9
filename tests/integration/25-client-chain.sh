# Goal: the provenance chain end to end against a live glasslogd. The vendor
# logs a source snapshot (a directory: its tree digest) and the build made
# from it; an auditor logs a report covering the source; an independent
# rebuilder rebuilds the same tree and logs a rebuild in one command; a
# customer verifies the update with `lookup --chain` (online) and with
# `verify --chain-bundle` (offline, from the bundle the lookup wrote), as a
# tree and as JSON. Then the failures: a second update whose rebuild
# differs (verify fails on that link; the monitor raises an alarm with the
# statements as evidence), a build of unaudited source (fails when the
# policy requires an audit), a rebuild by a key that is not a rebuilder
# (does not count), a build naming a source never logged, or logged for
# another product only (monitor alarm).
# The log is shared: a key it accepts but the customer's policy does not
# name (outsider) cannot fail a chain by logging a differing rebuild. A
# source with more statements than one lookup answer holds is read page
# by page (an audit on the second page counts), by the monitor and by
# lookup --chain; more than a chain holds of statements that cannot count
# (by an outsider, or by a policy key without the role) do not fill it. A
# source lookup answered without end is refused at 10000 statements.
# Chain alarms count toward the monitor's cap of 16 alarms about entries a
# cycle (many v1 builds, many due source checks): the rest come in the
# next cycles, each alarm recorded and hooked once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
make_keys
for k in vendor rb1 rb2 auditor stranger outsider; do
    "$G" keygen --name "$k.example" --out "$T/$k.key" >> "$T/submitters" || fail keygen
done
LOGK=$(cat "$T/log.key.pub")
pub() { cat "$T/$1.key.pub"; }
start_log "$T/data" --create --batch-ms 2
policy "$T/policy" "log $LOGK" "quorum none" \
    "submitter $(pub vendor) builder" "submitter $(pub rb1) rebuilder" \
    "submitter $(pub rb2) rebuilder" "submitter $(pub auditor) auditor" \
    "submitter $(pub stranger)" "require rebuilds 1" "require audit"
# The same policy without the audit requirement.
grep -v '^require audit' "$T/policy" > "$T/policy-noaudit"
app() { "$G" append --log "$LOG_URL" --log-vkey "@$T/log.key.pub" "$@" > /dev/null || fail "append $*"; }

# --- the story ---------------------------------------------------------------
mkdir -p "$T/src/lib" "$T/rebuild-src/lib"
printf 'int main(void) { return 0; }\n' > "$T/src/main.c"
printf 'hello\n' > "$T/src/lib/README"
printf '#!/bin/sh\ncat main.c lib/README\n' > "$T/src/build.sh" && chmod 755 "$T/src/build.sh"
cp -a "$T/src/." "$T/rebuild-src/"
# The tree digest, computed independently (specs/statement.md section 10).
SRC=$(cd "$T/src" && {
    printf 'glasslog.dev/srctree/v1\n'
    for f in $(find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
        t=file; [ -x "$f" ] && t=exec
        printf '%s %s %s\n' "$t" "$(sha256sum "$f" | cut -c1-64)" "$f"
    done
} | sha256sum | cut -c1-64)
(cd "$T/src" && ./build.sh) > "$T/widget.bin"
(cd "$T/rebuild-src" && ./build.sh) > "$T/rebuilt.bin"
cmp -s "$T/widget.bin" "$T/rebuilt.bin" || fail "the test build is not reproducible"

# append prints the digests others name: a source's tree digest (what
# an auditor's --audited takes), a build's artifact and source
expect_rc 0 "$G" append --log "$LOG_URL" --log-vkey "@$T/log.key.pub" --key "$T/vendor.key" \
    --kind source --subject widget --version 1.0 --dir "$T/src"
grep -qx "sha256 $SRC" "$T/out" || fail "append --dir printed: $(cat "$T/out")"
grep -q "^source " "$T/out" && fail "a source statement names no source: $(cat "$T/out")"
expect_rc 0 "$G" append --log "$LOG_URL" --log-vkey "@$T/log.key.pub" --key "$T/vendor.key" \
    --kind build --subject widget --version 1.0 --file "$T/widget.bin" --source-dir "$T/src"
[ "$(sed -n '3,4p' "$T/out")" = "$(printf 'sha256 %s\nsource %s' "$(sha256sum "$T/widget.bin" | cut -c1-64)" "$SRC")" ] ||
    fail "append --source-dir printed: $(cat "$T/out")"
# (the report right after the build: the monitor below gives it 2 s)
echo "report: fine" > "$T/report.txt"
app --key "$T/auditor.key" --kind audit-report --subject widget --version 1.0 \
    --file "$T/report.txt" --audited "$SRC" --scope "full source review"
app --key "$T/rb1.key" --kind rebuild --subject widget --version 1.0 --file "$T/rebuilt.bin" \
    --source-dir "$T/rebuild-src"
# The log's source index finds all four by the independently computed digest.
expect_http 200 GET "/api/v1/lookup?source=$SRC"
[ "$(grep -o '"index"' "$T/body" | wc -l)" = 4 ] || fail "lookup?source= found $(cat "$T/body")"

expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/widget.bin" \
    --chain-out "$T/widget.chain"
expect_out "^chain of build widget 1.0 sha256 $(sha "$T/widget.bin")"
expect_out "^build #1 by vendor.example (builder): ok"
expect_out "source #0 by vendor.example (builder): ok"
expect_out "rebuild #3 by rb1.example (rebuilder): ok: reproduced the build"
expect_out "rebuilds: ok: 1 of the 1 required rebuilder reproduced it"
expect_out "audit #2 by auditor.example (auditor): ok: covers the source (scope: full source review)"
expect_out "^overall: verified"
expect_err "first checkpoint seen for log example.com/log (size 4): remembered"
head -1 "$T/widget.chain" | grep -qx 'glasslog.dev/chain-bundle/v1' || fail "chain bundle header"
[ "$(grep -c '^proof ' "$T/widget.chain")" = 4 ] || fail "the chain bundle holds 4 proofs"
# The head first (build #1), then the others in ascending log index.
python3 - "$T/widget.chain" <<'PY' || fail "chain bundle order"
import re, sys
data = open(sys.argv[1], "rb").read()
got = [int(i) for i in re.findall(rb"\nindex ([0-9]+)\n", data)]
assert got == [1, 0, 2, 3], got
PY
# A remembered checkpoint of the same size with another root: the chain
# is not verified (the fork is part of the verdict, printed after the
# memory check), text and JSON.
LID=$(printf '%s' "$LOGK" | sha256sum | cut -c1-64)
mkdir -p "$T/stf/$LID"
printf 'example.com/log\n4\n%s\n' "$(head -c 32 /dev/zero | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/stf/$LID/checkpoint" || fail "signing a forked checkpoint"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/stf" --chain "$T/widget.bin"
expect_out "^  \`- log consistency: FAIL: a proof's checkpoint is not consistent with the one remembered"
expect_out "^overall: FAILED"
grep -q "^overall: verified" "$T/out" && fail "a forked chain printed as verified"
expect_err "ALARM (fork"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/stf" --chain "$T/widget.bin" --json
python3 - "$T/out" <<'PY' || fail "JSON verdict of a forked chain"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "failed", j
assert ("log consistency", "fail") in [(l["link"], l["verdict"]) for l in j["links"]], j
PY

# Offline: the bundle and the artifact, no log.
expect_rc 0 "$G" verify --policy "$T/policy" --chain-bundle "$T/widget.chain" --artifact "$T/widget.bin"
expect_out "^overall: verified"
expect_rc 0 "$G" verify --policy "$T/policy" --chain-bundle "$T/widget.chain" --json
python3 - "$T/out" <<'PY' || fail "JSON verdict"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "verified", j
links = [(l["link"], l["verdict"]) for l in j["links"]]
assert ("build", "ok") in links and ("source", "ok") in links, links
assert ("rebuild", "ok") in links and ("audit", "ok") in links, links
PY
# With --json, every exit has an answer on stdout: a cut bundle, an
# artifact the log has no chain for.
head -c 300 "$T/widget.chain" > "$T/cut.chain"
expect_rc 2 "$G" verify --policy "$T/policy" --chain-bundle "$T/cut.chain" --json
python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["verdict"] == "failed" and j["error"], j' \
    "$T/out" || fail "no JSON answer for a cut chain bundle: $(cat "$T/out" "$T/err")"
printf 'not logged anywhere\n' > "$T/nolog.bin"
expect_rc 1 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/stn" --chain "$T/nolog.bin" --json
python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["verdict"] == "not found", j' \
    "$T/out" || fail "no JSON answer for an artifact without a chain: $(cat "$T/out" "$T/err")"
expect_rc 3 "$G" verify --policy "$T/policy" --chain-bundle "$T/widget.chain" --statement "$T/nolog.bin"
expect_err "statement goes with --proof, not with --chain-bundle"
# Another file is not the build.
echo tampered > "$T/evil.bin"
expect_rc 2 "$G" verify --policy "$T/policy" --chain-bundle "$T/widget.chain" --artifact "$T/evil.bin"
expect_err "verification failed: build #1: the artifact's sha256"
# A chain bundle with a byte changed in a statement does not verify.
python3 - "$T/widget.chain" "$T/bad.chain" <<'PY'
import sys, base64, re
data = open(sys.argv[1], 'rb').read()
def flip(m):
    st = base64.b64decode(m.group(1)).replace(b'version 1.0', b'version 1.1', 1)
    return b'extra ' + base64.b64encode(st)
# only the first extra line (the head) changes; the frame length stays right
# because the base64 length is the same
out = re.sub(rb'extra ([A-Za-z0-9+/=]+)', flip, data, count=1)
open(sys.argv[2], 'wb').write(out)
PY
expect_rc 2 "$G" verify --policy "$T/policy" --chain-bundle "$T/bad.chain"
expect_err "verification failed: build #1: does not verify"

# The client's memory: a remembered checkpoint the log's tree does not
# extend (a fork) fails the chain lookup like any lookup.
ID=$(ls "$T/st")
printf 'example.com/log\n3\n%s\n' "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/forked.note" || fail "sign the forked checkpoint"
mkdir -p "$T/st2/$ID" && cp "$T/forked.note" "$T/st2/$ID/checkpoint"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st2" --chain "$T/widget.bin"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 4 is not consistent"
# So does one the log signed without its witness quorum (a policy whose
# witness never cosigns here): compared as plain lookup compares it.
"$G" keygen --name w1.example --out "$T/w1.key" --cosigner > /dev/null || fail keygen
{ echo "log $LOGK"; echo "witness W1 $(cat "$T/w1.key.pub")"; echo "quorum W1"
  grep -v '^log \|^quorum ' "$T/policy"; } > "$T/policy-w1"
mkdir -p "$T/st3/$ID" && cp "$T/forked.note" "$T/st3/$ID/checkpoint"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy-w1" --state "$T/st3" --chain "$T/widget.bin"
expect_err "ALARM (fork): log example.com/log: the checkpoint of size 4 is not consistent"

# A key outside the policy (but a submitter of the shared log) logs a
# rebuild of 1.0 with another binary: it does not count, and the chain
# still verifies, online and from the bundle the lookup writes.
echo "not the build" > "$T/outsider.bin"
app --key "$T/outsider.key" --kind rebuild --subject widget --version 1.0 \
    --file "$T/outsider.bin" --source-dir "$T/rebuild-src"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/widget.bin" \
    --chain-out "$T/outsider.chain"
expect_out "rebuild #4 by outsider.example (not in the policy) (no role): does not count: signed by a key outside the policy"
expect_out "rebuilds: ok: 1 of the 1 required rebuilder reproduced it"
expect_out "^overall: verified"
[ "$(grep -c '^proof ' "$T/outsider.chain")" = 5 ] || fail "the chain bundle holds 5 proofs"
expect_rc 0 "$G" verify --policy "$T/policy" --chain-bundle "$T/outsider.chain" \
    --artifact "$T/widget.bin" --json
python3 - "$T/out" <<'PY' || fail "JSON verdict with an outsider's rebuild"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "verified", j
l = [l for l in j["links"] if l.get("index") == 4]
assert len(l) == 1 and l[0]["verdict"] == "ignored", j
assert l[0]["signer"] == "outsider.example (not in the policy)", l
PY

# --- the failures ------------------------------------------------------------
# release V: a source tree src-V, its build (by the vendor) in $T/V.bin.
release() {
    local v=$1
    mkdir -p "$T/src-$v"
    printf 'version %s\n' "$v" > "$T/src-$v/VERSION"
    cp "$T/src-$v/VERSION" "$T/$v.bin"
    app --key "$T/vendor.key" --kind source --subject widget --version "$v" --dir "$T/src-$v"
    app --key "$T/vendor.key" --kind build --subject widget --version "$v" --file "$T/$v.bin" \
        --source-dir "$T/src-$v"
}
audit() {
    app --key "$T/auditor.key" --kind audit-report --subject widget --version "$1" \
        --file "$T/report.txt" --audited "$(tree "$T/src-$1")" \
        --scope "diff review"
}
# signed_audit SUBJECT SRC TIME: an auditor's report on SRC (version 1.0)
# signed with the given time (append signs with the present one), on stdout.
signed_audit() {
    printf 'glasslog.dev/statement/v2\nkind audit-report\nsubject %s\nversion 1.0\nsha256 %s\ntime %s\naudited %s\nscope full source review\n' \
        "$1" "$(sha "$T/report.txt")" "$3" "$2" | "$G" note sign --key "$T/auditor.key"
}
tree() { (cd "$1" && { printf 'glasslog.dev/srctree/v1\n'
    for f in $(find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
        printf 'file %s %s\n' "$(sha256sum "$f" | cut -c1-64)" "$f"; done; } | sha256sum | cut -c1-64); }

# 2.0: the rebuilder obtains another binary. The link fails, and the chain.
release 2.0
audit 2.0
echo "something else" > "$T/2.0-rebuilt.bin"
app --key "$T/rb1.key" --kind rebuild --subject widget --version 2.0 --file "$T/2.0-rebuilt.bin" \
    --source-dir "$T/src-2.0"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/2.0.bin" \
    --chain-out "$T/2.0.chain"
expect_out "rebuild #[0-9]* by rb1.example (rebuilder): FAIL: rebuilt $(sha "$T/2.0-rebuilt.bin" | cut -c1-16)..., which differs from the build's $(sha "$T/2.0.bin" | cut -c1-16)"
expect_out "rebuilds: FAIL: 0 of the 1 required"
expect_out "^overall: FAILED"
expect_err "verification failed: rebuild #"
expect_rc 2 "$G" verify --policy "$T/policy" --chain-bundle "$T/2.0.chain" --artifact "$T/2.0.bin"
expect_out "rebuild #[0-9]* by rb1.example (rebuilder): FAIL: rebuilt"
# ... even when another rebuilder reproduces it: a named rebuilder disagrees.
cp "$T/2.0.bin" "$T/2.0-rb2.bin"
app --key "$T/rb2.key" --kind rebuild --subject widget --version 2.0 --file "$T/2.0-rb2.bin" \
    --source-dir "$T/src-2.0"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/2.0.bin"
expect_out "rebuild #[0-9]* by rb2.example (rebuilder): ok: reproduced"
expect_out "rebuilds: ok: 1 of the 1 required"
expect_out "rebuild #[0-9]* by rb1.example (rebuilder): FAIL"

# 3.0: reproduced but never audited: fails only under a policy requiring it.
release 3.0
app --key "$T/rb1.key" --kind rebuild --subject widget --version 3.0 --file "$T/3.0.bin" \
    --source-dir "$T/src-3.0"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/3.0.bin" \
    --chain-out "$T/3.0.chain"
expect_out "audits: FAIL: the policy requires an audit, and no auditor's report covers the source"
expect_rc 2 "$G" verify --policy "$T/policy" --chain-bundle "$T/3.0.chain" --artifact "$T/3.0.bin"
expect_rc 0 "$G" verify --policy "$T/policy-noaudit" --chain-bundle "$T/3.0.chain" --artifact "$T/3.0.bin"
expect_out "audits: does not count: no auditor covered the source; the policy requires none"
# An audit report by a key that is not an auditor does not cover it.
app --key "$T/stranger.key" --kind audit-report --subject widget --version 3.0 \
    --file "$T/report.txt" --audited "$(tree "$T/src-3.0")" --scope "self review"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/3.0.bin"
expect_out "audit #[0-9]* by stranger.example (no role): does not count: not signed by an auditor"

# 4.0: audited, rebuilt identically by a key that is no rebuilder: does not count.
release 4.0
audit 4.0
app --key "$T/stranger.key" --kind rebuild --subject widget --version 4.0 --file "$T/4.0.bin" \
    --source-dir "$T/src-4.0"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/4.0.bin"
expect_out "rebuild #[0-9]* by stranger.example (no role): does not count: not signed by a rebuilder"
expect_out "rebuilds: FAIL: 0 of the 1 required"
app --key "$T/rb2.key" --kind rebuild --subject widget --version 4.0 --file "$T/4.0.bin" \
    --source-dir "$T/src-4.0"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/4.0.bin"

# 5.0: a build naming a source that was never logged.
mkdir -p "$T/src-5.0" && echo five > "$T/src-5.0/VERSION" && cp "$T/src-5.0/VERSION" "$T/5.0.bin"
app --key "$T/vendor.key" --kind build --subject widget --version 5.0 --file "$T/5.0.bin" \
    --source-dir "$T/src-5.0"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/5.0.bin"
expect_out "source: FAIL: no source statement by a builder for $(tree "$T/src-5.0" | cut -c1-16)"

# A v1 build names no source: no chain. A v2 build by a key that is not a
# builder heads a chain that fails at once.
echo other > "$T/other.bin"
app --key "$T/vendor.key" --kind build --subject other --version 1 --file "$T/other.bin"
expect_rc 1 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/other.bin"
expect_err "no v2 build or rule-update statement about this artifact"
app --key "$T/stranger.key" --kind build --subject widget --version 1.0 --file "$T/other.bin" \
    --source-dir "$T/src"
expect_rc 2 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/other.bin"
expect_out "build #[0-9]* by stranger.example (no role): FAIL: signed by stranger.example, which the policy does not name a builder"
# Usage errors.
expect_rc 3 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st" --chain "$T/2.0.bin" --out "$T/x"
expect_rc 3 "$G" verify --policy "$T/policy" --chain-bundle "$T/nosuch"
expect_rc 3 "$G" append --log "$LOG_URL" --key "$T/rb1.key" --kind rebuild --subject w --version 1 \
    --file "$T/2.0.bin"
expect_err "a rebuild needs one"

# --- the monitor -------------------------------------------------------------
# Builds made 2 s ago or more (--audit-within 2s after sleep 2: due) and
# never covered by an auditor's report (3.0, 5.0) raise unaudited-source;
# the differing rebuild of 2.0 rebuild-differs; 5.0's unknown source
# source-not-logged, once its source check is due (CHAINWATCH_SOURCE_GRACE,
# and the vendor's v1 build of other 1, which names no source under a
# policy that requires a chain, source-not-logged at once;
# 600 s, after the build: a source statement may be logged a moment after
# its build; until then the check is pending in chain-pending, and the
# test makes it due rather than wait: src_due). Nothing else: 1.0, 2.0 and
# 4.0 are audited (a report counts when signed by the due time: theirs
# were appended right after their builds, well within 2 s), and
# statements by keys without the role (the stranger's build, rebuild and
# audit) prove nothing either way.
src_due() { # the pending source checks of chain-pending $1, due now
    sed -i "s/^source [0-9]* /source $(date +%s) /" "$1"
}
sleep 2
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon" --once \
    --no-progress --audit-within 2s
ID=$(ls "$T/mon")
A="$T/mon/$ID/alarms"
idx() { # the log index of the statement of kind $1 about file $2
    "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/lk" "$2" 2>/dev/null |
        sed -n "s/^index \([0-9]*\): $1 .*/\1/p" | head -1
}
B2=$(idx build "$T/2.0.bin") B3=$(idx build "$T/3.0.bin") B5=$(idx build "$T/5.0.bin")
R2=$(idx rebuild "$T/2.0-rebuilt.bin") V1=$(idx build "$T/other.bin")
ls "$A" | grep "^source-not-logged-" | grep -qv "^source-not-logged-$V1-" &&
    fail "source-not-logged within the grace: $(ls "$A")"
expect_err "ALARM (source-not-logged): entry $V1: build of other 1 is a v1 statement, which names no source: its provenance chain, which the policy requires, cannot be shown"
grep -q "^source [0-9]* $B5 " "$T/mon/$ID/chain-pending" ||
    fail "the source check of 5.0 is not pending: $(cat "$T/mon/$ID/chain-pending")"
expect_err "ALARM (unaudited-source): entry $B3: build of widget 3.0: no auditor's report covers its source"
expect_err "ALARM (rebuild-differs): entry $R2: rebuild of widget 2.0 has sha256 $(sha "$T/2.0-rebuilt.bin" | cut -c1-16)..., the build at entry $B2 of the same source has $(sha "$T/2.0.bin" | cut -c1-16)"
src_due "$T/mon/$ID/chain-pending"
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon" --once \
    --no-progress --audit-within 2s
ls "$A" | sed 's/-[0-9a-f]*$//' | sort > "$T/alarms"
printf '%s\n' "rebuild-differs-$R2" "source-not-logged-$B5" "source-not-logged-$V1" "unaudited-source-$B3" \
    "unaudited-source-$B5" | sort > "$T/want"
diff "$T/want" "$T/alarms" > /dev/null || fail "alarms: want $(cat "$T/want"), got $(cat "$T/alarms")"
expect_err "ALARM (source-not-logged): entry $B5: build of widget 5.0 names source .*, which the log holds no source statement for (none logged within 600 s of the build)"
# The evidence: the statement with its offline bundle, and the related one.
EV=$(ls -d "$A"/rebuild-differs-$R2-*)
for f in statement statement.tlog-proof related.statement related.tlog-proof; do
    [ -s "$EV/$f" ] || fail "rebuild-differs evidence lacks $f"
done
grep -q '^kind rebuild$' "$EV/statement" || fail "evidence: the rebuild"
grep -q '^kind build$' "$EV/related.statement" || fail "evidence: the vendor's build"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$EV/statement.tlog-proof" \
    --artifact "$T/2.0-rebuilt.bin"
grep -q "warning: this checks" "$T/err" && fail "a rebuild has no chain of its own to check: $(cat "$T/err")"
# verify --bundle and lookup without --chain check that one statement is
# logged: for a build under a policy with requirements they say so.
UNCHECKED="warning: this checks that the build is logged, not the policy's requirements (1 independent rebuild and an audit of its source): check its provenance chain with"
expect_rc 0 "$G" verify --policy "$T/policy" --proof "$EV/related.tlog-proof" \
    --statement "$EV/related.statement" --artifact "$T/2.0.bin"
expect_err "$UNCHECKED"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/lk" "$T/2.0.bin"
expect_err "$UNCHECKED"
[ "$(grep -c "warning: this checks" "$T/err")" = 1 ] || fail "lookup warns more than once: $(cat "$T/err")"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy-noaudit" --state "$T/lk" "$T/2.0.bin"
expect_err "(1 independent rebuild): check"
# Checked once: a second pass finds nothing new, and nothing is pending.
expect_rc 0 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon" --once \
    --no-progress --audit-within 2s
[ ! -s "$T/mon/$ID/chain-pending" ] || fail "pending audit checks left: $(cat "$T/mon/$ID/chain-pending")"
# Without --audit-within, and a fresh state: only the two other alarms
# (the source check pending until due: it is pending without
# --audit-within too).
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon2" --once --no-progress
src_due "$T/mon2/$ID/chain-pending"
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon2" --once --no-progress
[ "$(ls "$T/mon2/$ID/alarms" | sed 's/-[0-9]*-[0-9a-f]*$//' | sort | tr '\n' ' ')" = \
  "rebuild-differs source-not-logged source-not-logged " ] || fail "alarms without --audit-within: $(ls "$T/mon2/$ID/alarms")"
[ ! -s "$T/mon2/$ID/chain-pending" ] || fail "checks left pending: $(cat "$T/mon2/$ID/chain-pending")"
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon3" --once \
    --audit-within soon
expect_err "--audit-within takes a duration"
# Chain alarms fail closed. (1) A log that answers source lookups with an
# error: the catch-up stops before the first build (its audit check is
# pending already), the run is not verified (exit 3), nothing is skipped.
# Once the log answers, the catch-up resumes at that build and every alarm
# comes: the builds are long past --audit-within 2s.
start_proxy
echo lookup-error > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon4" --once \
    --no-progress --audit-within 2s
expect_err "entry 1: its chain checks could not be made (the log could not be asked): the catch-up stops before it"
P4="$T/mon4/$ID/chain-pending"
grep -q '^[0-9]* 1 ' "$P4" || fail "the audit check of build 1 is not pending: $(cat "$P4" 2>&1)"
: > "$MODE"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon4" --once \
    --no-progress --audit-within 2s
expect_err "resuming at entry 1 of"
src_due "$P4"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon4" --once \
    --no-progress --audit-within 2s
ls "$T/mon4/$ID/alarms" | sed 's/-[0-9a-f]*$//' | sort > "$T/alarms4"
diff "$T/want" "$T/alarms4" > /dev/null ||
    fail "alarms after a failed lookup: want $(cat "$T/want"), got $(cat "$T/alarms4")"
# A log answering a source lookup with one real statement again and again,
# page after page, is refused once the answer passes 10000 statements (the
# monitor keeps what it reads of an answer: bounded), like a failed lookup.
echo lookup-repeat > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon-rep" --once \
    --no-progress --audit-within 1s
expect_err "the log's answer lists more than 10000 statements (or 64 MiB) about one source: refused"
expect_err "entry 1: its chain checks could not be made (the log could not be asked)"
: > "$MODE"
# (2) Due checks (made due at once: their due times set to the present,
# after the audits of 1.0, 2.0 and 4.0 were signed, which still count)
# whose lookup fails stay pending, and the run says so (exit 3). So do
# checks the log answers with nothing at all (an answer that does not
# show the log's tree reaches the build: a mirror behind the log answers
# so). An answer whose proofs reach the build but that lacks it gets the
# alarm all the same (3.0: the log cannot keep it back by hiding the
# build), with the build's statement read from the log's tiles and its
# tlog-proof against the stored checkpoint, which the client verifies
# offline (or, when the log's entry bundle does not match its tiles,
# without the statement, saying why); 5.0, whose source lookup holds only
# the build, stays pending until the log answers with it. (5.0's source
# check, not due within these runs, stays pending throughout.)
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5" --once \
    --no-progress --audit-within 1d
P5="$T/mon5/$ID/chain-pending"
[ "$(grep -c . "$P5")" -ge 4 ] || fail "pending checks: $(cat "$P5")"
sed "s/^[0-9]* /$(date +%s) /" "$P5" > "$T/pending.due" && cp "$T/pending.due" "$P5"
echo lookup-error > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5" --once \
    --no-progress --audit-within 1d
expect_err "due audit checks could not ask the log: kept pending"
cmp -s "$P5" "$T/pending.due" || fail "unasked checks dropped: $(cat "$P5")"
echo lookup-empty > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5" --once \
    --no-progress --audit-within 1d
expect_err "lacks entry $B3 and no proof in it reaches that entry"
expect_err "due audit checks could not ask the log: kept pending"
ls "$T/mon5/$ID/alarms" | grep -q '^unaudited-source-' &&
    fail "alarms from an empty answer: $(ls "$T/mon5/$ID/alarms")"
cmp -s "$P5" "$T/pending.due" || fail "checks answered by nothing dropped: $(cat "$P5")"
cp -a "$T/mon5" "$T/mon5b" # the same due checks, for the tampered bundles below
echo lookup-nobuild > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5" --once \
    --no-progress --audit-within 1d
expect_err "ALARM (unaudited-source): entry $B3: build of widget 3.0: no auditor's report covers its source"
expect_err "lacks the build itself: its statement is attached as read from the log's tiles"
expect_err "lacks entry $B5 and no proof in it reaches that entry"
[ "$(grep -v '^source ' "$P5" | cut -d' ' -f2)" = "$B5" ] ||
    fail "pending after the answers without builds: $(cat "$P5")"
EV3=$(ls -d "$T/mon5/$ID/alarms/unaudited-source-$B3-"*)
[ -s "$EV3/statement" ] && [ -s "$EV3/statement.tlog-proof" ] ||
    fail "the hidden build's evidence lacks its statement or proof: $(ls "$EV3")"
grep -q '^kind build$' "$EV3/statement" && grep -q '^version 3.0$' "$EV3/statement" ||
    fail "the hidden build's evidence: $(cat "$EV3/statement")"
[ -e "$EV3/related.statement" ] && fail "related.statement for a build the answer lacked"
# The proof is against the checkpoint mon5 stored, and verifies offline
# with the statement it carries, for the artifact of 3.0.
tail -n "$(wc -l < "$T/mon5/$ID/checkpoint")" "$EV3/statement.tlog-proof" |
    cmp -s - "$T/mon5/$ID/checkpoint" || fail "the hidden build's proof is not against the stored checkpoint"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$EV3/statement.tlog-proof" \
    --artifact "$T/3.0.bin"
expect_rc 2 "$G" verify --policy "$T/policy" --bundle "$EV3/statement.tlog-proof" \
    --artifact "$T/5.0.bin"
# A log whose entry bundles do not match its tiles gives no statement: the
# alarm comes without it, saying why.
echo lookup-nobuild-bundle > "$MODE"
expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5b" --once \
    --no-progress --audit-within 1d
expect_err "ALARM (unaudited-source): entry $B3: build: no auditor's report covers its source"
expect_err "its statement is not attached: the entry the log's bundle holds at $B3 does not hash to the leaf of its tile"
EV3B=$(ls -d "$T/mon5b/$ID/alarms/unaudited-source-$B3-"*)
[ -e "$EV3B/statement" ] && fail "a statement the tiles do not prove was attached"
[ -s "$EV3B/checkpoint" ] || fail "the alarm without the statement lacks the checkpoint: $(ls "$EV3B")"
: > "$MODE"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon5" --once \
    --no-progress --audit-within 1d
expect_err "ALARM (unaudited-source): entry $B5: build of widget 5.0: no auditor's report covers"
[ "$(cat "$P5")" = "$(grep "^source [0-9]* $B5 " "$P5")" ] || fail "checks left pending: $(cat "$P5")"
[ "$(ls "$T/mon5/$ID/alarms" | grep '^unaudited-source-' | sed 's/-[0-9a-f]*$//' | sort | tr '\n' ' ')" = \
  "$(printf '%s\n' "unaudited-source-$B3" "unaudited-source-$B5" | sort | tr '\n' ' ')" ] ||
    fail "unaudited-source alarms: $(ls "$T/mon5/$ID/alarms")"
stop_proxy
# More statements about one source than one lookup answer holds (100):
# the monitor reads every page, so an audit report logged after 100
# others about the same source still covers the build. The auditor signs
# it when the build is made (GT) and it is logged after the others: it
# counts however long they take to log (it is signed by the due time).
mkdir -p "$T/gsrc"
printf 'gadget\n' > "$T/gsrc/main.c"
printf 'gadget 1.0\n' > "$T/gadget.bin"
GSRC=$(printf 'glasslog.dev/srctree/v1\nfile %s main.c\n' "$(sha256sum "$T/gsrc/main.c" | cut -c1-64)" |
    sha256sum | cut -c1-64)
GT=$(date +%s)
app --key "$T/vendor.key" --kind source --subject gadget --version 1.0 --dir "$T/gsrc"
app --key "$T/vendor.key" --kind build --subject gadget --version 1.0 --file "$T/gadget.bin" \
    --source-dir "$T/gsrc"
app --key "$T/rb1.key" --kind rebuild --subject gadget --version 1.0 --file "$T/gadget.bin" \
    --source-dir "$T/gsrc"
for w in 0 1 2 3; do
    (for i in $(seq $((w * 25)) $((w * 25 + 24))); do
        printf 'outsider %s\n' "$i" > "$T/o$i.txt"
        "$G" append --log "$LOG_URL" --key "$T/outsider.key" --kind audit-report --subject gadget \
            --version 1.0 --file "$T/o$i.txt" --audited "$GSRC" --scope "a look" > /dev/null || exit 1
    done) &
    OUTS="${OUTS:-} $!"
done
for p in $OUTS; do wait "$p" || fail "appending the outsider's reports"; done
signed_audit gadget "$GSRC" "$GT" > "$T/gaudit.st" || fail "signing the gadget's audit"
expect_http 200 POST /api/v1/add --data-binary "@$T/gaudit.st"
expect_http 200 GET "/api/v1/lookup?source=$GSRC"
grep -q '"next":' "$T/body" || fail "the gadget's source fits one lookup answer"
BG=$(idx build "$T/gadget.bin")
# lookup --chain reads every page too, and the outsider's 100 reports
# neither count nor overflow the chain: those past its room are not shown.
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st6" \
    --chain "$T/gadget.bin"
expect_out "^overall: verified"
expect_out "audit #[0-9]* by auditor.example"
expect_err "40 statements that do not count (by keys outside the policy or without the role of their link) not shown"
# The same 100 reports under a policy that names their key without a role
# (a plain submitter): they cannot count either, so they are set aside too
# and do not overflow the chain (more than the 64 statements it holds: a
# third party's flood must not hide the auditor's report after it).
{ cat "$T/policy"; echo "submitter $(pub outsider)"; } > "$T/policy-norole"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy-norole" --state "$T/st6" \
    --chain "$T/gadget.bin"
expect_out "^overall: verified"
expect_out "audit #[0-9]* by auditor.example (auditor): ok"
expect_out "audit #[0-9]* by outsider.example (no role): does not count: not signed by an auditor"
expect_err "40 statements that do not count (by keys outside the policy or without the role of their link) not shown"
sleep 2
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon6" --once \
    --no-progress --audit-within 1s
ls "$T/mon6/$ID/alarms" | grep -q "^unaudited-source-$BG-" &&
    fail "the audit on the second page of the source lookup was missed"
ls "$T/mon6/$ID/alarms" | grep -q "^unaudited-source-$B3-" || fail "no alarms at all in mon6"
# A log that keeps refusing source lookups stalls the catch-up, but the
# checkpoint checks still run every cycle: a forked checkpoint served
# during the stall is a fork alarm (exit 2), against the stored checkpoint
# ($T/mon followed the log before the gadget) and, for a monitor that has
# stored none yet, against the target of its first catch-up.
start_proxy
echo lookup-error > "$MODE"
SIZE=$(curl -s "$LOG_URL/checkpoint" | sed -n 2p)
printf 'example.com/log\n%s\n%s\n' "$SIZE" "$(head -c 32 /dev/urandom | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/fork.note" || fail "signing a forked checkpoint"
for st in mon mon7; do
    for _ in 1 2; do
        expect_rc 3 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/$st" \
            --once --no-progress
        expect_err "its chain checks could not be made (the log could not be asked): the catch-up stops before it"
    done
    cp "$T/fork.note" "$MODE.checkpoint"
    expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/$st" \
        --once --no-progress
    expect_err "ALARM (fork): log example.com/log: the checkpoint of size $SIZE is not consistent"
    ls "$T/$st/$ID/alarms" | grep -q "^fork-" || fail "$st: no fork evidence"
    rm -f "$MODE.checkpoint"
done
# Only statements in the log clear a chain alarm. A front (the proxy)
# adds to every lookup answer statements signed by the vendor and the
# auditor that were never logged: a source statement for a source never
# logged (listed at the index of the build naming it: not the build either)
# and an auditor's report covering it (with a real proof of another
# entry). The build still raises source-not-logged and, due at once
# (--audit-within 1s, a second later), unaudited-source, whose evidence is
# the build the log holds, not the statement the front listed at its index.
# A build dated in the year 2100 raises future-statement, and its audit
# falls due from when the monitor met it, not from its date.
HSRC=$(printf 'hidden source' | sha256sum | cut -c1-64)
printf 'hidden 1.0\n' > "$T/hidden.bin"
"$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject hidden --version 1.0 \
    --file "$T/hidden.bin" --source-sha256 "$HSRC" > "$T/hb.out" || fail "append hidden 1.0"
HB=$(sed -n 's/^index //p' "$T/hb.out")
expect_http 200 GET "/api/v1/lookup?source=$SRC"
python3 - "$T/body" "$SRC" "$HSRC" "$T" "$HB" > "$MODE.inject" <<'PY' || fail "making the unlogged statements"
import json, os, sys
doc, src, hsrc, t, hb = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
for it in doc["statements"]:
    body = it["statement"].split("\n\n")[0] + "\n"
    for kind in ("source", "audit-report", "build"):
        if "\nkind %s\n" % kind in body and not os.path.exists("%s/%s.txt" % (t, kind)):
            if kind == "build":
                body = body.replace("\nversion 1.0\n", "\nversion 9.0\n")
                body = "\n".join("time 4102444800" if l.startswith("time ") else l
                                 for l in body.split("\n"))
            open("%s/%s.txt" % (t, kind), "w").write(body.replace(src, hsrc))
print(json.dumps([{"index": int(hb), "statement_file": t + "/hsrc.st", "proof": "not a proof"},
                  {"index": 0, "statement_file": t + "/haudit.st",
                   "proof": doc["statements"][0]["proof"]}]))
PY
"$G" note sign --key "$T/vendor.key" "$T/source.txt" > "$T/hsrc.st" || fail "signing a source"
"$G" note sign --key "$T/auditor.key" "$T/audit-report.txt" > "$T/haudit.st" || fail "signing an audit"
"$G" note sign --key "$T/vendor.key" "$T/build.txt" > "$T/future.st" || fail "signing a build"
grep -q '^time 4102444800$' "$T/future.st" || fail "the future build: $(cat "$T/future.st")"
expect_http 200 POST /api/v1/add --data-binary "@$T/future.st"
FB=$(sed -n 's/.*"index": *\([0-9]*\).*/\1/p' "$T/body")
[ -n "$FB" ] || fail "adding the future build: $(cat "$T/body")"
echo lookup-inject > "$MODE"
cp -a "$T/mon6" "$T/mon9"
sleep 1
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon9" --once \
    --no-progress --audit-within 1s
A9="$T/mon9/$ID/alarms"
expect_err "ALARM (unaudited-source): entry $HB: build of hidden 1.0: no auditor's report covers"
expect_err "ALARM (future-statement): entry $FB: build of widget 9.0 is dated 4102444800"
# The injected source statement does not clear the source check when it
# falls due either.
src_due "$T/mon9/$ID/chain-pending"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon9" --once \
    --no-progress --audit-within 1s
expect_err "ALARM (source-not-logged): entry $HB: build of hidden 1.0 names source"
EVH=$(ls -d "$A9/unaudited-source-$HB-"*) || fail "no unaudited-source for $HB: $(ls "$A9")"
grep -q '^kind build$' "$EVH/statement" && grep -q '^subject hidden$' "$EVH/statement" ||
    fail "the unaudited build's evidence is not the build: $(cat "$EVH/statement")"
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$EVH/statement.tlog-proof" \
    --artifact "$T/hidden.bin"
# A source statement logged after the checkpoint the monitor follows (the
# proxy serves an older one) counts: the answer's proof carries a larger
# checkpoint signed by the log, consistent with the one followed. With
# that checkpoint's signature broken (the proxy changes its root) it does
# not, and the build raises source-not-logged.
: > "$MODE"
LSRC=$(printf 'late source' | sha256sum | cut -c1-64)
"$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject late --version 1.0 \
    --sha256 "$HSRC" --source-sha256 "$LSRC" > "$T/lb.out" || fail "append late 1.0"
LB=$(sed -n 's/^index //p' "$T/lb.out")
curl -s "$LOG_URL/checkpoint" > "$MODE.checkpoint"
app --key "$T/vendor.key" --kind source --subject late --version 1.0 --sha256 "$LSRC"
cp -a "$T/mon9" "$T/mon11"
expect_rc 0 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon9" --once \
    --no-progress
ls "$A9" | grep -q "^source-not-logged-$LB-" && fail "a source logged later raised source-not-logged"
echo lookup-checkpoint > "$MODE"
expect_rc 0 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon11" --once \
    --no-progress
grep -q "^source [0-9]* $LB " "$T/mon11/$ID/chain-pending" ||
    fail "the source check of late 1.0 is not pending: $(cat "$T/mon11/$ID/chain-pending")"
src_due "$T/mon11/$ID/chain-pending"
expect_rc 2 "$G" monitor --log "$PROXY_URL" --policy "$T/policy" --state "$T/mon11" --once \
    --no-progress
expect_err "ALARM (source-not-logged): entry $LB: build of late 1.0 names source"
rm -f "$MODE.checkpoint"
: > "$MODE"
stop_proxy
# A source statement of the digest for another product (other 9.9) is no
# source of a build of mismatch 1.0 (lookup --chain's rule): the build
# raises source-not-logged.
OSRC=$(printf 'another product' | sha256sum | cut -c1-64)
app --key "$T/vendor.key" --kind source --subject other --version 9.9 --sha256 "$OSRC"
"$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject mismatch --version 1.0 \
    --sha256 "$HSRC" --source-sha256 "$OSRC" > "$T/xb.out" || fail "append mismatch 1.0"
XB=$(sed -n 's/^index //p' "$T/xb.out")
expect_rc 0 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon9" --once --no-progress
src_due "$T/mon9/$ID/chain-pending"
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon9" --once --no-progress
expect_err "ALARM (source-not-logged): entry $XB: build of mismatch 1.0 names source"
# The future build's audit (--audit-within 1d) is due a day after the
# monitor met it.
cp -a "$T/mon6" "$T/mon10"
T0=$(date +%s)
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon10" --once \
    --no-progress --audit-within 1d
DUE=$(sed -n "s/^\([0-9]*\) $FB .*/\1/p" "$T/mon10/$ID/chain-pending")
[ -n "$DUE" ] && [ "$DUE" -ge $((T0 + 86400)) ] && [ "$DUE" -le $(($(date +%s) + 86400)) ] ||
    fail "the future build's audit is due at $DUE: $(cat "$T/mon10/$ID/chain-pending")"
# A build whose audit check cannot be kept pending (chain-pending is
# unusable: here a directory) stops the catch-up before it too, and the
# run says why: the log is not to blame.
mkdir -p "$T/mon8/$ID/chain-pending"
expect_rc 3 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon8" --once \
    --no-progress --audit-within 1s
expect_err "cannot read $T/mon8/$ID/chain-pending: Is a directory"
expect_err "entry 1: its chain checks could not be made (its audit check could not be kept in chain-pending): the catch-up stops before it"
if grep -q "could not be asked" "$T/err"; then fail "a state failure reported as the log's"; fi
# An auditor's report counts for a due audit check only if signed (its
# time) by the due time: the log's index says only when it was logged.
# Two builds (--audit-within 8s) whose checks a pass makes pending (the
# appends and the pass have 8 s, slow as they may be under sanitizers),
# and after sleep 9 (both past due): tardy's report,
# appended now, is signed after the due time and raises unaudited-source
# although logged before the pass that checks it; prompt's, signed before
# the build (PT) but logged only now, counts.
cp -a "$T/mon10" "$T/mon12"
PSRC=$(printf 'prompt source' | sha256sum | cut -c1-64)
TSRC=$(printf 'tardy source' | sha256sum | cut -c1-64)
PT=$(date +%s)
for v in prompt:$PSRC tardy:$TSRC; do
    app --key "$T/vendor.key" --kind source --subject "${v%:*}" --version 1.0 --sha256 "${v#*:}"
    "$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject "${v%:*}" \
        --version 1.0 --file "$T/hidden.bin" --source-sha256 "${v#*:}" > "$T/${v%:*}.out" ||
        fail "append ${v%:*} 1.0"
done
PB=$(sed -n 's/^index //p' "$T/prompt.out") TB=$(sed -n 's/^index //p' "$T/tardy.out")
expect_rc 0 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon12" --once \
    --no-progress --audit-within 8s
P12="$T/mon12/$ID/chain-pending"
grep -q "^[0-9]* $PB " "$P12" && grep -q "^[0-9]* $TB " "$P12" ||
    fail "the audit checks of $PB and $TB are not pending: $(cat "$P12")"
sleep 9
app --key "$T/auditor.key" --kind audit-report --subject tardy --version 1.0 \
    --file "$T/report.txt" --audited "$TSRC" --scope "full source review"
signed_audit prompt "$PSRC" "$PT" > "$T/paudit.st" || fail "signing prompt's audit"
expect_http 200 POST /api/v1/add --data-binary "@$T/paudit.st"
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon12" --once \
    --no-progress --audit-within 8s
expect_err "ALARM (unaudited-source): entry $TB: build of tardy 1.0: no auditor's report covers"
ls "$T/mon12/$ID/alarms" | grep -q "^unaudited-source-$PB-" &&
    fail "a report signed before the due time and logged after it did not count"
grep -q "^[0-9]* \($PB\|$TB\) " "$P12" && fail "checks left pending: $(cat "$P12")"
# A build logged before its source statement (pipelines log concurrently)
# is pending, not source-not-logged; the source statement logged after it
# clears the check when it falls due (made due here: src_due). The other
# source checks mon12 holds (hidden 1.0, mismatch 1.0: never logged) raise
# their alarms then.
CSRC=$(printf 'concurrent source' | sha256sum | cut -c1-64)
"$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject concurrent \
    --version 1.0 --file "$T/hidden.bin" --source-sha256 "$CSRC" > "$T/cb.out" ||
    fail "append concurrent 1.0"
CB=$(sed -n 's/^index //p' "$T/cb.out")
expect_rc 0 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon12" --once \
    --no-progress
grep -q "^source [0-9]* $CB " "$P12" || fail "the source check of $CB is not pending: $(cat "$P12")"
app --key "$T/vendor.key" --kind source --subject concurrent --version 1.0 --sha256 "$CSRC"
src_due "$P12"
expect_rc 2 "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/mon12" --once \
    --no-progress
expect_err "ALARM (source-not-logged): entry $XB: build of mismatch 1.0 names source"
ls "$T/mon12/$ID/alarms" | grep -q "^source-not-logged-$CB-" &&
    fail "a source statement logged after its build did not clear its source check"
grep -q "^source " "$P12" && fail "source checks left pending: $(cat "$P12")"

# --- a widely shared source --------------------------------------------------
# A monorepo snapshot builds many products. Statements about the same
# source or the same binary that cannot join this head's chain (builds of
# other subjects, here 65 shipping the same binary; the snapshot logged
# for another subject; a rebuild of another subject) are dropped before
# anything is counted: more of them than a chain holds (64) do not stop
# lookup --chain, and none is shown or bundled.
MSRC=$(printf 'monorepo snapshot\n' | sha256sum | cut -c1-64)
printf 'mono 1.0\n' > "$T/mono.bin"
appi() { "$G" append --log "$LOG_URL" --log-vkey "@$T/log.key.pub" "$@" |
    sed -n 's/^index //p'; }
MS=$(appi --key "$T/vendor.key" --kind source --subject mono --version 1.0 --sha256 "$MSRC")
MB=$(appi --key "$T/vendor.key" --kind build --subject mono --version 1.0 --file "$T/mono.bin" \
    --source-sha256 "$MSRC")
MR=$(appi --key "$T/rb1.key" --kind rebuild --subject mono --version 1.0 --file "$T/mono.bin" \
    --source-sha256 "$MSRC")
MA=$(appi --key "$T/auditor.key" --kind audit-report --subject mono --version 1.0 \
    --file "$T/report.txt" --audited "$MSRC" --scope "monorepo review")
[ -n "$MS" ] && [ -n "$MB" ] && [ -n "$MR" ] && [ -n "$MA" ] || fail "appending the mono chain"
app --key "$T/vendor.key" --kind source --subject tool1 --version 1.0 --sha256 "$MSRC"
app --key "$T/rb1.key" --kind rebuild --subject tool2 --version 1.0 --file "$T/2.0.bin" \
    --source-sha256 "$MSRC"
WS=""
for w in 0 1 2 3 4; do
    (for i in $(seq $((w * 13 + 1)) $((w * 13 + 13))); do
        "$G" append --log "$LOG_URL" --key "$T/vendor.key" --kind build --subject "tool$i" \
            --version 1.0 --file "$T/mono.bin" --source-sha256 "$MSRC" > /dev/null || exit 1
    done) &
    WS="$WS $!"
done
for p in $WS; do wait "$p" || fail "appending the other builds"; done
# Both lookups hold more statements by policy keys than a chain (one page).
expect_http 200 GET "/api/v1/lookup?sha256=$(sha "$T/mono.bin")"
[ "$(grep -o '"index"' "$T/body" | wc -l)" = 67 ] || fail "lookup?sha256= of mono.bin"
expect_http 200 GET "/api/v1/lookup?source=$MSRC"
[ "$(grep -o '"index"' "$T/body" | wc -l)" = 71 ] || fail "lookup?source= of the monorepo"
expect_rc 0 "$G" lookup --log "$LOG_URL" --policy "$T/policy" --state "$T/st9" \
    --chain "$T/mono.bin" --chain-out "$T/mono.chain" --json
python3 - "$T/out" "$MB" "$MS" "$MR" "$MA" <<'PY' || fail "the mono chain: $(cat "$T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
mb, ms, mr, ma = (int(x) for x in sys.argv[2:6])
assert j["verdict"] == "verified", j
assert (j["head"]["subject"], j["head"]["version"]) == ("mono", "1.0"), j["head"]
got = [(l["link"], l.get("index"), l["verdict"]) for l in j["links"]]
assert got == [("build", mb, "ok"), ("source", ms, "ok"), ("rebuild", mr, "ok"),
               ("rebuilds", None, "ok"), ("audit", ma, "ok"), ("audits", None, "ok")], got
PY
[ "$(grep -c '^proof ' "$T/mono.chain")" = 4 ] || fail "the mono chain bundle holds 4 proofs"
expect_rc 0 "$G" verify --policy "$T/policy" --chain-bundle "$T/mono.chain" --artifact "$T/mono.bin"
expect_out "^overall: verified"

# --- the alarm cap -----------------------------------------------------------
# A monitor raises at most 16 alarms about entries a cycle (bad entries:
# 22-client-monitor.sh), chain alarms included. 20 v1 builds by the vendor
# under a policy that requires a chain are 20 source-not-logged alarms at
# once; 20 v2 builds naming sources never logged are 20 more once their
# source checks fall due. A new monitor records (and runs --on-alarm for)
# at most 16 a cycle (the old code: every one in its first cycle): the
# catch-up stops at the entry of the 16th (exit 2) and goes on there next
# cycle; due checks past the cap stay pending for the next cycle. In the
# end every alarm is recorded, each announced and hooked once.
FLOOD_PIDS="" # appended at once: one or two checkpoints, not forty
for i in $(seq 20); do
    app --key "$T/vendor.key" --kind build --subject "flood$i" --version 1 --file "$T/other.bin" &
    FLOOD_PIDS="$FLOOD_PIDS $!"
    app --key "$T/vendor.key" --kind build --subject "flood$i" --version 2 --file "$T/other.bin" \
        --source-sha256 "$(printf 'flood %s' "$i" | sha256sum | cut -c1-64)" &
    FLOOD_PIDS="$FLOOD_PIDS $!"
done
for p in $FLOOD_PIDS; do wait "$p" || fail "a flood append failed"; done
FH="$T/flood.hooks"
: > "$FH"
flood() {
    "$G" monitor --log "$LOG_URL" --policy "$T/policy" --state "$T/flood" --once \
        --no-progress --on-alarm "echo \"\$GLASSLOG_ALARM_DIR\" >> '$FH'"
}
nalarms() { ls "$T/flood/$ID/alarms" 2>/dev/null | wc -l; }
# flood_cycle WANT-RC: one cycle; at most 16 new alarms, each hooked once
flood_cycle() {
    local before
    before=$(nalarms)
    expect_rc "$1" flood
    [ $(($(nalarms) - before)) -le 16 ] ||
        fail "$(($(nalarms) - before)) alarms in one cycle (the cap is 16)"
    [ "$(wc -l < "$FH")" = "$(nalarms)" ] && [ -z "$(sort "$FH" | uniq -d)" ] ||
        fail "hook runs: $(wc -l < "$FH") for $(nalarms) alarms"
}
flood_cycle 2
expect_err "16 new alarms about entries in this cycle: the catch-up stops at entry"
[ "$(nalarms)" = 16 ] || fail "alarms in the first cycle: $(nalarms), want 16"
n=0
while grep -q "the catch-up stops at entry" "$T/err"; do
    n=$((n + 1))
    [ "$n" -le 10 ] || fail "the catch-up never ends"
    flood_cycle 2
done
[ "$(ls "$T/flood/$ID/alarms" | grep -c '^source-not-logged-.*')" -ge 21 ] ||
    fail "the v1 builds' alarms: $(ls "$T/flood/$ID/alarms")"
FP="$T/flood/$ID/chain-pending"
[ "$(grep -c '^source ' "$FP")" -ge 20 ] || fail "source checks pending: $(cat "$FP")"
src_due "$FP"
flood_cycle 2
expect_err "due chain checks not run: the alarms of this cycle reached their cap: kept pending for the next cycle"
n=0
while grep -q '^source ' "$FP"; do
    n=$((n + 1))
    [ "$n" -le 10 ] || fail "the due checks never end: $(cat "$FP")"
    flood_cycle 2
done
for i in $(seq 20); do
    V=$(printf 'flood %s' "$i" | sha256sum | cut -c1-16)
    grep -q "build of flood$i 2 names source $V\.\.\." "$T/flood/$ID"/alarms/*/alarm ||
        fail "no source-not-logged for the v2 build of flood$i"
done
flood_cycle 0
echo "25-client-chain: ok"
