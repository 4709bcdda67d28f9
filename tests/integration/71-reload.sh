# Goal: SIGHUP makes glasslogd re-read its submitters file and witness
# policy in place: a key added can append, a key removed gets 403, a
# rate-limited key's bucket is not refilled by a reload, a file that does
# not parse (or lists no key) is refused with a log line and the old keys
# stay; a keep-alive connection survives every reload and the PID stays;
# each reload ends in one "reload: applied" or "reload: refused" line; a
# reloaded witness policy (another witness) cosigns the next checkpoints;
# a reload is all or nothing: a good submitters file beside a bad policy
# is not applied either. glasslog-witness reloads its log list on SIGHUP:
# a bad file is refused, the same list keeps its records (and unknown
# lines are warned about, as at start), a log added is witnessed at once. SIGHUP and SIGUSR1
# during a slow start (a witness probe waiting for a silent witness) do not
# kill glasslogd: it comes up, serves, then reloads and writes the backup;
# nor does a SIGHUP during its start (waiting for its key) kill
# glasslog-witness, which reloads once it serves. SIGHUPs during the stop
# (while the store closes) kill neither: both exit 0.
# --check-config (what the units' ExecReload runs first) reads the same
# files while the daemons run, without touching their state: 1 for each
# file a reload refuses, 0 for good ones.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
make_keys
"$G" keygen --name ci2.example.com --out "$T/sub2.key" > "$T/sub2.pub" || fail keygen
"$G" keygen --name ci3.example.com --out "$T/sub3.key" > "$T/sub3.pub" || fail keygen
cp "$T/submitters" "$T/sub1.pub"

# reload: SIGHUP, and wait for the Nth "reload:" outcome line.
NRELOAD=0
reload() {
    NRELOAD=$((NRELOAD + 1))
    kill -HUP "$LOG_PID"
    wait_until 30 sh -c "[ \$(grep -c 'reload: .*submitter key' '$LOG_OUT') -ge $NRELOAD ]" ||
        fail "no reload line after SIGHUP: $(tail -3 "$LOG_OUT")"
    kill -0 "$LOG_PID" || fail "glasslogd died on SIGHUP"
    if [ -n "${KA_ON:-}" ]; then # the keep-alive connection answers after each reload
        echo go >&7
        wait_until 30 sh -c "[ \$(grep -c '^200 ' '$T/ka.out') -ge $((NRELOAD + 1)) ]" ||
            fail "keep-alive after reload $NRELOAD: $(cat "$T/ka.out")"
    fi
}

# (a long --request-timeout-ms: the idle keep-alive connection must not
# time out between reloads, even under sanitizers)
start_log "$T/data" --create --batch-ms 2 --request-timeout-ms 300000 || fail "start"
PID0=$LOG_PID
# A keep-alive connection held across the reloads (python http.client).
mkfifo "$T/ka.in"
cat > "$T/ka.py" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
for line in sys.stdin:
    c.request("GET", "/checkpoint")
    r = c.getresponse(); r.read()
    print(r.status, c.sock is not None and c.sock.getsockname()[1], flush=True)
PY
python3 "$T/ka.py" "$LOG_URL" < "$T/ka.in" > "$T/ka.out" 2>&1 &
KA=$!
PIDS="$PIDS $KA"
exec 7> "$T/ka.in"
echo go >&7
wait_until 30 grep -q '^200 ' "$T/ka.out" || fail "keep-alive client: $(cat "$T/ka.out")"
KA_ON=1

post_as "$T/sub.key" a1; [ "$CODE" = 200 ] || fail "listed key: $CODE"
post_as "$T/sub2.key" b1; [ "$CODE" = 403 ] || fail "unlisted key answered $CODE"

# check_log EXPECTED [options]: glasslogd --check-config on the running
# log's files (the store stays closed: RocksDB would refuse a second open).
check_log() {
    local want=$1
    shift
    expect_rc "$want" "$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" \
        --submitters "$T/submitters" "$@" --check-config
}
check_log 0
grep -q 'the configuration is usable' "$T/out" || fail "check-config: $(cat "$T/out")"
# --mirrors: a name is a label (any printable word), one per mirror
"$GL_BIN/glasslog" keygen --name m.example --cosigner --out "$T/m.key" > /dev/null || fail keygen
printf 'mirror\tm1 %s\thttp://127.0.0.1:9/\n' "$(cat "$T/m.key.pub")" > "$T/mirrors"
check_log 0 --mirrors "$T/mirrors"
printf 'mirror m1 %s http://127.0.0.1:9/\n' "$(cat "$T/m.key.pub")" >> "$T/mirrors"
check_log 1 --mirrors "$T/mirrors"
expect_err "mirrors:2: a second mirror named m1"
printf 'mirror m"1 %s http://127.0.0.1:9/\n' "$(cat "$T/m.key.pub")" > "$T/mirrors"
check_log 1 --mirrors "$T/mirrors"
expect_err "mirrors:1: a name is printable ASCII without"
cp "$T/submitters" "$T/sub.good"
echo "not a key" >> "$T/submitters"
check_log 1
expect_err "$T/submitters:2"
grep -q 'the configuration is not usable' "$T/out" || fail "check-config: $(cat "$T/out")"
cp "$T/sub.good" "$T/submitters"

