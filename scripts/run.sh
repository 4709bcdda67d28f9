#!/bin/sh
# make run: a working log on 127.0.0.1:8080 with data in var/log/
# (GL_LISTEN=ADDR:PORT listens elsewhere, GL_ORIGIN names a new log's origin:
# `make run GL_LISTEN=127.0.0.1:9090`).
# First run: makes var/log.key (the log's key; its name is the origin),
# var/submitter.key (a key allowed to append, listed in var/submitters)
# and creates the log (--create). Only the run that made var/log.key
# passes --create: later runs reuse the key and never --create again, so
# a lost var/log stops the log (glasslogd says why) instead of silently
# starting a second history under the same key.
set -eu
cd "$(dirname "$0")/.."
G=bin/glasslog
ORIGIN=${GL_ORIGIN:-glasslog.localhost/log}
LISTEN=${GL_LISTEN:-127.0.0.1:8080}
mkdir -p var
create=""
if [ ! -f var/log.key ]; then
    $G keygen --name "$ORIGIN" --out var/log.key >/dev/null
    create=--create
elif [ ! -e var/log/CURRENT ]; then
    echo "var/log.key exists but var/log holds no log: glasslogd will refuse to" \
        "start (restore var/log, or remove var/log.key to make a new log)" >&2
fi
if [ ! -f var/submitter.key ]; then
    $G keygen --name ci.glasslog.localhost --out var/submitter.key >/dev/null
    cp var/submitter.key.pub var/submitters
fi
# A policy for `glasslog verify`: this log, this submitter, no witnesses.
# Kept across runs (it may have been edited); its log line follows LISTEN.
VKEY=$(cat var/log.key.pub)
if [ ! -f var/policy ]; then
    printf 'log %s http://%s\nsubmitter %s\nquorum none\n' \
        "$VKEY" "$LISTEN" "$(cat var/submitter.key.pub)" > var/policy
else # a log line of this key with another URL (one without a URL stays)
    KEY=$VKEY URL="http://$LISTEN" awk '
        $1 == "log" && $2 == ENVIRON["KEY"] && NF == 3 && $3 != ENVIRON["URL"] {
            $0 = "log " $2 " " ENVIRON["URL"] } { print }' var/policy > var/policy.new
    if ! cmp -s var/policy var/policy.new; then
        cat var/policy.new > var/policy # in place: a link or a mode stays
        echo "var/policy: the log's URL is now http://$LISTEN" >&2
    fi
    rm -f var/policy.new
fi
cat <<MSG
glasslog log on http://$LISTEN (data in var/log/)
log verifier key:
  $(cat var/log.key.pub)
append a file's statement:
  $G append --log http://$LISTEN --key var/submitter.key --kind build \\
      --subject my-product --version 1.0.0 --file README.md \\
      --log-vkey @var/log.key.pub --out var/readme.tlog-proof
verify it offline:
  $G verify --policy var/policy --bundle var/readme.tlog-proof --artifact README.md
or open the explorer, http://$LISTEN/, and drop the file there (its
"Use the log's suggested policy" button takes var/policy, served at /policy).
Ctrl-C stops the log cleanly.
MSG
exec bin/glasslogd --data var/log --key var/log.key --submitters var/submitters \
    --listen "$LISTEN" --public-policy var/policy $create
