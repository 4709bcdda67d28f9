# Goal: glasslogd on a failing disk. A fault shim (tests/fault/faultfs.c,
# LD_PRELOAD) makes the writes or the syncs of the log's data files fail
# with ENOSPC or EIO; all four kinds are tried, each on a fresh log. While
# the fault lasts: the append that hits it, and the next one, answer 503
# with Retry-After; /healthz answers 503 with a reason; reads keep working
# (checkpoint, every tile and bundle, entries and proofs, checked against
# an independent recomputation). Once the fault clears, the log reopens its
# store by itself and appends again: the failed statement, posted again,
# gets the index right after the last acknowledged one (the failed batch
# reached the disk or it did not, never half of it), /healthz is ok again.
# Nothing acknowledged is lost, and every checkpoint seen stays consistent
# with the tree, also after a restart. Finally, a log killed while its disk
# still fails refuses to restart with a clear message, and starts once the
# disk works again.
. "$(dirname "$0")/lib.sh"
PY="python3 $(dirname "$0")/tlog.py"
make_keys

# see: records the served checkpoint's "size root" in $T/seen.
see() {
    curl -sf "$LOG_URL/checkpoint" > "$T/ck" || fail "GET /checkpoint failed"
    printf '%s %s\n' "$(sed -n 2p "$T/ck")" "$(sed -n 3p "$T/ck")" >> "$T/seen"
}

# ack SUBJECT VERSION: an append that must succeed; recorded in $T/acks.
ack() {
    append_one "$1" "$2" --timeout 20 > "$T/a.out" 2> "$T/a.err" ||
        fail "append $1 $2 failed: $(cat "$T/a.err")"
    printf '%s %s\n' "$(sed -n 's/^index //p' "$T/a.out")" \
        "$(sed -n 's/^leaf_hash //p' "$T/a.out")" >> "$T/acks"
}

# post FILE: POSTs a statement; sets CODE, body in $T/body, headers in $T/hdr.
post() {
    CODE=$(curl -s -D "$T/hdr" -o "$T/body" -w '%{http_code}' --data-binary "@$1" \
        "$LOG_URL/api/v1/add")
}

# reads_work: everything a reader uses, against the independent reference.
reads_work() {
    $PY check-tiles "$LOG_URL" || fail "$1: tiles and bundles"
    $PY check-proofs "$LOG_URL" 4 || fail "$1: proofs"
    $PY check-acks "$LOG_URL" "$T/acks" > /dev/null || fail "$1: an acknowledged entry"
    $PY check-consistent "$LOG_URL" "$T/seen" || fail "$1: a checkpoint seen before"
}

accepted() { post "$1" && [ "$CODE" = 200 ]; }

for kind in "enospc write" "eio write" "enospc sync" "eio sync"; do
    set -- $kind
    err=$1 cls=$2 name="$1-$2"
    data="$T/data-$name"
    : > "$T/acks"
    : > "$T/seen"
    fault_wrap "$data"
    LOG_WRAP=$FAULT_WRAP start_log "$data" --create --batch-ms 2 || fail "$name: start: $(cat "$LOG_OUT")"
    for i in 1 2 3 4 5; do ack "before-$name" "$i"; done
    see
    size=$(sed -n 2p "$T/ck")
    [ "$size" = 5 ] || fail "$name: size $size after 5 appends"

    fault_set "$err 0 $cls"
    statement "failed-$name" 1 > "$T/st1"
    post "$T/st1"
    [ "$CODE" = 503 ] || fail "$name: the append during the fault answered $CODE: $(cat "$T/body")"
    grep -qi '^Retry-After: [0-9]' "$T/hdr" || fail "$name: 503 without Retry-After"
    grep -q '"error"' "$T/body" || fail "$name: 503 without a reason: $(cat "$T/body")"
    grep -q "faultfs: injecting" "$LOG_OUT" || fail "$name: the fault never fired"
    expect_http 503 GET /healthz
    grep -q 'storage' "$T/body" || fail "$name: /healthz reason: $(cat "$T/body")"
    statement "failed-$name" 2 > "$T/st2"
    post "$T/st2"
    [ "$CODE" = 503 ] || fail "$name: a second append during the fault answered $CODE"
    see
    [ "$(sed -n 2p "$T/ck")" = 5 ] || fail "$name: the checkpoint moved during the fault"
    reads_work "$name, during the fault"

    fault_set off
    wait_until 30 accepted "$T/st1" || fail "$name: appends did not resume: $CODE $(cat "$T/body")"
    idx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"])' "$T/body")
    dup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duplicate"])' "$T/body")
    [ "$idx" = 5 ] || fail "$name: the statement of the failed batch got index $idx, want 5"
    printf '5 %s\n' "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["leaf_hash"])' \
        "$T/body")" >> "$T/acks"
    expect_http 200 GET /healthz
    grep -q "store: recovered" "$LOG_OUT" || fail "$name: no recovery logged"
    for i in 1 2 3; do ack "after-$name" "$i"; done
    see
    reads_work "$name, after the fault"
    echo "$name: 503 during the fault, reads served, recovered (failed batch on disk: $dup)"

    stop_log
    start_log "$data" --batch-ms 2 || fail "$name: restart: $(cat "$LOG_OUT")"
    reads_work "$name, after a restart"
    stop_log
done

# While the disk keeps failing, reopen attempts (each replays the
# write-ahead log on the event loop) back off: 1 s, 2 s, 4 s... after the
# last, not one a second while clients keep retrying.
data="$T/data-backoff"
fault_wrap "$data"
LOG_WRAP=$FAULT_WRAP start_log "$data" --create --batch-ms 2 || fail "start: $(cat "$LOG_OUT")"
ack backoff 1
fault_set "eio 0 write"
statement backoff 2 > "$T/stb"
t_end=$(($(date +%s) + 8))
while [ "$(date +%s)" -lt "$t_end" ]; do post "$T/stb"; sleep 0.2; done
tries=$(grep -c "cannot be opened for writing" "$LOG_OUT")
[ "$tries" -ge 2 ] && [ "$tries" -le 5 ] ||
    fail "$tries reopen attempts in 8 s of retried appends, want 2 to 5 (backing off)"
fault_set off
wait_until 40 accepted "$T/stb" || fail "backoff: appends did not resume: $CODE $(cat "$T/body")"
echo "06-log-storage-faults: $tries reopen attempts in 8 s of a failing disk"
stop_log

# A log killed while its disk fails does not start until the disk works.
data="$T/data-restart"
: > "$T/acks"
: > "$T/seen"
fault_wrap "$data"
LOG_WRAP=$FAULT_WRAP start_log "$data" --create --batch-ms 2 || fail "start: $(cat "$LOG_OUT")"
for i in 1 2 3; do ack restart "$i"; done
see
fault_set "eio 0"
kill -9 "$LOG_PID"
wait "$LOG_PID" 2>/dev/null
if LOG_WRAP=$FAULT_WRAP start_log "$data" --batch-ms 2; then
    fail "glasslogd started on a failing disk"
fi
grep -q "is not writable: Input/output error" "$LOG_OUT" ||
    fail "no clear reason for refusing to start: $(cat "$LOG_OUT")"
fault_set off
LOG_WRAP=$FAULT_WRAP start_log "$data" --batch-ms 2 || fail "restart once the disk works: $(cat "$LOG_OUT")"
reads_work "after the failed restart"
ack restart 4
stop_log
echo "06-log-storage-faults: ok"