# Added: sub2 (unlimited) and sub3 (1 append, no refill to speak of).
{ cat "$T/sub1.pub" "$T/sub2.pub"; echo "$(cat "$T/sub3.pub") rate=0.001 burst=1"; } \
    > "$T/submitters"
reload
grep -q 'reload: applied: 3 submitter key(s)' "$LOG_OUT" || fail "reload line: $(tail -2 "$LOG_OUT")"
post_as "$T/sub2.key" b2; [ "$CODE" = 200 ] || fail "added key answered $CODE: $(cat "$T/body")"
append_one prod-x 1 > /dev/null 2>&1 || fail "glasslog append with a kept key"
post_as "$T/sub3.key" c1; [ "$CODE" = 200 ] || fail "sub3 first append: $CODE"
post_as "$T/sub3.key" c2; [ "$CODE" = 429 ] || fail "sub3 over its burst answered $CODE"
# An unchanged reload keeps the bucket: still limited.
reload
post_as "$T/sub3.key" c3; [ "$CODE" = 429 ] || fail "a reload refilled sub3's bucket ($CODE)"

# Removed: sub1 gets 403 (and glasslog append fails without retrying).
{ cat "$T/sub2.pub"; echo "$(cat "$T/sub3.pub") rate=0.001 burst=1"; } > "$T/submitters"
reload
post_as "$T/sub.key" a2; [ "$CODE" = 403 ] || fail "removed key answered $CODE"
grep -q 'unknown submitter key' "$T/body" || fail "403 reason: $(cat "$T/body")"

# A bad file is refused, logged, and the keys in use stay.
{ cat "$T/sub2.pub"; echo "not a key"; } > "$T/submitters"
reload
grep -q "reload: refused: $T/submitters; the 2 submitter key(s) in use stay" "$LOG_OUT" ||
    fail "no refusal line: $(tail -3 "$LOG_OUT")"
grep -q "submitters:2:" "$LOG_OUT" || fail "the refusal does not name the line: $(tail -3 "$LOG_OUT")"
post_as "$T/sub2.key" b3; [ "$CODE" = 200 ] || fail "kept key after a bad reload: $CODE"
post_as "$T/sub.key" a3; [ "$CODE" = 403 ] || fail "a bad reload let a removed key in: $CODE"
# A missing file too.
mv "$T/submitters" "$T/submitters.away"
reload
grep -q "cannot read\|No such file\|$T/submitters" "$LOG_OUT" || fail "missing file not logged"
post_as "$T/sub2.key" b4; [ "$CODE" = 200 ] || fail "kept key after a missing file: $CODE"
# A file without a key (an edit gone wrong) would refuse every append:
# refused, the keys in use stay.
echo "# nobody" > "$T/submitters"
reload
grep -q "$T/submitters lists no submitter key" "$LOG_OUT" || fail "empty file: $(tail -3 "$LOG_OUT")"
[ "$(grep -c 'reload: refused: ' "$LOG_OUT")" = 3 ] || fail "refusals: $(grep reload: "$LOG_OUT")"
post_as "$T/sub2.key" b5; [ "$CODE" = 200 ] || fail "kept key after an empty file: $CODE"
check_log 1
expect_err "lists no submitter key"
grep -q 'not usable for a reload (a start takes it' "$T/out" || fail "check-config, no key: $(cat "$T/out")"
[ "$(grep -c 'reload: applied: ' "$LOG_OUT")" = 3 ] || fail "applied: $(grep reload: "$LOG_OUT")"

# The keep-alive connection was the same one throughout.
KA_ON=
[ "$(grep -c '^200 ' "$T/ka.out")" -ge 6 ] || fail "keep-alive answers: $(cat "$T/ka.out")"
[ "$(cut -d' ' -f2 "$T/ka.out" | sort -u | wc -l)" = 1 ] ||
    fail "the keep-alive connection was replaced: $(cat "$T/ka.out")"
exec 7>&-
[ "$LOG_PID" = "$PID0" ] && kill -0 "$LOG_PID" || fail "glasslogd restarted"
stop_log
cp "$T/sub2.pub" "$T/submitters"

