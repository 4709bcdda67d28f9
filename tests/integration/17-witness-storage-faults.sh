# Goal: the witness on a failing disk. A fault shim (tests/fault/faultfs.c,
# LD_PRELOAD) makes the writes or the syncs of the witness's data files
# fail with ENOSPC or EIO; all four kinds are tried, each on a fresh
# witness. The add-checkpoint whose commit fails answers 503 and no
# cosignature; the engine then fails stop: every later change answers 503,
# even once the disk works again, while the monitoring endpoint keeps
# serving the last durable cosigned checkpoint and /healthz answers 503
# with a reason; cosigned_total (/metrics) counts only the cosignatures
# given, not the one that became a 503. A restart loads the durable state: its size is the last
# acknowledged one or the failed one (its batch reached the disk or did
# not), its root the honest chain's; the stream resumes from there, a
# forked checkpoint is still refused, and every cosignature given, before
# and after, verifies with independent code. A fork pushed from the size
# the witness holds, with its own proof, is kept as split-view evidence. Finally a witness whose disk
# fails at start refuses to start with a clear message.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
"$G" keygen --name example.com/log --out "$T/log.key" > /dev/null || fail keygen
"$G" keygen --name witness.example/faults --cosigner --out "$T/w.key" > /dev/null || fail keygen
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
need_py_crypto
mkdir -p "$T/b"
python3 "$TOOLS/chain.py" honest 40 3 "$T/honest.txt" "$T/log.key" "$T/b" || fail "chain"
python3 "$TOOLS/chain.py" fork 10 3 "$T/fork.txt" "$T/log.key" "$T/b" || fail "fork chain"
MON="/$(printf %s example.com/log | sha256sum | cut -c1-64)/checkpoint"

# start_w DATA: the witness under the fault shim (--create the first
# time); sets WPID, WOUT, WURL.
start_w() {
    local rc=0
    spawn witness $FAULT_WRAP "$W" --listen 127.0.0.1:0 --data "$1" $(create_flag "$1") \
        --key "$T/w.key" --logs "$T/logs" || rc=$?
    WPID=$SPAWN_PID WOUT=$SPAWN_OUT WURL=${SPAWN_URL:-}
    return $rc
}
# add SIZE: posts honest.SIZE; sets CODE, body in $T/body.
add() {
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/b/honest.$1" \
        "$WURL/add-checkpoint")
}
# cosign SIZE: add that must be cosigned; recorded in $T/acks.
cosign() {
    add "$1"
    [ "$CODE" = 200 ] || fail "$name: size $1 answered $CODE: $(cat "$T/body")"
    printf '%s %s\n' "$1" "$(cat "$T/body")" >> "$T/acks"
}
# monitored: "size root" of the checkpoint the monitoring endpoint serves.
monitored() {
    curl -sf "$WURL$MON" > "$T/mon" || fail "$name: monitoring endpoint"
    echo "$(sed -n 2p "$T/mon") $(sed -n 3p "$T/mon")"
}
root_at() { awk -v s="$1" '$2 == s { print $3 }' "$T/honest.txt"; }

: > "$T/acks"
for kind in "enospc write" "eio write" "enospc sync" "eio sync"; do
    set -- $kind
    name="$1-$2"
    data="$T/wd-$name"
    fault_wrap "$data"
    start_w "$data" || fail "$name: start: $(cat "$WOUT")"
    for s in 3 6 9; do cosign "$s"; done

    fault_set "$1 0 $2"
    add 12
    [ "$CODE" = 503 ] || fail "$name: the add during the fault answered $CODE: $(cat "$T/body")"
    [ -s "$T/body" ] || fail "$name: 503 without a reason"
    grep -q "faultfs: injecting" "$WOUT" || fail "$name: the fault never fired"
    [ "$(monitored)" = "9 $(root_at 9)" ] || fail "$name: the monitoring endpoint moved: $(monitored)"
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' "$WURL/healthz")
    [ "$CODE" = 503 ] && grep -q storage "$T/body" || fail "$name: /healthz answered $CODE"
    fault_set off
    add 12
    [ "$CODE" = 503 ] || fail "$name: a change after the failure answered $CODE (fail stop)"
    # the cosignature whose write failed became a 503: not counted as cosigned
    curl -sf "$WURL/metrics" | grep -q '^glasslog_witness_cosigned_total 3$' ||
        fail "$name: $(curl -sf "$WURL/metrics" | grep '^glasslog_witness_cosigned_total')"
    [ "$(monitored)" = "9 $(root_at 9)" ] || fail "$name: the monitoring endpoint moved"
    kill -TERM "$WPID"
    wait "$WPID" || fail "$name: exit status $? on SIGTERM after a failed write"

    start_w "$data" || fail "$name: restart: $(cat "$WOUT")"
    read -r size root <<< "$(monitored)"
    case $size in 9 | 12) ;; *) fail "$name: size $size after the restart, want 9 or 12" ;; esac
    [ "$root" = "$(root_at "$size")" ] || fail "$name: the stored root is not the honest chain's"
    for s in $((size + 3)) $((size + 6)); do cosign "$s"; done
    CODE=$(curl -s -o /dev/null -w '%{http_code}' "$WURL/healthz")
    [ "$CODE" = 200 ] || fail "$name: /healthz after the restart answered $CODE"
    [ "$(curl -s "$WURL/evidence")" = "[]" ] || fail "$name: an honest chain produced evidence"
    # (after the honest ones: pushed from the size the witness holds, the
    # fork's own proof would prove the split and freeze the log)
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/b/fork.13" "$WURL/add-checkpoint")
    [ "$CODE" != 200 ] || fail "$name: a forked checkpoint was cosigned after the restart"
    echo "$name: 503 and fail-stop during the fault; after a restart size $size, honest root"
    kill -TERM "$WPID"
    wait "$WPID" || fail "$name: exit status on SIGTERM"
done
python3 "$TOOLS/cosigcheck.py" "$T/w.key.pub" "$T/acks" "$T/b" ||
    fail "an acknowledged cosignature does not verify"

# A disk that fails at start: a clear refusal, then a start once it works.
fault_set "eio 0"
if start_w "$data"; then fail "the witness started on a failing disk"; fi
grep -q "is not writable: Input/output error" "$WOUT" ||
    fail "no clear reason for refusing to start: $(cat "$WOUT")"
fault_set off
start_w "$data" || fail "start once the disk works: $(cat "$WOUT")"
kill -TERM "$WPID"
wait "$WPID" || fail "exit status on SIGTERM"
# The fork pushed from the size the witness holds, with the fork's own
# proof from 9 (computed by chain.py): that proof rebuilds the fork's
# signed root but another root at 9 than the log signed there, so the
# witness keeps the pair as split-view evidence and cosigns nothing more
# of the log.
fault_wrap "$T/wd-split"
start_w "$T/wd-split" || fail "split: start: $(cat "$WOUT")"
for s in 3 6 9; do cosign "$s"; done
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/b/fork.13" "$WURL/add-checkpoint")
[ "$CODE" = 422 ] && grep -q "a split view (kept as evidence)" "$T/body" ||
    fail "split: the fork pushed from 9 answered $CODE: $(cat "$T/body")"
curl -s "$WURL/evidence" | grep -q '"origin": *"example.com/log"' ||
    fail "split: no evidence listed: $(curl -s "$WURL/evidence")"
add 12
[ "$CODE" = 422 ] || fail "split: the honest 12 after the proven split answered $CODE"
kill -TERM "$WPID"
wait "$WPID" || fail "split: exit status on SIGTERM"
echo "17-witness-storage-faults: ok"
