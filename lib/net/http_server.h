/*
 * http_server: the HTTP/1.1 server adapter (h2o 2.2.5, libuv flavour) shared
 * by glasslogd and glasslog-witness. Plain TCP only: TLS is a proxy's job.
 * Only http_server.c includes h2o.h; this header needs nothing but libuv.
 *
 * Threading: everything here runs on the thread that runs `loop`. Every
 * function below, including the gl_http_pending_* ones and the stats
 * accessor, must be called on that thread (a worker thread hands its result
 * back with uv_queue_work's after_work_cb or a uv_async_t, then replies).
 *
 * Connections (what a hostile client can hold):
 *   - at most max_connections open, and at most max_conns_per_addr from
 *     one client (an IPv4 address or an IPv6 /64); a connection over
 *     either is accepted and closed at once, counted in the stats, and
 *     the refusals are logged at most every 10 s. Daemons size
 *     max_connections with gl_http_fd_budget, so connections can never
 *     take the descriptors storage needs;
 *   - a request must arrive in full within the request timeout of accept
 *     or of the previous response, however slowly its bytes trickle in;
 *     a response must keep being read, and fast enough on average (see
 *     idle_timeout_ms and GL_HTTP_MIN_SEND_RATE);
 *   - an unfinished request head is held only up to max_head bytes (the
 *     connection is reset past it; see max_head);
 *   - a body is held in memory only up to max_body bytes (below).
 *
 * Request lifecycle:
 *   1. h2o parses the request head and reads the whole body, at most
 *      max_body bytes: a Content-Length above it gets h2o's 413 right
 *      after the head, before any of the body is read; a chunked body is
 *      cut with a 413 as soon as its decoded size reaches max_body (h2o
 *      2.2.5 counts ">=", so a chunked body must stay under max_body,
 *      while a Content-Length body may be exactly max_body). Either 413
 *      closes the connection. h2o caps the request head at 100 headers
 *      and 417,792 bytes (H2O_MAX_REQLEN, fixed when libh2o was built); a
 *      larger head gets a 400.
 *   2. The adapter refuses a head whose body framing is ambiguous: more
 *      than one Content-Length, more than one Transfer-Encoding, both
 *      together, or a folded (obs-fold) header line. That gets 400 with
 *      the reason and "Connection: close", and nothing after it is read
 *      (RFC 9112 6.1, 6.3, 5.2: a proxy in front that frames the body
 *      differently must not be able to slip a second request through).
 *      It refuses request targets that do not start with '/', contain a
 *      NUL (400) or exceed GL_HTTP_MAX_TARGET bytes (414), then calls the
 *      handler once with a struct gl_http_req view.
 *   3. The handler answers right away (gl_http_reply*), or calls
 *      gl_http_defer and answers later through the pending handle. A handler
 *      that returns without doing either gets a 500 sent for it.
 * The view and everything it points to (path, body, header values) belong
 * to the request: they are valid during the handler call, and afterwards
 * only while gl_http_pending_alive() says so. Copy what a worker needs.
 *
 * Deferred replies: a request can die before it is answered: the client
 * hung up (seen within liveness_check_ms by polling the socket of every
 * deferred request for a FIN or an error, which bytes the client sent
 * after its request do not hide; a client that only shuts down its
 * sending side counts as gone too), or the reply could not be written.
 * A shutdown does not end deferred requests: it waits for them. The
 * pending handle is
 * refcounted, one reference for the caller and one for the request (held
 * through an h2o_mem_alloc_shared destructor on the request's pool), so it
 * stays valid until the caller releases it and simply reports "not alive"
 * once the request is gone: replying then is a harmless no-op
 * (GL_ESTATE), never a use-after-free.
 *
 * Shutdown: gl_http_server_close() closes the listener, stops keep-alive
 * (every later reply carries "Connection: close"), shuts down the read side
 * of idle keep-alive connections so h2o closes them, and lets requests in
 * progress (including deferred ones) finish. GL_HTTP_CLOSE_GRACE_MS after
 * the call every connection still open that carries no deferred request
 * (an answer still being written, a request still arriving) is reset, so
 * a slow client cannot hold the shutdown; deferred requests are still
 * answered, and their answers written under the usual rules. When the
 * last connection is gone the adapter's own handles are closed and
 * on_closed runs. Then, once
 * uv_run has returned, gl_http_server_free() releases h2o's context (it
 * closes h2o's internal timers and runs one UV_RUN_NOWAIT pass to finish
 * those closes), after which uv_loop_close() returns 0. Order:
 *   gl_http_server_close -> uv_run until it returns -> gl_http_server_free
 *   -> uv_loop_close.
 * gl_http_server_new and gl_http_server_free must not be called from inside
 * a loop callback (h2o's context disposal runs the loop).
 *
 * Memory: h2o aborts the process on allocation failure (h2o_mem_alloc), so
 * the request path does too; there is no partial-allocation state.
 *
 * Process state: gl_http_server_new sets SIGPIPE to SIG_IGN if it is still
 * at its default (libuv writes with write(2); a client that resets its
 * connection must not kill the daemon). A handler the program set is kept.
 *
 * Not JSON: the few errors h2o sends before a request exists (malformed
 * request line or head, head over H2O_MAX_REQLEN) are its own plain-text
 * 400s; 413 and 417 come from h2o too, with h2o's one-line text bodies
 * ("request entity is too large", text/plain).
 */
