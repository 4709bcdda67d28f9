#!/usr/bin/env python3
"""A misbehaving log for the client tests: a GET proxy in front of a real
glasslogd that alters its answers the way a malicious or broken log could,
so `glasslog lookup` and `glasslog monitor` can be shown to refuse them.

Usage: tamper_proxy.py UPSTREAM_URL MODEFILE PORTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE). Before each
request it reads MODEFILE (one word; missing or empty = "none"):

  none               pass everything through
  gzip               entry bundles gzip-encoded (Content-Encoding: gzip)
  flaky              the first request for each path answers 503 (retries)
  lookup-statement   lookup answers: each statement's version changed
  lookup-proof       lookup answers: the first inclusion hash of each proof
                     changed
  lookup-checkpoint  lookup answers: the root in each proof's checkpoint
                     changed (the log signature no longer verifies)
  lookup-leaf        lookup answers: each leaf_hash changed
  lookup-empty       lookup answers: no statements (the log claims to hold
                     none about the digest or source asked for)
  lookup-error       lookups answer 400 (an error that is not retried)
  lookup-nobuild     lookup answers: the build statements left out (the
                     others, with their proofs, stay)
  lookup-nobuild-bundle  as lookup-nobuild, and in every entry bundle each
                     build statement's version changed (same length)
  lookup-inject      lookup answers: the items of the JSON list in
                     MODEFILE.inject ({"index", "statement_file", "proof"}:
                     the statement is that file's content; each given a
                     leaf_hash of zeros) appended, whatever was asked:
                     statements the log never logged
  bundle-entry       entry bundle 0: entry 1's version changed (same length)
  bundle-every       every entry bundle: every entry's version changed
  tile-hash          level-0 tile 0: hash 1 changed
  entries-error      entry bundles after bundle 0 answer 400 (a catch-up
                     stops after its first bundle)
  entries-malformed  entry bundles after bundle 0 answer 200 with a
                     truncated bundle (a catch-up stops after its first)
  lookup-flood       lookup answers {"statements": [0, 0, ...]}: 200000
                     values, whatever was asked (the upstream is not asked)
  lookup-repeat      lookup answers: the first statement the log ever
                     answered (a real one, with its proof) listed 100 times
                     a page, at indices from `from` on, with a "next", on
                     every page: an answer without end
  lookup-101         lookup answers 101 items (one more than a page holds),
                     each malformed (the upstream is not asked)
  lookup-bad3        lookup answers 3 malformed items (the upstream is not
                     asked)
  entry-escape       /api/v1/entries answers: an OSC 52 escape sequence put
                     in the statement (leaf_hash made to match)
  entry-index        /api/v1/entries answers: the index is one more
  entry-leaf-escape  /api/v1/entries answers: the leaf_hash replaced by an
                     OSC 52 escape sequence
  lookup-unavailable lookups answer 503 (the upstream is not asked): a
                     client with mirrors reads the lookup from a mirror
  api-unavailable    every /api/ request answers 503 (upstream not asked)
  consistency-wrong  consistency proofs: each hash changed (well-formed,
                     wrong): a mirror that lies about proofs
  partial-gone-slow  every tile path answers 4 s late, and a partial one
                     (.p/W) then 404 (the upstream is not asked): a far
                     copy that dropped its partial tiles
Whatever the mode, while MODEFILE.checkpoint exists and is not empty,
GET /checkpoint answers its content (e.g. a forked checkpoint).
Python standard library only.
"""
import base64, gzip, hashlib, http.server, json, sys, threading, time, urllib.error, urllib.parse, urllib.request

UPSTREAM, MODEFILE, PORTFILE = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
seen = set()
lock = threading.Lock()


def mode():
    try:
        with open(MODEFILE) as f:
            return f.read().strip() or "none"
    except OSError:
        return "none"


def flip_b64_hash(line):
    raw = bytearray(base64.b64decode(line))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def tamper_proof(proof, what):
    lines = proof.split("\n")
    if what == "proof":
        i = next(i for i, l in enumerate(lines) if l.startswith("index ")) + 1
        if lines[i]:
            lines[i] = flip_b64_hash(lines[i])
    elif what == "checkpoint":
        i = lines.index("") + 3  # blank line, origin, size, root
        lines[i] = flip_b64_hash(lines[i])
    return "\n".join(lines)


REPEATED = []  # lookup-repeat: the first statement answered


def tamper_lookup(body, m, path):
    doc = json.loads(body)
    if m == "lookup-repeat" and "statements" in doc:
        if not REPEATED and doc["statements"]:
            REPEATED.append(doc["statements"][0])
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        start = int(q.get("from", ["0"])[0])
        doc["statements"] = [dict(REPEATED[0], index=start + k) for k in range(100)] if REPEATED else []
        doc["next"] = start + 100
    if m == "lookup-empty" and "statements" in doc:
        doc["statements"] = []
    if m in ("lookup-nobuild", "lookup-nobuild-bundle") and "statements" in doc:
        doc["statements"] = [s for s in doc["statements"]
                             if "\nkind build\n" not in s["statement"]]
    if m == "lookup-inject" and "statements" in doc:
        with open(MODEFILE + ".inject") as f:
            for it in json.load(f):
                with open(it["statement_file"]) as sf:
                    doc["statements"].append({"index": it["index"], "statement": sf.read(),
                                              "proof": it["proof"], "leaf_hash": "00" * 32})
    for s in doc.get("statements", []):
        if m == "lookup-statement":
            s["statement"] = s["statement"].replace("\nversion ", "\nversion x", 1)
        elif m == "lookup-proof":
            s["proof"] = tamper_proof(s["proof"], "proof")
        elif m == "lookup-checkpoint":
            s["proof"] = tamper_proof(s["proof"], "checkpoint")
        elif m == "lookup-leaf":
            s["leaf_hash"] = ("0" if s["leaf_hash"][0] != "0" else "1") + s["leaf_hash"][1:]
    return json.dumps(doc).encode()


