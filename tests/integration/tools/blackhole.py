#!/usr/bin/env python3
"""blackhole: a TCP server that accepts connections and never reads or
answers: a database host whose kernel completes the handshake while the
server itself is frozen (a primary stopped with SIGSTOP).

    blackhole.py PORT

Listens on 127.0.0.1:PORT (0: any free port) and prints "listening on
port N" once ready, then "conn" as each connection comes. Keeps every
connection open until killed. Test tool only.
"""
import socket
import sys


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(128)
    print("listening on port", s.getsockname()[1], flush=True)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)
        print("conn", flush=True)


if __name__ == "__main__":
    main()
