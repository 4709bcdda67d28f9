# Goal: an append taken by a follower front-end of a PostgreSQL log (queued
# in the database, sequenced by the other front-end) is indexed exactly as
# one taken by the sequencer: every secondary index, the source index
# included. Two glasslogd share one log (A sequences, B follows); through
# B go a v2 source statement, a build naming that source and an audit
# report listing it, through A a rebuild naming it; once each answered 200,
# GET /api/v1/lookup?source= finds all four on both front-ends, and the
# artifact, subject and subject+version lookups find B's build on both.
# Then duplicates through B get the sequencer's answers (one "duplicate":
# false among concurrent copies, true for a re-submission), and B answers
# and serves only what the sequencer marked durable, also one that has
# just started (from the marked size; without a mark, 503 until one).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
G="$GL_BIN/glasslog"
make_keys
pg_log_db
pg_two_fronts

hex() { printf '%s' "$1" | sha256sum | cut -c1-64; }
SRC=$(hex "source tree of widget 1.0")
BIN=$(hex "widget 1.0 binary")
NOW=$(date +%s)
# v2 KIND SUBJECT SHA256 LINKS: a v2 statement (LINKS: the lines after
# time, each ending in a newline), signed by the submitter key.
v2() {
    printf 'glasslog.dev/statement/v2\nkind %s\nsubject %s\nversion 1.0\nsha256 %s\ntime %s\n%b' \
        "$1" "$2" "$3" "$NOW" "$4" | "$G" note sign --key "$T/sub.key"
}
v2 source widget "$SRC" "" > "$T/source.st" || fail "sign source"
v2 build widget "$BIN" "source $SRC\n" > "$T/build.st" || fail "sign build"
v2 audit-report widget-audit "$(hex report)" "audited $SRC\nscope full source review\n" \
    > "$T/audit.st" || fail "sign audit-report"
v2 rebuild widget "$BIN" "source $SRC\n" > "$T/rebuild.st" || fail "sign rebuild"

# add FRONT FILE: appends FILE through front-end FRONT; prints its index.
add() {
    local url code
    url=$(eval echo "\$URL_$1")
    code=$(curl -s -m 40 -o "$T/r" -w '%{http_code}' --data-binary "@$2" "$url/api/v1/add")
    [ "$code" = 200 ] || fail "append of $(basename "$2") through $1: $code $(cat "$T/r")"
    sed -n 's/.*"index": *\([0-9]*\).*/\1/p' "$T/r" | head -1
}
ixs=""
for f in source build audit; do ixs="$ixs $(add B "$T/$f.st")"; done
ixs="$ixs $(add A "$T/rebuild.st")"
grep -q 'took the lease' "$OUT_B" && fail "B sequenced: the test needs it to follow: $(cat "$OUT_B")"
want=$(echo $ixs | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ "$(echo $want | wc -w)" = 4 ] || fail "indices of the four appends: '$ixs'"

# found FRONT QUERY WANT: lookup?QUERY on FRONT lists exactly the indices WANT.
found() {
    local url code got
    url=$(eval echo "\$URL_$1")
    code=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' "$url/api/v1/lookup?$2")
    [ "$code" = 200 ] || fail "lookup?$2 on $1: $code $(head -c 300 "$T/body")"
    got=$(grep -o '"index": *[0-9]*' "$T/body" | grep -o '[0-9]*$' | sort -n | tr '\n' ' ')
    [ "$got" = "$3" ] || fail "lookup?$2 on $1 found '$got', want '$3'"
}
set -- $ixs # source build audit rebuild
for fe in A B; do
    found "$fe" "source=$SRC" "$want"
    found "$fe" "sha256=$SRC" "$1 "
    found "$fe" "subject=widget-audit" "$3 "
    found "$fe" "subject=widget&version=1.0" "$(printf '%s\n' "$1" "$2" "$4" | sort -n | tr '\n' ' ')"
done

# Duplicates through the follower are answered as the sequencer answers
# them: of four concurrent POSTs of one new statement through B exactly
# one says "duplicate":false, all name one index; a re-submission of an
# entry logged long ago says "duplicate":true with its index.
v2 build gadget "$(hex gadget)" "source $SRC\n" > "$T/gadget.st" || fail "sign gadget"
cpids=""
for k in 1 2 3 4; do
    curl -s -m 40 -o "$T/dup.$k" -w '%{http_code}' --data-binary "@$T/gadget.st" \
        "$URL_B/api/v1/add" > "$T/dup.$k.code" &
    cpids="$cpids $!"
done
for p in $cpids; do wait "$p"; done
for k in 1 2 3 4; do
    [ "$(cat "$T/dup.$k.code")" = 200 ] || fail "concurrent append $k through B: $(cat "$T/dup.$k.code") $(cat "$T/dup.$k")"
done
nfalse=$(cat "$T"/dup.[1-4] | grep -o '"duplicate": *false' | wc -l)
[ "$nfalse" = 1 ] || fail "$nfalse of four concurrent appends of one statement through B say duplicate false, want 1: $(cat "$T"/dup.[1-4])"
[ "$(cat "$T"/dup.[1-4] | grep -o '"index": *[0-9]*' | sort -u | wc -l)" = 1 ] ||
    fail "four appends of one statement through B got different indices: $(cat "$T"/dup.[1-4])"
