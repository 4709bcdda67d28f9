# Goal: `glasslog mirror-dir` cleans up after a killed run and runs alone
# on its directory. A static log of 300 entries (one full bundle and a
# partial one), built here in Python from the specs, is served by python's
# http.server:
#   - temporaries of exactly the names mirror-dir writes
#     (NAME.tmp-<pid>-<serial>, NAME the checkpoint or a tile path, nested
#     ones too) are removed by the next run, which says so; files that only
#     look alike (another NAME, a leading zero, a suffix, outside tile/, a
#     symbolic link, anything through a linked directory, or below
#     directories with names longer than any tile path's) are kept;
#   - while another process holds DIR/.glasslog-mirror.lock (flock from
#     util-linux), a run exits 3 at once with a one-line error and touches
#     nothing (not even a stale temporary); once that process is killed
#     with -9, the next run succeeds;
#   - the lock file is the only file a run adds beside the tlog-tiles tree.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
command -v flock > /dev/null || fail "flock (util-linux) is not installed"
make_keys
S="$T/srv"

python3 - "$(dirname "$0")" "$S" <<'PY' || fail "building the static log"
import base64, os, sys
sys.path.insert(0, sys.argv[1])
from tlog import leaf_hash, mth, tile_path
srv, n, leaves = sys.argv[2], 300, []
def put(rel, data):
    p = os.path.join(srv, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f: f.write(data)
for t in range((n + 255) // 256):
    w = min(256, n - t * 256)
    es = [b"entry %d" % (t * 256 + i) for i in range(w)]
    hs = [leaf_hash(e) for e in es]
    leaves += hs
    put(tile_path(0, t, w, True), b"".join(len(e).to_bytes(2, "big") + e for e in es))
    put(tile_path(0, t, w), b"".join(hs))
put("checkpoint.txt", b"example.com/log\n%d\n%s\n" % (n, base64.b64encode(mth(leaves))))
PY
"$G" note sign --key "$T/log.key" < "$S/checkpoint.txt" > "$S/checkpoint" || fail "note sign"
rm "$S/checkpoint.txt"

PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$S" "$PORT" > "$T/static.log" 2>&1 &
PIDS="$PIDS $!"
SURL="http://127.0.0.1:$PORT"
wait_until 30 curl -sf -o /dev/null "$SURL/checkpoint" || fail "python http.server"
D="$T/www"
L="$D/.glasslog-mirror.lock"
mirror() { expect_rc "$1" "$G" mirror-dir --log "$SURL" --log-vkey "@$T/log.key.pub" --dir "$D"; }

mirror 0
[ -f "$L" ] && [ ! -s "$L" ] || fail "no empty lock file $L"
(cd "$D" && find . -type f | sort) > "$T/files"
printf '%s\n' ./.glasslog-mirror.lock ./checkpoint ./tile/0/000 ./tile/0/001.p/44 \
    ./tile/1/000.p/1 ./tile/entries/000 ./tile/entries/001.p/44 | cmp -s - "$T/files" ||
    fail "the first run wrote other files: $(cat "$T/files")"

# --- stale temporaries ------------------------------------------------------
STALE="checkpoint.tmp-4242-0 tile/entries/000.tmp-4242-17 tile/0/001.p/44.tmp-31337-2
tile/entries/001.p/43.tmp-7-4294967295 tile/1/000.p/1.tmp-99999-1 tile/0/x001/234.tmp-12-3"
KEEP="notes.txt checkpoint.tmp-abc checkpoint.tmp-12- checkpoint.tmp-0-1 checkpoint.tmp-012-1
checkpoint.tmp-12-3.bak checkpoint.tmp-12-3-4 checkpoint.old.tmp-12-3 tile/0/1000.tmp-12-3
tile/entries/abc.tmp-1-2 tile/0/001.p/0.tmp-1-2 tile/0/001.p/44.tmp-1-2.part other/000.tmp-1-2
tile/0/000.p/.44.tmp-1-2 .checkpoint.tmp-1-2
tile/0/$(printf '1%.0s' $(seq 97))/000.tmp-1-2 tile/0/$(printf '2%.0s' $(seq 150))/000.tmp-1-2"
for f in $STALE $KEEP; do
    mkdir -p "$(dirname "$D/$f")" && echo "junk $f" > "$D/$f" || fail "planting $f"
done
mkdir -p "$T/outside" "$D/tile/2"
echo "outside" > "$T/outside/000.tmp-1-2"
echo "target" > "$T/target"
ln -s "$T/target" "$D/tile/entries/001.tmp-3-4" # a link with a temporary's name
ln -s "$T/outside" "$D/tile/2/x001"             # a linked directory on a tile path
mirror 0
expect_err "removed 6 temporary files an interrupted run left in $D"
for f in $STALE; do [ -e "$D/$f" ] && fail "stale temporary $f kept"; done
for f in $KEEP; do
    [ "$(cat "$D/$f")" = "junk $f" ] || fail "$f, not a temporary of mirror-dir, was touched"
done
[ -L "$D/tile/entries/001.tmp-3-4" ] || fail "a symbolic link was removed"
[ "$(cat "$T/target")" = target ] || fail "a link's target was touched"
[ -f "$T/outside/000.tmp-1-2" ] || fail "a file was removed through a linked directory"
cmp -s "$D/checkpoint" "$S/checkpoint" || fail "the checkpoint is not the log's"
for f in tile/0/000 tile/0/001.p/44 tile/entries/000 tile/entries/001.p/44; do
    cmp -s "$D/$f" "$S/$f" || fail "$f is not the log's"
done
mirror 0 # nothing stale left: nothing said
grep -q "removed" "$T/err" && fail "a clean directory reported removals: $(cat "$T/err")"

# --- one run at a time ----------------------------------------------------------
echo "junk" > "$D/checkpoint.tmp-5-5"
cp "$D/checkpoint" "$T/ck.before"
# a holder of the lock that is not mirror-dir: a shell that locks the
# file with flock(1), says so in a file, and becomes a sleep holding it.
# It waits for the lock (no -n) and nothing here probes the lock before it
# says so: a probe taking the lock for an instant made a non-blocking
# holder give up.
(exec 9>> "$L" && flock 9 && : > "$T/locked" && exec sleep 30) &
HOLDER=$!
PIDS="$PIDS $HOLDER"
wait_until 20 test -f "$T/locked" || fail "the shell did not take the lock"
flock -n "$L" true && fail "the lock is free while the shell holds it"
mirror 3
[ "$(wc -l < "$T/err")" = 1 ] || fail "not a one-line error: $(cat "$T/err")"
expect_err "^glasslog: another mirror-dir run holds $D ($L is locked): nothing done$"
[ -e "$D/checkpoint.tmp-5-5" ] || fail "a run without the lock removed a temporary"
cmp -s "$D/checkpoint" "$T/ck.before" || fail "a run without the lock wrote the checkpoint"
kill -9 "$HOLDER"
wait "$HOLDER" 2> /dev/null
mirror 0 # the lock died with its holder
expect_err "removed 1 temporary file an interrupted run left in $D"
[ -e "$D/checkpoint.tmp-5-5" ] && fail "the temporary outlived the run that holds the lock"
flock -n "$L" true || fail "the lock is still held after the run"
echo "59-mirror-dir-lock: ok"
