# Helpers for the client tests (2x-client-*.sh), sourced after lib.sh.
G="$GL_BIN/glasslog"

# cosign_tool: sets COSIGN to the test cosigner (tools/cosign.c): the one
# the Makefile built in $GL_BUILD, else compiled here from the sources.
cosign_tool() {
    COSIGN="${GL_BUILD:-build}/tests/integration/tools/cosign"
    case "$COSIGN" in /*) ;; *) COSIGN="$ROOT/$COSIGN" ;; esac
    [ -x "$COSIGN" ] && return 0
    COSIGN="$T/cosign"
    (cd "$ROOT" && ${CC:-cc} -std=c11 -O1 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -Iinclude -Ilib tests/integration/tools/cosign.c lib/*.c -lcrypto -pthread \
        -o "$COSIGN") || fail "cannot build the cosign test tool"
}

# policy FILE LINE...: writes a policy, one argument per line.
policy() {
    local f=$1
    shift
    printf '%s\n' "$@" > "$f"
}

# start_proxy: a tamper_proxy.py in front of $LOG_URL; sets PROXY_URL and
# MODE (the file whose content selects the misbehaviour).
start_proxy() {
    MODE="$T/proxy.mode"
    : > "$MODE"
    rm -f "$T/proxy.port"
    python3 "$TOOLS/tamper_proxy.py" "$LOG_URL" "$MODE" "$T/proxy.port" 2>"$T/proxy.err" &
    PROXY_PID=$!
    PIDS="$PIDS $PROXY_PID"
    wait_until 30 test -s "$T/proxy.port" || fail "the tamper proxy did not start: $(cat "$T/proxy.err")"
    PROXY_URL="http://127.0.0.1:$(cat "$T/proxy.port")"
}

# stop_proxy: stops the tamper proxy.
stop_proxy() {
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    return 0
}

# expect_out PATTERN: the last command's stdout matches PATTERN.
expect_out() { grep -q -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout lacks '$1'"; }; }

# sha FILE: hex SHA-256 of a file.
sha() { sha256sum "$1" | cut -c1-64; }

# mirror_setup: the keys (mirror_keys); witness 1 also mirrors the log
# (origin example.com/log) with the cosigner key m1.key, on a listener of
# its own (MPORT, MURL); $T/mirrors lists it for the log's --mirrors, and
# $T/policy trusts the log, the submitter and the mirror (quorum m1). Sets
# LOGK and SUBK (the log's and the submitter's public keys), HEX (hex
# SHA-256 of the origin) and MIRROR (the mirror's tlog-tiles prefix for
# the log).
mirror_setup() {
    mirror_keys
    LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub")
    HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
    MIRROR="$MURL/mirror/$HEX"
    printf 'logs/v0\nvkey %s\nmirror\n' "$LOGK" > "$T/logs-m"
    start_witness 1 "$T/logs-m" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$MPORT"
    echo "mirror mirror1.example $(cat "$T/m1.key.pub") $MURL" > "$T/mirrors"
    policy "$T/policy" "log $LOGK" "submitter $SUBK" "mirror m1 $(cat "$T/m1.key.pub")" "quorum m1"
}
