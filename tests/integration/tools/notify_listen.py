#!/usr/bin/env python3
"""A fake service manager's notify socket (sd_notify protocol): binds an
AF_UNIX datagram socket at PATH, writes "bound" to stdout, then appends
every datagram received to OUT, one per line with its newlines shown as
"|", until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("bound", flush=True)
while True:
    data = s.recv(8192)
    with open(out, "a") as f:
        f.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
        f.flush()
        os.fsync(f.fileno())
