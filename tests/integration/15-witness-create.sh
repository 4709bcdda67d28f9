# Goal: glasslog-witness makes new state only when told to, so a lost disk
# never silently forgets what it cosigned: --help lists --create; a missing
# or empty data directory is refused without --create (exit 1, a message
# naming the directory and --create, nothing written); --create in a
# directory that holds anything is refused the same way; --create in a
# missing directory makes the state, and restarts without --create keep
# it (the cosigned size survives and --create is refused from then on).
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/create --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
run() { expect_rc "$1" "$W" --listen 127.0.0.1:0 --key "$T/w.key" --logs "$T/logs" "${@:2}"; }

expect_rc 0 "$W" --help
grep -q -- "--create" "$T/out" || fail "--help does not list --create: $(cat "$T/out")"

# A missing directory, an empty one: refused, and left as they were.
run 1 --data "$T/missing"
expect_err "$T/missing: the data directory is missing or empty"
expect_err "use --create"
[ -e "$T/missing" ] && fail "a refused start created $T/missing"
mkdir "$T/empty"
run 1 --data "$T/empty"
expect_err "$T/empty: the data directory is missing or empty"
[ -z "$(ls -A "$T/empty")" ] || fail "a refused start wrote into $T/empty: $(ls -A "$T/empty")"

# --create where something is already: refused, untouched.
mkdir "$T/used"
echo keep > "$T/used/file"
run 1 --data "$T/used" --create
expect_err "$T/used: --create needs a missing or empty data directory"
[ "$(ls -A "$T/used")" = file ] || fail "a refused --create wrote into $T/used: $(ls -A "$T/used")"

# --create in a missing directory (and in an empty one) makes a witness.
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
start() {
    spawn witness "$W" --listen 127.0.0.1:0 --key "$T/w.key" --logs "$T/logs" "$@" ||
        fail "witness did not start: $(cat "$SPAWN_OUT")"
    WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
}
stop() { kill -TERM "$WPID"; wait "$WPID" || fail "witness exited $? on SIGTERM: $(tail -3 "$WOUT")"; }
start --data "$T/empty" --create
stop
start --data "$T/wd" --create
grep -q "new witness state in $T/wd" "$WOUT" || fail "no 'new witness state' line: $(cat "$WOUT")"
R=$(python3 -c 'import base64, hashlib; print(base64.b64encode(hashlib.sha256(b"x").digest()).decode())')
printf 'example.com/log\n7\n%s\n' "$R" | "$G" note sign --key "$T/log.key" > "$T/ck" || fail sign
{ printf 'old 0\n\n'; cat "$T/ck"; } > "$T/body.in"
[ "$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/body.in" "$WURL/add-checkpoint")" = 200 ] ||
    fail "first checkpoint not cosigned: $(cat "$T/body")"
stop

# Restarted without --create: the state is there (409 with size 7).
start --data "$T/wd"
grep -q "new witness state" "$WOUT" && fail "a restart made new state: $(cat "$WOUT")"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/body.in" "$WURL/add-checkpoint")
[ "$CODE" = 409 ] && [ "$(cat "$T/body")" = 7 ] || fail "restart lost the state: $CODE $(cat "$T/body")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$WURL/$HEX/checkpoint")" = 200 ] || fail "monitoring after restart"
stop
# and --create on it now is refused.
run 1 --data "$T/wd" --create
expect_err "--create needs a missing or empty data directory"
echo "15-witness-create: ok"
