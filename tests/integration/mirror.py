#!/usr/bin/env python3
"""Independent tlog-mirror client for the integration tests, written from
C2SP tlog-mirror, tlog-witness and the Merkle Tree Certificates draft's
subtree consistency proofs (not from the C code). It signs checkpoints of a
fake log with a Go-format note key, pushes them to a witness
(add-checkpoint) and uploads entries (add-entries), optionally damaged.

Usage:
  mirror.py protocol MIRROR_URL LOGKEY       every add-entries status, up to
                                             a fake log's checkpoint of 1000
  mirror.py serve-check PREFIX LOGKEY MVKEY SIZE  the mirror checkpoint is
                                             the fake log's note and a valid
                                             mirror cosignature; entries equal
  mirror.py partial MIRROR_URL LOGKEY        checkpoint 1500, one package (202)
  mirror.py resume MIRROR_URL LOGKEY         after a restart: next is 1024;
                                             the rest (200)
  mirror.py upload MIRROR_URL LOG_URL        mirror a real glasslogd: push
                                             its checkpoint, upload its
                                             entries (32 packages a request)
  mirror.py fork WITNESS_URL MIRROR_URL LOGKEY SIZE  a same-size fork is
                                             refused by both roles
  mirror.py cosig-check NOTE VKEYFILE NAME    NOTE has exactly one line by
                                             NAME, a valid cosignature
  mirror.py probe MIRROR_URL ORIGIN          prints "pending next"
  mirror.py same-tiles LOG_URL MIRROR_PREFIX every tile and bundle of the
                                             mirror checkpoint equals the
                                             log's, byte for byte
  mirror.py budget MIRROR_URL LOGKEY METRICS_URL  with a 1 MiB budget for
                                             add-entries in flight: a gzip
                                             bomb fills it, a request then
                                             gets 503 + Retry-After; once it
                                             is answered (or its client
                                             gone) the bytes return to 0
                                             and an upload of 1609..1620 is
                                             taken (200)
  mirror.py limits MIRROR_URL BODY_MAX PER_CLIENT  a body announced over
                                             BODY_MAX gets 413 at once; a
                                             connection past PER_CLIENT
                                             from one address is closed
  mirror.py fake-mirror2 LOGF KEY KEY2 KEY3 [N:TKEY...]  fakes under
                                             /two/ (a 200 of two signature
                                             lines), /slow/ (one entry a
                                             second), /small/ (413 past one
                                             package) and /ticketN/ (N-byte
                                             tickets, checked when echoed)
  mirror.py api-entries PREFIX LOGKEY        JSON entries of the fake log:
                                             text 200, NUL or not UTF-8 422
  mirror.py tile-proxy LOG_URL               serves LOG_URL's GETs, every
                                             byte of the first hash tile
                                             inverted
"""
import base64, gzip, hashlib, http.server, os, random, sys, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlog import H, leaf_hash, node_hash, mth, get, tile_path, entries_of, fail

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

EM = "\u2014"
NFAKE = 1620 # entries of the fake log

def largest_pow2_below(n):
    k = 1
    while k * 2 < n: k *= 2
    return k

def subtree_proof(leaves, start, end, lo=0, n=None, known=True):
    """SUBTREE_PROOF(start, end, D_n) over leaf hashes leaves[lo:lo+n]."""
    if n is None: n = len(leaves)
    if start == 0 and end == n:
        return [] if known else [mth(leaves[lo:lo + n])]
    k = largest_pow2_below(n)
    if end <= k:
        return subtree_proof(leaves, start, end, lo, k, known) + [mth(leaves[lo + k:lo + n])]
    if start >= k:
        return subtree_proof(leaves, start - k, end - k, lo + k, n - k, known) + [mth(leaves[lo:lo + k])]
    return subtree_proof(leaves, 0, end - k, lo + k, n - k, False) + [mth(leaves[lo:lo + k])]

def consistency_proof(leaves, m, n):
    """RFC 9162 PROOF(m, D[0:n])."""
    def sub(m, lo, n, b):
        if m == n:
            return [] if b else [mth(leaves[lo:lo + n])]
        k = largest_pow2_below(n)
        if m <= k:
            return sub(m, lo, k, b) + [mth(leaves[lo + k:lo + n])]
        return sub(m - k, lo + k, n - k, False) + [mth(leaves[lo:lo + k])]
    return [] if m == 0 or m == n else sub(m, 0, n, True)

class Replier(http.server.BaseHTTPRequestHandler):
    """The fakes' request handler base: quiet, and one way to answer."""
    def reply(self, st, body, ct, advertise=False):
        """Status st, body with Content-Type ct and its length;
        advertise: also Accept-Encoding: gzip (a mirror taking gzip)."""
        self.send_response(st)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(body)))
        if advertise: self.send_header("Accept-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass

class Signer:
    def __init__(self, text):
        parts = text.strip().split("+", 4)
        assert parts[0] == "PRIVATE" and parts[1] == "KEY", "not a signer key"
        self.name = parts[2]
        raw = base64.b64decode(parts[4])
        assert raw[0] == 1, "not an Ed25519 note key"
        self.key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        pub = self.key.public_key().public_bytes_raw()
        self.id = H(self.name.encode() + b"\n" + b"\x01" + pub)[:4]
    def sign_note(self, text):
        sig = self.key.sign(text.encode())
        return text + "\n" + "%s %s %s\n" % (EM, self.name, base64.b64encode(self.id + sig).decode())

def cosig_check(line, vkey_text, note_text):
    """Verifies a cosignature/v1 line by the verifier key vkey_text."""
    name, _, b64 = line[len(EM) + 1:].rstrip("\n").partition(" ")
    vname, vhash, vraw = vkey_text.strip().split("+", 2)
    raw = base64.b64decode(vraw)
    if name != vname or raw[0] != 4: fail("cosignature by %s, want %s (type 4)" % (name, vname))
    blob = base64.b64decode(b64)
    kid = H(vname.encode() + b"\n" + b"\x04" + raw[1:])[:4]
    if blob[:4] != kid: fail("cosignature key ID")
    ts = int.from_bytes(blob[4:12], "big")
    msg = ("cosignature/v1\ntime %d\n" % ts).encode() + note_text.encode()
    try:
        Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:76], msg)
    except Exception:
        fail("mirror cosignature does not verify")
    if abs(ts - time.time()) > 300: fail("cosignature time %d is off" % ts)

