# Goal: a witness that mirrors logs sets aside descriptors for every copy
# it may hold open (each copy is a RocksDB store of its own), not for its
# own store alone, before it sizes its connection limit; a list that
# needs more copies open than were set aside is refused, at start and at
# a reload (the lists in use stay); mirrored uploads keep working while
# the connections are all taken. Witness 1 mirrors two fake logs A and B
# (uploads from mirror.py), each run under its own `ulimit -n`:
#   - by default the bound is the logs mirrored at start plus 4 (6), so
#     704 + 6 * 128 = 1472 descriptors are kept: under a limit of 1400
#     the witness refuses to start (1536 needed, with 64 connections),
#     before it opens any store, under 1700 it starts and logs the
#     reserve and 228 connections; each copy's RocksDB keeps 64 table
#     files open at most (its OPTIONS file), the witness's own store 512
#     as before; with the witness listener flooded past its limit,
#     uploads of A and B on the mirror listener are taken (200) and
#     served (verified by mirror.py);
#   - with --mirror-max-logs 2 (960 kept, limit 1100): a list of three
#     mirrored logs is refused at start (exit 1); a reload to three is
#     refused, and so is a reload replacing B by C (three copies open
#     until the switch), A and B still served and C not; the same switch
#     in two reloads (drop B, then add C) is taken and C's upload served;
#     the refusals, a reload's and the mirror's, say it in one wording;
#   - --check-config computes the budget with the same function as a
#     start, against the hard limit (the soft one raised as a start raises
#     it), and fails (exit 1) with the start's one-line reason (the count
#     needed, the hard limit, what to raise or lower) under `ulimit -Hn`
#     too low for it: mirroring with the default bound (for the copies the
#     file mirrors: a reload runs it first, and the running witness's
#     bound is its start's) and with --mirror-max-logs, and not mirroring;
#     a start under a limit too low refuses with that line before it opens
#     anything (no state made, no EMFILE); with a hard limit that holds it (and a low soft one) it
#     says the configuration is usable. The old code said usable for
#     every one of them and refused a start only after opening the stores.
. "$(dirname "$0")/lib.sh"
need_py_crypto
PY="$(dirname "$0")/mirror.py"
PYDIR="$(cd "$(dirname "$0")" && pwd)"
G=$GL_BIN/glasslog
make_witness_keys 1
"$G" keygen --name mirror1.example --cosigner --out "$T/m1.key" > /dev/null || fail keygen
for l in a b c; do
    "$G" keygen --name "$l.example/log" --out "$T/$l.key" > /dev/null || fail keygen