# --- the witness policy, and glasslog-witness's lists ------------------------------------
# Witness 1 knows the log; witness 2 starts with an empty list and learns
# it by a reload.
make_witness_keys 1 2
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
printf 'logs/v0\n' > "$T/logs2"
start_witness 1 "$T/logs"
start_witness 2 "$T/logs2"
pol() { printf 'witness w%s %s http://127.0.0.1:%s\nquorum w%s\n' "$1" "$(cat "$T/w$1.key.pub")" \
    "$(eval echo \$PORT$1)" "$1"; }
pol 1 > "$T/policy"
start_log "$T/data" --batch-ms 2 --witnesses "$T/policy" || fail "start with witnesses"
NRELOAD=0
post_as "$T/sub2.key" w1; [ "$CODE" = 200 ] || fail "append with witness 1: $CODE"
expect_http 200 GET /checkpoint
grep -q '^— witness1.example ' "$T/body" || fail "not cosigned by witness 1"
# Witness 1 reloads: a bad list is refused; the same list again keeps its
# record of the log (its monitoring endpoint answers the same) and it goes
# on cosigning.
OH=$(printf 'example.com/log' | sha256sum | cut -c1-64)
W1="http://127.0.0.1:$PORT1"
curl -fsS "$W1/$OH/checkpoint" > "$T/w1.before" || fail "witness 1 has no record of the log"
echo "vkey garbage" >> "$T/logs"
check_witness() {
    expect_rc "$1" "$GL_BIN/glasslog-witness" --data "$T/wd1" --key "$T/w1.key" \
        --logs "$T/logs" --check-config
}
check_witness 1
expect_err "$T/logs:3"
kill -HUP "$WPID1"
wait_until 30 grep -q 'reload: refused; the lists in use stay' "$WOUT1" || fail "witness: bad logs"
printf 'logs/v0\nvkey %s\nfrobnicate 1\n' "$(cat "$T/log.key.pub")" > "$T/logs"
check_witness 0
grep -q 'the configuration is usable' "$T/out" || fail "witness check-config: $(cat "$T/out")"
kill -HUP "$WPID1"
wait_until 30 grep -q 'reload: witnessing 1 logs' "$WOUT1" || fail "witness 1 reload: $(tail -3 "$WOUT1")"
grep -q "reload: $T/logs: ignored 1 lines with unknown keywords" "$WOUT1" ||
    fail "witness reload did not warn of the unknown line: $(tail -4 "$WOUT1")"
curl -fsS "$W1/$OH/checkpoint" > "$T/w1.after" || fail "witness 1 lost the log's record"
cmp -s "$T/w1.before" "$T/w1.after" || fail "witness 1's record changed across a reload"
post_as "$T/sub2.key" w1b; [ "$CODE" = 200 ] || fail "append after the witness reload: $CODE"
expect_http 200 GET /checkpoint
grep -q '^— witness1.example ' "$T/body" || fail "not cosigned by witness 1 after its reload"
# A policy that does not parse is refused; witness 1 still counts. The
# submitters file changed with it (sub3 added) is not applied either.
echo "quorum nobody" > "$T/policy"
cat "$T/sub2.pub" "$T/sub3.pub" > "$T/submitters"
check_log 1 --witnesses "$T/policy"
expect_err "$T/policy"
reload
grep -q "reload: refused: $T/policy; the 1 submitter key(s) and the witness policy in use stay" \
    "$LOG_OUT" || fail "bad policy accepted: $(tail -3 "$LOG_OUT")"
post_as "$T/sub2.key" w2; [ "$CODE" = 200 ] || fail "append after a bad policy: $CODE"
post_as "$T/sub3.key" w2c; [ "$CODE" = 403 ] || fail "submitters applied with a refused policy: $CODE"
# Witness 2 learns the log by a reload, then the log's policy names it:
# the next checkpoints carry its cosignature.
cp "$T/logs" "$T/logs2"
kill -HUP "$WPID2"
wait_until 30 grep -q 'reload: witnessing 1 logs' "$WOUT2" || fail "witness 2 reload: $(tail -3 "$WOUT2")"
pol 2 > "$T/policy"
check_log 0 --witnesses "$T/policy"
reload
wait_until 30 grep -q 'witness policy reloaded: 1 witness' "$LOG_OUT" || fail "policy not applied"
grep -q "reload: applied: 2 submitter key(s) .*; witness policy $T/policy: 1 witness" "$LOG_OUT" ||
    fail "reload line: $(tail -3 "$LOG_OUT")"
post_as "$T/sub3.key" w3c; [ "$CODE" = 200 ] || fail "sub3 after the applied reload: $CODE"
post_as "$T/sub2.key" w3; [ "$CODE" = 200 ] || fail "append after the policy reload: $CODE"
expect_http 200 GET /checkpoint
grep -q '^— witness2.example ' "$T/body" || fail "not cosigned by witness 2: $(cat "$T/body")"
grep -q '^— witness1.example ' "$T/body" && fail "still cosigned by witness 1"
stop_log
kill -0 "$WPID1" && kill -0 "$WPID2" || fail "a witness died"
stop_witness 1
stop_witness 2

