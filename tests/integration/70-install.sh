# Goal: `make install` / `make uninstall` with DESTDIR and PREFIX put and
# remove exactly the programs, explorer, man pages, example configuration
# and systemd units; the installed units pass `systemd-analyze verify`
# (warnings included) with their man pages found; glasslogd.service keeps
# its data directory and the backup directory the example glasslogd.conf
# names in its one StateDirectory (a snapshot's hard links need one mount;
# systemd mounts each StateDirectory on its own); both units never restart
# a usage error (exit 2) and stop restarting a start refused over and over
# (a start limit that RestartSec lets trip); every option of each
# program's --help is in its man page; readiness (READY=1 on a fake
# $NOTIFY_SOCKET) comes only once the listener is bound and a checkpoint
# is served: at once without witnesses, never while a block-mode witness
# quorum is missing (STATUS= then says the start waits for it, once per
# signed size, and the unit has no start timeout; a SIGHUP sends nothing), after the quorum with a
# real witness (a SIGHUP then sends RELOADING=1 and READY=1 again, with
# the reload's outcome as STATUS=), never in fail-open mode with the
# witnesses down when the port cannot be bound; the witness sends it too.
# While no checkpoint is served /healthz answers 503 with the reason and
# the checkpoint age grows; once the quorum serves one, 200. Both units
# start without their env file (EnvironmentFile=-), whose text says to
# remove the --create, not the file. `make run` (scripts/run.sh) creates
# the log only in the run that makes its key: with var/log lost it stops
# with glasslogd's reason instead of starting a second history.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (package systemd; make deps)"
command -v man >/dev/null || fail "man missing"
MK="make -s --no-print-directory -C $ROOT BIN=$GL_BIN"

# --- DESTDIR install: the tree, then uninstall leaves no file ----------------------------
D="$T/destdir"
$MK install-files DESTDIR="$D" > "$T/inst.out" 2>&1 || fail "install: $(cat "$T/inst.out")"
( cd "$D" && find . -type f ! -path './usr/local/share/glasslog/web/*' | sort ) > "$T/tree"
cat > "$T/want" <<'W'
./etc/glasslog/glasslogd.conf
./etc/glasslog/glasslogd.env
./etc/glasslog/logs
./etc/glasslog/submitters
./etc/glasslog/witness.conf
./etc/glasslog/witness.env
./usr/local/bin/glasslog
./usr/local/bin/glasslog-witness
./usr/local/bin/glasslogd
./usr/local/lib/systemd/system/glasslog-witness.service
./usr/local/lib/systemd/system/glasslogd.service
./usr/local/share/man/man1/glasslog.1
./usr/local/share/man/man8/glasslog-witness.8
./usr/local/share/man/man8/glasslogd.8
W
diff "$T/want" "$T/tree" > "$T/diff" || fail "installed tree differs: $(cat "$T/diff")"
for p in glasslog glasslogd glasslog-witness; do
    [ -x "$D/usr/local/bin/$p" ] || fail "$p not executable"
    cmp -s "$GL_BIN/$p" "$D/usr/local/bin/$p" || fail "$p is not the built one"
done
diff -r "$ROOT/web" "$D/usr/local/share/glasslog/web" > /dev/null || fail "web assets differ"
grep -q '^ExecStart=/usr/local/bin/glasslogd --config /etc/glasslog/glasslogd.conf ' \
    "$D/usr/local/lib/systemd/system/glasslogd.service" || fail "unit paths not substituted"
grep -q '^ExecStart=/usr/local/bin/glasslog-witness --config /etc/glasslog/witness.conf ' \
    "$D/usr/local/lib/systemd/system/glasslog-witness.service" || fail "witness unit paths"
grep -q '@' "$D/etc/glasslog/glasslogd.conf" "$D/etc/glasslog/witness.conf" &&
    fail "an @VAR@ left in the example configuration"
# The example configuration is valid for the programs that read it.
"$GL_BIN/glasslog" keygen --name example.com/log --out "$T/log.key" >/dev/null || fail keygen
sed "s|/etc/glasslog/submitters|$D/etc/glasslog/submitters|" "$D/etc/glasslog/glasslogd.conf" \
    > "$T/conf"
