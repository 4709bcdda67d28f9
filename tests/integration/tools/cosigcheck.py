#!/usr/bin/env python3
"""Test helper: every acknowledged cosignature verifies, with code
independent of the C implementation (tlog-cosignature v1, Ed25519).

  cosigcheck.py WITNESS_VKEY_FILE ACKS BODIES

ACKS: lines "<size> <cosignature line>" (the 200 answers to
add-checkpoint); BODIES/honest.<size>.ck: the checkpoint cosigned. Prints
the count; exits 1 with a reason if one does not verify.
"""
import base64, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

name, kid, kb = open(sys.argv[1]).read().strip().split("+", 2)
raw = base64.b64decode(kb)
if raw[0] != 4: sys.exit("cosigcheck.py: not a cosignature (0x04) key")
pub = Ed25519PublicKey.from_public_bytes(raw[1:])
n = 0
for line in open(sys.argv[2]):
    if not line.strip(): continue
    size, dash, who, b64 = line.split()
    blob = base64.b64decode(b64)
    if dash != "\u2014" or who != name or blob[:4].hex() != kid or len(blob) != 76:
        sys.exit("cosigcheck.py: size %s: not a cosignature by %s: %s" % (size, name, line.strip()))
    note = open("%s/honest.%s.ck" % (sys.argv[3], size)).read()
    text = note[:note.index("\n\n") + 1]
    t = int.from_bytes(blob[4:12], "big")
    try:
        pub.verify(blob[12:], ("cosignature/v1\ntime %d\n" % t + text).encode())
    except InvalidSignature:
        sys.exit("cosigcheck.py: the cosignature of size %s does not verify" % size)
    n += 1
print("%d cosignatures verified" % n)