# --- signals during a slow start ---------------------------------------------------------
# A silent witness: accepts, never reads or answers; the start-up probe waits
# for --witness-timeout-ms before the signal handlers exist.
start_tool silent python3 "$TOOLS/blackhole.py" 0
make_witness_keys 3
printf 'witness w3 %s http://127.0.0.1:%s\nquorum w3\n' "$(cat "$T/w3.key.pub")" \
    "$TOOL_PORT" > "$T/policy"
LOG_OUT="$T/slow.log"
"$GL_BIN/glasslogd" --data "$T/data" --key "$T/log.key" --submitters "$T/submitters" \
    --listen 127.0.0.1:0 --witnesses "$T/policy" --witness-mode fail-open \
    --witness-timeout-ms 3000 --backup-dir "$T/backups" 2> "$LOG_OUT" &
LOG_PID=$!
PIDS="$PIDS $LOG_PID"
# The probe is waiting on the silent witness: no handler is installed yet.
wait_until 30 grep -q '^conn' "$T/silent.out" || fail "no start-up probe: $(cat "$LOG_OUT")"
grep -q '(port ' "$LOG_OUT" && fail "started before the probe ended"
kill -HUP "$LOG_PID"
kill -USR1 "$LOG_PID"
wait_until 30 grep -q '(port ' "$LOG_OUT" || fail "a signal during the start killed glasslogd: $(tail -3 "$LOG_OUT")"
grep -q 'w3 unreachable at start' "$LOG_OUT" || fail "the probe did not time out: $(cat "$LOG_OUT")"
LOG_URL="http://127.0.0.1:$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$LOG_OUT")"
expect_http 200 GET /checkpoint
# Both held signals did their work once the loop ran.
wait_until 30 grep -q 'reload: applied: 2 submitter key' "$LOG_OUT" || fail "SIGHUP lost: $(tail -3 "$LOG_OUT")"
wait_until 30 grep -q 'backup: .* written' "$LOG_OUT" || fail "SIGUSR1 lost: $(tail -3 "$LOG_OUT")"
# hup_stop PID: SIGTERM, then SIGHUP as fast as the shell can until the
# process has exited (at most 10 s); its exit status must be 0.
hup_stop() {
    local pid=$1 a b st rest end=$((SECONDS + 10))
    kill -TERM "$pid"
    while [ $SECONDS -lt $end ] && read -r a b st rest 2>/dev/null < "/proc/$pid/stat" &&
        [ "$st" != Z ]; do
        kill -HUP "$pid" 2>/dev/null
    done
    wait "$pid" || fail "exit $? on SIGTERM with SIGHUPs during the stop"
}
hup_stop "$LOG_PID"

# --- glasslog-witness: SIGHUP during its start and during its stop ------------------------
# Its key comes through a FIFO, so the start waits there (main has begun,
# no handler exists yet): a SIGHUP then is held and reloads once the
# witness serves. SIGHUPs during its stop do not kill it either (exit 0).
mkfifo "$T/wkey.fifo"
exec 3<> "$T/wkey.fifo"
"$GL_BIN/glasslog-witness" --listen 127.0.0.1:0 --data "$T/wd4" --create --key "$T/wkey.fifo" \
    --logs "$T/logs" > /dev/null 2> "$T/wslow.log" 3>&- &
WPID=$!
PIDS="$PIDS $WPID"
# (the exec first: until then the forked shell holds the FIFO as fd 3)
opened_key() {
    readlink "/proc/$WPID/exe" | grep -q 'glasslog-witness$' &&
        ls -l "/proc/$WPID/fd" | grep -q wkey.fifo
}
wait_until 30 opened_key || fail "the witness did not open its key"
kill -HUP "$WPID"
sleep 0.2
kill -0 "$WPID" 2>/dev/null || fail "a SIGHUP during the start killed the witness"
cat "$T/w3.key" >&3
exec 3>&-
wait_until 30 grep -q '(port ' "$T/wslow.log" || fail "witness did not start: $(cat "$T/wslow.log")"
wait_until 30 grep -q 'reload: witnessing 1 logs' "$T/wslow.log" ||
    fail "the held SIGHUP was lost: $(cat "$T/wslow.log")"
WURL="http://127.0.0.1:$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/wslow.log")"
curl -fsS "$WURL/healthz" > /dev/null || fail "the witness does not serve after the held SIGHUP"
hup_stop "$WPID"
echo "ok 71-reload"