expect_rc 2 "$GL_BIN/glasslogd" --config "$T/conf" --bogus
expect_err "unknown option --bogus"
expect_rc 2 "$GL_BIN/glasslog-witness" --config "$D/etc/glasslog/witness.conf" --bogus
expect_err "unknown option --bogus"
# Its commented examples are valid settings too.
sed -E 's/^# (peers|poll-interval|pull-timeout-ms|mirror-pull-timeout-ms|on-evidence) /\1 /' "$D/etc/glasslog/witness.conf" \
    > "$T/wconf"
[ "$(grep -c '^[a-z]' "$T/wconf")" -eq 8 ] || fail "witness.conf examples: $(cat "$T/wconf")"
expect_rc 2 "$GL_BIN/glasslog-witness" --config "$T/wconf" --bogus
expect_err "unknown option --bogus"
# An edited configuration file survives both a reinstall and uninstall.
echo "# mine" >> "$D/etc/glasslog/submitters"
$MK install-files DESTDIR="$D" > "$T/inst.out" 2>&1 || fail "reinstall"
grep -q '^# mine' "$D/etc/glasslog/submitters" || fail "reinstall overwrote a changed file"
$MK uninstall DESTDIR="$D" > "$T/un.out" 2>&1 || fail "uninstall: $(cat "$T/un.out")"
[ "$(cd "$D" && find . -type f)" = "./etc/glasslog/submitters" ] ||
    fail "uninstall left: $(cd "$D" && find . -type f)"
rm "$D/etc/glasslog/submitters"
$MK uninstall DESTDIR="$D" > "$T/un.out" 2>&1 || fail "second uninstall"
[ -z "$(find "$D" -type f)" ] || fail "files left after uninstall"
[ ! -e "$D/usr/local/share/glasslog" ] && [ ! -e "$D/etc/glasslog" ] ||
    fail "glasslog's own directories left after uninstall"

# --- PREFIX install: systemd-analyze verify on the installed units ----------------------
P="$T/prefix"
$MK install-files PREFIX="$P" SYSCONFDIR="$P/etc" > "$T/inst.out" 2>&1 || fail "prefix install"
U="$P/lib/systemd/system"
for u in glasslogd glasslog-witness; do
    grep -q "^ExecStart=$P/bin/$u " "$U/$u.service" || fail "$u.service ExecStart"
    for k in Type=notify DynamicUser=yes StateDirectory= ProtectSystem=strict \
        NoNewPrivileges=yes PrivateTmp=yes RestrictAddressFamilies= SystemCallFilter= \
        "ExecReload=$P/bin/$u --config $P/etc/glasslog/" 'EnvironmentFile=-' \
        'ExecReload=/bin/kill -HUP $MAINPID'; do
        grep -q "^$k" "$U/$u.service" || fail "$u.service lacks $k"
    done
    MANPATH="$P/share/man" systemd-analyze verify "$U/$u.service" > "$T/v.out" 2>&1 ||
        fail "systemd-analyze verify $u.service: $(cat "$T/v.out")"
    [ ! -s "$T/v.out" ] || fail "systemd-analyze verify $u.service warns: $(cat "$T/v.out")"
done
# The data directory and the backup directory the example configuration
# names are both in the log's one StateDirectory (made and owned by the
# dynamic user): a second StateDirectory would be a second mount, and a
# snapshot's hard links cannot cross mounts.
# A start that waits for a witness quorum is not killed (READY=1 means a
# checkpoint is served; the unit says so).
grep -q '^TimeoutStartSec=infinity$' "$U/glasslogd.service" ||
    fail "glasslogd.service: a start timeout would kill a log waiting for its quorum"
[ "$(grep '^StateDirectory=' "$U/glasslogd.service")" = StateDirectory=glasslog ] ||
    fail "glasslogd.service: not one StateDirectory=glasslog: $(grep StateDirectory "$U/glasslogd.service")"
grep -q '^backup-dir /var/lib/glasslog/backup$' "$P/etc/glasslog/glasslogd.conf" ||
    fail "glasslogd.conf names no backup-dir in the StateDirectory"
[ "$(grep -c '^Exec.*--data ${STATE_DIRECTORY}/data ' "$U/glasslogd.service")" = 2 ] ||
    fail "glasslogd.service: ExecStart/ExecReload do not give --data \${STATE_DIRECTORY}/data"
