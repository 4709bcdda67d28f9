# Goal: glasslogd's mirror push (--mirrors) sends only trees the sequencer
# released (made durable), never what its store merely shows. The log's
# syncs fail (fault shim, "eio 0 sync"): the append's write-ahead-log
# fsync fails, so it answers 503, and the reopen's probe file cannot be
# synced, so the store falls back to a read-only open, which replays the
# write-ahead log into memory, the failed batch included (its bytes are
# still in the page cache): the stored tree is one entry larger than the
# released one, and not durable. While the fault lasts the mirror (and
# glasslogd's glasslog_mirror_size) stays at the last acknowledged size,
# and glasslogd logs that the stored tree is held back; the mirror keeps
# serving the released checkpoint. Once the fault clears, the log
# recovers, releases the tree, and the push resumes: the mirror cosigns
# the log's checkpoint (same size and root).
. "$(dirname "$0")/lib.sh"
need_py_crypto

one_mirror

mirror_size() { curl -sf "$MURL/mirror/$LHEX/checkpoint" | sed -n 2p; }
log_size() { curl -sf "$LOG_URL/checkpoint" | sed -n 2p; }
# metric_size: glasslogd's glasslog_mirror_size for mirror1.example
metric_size() {
    curl -sf "$LOG_URL/metrics" | sed -n 's/^glasslog_mirror_size{mirror="mirror1.example"} //p'
}
is_size() { [ "$("$1")" = "$2" ]; }

data="$T/data"
fault_wrap "$data"
LOG_WRAP=$FAULT_WRAP start_log "$data" --create --batch-ms 2 --mirrors "$T/mirrors" ||
    fail "start: $(cat "$LOG_OUT")"
for i in 1 2 3 4 5; do
    append_one before "$i" --timeout 20 > /dev/null 2> "$T/a.err" ||
        fail "append $i: $(cat "$T/a.err")"
done
wait_until 20 is_size mirror_size 5 || fail "the mirror holds '$(mirror_size)', want 5"
wait_until 10 is_size metric_size 5 || fail "glasslog_mirror_size '$(metric_size)', want 5"
curl -sf "$MURL/mirror/$LHEX/checkpoint" > "$T/mck5"

# the disk's syncs fail: the append fails after its write-ahead-log write
fault_set "eio 0 sync"
statement failed 1 > "$T/st1"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/st1" "$LOG_URL/api/v1/add")
[ "$CODE" = 503 ] || fail "the append during the fault answered $CODE: $(cat "$T/body")"
grep -q "faultfs: injecting" "$LOG_OUT" || fail "the fault never fired"
wait_until 10 grep -q "serving reads from a read-only view" "$LOG_OUT" ||
    fail "the store did not fall back to a read-only open: $(tail -5 "$LOG_OUT")"
statement failed 2 > "$T/st2"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$T/st2" "$LOG_URL/api/v1/add")
[ "$CODE" = 503 ] || fail "a second append during the fault answered $CODE: $(cat "$T/body")"
[ "$(log_size)" = 5 ] || fail "the log serves size $(log_size) during the fault"
# the tree of size 6 was there to push (the read-only store shows the
# failed batch) and a push round has seen it; then several more rounds
wait_until 20 grep -q "mirror push: the stored tree of size 6 is not released (released: 5)" "$LOG_OUT" ||
    fail "no held push logged (is the failed batch in the read-only view?): $(grep -i 'mirror' "$LOG_OUT" | tail -5)"
# several push rounds (500 ms each): nothing above 5 reaches the mirror
for i in $(seq 20); do
    [ "$(mirror_size)" = 5 ] ||
        fail "during the fault the mirror holds size '$(mirror_size)', above the released 5: $(grep -i 'mirror' "$LOG_OUT" | tail -3)"
    [ "$(metric_size)" = 5 ] || fail "during the fault glasslog_mirror_size is '$(metric_size)', want 5"
    sleep 0.2
done
curl -sf "$MURL/mirror/$LHEX/checkpoint" | cmp -s - "$T/mck5" ||
    fail "the mirror checkpoint changed during the fault"
echo "81-mirror-released: the unreleased stored tree of size 6 was not pushed"

# the disk works again: the log recovers, releases, and the push resumes
fault_set off
accepted() {
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$1" "$LOG_URL/api/v1/add")
    [ "$CODE" = 200 ]
}
wait_until 30 accepted "$T/st1" || fail "appends did not resume: $CODE $(cat "$T/body")"
grep -q "store: recovered" "$LOG_OUT" || fail "no recovery logged"
append_one after 1 --timeout 20 > /dev/null 2> "$T/a.err" || fail "append after: $(cat "$T/a.err")"
n=$(log_size)
[ "$n" -ge 6 ] || fail "the log's size is $n after recovering"
wait_until 20 is_size mirror_size "$n" || fail "the push did not resume: mirror at '$(mirror_size)', log at $n"
wait_until 10 is_size metric_size "$n" || fail "glasslog_mirror_size '$(metric_size)', want $n"
[ "$(curl -sf "$MURL/mirror/$LHEX/checkpoint" | sed -n 3p)" = "$(curl -sf "$LOG_URL/checkpoint" | sed -n 3p)" ] ||
    fail "the mirror's root at $n differs from the log's"
stop_log
stop_witness 1
echo "81-mirror-released: ok"
