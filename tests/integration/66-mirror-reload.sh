# Goal: glasslog-witness reloads its logs list (SIGHUP) safely while it
# mirrors. Witness 1 mirrors the log A (a glasslogd that pushes its
# checkpoints and entries to the mirror, and that the witness also pulls:
# url line, so its feeder and the mirror's pull thread run) and a fake log
# B (uploads from mirror.py). While A keeps appending and the mirror's
# checkpoint of A is read in a loop, the witness gets SIGHUPs: the same
# list several times, then a list with a log C added (its origin sorts
# first, so every index moves) and B removed, then B back. Asserted: the
# process survives every SIGHUP (under ASan: no use-after-free), every
# read of A's mirror checkpoint during the reloads answers 200, A's
# mirror checkpoint only grows and its tiles at the first size are the
# same bytes afterwards, A's copy catches up with the log and equals it
# tile for tile; B removed: its /mirror/ endpoints and its uploads answer
# 404; C added: an upload is taken (200) and served (verified by
# mirror.py); B listed again: its mirror checkpoint is the one it had,
# byte for byte (a reload loses nothing stored). A list with a mirror
# line is refused by a witness without --mirror-key, as at start-up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
need_py_crypto
PY="$(dirname "$0")/mirror.py"
PYDIR="$(cd "$(dirname "$0")" && pwd)"
case "${GL_BUILD:-}" in
*asan*) NB=60 NFAKE_B=300 NFAKE_C=280 ;; # sanitizers: smaller logs
*) NB=150 NFAKE_B=600 NFAKE_C=520 ;;
esac
make_keys
make_witness_keys 1 2
"$G" keygen --name fake.example/log --out "$T/b.key" > /dev/null || fail keygen
"$G" keygen --name added.example/log --out "$T/c.key" > /dev/null || fail keygen
LOGK=$(cat "$T/log.key.pub")
hexof() { printf %s "$1" | sha256sum | cut -c1-64; }
"$G" keygen --name mirror1.example --cosigner --out "$T/m1.key" > /dev/null || fail keygen
M1PORT=$(free_port)
M1URL="http://127.0.0.1:$M1PORT"
MIRROR="$M1URL/mirror/$(hexof example.com/log)"
BM="$M1URL/mirror/$(hexof fake.example/log)"
CM="$M1URL/mirror/$(hexof added.example/log)"
# the log pushes to the mirror (as in 55-mirror-api.sh)
echo "mirror mirror1.example $(cat "$T/m1.key.pub") $M1URL" > "$T/mirrors"
start_log "$T/data" --create --batch-ms 2 --mirrors "$T/mirrors" || fail "start the log"
# lists: A pulled and mirrored, B and C mirrored
la() { printf 'vkey %s\nurl %s\nmirror\n' "$LOGK" "$LOG_URL"; }
lb() { printf 'vkey %s\nmirror\n' "$(cat "$T/b.key.pub")"; }
lc() { printf 'vkey %s\nmirror\n' "$(cat "$T/c.key.pub")"; }
{ echo logs/v0; la; lb; } > "$T/logs-m"
start_witness 1 "$T/logs-m" --mirror-key "$T/m1.key" --mirror-listen "127.0.0.1:$M1PORT" \
    --poll-interval 1

