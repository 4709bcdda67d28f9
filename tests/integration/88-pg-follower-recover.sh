# Goal: a follower front-end of a PostgreSQL log whose queue write failed
# once (here the queue table renamed away for a moment, as a database
# blip) answers /healthz 200 again once it has reconnected, without an
# append through it: a follower has nothing to make durable. (It stayed
# 503, "the last write failed", until an append through it succeeded, so
# a load balancer checking /healthz left it out of rotation for good.)
# Appends through it work again once the table is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
make_keys
pg_log_db
pg_leader
LEASE_MS=600000 pg_front B
healthy() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$1/healthz")" = 200 ]; }
wait_until 10 healthy "$URL_B" || fail "follower B is not healthy: $(curl -s "$URL_B/healthz")"
append_via() { # append_via URL SUBJECT: the HTTP status of one append
    statement "$2" 1.0 > "$T/st.$2" || fail "sign $2"
    curl -s -m 40 -o "$T/r.$2" -w '%{http_code}' --data-binary "@$T/st.$2" "$1/api/v1/add"
}
PG_DB=log pg_sql a "ALTER TABLE glasslog_queue RENAME TO glasslog_queue_away" > /dev/null ||
    fail "cannot rename the queue"
code=$(append_via "$URL_B" blip)
[ "$code" = 503 ] || fail "an append through B without its queue table: $code $(cat "$T/r.blip")"
grep -q "failed" "$OUT_B" || fail "B logged no failed write: $(cat "$OUT_B")"
PG_DB=log pg_sql a "ALTER TABLE glasslog_queue_away RENAME TO glasslog_queue" > /dev/null ||
    fail "cannot rename the queue back"
wait_until 5 healthy "$URL_B" ||
    fail "B's /healthz after the blip: $(curl -s "$URL_B/healthz"); B: $(tail -5 "$OUT_B")"
grep -q "store: reconnected; queueing again" "$OUT_B" || fail "B did not log its reconnect: $(cat "$OUT_B")"
code=$(append_via "$URL_B" after)
[ "$code" = 200 ] || fail "an append through B after the blip: $code $(cat "$T/r.after")"
healthy "$URL_A" || fail "A is not healthy: $(curl -s "$URL_A/healthz")"
echo "88-pg-follower-recover: ok"
