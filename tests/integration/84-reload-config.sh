# Goal: SIGHUP reads --config FILE again with the command line, as at
# start. glasslogd: the file switched to another submitters file takes
# effect (a key only in the new file appends, one only in the old gets
# 403), so do a new submit-rate/submit-burst default and log-level; an
# edit of a setting only a restart applies (listen) refuses the whole
# reload in one line naming it, and everything in use stays (the
# submitters switched back in the same edit are not applied, the port
# still serves). glasslog-witness: the file switched to another logs file
# takes effect; an edit of poll-interval (restart only) is refused in one
# line naming it and the lists in use stay.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
make_keys
"$G" keygen --name ci2.example.com --out "$T/sub2.key" > "$T/sub.new" || fail keygen
cp "$T/submitters" "$T/sub.old"

# hup PID OUT PATTERN N: SIGHUP, then wait for the Nth line matching PATTERN.
hup() {
    kill -HUP "$1"
    wait_until 30 sh -c "[ \$(grep -c -- '$3' '$2') -ge $4 ]" ||
        fail "no '$3' line after SIGHUP: $(tail -3 "$2")"
    kill -0 "$1" || fail "$1 died on SIGHUP"
}

# --- glasslogd ------------------------------------------------------------------------
printf 'listen 127.0.0.1:0\nsubmitters %s\nlog-level info\n' "$T/sub.old" > "$T/log.conf"
spawn glasslogd "$GL_BIN/glasslogd" --data "$T/data" --create --key "$T/log.key" \
    --batch-ms 2 --config "$T/log.conf" || fail "glasslogd did not start: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=$SPAWN_URL
post_as "$T/sub.key" a1; [ "$CODE" = 200 ] || fail "listed key: $CODE"
post_as "$T/sub2.key" b1; [ "$CODE" = 403 ] || fail "unlisted key answered $CODE"

# The file names another submitters file, a rate default, a log level.
printf 'listen 127.0.0.1:0\nsubmitters %s\nsubmit-rate 0.001\nsubmit-burst 1\nlog-level warn\n' \
    "$T/sub.new" > "$T/log.conf"
"$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" --config "$T/log.conf" \
    --check-config > /dev/null 2>&1 || fail "check-config refused the new file"
hup "$LOG_PID" "$LOG_OUT" 'reload: applied' 1
grep -q "reload: applied: 1 submitter key(s) from $T/sub.new" "$LOG_OUT" ||
    fail "not the new submitters file: $(grep reload: "$LOG_OUT")"
post_as "$T/sub2.key" b2; [ "$CODE" = 200 ] || fail "key of the new file answered $CODE"
post_as "$T/sub.key" a2; [ "$CODE" = 403 ] || fail "key of the old file answered $CODE"
post_as "$T/sub2.key" b3; [ "$CODE" = 429 ] || fail "the new submit-rate/burst default: $CODE"

# listen changed (and the old submitters file back): refused as a whole,
# naming listen; the level (warn) drops the SIGHUP's info line.
printf 'listen 127.0.0.1:1\nsubmitters %s\nlog-level warn\n' "$T/sub.old" > "$T/log.conf"
hup "$LOG_PID" "$LOG_OUT" 'reload: refused' 1
grep -q "reload: refused: listen changed: only a restart applies it; everything in use stays" \
    "$LOG_OUT" || fail "refusal line: $(grep reload: "$LOG_OUT")"
[ "$(grep -c 'SIGHUP: reloading' "$LOG_OUT")" = 1 ] ||
    fail "log-level warn not applied: $(tail -3 "$LOG_OUT")"
post_as "$T/sub.key" a3; [ "$CODE" = 403 ] || fail "a refused reload switched the submitters: $CODE"
post_as "$T/sub2.key" b4; [ "$CODE" = 429 ] || fail "a refused reload changed the limits: $CODE"
expect_http 200 GET /checkpoint
# Several settings a restart applies: all named.
printf 'listen 127.0.0.1:1\nsubmitters %s\nbatch-max 7\n' "$T/sub.new" > "$T/log.conf"
hup "$LOG_PID" "$LOG_OUT" 'reload: refused' 2
grep -q "reload: refused: listen, batch-max changed: only a restart applies them" "$LOG_OUT" ||
    fail "refusal line: $(grep reload: "$LOG_OUT" | tail -1)"