def post(url, body, headers=None):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()

class FakeLog:
    def __init__(self, signer, n, seed=1):
        rnd = random.Random(seed)
        self.s = signer
        self.origin = signer.name
        self.entries = []
        for i in range(n):
            k = rnd.choice([0, 1, 7, 40, 300])
            self.entries.append(bytes(rnd.getrandbits(8) for _ in range(k)) + b"%d" % i)
        self.leaves = [leaf_hash(e) for e in self.entries]
    def text(self, size):
        return "%s\n%d\n%s\n" % (self.origin, size, base64.b64encode(mth(self.leaves[:size])).decode())
    def note(self, size):
        return self.s.sign_note(self.text(size))

def add_checkpoint(url, log, old, size):
    body = "old %d\n" % old
    for h in consistency_proof(log.leaves, old, size):
        body += base64.b64encode(h).decode() + "\n"
    body += "\n" + log.note(size)
    return post(url + "/add-checkpoint", body.encode())

def header(origin, start, end, ticket=b""):
    o = origin.encode()
    return (len(o).to_bytes(2, "big") + o + start.to_bytes(8, "big") + end.to_bytes(8, "big") +
            len(ticket).to_bytes(2, "big") + ticket)

def packages(entries, leaves, start, end):
    """The canonical sequence for [start, end) as a list of byte strings."""
    out = []
    if start == end: return out
    rs = start // 256 * 256
    re_ = (end + 255) // 256 * 256
    for i in range((re_ - rs) // 256):
        s = max(start, rs + i * 256); e = min(end, rs + (i + 1) * 256)
        b = b"".join(len(x).to_bytes(2, "big") + x for x in entries[s:e])
        proof = subtree_proof(leaves[:end], rs + i * 256, e)
        out.append(b + bytes([len(proof)]) + b"".join(proof))
    return out

def info(body):
    lines = body.decode().split("\n")
    if len(lines) != 4 or lines[3] != "": fail("mirror info is not three lines: %r" % body)
    return int(lines[0]), int(lines[1]), lines[2]

class Mirror:
    def __init__(self, url):
        self.url = url
    def add(self, body, gz=False, want=None, why=""):
        """gz: gzip the body; "raw": send it as it is, labelled gzip."""
        h = {"Content-Type": "application/octet-stream"}
        if gz:
            if gz != "raw": body = gzip.compress(body)
            h["Content-Encoding"] = "gzip"
        st, ct, rb = post(self.url + "/add-entries", body, h)
        if want is not None and st not in (want if isinstance(want, tuple) else (want,)):
            fail("%s: add-entries answered %d, want %s: %r" % (why, st, want, rb[:300]))
        if st in (202, 409) and ct != "text/x.tlog.mirror-info":
            fail("%s: %d with Content-Type %s" % (why, st, ct))
        return st, rb

def expect_info(rb, size, nxt, why):
    got = info(rb)
    if got[0] != size or got[1] != nxt:
        fail("%s: mirror info %s, want size %d next %d" % (why, got[:2], size, nxt))

def protocol(murl, keyfile, mvkey):
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    m = Mirror(murl)
    E, L, O = log.entries, log.leaves, log.origin
    # nothing pending yet: start = end = 0 learns the state
    st, rb = m.add(header(O, 0, 0), want=409, why="empty probe")
    expect_info(rb, 0, 0, "empty probe")
    st, ct, rb = add_checkpoint(murl, log, 0, 600)
    if st != 200: fail("add-checkpoint 600: %d %r" % (st, rb))
    pk = packages(E, L, 0, 600)
    assert len(pk) == 3
    # 404: unknown origin
    m.add(header("other.example/log", 0, 600) + pk[0], want=404, why="unknown origin")
    # 409: upload_end not a pending size; upload_start beyond next
    st, rb = m.add(header(O, 0, 500) + b"".join(packages(E, L, 0, 500)), want=409, why="end 500")
    expect_info(rb, 600, 0, "end 500")
    st, rb = m.add(header(O, 10, 600) + b"".join(packages(E, L, 10, 600)), want=409,
                   why="start beyond next")
    expect_info(rb, 600, 0, "start beyond next")
    # 400: malformed header, start > end
    m.add(header(O, 0, 600)[:9], want=400, why="truncated header")
    m.add(header(O, 7, 6), want=400, why="start above end")
    # 422: a flipped proof hash, a wrong entry; nothing stored
    bad = bytearray(pk[0]); bad[-1] ^= 1
    m.add(header(O, 0, 600) + bytes(bad), want=422, why="flipped proof hash")
    E2 = list(E); E2[3] = b"evil" + E2[3]
    m.add(header(O, 0, 600) + b"".join(packages(E2, L, 0, 600)), want=422, why="altered entry")
    st, rb = m.add(header(O, 0, 0), want=409, why="probe")
    expect_info(rb, 600, 0, "after 422s")
    # wrong package boundaries: packages of 128 entries
    wrong = b""
    for s in range(0, 600, 128):
        e = min(600, s + 128)
        wrong += b"".join(len(x).to_bytes(2, "big") + x for x in E[s:e])
        pr = subtree_proof(L[:600], s, e)
        wrong += bytes([len(pr)]) + b"".join(pr)
    m.add(header(O, 0, 600) + wrong, want=(400, 422), why="128-entry packages")
    # a proof for another tree size (the package of [0, 256) proven into 1000)
    other = packages(E, L, 0, 1000)[0]
    m.add(header(O, 0, 600) + other, want=422, why="proof into the wrong tree")
    # over 63 hashes announced
    b0 = bytearray(pk[0]); n = len(subtree_proof(L[:600], 0, 256))
    b0[len(b0) - 1 - 32 * n] = 64
    m.add(header(O, 0, 600) + bytes(b0), want=422, why="64 hashes")
    st, rb = m.add(header(O, 0, 0), want=409, why="probe")
    expect_info(rb, 600, 0, "after refused boundaries")
    # truncated body: one whole package and half of the next -> 202, next 256
    st, rb = m.add(header(O, 0, 600) + pk[0] + pk[1][:len(pk[1]) // 2], want=202, why="truncated")
    expect_info(rb, 600, 256, "truncated")
    # less than one package -> 400, next unchanged
    m.add(header(O, 256, 600) + pk[1][:100], want=400, why="no whole package")
    # resumed: upload_start = the advertised next; gzip
    tail = packages(E, L, 256, 600)
    st, rb = m.add(header(O, 256, 600) + b"".join(tail), gz=True, want=200, why="resume (gzip)")
    line = rb.decode()
    if not line.startswith(EM + " ") or not line.endswith("\n") or line.count("\n") != 1:
        fail("200 body is not one signature line: %r" % rb)
    # too far below the next entry (600): an upload carrying packages may
    # start at most one package (256) below 512, the next entry's package
    st, rb = m.add(header(O, 0, 600) + b"".join(pk), want=409, why="start too far below")
    expect_info(rb, 600, 600, "start too far below")
    st, rb = m.add(header(O, 255, 600) + b"".join(packages(E, L, 255, 600)), want=409,
                   why="start 255")
    # gzip bodies are decoded strictly: a bad CRC, a plain body labelled
    # gzip and a truncated member are 400 "malformed gzip body"; a body of
    # two members (RFC 1952) is read whole
    def malformed(raw, why):
        st, rb = m.add(raw, gz="raw", want=400, why=why)
        if rb != b"malformed gzip body\n": fail("%s: 400 body %r" % (why, rb))
    z = bytearray(gzip.compress(header(O, 0, 0))); z[-8] ^= 1
    malformed(bytes(z), "gzip with a bad CRC")
    malformed(header(O, 0, 0), "a plain body labelled gzip")
    malformed(gzip.compress(header(O, 0, 0))[:-4], "a truncated gzip member")
    # the lowest start taken: every entry is stored already (skipped) -> 200
    whole = header(O, 256, 600) + b"".join(packages(E, L, 256, 600))
    half = len(whole) // 2
    st, rb = m.add(gzip.compress(whole[:half]) + gzip.compress(whole[half:]), gz="raw",
                   want=200, why="all stored (two gzip members)")
    # an empty upload re-verifies nothing: any start = end is judged by end only
    st, rb = m.add(header(O, 600, 600), want=200, why="empty upload at 600")
    # stale: 600 stays a known pending size after the next add-checkpoint,
    # but the mirror checkpoint passes it later
    st, ct, rb = add_checkpoint(murl, log, 600, 1000)
    if st != 200: fail("add-checkpoint 1000: %d %r" % (st, rb))
    # an unaligned start below next, over stored entries: [300, 1000)
    pk2 = packages(E, L, 300, 1000)
    st, rb = m.add(header(O, 300, 1000) + pk2[0] + pk2[1], want=202, why="first two packages")
    expect_info(rb, 1000, 768, "unaligned start")
    pk3 = packages(E, L, 700, 1000)
    # bytes after the whole sequence are discarded (tlog-mirror): it finishes
    st, rb = m.add(header(O, 700, 1000) + b"".join(pk3) + b"x", want=200, why="trailing byte")
    st, rb = m.add(header(O, 700, 1000) + b"".join(pk3), want=200, why="unaligned resume, again")
    st, rb = m.add(header(O, 600, 600), want=409, why="stale upload_end")
    expect_info(rb, 1000, 1000, "stale upload_end")
    # a GET is refused
    try:
        urllib.request.urlopen(murl + "/add-entries", timeout=10)
        fail("GET /add-entries answered 200")
    except urllib.error.HTTPError as e:
        if e.code != 405: fail("GET /add-entries: %d" % e.code)
    print(line, end="")

def partial(murl, keyfile):
    """Pushes the checkpoint of 1500 and uploads one package of [1000, 1500)."""
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    st, ct, rb = add_checkpoint(murl, log, 1000, 1500)
    if st != 200: fail("add-checkpoint 1500: %d %r" % (st, rb))
    pk = packages(log.entries, log.leaves, 1000, 1500)
    st, rb = Mirror(murl).add(header(log.origin, 1000, 1500) + pk[0], want=202, why="partial")
    expect_info(rb, 1500, 1024, "partial")

def resume(murl, keyfile):
    """After a restart: the probe shows the durable next entry; resume."""
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    m = Mirror(murl)
    st, rb = m.add(header(log.origin, 0, 0), want=409, why="probe after restart")
    expect_info(rb, 1500, 1024, "after restart")
    pk = packages(log.entries, log.leaves, 1024, 1500)
    m.add(header(log.origin, 1024, 1500) + b"".join(pk), want=200, why="resume after restart")

def below(murl, keyfile):
    """With a fresh mirror: pending 300 then 600, a prefix of [0, 600) up
    to 512 (202). An upload of [0, 300) with its packages starts too far
    below the next entry 512: 409 naming 300 and 512. The client clamps
    the advertised next entry to upload_end: the empty upload of 300 is
    200; then [512, 600) completes 600."""
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    m = Mirror(murl)
    for old, size in ((0, 300), (300, 600)):
        st, ct, rb = add_checkpoint(murl, log, old, size)
        if st != 200: fail("add-checkpoint %d: %d %r" % (size, st, rb))
    pk = packages(log.entries, log.leaves, 0, 600)
    st, rb = m.add(header(log.origin, 0, 600) + b"".join(pk[:2]), want=202, why="prefix")
    expect_info(rb, 600, 512, "prefix")
    pk = packages(log.entries, log.leaves, 0, 300)
    st, rb = m.add(header(log.origin, 0, 300) + b"".join(pk), want=409,
                   why="[0, 300) too far below the next entry 512")
    size, nxt, ticket = info(rb)
    expect_info(rb, 300, 512, "too far below")
    start = min(nxt, size)
    m.add(header(log.origin, start, size, base64.b64decode(ticket)), want=200,
          why="the clamped retry, an empty upload of 300")
    m.add(header(log.origin, 512, 600) + b"".join(packages(log.entries, log.leaves, 512, 600)),
          want=200, why="the rest of 600")

def tickets(murl, keyfile):
    """With the mirror at 1500: a ticket lets the mirror take an upload_end
    it no longer remembers (pushed out of its last 8 pending sizes); a
    forged, truncated, oversized or other log's ticket is not trusted."""
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    m = Mirror(murl)
    E, L, O = log.entries, log.leaves, log.origin
    st, ct, rb = add_checkpoint(murl, log, 1500, 1600)
    if st != 200: fail("add-checkpoint 1600: %d %r" % (st, rb))
    st, rb = m.add(header(O, 0, 0), want=409, why="probe at 1600")
    size, nxt, tb64 = info(rb)
    if (size, nxt) != (1600, 1500): fail("probe at 1600: %d %d" % (size, nxt))
    ticket = base64.b64decode(tb64)
    if len(ticket) < 100: fail("ticket of %d bytes for a checkpoint with its note" % len(ticket))
    # nine newer pending checkpoints: 1600 leaves the ring of 8
    for n in range(1601, 1610):
        st, ct, rb = add_checkpoint(murl, log, n - 1, n)
        if st != 200: fail("add-checkpoint %d: %d %r" % (n, st, rb))
    pk = packages(E, L, 1500, 1600)
    assert len(pk) == 2
    st, rb = m.add(header(O, 1500, 1600) + pk[0], want=409, why="forgotten 1600, no ticket")
    expect_info(rb, 1609, 1500, "forgotten 1600")
    forged = [bytes([ticket[0]]) + bytes([ticket[1] ^ 1]) + ticket[2:],  # another size
              ticket[:-1] + bytes([ticket[-1] ^ 0x80]),                   # the MAC
              ticket[:-1], ticket[:40], b"\x01" * 75, b"\x02" + ticket[1:]]
    for i, t in enumerate(forged):
        st, rb = m.add(header(O, 1500, 1600, t) + pk[0], want=409, why="forged ticket %d" % i)
        expect_info(rb, 1609, 1500, "forged ticket %d" % i)
    m.add(header(O, 1500, 1600, b"\x01" * 2049) + pk[0], want=400, why="2049-byte ticket")
    # the ticket is bound to its origin (the other mirrored log has no 1600)
    m.add(header("example.com/log", 0, 1600, ticket), want=409, why="other log's ticket")
    # the genuine ticket: a prefix (202, whose ticket is for 1600 again), then the rest
    st, rb = m.add(header(O, 1500, 1600, ticket) + pk[0], want=202, why="ticket, first package")
    size, nxt, tb64 = info(rb)
    if (size, nxt) != (1600, 1536): fail("202 with a ticket: %d %d" % (size, nxt))
    pk2 = packages(E, L, 1536, 1600)
    st, rb = m.add(header(O, 1536, 1600, base64.b64decode(tb64)) + b"".join(pk2), want=200,
                   why="ticket, the rest")
    # a ticket never overrides a remembered size: 1609 works without one
    pk3 = packages(E, L, 1600, 1609)
    m.add(header(O, 1600, 1609, b"junk") + b"".join(pk3), want=200, why="1609, junk ticket")

def fake_mirror(logf):
    """A mirror that refuses gzip bodies (415, no Accept-Encoding) until it
    has answered 4 identity bodies, then lists gzip in Accept-Encoding and
    takes them. Every add-entries is a 409 at pending size 0 (the client
    never gets further), every add-checkpoint a 200; under /unavailable/
    every request is a 503 (not logged). Under /stuck/ a mirror that never
    advances: add-checkpoint 200, the empty probe at END a 409 (pending
    END, next 0), every upload a 202 (pending END, next 0 again), logged
    as "stuck STATUS" to logf.stuck. Under /nosize/ a mirror whose 409 to
    add-checkpoint has no tree size (an empty body), all else as /stuck/,
    logged to logf.nosize: "nosize probe", "nosize add-checkpoint" and
    "nosize upload" (any add-entries that is not the empty probe). One
    line a request to logf: the body's encoding and the status. Prints "(port N)" to stderr (lib.sh
    spawn)."""
    state = {"identity": 0}
    class H(Replier):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.startswith("/unavailable/"):
                return self.reply(503, b"reloading\n", "text/plain", False)
            if self.path.startswith("/stuck/"):
                return self.stuck(body)
            if self.path.startswith("/nosize/"):
                return self.nosize(body)
            if self.path == "/add-checkpoint":
                return self.reply(200, b"", "text/plain", False)
            enc = self.headers.get("Content-Encoding", "identity")
            advertise = state["identity"] >= 4
            if enc == "gzip" and not advertise:
                st = 415
            else:
                st = 409
                try:
                    plain = gzip.decompress(body) if enc == "gzip" else body
                    if len(plain) < 20 or plain[2:2 + int.from_bytes(plain[:2], "big")] != b"example.com/log":
                        st = 400
                except Exception:
                    st = 400
                if enc != "gzip": state["identity"] += 1
            with open(logf, "a") as f: f.write("%s %d\n" % (enc, st))
            if st == 409: self.reply(409, b"0\n0\n\n", "text/x.tlog.mirror-info", advertise)
            else: self.reply(st, b"refused\n", "text/plain", advertise)
        def stuck(self, body):
            if self.path == "/stuck/add-checkpoint":
                return self.reply(200, b"", "text/plain", False)
            if self.headers.get("Content-Encoding") == "gzip": body = gzip.decompress(body)
            o = 2 + int.from_bytes(body[:2], "big")
            start, end = int.from_bytes(body[o:o + 8], "big"), int.from_bytes(body[o + 8:o + 16], "big")
            st = 409 if start == end else 202
            with open(logf + ".stuck", "a") as f: f.write("stuck %d\n" % st)
            self.reply(st, b"%d\n0\n\n" % end, "text/x.tlog.mirror-info", False)
        def nosize(self, body):
            with open(logf + ".nosize", "a") as f:
                if self.path == "/nosize/add-checkpoint":
                    f.write("nosize add-checkpoint\n")
                    return self.reply(409, b"", "text/x.tlog.size", False)
                if self.headers.get("Content-Encoding") == "gzip": body = gzip.decompress(body)
                o = 2 + int.from_bytes(body[:2], "big")
                start, end = int.from_bytes(body[o:o + 8], "big"), int.from_bytes(body[o + 8:o + 16], "big")
                f.write("nosize %s\n" % ("probe" if start == end else "upload"))
            self.reply(409, b"0\n0\n\n", "text/x.tlog.mirror-info", False)
    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    print("fake mirror (port %d)" % srv.server_address[1], file=sys.stderr, flush=True)
    srv.serve_forever()

def cosig_line(name, seed, text):
    """A cosignature/v1 line by the Ed25519 key seed named name on text."""
    k = Ed25519PrivateKey.from_private_bytes(seed)
    kid = H(name.encode() + b"\n" + b"\x04" + k.public_key().public_bytes_raw())[:4]
    ts = int(time.time())
    sig = k.sign(("cosignature/v1\ntime %d\n" % ts).encode() + text.encode())
    return "%s %s %s\n" % (EM, name, base64.b64encode(kid + ts.to_bytes(8, "big") + sig).decode())

def fake_mirror2(logf, keyfile, keyfile2, keyfile3, *tickets):
    """Two more fake mirrors, one thread a request. Under /two/ a mirror
    that keeps the checkpoint of each add-checkpoint (200) and answers an
    add-entries ending at its size with 200 and two signature lines: one by
    an unknown key (unknown.example) first, then a valid cosignature by the
    mirror key in keyfile (a cosigner key: PRIVATE+KEY+name+id+base64(0x04
    seed)); other add-entries get a 409 at pending size 0. Under /slow/ a
    mirror that moves one entry a second: the empty probe at END is a 409
    (pending 0, next 0: it forgets everything between pushes, so each push
    sends it the checkpoint again), every upload from
    START waits 1 s and is a 202 (pending END, next START + 1), logged as
    "slow 202" to logf.slow, except one that reaches END: a 200 with its
    cosignature (key keyfile3) of the checkpoint it was last given. Under
    /small/ a mirror (key keyfile2) that
    refuses every add-entries body of more than one package with 413 (as
    a mirror whose byte limit holds one package of these entries: a
    limit in bytes would make the test depend on where the push's
    rounds cut the upload) and takes the others: it keeps the checkpoint of each add-checkpoint, a
    409 names that size and its next entry, an upload moves its next entry
    past the packages it carries (202), to the end a 200 with its
    cosignature; each upload logged as "small STATUS PACKAGES BYTES" to
    logf.small; while the file logf.hold exists, every request to it is a
    503. Under /ticketN/, for each "N:TKEY" of tickets, a mirror (key
    TKEY) whose every 202 and 409 carries a fresh random ticket of N
    bytes: it keeps the checkpoint of each add-checkpoint, a 409 names
    that size and its next entry, an upload must carry the ticket of its
    last answer byte for byte (logged as "ticketN echoed LEN STATUS" or
    "ticketN wrong LEN STATUS" to logf.ticket, STATUS that of the answer
    that issued it; a wrong one is a 409 that does not move), takes all
    but the last entry (202), then the last (200 with its cosignature).
    Prints "(port N)" to stderr (lib.sh spawn)."""
    def load(kf):
        parts = open(kf).read().strip().split("+", 4)
        raw = base64.b64decode(parts[4])
        assert raw[0] == 4, "not a cosigner key"
        return parts[2], raw[1:]
    name, seed = load(keyfile)
    name2, seed2 = load(keyfile2)
    name3, seed3 = load(keyfile3)
    other = os.urandom(32)
    state = {"text": None, "size": -1}
    small = {"text": None, "size": 0, "next": 0}
    slow = {"text": None, "size": -1}
    tick = {}
    for t in tickets:
        n, kf = t.split(":", 1)
        tick["ticket" + n] = {"n": int(n), "key": load(kf), "text": None, "size": 0,
                              "next": 0, "ticket": b"", "from": 0}
    def count_packages(body, o, start, end):
        """(packages, entries) of the packages in body from offset o."""
        npk, pos = 0, start
        while o < len(body) and pos < end:
            n = min(end, (pos // 256 + 1) * 256) - pos
            for _ in range(n): o += 2 + int.from_bytes(body[o:o + 2], "big")
            o += 1 + 32 * body[o]
            npk, pos = npk + 1, pos + n
        return npk, pos
    class H2(Replier):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.endswith("/add-checkpoint"):
                top = self.path.split("/")[1]
                st = {"two": state, "slow": slow}.get(top, tick.get(top, small))
                note = body.decode()
                note = note[note.index("\n\n") + 2:]
                st["text"] = note[:note.index("\n\n") + 1]
                st["size"] = int(st["text"].split("\n")[1])
                return self.reply(200, b"", "text/plain")
            if self.headers.get("Content-Encoding") == "gzip": body = gzip.decompress(body)
            o = 2 + int.from_bytes(body[:2], "big")
            start, end = int.from_bytes(body[o:o + 8], "big"), int.from_bytes(body[o + 8:o + 16], "big")
            if self.path.startswith("/two/"):
                if end != state["size"]:
                    return self.reply(409, b"0\n0\n\n", "text/x.tlog.mirror-info")
                lines = (cosig_line("unknown.example", other, state["text"]) +
                         cosig_line(name, seed, state["text"]))
                return self.reply(200, lines.encode(), "text/plain")
            if self.path.split("/")[1] in tick:
                return self.ticket(tick[self.path.split("/")[1]], body, o + 16, start, end)
            if self.path.startswith("/small/"):
                if os.path.exists(logf + ".hold"):
                    return self.reply(503, b"held\n", "text/plain")
                return self.small(body, o, start, end)
            if start == end:
                return self.reply(409, b"0\n0\n\n", "text/x.tlog.mirror-info")
            time.sleep(1)
            if start + 1 >= end:
                return self.reply(200, cosig_line(name3, seed3, slow["text"]).encode(), "text/plain")
            with open(logf + ".slow", "a") as f: f.write("slow 202\n")
            self.reply(202, b"%d\n%d\n\n" % (end, start + 1), "text/x.tlog.mirror-info")
        def ticket(self, t, body, o, start, end):
            def answer(st):
                t["ticket"], t["from"] = os.urandom(t["n"]), st
                self.reply(st, b"%d\n%d\n%s\n" % (t["size"], t["next"], base64.b64encode(t["ticket"])),
                           "text/x.tlog.mirror-info")
            if start != end:
                tl = int.from_bytes(body[o:o + 2], "big")
                ok = body[o + 2:o + 2 + tl] == t["ticket"]
                with open(logf + ".ticket", "a") as f:
                    f.write("ticket%d %s %d %d\n" % (t["n"], "echoed" if ok else "wrong", tl, t["from"]))
                if not ok: return answer(409)
            if end != t["size"] or (start == end and t["next"] < end):
                return answer(409)
            if start < end - 1:
                t["next"] = end - 1
                return answer(202)
            t["next"] = end
            self.reply(200, cosig_line(t["key"][0], t["key"][1], t["text"]).encode(), "text/plain")
        def small(self, body, o, start, end):
            info = lambda: b"%d\n%d\n\n" % (small["size"], small["next"])
            if end != small["size"] or (start == end and small["next"] < end):
                return self.reply(409, info(), "text/x.tlog.mirror-info")
            if start != end:
                o += 18 + int.from_bytes(body[o + 16:o + 18], "big")
                npk, pos = count_packages(body, o, start, end)
                st = 413 if npk > 1 else 202
                with open(logf + ".small", "a") as f: f.write("small %d %d %d\n" % (st, npk, len(body)))
                if st == 413: return self.reply(413, b"too large\n", "text/plain")
                small["next"] = max(small["next"], pos)
                if pos < end: return self.reply(202, info(), "text/x.tlog.mirror-info")
            self.reply(200, cosig_line(name2, seed2, small["text"]).encode(), "text/plain")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H2)
    print("fake mirror (port %d)" % srv.server_address[1], file=sys.stderr, flush=True)
    srv.serve_forever()

def serve_check(prefix, keyfile, vkeyfile, size):
    """The mirror checkpoint: the fake log's note of size plus one valid
    mirror cosignature, nothing else; every tile recomputed."""
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    note = get(prefix + "/checkpoint", raw=True).decode()
    want = log.note(size)
    if not note.startswith(want): fail("mirror checkpoint is not the log's note of %d: %r" % (size, note))
    rest = note[len(want):].split("\n")
    if len(rest) != 2 or rest[1] != "": fail("mirror checkpoint has %d extra lines" % (len(rest) - 1))
    cosig_check(rest[0], open(vkeyfile).read(), log.text(size))
    if entries_of(prefix, size) != log.entries[:size]: fail("mirrored entries differ")

def upload(murl, lurl):
    note = get(lurl + "/checkpoint", raw=True).decode()
    size = int(note.split("\n")[1])
    ents = entries_of(lurl, size)
    leaves = [leaf_hash(e) for e in ents]
    body = ("old 0\n\n" + note).encode()
    st, ct, rb = post(murl + "/add-checkpoint", body)
    if st not in (200, 409): fail("add-checkpoint: %d %r" % (st, rb))
    origin = note.split("\n")[0]
    m = Mirror(murl)
    st, rb = m.add(header(origin, 0, 0), want=409, why="probe")
    pend, nxt, _ = info(rb)
    if pend != size: fail("pending size %d, want %d" % (pend, size))
    requests = 0
    while True:
        pk = packages(ents, leaves, nxt, size)[:32]
        st, rb = m.add(header(origin, nxt, size) + b"".join(pk), gz=True, want=(200, 202), why="upload")
        requests += 1
        if st == 200: break
        nxt = info(rb)[1]
    print(size, requests)

def fork(wurl, murl, keyfile, size):
    """Signs a same-size checkpoint of another tree with the log's key:
    the witness must refuse it (422, split view) and the mirror must refuse
    the fork's entries (422 against the checkpoint it holds)."""
    fk = FakeLog(Signer(open(keyfile).read()), size, seed=99)
    st, ct, rb = post(wurl + "/add-checkpoint", ("old %d\n\n" % size + fk.note(size)).encode())
    if st != 422: fail("forked checkpoint: witness answered %d %r" % (st, rb))
    # the fork's last package (a start the mirror takes: within one package
    # of its next entry, size) fails its proof; from 0 it is too far below
    s = (size - 1) // 256 * 256
    pk = packages(fk.entries, fk.leaves, s, size)
    Mirror(murl).add(header(fk.origin, s, size) + pk[0], want=422, why="fork's entries")
    pk = packages(fk.entries, fk.leaves, 0, size)
    Mirror(murl).add(header(fk.origin, 0, size) + pk[0], want=409, why="fork from 0")

def probe(murl, origin):
    """Prints the mirror's pending size and next entry (an empty upload)."""
    st, rb = Mirror(murl).add(header(origin, 0, 0), want=(200, 409), why="probe")
    if st == 200: print("0 0")
    else: print("%d %d" % info(rb)[:2])

def same_tiles(lurl, prefix):
    note = get(prefix + "/checkpoint", raw=True).decode()
    size = int(note.split("\n")[1])
    level_size, L, n = size, 0, 0
    while level_size > 0:
        for t in range((level_size + 255) // 256):
            w = min(256, level_size - t * 256)
            for ent in ((False, True) if L == 0 else (False,)):
                p = tile_path(L, t, w, ent)
                a, b = get(lurl + "/" + p, raw=True), get(prefix + "/" + p, raw=True)
                if a != b: fail("%s differs between the log and the mirror" % p)
                n += 1
        level_size //= 256
        L += 1
    print(n)

def metric(murl, name):
    for l in get(murl + "/metrics", raw=True).decode().split("\n"):
        if l.startswith(name + " "): return int(l.split()[1])
    fail("no metric %s" % name)

def budget(murl, keyfile, metrics):
    import http.client, socket, threading, urllib.parse
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    m = Mirror(murl)
    O = log.origin
    if metric(metrics, "glasslog_mirror_inflight_max_bytes") != 1 << 20:
        fail("budget bound: %d" % metric(metrics, "glasslog_mirror_inflight_max_bytes"))
    if metric(metrics, "glasslog_mirror_inflight_bytes") != 0: fail("bytes in flight at rest")
    # 64 MiB of zeros in about 64 KiB: the decoding grows past the budget
    bomb = gzip.compress(bytes(64 << 20), 9)
    u = urllib.parse.urlparse(murl)
    probe = header(O, 0, 0)
    def check503(st, retry, body, who):
        if retry != "1": fail("503 for %s without Retry-After: 1 (%r)" % (who, retry))
        if not body.startswith(b"too many add-entries bytes in memory") or body.count(b"\n") != 1:
            fail("503 reason for %s: %r" % (who, body))
    def call(c, body, h):
        c.request("POST", "/add-entries", body, h)
        r = c.getresponse()
        return r.status, r.getheader("Retry-After"), r.read()
    # a probe sent while the bomb decodes past the budget is refused at
    # once; one admitted before makes the bomb's next growth refused
    # instead (both 503): probes start later on each try until one is
    probed = bombed = 0
    for attempt in range(40):
        res = {}
        def send():
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            res["bomb"] = call(c, bomb, {"Content-Encoding": "gzip"})
            c.close()
        t = threading.Thread(target=send)
        t.start()
        time.sleep(0.005 * attempt)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while t.is_alive() and not probed:
            st, retry, body = call(c, probe, {})
            if st == 503:
                check503(st, retry, body, "a probe")
                probed = attempt + 1
            elif st != 409: fail("probe answered %d: %r" % (st, body))
        c.close()
        t.join()
        st, retry, body = res["bomb"]
        if st == 503:
            check503(st, retry, body, "the bomb")
            bombed += 1
        if probed: break
    if not probed: fail("no probe refused in 40 tries (the bomb refused %d times)" % bombed)
    print("budget: a probe refused on try %d (the bomb before: %d)" % (probed, bombed),
          file=sys.stderr)
    if metric(metrics, "glasslog_mirror_inflight_refused_total") < 1: fail("refusal not counted")
    # a bomb whose client leaves at once: its bytes are still given back
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST /add-entries HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
              b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb)
    s.close()
    for i in range(200):
        if metric(metrics, "glasslog_mirror_inflight_bytes") == 0: break
        time.sleep(0.05)
    else: fail("bytes in flight stay at %d" % metric(metrics, "glasslog_mirror_inflight_bytes"))
    # the budget is free again: a real upload is taken
    st, ct, rb = add_checkpoint(murl, log, 1609, 1620)
    if st != 200: fail("add-checkpoint 1620: %d %r" % (st, rb))
    pk = packages(log.entries, log.leaves, 1609, 1620)
    m.add(header(O, 1609, 1620) + b"".join(pk), want=200, why="upload after the budget freed")
    if metric(metrics, "glasslog_mirror_inflight_bytes") != 0: fail("bytes in flight after the upload")

def limits(murl, body_max, per_client):
    """The mirror listener's own limits: an add-entries body announced
    over body_max is refused (413) right after its head, before any of it
    is sent; a client's connection past per_client is closed at once,
    and one is taken again once the others are gone."""
    import socket, urllib.parse
    u = urllib.parse.urlparse(murl)
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    s.sendall(b"POST /add-entries HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
              % (body_max + 1))
    try:
        head = s.recv(4096)
    except socket.timeout:
        fail("a body of %d bytes announced: no answer in 5 s (read, not refused)" % (body_max + 1))
    if not head.startswith(b"HTTP/1.1 413 "): fail("a body over the cap: %r" % head[:100])
    s.close()
    held = [socket.create_connection((u.hostname, u.port), timeout=5) for i in range(per_client)]
    time.sleep(0.2)
    extra = socket.create_connection((u.hostname, u.port), timeout=3)
    try:
        got = extra.recv(1)
    except ConnectionResetError:
        got = b""
    except socket.timeout:
        fail("connection %d from one address was kept open" % (per_client + 1))
    if got != b"": fail("connection %d from one address: %r" % (per_client + 1, got))
    extra.close()
    for c in held: c.close()
    for i in range(50):
        time.sleep(0.05)
        try:
            if post(murl + "/add-entries", b"", {})[0] == 400: return
        except (ConnectionError, urllib.error.URLError):
            pass
    fail("no connection taken once the others were closed")

def api_entries(prefix, keyfile):
    """The JSON entries API of a mirrored fake log (its entries are any
    bytes): an entry that is UTF-8 text is served whole; one with a NUL,
    and one that is not UTF-8, get 422 with a one-line reason."""
    import json
    log = FakeLog(Signer(open(keyfile).read()), NFAKE)
    def kind(e):
        try: e.decode("utf-8")
        except UnicodeDecodeError: return "bad" if b"\0" not in e else None
        return "nul" if b"\0" in e else "text"
    seen = {}
    for i, e in enumerate(log.entries[:1000]):
        k = kind(e)
        if k and k not in seen: seen[k] = i
    if len(seen) != 3: fail("fake log lacks an entry kind: %r" % seen)
    for k, i in sorted(seen.items()):
        req = urllib.request.Request(prefix + "/api/v1/entries/%d" % i)
        try:
            with urllib.request.urlopen(req, timeout=30) as r: st, body = r.status, r.read()
        except urllib.error.HTTPError as e: st, body = e.code, e.read()
        if k == "text":
            if st != 200 or json.loads(body)["statement"].encode() != log.entries[i]:
                fail("text entry %d: %d %r" % (i, st, body[:200]))
        elif st != 422 or b"\n" in body.rstrip(b"\n") or "not UTF-8 text" not in json.loads(body)["error"]:
            fail("%s entry %d: %d %r" % (k, i, st, body[:200]))

def tile_proxy(lurl):
    """Forwards GETs to the log at lurl; the first hash tile (tile/<L>/...)
    asked for is answered with every byte inverted (same length), later ones
    as the log serves them. Logs "corrupted PATH" once and prints "(port N)"
    to stderr (lib.sh spawn)."""
    state = {"bad": 0}
    class P(Replier):
        def do_GET(self):
            try:
                with urllib.request.urlopen(lurl + self.path, timeout=30) as r:
                    st, ct, body = r.status, r.headers.get("Content-Type"), r.read()
            except urllib.error.HTTPError as e:
                st, ct, body = e.code, e.headers.get("Content-Type"), e.read()
            if (st == 200 and self.path.startswith("/tile/") and
                    not self.path.startswith("/tile/entries/") and not state["bad"]):
                state["bad"] = 1
                body = bytes(b ^ 0xff for b in body)
                print("corrupted %s" % self.path, file=sys.stderr, flush=True)
            self.reply(st, body, ct or "application/octet-stream")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), P)
    print("tile proxy (port %d)" % srv.server_address[1], file=sys.stderr, flush=True)
    srv.serve_forever()

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "protocol": protocol(sys.argv[2], sys.argv[3], None)
    elif cmd == "serve-check": serve_check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "partial": partial(sys.argv[2], sys.argv[3])
    elif cmd == "resume": resume(sys.argv[2], sys.argv[3])
    elif cmd == "tickets": tickets(sys.argv[2], sys.argv[3])
    elif cmd == "below": below(sys.argv[2], sys.argv[3])
    elif cmd == "fake-mirror": fake_mirror(sys.argv[2])
    elif cmd == "fake-mirror2": fake_mirror2(*sys.argv[2:])
    elif cmd == "upload": upload(sys.argv[2], sys.argv[3])
    elif cmd == "fork": fork(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "probe": probe(sys.argv[2], sys.argv[3])
    elif cmd == "cosig-check":
        text = open(sys.argv[2]).read()
        body = text[:text.index("\n\n") + 1]
        lines = [l + "\n" for l in text.split("\n") if l.startswith(EM + " " + sys.argv[4] + " ")]
        if len(lines) != 1: fail("%d lines by %s" % (len(lines), sys.argv[4]))
        cosig_check(lines[0], open(sys.argv[3]).read(), body)
    elif cmd == "same-tiles": same_tiles(sys.argv[2], sys.argv[3])
    elif cmd == "tile-proxy": tile_proxy(sys.argv[2])
    elif cmd == "api-entries": api_entries(sys.argv[2], sys.argv[3])
    elif cmd == "budget": budget(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "limits": limits(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else: fail("unknown command " + cmd)
