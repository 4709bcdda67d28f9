"""stubhttp: the serving half of the integration tests' stub HTTP servers
(a peer, a log or a proxy that answers what a test wants). The test's
python snippet says what to answer; this module answers it:

    import stubhttp
    def respond(method, path, body):
        return 404, b"no\\n"
    stubhttp.serve(respond)

run as `env PYTHONPATH="$TOOLS" python3 -u -c SNIPPET ARGS...` (TOOLS is
set by lib.sh), under lib.sh's spawn or in the background with stderr to
a file.

serve(respond, http11=False) listens on 127.0.0.1, a free port, prints
"(port N)" to stderr once listening (the line spawn waits for) and serves
until killed, each request in a thread of its own, the request log
silenced. For each GET or POST it calls respond(method, path, body),
body being the request's bytes (b"" without Content-Length); respond may
sleep (a late answer) and returns one of:

  (status, body) or (status, body, headers): the status, the headers (a
      dict, in its order), Content-Length (the body's length unless the
      headers give it) and the body: bytes, or an iterable of bytes
      written one after the other, each sent at once, its Content-Length
      in the headers (a generator that sleeps between them answers in
      part, then hangs);
  None: no answer at all.

respond may take a fourth argument: the request's headers (an
http.client.HTTPMessage). A client that left before the answer is
written is no error. With
http11 the server speaks HTTP/1.1 (a connection is kept for the next
request); else HTTP/1.0, one request a connection. Test tool only.
"""
import http.server
import inspect
import sys


def serve(respond, http11=False):
    with_headers = len(inspect.signature(respond).parameters) == 4

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if http11 else "HTTP/1.0"

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            args = (self.command, self.path, self.rfile.read(n) if n else b"")
            got = respond(*args, self.headers) if with_headers else respond(*args)
            if got is None:
                return
            status, body, headers = got if len(got) == 3 else (*got, {})
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for chunk in [body] if isinstance(body, bytes) else body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:
                pass

        do_GET = do_POST = answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("(port %d)" % server.server_address[1], file=sys.stderr, flush=True)
    server.serve_forever()
