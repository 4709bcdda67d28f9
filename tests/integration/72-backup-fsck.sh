# Goal: SIGUSR1 makes a running glasslogd write a consistent snapshot into
# --backup-dir while appends go on; `glasslogd --fsck` says OK (exit 0) on
# the snapshot, which a glasslogd serves with the same checkpoint; fsck
# refuses the live store (locked), and finds damage (exit 1, naming it) in
# copies with a bit-flipped tile, a truncated tile, a deleted tile,
# missing entries and a malformed tile (and goes on past them), a
# flipped byte in a table file and a truncated table file; with --vkey of
# another key it says NOT THIS LOG (exit 1) and checks nothing more; a
# store without its log key cannot be checked (exit 3, saying what cannot
# be read); a backup first removes the glasslog-*.incomplete directories
# an interrupted one left, unless another process holds the backup
# directory's lock (then the request is refused, nothing swept or
# written); a request without --backup-dir, and one on the in-memory
# store, are logged. A directory with files but no store is refused by
# both, and nothing is written into it. A copy does not start with a --witnesses policy
# that names no witness ("quorum none": nobody can show it current). The
# log pushes to a mirror (hosted by witness 1), which holds the 900
# entries: the older backup started with --mirrors is refused, naming
# the mirror and its size, even with --accept-copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
loadgen_tool
TT="$GL_BUILD/tests/integration/tools/tiletool"
case "$TT" in /*) ;; *) TT="$(cd "$(dirname "$0")/../.." && pwd)/$TT" ;; esac
[ -x "$TT" ] || fail "no tiletool at $TT (make test-build)"
mirror_setup
fsck() { "$GL_BIN/glasslogd" --fsck "$@" > "$T/fsck.out" 2> "$T/fsck.err"; }

start_log "$T/data" --create --batch-ms 2 --backup-dir "$T/backups" --mirrors "$T/mirrors" ||
    fail "start"
# 700 entries: two full level-0 tiles and a partial one.
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 700 -c 8 --seed 72 \
    > "$T/lg.out" 2>&1 || fail "appends: $(tail -3 "$T/lg.out")"
# A backup while appends keep coming (200 more over 2 s).
"$LOADGEN" append --log "$LOG_URL" --key "$T/sub.key" -n 200 -c 4 --rate 100 --timeout 300 --seed 73 \
    > "$T/lg2.out" 2>&1 &
LOADER=$!
sleep 0.3
# What an interrupted backup left (a snapshot not yet renamed, or
# RocksDB's staging directory of one, .incomplete.tmp) is swept
# first; a file of that name, not a backup's directory, is left alone, and
# so are directories no backup is named as (no "glasslog-" before the
# suffix, or nothing between them).
mkdir -p "$T/backups/glasslog-20200101T000000Z.incomplete/sub" \
    "$T/backups/glasslog-20200102T000000Z.incomplete.tmp" \
    "$T/backups/other.incomplete" "$T/backups/glasslog-.incomplete"
touch "$T/backups/glasslog-20200101T000000Z.incomplete/sub/CURRENT" \
    "$T/backups/glasslog-x.incomplete"
# While another process holds the backup directory's lock (a second log
# given the same --backup-dir, in the middle of its backup), a request is
# refused, and nothing there is swept or written.
(exec 9< "$T/backups" && flock 9 && exec sleep 30) & # the sleep holds the lock
HOLDER=$!
PIDS="$PIDS $HOLDER"
wait_until 20 sh -c "! flock -n '$T/backups' true" || fail "flock did not take $T/backups"
kill -USR1 "$LOG_PID"
wait_until 10 grep -q "another process is writing a backup into $T/backups" "$LOG_OUT" ||
    fail "no refusal beside a held lock: $(tail -3 "$LOG_OUT")"
[ -d "$T/backups/glasslog-20200101T000000Z.incomplete" ] || fail "a backup without the lock swept"
[ -z "$(ls -d "$T"/backups/glasslog-2???????T??????Z 2> /dev/null)" ] || fail "a backup without the lock wrote"
kill "$HOLDER"
wait "$HOLDER" 2> /dev/null
kill -USR1 "$LOG_PID"
wait_until 60 grep -q 'backup: .* written' "$LOG_OUT" || fail "no backup: $(tail -3 "$LOG_OUT")"
grep -q 'backup: removed .*/glasslog-20200101T000000Z.incomplete, left by an interrupted' \
    "$LOG_OUT" || fail "no sweep logged: $(cat "$LOG_OUT")"
