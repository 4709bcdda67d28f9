# Goal: clients fail over to a mirror and never trust it. A log pushes to a
# mirror (hosted by witness 1, its own key); the policy's quorum is the
# mirror's cosignature. Given `--log <dead URL> --log <mirror URL>`,
# `glasslog monitor` follows the log through the mirror (checkpoint and
# tiles) and `get checkpoint` / `get tile` answer from it, equal to the
# log's; with the log stopped, the monitor keeps following the mirror from
# its stored state. A policy the mirror checkpoint does not meet (a
# witness quorum) is refused (exit 2); a mirror whose tile was tampered
# with (tools/tamper_proxy.py in front of it) is an alarm (exit 2), and
# one whose entry bundle was is an alarm and its checkpoint not adopted;
# a 503 (with a Retry-After longer than --timeout) from the first URL
# moves on to the next at once, and so does a 404 while another URL is
# left to ask; `lookup` and `get entry` work through a
# mirror alone (its JSON read API), under the same policy checks;
# malformed --log lists exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
mirror_setup
DEAD="http://127.0.0.1:$(free_port)"
echo "witness w1 $(cat "$T/w1.key.pub") http://127.0.0.1:$PORT1" > "$T/witnesses"
echo "quorum w1" >> "$T/witnesses"
start_log "$T/data" --create --batch-ms 2 --witnesses "$T/witnesses" --mirrors "$T/mirrors"
policy "$T/p.w1" "log $LOGK" "submitter $SUBK" "witness w1 $(cat "$T/w1.key.pub")" "quorum w1"
expect_rc 0 "$G" policy check "$T/policy"

mirror_at() { # mirror_at N: waits until the mirror's checkpoint has size N
    wait_until 30 sh -c "[ \"\$(curl -sf $MIRROR/checkpoint | sed -n 2p)\" = $1 ]" ||
        fail "the mirror never reached size $1: $(curl -s "$MIRROR/checkpoint"; grep mirror "$LOG_OUT" | tail -3)"
}
for i in 1 2 3 4 5; do append_one my-app "1.$i" > /dev/null || fail "append 1.$i"; done
mirror_at 5
mon() { # mon STATE POLICY URL...: one monitor pass
    local s=$1 p=$2
    shift 2
    local args=()
    for u in "$@"; do args+=(--log "$u"); done
    "$G" monitor "${args[@]}" --policy "$p" --state "$s" --once --no-progress --timeout 5
}

# the log answers first: the monitor reads it (policy met by the mirror cosignature it serves)
expect_rc 0 mon "$T/s0" "$T/policy" "$LOG_URL" "$MIRROR"
expect_out "tree size 5, verified, no alarm"
# a dead first URL: everything comes from the mirror
expect_rc 0 mon "$T/s1" "$T/policy" "$DEAD" "$MIRROR"
expect_out "log example.com/log: tree size 5, verified, no alarm"
ID=$(ls "$T/s1")
[ "$(sed -n 2p "$T/s1/$ID/checkpoint")" = 5 ] || fail "the mirror's checkpoint was not stored"
grep -q "^— mirror1.example " "$T/s1/$ID/checkpoint" || fail "stored checkpoint lacks the mirror cosignature"
# the comma form is the same list
expect_rc 0 "$G" get checkpoint --log "$DEAD,$MIRROR" --policy "$T/policy" --timeout 5
expect_err "verified: log example.com/log, tree size 5"
expect_rc 0 "$G" get tile tile/0/000.p/5 --log "$DEAD" --log "$MIRROR" --timeout 5
curl -sf "$LOG_URL/tile/0/000.p/5" | od -An -v -tx1 -w32 | tr -d ' ' > "$T/tile.log"
[ "$(wc -l < "$T/tile.log")" = 5 ] || fail "the log's tile: $(cat "$T/tile.log")"
cut -d' ' -f2 "$T/out" | cmp -s - "$T/tile.log" ||
    { cat "$T/out" >&2; fail "the tile through the mirror differs from the log's"; }
# a prefix that answers 404 (glasslogd under a path it does not serve) is
# not the last word while another prefix has the tile
expect_rc 0 "$G" get tile tile/0/000.p/5 --log "$LOG_URL/none,$MIRROR" --timeout 5
cut -d' ' -f2 "$T/out" | cmp -s - "$T/tile.log" || fail "the tile after a 404: $(cat "$T/out")"
expect_rc 1 "$G" get tile tile/0/001 --log "$LOG_URL/none,$MIRROR" --timeout 5
expect_err "the log answered 404"
# the mirror checkpoint has no witness cosignature: a witness quorum refuses it
expect_rc 2 mon "$T/s2" "$T/p.w1" "$DEAD" "$MIRROR"
[ -e "$T/s2/$ID/checkpoint" ] && fail "a checkpoint without quorum was stored"
# lookup and get entry through the mirror alone (it serves the JSON API),
# verified under the policy as from the log
expect_rc 0 "$G" lookup --log "$DEAD" --log "$MIRROR" --policy "$T/policy" --state "$T/ls" \
    --sha256 "$(printf 'my-app 1.1' | sha256sum | cut -c1-64)" --timeout 5
