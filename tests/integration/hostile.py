#!/usr/bin/env python3
"""Hostile HTTP clients for 30-hostile-clients.sh, raw sockets only.
Each command prints its figures ("name value" lines after a "# what"
line) and exits 1 with "FAIL: ..." when what it saw breaks a bound.

  hostile.py hold PORT N FROM PROBE_FROM PATH LIMIT
      opens N idle connections from address FROM (each sends one byte of a
      request head, then nothing) and keeps them; all but
      LIMIT must be closed by the server; then, while they are held, GETs
      PATH once from PROBE_FROM (must answer 200 within 2 s) and once more
      from FROM (must be closed unanswered: FROM is at its limit).
  hostile.py bodies PORT PATH PID N CHUNKED SOURCES
      N concurrent POSTs of 1 MiB bodies to PATH (the last CHUNKED of them
      chunked, the rest with Content-Length: 1048576), spread over SOURCES
      loopback addresses (127.0.1.1, 127.0.1.2, ...); every one must be
      answered 413, and the server's resident memory (VmRSS of PID,
      sampled every 10 ms) must grow by less than 64 MiB.
  hostile.py heads PORT PID N SOURCES
      N connections spread over SOURCES loopback addresses (127.0.2.1,
      ...) each send 400,000 bytes of a request head that never ends (h2o
      alone keeps up to 417,792 bytes of head per connection for the whole
      request timeout); the server must reset every one within 3 s, long
      before its 10 s request timeout. Prints the time and the server's
      resident memory (VmRSS of PID) before, at its peak and after.
  hostile.py slow PORT TIMEOUT_MS
      sends a request head one byte every 100 ms (it would take 20 s):
      the server must close the connection within TIMEOUT_MS + 2 s.
  hostile.py slowread PORT PATH TIMEOUT_MS
      GETs PATH (a 4 MiB answer) four times, pipelined, with the smallest
      receive buffer, and reads 200 bytes every 200 ms (1 KB/s: the
      server sees progress at least every 1.5 s, but the average is under
      its 4 KiB/s floor): the server must reset the connection (seen in
      its TCP state, unread bytes or not) within TIMEOUT_MS + (bytes
      read) / 4096 s + 2 s. With progress alone it would serve it for
      hours.
  hostile.py slowexit PORT PATH PID
      GETs PATH the same way and reads up to 2,000 bytes every 200 ms
      (16 MiB would take an hour), then opens another connection that
      sends half a request head, then SIGTERMs PID: the process must exit
      within 5 s, both connections reset.
"""
import os, select, signal, socket, sys, threading, time

MIB = 1 << 20
WAIT = 60.0  # generous: the machine may be loaded


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("no VmRSS for pid %d" % pid)


def connect_all(port, sources, n):
    """n non-blocking connects, source address sources[i % len]; returns
    the connected sockets once every connect has finished (or failed)."""
    socks, pending = [], {}
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((sources[i % len(sources)], 0))
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        pending[s.fileno()] = s
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLOUT)
    end = time.monotonic() + WAIT
    while pending and time.monotonic() < end:
        for fd, _ in poller.poll(200):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                socks.append(s)
            else:
                s.close()
    if pending:
        fail("%d connects still pending after %.0f s" % (len(pending), WAIT))
    return socks


