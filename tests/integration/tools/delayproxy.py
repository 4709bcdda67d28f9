#!/usr/bin/env python3
"""delayproxy: a TCP proxy that delays everything a client sends by a fixed
time before the server sees it (answers flow back at once), so each HTTP
request reaches the server DELAY ms late: a witness "DELAY ms away".

    delayproxy.py [--rate BYTES_PER_S] UPSTREAM_PORT DELAY_MS [LISTEN_PORT]

Listens on 127.0.0.1 (LISTEN_PORT, or any free port) and prints
"listening on port N" once ready. Bytes keep their order; a chunk read at
time t is written at t + DELAY (a delay line). With --rate, what a client
sends also reaches the server at most BYTES_PER_S a second (a slow link:
a large message takes its size / BYTES_PER_S to arrive). Runs until
killed. Test tool only.
"""
import asyncio
import sys


RATE = 0  # bytes a second from client to server; 0: unlimited


async def write_paced(writer, data):
    """Writes data, at most RATE bytes a second when RATE is set."""
    if not RATE:
        writer.write(data)
        await writer.drain()
        return
    step = max(1, RATE // 50)  # 20 ms slices
    for i in range(0, len(data), step):
        writer.write(data[i:i + step])
        await writer.drain()
        await asyncio.sleep(len(data[i:i + step]) / RATE)


async def pump_delayed(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def feed():
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return

    async def drain():
        while True:
            when, data = await queue.get()
            await sleep_until(when)
            if not data:
                end(writer)
                return
            await write_paced(writer, data)

    await asyncio.gather(feed(), drain())


async def sleep_until(when):
    """Sleeps until loop time `when` (at once if it has passed)."""
    wait = when - asyncio.get_running_loop().time()
    if wait > 0:
        await asyncio.sleep(wait)


def end(writer):
    """Passes an end of stream on (half-close), where the transport can."""
    if writer.can_write_eof():
        writer.write_eof()


async def pump(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            end(writer)
            return
        writer.write(data)
        await writer.drain()


async def splice(creader, cwriter, upstream, forward, back):
    """One proxied connection: connects to 127.0.0.1:upstream, runs
    forward(client reader, upstream writer) and back(upstream reader,
    client writer) until both end, then closes both sides (the client's
    at once if the upstream refuses). The proxies here share it."""
    try:
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", upstream)
    except OSError:
        cwriter.close()
        return
    try:
        await asyncio.gather(forward(creader, uwriter), back(ureader, cwriter))
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        uwriter.close()
        cwriter.close()


async def listen(handle, port=0):
    """Serves handle on 127.0.0.1:port (0: any free port), printing
    "listening on port N" once ready; runs until killed."""
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("listening on port %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def serve(upstream, delay):
    async def handle(creader, cwriter):
        await splice(creader, cwriter, upstream,
                     lambda r, w: pump_delayed(r, w, delay), pump)

    await listen(handle, int(sys.argv[3]) if len(sys.argv) > 3 else 0)


def main():
    global RATE
    if len(sys.argv) > 2 and sys.argv[1] == "--rate":
        RATE = int(sys.argv[2])
        del sys.argv[1:3]
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) / 1000.0))


if __name__ == "__main__":
    main()