[ ! -e "$T/backups/glasslog-20200101T000000Z.incomplete" ] || fail "stale snapshot kept"
[ ! -e "$T/backups/glasslog-20200102T000000Z.incomplete.tmp" ] ||
    fail "RocksDB's staging directory of an interrupted snapshot kept"
rm "$T/backups/glasslog-x.incomplete" || fail "a file named as a snapshot was removed"
rmdir "$T/backups/other.incomplete" "$T/backups/glasslog-.incomplete" ||
    fail "a directory not named as a backup's was removed"
wait "$LOADER" || fail "appends during the backup failed"
wait_until 30 sh -c "[ \"\$(curl -sf $MIRROR/checkpoint | sed -n 2p)\" = 900 ]" ||
    fail "the mirror never reached 900: $(grep mirror "$LOG_OUT" | tail -3)"
B=$(ls -d "$T"/backups/glasslog-* | head -1)
[ -d "$B" ] || fail "no backup directory"
# The live store is locked: fsck refuses it clearly.
fsck "$T/data"
[ $? = 3 ] || fail "fsck of the live store: exit $?, want 3"
grep -q 'cannot open the store' "$T/fsck.out" || fail "live fsck: $(cat "$T/fsck.out")"
expect_http 200 GET /checkpoint
cp "$T/body" "$T/live.ck"
stop_log

[ "$(ls "$T/backups")" = "$(basename "$B")" ] || fail "backups: $(ls "$T/backups")"
# fsck writes nothing: every file of the backup (names and bytes) is the
# same after the checks below.
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
sums "$B" > "$T/sums.before"

# The backup is healthy, and a log serving it serves its checkpoint.
fsck "$B" --vkey "@$T/log.key.pub" || fail "fsck of the backup: $(cat "$T/fsck.out" "$T/fsck.err")"
grep -q '^fsck: OK' "$T/fsck.out" || fail "fsck report: $(cat "$T/fsck.out")"
grep -q 'fsck: entries [0-9]*/[0-9]* (100%)' "$T/fsck.err" || fail "no progress line"
N=$(sed -n 's/^checkpoint: size \([0-9]*\),.*/\1/p' "$T/fsck.out")
[ "$N" -ge 700 ] && [ "$N" -le 900 ] || fail "backup size $N not within 700..900"
# The backup is a copy that may be older than what the log released (the
# log went on to 900): without witnesses to show it current, glasslogd
# refuses to start on it; with --accept-copy it serves it, and the mark
# is gone after that start (a plain restart works).
cp -a "$B" "$T/served"
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/served" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0
expect_err "this store is a copy (backup or restore)"
expect_err "refusing to start"
# A policy naming no witness shows nothing either: refused (a start would
# sign on the stale copy, a second history).
printf 'quorum none\n' > "$T/pol0"
start_log "$T/served" --witnesses "$T/pol0" &&
    fail "started on a copy with a policy naming no witness: $(tail -3 "$LOG_OUT")"
grep -q "the --witnesses policy names no witness" "$LOG_OUT" ||
    fail "copy with pol0: $(cat "$LOG_OUT")"
# The mirror holds all 900: the log released more than the backup holds,
# so a start on it would fork the log; refused even with --accept-copy.
start_log "$T/served" --accept-copy --mirrors "$T/mirrors" &&
    fail "started on a copy a mirror holds more of: $(tail -3 "$LOG_OUT")"
