#!/bin/sh
# Installs the Debian packages glasslog needs, only those missing.
# Silent and fast when everything is present.
set -e
PKGS="build-essential libssl-dev zlib1g-dev librocksdb-dev libuv1-dev libcjson-dev libh2o-dev
libcurl4-openssl-dev libcmocka-dev pkg-config clang libclang-rt-14-dev curl
cppcheck clang-tidy nginx-light wrk python3-cryptography chromium libjs-chart.js
util-linux bsdutils systemd man-db postgresql libpq-dev"
missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
# python3 runs the independent reference of the integration tests; any
# python3 on PATH will do, as long as it has the cryptography module
# (python3-cryptography for Debian's python3) for the Ed25519 checks.
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
# node and npm run the explorer's browser tests; Debian's only where
# neither is there (a machine's own Node, e.g. 20 with its npm, conflicts
# with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
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
# playwright-core (drives chromium in the browser tests), pinned by
# tests/browser/package-lock.json; reinstalled when the lockfile changes.
cd "$(dirname "$0")/../tests/browser"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci in tests/browser" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