# fake B: checkpoint of SIZE pushed (old OLD) and its entries uploaded, 200.
fake_upload() { # KEYFILE OLD SIZE
    python3 - "$M1URL" "$1" "$2" "$3" "$PYDIR" <<'PY'
import sys
sys.path.insert(0, sys.argv[5])
import mirror as M
murl, key, old, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
log = M.FakeLog(M.Signer(open(key).read()), size)
st, ct, rb = M.add_checkpoint(murl, log, old, size)
if st != 200: M.fail("add-checkpoint %d: %d %r" % (size, st, rb))
pk = M.packages(log.entries, log.leaves, old // 256 * 256 if old else 0, size)
start = old // 256 * 256 if old else 0
M.Mirror(murl).add(M.header(log.origin, start, size) + b"".join(pk), want=200, why="upload")
PY
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- before: A mirrored (push and pull), B mirrored -------------------------------------
for i in 1 2 3 4 5; do append_one pre "$i" > /dev/null || fail "append $i"; done
wait_until 60 sh -c "[ \"\$(curl -sf $MIRROR/checkpoint | sed -n 2p)\" = 5 ]" ||
    fail "the mirror never reached 5: $(curl -s "$MIRROR/checkpoint"; tail -5 "$WOUT1")"
fake_upload "$T/b.key" 0 "$NFAKE_B" || fail "fake B upload"
python3 "$PY" serve-check "$BM" "$T/b.key" "$T/m1.key.pub" "$NFAKE_B" || fail "B served"
curl -sf "$BM/checkpoint" > "$T/b.before" || fail "B checkpoint"
curl -sf "$MIRROR/checkpoint" > "$T/a.first" || fail "A checkpoint"
S0=$(sed -n 2p "$T/a.first")
curl -sf "$MIRROR/tile/0/000.p/$S0" > "$T/t0.first" &&
    curl -sf "$MIRROR/tile/entries/000.p/$S0" > "$T/e0.first" || fail "A tiles at $S0"

# --- load: appends to A (pushes and pulls), reads of A's mirror checkpoint ---------------
(
    i=0
    while [ ! -e "$T/stop" ] && [ $i -lt "$NB" ]; do
        i=$((i + 1))
        append_one bg "$i" > /dev/null 2>&1 || echo "append $i failed" >> "$T/bg.err"
    done
) &
BG=$!
PIDS="$PIDS $BG"
(
    while [ ! -e "$T/stop" ]; do
        c=$(curl -s -o "$T/rd.body" -w '%{http_code}' "$MIRROR/checkpoint")
        echo "$c $(sed -n 2p "$T/rd.body")" >> "$T/reads"
        sleep 0.05
    done
) &
RD=$!
PIDS="$PIDS $RD"

why1() { grep -m1 -A12 'ERROR: AddressSanitizer\|runtime error' "$WOUT1" || tail -5 "$WOUT1"; }
NHUP=0
hup() { # SIGHUP witness 1; wait for its switch line; it is still alive
    NHUP=$((NHUP + 1))
    kill -HUP "$WPID1" || fail "witness 1 is gone before SIGHUP $NHUP"
    wait_until 60 sh -c "[ \$(grep -c 'reload: witnessing' '$WOUT1') -ge $NHUP ] ||
        ! kill -0 $WPID1 2>/dev/null" || fail "no switch after SIGHUP $NHUP: $(tail -5 "$WOUT1")"
    kill -0 "$WPID1" 2>/dev/null || fail "witness 1 died on SIGHUP $NHUP: $(why1)"
    grep -q 'still outstanding' "$WOUT1" && fail "a reload gave up: $(grep reload: "$WOUT1")"
    return 0
}
# the size of A's mirror checkpoint now (must never go down)
LAST=$S0
grows() {
    local s
    s=$(curl -sf "$MIRROR/checkpoint" | sed -n 2p)
    [ -n "$s" ] && [ "$s" -ge "$LAST" ] || fail "A's mirror checkpoint went from $LAST to '$s'"
    LAST=$s
}
# the same list, several times, under load
for r in 1 2 3; do
    sleep 0.3
    hup
    grows
done
# C added (every index moves), B removed
{ echo logs/v0; lc; la; } > "$T/logs-m"
hup
grows
[ "$(code "$BM/checkpoint")" = 404 ] || fail "removed B's checkpoint answered $(code "$BM/checkpoint")"
[ "$(code "$BM/tile/0/000.p/5")" = 404 ] || fail "removed B's tile answered 200"
[ "$(code "$BM/api/v1/entries/0")" = 404 ] || fail "removed B's entries answered 200"
python3 - "$M1URL" "$PYDIR" <<'PY' || fail "an upload for removed B was not 404"
import sys
sys.path.insert(0, sys.argv[2])
import mirror as M
M.Mirror(sys.argv[1]).add(M.header("fake.example/log", 0, 0), want=404, why="removed B")
PY
fake_upload "$T/c.key" 0 "$NFAKE_C" || fail "added C upload"
python3 "$PY" serve-check "$CM" "$T/c.key" "$T/m1.key.pub" "$NFAKE_C" || fail "added C served"
grep -q 'mirror of fake.example/log: no longer mirrored' "$WOUT1" || fail "B's drop not logged"
hup
grows
sleep 0.3
hup
# B back (with C and A): its copy is found again as it was
{ echo logs/v0; lc; la; lb; } > "$T/logs-m"
hup
grows
curl -sf "$BM/checkpoint" > "$T/b.after" || fail "B listed again has no mirror checkpoint"
cmp -s "$T/b.before" "$T/b.after" || fail "B's mirror checkpoint changed across its removal"
python3 "$PY" serve-check "$CM" "$T/c.key" "$T/m1.key.pub" "$NFAKE_C" || fail "C after reloads"
fake_upload "$T/b.key" "$NFAKE_B" "$((NFAKE_B + 40))" || fail "B grows after it came back"

# --- after: A's copy equals the log -------------------------------------------------------
touch "$T/stop"
wait "$BG" "$RD"
[ ! -s "$T/bg.err" ] || fail "appends failed during the reloads: $(head -3 "$T/bg.err")"
kill -0 "$WPID1" || fail "witness 1 died"
[ "$(grep -vc '^200 ' "$T/reads")" = 0 ] ||
    fail "reads of A's mirror checkpoint failed during reloads: $(grep -v '^200 ' "$T/reads" | head -3)"
[ "$(wc -l < "$T/reads")" -ge 10 ] || fail "too few reads: $(wc -l < "$T/reads")"
awk '$2 < prev { bad = 1 } { prev = $2 } END { exit bad }' "$T/reads" ||
    fail "A's mirror checkpoint went down while read: $(tr '\n' ' ' < "$T/reads")"
N=$(curl -sf "$LOG_URL/checkpoint" | sed -n 2p)
[ "$N" -gt "$S0" ] || fail "the log did not grow ($N)"
wait_until 60 sh -c "[ \"\$(curl -sf $MIRROR/checkpoint | sed -n 2p)\" = $N ]" ||
    fail "A's mirror never caught up with $N: $(curl -s "$MIRROR/checkpoint"; tail -5 "$WOUT1")"
curl -sf "$MIRROR/tile/0/000.p/$S0" | cmp -s - "$T/t0.first" &&
    curl -sf "$MIRROR/tile/entries/000.p/$S0" | cmp -s - "$T/e0.first" ||
    fail "A's tiles at $S0 changed"
python3 "$PY" same-tiles "$LOG_URL" "$MIRROR" > /dev/null || fail "A's copy differs from the log"
diff <(curl -sf "$LOG_URL/checkpoint" | sed -n 1,3p) <(curl -sf "$MIRROR/checkpoint" | sed -n 1,3p) ||
    fail "A's mirror checkpoint is not the log's"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$WOUT1" && fail "sanitizer report: $(why1)"

# --- a list with a mirror line, without --mirror-key: refused -------------------------------
printf 'logs/v0\nvkey %s\n' "$LOGK" > "$T/logs-2"
start_witness 2 "$T/logs-2"
{ echo logs/v0; la; } > "$T/logs-2"
kill -HUP "$WPID2"
wait_until 30 grep -q 'reload: refused' "$WOUT2" || fail "witness 2: $(tail -3 "$WOUT2")"
grep -q 'has a mirror line, and the witness runs without --mirror-key' "$WOUT2" ||
    fail "witness 2's refusal does not say why: $(tail -3 "$WOUT2")"
kill -0 "$WPID2" || fail "witness 2 died"
stop_witness 2
stop_witness 1
stop_log
echo "66-mirror-reload: ok ($NHUP reloads, $(wc -l < "$T/reads") reads, A at $N)"