grep -q "this store is a copy (backup or restore) of size $N and mirror mirror1.example ($MURL) holds size 900" \
    "$LOG_OUT" || fail "copy behind the mirror: $(cat "$LOG_OUT")"
stop_witness 1
start_log "$T/served" --accept-copy || fail "serving the backup: $(cat "$LOG_OUT")"
grep -q -- "--accept-copy says it is current" "$LOG_OUT" || fail "no accept line: $(cat "$LOG_OUT")"
expect_http 200 GET /checkpoint
[ "$(sed -n 2p "$T/body")" = "$N" ] || fail "served backup size differs"
stop_log
start_log "$T/served" || fail "restart on the accepted copy: $(cat "$LOG_OUT")"
stop_log
# --read-only serves a copy without the check, and leaves it marked.
cp -a "$B" "$T/ro"
start_log "$T/ro" --read-only || fail "read-only on the backup: $(cat "$LOG_OUT")"
stop_log
expect_rc 1 "$GL_BIN/glasslogd" --data "$T/ro" --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0
expect_err "this store is a copy (backup or restore)"
fsck "$T/data" --vkey "@$T/log.key.pub" || fail "fsck of the stopped store: $(cat "$T/fsck.out")"
grep -q "^fsck: OK (900 entries)" "$T/fsck.out" || fail "stopped store: $(cat "$T/fsck.out")"
# Another key given: refused.
fsck "$B" --vkey "@$T/other.key.pub"
[ $? = 1 ] || fail "fsck with another key: exit $?"
grep -q 'belongs to log key' "$T/fsck.out" || fail "wrong-key report: $(cat "$T/fsck.out")"
grep -q '^fsck: NOT THIS LOG' "$T/fsck.out" || fail "wrong-key verdict: $(cat "$T/fsck.out")"
grep -q 'checked against --vkey\|DAMAGED\|signature valid' "$T/fsck.out" &&
    fail "wrong-key report claims a check: $(cat "$T/fsck.out")"
# An unreadable --vkey is a usage error (exit 2).
fsck "$B" --vkey "@$T/no-such.pub"
[ $? = 2 ] || fail "fsck with an unreadable --vkey: exit $?"
sums "$B" > "$T/sums.after"
diff "$T/sums.before" "$T/sums.after" > /dev/null ||
    fail "fsck changed the backup: $(diff "$T/sums.before" "$T/sums.after")"
# A copy nobody may write to is checked too (as root, permissions do
# not stop writes, so this part only runs for other users).
if [ "$(id -u)" -ne 0 ]; then
    cp -a "$B" "$T/rocopy"
    chmod -R a-w "$T/rocopy"
    fsck "$T/rocopy" --vkey "@$T/log.key.pub" || fail "fsck of a read-only copy: $(cat "$T/fsck.out")"
    chmod -R u+w "$T/rocopy"
else
    echo "  (root: the fsck of a read-only copy is not tested)"
fi

# damaged COPY CMD...: a fresh copy of the backup, damaged by CMD (run
# with the copy's path appended... as $C), must be reported DAMAGED.
damaged() {
    local what=$1 want=$2
    shift 2
    rm -rf "$T/c"
    cp -a "$B" "$T/c"
    C="$T/c"
    eval "$@" || fail "damaging ($what) failed"
    fsck "$T/c" --vkey "@$T/log.key.pub"
    local rc=$?
    [ "$rc" -ne 0 ] || fail "fsck passed a copy with $what: $(cat "$T/fsck.out")"
    grep -q "$want" "$T/fsck.out" || fail "fsck on $what: want '$want': $(cat "$T/fsck.out")"
    echo "  $what: exit $rc, $(grep -m1 'problem' "$T/fsck.out")"
}
damaged "a bit-flipped level-0 tile" 'tile/0/001' '"$TT" "$C" flip 0 1 100 > /dev/null'
damaged "a bit-flipped level-1 tile" 'tile/1/000' '"$TT" "$C" flip 1 0 10 > /dev/null'
damaged "a truncated tile" 'tile/0/000' '"$TT" "$C" truncate 0 0 4000 > /dev/null'
damaged "a deleted tile" 'tile/0/001' '"$TT" "$C" delete 0 1 > /dev/null'
# fsck goes on past a missing entry and an unreadable tile: each is one
# problem, and the damage after them is found too.
damaged "missing entries, a malformed tile and a flipped tile" 'entries 5 to 7 are missing (3)' \
    '"$TT" "$C" delete-entry 5 && "$TT" "$C" delete-entry 6 && "$TT" "$C" delete-entry 7 &&
     "$TT" "$C" delete-entry 300 && "$TT" "$C" cut 0 0 4001 && "$TT" "$C" flip 0 2 100 > /dev/null'