#ifndef GL_NET_HTTP_SERVER_H
#define GL_NET_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "http_header.h"

/* Longest request target (path plus '?' and query) handed to the handler;
 * longer ones get 414. */
#define GL_HTTP_MAX_TARGET 8192
/* Request heads (request line and header fields): the default cap, and
 * the range of max_head. The largest is h2o's own H2O_MAX_REQLEN. */
#define GL_HTTP_DEFAULT_MAX_HEAD ((size_t)64 << 10)
#define GL_HTTP_MIN_HEAD ((size_t)1024)
#define GL_HTTP_MAX_HEAD_LIMIT ((size_t)(8192 + 4096 * 100))
/* Reply bodies held at once (max_held): the default, and the least
 * accepted. A reply of at most GL_HTTP_SMALL_REPLY bytes is always sent. */
#define GL_HTTP_DEFAULT_MAX_HELD ((size_t)256 << 20)
#define GL_HTTP_MIN_HELD ((size_t)1 << 20)
#define GL_HTTP_SMALL_REPLY ((size_t)64 << 10)
/* Caps on the configuration. */
#define GL_HTTP_MAX_BODY_LIMIT ((size_t)256 << 20)
#define GL_HTTP_MAX_CONNECTIONS_LIMIT 65536u
#define GL_HTTP_DEFAULT_CONNS_PER_ADDR 64u
/* The slowest average rate, in bytes per second, at which a client must
 * take (acknowledge) a response once the request timeout has passed since
 * the response began: a response of B bytes is reset if not taken within
 * the request timeout + B / GL_HTTP_MIN_SEND_RATE s (about 68 min for a
 * 16 MiB one). 4 KiB/s is 32 kbit/s: a client on a poor mobile link (GPRS)
 * still meets it. Without it a client that reads one segment now and
 * then holds the response in memory, and its connection, for hours. */
#define GL_HTTP_MIN_SEND_RATE 4096u
/* How long a shutdown waits for connections without a deferred request
 * before resetting them (see Shutdown above). */
#define GL_HTTP_CLOSE_GRACE_MS 2000u
/* gl_http_fd_budget refuses to leave fewer connections than this, and
 * takes a reserve of at most GL_HTTP_MAX_FD_RESERVE descriptors. */
#define GL_HTTP_MIN_CONNECTIONS 64u
#define GL_HTTP_MAX_FD_RESERVE (1u << 20)
/* Caps on one reply. */
#define GL_HTTP_MAX_REPLY_HEADERS 16
#define GL_HTTP_MAX_REPLY_BODY ((size_t)256 << 20)
/* Error reasons longer than this are cut (at a UTF-8 boundary). */
#define GL_HTTP_MAX_REASON 512

