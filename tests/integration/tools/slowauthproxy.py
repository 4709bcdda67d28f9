#!/usr/bin/env python3
"""slowauthproxy: a TCP proxy in front of a PostgreSQL server whose new
sessions are slow to authenticate (an LDAP, RADIUS or PAM check, a slow
pooler): on a connection accepted once the file TRIGGER exists, the
server's first byte reaches the client at once (the answer to an
SSLRequest, or the first byte of the answer to the startup packet), and
the rest of what the server sends only DELAY ms after the connection was
accepted. Connections accepted before TRIGGER exists flow at once both
ways, as what clients send always does.

    slowauthproxy.py UPSTREAM_PORT DELAY_MS TRIGGER

Listens on 127.0.0.1 (a free port) and prints "listening on port N" once
ready, then "slow connection N" for each slow one it accepts. Runs until
killed. Test tool only.
"""
import asyncio
import os
import sys

# this directory: one byte pump and connection scaffold for both proxies
from delayproxy import end, listen, pump, sleep_until, splice


async def pump_slow(reader, writer, until):
    """The first byte at once, the rest from until (loop time) on."""
    first = await reader.read(1)
    if first:
        writer.write(first)
        await writer.drain()
    await sleep_until(until)
    if not first:
        end(writer)
        return
    await pump(reader, writer)


async def serve(upstream, delay, trigger):
    slow_n = 0

    async def handle(creader, cwriter):
        nonlocal slow_n
        until = asyncio.get_running_loop().time() + delay
        slow = os.path.exists(trigger)
        if slow:
            slow_n += 1
            print("slow connection %d" % slow_n, flush=True)
        back = (lambda r, w: pump_slow(r, w, until)) if slow else pump
        await splice(creader, cwriter, upstream, pump, back)

    await listen(handle)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) / 1000.0, sys.argv[3]))


if __name__ == "__main__":
    main()