grep -q 'problem: tile/0/0 cannot be read' "$T/fsck.out" || fail "malformed tile: $(cat "$T/fsck.out")"
grep -q 'problem: entry 300 is missing$' "$T/fsck.out" || fail "entry 300: $(cat "$T/fsck.out")"
grep -q 'problem: entry 515: its leaf hash is not the one in tile/0/2 ' "$T/fsck.out" ||
    fail "the flipped tile after the gaps: $(cat "$T/fsck.out")"
grep -q "^entries: $((N - 4)) of $N read" "$T/fsck.out" || fail "entries read: $(cat "$T/fsck.out")"
# A store whose log key cannot be read cannot be checked: fsck says what
# it cannot read (exit 3), not "DAMAGED (0 problems)".
damaged "no log key" "fsck: CANNOT CHECK (the store's log key cannot be read)" \
    '"$TT" "$C" delete-meta vkey'
grep -q "problem: cannot read the store's log key: not there" "$T/fsck.out" ||
    fail "no log key: $(cat "$T/fsck.out")"
grep -q "DAMAGED" "$T/fsck.out" && fail "no log key: $(cat "$T/fsck.out")"
# Below the store: bytes of its table files.
SST=$(ls -S "$B"/*.sst | head -1)
[ -n "$SST" ] || fail "no table file in the backup"
SSTN=$(basename "$SST")
damaged "a flipped byte in a table file" 'DAMAGED\|CANNOT' \
    'python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); b[len(b)//3]^=1; open(p,\"wb\").write(b)" "$C/$SSTN"'
damaged "a truncated table file" 'DAMAGED\|CANNOT' 'truncate -s 1000 "$C/$SSTN"'

# SIGUSR1 without --backup-dir: logged, nothing else happens.
start_log "$T/data" || fail "restart"
kill -USR1 "$LOG_PID"
wait_until 30 grep -q 'no --backup-dir' "$LOG_OUT" || fail "no log line for a backup without a dir"
expect_http 200 GET /checkpoint
stop_log
# The in-memory store has no online backup: the log says so (not a
# PostgreSQL hint).
spawn memlog "$GL_BIN/glasslogd" --store mem: --create --key "$T/log.key" \
    --submitters "$T/submitters" --listen 127.0.0.1:0 --backup-dir "$T/membackups" ||
    fail "mem: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID
kill -USR1 "$LOG_PID"
wait_until 30 grep -q 'backup: .* not written: the mem store has no online backup$' "$SPAWN_OUT" ||
    fail "mem backup: $(tail -3 "$SPAWN_OUT")"
stop_log
# A data directory with files but no store (a fresh file system's
# lost+found) is refused, by glasslogd and by fsck, before RocksDB
# writes its LOCK and LOG files into it.
mkdir -p "$T/lf/lost+found"
start_log "$T/lf" && fail "glasslogd started on a directory holding no store"
grep -q "has files but no RocksDB store" "$LOG_OUT" || fail "no-store dir: $(cat "$LOG_OUT")"
fsck "$T/lf"
[ $? = 3 ] || fail "fsck of a directory holding no store: exit $?"
[ "$(ls -A "$T/lf")" = "lost+found" ] || fail "files written into it: $(ls -A "$T/lf")"
echo "ok 72-backup-fsck"