# Restarts: never after a usage error (exit 2, both programs' EXIT STATUS);
# a start refused every time stops once the start limit trips, which it
# can only if StartLimitBurst restarts RestartSec apart fit in the
# interval.
secs() { # the value of KEY=Ns (or N) in unit $1
    sed -n "s/^$2=\([0-9]*\)s\{0,1\}\$/\1/p" "$U/$1.service"
}
for u in glasslogd glasslog-witness; do
    grep -q '^RestartPreventExitStatus=2$' "$U/$u.service" ||
        fail "$u.service restarts after a usage error"
    grep -q '^Restart=on-failure$' "$U/$u.service" || fail "$u.service: Restart="
    rs=$(secs "$u" RestartSec) burst=$(secs "$u" StartLimitBurst) iv=$(secs "$u" StartLimitIntervalSec)
    [ -n "$rs" ] && [ -n "$burst" ] && [ -n "$iv" ] ||
        fail "$u.service: RestartSec/StartLimitBurst/StartLimitIntervalSec missing"
    [ "$burst" -ge 1 ] && [ $((burst * rs)) -lt "$iv" ] ||
        fail "$u.service: $burst starts ${rs}s apart never trip a ${iv}s start limit"
    sed -n '/^\[Unit\]/,/^\[/p' "$U/$u.service" | grep -q '^StartLimitIntervalSec=' ||
        fail "$u.service: StartLimitIntervalSec= outside [Unit]"
done
# The env files are optional (EnvironmentFile=-): their text says to
# remove the --create after the first start, never the file.
for f in glasslogd.env witness.env; do
    grep -q 'then remove the' "$P/etc/glasslog/$f" || fail "$f: $(cat "$P/etc/glasslog/$f")"
    grep -q 'remove it)' "$P/etc/glasslog/$f" && fail "$f says to remove the file"
done
# Each unit's reload check, run as systemd would run it (its variables
# set), accepts the example configuration and refuses a broken file.
mkdir -p "$T/state" "$T/cred"
"$GL_BIN/glasslog" keygen --name example.com/log --out "$T/cred/log.key" >/dev/null
"$GL_BIN/glasslog" keygen --cosigner --name w.example --out "$T/cred/witness.key" >/dev/null
reload_check() { # UNIT: the unit's first ExecReload command
    STATE_DIRECTORY=$T/state CREDENTIALS_DIRECTORY=$T/cred GLASSLOGD_OPTS=--create \
        GLASSLOG_WITNESS_OPTS=--create \
        sh -c "$(sed -n -e 's|%S|'"$T/state"'|g' \
            -e 's/^ExecReload=\(.*--check-config\)$/\1/p' "$U/$1.service")"
}
# (the example submitters file lists no key: a reload, and so the check,
# refuses it; with a key it is usable)
expect_rc 1 reload_check glasslogd
expect_err "lists no submitter key"
cat "$T/cred/log.key.pub" >> "$P/etc/glasslog/submitters"
for u in glasslogd glasslog-witness; do
    expect_rc 0 reload_check "$u"
    grep -q 'the configuration is usable' "$T/out" || fail "$u reload check: $(cat "$T/err")"
done
[ -z "$(ls -A "$T/state")" ] || fail "a reload check wrote into the state directory"
echo "not a key" >> "$P/etc/glasslog/submitters"
expect_rc 1 reload_check glasslogd
expect_err "$P/etc/glasslog/submitters:6"
echo "vkey garbage" >> "$P/etc/glasslog/logs"
expect_rc 1 reload_check glasslog-witness
expect_err "$P/etc/glasslog/logs:"
# The check can fail: a unit whose program is missing is refused.
sed "s|^ExecStart=$P/bin/glasslogd|ExecStart=$P/nope/glasslogd|" "$U/glasslogd.service" \
    > "$T/broken.service"
systemd-analyze verify --man=no "$T/broken.service" > "$T/v.out" 2>&1 &&
    fail "systemd-analyze verify accepted a unit with a missing program"

# --- man pages: every option of --help is documented ------------------------------------
opts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
man_has() { sed 's/\\-/-/g' "$1" | grep -q -- "$2"; }
"$GL_BIN/glasslogd" --help | opts > "$T/o.glasslogd"
"$GL_BIN/glasslog-witness" --help | opts > "$T/o.glasslog-witness"
for c in keygen note append policy verify lookup monitor get mirror-dir; do
    "$GL_BIN/glasslog" "$c" --help 2>&1
