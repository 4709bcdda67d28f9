# Goal: a slow mirror cannot hold glasslogd's shutdown. glasslogd pushes
# to a mirror (--mirrors) that answers every request after 20 s (a stub:
# 415 to the gzipped probe, then 409s, as a mirror behind would, so the
# push makes one slow request after another); SIGTERM during the first
# request ends the process within a few seconds (the push client aborts
# the request in flight and every later one), not after one 20 s answer
# per request left in the push (about 60 s before).
. "$(dirname "$0")/lib.sh"

mirror_keys
spawn slowmirror env PYTHONPATH="$TOOLS" python3 -u -c '
import sys, time, stubhttp
def respond(method, path, body):
    open(sys.argv[1], "a").write(method + " " + path + "\n")
    time.sleep(20)
    return 409, b"0\n0\n\n", {"Content-Type": "text/x.tlog.mirror-info"}
stubhttp.serve(respond)' "$T/asked" || fail "the slow mirror did not start"
SLOW_PID=$SPAWN_PID
printf 'mirror mirror1.example %s %s\n' "$(cat "$T/m1.key.pub")" "$SPAWN_URL" > "$T/mirrors"
start_log "$T/data" --create --mirrors "$T/mirrors" || fail "start: $(cat "$LOG_OUT")"
append_one push 1 > /dev/null 2> "$T/a.err" || fail "append: $(cat "$T/a.err")"
wait_until 10 test -s "$T/asked" || fail "glasslogd never asked the mirror: $(tail -5 "$LOG_OUT")"
sleep 1 # within the first 20 s request
t0=$(date +%s)
kill -TERM "$LOG_PID"
wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
took=$(($(date +%s) - t0))
echo "glasslogd stopped ${took} s after SIGTERM, $(wc -l < "$T/asked") mirror request(s) made"
[ "$took" -le 6 ] || fail "glasslogd took ${took} s to stop behind a slow mirror"
kill "$SLOW_PID"
echo "89-mirror-push-stop: ok"
