# Goal: `glasslog mirror-dir` holds at most the leaf hashes and one entry
# bundle in memory, whatever the log serves, and writes only bundles that
# match a checked root. Static logs of entries padded to 65535 bytes
# (16 MiB bundles), built here in Python from the specs, are served by
# python's http.server:
#   - honest logs of 512 and 1024 entries (32 and 64 MiB of bundles):
#     mirrored with the same peak RSS (within 8 MiB: half a bundle), the
#     directory equal byte for byte to the Python tree (bundles, level-0
#     and level-1 tiles);
#   - a signed checkpoint whose root the tiles do not have (a lying log):
#     exit 2 before any bundle is requested, nothing written;
#   - a log whose tiles and checkpoint agree but one bundle's entry is
#     not the one hashed (a substituted entry): exit 2, the checkpoint in
#     DIR unchanged and its tree still complete (checked here), only the
#     bundles before the bad one written, no temporary files; the next run
#     against the honest log completes the tree.
# DIR holds the lock file .glasslog-mirror.lock besides the tree.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
make_keys
S="$T/srv" # the static logs, one per subdirectory

# gen.py: S/good (1024 entries) and S/small (512), each with its
# checkpoint text in checkpoint.txt; S/lie: good's files with another root;
# S/swap: good's files but entry 7 of bundle 3 changed (same length).
cat > "$T/gen.py" <<'PY'
import base64, os, shutil, sys
sys.path.insert(0, sys.argv[1])
from tlog import leaf_hash, mth, tile_path, H
srv = sys.argv[2]
def put(d, rel, data):
    p = os.path.join(srv, d, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f: f.write(data)
def note(d, n, root):
    put(d, "checkpoint.txt", b"example.com/log\n%d\n%s\n" % (n, base64.b64encode(root)))
def tree(d, n):
    pad, leaves = b"\x55" * 65531, []
    for t in range((n + 255) // 256):
        w = min(256, n - t * 256)
        es = [(t * 256 + i).to_bytes(4, "big") + pad for i in range(w)]
        hs = [leaf_hash(e) for e in es]
        leaves += hs
        put(d, tile_path(0, t, w, True), b"".join(len(e).to_bytes(2, "big") + e for e in es))
        put(d, tile_path(0, t, w), b"".join(hs))
    l1 = [mth(leaves[i:i + 256]) for i in range(0, n // 256 * 256, 256)]
    if l1: put(d, tile_path(1, 0, len(l1)), b"".join(l1))
    note(d, n, mth(leaves))
tree("good", 1024)
tree("small", 512)
for d in ("lie", "swap"):
    shutil.copytree(os.path.join(srv, "good"), os.path.join(srv, d), copy_function=os.link)
os.unlink(os.path.join(srv, "lie", "checkpoint.txt"))
note("lie", 1024, H(b"another tree"))
rel = tile_path(0, 3, 256, True)
b = bytearray(open(os.path.join(srv, "good", rel), "rb").read())
b[8 * 65537 - 1] ^= 1  # the last byte of entry 7 (775 in all)
os.unlink(os.path.join(srv, "swap", rel))
put("swap", rel, bytes(b))
PY
python3 "$T/gen.py" "$(dirname "$0")" "$S" || fail "gen.py"
for d in good small lie swap; do
    "$G" note sign --key "$T/log.key" < "$S/$d/checkpoint.txt" > "$S/$d/checkpoint" ||
        fail "note sign"
    rm "$S/$d/checkpoint.txt"
done
cmp -s "$S/swap/tile/entries/003" "$S/good/tile/entries/003" && fail "bundle 3 not swapped"
[ "$(du -sm "$S/good/tile/entries" | cut -f1)" -ge 64 ] || fail "the padded bundles are not 64 MiB"

PORT=$(free_port)
SLOG="$T/static.log" # one line a request
python3 -m http.server --bind 127.0.0.1 --directory "$S" "$PORT" > "$SLOG" 2>&1 &
PIDS="$PIDS $!"
SURL="http://127.0.0.1:$PORT"
wait_until 30 curl -sf -o /dev/null "$SURL/good/checkpoint" || fail "python http.server"

# maxrss CMD...: runs CMD (stdout and stderr to $T/out and $T/err), sets
# RC and RSS (CMD's peak resident set in KiB, from getrusage)
maxrss() {
    RSS=$(python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    rc = subprocess.call(sys.argv[3:], stdout=o, stderr=e)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$T/out" "$T/err" "$@") ||
        fail "maxrss $*"
    RC=${RSS% *} RSS=${RSS#* }
}
# ASan keeps freed memory in quarantine (256 MiB by default), which would
# count freed bundles as resident: keep it small under a sanitizer build.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"

# a lying checkpoint: refused from the tiles, no bundle fetched
expect_rc 2 "$G" mirror-dir --log "$SURL/lie" --log-vkey "@$T/log.key.pub" --dir "$T/d-lie"
expect_err "do not hash to its checkpoint's root: nothing written"
grep -q "GET /lie/tile/0/003 " "$SLOG" || fail "the level-0 tiles were not read"
grep -q "GET /lie/tile/entries" "$SLOG" && fail "bundles were fetched before the root was checked"
[ -e "$T/d-lie" ] && fail "something was written for a lying checkpoint: $(find "$T/d-lie")"

# the honest log of 64 MiB of bundles, in bounded memory
maxrss "$G" mirror-dir --log "$SURL/good" --log-vkey "@$T/log.key.pub" --dir "$T/d"
[ "$RC" = 0 ] || fail "the honest log: exit $RC ($(cat "$T/err"))"
RSS1024=$RSS
diff -r -x .glasslog-mirror.lock "$S/good" "$T/d" > "$T/diff" || fail "the mirrored tree differs: $(head -5 "$T/diff")"

# a substituted entry in bundle 3, over a directory publishing 512 entries
maxrss "$G" mirror-dir --log "$SURL/small" --log-vkey "@$T/log.key.pub" --dir "$T/d2"
[ "$RC" = 0 ] || fail "the honest log at 512: exit $RC ($(cat "$T/err"))"
# the same peak for 32 and 64 MiB of bundles: one bundle at a time (a
# run holding them all grows by the 32 MiB more)
echo "peak RSS: $RSS KiB at 512 entries, $RSS1024 KiB at 1024"
[ $((RSS1024 - RSS)) -lt $((8 * 1024)) ] ||
    fail "peak RSS grew by $((RSS1024 - RSS)) KiB from 32 to 64 MiB of bundles"
cp "$T/d2/checkpoint" "$T/ck512"
expect_rc 2 "$G" mirror-dir --log "$SURL/swap" --log-vkey "@$T/log.key.pub" --dir "$T/d2"
expect_err "tile/entries/003: entry 775 is not the one the checkpoint's tree holds"
expect_err "keeps its checkpoint"
cmp -s "$T/d2/checkpoint" "$T/ck512" || fail "the checkpoint changed after a bad bundle"
cmp -s "$T/d2/tile/entries/002" "$S/good/tile/entries/002" || fail "bundle 2 (checked) not written"
[ -e "$T/d2/tile/entries/003" ] && fail "the bad bundle 3 was written"
[ -e "$T/d2/tile/0/002" ] && fail "a tile beyond the published checkpoint was written"
[ -n "$(find "$T/d2" -name '*.tmp-*')" ] && fail "temporary files left: $(find "$T/d2" -name '*.tmp-*')"
# DIR still publishes the complete tree of its checkpoint (recomputed here)
python3 - "$(dirname "$0")" "$T/d2" <<'PY' || fail "DIR no longer serves a complete tree of its checkpoint"
import base64, sys
sys.path.insert(0, sys.argv[1])
from tlog import leaf_hash, mth
d = sys.argv[2]
lines = open(d + "/checkpoint").read().split("\n")
n, root = int(lines[1]), base64.b64decode(lines[2])
leaves = []
for t in range(n // 256):
    b = open("%s/tile/entries/%03d" % (d, t), "rb").read(); i = 0
    while i < len(b):
        k = int.from_bytes(b[i:i + 2], "big"); leaves.append(leaf_hash(b[i + 2:i + 2 + k])); i += 2 + k
    if open("%s/tile/0/%03d" % (d, t), "rb").read() != b"".join(leaves[t * 256:]): sys.exit(1)
sys.exit(0 if n == 512 and len(leaves) == n and mth(leaves) == root else 1)
PY
# the next run against the honest log completes it: the honest tree's
# files, and the partial level-1 tile of 512 besides
expect_rc 0 "$G" mirror-dir --log "$SURL/good" --log-vkey "@$T/log.key.pub" --dir "$T/d2"
(cd "$T/d2" && find . -type f | sort) > "$T/files"
(cd "$S/good" && find . -type f; echo ./tile/1/000.p/2; echo ./.glasslog-mirror.lock) | sort | cmp -s - "$T/files" ||
    fail "the completed tree has other files: $(cat "$T/files")"
(cd "$S/good" && find . -type f) | while read -r f; do
    cmp -s "$S/good/$f" "$T/d2/$f" || fail "the completed tree differs in $f"
done || exit 1
echo "58-mirror-dir-bound: ok"
