# Shared helpers for integration tests (sourced). Each test runs in its own
# temp dir, removed on exit; failures print what was expected.
set -u
: "${GL_BIN:?GL_BIN must name the directory holding the binaries}"
: "${GL_VECTORS:?GL_VECTORS must name the test vectors directory}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

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
