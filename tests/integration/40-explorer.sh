#!/usr/bin/env bash
# Goal: the explorer (web/), served by a real glasslogd, verifies in a real
# browser. First the serving: Content-Type, Content-Security-Policy,
# no-cache with an ETag and 304, no path escapes the web directory, Chart.js
# from Debian's package, /policy from --public-policy (404 without, a bad
# policy stops glasslogd at start), and the default web directory of an
# installed layout and of a checkout. Then tests/browser/explorer.test.mjs
# drives headless chromium (playwright-core) against this log, with real
# appends, a tamper proxy in front of it and bundles cosigned by a test
# witness key: a logged file verifies, a modified file fails the artifact
# row, tampered proofs and checkpoints fail their rows, a missing witness
# fails the quorum row, a bundle verifies offline, the overview shows the
# tree size and verifies its latest entries against the checkpoint (each
# entry's leaf hash against its level-0 hash tile, an inclusion proof built
# from the hash tiles, the signature against the policy's submitters; not
# verified without a verified checkpoint), a tampered entry bundle or hash
# tile (tamper proxy modes bundle-entry, tile-hash) shows the entries it
# affects as FAILED, partial tiles that answer 404 (intercepted) are read
# from the full tiles' first hashes and entries and verify, while a full
# tile one hash short shows them FAILED, a search by subject and version
# finds the statement, v2 statements (source, build from a source, audit
# report) show their kind and provenance links as the CLI reads them. A search follows the lookup's
# "next": a second log, filled meanwhile with 105 statements about one
# subject (one answer holds 100), shows all 105 verified; made-up answers
# (intercepted in the browser) show the page cap and its "more" button, a
# refused "next" that does not advance, refused answers of more than 100
# statements or of indices listed again (on one page or the next), an
# empty answer's tree_size, and a 503's "no checkpoint to serve yet". The
# real answer altered in the browser: an item without leaf_hash is
# malformed, a tree_size its proof does not lead to fails the item, a
# second item proven in another tree of the same size fails as a split
# view; a refused search input stops the search running; a forgotten
# policy removes the cards verified under it; a newer checkpoint that
# fails empties the overview's entries verified against the one before at
# once. A
# bundle at an index above 2^53 (its checkpoint signed here with the log
# key) verifies. An intercepted checkpoint with a second, garbage W1 line
# of the valid line's time shows that line INVALID in the overview's
# witness table; an unreadable file given to "Compare with a file" says
# so; a refused policy saves no maximum age; the overview warns of the
# suggested policy. An older action made slow on purpose never replaces
# a newer one's result: a bundle read late (the newer bundle's FAILED
# card stays, named by its file), an entry answered late (intercepted:
# entry 5's card never shows under "Entry 7"), a file search read late
# (a newer search by hash stays) and a file compared late (a newer,
# unreadable one's error stays). A maximum age above 2^64 - 1 s is
# refused; one of 400 digits in storage still lets a bundle verify. A
# verified card's download is made (and its object URL revoked) on the
# click. The suggested policy has a
# `submitter <vkey> builder` and a `mirror` line; a mirror's cosignature
# meets a quorum naming it; policies with roles, requirements and mirrors
# get the verdict and first error of `glasslog policy check`. An overview
# whose checkpoint answers 503, then a forgotten policy, shows nothing as
# verified; a suggested policy answered after the visitor saved one is
# dropped; a lookup answer that never ends is aborted by a newer search
# and ends at the deadline with its message. Signature lines in
# non-canonical base64 verify as in lib/note.c (tests/browser/note-lax),
# and a statement signed so is refused as lib/statement.c refuses it.
# Screenshots of failed cases (of every case with GL_SCREENSHOTS=all) go
# to $GL_BUILD/screenshots/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"

command -v node >/dev/null || fail "node is missing (Node.js 20 or later with npm; make deps says so)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (make deps installs chromium)"
[ -d "$ROOT/tests/browser/node_modules/playwright-core" ] ||
    fail "tests/browser/node_modules/playwright-core is missing (make deps runs npm ci there)"
