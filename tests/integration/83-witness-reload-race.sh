# Goal: a reload re-checks the stored checkpoints once nothing can change
# them. The witness holds a checkpoint signed by a log's new key only (the
# list names the old key and the new one). A larger checkpoint signed by
# the old key only is posted while the disk is slow (fault shim: each
# sync of the data files waits 3 s); once its write has started, a SIGHUP
# brings a list that names only the new key. The check made when the
# reload is asked passes (the write has not landed), the add is answered
# 200 while the reload waits, and the check made again before the switch
# refuses the list: the witness goes on with the lists in use (the old
# key still accepted, /healthz ok) instead of failing to load its own
# state and exiting.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name example.com/log --out "$T/log.new.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/rr --cosigner --out "$T/w.key" > /dev/null || fail keygen
need_py_crypto
mkdir -p "$T/bold" "$T/bnew"
python3 "$TOOLS/chain.py" honest 2 3 "$T/c.txt" "$T/log.key" "$T/bold" || fail "chain"
python3 "$TOOLS/chain.py" honest 2 3 "$T/c.txt" "$T/log.new.key" "$T/bnew" || fail "chain"
printf 'logs/v0\nvkey %s\nvkey %s\n' "$(cat "$T/log.key.pub")" "$(cat "$T/log.new.key.pub")" \
    > "$T/logs"
MON="/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint"

fault_wrap "$T/wd"
spawn witness $FAULT_WRAP "$W" --listen 127.0.0.1:0 --data "$T/wd" --create \
    --key "$T/w.key" --logs "$T/logs" || fail "witness did not start: $(cat "$SPAWN_OUT")"
WPID=$SPAWN_PID WURL=$SPAWN_URL WOUT=$SPAWN_OUT
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/bnew/honest.3" \
    "$WURL/add-checkpoint")
[ "$CODE" = 200 ] || fail "size 3 (new key) answered $CODE: $(cat "$T/body")"

printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.new.key.pub")" > "$T/logs"
fault_set "delay 3000 sync"
curl -s -o "$T/body6" -w '%{http_code}' --data-binary "@$T/bold/honest.6" \
    "$WURL/add-checkpoint" > "$T/code6" &
CURL=$!
wait_until 10 grep -q "faultfs: delaying" "$WOUT" || fail "the slow write never started"
kill -HUP "$WPID"
wait "$CURL"
[ "$(cat "$T/code6")" = 200 ] || fail "size 6 (old key) answered $(cat "$T/code6")"
fault_set off
wait_until 15 grep -q "reload: refused: a checkpoint stored while the reload waited" "$WOUT" ||
    fail "the reload was not refused: $(tail -5 "$WOUT")"
kill -0 "$WPID" 2> /dev/null || fail "the witness stopped: $(tail -5 "$WOUT")"
grep -q "reload: cannot load the witness state" "$WOUT" && fail "the new engine was tried"
CODE=$(curl -s -o "$T/hz" -w '%{http_code}' "$WURL/healthz")
[ "$CODE" = 200 ] || fail "/healthz answered $CODE: $(cat "$T/hz")"
curl -sf "$WURL$MON" > "$T/mon" || fail "monitoring endpoint"
[ "$(sed -n 2p "$T/mon")" = 6 ] || fail "the monitoring endpoint serves $(cat "$T/mon")"
# the old key still counts: the lists in use stayed
{ printf 'old 6\n\n'; cat "$T/bold/honest.6.ck"; } > "$T/replay6"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/replay6" \
    "$WURL/add-checkpoint")
[ "$CODE" = 200 ] || fail "the old key's checkpoint after the refusal answered $CODE: $(cat "$T/body")"
kill -TERM "$WPID"
wait "$WPID" || fail "witness exited $? on SIGTERM"
echo "83-witness-reload-race: ok"