expect_out "^index 0: build my-app 1.1, sha256 $(printf 'my-app 1.1' | sha256sum | cut -c1-64)"
expect_out "in log example.com/log at tree size 5"
expect_err "1 statements\? found, 1 verified"
expect_rc 0 "$G" get entry 4 --log "$DEAD,$MIRROR" --timeout 5
expect_out "^version 1.5$"
# a witness quorum is not met by the mirror checkpoint: lookup refuses it too
expect_rc 2 "$G" lookup --log "$DEAD" --log "$MIRROR" --policy "$T/p.w1" --state "$T/ls2" \
    --sha256 "$(printf 'my-app 1.1' | sha256sum | cut -c1-64)" --timeout 5
expect_err "the cosignatures do not satisfy the policy's quorum"

# more entries, then the log stops: the monitor follows the mirror from its state
for i in 6 7 8; do append_one my-app "1.$i" > /dev/null || fail "append 1.$i"; done
mirror_at 8
stop_log
expect_rc 0 mon "$T/s1" "$T/policy" "$LOG_URL" "$MIRROR"
expect_out "tree size 8, verified, no alarm"
[ "$(sed -n 2p "$T/s1/$ID/checkpoint")" = 8 ] || fail "the monitor did not advance to 8"

# a mirror that lies about a tile or an entry bundle: a failed verification
# (exit 2) naming the mirror, but no alarm against the log (a mirror signs
# no tile: nothing shows the log's tree wrong, and there is no evidence to
# keep); a tree whose entries do not hash to the signed root is not adopted
LOG_URL0=$LOG_URL LOG_URL=$MIRROR
start_proxy
LOG_URL=$LOG_URL0
echo tile-hash > "$MODE"
expect_rc 2 mon "$T/s3" "$T/policy" "$DEAD" "$PROXY_URL"
expect_err "bundle 0 (entry 1 and tile 0/0), served by mirror $PROXY_URL, differs from the log's signed tree of size 8: no alarm against the log"
[ -d "$T/s3/$ID/alarms" ] && fail "an alarm against the log for the mirror's tile: $(ls "$T/s3/$ID/alarms")"
echo bundle-entry > "$MODE"
expect_rc 2 mon "$T/s4" "$T/policy" "$DEAD" "$PROXY_URL"
expect_err "served by mirror $PROXY_URL, differs from the log's signed tree of size 8"
[ -d "$T/s4/$ID/alarms" ] && fail "an alarm against the log for the mirror's bundle: $(ls "$T/s4/$ID/alarms")"
[ -e "$T/s4/$ID/checkpoint" ] && fail "a checkpoint with a tampered entry was stored"
# a server answering 503 first: the client moves on to the mirror at once
echo flaky > "$MODE"
expect_rc 0 "$G" get checkpoint --log "$PROXY_URL" --log "$MIRROR" --policy "$T/policy" --timeout 5
expect_err "verified: log example.com/log, tree size 8"
stop_proxy
# a server that always answers 503 with Retry-After: 30: retrying it would
# outlast --timeout 5, moving on to the mirror answers at once
spawn busy env PYTHONPATH="$TOOLS" python3 -u -c '
import stubhttp
stubhttp.serve(lambda method, path, body: (503, b"busy\n", {"Retry-After": "30"}))' ||
    fail "the 503 server did not start: $(cat "$SPAWN_OUT")"
BUSY=$SPAWN_URL BUSY_PID=$SPAWN_PID
expect_rc 3 "$G" get checkpoint --log "$BUSY" --timeout 5
expect_err "answered 503"
START=$(date +%s)
expect_rc 0 mon "$T/s1" "$T/policy" "$BUSY" "$MIRROR"
expect_out "tree size 8, verified, no alarm"
[ $(($(date +%s) - START)) -lt 5 ] || fail "the 503 server was retried instead of the mirror"
kill "$BUSY_PID"; wait "$BUSY_PID" 2>/dev/null

# malformed lists
expect_rc 3 "$G" monitor --log "$MIRROR," --policy "$T/policy" --state "$T/s5" --once
expect_err "an empty URL"
expect_rc 3 "$G" get checkpoint --log "$MIRROR" --log "ftp://m.example"
expect_err "'ftp://m.example' must start with http:// or https://"
stop_witness 1
echo "54-mirror-client: ok"
