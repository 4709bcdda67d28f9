# Goal: a reload whose new engine cannot start stops the witness safely.
# (First, a list without the key that signed the stored checkpoint is
# refused and the witness goes on with the lists in use.)
# A witness has cosigned a checkpoint; a test-only shim (tests/fault/nothreads.c, LD_PRELOAD)
# then makes pthread_create fail while $T/nothreads exists, so on SIGHUP
# with a changed log list the new engine cannot start its committer.
# For one second /healthz answers 503 with the reason, and the monitoring
# endpoint keeps serving what was cosigned (from the old engine, which was
# not freed); every answer is a whole one, never a crash; the log says
# why, and the witness exits with status 1 (not 0, not a signal), so a
# supervisor restarts it. Restarted without the shim, it serves what it cosigned and
# the new list.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name other.example/log --out "$T/log2.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/rf --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
MON="/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint"

SHIM=${GL_BUILD:-build}/tests/fault/nothreads.so
[ -f "$SHIM" ] || fail "no shim at $SHIM (make test-build makes it)"
asan=$(ldd "$W" | awk '/libasan/ { print $3 }')

spawn witness env LD_PRELOAD="${asan:+$asan:}$SHIM" GL_NOTHREADS="$T/nothreads" \
    "$W" --listen 127.0.0.1:0 --data "$T/wd" --create --key "$T/w.key" --logs "$T/logs" ||
    fail "witness did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT

# A checkpoint of size 5 (old 0 needs no proof), cosigned.
printf 'example.com/log\n5\n%s\n' "$(printf 'x%.0s' $(seq 32) | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/ck" || fail "note sign"
{ printf 'old 0\n\n'; cat "$T/ck"; } > "$T/add"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/add" "$WURL/add-checkpoint")
[ "$CODE" = 200 ] || fail "add-checkpoint answered $CODE: $(cat "$T/body")"
curl -sf "$WURL$MON" > "$T/mon" || fail "monitoring endpoint"
[ "$(sed -n 2p "$T/mon")" = 5 ] || fail "monitoring endpoint serves $(cat "$T/mon")"

# A list that drops the key which signed the stored checkpoint (a rotation
# to log.new.key whose old key went too early) is refused: the stored
# checkpoint could prove nothing; the lists in use stay.
"$G" keygen --name example.com/log --out "$T/log.new.key" > /dev/null || fail keygen
cp "$T/logs" "$T/logs.kept"
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.new.key.pub")" > "$T/logs"
kill -HUP "$WPID"
wait_until 5 grep -q "reload: refused; the lists in use stay" "$WOUT" ||
    fail "a list without the stored checkpoint's key was not refused: $(tail -3 "$WOUT")"
grep -q "the stored checkpoint of example.com/log (size 5) is signed by none of the log's keys in the list" "$WOUT" ||
    fail "the refusal does not say why: $(tail -3 "$WOUT")"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/add" "$WURL/add-checkpoint")
[ "$CODE" = 409 ] || fail "after the refused reload add-checkpoint answered $CODE: $(cat "$T/body")"
cp "$T/logs.kept" "$T/logs"

# readers: /healthz and the monitoring endpoint in a loop until the
# witness is gone; each answer as "CODE BODY-FIRST-LINE".
reader() {
    local i code
    for i in $(seq 2000); do
        code=$(curl -s -o "$T/r.$1" -w '%{http_code}' "$WURL$2")
        echo "$code $(head -n 1 "$T/r.$1" 2> /dev/null)" >> "$T/codes.$1"
        [ "$code" = 000 ] && ! kill -0 "$WPID" 2> /dev/null && break
    done
}
reader h /healthz &
RH=$!
reader m "$MON" &
RM=$!
for i in $(seq 100); do # both readers answered once
    grep -qs '^200 ' "$T/codes.h" && grep -qs '^200 ' "$T/codes.m" && break
    sleep 0.1
done
printf 'logs/v0\nvkey %s\nvkey %s\n' "$(cat "$T/log.key.pub")" "$(cat "$T/log2.key.pub")" \
    > "$T/logs"
: > "$T/nothreads"
kill -HUP "$WPID"
rc=0
wait "$WPID" || rc=$?
wait "$RH" "$RM"
rm -f "$T/nothreads"
[ "$rc" = 1 ] || fail "witness exited $rc after the failed reload, want 1: $(tail -5 "$WOUT")"
grep -q "reload: cannot load the witness state for the new list" "$WOUT" ||
    fail "no log line for the failed reload: $(tail -5 "$WOUT")"
grep -qi "AddressSanitizer\|runtime error" "$WOUT" && fail "sanitizer report: $(cat "$WOUT")"
# every answer whole: 200 ok / 503 reason for /healthz, 200 for the record
bad=$(grep -v -e '^200 ok$' -e '^000 ' \
    -e '^503 the witness is stopping: a reload could not load its state$' "$T/codes.h")
[ -z "$bad" ] || fail "/healthz answered: $bad"
bad=$(grep -v -e '^200 example.com/log$' -e '^000 ' "$T/codes.m")
[ -z "$bad" ] || fail "the monitoring endpoint answered: $bad"
grep -q '^200 ' "$T/codes.h" || fail "no /healthz answer before the reload"
grep -q '^503 ' "$T/codes.h" || fail "/healthz never answered 503 while stopping"
grep -q '^200 ' "$T/codes.m" || fail "no monitoring answer"
echo "healthz answers: $(cut -d' ' -f1 "$T/codes.h" | sort | uniq -c | tr '\n' ' ')"

# Restarted (no shim): what was cosigned, and the new list.
spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wd" --key "$T/w.key" --logs "$T/logs" ||
    fail "witness did not restart: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL
curl -sf "$WURL$MON" > "$T/mon" || fail "monitoring endpoint after the restart"
[ "$(sed -n 2p "$T/mon")" = 5 ] || fail "after the restart it serves $(cat "$T/mon")"
grep -q "witnessing 2 logs" "$SPAWN_OUT" || fail "the new list not loaded: $(cat "$SPAWN_OUT")"
kill -TERM "$WPID"
wait "$WPID" || fail "witness exited $? on SIGTERM"
echo "PASS: 18-witness-reload-fail"