struct gl_http_server_config {
    /* "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), numeric addresses only;
     * port 0 picks a free port (see gl_http_server_port). Required. */
    const char *listen;
    /* Largest request body accepted (h2o answers 413 above it).
     * 0 = 1 MiB; at most GL_HTTP_MAX_BODY_LIMIT. */
    size_t max_body;
    /* Value of the Server header; NULL = "glasslog/<GL_VERSION>". At most
     * 64 printable ASCII characters. */
    const char *server_name;
    /* Connections open at once; more are accepted and closed at once.
     * 0 = 1024; at most GL_HTTP_MAX_CONNECTIONS_LIMIT. A daemon derives it
     * from its file-descriptor limit with gl_http_fd_budget. */
    unsigned max_connections;
    /* Connections open at once from one client: an IPv4 address, or an
     * IPv6 /64 (see addr_limit.h). More are accepted and closed at once.
     * 0 = GL_HTTP_DEFAULT_CONNS_PER_ADDR. */
    unsigned max_conns_per_addr;
    /* The request timeout (0 = 10000 ms), in two parts:
     *  - a whole request (head and body) must arrive within it, counted
     *    from accept or from the end of the previous response (h2o's
     *    http1 req_timeout: a deadline, not reset when bytes arrive, so an
     *    idle connection and one dribbling its head or body are closed
     *    alike);
     *  - a response being written must make progress (the client reads
     *    some of it) within it, and from then on be taken at an average
     *    of at least GL_HTTP_MIN_SEND_RATE since it began, else the
     *    connection is reset (checked by the sweep, every
     *    liveness_check_ms; counted in conns_stalled).
     * A request the handler deferred has no deadline here (see the
     * liveness check). */
    unsigned idle_timeout_ms;
    /* How often the sockets of deferred requests are checked for a client
     * that went away, and connections for an oversized head (below).
     * 0 = 500 ms. */
    unsigned liveness_check_ms;
    /* Most bytes of an unfinished request head a connection may hold: a
     * connection still reading a head (request line and header fields)
     * with more than this buffered is reset, counted in conns_big_head.
     * Checked by the sweep, every liveness_check_ms: in between a head
     * may grow past it (never past h2o's H2O_MAX_REQLEN, 417,792 bytes),
     * and a longer head that arrives whole between two sweeps is parsed
     * at once. As a connection over it lasts one sweep at most, what all
     * unfinished heads hold is about max_connections x max_head plus what
     * clients can send in two sweep periods (and h2o's buffers round up
     * to a power of two); without it each connection could hold 417,792
     * bytes for the whole request timeout. 0 = GL_HTTP_DEFAULT_MAX_HEAD
     * (64 KiB: a target of GL_HTTP_MAX_TARGET and ordinary headers fit
     * many times over); else GL_HTTP_MIN_HEAD .. GL_HTTP_MAX_HEAD_LIMIT. */
    size_t max_head;
    /* Most bytes of reply bodies held at once over all connections: a
     * body is held from its reply until its client has taken it, or its
     * connection is reset (a client that reads slowly, or not at all, as
     * above). A reply of more than GL_HTTP_SMALL_REPLY bytes that would
     * take the total past it is answered 503 with Retry-After: 1 and the
     * reason instead (counted in replies_over_held); smaller ones are
     * always sent (all of them together are bounded by max_connections x
     * GL_HTTP_SMALL_REPLY). 0 = GL_HTTP_DEFAULT_MAX_HELD; at least
     * GL_HTTP_MIN_HELD. */
    size_t max_held;
};

/* The request as the handler sees it. All strings are NUL-terminated and
 * owned by the request (see the lifetime rule above). */
struct gl_http_req {
    const char *method;  /* "GET", "POST", ... as received */
    const char *path;    /* target up to '?', as received (no decoding or
                          * normalisation); starts with '/' */
    const char *query;   /* after the first '?', "" when none */
    const uint8_t *body; /* never NULL; body_len bytes, may hold NULs */
    size_t body_len;
};

/* The handler: called once per request, on the loop thread. Returns 0 once
 * it has answered (gl_http_reply*) or deferred (gl_http_defer) the
 * request; a negative GL_E* code, or 0 without answering or deferring,
 * makes the adapter answer 500 if the request is still unanswered. */
typedef int (*gl_http_handler)(void *ctx, struct gl_http_req *req);

struct gl_http_server;
struct gl_http_pending;

/* Every status GL_HTTP_STAT_MIN..GL_HTTP_STAT_MAX is counted one by one in
 * gl_http_stats.by_code. */
#define GL_HTTP_STAT_MIN 100
#define GL_HTTP_STAT_MAX 599
#define GL_HTTP_STAT_NCODES (GL_HTTP_STAT_MAX - GL_HTTP_STAT_MIN + 1)

