#!/usr/bin/env python3
"""Test helper: a chain of checkpoints of one log with RFC 9162 consistency
proofs, computed (and signed) independently of the C code.

  chain.py TAG N STEP OUT [LOGKEY BODIES]

writes lines "old size root proof" to OUT for sizes STEP, 2 STEP, ...,
N STEP (leaves H(0x00 || TAG i)), each with its consistency proof from the
previous size (base64, comma-separated; empty from 0). TAG "fork" makes a
forked chain: sizes one more than the honest chain's, never from size 0.
With LOGKEY (a note key file, PRIVATE+KEY+<name>+<id>+<base64>) it also
writes, for each size S, BODIES/TAG.S.ck (the checkpoint, origin = the key
name, signed as a C2SP signed note) and BODIES/TAG.S (the tlog-witness
add-checkpoint body: "old M", proof lines, empty line, signed checkpoint).
"""
import base64, functools, hashlib, os, sys

def H(b): return hashlib.sha256(b).digest()
tag, n, step, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
L = [H(b"\x00" + (tag + str(i)).encode()) for i in range(n * step + 2)]

@functools.lru_cache(maxsize=None)
def mth(a, b):
    if b - a == 0: return H(b"")
    if b - a == 1: return L[a]
    k = 1
    while k * 2 < b - a: k *= 2
    return H(b"\x01" + mth(a, a + k) + mth(a + k, b))

def sub(m, a, b, full):
    if m == b - a: return [] if full else [mth(a, b)]
    k = 1
    while k * 2 < b - a: k *= 2
    if m <= k: return sub(m, a, a + k, full) + [mth(a + k, b)]
    return sub(m - k, a + k, b, False) + [mth(a, a + k)]

def signer(path):
    """(name, sign(text) -> signature line) from a Go note private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    f = open(path).read().strip().split("+", 4)
    if len(f) != 5 or f[:2] != ["PRIVATE", "KEY"]: sys.exit("chain.py: not a note key: " + path)
    name, raw = f[2], base64.b64decode(f[4])
    if raw[0] != 1: sys.exit("chain.py: not an Ed25519 note key")
    k = Ed25519PrivateKey.from_private_bytes(raw[1:])
    pub = k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = H(name.encode() + b"\n\x01" + pub)[:4]
    return name, lambda text: "\u2014 %s %s\n" % (name, base64.b64encode(kid + k.sign(text.encode())).decode())

e = lambda h: base64.b64encode(h).decode()
off = 1 if tag == "fork" else 0  # the fork's sizes are never the chain's
sign = signer(sys.argv[5]) if len(sys.argv) > 5 else None
with open(out, "w") as f:
    for i in range(2 if off else 1, n + 1):  # a fork from 0 would be a first checkpoint
        s, old = i * step + off, (i - 1) * step
        proof = sub(old, 0, s, True) if old > 0 else []
        f.write("%d %d %s %s\n" % (old, s, e(mth(0, s)), ",".join(e(h) for h in proof)))
        if sign:
            name, line = sign
            text = "%s\n%d\n%s\n" % (name, s, e(mth(0, s)))
            note = text + "\n" + line(text)
            base = os.path.join(sys.argv[6], "%s.%d" % (tag, s))
            open(base + ".ck", "w").write(note)
            open(base, "w").write("old %d\n" % old + "".join(e(h) + "\n" for h in proof) + "\n" + note)
