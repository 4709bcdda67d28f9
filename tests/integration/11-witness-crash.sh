# Goal: the witness's state survives kill -9 and never regresses or forks.
# A client streams a growing chain of checkpoints (each with its
# consistency proof) while two attackers keep posting a forked chain,
# signed with the log's key, whose proofs rebuild nothing (a fork's true
# proof from the witness's size proves a split view and freezes the log:
# that is checked once at the end); the witness is killed with SIGKILL a
# random 0.4 to 1.4 s after the cycle's first acknowledgement (every third
# cycle before any: a crash in the first writes after a restart),
# GL_CRASH_CYCLES times (5 by default; `make soak` runs 20). After
# each restart: the stored size is at least the largest size ever
# acknowledged with 200, its root is the honest chain's (checked with
# independent code), no forked checkpoint was ever cosigned, and the
# stream resumes from the witness's size (learned from a 409 with old 0).
# Every acknowledged cosignature verifies (independent code, Python).
# At the end the fork's true proof from the witness's size is kept as
# evidence, which survives one more kill -9 and keeps the log frozen.
# Prints one line per cycle and a total.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
CHAIN="$(dirname "$0")/tools/chain.py"
CYCLES=${GL_CRASH_CYCLES:-5}
STEPS=$((200 * CYCLES + 100)) # more checkpoints than the stream can post

"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/crash --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
# Bodies: $T/b/<kind>.<size> ("old <m>", proof lines, blank, signed note),
# signed and checked with independent code (python3's cryptography).
need_py_crypto
mkdir -p "$T/b"
python3 "$CHAIN" honest "$STEPS" 3 "$T/honest.txt" "$T/log.key" "$T/b" || fail "chain"
python3 "$CHAIN" fork "$STEPS" 3 "$T/fork.txt" "$T/log.key" "$T/b" || fail "fork chain"
# The attackers' bodies: the first 60 forks with their first proof hash
# replaced, so no proof rebuilds the fork's root.
mkdir -p "$T/a"
for i in $(seq 2 60); do
    awk 'NR == 2 { print "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; next } { print }' \
        "$T/b/fork.$((3 * i + 1))" > "$T/a/fork.$((3 * i + 1))"
done

start_witness() {
    spawn witness "$W" --listen 127.0.0.1:0 --data "$T/wdata" $(create_flag "$T/wdata") \
        --key "$T/w.key" --logs "$T/logs" || return 1
    WPID=$SPAWN_PID WOUT=$SPAWN_OUT WURL=$SPAWN_URL
}
# witness_size: the stored size, from the 409 to "old 0" (0 if it answers 200).
witness_size() {
    local c
    c=$(curl -s -o "$T/ws" -w '%{http_code}' --data-binary "@$T/b/honest.3" "$WURL/add-checkpoint")
    case $c in
        409) cat "$T/ws" ;;
        200) echo 3 ;;
        *) fail "size probe answered $c" ;;
    esac
}
# stream FROM: posts the honest chain from size FROM on; logs "size line".
stream() {
    local size=$1 c
    while :; do
        size=$((size + 3))
        [ -f "$T/b/honest.$size" ] || return 0
        c=$(curl -s -o "$T/sb" -w '%{http_code}' --max-time 10 --data-binary "@$T/b/honest.$size" \
            "$WURL/add-checkpoint") || return 0
        [ "$c" = 200 ] || return 0
        printf '%s %s\n' "$size" "$(cat "$T/sb")" >> "$T/acks"
    done
}
# attacker N: posts forked checkpoints until the witness dies; a 200 is fatal.
attacker() {
    local f c
    while :; do
        for f in "$T"/a/fork.*; do
            c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --data-binary "@$f" \
                "$WURL/add-checkpoint") || return 0
            [ "$c" = 200 ] && echo "$f" >> "$T/forks-cosigned"
            sleep 0.02
        done
    done
}

