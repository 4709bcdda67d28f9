#!/usr/bin/env python3
"""Independent reference for the integration tests: RFC 9162 Merkle
hashing, C2SP tiles and entry bundles, proof verification, written from the
specs in Python so that agreeing with it is evidence about the C code.

Usage (each prints nothing and exits 0 on success, 1 with a reason):
  tlog.py check-tiles URL            every tile and bundle the log serves at
                                     its checkpoint size, and its root, equal
                                     a recomputation from its entries
  tlog.py check-proofs URL K         K inclusion proofs (by index and by leaf
                                     hash) and consistency proofs verify
  tlog.py check-consistent URL FILE  every checkpoint saved in FILE (lines
                                     "size base64-root") is a prefix of the
                                     log's current tree (the log's proofs,
                                     checked here); prints the count
  tlog.py check-acks URL FILE        every "index leafhash" line in FILE is
                                     the log's entry at that index in the
                                     tree its checkpoint signs (all entry
                                     bundles fetched, root recomputed);
                                     prints the count
"""
import base64, hashlib, json, random, sys, urllib.request

def H(b): return hashlib.sha256(b).digest()
def leaf_hash(e): return H(b"\x00" + e)
def node_hash(l, r): return H(b"\x01" + l + r)

def mth(hashes):
    """Root of a list of leaf hashes (RFC 9162 MTH, split at largest power of 2 < n)."""
    n = len(hashes)
    if n == 0: return H(b"")
    if n == 1: return hashes[0]
    k = 1
    while k * 2 < n: k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))

def get(url, raw=False):
    with urllib.request.urlopen(url, timeout=30) as r:
        data = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            import gzip; data = gzip.decompress(data)
        return data if raw else json.loads(data)

def checkpoint(url):
    text = get(url + "/checkpoint", raw=True).decode()
    lines = text.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2])

def tile_path(level, index, width, entries=False):
    s = "%03d" % (index % 1000); index //= 1000
    while index > 0:
        s = "x%03d/" % (index % 1000) + s; index //= 1000
    p = "tile/entries/" + s if entries else "tile/%d/%s" % (level, s)
    return p + (".p/%d" % width if width < 256 else "")

def entries_of(url, size):
    out = []
    for t in range((size + 255) // 256):
        w = min(256, size - t * 256)
        b = get(url + "/" + tile_path(0, t, w, True), raw=True)
        i = 0
        while i < len(b):
            n = int.from_bytes(b[i:i + 2], "big"); out.append(b[i + 2:i + 2 + n]); i += 2 + n
        if len(out) != t * 256 + w: fail("bundle %d has the wrong number of entries" % t)
    return out

def fail(msg):
    print("tlog.py: " + msg, file=sys.stderr); sys.exit(1)

def check_tiles(url):
    origin, size, root = checkpoint(url)
    ents = entries_of(url, size)
    level = [leaf_hash(e) for e in ents]
    if mth(level) != root: fail("root of the entries differs from the checkpoint's")
    L = 0
    while len(level) > 0:
        for t in range((len(level) + 255) // 256):
            chunk = level[t * 256:(t + 1) * 256]
            got = get(url + "/" + tile_path(L, t, len(chunk)), raw=True)
            if got != b"".join(chunk): fail("tile %s differs" % tile_path(L, t, len(chunk)))
        # next level: hashes of full tiles only
        level = [mth(level[i:i + 256]) for i in range(0, len(level) - len(level) % 256, 256)]
        L += 1

def verify_inclusion(index, size, leaf, proof, root):
    # RFC 9162 2.1.3.2
    if index >= size or any(len(h) != 32 for h in [leaf, root] + proof): return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1; sn >>= 1
                    if fn & 1 or fn == 0: break
        else:
            r = node_hash(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root

def verify_consistency(m, n, r1, r2, proof):
    # RFC 9162 2.1.4.2, with glasslog's stated edge cases for m == 0, m == n
    if m > n or any(len(h) != 32 for h in [r1, r2] + proof): return False
    if m == n: return proof == [] and r1 == r2
    if m == 0: return proof == [] and r1 == H(b"")
    if m & (m - 1) == 0: proof = [r1] + proof
    if not proof: return False
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr); sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1; sn >>= 1
                    if fn & 1 or fn == 0: break
        else:
            sr = node_hash(sr, c)
        fn >>= 1; sn >>= 1
    return fr == r1 and sr == r2 and sn == 0

def check_proofs(url, k):
    origin, size, root = checkpoint(url)
    ents = entries_of(url, size)
    leaves = [leaf_hash(e) for e in ents]
    rnd = random.Random(7)
    for _ in range(k):
        i = rnd.randrange(size)
        j = get(url + "/api/v1/proof/inclusion?index=%d" % i)
        proof = [bytes.fromhex(h) for h in j["hashes"]]
        if j["index"] != i or j["tree_size"] != size or not verify_inclusion(i, size, leaves[i], proof, root):
            fail("inclusion proof for %d does not verify" % i)
        n = rnd.randrange(i + 1, size + 1)
        j = get(url + "/api/v1/proof/inclusion?leaf_hash=%s&tree_size=%d" % (leaves[i].hex(), n))
        if not verify_inclusion(i, n, leaves[i], [bytes.fromhex(h) for h in j["hashes"]], mth(leaves[:n])):
            fail("inclusion proof by hash for %d in %d does not verify" % (i, n))
        e = get(url + "/api/v1/entries/%d" % i)
        if e["statement"].encode() != ents[i] or e["leaf_hash"] != leaves[i].hex():
            fail("entry %d differs from its bundle" % i)
        m = rnd.randrange(1, size + 1)  # the API serves 0 < first <= second
        j = get(url + "/api/v1/proof/consistency?first=%d&second=%d" % (m, size))
        if not verify_consistency(m, size, mth(leaves[:m]), root, [bytes.fromhex(h) for h in j["hashes"]]):
            fail("consistency proof %d -> %d does not verify" % (m, size))

def check_consistent(url, path):
    origin, size, root = checkpoint(url)
    seen = sorted(set(line.strip() for line in open(path) if line.strip()))
    for line in seen:
        m, r1 = line.split()
        m, r1 = int(m), base64.b64decode(r1)
        if m > size: fail("a checkpoint of size %d was seen but the log now has %d" % (m, size))
        if m == 0:  # the empty tree is a prefix of every tree; the API has no proof for it
            if r1 != H(b""): fail("a checkpoint of size 0 was seen with another root than the empty tree's")
            continue
        j = get(url + "/api/v1/proof/consistency?first=%d&second=%d" % (m, size))
        if not verify_consistency(m, size, r1, root, [bytes.fromhex(h) for h in j["hashes"]]):
            fail("checkpoint of size %d is inconsistent with the current tree" % m)
    print("checked %d distinct checkpoints" % len(seen))

def check_acks(url, path):
    origin, size, root = checkpoint(url)
    leaves = [leaf_hash(e) for e in entries_of(url, size)]
    if mth(leaves) != root: fail("root of the entries differs from the checkpoint's")
    n = 0
    for line in open(path):
        if not line.strip(): continue
        idx, lh = line.split()
        if int(idx) >= size or leaves[int(idx)].hex() != lh:
            fail("acknowledged entry %s is not at its index" % idx)
        n += 1
    print("checked %d acknowledged entries" % n)

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"check-tiles": lambda: check_tiles(args[0]),
     "check-proofs": lambda: check_proofs(args[0], int(args[1])),
     "check-consistent": lambda: check_consistent(args[0], args[1]),
     "check-acks": lambda: check_acks(args[0], args[1])}[cmd]()
