# Shared helpers for integration tests (sourced). Each test runs in its own
# temp dir, removed on exit; failures print what was expected.
set -u
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
: "${GL_VECTORS:?GL_VECTORS must name the test vectors directory}"
T=$(mktemp -d)


fail() { echo "FAIL: $*" >&2; exit 1; }
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

# start_log DATA [ARGS...]: starts glasslogd on a free loopback port; sets
# LOG_PID, LOG_URL and LOG_OUT (its stderr). Returns non-zero if it exits.
start_log() {
    local data=$1 port="" i
    shift
    NSTART=$((NSTART + 1))
    LOG_OUT="$T/glasslogd.$NSTART.log"
    "$GL_BIN/glasslogd" --data "$data" --key "$T/log.key" --submitters "$T/submitters" \
        --listen 127.0.0.1:0 "$@" >"$LOG_OUT" 2>&1 &
    LOG_PID=$!
    PIDS="$PIDS $LOG_PID"
    for i in $(seq 200); do
        port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$LOG_OUT")
        [ -n "$port" ] && break
        kill -0 "$LOG_PID" 2>/dev/null || { wait "$LOG_PID"; return 1; }
        sleep 0.05
    done
    [ -n "$port" ] || fail "glasslogd did not start: $(cat "$LOG_OUT")"
    LOG_URL="http://127.0.0.1:$port"
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
