# Shared helpers for integration tests (sourced). Each test runs in its own
# temp dir, removed on exit; failures print what was expected.
set -u
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
: "${GL_VECTORS:?GL_VECTORS must name the test vectors directory}"
T=$(mktemp -d)
# TOOLS: the test tools' directory (tools/), absolute; a stub HTTP server
# runs as env PYTHONPATH="$TOOLS" python3 -u -c SNIPPET (tools/stubhttp.py)
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")/tools" && pwd)"
ROOT="$(cd "$TOOLS/../../.." && pwd)" # the repository

fail() { echo "FAIL: $*" >&2; exit 1; }
# need_py_crypto: the independent Ed25519 checks need python3's cryptography
# module (Debian: python3-cryptography, installed by make deps); fail, never
# skip, without it.
need_py_crypto() {
    python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
        fail "python3 has no cryptography module (python3-cryptography): cannot check signatures independently"
}
# expect_rc WANT CMD...: runs CMD, fails unless it exits with WANT.
expect_rc() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $rc, want $want"; }
}
# expect_err PATTERN: the last command's stderr matches PATTERN.
expect_err() { grep -q -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$1'"; }; }

# --- glasslogd helpers -----------------------------------------------------
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
NSTART=0

# make_keys: log.key (origin example.com/log), sub.key (a listed submitter),
# other.key (not listed), submitters file.
make_keys() {
    "$GL_BIN/glasslog" keygen --name example.com/log --out "$T/log.key" >/dev/null || fail keygen
    "$GL_BIN/glasslog" keygen --name ci.example.com --out "$T/sub.key" > "$T/submitters" || fail keygen
    "$GL_BIN/glasslog" keygen --name intruder --out "$T/other.key" >/dev/null || fail keygen
}

# spawn NAME CMD...: runs a server in the background (stderr in SPAWN_OUT,
# stdout in SPAWN_OUT.stdout) and waits for its "(port N)" log line; sets
# SPAWN_PID, SPAWN_OUT, SPAWN_URL. Returns non-zero if the server exits.
# The wait is up to 60 s: a loaded machine (sanitizers, tests beside)
# may take seconds to open a store.
spawn() {
    local name=$1 port="" end
    shift
    NSTART=$((NSTART + 1))
    SPAWN_OUT="$T/$name.$NSTART.log"
    : > "$SPAWN_OUT" # exists before the wait below reads it
    "$@" > "$SPAWN_OUT.stdout" 2> "$SPAWN_OUT" &
    SPAWN_PID=$!
    PIDS="$PIDS $SPAWN_PID"
    end=$(($(date +%s) + 60))
    while [ "$(date +%s)" -lt "$end" ]; do
        port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$SPAWN_OUT")
        [ -n "$port" ] && break
        kill -0 "$SPAWN_PID" 2>/dev/null || { wait "$SPAWN_PID"; return 1; }
        sleep 0.05
    done
    [ -n "$port" ] || fail "$name did not start: $(cat "$SPAWN_OUT")"
    SPAWN_URL="http://127.0.0.1:$port"
}

# start_tool NAME CMD...: runs a test tool (tools/) that prints "listening
# on port N" once ready, its stdout and stderr in $T/NAME.out, and waits up
# to 30 s for that line; sets TOOL_PID and TOOL_PORT.
start_tool() {
    local name=$1 out="$T/$1.out" end
    shift
    end=$(($(date +%s) + 30))
    "$@" > "$out" 2>&1 &
    TOOL_PID=$!
    PIDS="$PIDS $TOOL_PID"
    until grep -q '^listening on port [0-9]*$' "$out"; do
        kill -0 "$TOOL_PID" 2>/dev/null || fail "$name exited: $(cat "$out")"
        [ "$(date +%s)" -lt "$end" ] || fail "$name did not start in 30 s: $(cat "$out")"
        sleep 0.05
    done
    TOOL_PORT=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$out")
}

# start_log DATA [ARGS...]: starts glasslogd on a free loopback port; sets
# LOG_PID, LOG_URL and LOG_OUT (its stderr). Returns non-zero if it exits.
# A non-empty LOG_WRAP (e.g. FAULT_WRAP) is a command prefix for it.
start_log() {
    local data=$1 rc=0
    shift
    spawn glasslogd ${LOG_WRAP:-} "$GL_BIN/glasslogd" --data "$data" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 "$@" || rc=$?
    LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT LOG_URL=${SPAWN_URL:-}
    return $rc
}

# stop_log: SIGTERM, and the exit status must be 0.
stop_log() {
    kill -TERM "$LOG_PID"
    wait "$LOG_PID" || fail "glasslogd exited $? on SIGTERM: $(tail -5 "$LOG_OUT")"
}

# http METHOD PATH [CURL ARGS...]: sets CODE and BODY (file $T/body).
http() {
    local m=$1 p=$2
    shift 2
    CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$LOG_URL$p")
}

# expect_http CODE METHOD PATH [CURL ARGS...]
expect_http() {
    local want=$1
    shift
    http "$@"
    [ "$CODE" = "$want" ] || fail "$1 $2 answered $CODE, want $want: $(head -c 300 "$T/body")"
}

# append_one SUBJECT VERSION [ARGS...]: appends a statement about a fresh
# artifact; prints "index N" lines into $T/out.
append_one() {
    local s=$1 v=$2
    shift 2
    "$GL_BIN/glasslog" append --log "$LOG_URL" --key "$T/sub.key" --kind build \
        --subject "$s" --version "$v" --sha256 "$(printf '%s %s' "$s" "$v" | sha256sum | cut -c1-64)" \
        --log-vkey "@$T/log.key.pub" "$@"
}

# loadgen_tool: sets LOADGEN (tests/bench/loadgen), or fails.
loadgen_tool() {
    LOADGEN="${GL_LOADGEN:-${GL_BUILD:-build}/tests/bench/loadgen}"
    case "$LOADGEN" in /*) ;; *) LOADGEN="$ROOT/$LOADGEN" ;; esac
    [ -x "$LOADGEN" ] || fail "no loadgen at $LOADGEN (make test-build makes it)"
}

# --- glasslog-witness helpers ------------------------------------------------
# free_port [N]: N (1) distinct ports of 127.0.0.1 free now, on one line,
# below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768
# and up by default), so that no outgoing connection's local port takes
# one before the daemon binds it (a port the kernel picked with bind(0)
# was: "Address already in use"). Scripts running at once (tests/run.sh)
# pick from disjoint shares of that range: share GL_PORT_SLOT (0) of
# GL_PORT_SLOTS (1). One interpreter for all N.
free_port() {
    python3 -c '
import random, socket, sys
n, slot, slots = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
hi = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
base = min(10000, hi - 1000)
width = (hi - base) // slots
if not 0 <= slot < slots or width < 100:
    sys.exit("bad port slot %d of %d" % (slot, slots))
got = []
for _ in range(200 * n):
    p = random.randint(base + slot * width, base + (slot + 1) * width - 1)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    if p not in got:
        got.append(p)
    if len(got) == n:
        print(*got)
        sys.exit(0)
sys.exit("no free port in [%d, %d)" % (base + slot * width, base + (slot + 1) * width))' \
        "${1:-1}" "${GL_PORT_SLOT:-0}" "${GL_PORT_SLOTS:-1}" || fail "free_port"
}

# make_witness_keys N...: cosigning keys w<N>.key (name witness<N>.example)
# and a free port PORT<N> for each.
make_witness_keys() {
    local n
    for n in "$@"; do
        "$GL_BIN/glasslog" keygen --name "witness$n.example" --cosigner --out "$T/w$n.key" \
            > /dev/null || fail "witness keygen"
        eval "PORT$n=$(free_port)"
    done
}

# mirror_keys: make_keys, witness 1's keys (make_witness_keys 1) and a
# mirror's, m1.key (mirror1.example); MPORT, a free port for the mirror's
# listener, and MURL, its URL.
mirror_keys() {
    make_keys
    make_witness_keys 1
    "$GL_BIN/glasslog" keygen --name mirror1.example --cosigner --out "$T/m1.key" > /dev/null ||
        fail keygen
    MPORT=$(free_port)
    MURL="http://127.0.0.1:$MPORT"
}

# one_mirror: mirror_keys, then witness 1 started as the mirror of the one
# log example.com/log ($T/logs), with $T/mirrors naming it for glasslogd's
# --mirrors; sets LHEX (the hex SHA-256 of the origin: its mirror path).
one_mirror() {
    mirror_keys
    LHEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
    printf 'logs/v0\nvkey %s\nmirror\n' "$(cat "$T/log.key.pub")" > "$T/logs"
    printf 'mirror mirror1.example %s %s\n' "$(cat "$T/m1.key.pub")" "$MURL" > "$T/mirrors"
    start_witness 1 "$T/logs" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT"
    wait_until 10 curl -sf -o /dev/null "$MURL/healthz" || fail "mirror listener not up"
}

# create_flag DIR: prints --create if DIR does not exist yet (a witness's
# first start), nothing otherwise, so restarts take the real path.
create_flag() { [ -e "$1" ] || echo --create; }

# start_witness N LOGSFILE [ARGS...]: witness N on PORT<N> with key w<N>.key
# and data in $T/wd<N> (--create the first time); sets WPID<N> and WOUT<N>
# (its stderr).
start_witness() {
    local n=$1 logs=$2
    shift 2
    spawn "witness$n" "$GL_BIN/glasslog-witness" --listen "127.0.0.1:$(eval echo \$PORT$n)" \
        --data "$T/wd$n" $(create_flag "$T/wd$n") --key "$T/w$n.key" --logs "$logs" "$@" ||
        fail "witness $n exited: $(cat "$SPAWN_OUT")"
    eval "WPID$n=$SPAWN_PID; WOUT$n=$SPAWN_OUT"
}

# one_witness: witness 1 (keys made) following this log alone ($T/logs),
# and $T/witnesses, the log's --witnesses policy naming it with quorum w1.
one_witness() {
    make_witness_keys 1
    printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
    start_witness 1 "$T/logs"
    printf 'witness w1 %s http://127.0.0.1:%s\nquorum w1\n' "$(cat "$T/w1.key.pub")" "$PORT1" \
        > "$T/witnesses"
}

# stop_witness N: SIGTERM, exit status 0.
stop_witness() {
    local pid
    pid=$(eval echo \$WPID$1)
    kill -TERM "$pid"
    wait "$pid" || fail "witness $1 exited $? on SIGTERM"
}

# --- storage faults (tests/fault/faultfs.c) ---------------------------------
# fault_wrap DIR: sets FAULT_WRAP, a command prefix ("env ...") that runs a
# daemon with the fault shim preloaded, faulting regular files under DIR as
# $T/fault.ctl says; the control starts "off" (fault_set changes it). Under
# AddressSanitizer the sanitizer's runtime must come first in LD_PRELOAD:
# it is taken from the daemon's own dependencies.
fault_wrap() {
    local so asan
    so=${GL_BUILD:-build}/tests/fault/faultfs.so
    case "$so" in /*) ;; *) so="$ROOT/$so" ;; esac
    [ -f "$so" ] || fail "no fault shim at $so (make test-build makes it)"
    asan=$(ldd "$GL_BIN/glasslogd" | awk '/libasan/ { print $3 }')
    fault_set off
    FAULT_WRAP="env LD_PRELOAD=${asan:+$asan:}$so GL_FAULT_DIR=$1 GL_FAULT_CTL=$T/fault.ctl"
}

# fault_set LINE: replaces the control file at once (rename): "off", or
# "enospc|eio AFTER [write|sync]" (the first AFTER matching calls pass), or
# "delay MS [write|sync]" (each matching call waits MS milliseconds).
fault_set() {
    printf '%s\n' "$*" > "$T/fault.ctl.new" && mv -f "$T/fault.ctl.new" "$T/fault.ctl" ||
        fail "cannot write the fault control file"
}

# statement SUBJECT VERSION: a statement signed by sub.key, on stdout.
statement() {
    printf 'glasslog.dev/statement/v1\nkind build\nsubject %s\nversion %s\nsha256 %s\ntime %s\n' \
        "$1" "$2" "$(printf '%s %s' "$1" "$2" | sha256sum | cut -c1-64)" "$(date +%s)" |
        "$GL_BIN/glasslog" note sign --key "$T/sub.key"
}

# post_as KEY SUBJECT: posts a statement about SUBJECT signed by KEY to the
# log at $LOG_URL; sets CODE and BODY (http).
post_as() {
    printf 'glasslog.dev/statement/v1\nkind build\nsubject %s\nversion 1\nsha256 %s\ntime %s\n' \
        "$2" "$(printf '%s' "$2" | sha256sum | cut -c1-64)" "$(date +%s)" |
        "$GL_BIN/glasslog" note sign --key "$1" > "$T/st" || fail "note sign"
    http POST /api/v1/add --data-binary "@$T/st"
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or
# SECONDS pass (1).
wait_until() {
    local end=$(( $(date +%s%3N) + $1 * 1000 )) # ms: whole seconds could cut a second off
    shift
    until "$@"; do
        [ "$(date +%s%3N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# check_metrics FILE: Prometheus text whose every family is one group: its
# "# TYPE" line once, then all its samples (a histogram's _bucket, _sum
# and _count), before the next family.
check_metrics() {
    awk '
        /^# TYPE / { if ($3 in seen) { print "family " $3 " twice"; bad = 1 }
                     seen[$3] = 1; cur = $3; next }
        /^#/ || /^$/ { next }
        { n = $1; sub(/\{.*/, "", n)
          if (n != cur && n != cur "_bucket" && n != cur "_sum" && n != cur "_count") {
              print "sample " n " outside its family (after # TYPE " cur ")"; bad = 1 } }
        END { exit bad }' "$1" > "$1.check" || fail "metrics in $1: $(head -3 "$1.check")"
}