: > "$T/acks"
t0=$(date +%s)
start_witness
from=0
for cycle in $(seq "$CYCLES"); do
    before=$(wc -l < "$T/acks")
    stream "$from" & sp=$!
    attacker & a1=$!
    attacker & a2=$!
    PIDS="$PIDS $sp $a1 $a2"
    # the kill lands a random time after the cycle's first acknowledgement
    # (a loaded machine may take seconds to give one); every third cycle
    # a random time under 0.2 s after the streams start
    early=$((cycle % 3 == 0))
    if [ "$early" = 1 ]; then
        sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", (r % 20) / 100 }')"
    else
        wait_until 60 sh -c "[ \$(wc -l < '$T/acks') -gt $before ]" ||
            fail "cycle $cycle: nothing acknowledged in 60 s: $(tail -3 "$WOUT")"
        sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 100) / 100 }')"
    fi
    kill -9 "$WPID"
    wait "$WPID" 2>/dev/null
    wait "$sp" "$a1" "$a2"
    [ -s "$T/forks-cosigned" ] && fail "a forked checkpoint was cosigned: $(cat "$T/forks-cosigned")"
    acked=$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$T/acks")
    [ -f "$T/b/honest.$((acked + 3))" ] || fail "cycle $cycle: the chain ran out (raise STEPS)"
    [ "$early" = 1 ] || [ "$acked" -gt "$from" ] || fail "cycle $cycle: nothing acknowledged"
    start_witness || fail "restart after kill -9 failed: $(cat "$WOUT")"
    size=$(witness_size)
    [ "$size" -ge "$acked" ] || fail "cycle $cycle: state regressed: size $size < acknowledged $acked"
    want=$(awk -v s="$size" '$2 == s { print $3 }' "$T/honest.txt")
    curl -sf "$WURL/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint" > "$T/mon" ||
        fail "monitoring after restart"
    [ "$(sed -n 2p "$T/mon")" = "$size" ] && [ "$(sed -n 3p "$T/mon")" = "$want" ] ||
        fail "cycle $cycle: stored tree is not the honest chain at $size"
    echo "cycle $cycle: $(($(wc -l < "$T/acks") - before)) cosignatures acknowledged," \
        "largest acknowledged size $acked, size after restart $size (honest root), 0 forks cosigned"
    from=$size
done
[ "$(curl -s "$WURL/evidence")" = "[]" ] || fail "an honest chain produced evidence"
# The fork's true proof from the witness's size (chain.py's fork.S+4 is
# pushed from S) proves the split: kept as evidence, durable across kill -9.
c=$(curl -s -o "$T/fb" -w '%{http_code}' --data-binary "@$T/b/fork.$((size + 4))" "$WURL/add-checkpoint")
[ "$c" = 422 ] && grep -q "kept as evidence" "$T/fb" ||
    fail "a fork with its true proof from $size: $c $(cat "$T/fb")"
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
start_witness || fail "restart after the evidence failed: $(cat "$WOUT")"
curl -s "$WURL/evidence" | grep -q '"origin": *"example.com/log"' ||
    fail "the evidence did not survive kill -9: $(curl -s "$WURL/evidence")"
c=$(curl -s -o "$T/fb" -w '%{http_code}' --data-binary "@$T/b/honest.$((size + 3))" "$WURL/add-checkpoint")
echo "after the evidence: the next honest checkpoint answered $c $(cat "$T/fb")"
[ "$c" = 422 ] || fail "the frozen log's next honest checkpoint answered $c"
python3 "$(dirname "$0")/tools/cosigcheck.py" "$T/w.key.pub" "$T/acks" "$T/b" > "$T/cosig.out" ||
    fail "an acknowledged cosignature does not verify"
kill -TERM "$WPID"
wait "$WPID" || fail "witness exit status on SIGTERM"
echo "11-witness-crash: $CYCLES kill -9 cycles, $(sed -n 's/ verified//p' "$T/cosig.out")" \
    "acknowledged and verified, never a fork or a regression, $(($(date +%s) - t0)) s: ok"