struct gl_http_stats {
    /* Responses by class: [1]..[5] for 1xx..5xx, [0] anything else.
     * Includes the errors h2o sends by itself (400, 413, 417, ...). */
    uint64_t by_class[6];
    /* by_code[i]: responses with status GL_HTTP_STAT_MIN + i. */
    uint64_t by_code[GL_HTTP_STAT_NCODES];
    uint64_t requests;            /* requests handed to the handler */
    uint64_t conns_accepted;      /* connections served */
    uint64_t conns_rejected;      /* closed at once: over max_connections, or
                                   * during shutdown (a peer that reset
                                   * before it was admitted is not counted) */
    uint64_t conns_rejected_addr; /* closed at once: over max_conns_per_addr */
    uint64_t conns_stalled;       /* reset: a response made no progress,
                                   * or was taken too slowly */
    uint64_t conns_big_head;      /* reset: an unfinished request head over
                                   * max_head */
    uint64_t replies_over_held;   /* large replies answered 503: max_held
                                   * reached */
    uint64_t held_bytes;          /* reply bodies held now */
    uint64_t conns_active;        /* open now */
    uint64_t pending;             /* deferred requests not answered yet */
    uint64_t client_gone;         /* deferred requests whose client left first */
};

/* 1 if addr is a listen address the server takes ("A.B.C.D:PORT" or
 * "[V6]:PORT", numeric, port 0 to 65535), else 0: for option checks
 * before anything is opened. */
int gl_http_listen_valid(const char *addr);

/* Raises the process's soft RLIMIT_NOFILE to its hard limit and sets
 * *max_connections to what is left for connections once reserve_fds are
 * set aside for everything else the process opens (storage, outgoing
 * connections, libuv's own descriptors, stdio), capped at
 * GL_HTTP_MAX_CONNECTIONS_LIMIT. Logs the limits. GL_ERANGE (logged) if
 * that leaves fewer than GL_HTTP_MIN_CONNECTIONS. Call once at start. */
int gl_http_fd_budget(unsigned reserve_fds, unsigned *max_connections);
/* The open-file limits; RLIM_INFINITY is UINT64_MAX. */
struct gl_http_fd_limits {
    uint64_t soft, hard;
};
/* The rule gl_http_fd_budget applies, for a process that explains a
 * refusal in its own words before it opens anything: 0 if the soft
 * open-file limit, as it is now (nothing is raised), holds reserve_fds
 * descriptors and GL_HTTP_MIN_CONNECTIONS connections beside; GL_ERANGE
 * if not; GL_EINVAL if the limits cannot be read or reserve_fds is above
 * GL_HTTP_MAX_FD_RESERVE. *lim (the caller's) gets the limits whenever
 * they were read. Logs nothing. */
int gl_http_fd_fits(unsigned reserve_fds, struct gl_http_fd_limits *lim);
/* The raise of gl_http_fd_budget alone, for a process that opens many
 * descriptors (storage) before it sizes its connections: call it first.
 * 0, or GL_EINVAL if the limits cannot be read (a refused raise is only
 * logged). */
int gl_http_fd_raise(void);

/* Creates a server listening on cfg->listen and serving on `loop` (which
 * the caller owns and runs). handler(ctx, req) is called for every request.
 * The configuration is copied. *out is the caller's: gl_http_server_close,
 * run the loop, then gl_http_server_free. Returns GL_EINVAL (bad config or
 * address), GL_EIO (socket/bind/listen failed; logged), GL_ENOMEM. Call
 * outside loop callbacks. */
int gl_http_server_new(uv_loop_t *loop, const struct gl_http_server_config *cfg,
                       gl_http_handler handler, void *ctx, struct gl_http_server **out);
/* The TCP port actually bound (useful with port 0). */
uint16_t gl_http_server_port(const struct gl_http_server *srv);
/* Copies the counters into *out. */
void gl_http_server_stats(const struct gl_http_server *srv, struct gl_http_stats *out);
/* Starts a graceful shutdown (see above); may be called from a handler or
 * any loop callback, more than once (later calls are ignored). on_closed
 * (may be NULL) runs on the loop thread once every connection and handle
 * of the adapter is closed; it may be the last thing keeping the loop
 * alive. Deferred requests still need their answer (or their release). */
void gl_http_server_close(struct gl_http_server *srv, void (*on_closed)(void *arg),
                          void *arg);