def tamper_bundle(body, builds=False, every=False):
    """Entry 1's version changed; with builds, every build's instead; with
    every, every entry's."""
    out, i, n = bytearray(), 0, 0
    while i < len(body):
        ln = int.from_bytes(body[i:i + 2], "big")
        e = bytearray(body[i + 2:i + 2 + ln])
        if every or (builds and b"\nkind build\n" in e) or (not builds and n == 1):
            k = e.find(b"\nversion ") + 9
            e[k] = ord("X") if e[k] != ord("X") else ord("Y")
        out += body[i:i + 2] + e
        i, n = i + 2 + ln, n + 1
    return bytes(out)


def bad_item():
    return {"index": 0, "leaf_hash": "00" * 32, "statement": "x", "proof": "y"}


FAKE_LOOKUP = {
    "lookup-flood": lambda: b'{"statements": [' + b",".join([b"0"] * 200000) + b"]}",
    "lookup-101": lambda: json.dumps({"statements": [bad_item()] * 101}).encode(),
    "lookup-bad3": lambda: json.dumps({"statements": [0, 0, 0]}).encode(),
}


def tamper_entry(body, m):
    doc = json.loads(body)
    if m == "entry-leaf-escape":
        doc["leaf_hash"] = "\x1b]52;c;aGk=\x07"
    elif m == "entry-escape":
        st = doc["statement"].replace("\nversion ", "\nversion \x1b]52;c;aGk=\x07", 1)
        doc["statement"] = st
        doc["leaf_hash"] = hashlib.sha256(b"\x00" + st.encode()).hexdigest()
    else:
        doc["index"] += 1
    return json.dumps(doc).encode()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        m = mode()
        if m == "flaky":
            with lock:
                first = self.path not in seen
                seen.add(self.path)
            if first:
                return self.reply(503, b'{"error":"try again"}', "application/json",
                                  [("Retry-After", "0")])
        try:
            with open(MODEFILE + ".checkpoint", "rb") as f:
                ckp = f.read()
        except OSError:
            ckp = b""
        if ckp and self.path == "/checkpoint":
            return self.reply(200, ckp, "text/plain; charset=utf-8")
        if m == "partial-gone-slow" and self.path.startswith("/tile/"):
            time.sleep(4.0)
            if ".p/" in self.path:
                return self.reply(404, b"gone\n", "text/plain")
        if self.path.startswith("/api/v1/lookup") and m in FAKE_LOOKUP:
            return self.reply(200, FAKE_LOOKUP[m](), "application/json")
        if (m == "entries-malformed" and self.path.startswith("/tile/entries/")
                and not self.path.startswith("/tile/entries/000")):
            return self.reply(200, b"\x00\x05ab", "application/octet-stream")
        if ((m == "lookup-unavailable" and self.path.startswith("/api/v1/lookup"))
                or (m == "api-unavailable" and self.path.startswith("/api/"))):
            return self.reply(503, b'{"error":"unavailable"}', "application/json",
                              [("Retry-After", "0")])
        if m == "lookup-error" and self.path.startswith("/api/v1/lookup"):
            return self.reply(400, b'{"error":"lookup refused"}', "application/json")
        if (m == "entries-error" and self.path.startswith("/tile/entries/")
                and not self.path.startswith("/tile/entries/000")):
            return self.reply(400, b'{"error":"bundle refused"}', "application/json")
        try:
            with urllib.request.urlopen(UPSTREAM + self.path, timeout=30) as r:
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        extra = []
        if status == 200:
            p = self.path
            if p.startswith("/api/v1/lookup") and m.startswith("lookup-"):
                body = tamper_lookup(body, m, p)
            elif p.startswith("/tile/entries/000") and m == "bundle-entry":
                body = tamper_bundle(body)
            elif p.startswith("/tile/entries/") and m == "lookup-nobuild-bundle":
                body = tamper_bundle(body, builds=True)
            elif p.startswith("/tile/entries/") and m == "bundle-every":
                body = tamper_bundle(body, every=True)
            elif p.startswith("/api/v1/entries/") and m in ("entry-escape", "entry-index",
                                                             "entry-leaf-escape"):
                body = tamper_entry(body, m)
            elif p.startswith("/api/v1/proof/consistency") and m == "consistency-wrong":
                doc = json.loads(body)
                doc["hashes"] = [("0" if h[0] != "0" else "1") + h[1:] for h in doc["hashes"]]
                body = json.dumps(doc).encode()
            elif p.startswith("/tile/0/000") and m == "tile-hash":
                b = bytearray(body)
                b[32] ^= 1
                body = bytes(b)
            if p.startswith("/tile/entries/") and m == "gzip":
                body = gzip.compress(body)
                extra.append(("Content-Encoding", "gzip"))
        self.reply(status, body, ctype, extra)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
