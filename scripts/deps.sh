#!/bin/sh
# Installs the Debian packages glasslog needs, only those missing.
# Silent and fast when everything is present.
#
#   scripts/deps.sh build   what building and running the programs needs
#                           (make, make install, make run): compiler,
#                           headers and libraries, Chart.js for the explorer
#   scripts/deps.sh test    what the tests, benchmarks, lint and fuzzing need
#                           on top of that, then npm ci in tests/browser
#   scripts/deps.sh         both (make deps)
#
# The build set starts no service. The test set holds servers the tests run
# themselves (nginx-light, postgresql): on a host running systemd, Debian
# starts their default instances when it installs them, so never install
# it on a production host.
set -e
BUILD_PKGS="build-essential pkg-config libssl-dev zlib1g-dev librocksdb-dev libuv1-dev
libcjson-dev libh2o-dev libcurl4-openssl-dev libpq-dev libjs-chart.js"
TEST_PKGS="libcmocka-dev clang libclang-rt-14-dev clang-format clang-tidy cppcheck curl
nginx-light wrk python3-cryptography chromium util-linux bsdutils systemd man-db
postgresql"

build=0 test=0
[ $# -eq 0 ] && build=1 test=1
for a in "$@"; do
    case "$a" in
    build) build=1 ;;
    test) test=1 ;;
    *)
        echo "usage: scripts/deps.sh [build] [test] (none: both)" >&2
        exit 2
        ;;
    esac
done

PKGS=""
[ $build -eq 1 ] && PKGS="$PKGS $BUILD_PKGS"
[ $test -eq 1 ] && PKGS="$PKGS $TEST_PKGS"
# One dpkg-query for all of them (it names the installed ones).
# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null |
    awk '/ ok installed$/ { printf "%s ", $1 }')"
missing=""
for p in $PKGS; do
    case "$installed" in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ $test -eq 1 ]; then
    # python3 runs the independent reference of the integration tests; any
    # python3 on PATH will do, as long as it has the cryptography module
    # (python3-cryptography for Debian's python3) for the Ed25519 checks.
    command -v python3 >/dev/null 2>&1 || missing="$missing python3"
    # node and npm run the explorer's browser tests, and need Node.js 20 or
    # later: the playwright-core of tests/browser/package-lock.json exits on
    # an older node, and the explorer's modules (web/js) use what Node 20
    # has. Debian 12's nodejs is 18, so it is never installed here; a
    # missing or older node stops this script before anything is installed.
    nv=$(node --version 2>/dev/null || true)
    major=${nv#v}
    major=${major%%.*}
    case "$major" in '' | *[!0-9]*) major=0 ;; esac
    if [ "$major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
        echo "deps: the browser tests need Node.js 20 or later with npm; found node" \
            "${nv:-(none)}, npm $(command -v npm >/dev/null 2>&1 && echo present || echo '(none)')." >&2
        echo "deps: Debian 12's nodejs package is 18: install Node.js 20 or 22 with its" \
            "npm (e.g. NodeSource's nodejs package, deb.nodesource.com), then run make deps again." >&2
        exit 1
    fi
fi
if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi
[ $test -eq 1 ] || exit 0
# playwright-core (drives chromium in the browser tests), pinned by
# tests/browser/package-lock.json; reinstalled when the lockfile changes.
cd "$(dirname "$0")/../tests/browser"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci in tests/browser" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
