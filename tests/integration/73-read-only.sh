# Goal: --read-only serves everything the log holds (checkpoint, tiles,
# entries, lookups) and refuses appends with 410 and a JSON reason, and
# `glasslog append` gives up at once on 410 (no retry, exit 3, the reason
# shown) even with a long --timeout; the same data directory reopened
# without --read-only takes appends again.
. "$(dirname "$0")/lib.sh"
make_keys
start_log "$T/data" --create --batch-ms 2 || fail "start"
for i in 1 2 3; do append_one prod-$i 1.0 > /dev/null 2>&1 || fail "append $i"; done
expect_http 200 GET /checkpoint
cp "$T/body" "$T/ck"
expect_http 200 GET /tile/entries/000.p/3
cp "$T/body" "$T/entries"
stop_log

start_log "$T/data" --read-only || fail "read-only start: $(cat "$LOG_OUT")"
grep -q 'read-only: appends are refused with 410' "$LOG_OUT" || fail "no read-only log line"
expect_http 200 GET /checkpoint
[ "$(sed -n 1,3p "$T/body")" = "$(sed -n 1,3p "$T/ck")" ] || fail "checkpoint differs"
expect_http 200 GET /tile/entries/000.p/3
cmp -s "$T/body" "$T/entries" || fail "entries tile differs"
expect_http 200 GET /tile/0/000.p/3
statement prod-9 1.0 > "$T/st" || fail "statement"
expect_http 410 POST /api/v1/add --data-binary "@$T/st"
grep -q '"error".*read-only' "$T/body" || fail "410 without a reason: $(cat "$T/body")"
start=$(date +%s)
expect_rc 3 append_one prod-9 1.0 --timeout 30
end=$(date +%s)
[ $((end - start)) -le 10 ] || fail "glasslog append retried a 410 for $((end - start)) s"
expect_err '410'
expect_err 'read-only'
grep -q 'retrying' "$T/err" && fail "glasslog append said it retries: $(cat "$T/err")"
http GET /checkpoint
[ "$(sed -n 2p "$T/body")" = 3 ] || fail "the read-only log grew"
stop_log

start_log "$T/data" || fail "restart"
append_one prod-9 1.0 > /dev/null 2>&1 || fail "append after leaving read-only"
stop_log
echo "ok 73-read-only"