done
MPORT=$(free_port)
MURL="http://127.0.0.1:$MPORT"
hexof() { printf %s "$1" | sha256sum | cut -c1-64; }
mprefix() { echo "$MURL/mirror/$(hexof "$1.example/log")"; }
# list L...: a logs list mirroring the fake logs L
list() {
    echo logs/v0
    for l in "$@"; do printf 'vkey %s\nmirror\n' "$(cat "$T/$l.key.pub")"; done
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
N=300

# witness LIMIT ARGS...: witness 1's command line (its listeners, data,
# keys) under `ulimit -n LIMIT` (soft and hard: gl_http_fd_budget raises
# the soft limit to the hard one)
witness() {
    local lim=$1
    shift
    WCMD=(bash -c 'ulimit -n "$0" && exec "$@"' "$lim" "$GL_BIN/glasslog-witness"
        --listen "127.0.0.1:$PORT1" --data "$T/wd1" $(create_flag "$T/wd1")
        --key "$T/w1.key" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" "$@")
}
# refused WHAT LIMIT ARGS...: the witness exits 1 at start; its stderr in $T/err
refused() {
    local what=$1 rc
    shift
    witness "$@"
    timeout 30 "${WCMD[@]}" > /dev/null 2> "$T/err"
    rc=$?
    [ "$rc" = 124 ] && fail "$what: the witness started: $(grep -E 'descriptors|open-file' "$T/err")"
    [ "$rc" = 1 ] || fail "$what: the witness exited $rc, want 1: $(tail -3 "$T/err")"
}
# started LIMIT ARGS...: witness 1 running (WPID1, WOUT1)
started() {
    witness "$@"
    spawn witness1 "${WCMD[@]}" || fail "witness 1 exited: $(tail -5 "$SPAWN_OUT")"
    WPID1=$SPAWN_PID
    WOUT1=$SPAWN_OUT
    wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
}
# upload L OLD SIZE: fake log L's checkpoint of SIZE (the witness's last
# of it: OLD) added and its entries uploaded to the mirror: 200
upload() {
    python3 - "$MURL" "$T/$1.key" "$2" "$3" "$PYDIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[5])
import mirror as M
murl, key, old, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
log = M.FakeLog(M.Signer(open(key).read()), size)
st, ct, rb = M.add_checkpoint(murl, log, old, size)
if st != 200: M.fail("add-checkpoint %d: %d %r" % (size, st, rb))
start = old // 256 * 256
pk = M.packages(log.entries, log.leaves, start, size)
M.Mirror(murl).add(M.header(log.origin, start, size) + b"".join(pk), want=200, why="upload")
PY
}
served() { # L SIZE
    python3 "$PY" serve-check "$(mprefix "$1")" "$T/$1.key" "$T/m1.key.pub" "$2" ||
        fail "$1's copy is not served at $2"
}
# options_say DIR SETTING: RocksDB's newest OPTIONS file in DIR has it
options_say() {
    grep -qx "  $2" "$(ls "$1"/OPTIONS-* | sort | tail -1)"
}

# --- the default bound: the 2 logs mirrored at start plus 4 --------------------------
list a b > "$T/logs"
WHY_1400='the open-file limit (hard 1400) cannot hold the 1536 descriptors the witness needs (704 for its state and the rest, 768 for 6 mirror copies at most, 64 connections at least): raise the hard limit (ulimit -Hn, LimitNOFILE=) to 1536 or lower --mirror-max-logs'
refused "2 copies, limit 1400" 1400 --logs "$T/logs"
grep -qF "$WHY_1400" "$T/err" ||
    fail "the refusal does not name the 1536 needed: $(grep -E 'descriptors|open-file' "$T/err")"
[ -e "$T/wd1" ] && fail "limit 1400: the witness made its state before refusing: $(ls "$T/wd1")"
grep -q 'descriptors kept from connections: 1472 (the witness state 576, the mirror.s copies 768: 6 logs at most, 128 each; other 128)' "$T/err" ||
    fail "no reserve line: $(grep descriptors "$T/err")"

# (one client may hold them all; idle connections are kept a minute)
started 1700 --logs "$T/logs" --conns-per-client 1000 --request-timeout-ms 60000
grep -q 'open-file limit 1700 (hard 1700), 1472 kept for storage and the rest: 228 connections' "$WOUT1" ||
    fail "the connection limit is not 1700 - 1472: $(grep 'open-file' "$WOUT1")"
for l in a b; do
    options_say "$T/wd1/mirror/$(hexof "$l.example/log")" max_open_files=64 ||
        fail "$l's copy keeps more than 64 table files open"
done
options_say "$T/wd1" max_open_files=512 || fail "the witness's own store changed its table files"

# flood the witness listener past its limit (228 - 8 for the mirror's),
# then upload on the mirror listener
python3 - "$PORT1" 260 "$T/flood.ready" <<'PY' &
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open(ready, "w").close()
time.sleep(600)
PY
FLOOD=$!
PIDS="$PIDS $FLOOD"
wait_until 20 test -e "$T/flood.ready" || fail "the flood did not connect"
sleep 0.5
c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT1/healthz")
[ "$c" = 200 ] && fail "the witness listener still takes connections: no flood to test with"
upload a 0 "$N" || fail "A's upload under the flood"
upload b 0 "$N" || fail "B's upload under the flood"
served a "$N"
served b "$N"
kill "$FLOOD"
wait "$FLOOD" 2> /dev/null
grep -q 'Too many open files\|EMFILE' "$WOUT1" && fail "EMFILE: $(grep -m3 'Too many open' "$WOUT1")"
stop_witness 1

# --- --mirror-max-logs 2 ----------------------------------------------------------
list a b c > "$T/logs3"
refused "3 logs, room for 2" 1100 --logs "$T/logs3" --mirror-max-logs 2
grep -q '3 logs have a mirror line, more than --mirror-max-logs 2' "$T/err" ||
    fail "no clear refusal of 3 mirrored logs: $(tail -3 "$T/err")"

started 1100 --logs "$T/logs" --mirror-max-logs 2
grep -q 'descriptors kept from connections: 960 (.*2 logs at most' "$WOUT1" ||
    fail "the reserve is not 704 + 2 * 128: $(grep descriptors "$WOUT1")"
grep -q 'open-file limit 1100 (hard 1100), 960 kept for storage and the rest: 140 connections' "$WOUT1" ||
    fail "the connection limit is not 1100 - 960: $(grep 'open-file' "$WOUT1")"
NREF=0
# reload_refused WHY: SIGHUP is refused with WHY; the lists in use stay
reload_refused() {
    NREF=$((NREF + 1))
    kill -HUP "$WPID1"
    wait_until 20 sh -c "[ \$(grep -c 'reload: refused' '$WOUT1') -ge $NREF ]" ||
        fail "reload $NREF not refused: $(tail -3 "$WOUT1")"
    grep -qF "$1" "$WOUT1" || fail "reload $NREF refused without saying '$1': $(tail -3 "$WOUT1")"
    grep -q 'reload: witnessing' "$WOUT1" && fail "a reload switched: $(grep reload: "$WOUT1")"
    [ "$(code "$(mprefix a)/checkpoint")" = 200 ] || fail "A's copy is gone"
    [ "$(code "$(mprefix b)/checkpoint")" = 200 ] || fail "B's copy is gone"
    [ "$(code "$(mprefix c)/checkpoint")" = 404 ] || fail "C is mirrored"
}
NSW=0
reload_taken() {
    NSW=$((NSW + 1))
    kill -HUP "$WPID1"
    wait_until 20 sh -c "[ \$(grep -c 'reload: witnessing' '$WOUT1') -ge $NSW ]" ||
        fail "reload not taken: $(tail -3 "$WOUT1")"
}
cp "$T/logs3" "$T/logs"
reload_refused "reload: $T/logs: the list needs 3 copies open at once (3 logs with a mirror line, 0 dropped but open until the switch), more than the 2 copies set aside for at start (descriptors and cache: --mirror-max-logs): restart the witness with a larger --mirror-max-logs"
list a c > "$T/logs"
reload_refused "reload: $T/logs: the list needs 3 copies open at once (2 logs with a mirror line, 1 dropped but open until the switch), more than the 2 copies set aside for at start (descriptors and cache: --mirror-max-logs): drop them in one reload, add the others in the next"
served a "$N"
served b "$N"
list a > "$T/logs"
reload_taken
list a c > "$T/logs"
reload_taken
upload c 0 "$N" || fail "C's upload after the reloads"
served c "$N"
served a "$N"
options_say "$T/wd1/mirror/$(hexof c.example/log)" max_open_files=64 ||
    fail "C's copy keeps more than 64 table files open"
stop_witness 1

# --- a soft limit below what the stores open (a shell's, systemd's 1024) --------
# The soft limit is raised to the hard one before any store opens, not
# only once the connections are sized: the copies open under the hard one.
WCMD=(bash -c 'ulimit -Sn 24 && ulimit -Hn 1700 && exec "$@"' _ "$GL_BIN/glasslog-witness"
    --listen "127.0.0.1:$PORT1" --data "$T/wd1" --key "$T/w1.key" --mirror-key "$T/m1.key"
    --mirror-listen "127.0.0.1:$MPORT" --logs "$T/logs" --mirror-max-logs 2)
spawn witness1 "${WCMD[@]}" || fail "soft limit 24: the witness exited: $(tail -5 "$SPAWN_OUT")"
WPID1=$SPAWN_PID
WOUT1=$SPAWN_OUT
wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "soft limit 24: mirror listener not up"
grep -q 'open-file limit 1700 (hard 1700)' "$WOUT1" || fail "soft limit 24: $(grep 'open-file' "$WOUT1")"
served a "$N"
served c "$N"
stop_witness 1
# --- --check-config and the hard open-file limit ------------------------------------
# check SOFT HARD ARGS...: --check-config under `ulimit -Sn SOFT; ulimit -Hn
# HARD` (a subshell); its exit status in CRC, stdout in $T/cout, stderr in
# $T/cerr
check() {
    local soft=$1 hard=$2
    shift 2
    bash -c 'ulimit -Sn "$0" && ulimit -Hn "$1" && shift && exec "$@"' "$soft" "$hard" \
        "$GL_BIN/glasslog-witness" --data "$T/wd-none" --key "$T/w1.key" \
        --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" "$@" --check-config \
        > "$T/cout" 2> "$T/cerr"
    CRC=$?
}
# check_refused WHAT WHY SOFT HARD ARGS...: exit 1, "not usable", WHY in one line
check_refused() {
    local what=$1 why=$2
    shift 2
    check "$@"
    [ "$CRC" = 1 ] || fail "check-config, $what: exit $CRC, want 1: $(cat "$T/cout") $(tail -3 "$T/cerr")"
    grep -q 'the configuration is not usable' "$T/cout" || fail "check-config, $what: $(cat "$T/cout")"
    # the reason ends its line (a longer one must not pass for it)
    [ "$(awk -v w="$why" 'length($0) >= length(w) && substr($0, length($0) - length(w) + 1) == w' "$T/cerr" | wc -l)" = 1 ] ||
        fail "check-config, $what: no one-line reason '$why': $(grep -E 'error|open-file' "$T/cerr")"
}
check_usable() {
    local what=$1
    shift
    check "$@"
    [ "$CRC" = 0 ] || fail "check-config, $what: exit $CRC: $(grep -E 'error|open-file' "$T/cerr")"
    grep -q 'the configuration is usable' "$T/cout" || fail "check-config, $what: $(cat "$T/cout")"
}
list a b > "$T/logs"
# without --mirror-max-logs, the copies the file mirrors (2): 704 + 256 +
# 64 = 1024, not a start's 2 + 4 (a reload runs it first, and the running
# witness's bound was fixed at its start: a reload to 6 mirrored logs
# under a witness started with 2 is taken, and 1400 holds that start);
# no --mirror-max-logs can be below them, so the line says raise only
why_auto() {
    echo "the open-file limit (hard $1) cannot hold the 1024 descriptors the witness needs (704 for its state and the rest, 256 for 2 mirror copies at most, 64 connections at least): raise the hard limit (ulimit -Hn, LimitNOFILE=) to 1024"
}
check_refused "default bound, hard 1000" "$(why_auto 1000)" 1000 1000 --logs "$T/logs"
check_refused "default bound, soft 900 hard 1000" "$(why_auto 1000)" 900 1000 --logs "$T/logs"
check_usable "default bound, hard 1400 (a start needs 1536)" 1400 1400 --logs "$T/logs"
check_usable "default bound, soft 24 hard 1024" 24 1024 --logs "$T/logs"
# --mirror-max-logs 4: 704 + 512 + 64
check_refused "--mirror-max-logs 4, hard 1100" \
    'the open-file limit (hard 1100) cannot hold the 1280 descriptors the witness needs (704 for its state and the rest, 512 for 4 mirror copies at most, 64 connections at least): raise the hard limit (ulimit -Hn, LimitNOFILE=) to 1280 or lower --mirror-max-logs' \
    1100 1100 --logs "$T/logs" --mirror-max-logs 4
# under 1000 not even --mirror-max-logs 2 (1024) would hold: raise only
check_refused "--mirror-max-logs 4, hard 1000" \
    'the open-file limit (hard 1000) cannot hold the 1280 descriptors the witness needs (704 for its state and the rest, 512 for 4 mirror copies at most, 64 connections at least): raise the hard limit (ulimit -Hn, LimitNOFILE=) to 1280' \
    1000 1000 --logs "$T/logs" --mirror-max-logs 4
check_usable "--mirror-max-logs 2, hard 1100" 1024 1100 --logs "$T/logs" --mirror-max-logs 2
# not mirroring: 704 + 64
echo logs/v0 > "$T/logs-plain"
printf 'vkey %s\n' "$(cat "$T/a.key.pub")" >> "$T/logs-plain"
WHY_PLAIN='the open-file limit (hard 700) cannot hold the 768 descriptors the witness needs (704 for its state and the rest, 64 connections at least): raise the hard limit (ulimit -Hn, LimitNOFILE=) to 768'
bash -c 'ulimit -n 700 && exec "$@"' _ "$GL_BIN/glasslog-witness" --data "$T/wd-none" \
    --key "$T/w1.key" --logs "$T/logs-plain" --check-config > "$T/cout" 2> "$T/cerr"
CRC=$?
[ "$CRC" = 1 ] && grep -qF "$WHY_PLAIN" "$T/cerr" ||
    fail "check-config, no mirror, hard 700: exit $CRC: $(cat "$T/cout") $(tail -2 "$T/cerr")"
bash -c 'ulimit -Sn 100 && ulimit -Hn 768 && exec "$@"' _ "$GL_BIN/glasslog-witness" \
    --data "$T/wd-none" --key "$T/w1.key" --logs "$T/logs-plain" --check-config \
    > "$T/cout" 2> "$T/cerr" || fail "check-config, no mirror, hard 768: $(tail -2 "$T/cerr")"
[ -e "$T/wd-none" ] && fail "check-config made a state"

# a start under 1400 (which --check-config takes: it counts no spare) and
# under 300: the reason, refused before anything opens (no state made
# under a new data dir, no EMFILE; the old code failed opening the stores)
for lim in 1400 300; do
    timeout 30 bash -c 'ulimit -Sn "$0" && ulimit -Hn "$0" && exec "$@"' "$lim" \
        "$GL_BIN/glasslog-witness" --listen "127.0.0.1:$PORT1" --data "$T/wd-low" --create \
        --key "$T/w1.key" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT" \
        --logs "$T/logs" > /dev/null 2> "$T/err"
    rc=$?
    [ "$rc" = 1 ] || fail "start under $lim: exit $rc, want 1: $(tail -3 "$T/err")"
    want="the open-file limit (hard $lim) cannot hold the 1536 descriptors"
    [ "$(grep -cF "$want" "$T/err")" = 1 ] || fail "start under $lim: no reason: $(tail -3 "$T/err")"
    grep -q 'Too many open files\|EMFILE' "$T/err" && fail "start under $lim: EMFILE: $(tail -3 "$T/err")"
    [ -e "$T/wd-low" ] && fail "start under $lim: the state was made before the refusal"
done
check_refused "default bound, hard 300" "$(why_auto 300)" 300 300 --logs "$T/logs"
echo "90-mirror-fds: ok"