def closed_by_server(s):
    """True if the server has closed s (EOF or reset), without waiting."""
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def get(port, src, path):
    """GET path from src; returns (status or None if closed unanswered, ms)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    data = b""
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    ms = (time.monotonic() - t0) * 1000
    if not data.startswith(b"HTTP/1.1 "):
        return None, ms
    return int(data[9:12]), ms


def cmd_hold(port, n, src, probe_src, path, limit):
    socks = connect_all(port, [src], n)
    # A connect completes on this side before the server accepts it, and
    # when the burst overflows the server's accept queue the handshake's
    # last ACK is dropped: the server never sees that connection unless
    # something more arrives. So each connection sends one byte (a request
    # head that never completes, as idle as it gets), which the kernel
    # retransmits until the server has it.
    for s in socks:
        s.send(b"G")
    # The server closes refused connections at once: wait until all but
    # `limit` are closed. A server without the limit would close none,
    # then all at its request timeout.
    t0, end = time.monotonic(), time.monotonic() + WAIT
    while True:
        closed = sum(1 for s in socks if closed_by_server(s))
        if closed >= n - limit or time.monotonic() > end:
            break
        time.sleep(0.2)
    wait_ms = (time.monotonic() - t0) * 1000
    held = len(socks) - closed
    status, ms = get(port, probe_src, path)
    again, _ = get(port, src, path)
    print("# %d idle connections from %s" % (n, src))
    print("connected %d" % len(socks))
    print("closed_at_once %d" % closed)
    print("held_open %d" % held)
    print("refusals_seen_after_ms %.0f" % wait_ms)
    print("probe_from_%s_status %s" % (probe_src, status))
    print("probe_from_%s_ms %.0f" % (probe_src, ms))
    print("probe_from_%s_status %s" % (src, again))
    for s in socks:
        s.close()
    if held != limit:
        fail("%d connections from %s were open when the rest were closed, want %d"
             % (held, src, limit))
    if status != 200 or ms > 2000:
        fail("GET %s from %s: %s in %.0f ms, want 200 within 2 s" % (path, probe_src, status, ms))
    if again is not None:
        fail("%s at its limit was still answered (%s)" % (src, again))


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, rss_kib(pid), False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


def cmd_bodies(port, path, pid, n, chunked, nsources):
    sources = ["127.0.1.%d" % (i + 1) for i in range(nsources)]
    before = rss_kib(pid)
    sampler = Sampler(pid)
    sampler.start()
    socks = connect_all(port, sources, n)
    if len(socks) != n:
        fail("only %d of %d connections made" % (len(socks), n))
    chunk = b"%x\r\n" % (64 << 10) + b"b" * (64 << 10) + b"\r\n"
    out, resp, reset = {}, {}, {}
    for i, s in enumerate(socks):
        if i >= n - chunked:
            head = b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" % path.encode()
            body = chunk * 16 + b"0\r\n\r\n"
        else:
            head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), MIB)
            body = b"a" * MIB
        out[s.fileno()] = memoryview(head + body)
        resp[s.fileno()] = b""
    by_fd = {s.fileno(): s for s in socks}
    open_fds = set(by_fd)
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLOUT)
    end = time.monotonic() + WAIT
    while open_fds and time.monotonic() < end:
        for fd, ev in poller.poll(200):
            s = by_fd[fd]
            if ev & select.POLLOUT and len(out[fd]) > 0:
                try:
                    k = s.send(out[fd][:256 << 10])
                    out[fd] = out[fd][k:]
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    out[fd], reset[fd] = out[fd][:0], True
            if len(out[fd]) == 0:
                poller.modify(fd, select.POLLIN)
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    b, reset[fd] = b"", True
                resp[fd] += b
                if not b:
                    poller.unregister(fd)
                    open_fds.discard(fd)
    time.sleep(0.5)
    sampler.stop = True
    sampler.join()
    after = rss_kib(pid)
    statuses = {}
    for fd in by_fd:
        r = resp[fd]
        # A server that answers and closes with the body unread (h2o does
        # not linger) resets the connection when more of the body comes,
        # and the reset may discard the answer before it is read: such a
        # connection is "reset", the server's own count of its 413s is
        # checked by the caller. One closed without an answer is "none".
        st = r[9:12].decode() if r.startswith(b"HTTP/1.1 ") else "reset" if reset.get(fd) else "none"
        statuses[st] = statuses.get(st, 0) + 1
        by_fd[fd].close()
    growth = sampler.peak - before
    print("# %d x 1 MiB bodies (%d chunked) from %d addresses to %s" % (n, chunked, nsources, path))
    for st in sorted(statuses):
        print("answered_%s %d" % (st, statuses[st]))
    print("unfinished %d" % len(open_fds))
    print("rss_before_kib %d" % before)
    print("rss_peak_kib %d" % sampler.peak)
    print("rss_after_kib %d" % after)
    print("rss_growth_kib %d" % growth)
    if open_fds:
        fail("%d connections neither answered nor closed in %.0f s" % (len(open_fds), WAIT))
    if statuses.get("413", 0) + statuses.get("reset", 0) != n or statuses.get("413", 0) == 0:
        fail("want %d answers 413 (or resets that may have lost one), got %s" % (n, statuses))
    if growth >= 64 * 1024:
        fail("resident memory grew by %d KiB (limit 64 MiB)" % growth)


def cmd_heads(port, pid, n, nsources):
    sources = ["127.0.2.%d" % (i + 1) for i in range(nsources)]
    before = rss_kib(pid)
    sampler = Sampler(pid)
    sampler.start()
    socks = connect_all(port, sources, n)
    if len(socks) != n:
        fail("only %d of %d connections made" % (len(socks), n))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 400000
    out = {s.fileno(): memoryview(head) for s in socks}
    by_fd = {s.fileno(): s for s in socks}
    open_fds = set(by_fd)
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLOUT)
    t0 = time.monotonic()
    end = t0 + WAIT
    while open_fds and time.monotonic() < end:
        for fd, ev in poller.poll(200):
            s = by_fd[fd]
            if ev & select.POLLOUT and len(out[fd]) > 0:
                try:
                    out[fd] = out[fd][s.send(out[fd][:256 << 10]):]
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    out[fd], reset[fd] = out[fd][:0], True
            if len(out[fd]) == 0:
                poller.modify(fd, select.POLLIN)
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    b = b""
                if b:
                    fail("the server answered a head it never got in full: %r" % b[:40])
                poller.unregister(fd)
                open_fds.discard(fd)
    all_ms = (time.monotonic() - t0) * 1000
    time.sleep(0.5)
    sampler.stop = True
    sampler.join()
    after = rss_kib(pid)
    for s in socks:
        s.close()
    print("# %d unfinished 400,000-byte request heads from %d addresses" % (n, nsources))
    print("all_reset_after_ms %.0f" % all_ms)
    print("still_open %d" % len(open_fds))
    print("rss_before_kib %d" % before)
    print("rss_peak_kib %d" % sampler.peak)
    print("rss_after_kib %d" % after)
    if open_fds or all_ms > 3000:
        fail("connections with an unfinished 400,000-byte head: %d of %d never reset, "
             "the last reset after %.0f ms (want all within 3 s)" % (len(open_fds), n, all_ms))


def cmd_slow(port, timeout_ms):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    closed_ms = None
    for i in range(len(head)):
        try:
            s.send(head[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed_ms = (time.monotonic() - t0) * 1000
            break
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
            if data:
                fail("the server answered a request it never got in full: %r" % data[:40])
            closed_ms = (time.monotonic() - t0) * 1000
            break
    s.close()
    print("# a request head sent one byte every 100 ms")
    print("bytes_sent_before_close %d" % i)
    print("closed_after_ms %s" % ("%.0f" % closed_ms if closed_ms is not None else "never"))
    if closed_ms is None or closed_ms > timeout_ms + 2000:
        fail("slow head not cut within %d ms + 2 s" % timeout_ms)


MIN_RATE = 4096  # GL_HTTP_MIN_SEND_RATE


def slow_reader(port, path):
    """A connection with a small receive buffer that has sent four
    pipelined GETs of path: with a 4 MiB answer, 16 MiB (about an entry
    tile's worst) of which the server's kernel takes at most 4 MB
    (tcp_wmem), so most of it waits in the server itself."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # the smallest receive buffer (Linux makes it 2,304 bytes): the
    # client's kernel takes little ahead of the reads, and each read of
    # about 1 KB reopens the window, so the server sees progress
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode() * 4)
    s.setblocking(False)
    return s