/* 1 once the shutdown has completed (on_closed has run), else 0. */
int gl_http_server_is_closed(const struct gl_http_server *srv);
/* Frees the server. Only after the shutdown completed and uv_run returned;
 * outside loop callbacks. If the shutdown has not completed, logs an error
 * and leaks the server instead of freeing memory h2o still uses.
 * gl_http_server_free(NULL) is a no-op. */
void gl_http_server_free(struct gl_http_server *srv);

/* Finds request header `name` (case-insensitive, at most 128 bytes); on
 * success *value and *len point at the first such header's value (not
 * NUL-terminated, owned by the request). GL_ENOTFOUND if absent,
 * GL_EINVAL for a bad name. "Host" works; Content-Length,
 * Transfer-Encoding, Expect and Upgrade are consumed by h2o and never
 * found (use body_len). */
int gl_http_req_header(const struct gl_http_req *req, const char *name,
                       const char **value, size_t *len);
/* The numeric address of the TCP peer ("127.0.0.1", "::1"), "" if unknown.
 * Behind a proxy this is the proxy: read X-Forwarded-For yourself if you
 * trust it. Owned by the request. */
const char *gl_http_req_peer(const struct gl_http_req *req);

/* Answers req: status 200..599 (not 1xx), Content-Type content_type (NULL:
 * none), the given extra headers (at most GL_HTTP_MAX_REPLY_HEADERS; token
 * names, values without CR/LF/NUL or other control bytes; Content-Length,
 * Transfer-Encoding, Connection, Content-Type, Server, Date and
 * X-Content-Type-Options are the adapter's and refused), and len bytes of
 * body, which are copied into the
 * request's pool (the caller may free body right after). Every answer,
 * errors included, says "X-Content-Type-Options: nosniff", so a browser
 * never runs a JSON or text answer as a script. Content-Length is
 * always set (HTTP/1.1 replies are never chunked), except for 204 and 304
 * which must have an empty body. HEAD requests get the headers only.
 * Returns GL_EINVAL, GL_ETOOBIG (len > GL_HTTP_MAX_REPLY_BODY), or
 * GL_ESTATE if req was already answered or is dead (nothing sent). */
int gl_http_reply(struct gl_http_req *req, int status, const char *content_type,
                  const struct gl_http_header *headers, size_t nheaders, const void *body,
                  size_t len);
/* Answers {"error":"<reason, JSON-escaped>"} as application/json, with
 * "Cache-Control: no-store" (an error describes the moment: a cache must
 * not serve it later). reason may be NULL (the standard reason phrase is
 * used). Same errors. */
int gl_http_reply_error(struct gl_http_req *req, int status, const char *reason);
/* Answers text (a C string) as "text/plain; charset=utf-8". */
int gl_http_reply_text(struct gl_http_req *req, int status, const char *text);

/* Defers req: the handler returns without answering and someone answers
 * later, on the loop thread, through *out. *out holds one reference owned
 * by the caller, dropped with gl_http_pending_release. GL_ESTATE if req
 * was already answered or deferred. */
int gl_http_defer(struct gl_http_req *req, struct gl_http_pending **out);
/* Asks for cb(arg), on the loop thread, if the request dies before it is
 * answered (its client went away or its connection closed): at most once,
 * from inside the adapter, which is done with the request by then (the
 * caller typically releases p there). Replaces an earlier callback; NULL
 * cancels it. Nothing is called for a request that is no longer alive. */
void gl_http_pending_on_gone(struct gl_http_pending *p, void (*cb)(void *arg), void *arg);
/* 1 while the request can still be answered, 0 once it was answered or
 * died (client gone, shutdown). p may be NULL (0). */
int gl_http_pending_alive(const struct gl_http_pending *p);
/* The live request (e.g. to read its headers again), or NULL. */
struct gl_http_req *gl_http_pending_req(struct gl_http_pending *p);
/* gl_http_reply / gl_http_reply_error on the deferred request; GL_ESTATE
 * (nothing sent, nothing else happens) if it is no longer alive. */
int gl_http_pending_reply(struct gl_http_pending *p, int status, const char *content_type,
                          const struct gl_http_header *headers, size_t nheaders,
                          const void *body, size_t len);
int gl_http_pending_reply_error(struct gl_http_pending *p, int status,
                                const char *reason);
/* Drops the caller's reference. If the request is still alive and
 * unanswered it is answered 500 first (so a forgotten request cannot hang
 * the connection). NULL is a no-op. */
void gl_http_pending_release(struct gl_http_pending *p);

#endif