# The command line still wins over the file: --batch-ms 2 stays, so the
# reload applies (quietly: the level in use is warn), and the old file's
# key appends again.
printf 'listen 127.0.0.1:0\nsubmitters %s\nbatch-ms 9\n' "$T/sub.old" > "$T/log.conf"
kill -HUP "$LOG_PID"
old_key_in() { post_as "$T/sub.key" "a-$(date +%s%N)"; [ "$CODE" = 200 ]; }
wait_until 30 old_key_in || fail "the command line's --batch-ms lost to the file: $(tail -2 "$LOG_OUT")"
[ "$(grep -c 'reload: refused' "$LOG_OUT")" = 2 ] || fail "refused: $(tail -2 "$LOG_OUT")"
# The level is info again: the next SIGHUP's line shows.
hup "$LOG_PID" "$LOG_OUT" 'SIGHUP: reloading' 2
# A file that does not parse: refused, everything stays.
echo 'frobnicate 1' >> "$T/log.conf"
hup "$LOG_PID" "$LOG_OUT" 'reload: refused' 3
grep -q 'reload: refused: the settings do not parse' "$LOG_OUT" || fail "bad file: $(tail -3 "$LOG_OUT")"
post_as "$T/sub.key" a4; [ "$CODE" = 200 ] || fail "after a bad file: $CODE"
stop_log

# --- glasslog-witness -----------------------------------------------------------------
make_witness_keys 1
"$G" keygen --name example.com/log2 --out "$T/log2.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs.a"
printf 'logs/v0\nvkey %s\nvkey %s\n' "$(cat "$T/log.key.pub")" "$(cat "$T/log2.key.pub")" \
    > "$T/logs.b"
printf 'listen 127.0.0.1:%s\nlogs %s\n' "$PORT1" "$T/logs.a" > "$T/w.conf"
spawn witness "$GL_BIN/glasslog-witness" --data "$T/wd1" --create --key "$T/w1.key" \
    --config "$T/w.conf" || fail "witness did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WOUT=$SPAWN_OUT
grep -q 'serving 1 logs' "$WOUT" || fail "witness start: $(cat "$WOUT")"
# The file names another logs file: the witness switches to it.
printf 'listen 127.0.0.1:%s\nlogs %s\n' "$PORT1" "$T/logs.b" > "$T/w.conf"
hup "$WPID" "$WOUT" 'reload: witnessing' 1
grep -q 'reload: witnessing 2 logs' "$WOUT" || fail "not the new logs file: $(grep reload: "$WOUT")"
# poll-interval changed (and the first logs file back): refused, naming it.
printf 'listen 127.0.0.1:%s\nlogs %s\npoll-interval 5\n' "$PORT1" "$T/logs.a" > "$T/w.conf"
hup "$WPID" "$WOUT" 'reload: refused' 1
grep -q 'reload: refused: poll-interval changed: only a restart applies it; the lists in use stay' \
    "$WOUT" || fail "witness refusal: $(grep reload: "$WOUT")"
sleep 0.5
[ "$(grep -c 'reload: witnessing' "$WOUT")" = 1 ] || fail "a refused reload switched: $(grep reload: "$WOUT")"
# Back to the start's settings: the first logs file again.
printf 'listen 127.0.0.1:%s\nlogs %s\n' "$PORT1" "$T/logs.a" > "$T/w.conf"
hup "$WPID" "$WOUT" 'reload: witnessing' 2
grep 'reload: witnessing' "$WOUT" | tail -1 | grep -q 'witnessing 1 logs' ||
    fail "witness reload: $(grep reload: "$WOUT")"
kill -TERM "$WPID"
wait "$WPID" || fail "witness exited $? on SIGTERM"
echo "84-reload-config: ok"