[ -f /usr/share/javascript/chart.js/chart.min.js ] || fail "libjs-chart.js is missing (make deps installs it)"
# The explorer's key-name and key-size rules are lib/key.c's (plain node).
node "$ROOT/tests/browser/note-names.test.mjs" > "$T/names.out" 2>&1 ||
    { cat "$T/names.out" >&2; fail "web/js/note.js differs from lib/key.c, lib/note.c"; }
# Its reading of signature-line base64 is lib/note.c's (unused bits
# ignored), and a statement's one spelling lib/statement.c's (plain node).
node "$ROOT/tests/browser/note-lax.test.mjs" > "$T/lax.out" 2>&1 ||
    { cat "$T/lax.out" >&2; fail "web/js/note.js, statement.js differ from lib/note.c, lib/statement.c on base64"; }
# Its choice of log key among a rotation's is client/trust.c's (plain node).
node "$ROOT/tests/browser/trust-rotation.test.mjs" > "$T/rotation.out" 2>&1 ||
    { cat "$T/rotation.out" >&2; fail "web/js/trust.js differs from client/trust.c on key rotation"; }
# Its counting of a witness's cosignature lines is lib/cosig.c's (plain node).
node "$ROOT/tests/browser/cosig-lines.test.mjs" > "$T/cosig.out" 2>&1 ||
    { cat "$T/cosig.out" >&2; fail "web/js/checkpoint.js differs from lib/cosig.c on cosignature lines"; }