def ended(s):
    """True once the server has reset or closed s (its TCP state is no
    longer ESTABLISHED), even while what it sent before is still unread."""
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 1


def read_some(s, n):
    """Up to n bytes from s: b"" once the server closed or reset it, None
    when nothing is there yet."""
    try:
        return s.recv(n)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b""


def answer_done(data):
    """True once data holds a whole answer (head and Content-Length)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(data) >= end + 4 + int(value)
    return False


def cmd_slowread(port, path, timeout_ms):
    s = slow_reader(port, path)
    t0, data, cut = time.monotonic(), b"", False
    while time.monotonic() - t0 < timeout_ms / 1000 + 30:
        b = read_some(s, 200)
        if b == b"" or ended(s):
            cut = True
            break
        data += b or b""
        if answer_done(data):
            break
        limit = timeout_ms / 1000 + len(data) / MIN_RATE + 2
        if time.monotonic() - t0 > limit:
            break
        time.sleep(0.2)
    ms = (time.monotonic() - t0) * 1000
    s.close()
    limit_ms = timeout_ms + len(data) * 1000 / MIN_RATE + 2000
    # (the 2 s: up to 2,304 bytes acknowledged unread, 0.56 s at the floor,
    # the server's 0.5 s sweep, and slack for a loaded machine)
    print("# GET %s read at 1 KB/s" % path)
    print("bytes_read %d" % len(data))
    print("cut_after_ms %s" % ("%.0f" % ms if cut else "never"))
    if not data.startswith(b"HTTP/1.1 200 "):
        fail("GET %s: not answered 200: %r" % (path, data[:40]))
    if not cut:
        fail("a client reading at 1 KB/s was still served after %.0f ms (%d bytes read; "
             "want it reset within %.0f ms)" % (ms, len(data), limit_ms))
    if ms > limit_ms:
        fail("a client reading at 1 KB/s was reset after %.0f ms, want within %.0f ms"
             % (ms, limit_ms))


def exited(pid):
    """True once pid has exited (gone, or a zombie waiting for its parent)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def cmd_slowexit(port, path, pid):
    reader = slow_reader(port, path)
    data, end = b"", time.monotonic() + WAIT
    while len(data) < 4000:
        time.sleep(0.2)
        b = read_some(reader, 2000)
        if b == b"" or time.monotonic() > end:
            fail("GET %s: %d bytes, then %s" % (path, len(data), "closed" if b == b"" else "nothing"))
        data += b or b""
    head = socket.create_connection(("127.0.0.1", port))
    head.sendall(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)  # accepted and read before the listener closes
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while not exited(pid) and time.monotonic() - t0 < 6:
        data += read_some(reader, 2000) or b""
        time.sleep(0.2)
    ms = (time.monotonic() - t0) * 1000
    cut, head_cut = ended(reader), ended(head)
    reader.close()
    head.close()
    print("# SIGTERM with a slow reader and half a request head connected")
    print("bytes_read %d" % len(data))
    print("exit_after_ms %s" % ("%.0f" % ms if exited(pid) else "not yet"))
    if not exited(pid) or ms > 5000:
        fail("the server was still running %.0f ms after SIGTERM (want an exit within 5 s)" % ms)
    if answer_done(data) or not cut or not head_cut:
        fail("the connections were not cut: answer complete %s, reader cut %s, head cut %s"
             % (answer_done(data), cut, head_cut))


def main(a):
    if len(a) == 7 and a[0] == "hold":
        cmd_hold(int(a[1]), int(a[2]), a[3], a[4], a[5], int(a[6]))
    elif len(a) == 7 and a[0] == "bodies":
        cmd_bodies(int(a[1]), a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]))
    elif len(a) == 5 and a[0] == "heads":
        cmd_heads(int(a[1]), int(a[2]), int(a[3]), int(a[4]))
    elif len(a) == 3 and a[0] == "slow":
        cmd_slow(int(a[1]), int(a[2]))
    elif len(a) == 4 and a[0] == "slowread":
        cmd_slowread(int(a[1]), a[2], int(a[3]))
    elif len(a) == 4 and a[0] == "slowexit":
        cmd_slowexit(int(a[1]), a[2], int(a[3]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