code=$(curl -s -m 40 -o "$T/r" -w '%{http_code}' --data-binary "@$T/source.st" "$URL_B/api/v1/add")
[ "$code" = 200 ] || fail "re-submission of the source through B: $code $(cat "$T/r")"
grep -q '"duplicate": *true' "$T/r" || fail "re-submission through B not a duplicate: $(cat "$T/r")"
grep -q "\"index\": *$1," "$T/r" || fail "re-submission through B: index not $1: $(cat "$T/r")"

# A follower acknowledges and serves only what the sequencer marked
# durable (a COMMIT whose synchronous-standby wait was cut short is on
# the primary alone): with the mark held back (a trigger keeps its
# columns, as if A's marking transaction never came), an append through B
# is logged in the database but not answered, and B serves its old size;
# once marks arrive again (the next batch), B answers it.
size_b=$(curl -sf "$URL_B/checkpoint" | sed -n 2p)
PG_DB=log pg_sql a "CREATE FUNCTION keep_mark() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
    NEW.durable := OLD.durable; NEW.durable_ck := OLD.durable_ck;
    NEW.durable_epoch := OLD.durable_epoch; RETURN NEW; END \$\$;
  CREATE TRIGGER keep_mark BEFORE UPDATE ON glasslog_state FOR EACH ROW EXECUTE FUNCTION keep_mark()" ||
    fail "cannot hold the durable mark back"
v2 build held "$(hex held)" "source $SRC\n" > "$T/held.st" || fail "sign held"
curl -s -m 40 -o "$T/held" -w '%{http_code}' --data-binary "@$T/held.st" "$URL_B/api/v1/add" > "$T/held.code" &
hp=$!
logged() { [ "$(PG_DB=log pg_sql a "SELECT size FROM glasslog_state")" -gt "$size_b" ]; }
wait_until 10 logged || fail "the held append was not logged"
sleep 1
[ -s "$T/held.code" ] && fail "B answered an append not marked durable: $(cat "$T/held.code") $(cat "$T/held")"
[ "$(curl -sf "$URL_B/checkpoint" | sed -n 2p)" = "$size_b" ] || fail "B serves a size not marked durable"
# A follower started now serves the marked size, not the stored one.
LEASE_MS=600000 pg_front C
[ "$(curl -sf "$URL_C/checkpoint" | sed -n 2p)" = "$size_b" ] ||
    fail "C, just started, serves $(curl -s "$URL_C/checkpoint" | sed -n 2p), not the marked size $size_b"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL_C/tile/0/000.p/$((size_b + 1))")
[ "$code" = 404 ] || fail "C serves a tile past the marked size: $code"
grep -q "is not marked durable yet: starting from the marked size $size_b" "$OUT_C" ||
    fail "C did not log its start from the mark: $(cat "$OUT_C")"
# One started without a readable mark (made under another epoch) serves
# no tree until the sequencer marks one.
PG_DB=log pg_sql a "ALTER TABLE glasslog_state DISABLE TRIGGER keep_mark;
  UPDATE glasslog_state SET durable_epoch = -1;
  ALTER TABLE glasslog_state ENABLE TRIGGER keep_mark" || fail "cannot unmark"
LEASE_MS=600000 pg_front D
code=$(curl -s -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$URL_D/checkpoint")
[ "$code" = 503 ] || fail "D without a mark: /checkpoint $code $(cat "$T/body")"
grep -q "not yet seen a state the sequencer marked durable" "$T/body" || fail "D's 503: $(cat "$T/body")"
grep -qi "^retry-after: 1" "$T/hdr" || fail "D's 503 without Retry-After: $(cat "$T/hdr")"
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL_D/tile/0/000.p/1")
[ "$code" = 503 ] || fail "D without a mark: tile $code"
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL_D/healthz")
[ "$code" = 503 ] || fail "D without a mark: /healthz $code"
grep -q "not yet seen a state the sequencer marked durable" "$T/body" || fail "D's /healthz 503: $(cat "$T/body")"
PG_DB=log pg_sql a "DROP TRIGGER keep_mark ON glasslog_state" || fail "drop trigger"
v2 build released "$(hex released)" "source $SRC\n" > "$T/rel.st" || fail "sign released"
add A "$T/rel.st" > /dev/null
wait "$hp"
[ "$(cat "$T/held.code")" = 200 ] || fail "the held append through B: $(cat "$T/held.code") $(cat "$T/held")"
# past_held URL: the checkpoint URL serves is larger than the held size
past_held() { [ "$(curl -sf "$1/checkpoint" | sed -n 2p)" -gt "$((size_b + 1))" ] 2>/dev/null; }
wait_until 10 past_held "$URL_C" || fail "C does not serve the marked tree: $(curl -s "$URL_C/checkpoint")"
wait_until 10 past_held "$URL_D" || fail "D does not serve the marked tree: $(curl -s "$URL_D/checkpoint")"
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL_D/healthz")
[ "$code" = 200 ] || fail "D serving the marked tree: /healthz $code $(cat "$T/body")"

for fe in D C B A; do
    LOG_PID=$(eval echo "\$PID_$fe") LOG_OUT=$(eval echo "\$OUT_$fe") stop_log
done
echo "67-pg-follower-index: source lookups find the follower's appends on both front-ends: ok"