cosign_tool
WEB="$ROOT/web"
SHOTS="${GL_BUILD:-build}/screenshots"
case "$SHOTS" in /*) ;; *) SHOTS="$ROOT/$SHOTS" ;; esac
mkdir -p "$SHOTS"

make_keys
"$G" keygen --name w1.example --out "$T/w1.key" --cosigner > /dev/null || fail keygen
"$G" keygen --name m1.example --out "$T/m1.key" --cosigner > /dev/null || fail keygen
for k in rb1 rb2 aud; do "$G" keygen --name "$k.example" --out "$T/$k.key" > /dev/null || fail keygen; done
SUBK=$(cat "$T/sub.key.pub") M1K=$(cat "$T/m1.key.pub") W1K=$(cat "$T/w1.key.pub")
RB1=$(cat "$T/rb1.key.pub") RB2=$(cat "$T/rb2.key.pub") AUD=$(cat "$T/aud.key.pub")
# The served (suggested) policy uses glasslog's extensions: a submitter
# role and a mirror, which glasslogd's parser accepts.
policy "$T/policy" "log $(cat "$T/log.key.pub")" "submitter $SUBK builder" "mirror M1 $M1K" "quorum none"
policy "$T/p.w1" "log $(cat "$T/log.key.pub")" "witness W1 $(cat "$T/w1.key.pub")" "submitter $SUBK" "quorum W1"

# --- serving ------------------------------------------------------------------------
printf 'log nonsense\nquorum none\n' > "$T/bad.policy"
start_log "$T/d0" --create --web "$WEB" --public-policy "$T/bad.policy" &&
    fail "glasslogd started with an invalid --public-policy"
grep -q "bad.policy:1: log key is not a valid vkey" "$LOG_OUT" || fail "no reason for the bad policy: $(cat "$LOG_OUT")"
start_log "$T/d1" --create --web "$T/no-such-dir" && fail "glasslogd started with a missing --web directory"
grep -q "not a directory" "$LOG_OUT" || fail "no reason for the missing --web: $(cat "$LOG_OUT")"

start_log "$T/data" --create --web "$WEB" --public-policy "$T/policy" || fail "glasslogd did not start"
expect_http 200 GET /
grep -q '<title>glasslog explorer</title>' "$T/body" || fail "/ is not the explorer"
hdr() { curl -s -D - -o "$T/body" "$@"; }
hdr "$LOG_URL/" > "$T/h"
grep -qi '^content-type: text/html; charset=utf-8' "$T/h" || fail "/ Content-Type: $(cat "$T/h")"
grep -qi "^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'" "$T/h" ||
    fail "/ has no strict CSP: $(cat "$T/h")"
grep -qi "frame-ancestors 'none'" "$T/h" || fail "CSP lacks frame-ancestors"
grep -qi '^cache-control: no-cache' "$T/h" || fail "/ is not no-cache"
grep -qi '^x-content-type-options: nosniff' "$T/h" || fail "/ lacks nosniff"
ETAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: \(.*\)\r$/\1/p' "$T/h")
[ "$ETAG" = "\"$(sha256sum "$WEB/index.html" | cut -c1-16)\"" ] || fail "ETag $ETAG is not the content's SHA-256"
expect_http 304 GET / -H "If-None-Match: $ETAG"
expect_http 200 GET / -H 'If-None-Match: "0000000000000000"'
hdr "$LOG_URL/js/main.js" > "$T/h"
grep -qi '^content-type: text/javascript; charset=utf-8' "$T/h" || fail "main.js Content-Type: $(cat "$T/h")"
cmp -s "$T/body" "$WEB/js/main.js" || fail "/js/main.js is not web/js/main.js"
hdr "$LOG_URL/css/explorer.css" | grep -qi '^content-type: text/css' || fail "CSS Content-Type"
expect_http 200 GET /vendor/chart.js/chart.min.js
cmp -s "$T/body" /usr/share/javascript/chart.js/chart.min.js || fail "Chart.js is not Debian's"
for p in /js/../index.html /../README.md /js/%2e%2e/main.js /.hidden /js//main.js /index.html/ /README.md \
    /tests/browser/package.json /js/main.js.bak; do
    expect_http 404 GET "$p" --path-as-is
done
expect_http 405 POST /js/main.js
hdr "$LOG_URL/checkpoint" | grep -qi '^cache-control: public, max-age=2' || fail "/checkpoint lost its caching"
hdr "$LOG_URL/policy" > "$T/h"
grep -qi '^content-type: text/plain; charset=utf-8' "$T/h" || fail "/policy Content-Type"
cmp -s "$T/body" "$T/policy" || fail "/policy is not the --public-policy file"

# --- the log's content ----------------------------------------------------------------
printf 'release 1.0.0 of the widget\n' > "$T/app.bin"
printf 'release 1.0.0 of the widget!\n' > "$T/modified.bin"
"$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject example.com/widget \
    --version 1.0.0 --file "$T/app.bin" --meta builder=ci.example.com --log-vkey "@$T/log.key.pub" \
    --out "$T/app.tlog-proof" > "$T/out" 2> "$T/err" || fail "append: $(cat "$T/err")"
for i in $(seq 1 22); do
    kind=build; [ $((i % 3)) -eq 1 ] && kind=rule-update; [ $((i % 5)) -eq 2 ] && kind=audit-report
    "$G" append --log "$LOG_URL" --key "$T/sub.key" --kind $kind --subject "example.com/other$((i % 4))" \
        --version "0.$i" --sha256 "$(printf 'other %s' "$i" | sha256sum | cut -c1-64)" \
        > /dev/null 2> "$T/err" || fail "append $i: $(cat "$T/err")"
done
head -c 70000000 /dev/zero > "$T/large.bin"
printf 'the large one' >> "$T/large.bin"
"$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject example.com/large --version 9 \
    --file "$T/large.bin" > /dev/null 2> "$T/err" || fail "append large: $(cat "$T/err")"
# The provenance chain (v2 statements): a source archive, a build from it,
# an audit report on it and on another snapshot. The page shows their
# links; the expected values come from sha256sum and the CLI's output.
printf 'widget source 2.0.0\n' > "$T/src.tar"
printf 'widget source 1.9.0\n' > "$T/src-old.tar"
printf 'widget 2.0.0 binary\n' > "$T/app2.bin"
printf 'the audit report\n' > "$T/report.txt"
SRC=$(sha "$T/src.tar") SRC_OLD=$(sha "$T/src-old.tar")
AUDITED=$(printf '%s\n%s\n' "$SRC" "$SRC_OLD" | LC_ALL=C sort | paste -sd,)
v2_append() { # v2_append WANT_INDEX ARGS...: the append must land at WANT_INDEX
    local want=$1
    shift
    "$G" append --log "$LOG_URL" --key "$T/sub.key" --subject example.com/widget --version 2.0.0 "$@" \
        > "$T/out" 2> "$T/err" || fail "append $*: $(cat "$T/err")"
    grep -qx "index $want" "$T/out" || fail "append $*: $(cat "$T/out"), want index $want"
}
IX_SOURCE=24 IX_BUILD=25 IX_AUDIT=26
v2_append $IX_SOURCE --kind source --file "$T/src.tar"
v2_append $IX_BUILD --kind build --file "$T/app2.bin" --source-sha256 "$SRC" --meta builder=ci.example.com
v2_append $IX_AUDIT --kind audit-report --file "$T/report.txt" --audited "$SRC" --audited "$SRC_OLD" \
    --scope "full source review of the update path"
for ix in "$IX_SOURCE" "$IX_BUILD" "$IX_AUDIT"; do
    "$G" get --log "$LOG_URL" entry "$ix" > "$T/entry$ix" 2> "$T/err" || fail "get entry $ix: $(cat "$T/err")"
    grep -qx 'glasslog.dev/statement/v2' "$T/entry$ix" || fail "entry $ix is not a v2 statement: $(cat "$T/entry$ix")"
done
grep -qx "sha256 $SRC" "$T/entry$IX_SOURCE" || fail "the source statement: $(cat "$T/entry$IX_SOURCE")"
grep -qx "sha256 $(sha "$T/app2.bin")" "$T/entry$IX_BUILD" || fail "the build: $(cat "$T/entry$IX_BUILD")"
grep -qx "source $SRC" "$T/entry$IX_BUILD" || fail "the build does not name its source: $(cat "$T/entry$IX_BUILD")"
grep -qx "sha256 $(sha "$T/report.txt")" "$T/entry$IX_AUDIT" || fail "the audit: $(cat "$T/entry$IX_AUDIT")"
grep -qx "scope full source review of the update path" "$T/entry$IX_AUDIT" || fail "the audit's scope"
[ "$(sed -n 's/^audited //p' "$T/entry$IX_AUDIT" | paste -sd,)" = "$AUDITED" ] ||
    fail "the audit report's audited lines: $(cat "$T/entry$IX_AUDIT")"
SIZE=27
curl -s "$LOG_URL/checkpoint" | sed -n 2p | grep -qx "$SIZE" || fail "the log's tree size is not $SIZE"
"$G" verify --policy "$T/policy" --bundle "$T/app.tlog-proof" --artifact "$T/app.bin" > /dev/null ||
    fail "the CLI does not verify the bundle"

# Bundles cosigned by the test witness W1: now, and an hour ahead.
awk 'h { print; next } { print > "/dev/stderr" } /^$/ { h = 1 }' "$T/app.tlog-proof" \
    > "$T/note" 2> "$T/head" || fail "split the bundle"
NOW=$(date +%s)
"$COSIGN" "$T/w1.key" "$NOW" < "$T/note" > "$T/note.w1" || fail cosign
cat "$T/head" "$T/note.w1" > "$T/w1.tlog-proof"
"$COSIGN" "$T/w1.key" $((NOW + 3600)) < "$T/note" > "$T/note.fut" || fail cosign
cat "$T/head" "$T/note.fut" > "$T/future.tlog-proof"
"$G" verify --policy "$T/p.w1" --bundle "$T/w1.tlog-proof" > /dev/null || fail "the CLI refuses the W1 bundle"
# A mirror's cosignature meets a quorum naming the mirror, for the CLI and
# (below) the browser.
"$COSIGN" "$T/m1.key" "$NOW" < "$T/note" > "$T/note.m1" || fail cosign
cat "$T/head" "$T/note.m1" > "$T/m1.tlog-proof"
policy "$T/p.m1" "log $(cat "$T/log.key.pub")" "witness W1 $W1K" "mirror M1 $M1K" "group G any W1 M1" \
    "submitter $SUBK builder" "quorum G"
"$G" verify --policy "$T/p.m1" --bundle "$T/m1.tlog-proof" > /dev/null || fail "the CLI refuses the M1 bundle"

# Policies with roles, requirements and mirrors: the browser's parser must
# give the verdict of `glasslog policy check` (lib/policy.c), and the same
# first error ("line N: reason").
PC="$T/policy-cases"
mkdir -p "$PC"
LOGL="log $(cat "$T/log.key.pub")"
pcase() { # pcase NAME LINES...: the policy and what lib/policy.c says of it
    local n=$1
    shift
    policy "$PC/$n" "$@"
    if "$G" policy check "$PC/$n" > /dev/null 2> "$PC/$n.err"; then
        echo ok > "$PC/$n.want"
    else
        sed -e "s|^glasslog: $PC/$n:\([0-9][0-9]*\): |line \1: |" -e "s|^glasslog: $PC/$n: ||" "$PC/$n.err" > "$PC/$n.want"
    fi
}
pcase served "$LOGL" "submitter $SUBK builder" "mirror M1 $M1K" "quorum none"
pcase chain "$LOGL" "quorum none" "submitter $SUBK builder" "submitter $RB1 rebuilder" "submitter $RB2 rebuilder" \
    "submitter $AUD auditor" "require rebuilds 1" "require audit"
pcase mirrors "$LOGL" "witness W1 $W1K" "mirror M1 $M1K https://m1.example/mirror" "group ws all W1" \
    "group ms any M1" "group both all ws ms" "quorum both" "submitter $SUBK"
pcase role "$LOGL" "submitter $SUBK chef" "quorum none"
pcase role-case "$LOGL" "submitter $SUBK Builder" "quorum none"
pcase role-extra "$LOGL" "submitter $SUBK builder auditor" "quorum none"
pcase rebuilds "$LOGL" "submitter $SUBK builder" "submitter $RB1 rebuilder" "require rebuilds 2" "quorum none"
pcase rebuilds0 "$LOGL" "submitter $SUBK builder" "require rebuilds 01" "quorum none"
pcase audit "$LOGL" "submitter $SUBK builder" "require audit" "quorum none"
pcase nobuilder "$LOGL" "submitter $AUD auditor" "require audit" "quorum none"
pcase audit2 "$LOGL" "submitter $SUBK builder" "submitter $AUD auditor" "require audit" "require audit" "quorum none"
pcase require "$LOGL" "require everything" "quorum none"
pcase mirror-args "$LOGL" "mirror M1" "quorum none"
pcase mirror-name "$LOGL" "witness M1 $W1K" "mirror M1 $M1K" "quorum none"
pcase mirror-key "$LOGL" "witness W1 $M1K" "mirror M1 $M1K" "quorum none"
[ "$(cat "$PC/served.want" "$PC/chain.want" "$PC/mirrors.want")" = "$(printf 'ok\nok\nok')" ] ||
    fail "lib/policy.c refuses a valid policy: $(cat "$PC"/*.err)"
grep -q '^line 2: unknown submitter role "chef"' "$PC/role.want" || fail "role: $(cat "$PC/role.want")"
"$G" keygen --name w2.example --out "$T/w2.key" --cosigner > /dev/null || fail keygen
policy "$T/p.wit" "log $(cat "$T/log.key.pub")" "witness W1 $(cat "$T/w1.key.pub")" \
    "witness W2 $(cat "$T/w2.key.pub")" "group G 1 W1 W2" "submitter $SUBK" "quorum G"

# A second log (same key), filled while the browser runs the other cases
# with more statements about one subject than one lookup answer holds
# (100): the page must follow "next" and list them all. Appended 4 at a
# time; the expected indices are those the CLI reports, in $T/many.ix when
# done (or why not).
MAIN_PID=$LOG_PID MAIN_OUT=$LOG_OUT MAIN_URL=$LOG_URL
start_log "$T/many" --create --web "$WEB" || fail "the second glasslogd did not start"
MANY_PID=$LOG_PID MANY_OUT=$LOG_OUT MANY_URL=$LOG_URL
LOG_PID=$MAIN_PID LOG_OUT=$MAIN_OUT LOG_URL=$MAIN_URL
MANY=105
for i in $(seq 1 $MANY); do printf '%s %064x\n' "$i" "$i"; done > "$T/many.args"
# shellcheck disable=SC2016 # expanded by the inner shell: G URL KEY OUT, then N SHA256 from the line
if xargs -P 4 -L 1 sh -c '"$0" append --log "$1" --key "$2" --kind build --subject many --version "v$4" \
    --sha256 "$5" > "$3.$4" 2>&1 || { cat "$3.$4" >&2; exit 255; }' "$G" "$MANY_URL" "$T/sub.key" "$T/many.out" \
    < "$T/many.args" 2> "$T/many.err"; then
    sed -n 's/^index //p' "$T"/many.out.* | sort -n | paste -sd, > "$T/many.tmp"
    [ "$(tr , '\n' < "$T/many.tmp" | sort -un | wc -l)" -eq $MANY ] ||
        echo "not $MANY distinct indices: $(cat "$T/many.tmp")" > "$T/many.tmp"
else
    echo "append failed: $(head -3 "$T/many.err")" > "$T/many.tmp"
fi &&
    mv "$T/many.tmp" "$T/many.ix" &
MANY_JOB=$!
PIDS="$PIDS $MANY_JOB"

start_proxy
LOG_URL="$LOG_URL" PROXY_URL="$PROXY_URL" MODE_FILE="$MODE" POLICY="$T/policy" POLICY_WITNESS="$T/p.wit" \
    POLICY_W1="$T/p.w1" POLICY_M1="$T/p.m1" BUNDLE_M1="$T/m1.tlog-proof" POLICY_CASES="$PC" \
    ARTIFACT="$T/app.bin" MODIFIED="$T/modified.bin" BUNDLE="$T/app.tlog-proof" \
    BUNDLE_W1="$T/w1.tlog-proof" BUNDLE_FUTURE="$T/future.tlog-proof" LARGE="$T/large.bin" \
    LARGE_SHA="$(sha "$T/large.bin")" SUBJECT=example.com/widget VERSION=1.0.0 TREE_SIZE=$SIZE SHOTS="$SHOTS" \
    V2_ENTRIES="$T/entry$IX_SOURCE $T/entry$IX_BUILD $T/entry$IX_AUDIT" \
    MANY_URL="$MANY_URL" MANY_SUBJECT=many MANY_INDICES="$T/many.ix" LOG_KEY="$T/log.key" \
    timeout 600 node "$ROOT/tests/browser/explorer.test.mjs" > "$T/browser.out" 2>&1
rc=$?
cat "$T/browser.out"
[ "$rc" -eq 0 ] || fail "browser tests failed (exit $rc); screenshots in $SHOTS"
grep -q '^[1-9][0-9]* passed, 0 failed$' "$T/browser.out" || fail "the browser tests ran no case"
wait "$MANY_JOB"
stop_proxy
stop_log
LOG_PID=$MANY_PID LOG_OUT=$MANY_OUT
stop_log

# --- the default web directory: installed layout, then a checkout ---------------------
mkdir -p "$T/inst/bin" "$T/inst/share/glasslog" "$T/co/bin"
cp "$GL_BIN/glasslogd" "$T/inst/bin/" && cp -r "$WEB" "$T/inst/share/glasslog/web" || fail copy
printf '<!doctype html><title>installed</title>\n' > "$T/inst/share/glasslog/web/index.html"
cp "$GL_BIN/glasslogd" "$T/co/bin/" && cp -r "$WEB" "$T/co/web" || fail copy
printf '<!doctype html><title>checkout</title>\n' > "$T/co/web/index.html"
for layout in inst co; do
    spawn "glasslogd-$layout" "$T/$layout/bin/glasslogd" --data "$T/data" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 || fail "glasslogd ($layout) did not start"
    LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
    want=installed; [ $layout = co ] && want=checkout
    expect_http 200 GET /
    grep -q "<title>$want</title>" "$T/body" || fail "the $layout layout serves $(cat "$T/body")"
    expect_http 404 GET /policy
    grep -q 'no suggested policy' "$T/body" || fail "/policy 404 without a reason"
    stop_log
done
spawn glasslogd-none "$T/co/bin/glasslogd" --data "$T/data" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --web none || fail "glasslogd --web none did not start"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
expect_http 404 GET /
expect_http 200 GET /checkpoint
stop_log
echo "explorer: ok"
