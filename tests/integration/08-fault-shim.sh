# Goal: the fault shim (tests/fault/faultfs.c) that 06 and 17 rely on does
# what they assume. A Python process preloaded with it writes and syncs
# through the C library (os.write, os.fsync, ...) while the test changes
# the control file: "enospc N" lets N matching calls through and fails
# the rest with ENOSPC, "eio N write" fails writes but not syncs, "eio 0
# sync" the reverse, "off" (or a missing control file) stops the faults,
# files in subdirectories count, while pipes, files outside the directory
# and a directory that merely shares the prefix are never touched. The
# first injected failure is reported on stderr.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SO=${GL_BUILD:-build}/tests/fault/faultfs.so
case "$SO" in /*) ;; *) SO="$ROOT/$SO" ;; esac
[ -f "$SO" ] || fail "no fault shim at $SO (make test-build makes it)"
mkdir -p "$T/d/sub" "$T/d2" "$T/out"

cat > "$T/probe.py" <<'EOF'
# Each line of stdin: an action; prints "ok" or the errno name, per line.
import errno, os, sys
T = sys.argv[1]
r, w = os.pipe()
def act(a):
    path = {"in": T + "/d/f", "sub": T + "/d/sub/g", "out": T + "/out/h",
            "prefix": T + "/d2/i"}
    kind, what = a.split()
    if what == "pipe":
        fd = w
    else:
        fd = os.open(path[what], os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if kind == "write": os.write(fd, b"x" * 100)
        elif kind == "pwrite": os.pwrite(fd, b"y", 5)
        elif kind == "writev": os.writev(fd, [b"a", b"b"])
        elif kind == "fsync": os.fsync(fd)
        elif kind == "fdatasync": os.fdatasync(fd)
        elif kind == "ftruncate": os.ftruncate(fd, 10)
        elif kind == "fallocate": os.posix_fallocate(fd, 0, 4096)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
    finally:
        if fd != w: os.close(fd)
for line in sys.stdin:
    if line.strip(): print(line.strip(), act(line.strip()))
EOF

# run ACTIONS...: runs them in one preloaded process; output in $T/run.out.
run() {
    printf '%s\n' "$@" | env LD_PRELOAD="$SO" GL_FAULT_DIR="$T/d" GL_FAULT_CTL="$T/fault.ctl" \
        python3 "$T/probe.py" "$T" > "$T/run.out" 2> "$T/run.err" || fail "probe: $(cat "$T/run.err")"
}
# expect ACTION RESULT: the run answered RESULT to ACTION (first match).
expect() {
    local got
    got=$(grep -m1 "^$1 " "$T/run.out" | cut -d' ' -f3)
    [ "$got" = "$2" ] || fail "$(cat "$T/fault.ctl" 2>/dev/null): '$1' gave '$got', want '$2'"
}

rm -f "$T/fault.ctl"
run "write in" "fsync in"
expect "write in" ok
expect "fsync in" ok

fault_set off
run "write in" "fdatasync sub"
expect "write in" ok
expect "fdatasync sub" ok
[ -s "$T/run.err" ] && fail "the shim spoke while off: $(cat "$T/run.err")"

fault_set enospc 0
run "write in" "pwrite sub" "writev in" "fsync in" "fdatasync in" "ftruncate in" "fallocate in" \
    "write pipe" "write out" "fsync out" "write prefix" "fsync prefix"
for a in "write in" "pwrite sub" "writev in" "fsync in" "fdatasync in" "ftruncate in" \
    "fallocate in"; do expect "$a" ENOSPC; done
for a in "write pipe" "write out" "fsync out" "write prefix" "fsync prefix"; do expect "$a" ok; done
grep -q "^faultfs: injecting ENOSPC into write on $T/d/f$" "$T/run.err" ||
    fail "no report of the first injection: $(cat "$T/run.err")"

fault_set eio 2
run "write in" "fsync in" "write in" "fsync sub"
[ "$(cut -d' ' -f3 "$T/run.out" | tr '\n' ' ')" = "ok ok EIO EIO " ] ||
    fail "eio 2: $(cat "$T/run.out")"

fault_set eio 1 write
run "write in" "fsync in" "write sub" "fdatasync in" "pwrite in"
[ "$(cut -d' ' -f3 "$T/run.out" | tr '\n' ' ')" = "ok ok EIO ok EIO " ] ||
    fail "eio 1 write: $(cat "$T/run.out")"

fault_set eio 0 sync
run "write in" "fsync in" "fdatasync sub" "ftruncate in"
[ "$(cut -d' ' -f3 "$T/run.out" | tr '\n' ' ')" = "ok EIO EIO ok " ] ||
    fail "eio 0 sync: $(cat "$T/run.out")"

# A change is seen by a running process (the daemons' case): the probe
# reads its actions from a FIFO, and the fault is cleared between two.
fault_set eio 0
mkfifo "$T/fifo"
env LD_PRELOAD="$SO" GL_FAULT_DIR="$T/d" GL_FAULT_CTL="$T/fault.ctl" \
    python3 -u "$T/probe.py" "$T" < "$T/fifo" > "$T/run.out" 2> "$T/run.err" &
probe=$!
PIDS="$PIDS $probe"
exec 3> "$T/fifo"
answered() { [ "$(wc -l < "$T/run.out")" -ge "$1" ]; }
echo "write in" >&3
wait_until 60 answered 1 || fail "the probe did not answer"
fault_set off
echo "write in" >&3
exec 3>&-
wait "$probe" || fail "probe: $(cat "$T/run.err")"
[ "$(cut -d' ' -f3 "$T/run.out" | tr '\n' ' ')" = "EIO ok " ] ||
    fail "a cleared fault was not seen: $(cat "$T/run.out")"
echo "08-fault-shim: ok"