done | opts > "$T/o.glasslog"
[ "$(wc -l < "$T/o.glasslogd")" -gt 20 ] || fail "too few glasslogd options found"
for p in glasslogd:8 glasslog-witness:8 glasslog:1; do
    n=${p%:*} s=${p#*:}
    f="$ROOT/man/$n.$s"
    while read -r o; do man_has "$f" "$o" || fail "$n --help has $o; $n.$s does not"; done \
        < "$T/o.$n"
    sed 's/\\-/-/g' "$f" | grep -q '^\.SH EXIT STATUS' || fail "$n.$s has no EXIT STATUS"
    MANPATH="$P/share/man" man -w "$s" "$n" > /dev/null 2>&1 || fail "man cannot find $n($s)"
done

# --- readiness on a fake notify socket ----------------------------------------------------
"$GL_BIN/glasslog" keygen --name ci.example.com --out "$T/sub.key" > "$T/submitters" || fail keygen
# listen NAME: a fake notify socket $T/NAME.sock; messages in $T/NAME.msgs.
listen() {
    rm -f "$T/$1.sock" "$T/$1.msgs"
    touch "$T/$1.msgs"
    python3 "$ROOT/tests/integration/tools/notify_listen.py" "$T/$1.sock" "$T/$1.msgs" \
        > "$T/$1.lout" &
    PIDS="$PIDS $!"
    wait_until 30 grep -q bound "$T/$1.lout" || fail "notify listener did not start"
}
ready() { grep -q 'READY=1' "$T/$1.msgs"; }

# Without witnesses: READY=1 (with the main PID) once the checkpoint serves.
listen plain
NOTIFY_SOCKET="$T/plain.sock" start_log "$T/data" --create || fail "start: $(cat "$LOG_OUT")"
wait_until 30 ready plain || fail "no READY=1: $(cat "$T/plain.msgs")"
grep -q "MAINPID=$LOG_PID" "$T/plain.msgs" || fail "READY without MAINPID: $(cat "$T/plain.msgs")"
expect_http 200 GET /checkpoint
stop_log
grep -q 'STOPPING=1' "$T/plain.msgs" || fail "no STOPPING=1 on SIGTERM"
[ "$(grep -c READY=1 "$T/plain.msgs")" = 1 ] || fail "READY=1 sent more than once"

# Block mode, the only witness unreachable: nothing served, so no READY.
make_witness_keys 1
printf 'witness w1 %s http://127.0.0.1:%s\nquorum w1\n' "$(cat "$T/w1.key.pub")" "$PORT1" \
    > "$T/policy"
listen block
NOTIFY_SOCKET="$T/block.sock" start_log "$T/data" --witnesses "$T/policy" \
    --checkpoint-interval 1 || fail "start: $(cat "$LOG_OUT")"
sleep 2
http GET /checkpoint
[ "$CODE" != 200 ] || fail "a checkpoint is served without its witness quorum"
ready block && fail "READY=1 before any checkpoint is served"
# The service manager is told what the start waits for.
wait_until 30 grep -q '^STATUS=waiting for a witness quorum for the checkpoint of size [0-9]' "$T/block.msgs" ||
    fail "no waiting STATUS=: $(cat "$T/block.msgs")"
# Not healthy: nothing is served (though the log re-signs every second).
expect_http 503 GET /healthz
grep -q 'no checkpoint is served' "$T/body" || fail "/healthz reason: $(cat "$T/body")"
expect_http 200 GET /metrics
awk '$1 == "glasslog_checkpoint_age_seconds" && $2 >= 2 { ok = 1 } END { exit !ok }' \
    "$T/body" || fail "checkpoint age while none is served: $(grep checkpoint_age "$T/body")"
# A reload before readiness does not announce readiness.
kill -HUP "$LOG_PID"
wait_until 30 grep -q 'reload: .* submitter key' "$LOG_OUT" || fail "no reload on SIGHUP"
sleep 1
kill -0 "$LOG_PID" || fail "glasslogd died on SIGHUP"
ready block && fail "READY=1 on a SIGHUP before any checkpoint is served: $(cat "$T/block.msgs")"
grep -q 'RELOADING=1' "$T/block.msgs" && fail "RELOADING=1 before readiness"
# The witness comes up: its own READY=1, then the quorum, then the log's.
printf 'logs/v0\nvkey %s\n' "$(cat "$T/log.key.pub")" > "$T/logs"
listen wit
NOTIFY_SOCKET="$T/wit.sock" start_witness 1 "$T/logs"
wait_until 30 ready wit || fail "the witness sent no READY=1"
wait_until 40 ready block || fail "no READY=1 after the witness came up: $(tail -5 "$LOG_OUT")"
expect_http 200 GET /checkpoint
grep -q '^— witness1.example ' "$T/body" || fail "served checkpoint lacks the cosignature"
expect_http 200 GET /healthz
# Once ready, a reload is announced: RELOADING=1, then READY=1 again.
kill -HUP "$LOG_PID"
wait_until 30 grep -q 'RELOADING=1' "$T/block.msgs" || fail "no RELOADING=1 on SIGHUP"
wait_until 30 test "$(grep -c READY=1 "$T/block.msgs")" = 2 ||
    fail "no READY=1 after the reload: $(cat "$T/block.msgs")"
[ "$(grep -c '^STATUS=waiting for a witness quorum' "$T/block.msgs")" -le 2 ] ||
    fail "the waiting STATUS= is repeated for one size: $(cat "$T/block.msgs")"
grep -q 'STATUS=reload applied: 1 submitter key' "$T/block.msgs" ||
    fail "no reload outcome in STATUS=: $(cat "$T/block.msgs")"
stop_log

# Fail-open, the only witness unreachable at start: the stored checkpoint is
# served before the listener exists; READY=1 waits for the listener. On a
# port already taken (the witness's) glasslogd exits without READY=1.
make_witness_keys 2
printf 'witness w2 %s http://127.0.0.1:%s\nquorum w2\n' "$(cat "$T/w2.key.pub")" "$PORT2" \
    > "$T/policy2"
listen busy
NOTIFY_SOCKET="$T/busy.sock" spawn glasslogd "$GL_BIN/glasslogd" --data "$T/data" \
    --key "$T/log.key" --submitters "$T/submitters" --listen "127.0.0.1:$PORT1" \
    --witnesses "$T/policy2" --witness-mode fail-open --witness-timeout-ms 500 &&
    fail "glasslogd started on a port in use"
grep -q 'unreachable at start' "$SPAWN_OUT" || fail "the witness probe did not fail: $(cat "$SPAWN_OUT")"
sleep 1
ready busy && fail "READY=1 from a glasslogd that never listened: $(cat "$T/busy.msgs")"
# On a free port: READY=1, and the port accepts connections when it comes.
listen open
NOTIFY_SOCKET="$T/open.sock" start_log "$T/data" --witnesses "$T/policy2" \
    --witness-mode fail-open --witness-timeout-ms 500 || fail "start: $(cat "$LOG_OUT")"
wait_until 30 ready open || fail "no READY=1 in fail-open mode: $(cat "$T/open.msgs")"
expect_http 200 GET /checkpoint
stop_log
stop_witness 1

# --- make run (scripts/run.sh) in a scratch tree ------------------------------------------
R="$T/runtree"
mkdir -p "$R/scripts"
cp "$ROOT/scripts/run.sh" "$R/scripts/"
ln -s "$GL_BIN" "$R/bin"
run_log() { spawn makerun env GL_LISTEN="${1:-127.0.0.1:0}" sh "$R/scripts/run.sh"; }
run_log || fail "make run, first: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT
grep -q 'created a new log' "$LOG_OUT" || fail "make run did not create: $(cat "$LOG_OUT")"
stop_log
echo "# kept" >> "$R/var/policy"
RUNPORT=$(free_port)
run_log "127.0.0.1:$RUNPORT" || fail "make run, again: $(cat "$SPAWN_OUT")"
LOG_PID=$SPAWN_PID LOG_OUT=$SPAWN_OUT
grep -q 'created a new log' "$LOG_OUT" && fail "make run created again"
# the policy served at /policy names the log where it now listens, edits kept
grep -qxF "log $(cat "$R/var/log.key.pub") http://127.0.0.1:$RUNPORT" "$R/var/policy" ||
    fail "var/policy after a run on another port: $(cat "$R/var/policy")"
grep -qx "# kept" "$R/var/policy" || fail "var/policy lost its other lines: $(cat "$R/var/policy")"
stop_log
rm -rf "$R/var/log"
run_log && fail "make run started a second history after var/log was lost"
grep -q 'missing or empty' "$SPAWN_OUT" || fail "make run, var/log lost: $(cat "$SPAWN_OUT")"
grep -q 'var/log.key exists but var/log holds no log' "$SPAWN_OUT" ||
    fail "run.sh did not explain: $(cat "$SPAWN_OUT")"
[ ! -e "$R/var/log" ] || fail "var/log made again"
echo "ok 70-install"
