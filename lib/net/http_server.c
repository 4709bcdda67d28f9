/*
 * http_server: h2o 2.2.5 (libuv) behind a small request/reply API. See
 * http_server.h for the contract; this comment is about the inside.
 *
 * Objects and who frees them:
 *   - struct gl_http_server (malloc): the h2o global config and context,
 *     the sweep timer, the list of connections, the list of deferred
 *     requests, the counters. Freed by gl_http_server_free, only once
 *     `closed` is set (every handle below is closed).
 *   - the listener (malloc'd uv_tcp_t, data = server): freed in its close
 *     callback.
 *   - struct conn (h2o_mem_alloc, one per accepted TCP connection): embeds
 *     the uv_tcp_t handed to h2o_uv_socket_create. h2o owns the socket from
 *     then on and closes the handle itself; our close callback (the second
 *     argument of h2o_uv_socket_create, run after h2o freed its socket)
 *     unlinks and frees the conn. Connections refused over max_connections
 *     or max_conns_per_addr never reach h2o and are closed by us with the
 *     same callback.
 *   - srv->clients (addr_limit): served connections per client, counted
 *     at accept (admit) and released in on_conn_closed; a conn knows its
 *     key and whether it was counted.
 *   - struct req_impl (one per request, in the request's pool via
 *     h2o_mem_alloc_shared): the view given to the handler. Its destructor
 *     (req_dispose) runs when h2o disposes of the request: it unlinks it
 *     from the deferred list and tells the pending handle.
 *   - struct gl_http_pending (malloc): refs = caller's + the request's. The
 *     request's reference is dropped by req_dispose, the caller's by
 *     gl_http_pending_release; the last one frees it.
 * All of this is touched only on the loop thread, so plain ints suffice.
 *
 * Why the sweep timer: h2o's HTTP/1 code stops reading a connection once
 * a request is complete and arms no timer until the response is sent, so
 * it never notices a client that leaves while a reply is deferred. Every
 * liveness_check_ms the sweep polls (POLLRDHUP, consuming nothing, h2o not
 * reading) the socket of each deferred request; a FIN (even one behind
 * bytes the client sent after its request, which stay unread) or a socket
 * error means the client is gone, and the request is ended by sending an
 * empty 499 with "Connection: close": h2o then closes the connection and
 * disposes of the request, which the pending handle sees.
 * (TCP cannot tell a client that closed from one that only shut down its
 * sending side and still reads; HTTP/1.1 clients and proxies do not do
 * the latter, so EOF is taken as "gone", as h2o does for idle ones.)
 * While shutting down the sweep also shuts down the read side of
 * connections that sit idle between requests (h2o reading, nothing
 * buffered, nothing being written): h2o reads EOF and closes them. h2o
 * 2.2's HTTP/1 has no shutdown hook of its own (H2O_HTTP1_CALLBACKS has
 * request_shutdown = NULL), hence this; setting ctx.shutdown_requested
 * makes it answer requests parsed from then on with "Connection: close".
 * GL_HTTP_CLOSE_GRACE_MS into the shutdown the sweep resets, once, every
 * connection that carries no deferred request (reset_rest): answers in
 * flight have had the grace to finish, and a slow reader or a client
 * halfway through a request must not keep the process alive.
 * The sweep also watches every response being written (check_progress):
 * h2o arms no timer then, so a client that never reads, or reads a
 * segment now and then, would keep its connection and the response
 * forever; a response must progress within the request timeout and be
 * taken at GL_HTTP_MIN_SEND_RATE on average. And it resets a connection
 * whose unfinished request head has grown past max_head (check_head): h2o
 * lets one grow to H2O_MAX_REQLEN for the whole request timeout. Walking
 * all connections costs O(connections) per tick, a few microseconds per
 * thousand (plus at most max_head bytes scanned per connection over the
 * cap). The timer runs only while there is something to sweep: a
 * deferred request or an open connection.
 *
 * Timeouts otherwise are h2o's: http1.req_timeout is armed when h2o starts
 * reading a request (at accept, and after each response) and cleared when
 * the request is complete; reads do not re-arm it. So it is a deadline for
 * idle keep-alive connections and for a whole head and body, which is
 * what defeats slowloris (test_http checks a client dribbling its head and
 * its body).
 *
 * Body framing: h2o 2.2.5 settles a head with conflicting Content-Length
 * and Transfer-Encoding fields by itself and keeps the connection; on_req
 * reads the head again as it arrived (framing_problem) and refuses such a
 * request with 400 and a close before the handler sees it.
 *
 * Loop lifetime: h2o_context_init creates a uv_async_t (its inter-thread
 * queue, unused here) that would keep uv_run from ever returning; it is
 * unref'd right after creation. h2o's timers do not stop when their last
 * entry goes away, so once every connection is closed the idle ones are
 * stopped, and uv_run returns as soon as the server is closed. The handles
 * h2o itself created are closed by h2o_context_dispose (in
 * gl_http_server_free), which runs the loop once (UV_RUN_NOWAIT) to finish
 * those closes: hence "free outside loop callbacks, after uv_run".
 */
#include "net/http_server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "net/addr_limit.h"
#include "text.h"
#include "utf8.h"

#ifndef GL_VERSION
#define GL_VERSION "dev"
#endif

#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_MAX_CONNECTIONS 1024u
#define DEFAULT_IDLE_TIMEOUT_MS 10000u
#define DEFAULT_LIVENESS_MS 500u
#define CLOSING_SWEEP_MS 50u
#define REFUSAL_REPORT_MS 10000u
#define LISTEN_BACKLOG 511
#define MAX_SERVER_NAME 64
#define MAX_METHOD 32
#define MAX_HEADER_NAME 128
#define MAX_HEADER_VALUE 4096
#define MAX_CONTENT_TYPE 256
#define STATUS_CLIENT_GONE 499

/* Linux's poll flag for a peer that shut down its sending side (glibc
 * defines it only with _GNU_SOURCE). */
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/* The statuses behind h2o's emitted_error_status[] slots (h2o.h enum). */
static const int h2o_error_codes[] = {400, 403, 404, 405, 413, 416, 417, 500, 502, 503};
_Static_assert(GL_HTTP_MAX_HEAD_LIMIT == H2O_MAX_REQLEN,
               "max_head cannot usefully exceed h2o's own cap on a head");
_Static_assert(sizeof(h2o_error_codes) / sizeof(h2o_error_codes[0]) ==
                   H2O_STATUS_ERROR_MAX,
               "h2o's error status slots changed");

struct conn {
    uv_tcp_t tcp; /* first member: close callbacks get &tcp */
    struct gl_http_server *srv;
    struct conn *prev, *next;
    struct addr_key client;
    int counted; /* counted in srv->clients under `client` */
    int served;  /* handed to h2o (else refused, being closed) */
    int shut;    /* read side shut down during shutdown */
    int killed;  /* reset (check_progress, check_head, reset_rest) */
    /* response progress, seen by the sweep */
    int writing;
    size_t queued, written; /* bytes unacknowledged; h2o's bytes_written */
    uint64_t progress_at;
    uint64_t write_since; /* when the sweep first saw the response written */
    size_t acked_base;    /* bytes acknowledged by then */
};

struct req_impl {
    struct gl_http_req pub; /* handed to the handler */
    struct gl_http_server *srv;
    h2o_req_t *h2o; /* NULL once disposed */
    struct gl_http_pending *pending;
    struct req_impl *prev, *next; /* srv->deferred while listed */
    const char *peer;             /* lazily filled */
    size_t held;                  /* reply body bytes counted in held_bytes */
    int answered, deferred, listed;
};

struct gl_http_pending {
    struct req_impl *req; /* NULL once the request died */
    unsigned refs;
    void (*on_gone)(void *arg); /* called once if the request dies unanswered */
    void *gone_arg;
};

struct glue_handler {
    h2o_handler_t super;
    struct gl_http_server *srv;
};

struct gl_http_server {
    uv_loop_t *loop;
    gl_http_handler handler;
    void *ctx;
    h2o_globalconf_t config;
    h2o_context_t h2octx;
    h2o_accept_ctx_t accept_ctx;
    h2o_generator_t generator; /* {NULL, NULL}: whole body sent at once */
    uv_tcp_t *listener;
    uv_timer_t sweep;
    struct conn *conns;
    struct req_impl *deferred;
    size_t nconns;  /* conns in the list (served or being refused) */
    size_t nserved; /* of which handed to h2o */
    unsigned max_conns, max_per_addr;
    struct addr_limit *clients; /* served conns per client */
    uint64_t sweep_ms, timeout_ms;
    size_t max_head;
    size_t max_held; /* stats.held_bytes never exceeds it by a large reply */
    /* refusals since the last report (logged at most every
     * REFUSAL_REPORT_MS) */
    uint64_t report_at, refused_total, refused_addr;
    char refused_last[ADDR_LIMIT_TEXT_MAX];
    uint16_t port;
    uint64_t closing_at; /* when gl_http_server_close was called */
    int closing, listener_closed, sweep_active, sweep_closing, sweep_closed, closed;
    int rest_reset; /* reset_rest has run */
    void (*on_closed)(void *arg);
    void *on_closed_arg;
    struct gl_http_stats stats;
    char server_name[MAX_SERVER_NAME + 1];
};

static const uint8_t empty_body[1];

/* ---- small helpers ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    }
    switch (status / 100) {
    case 2:
        return "Success";
    case 3:
        return "Redirection";
    case 4:
        return "Client Error";
    default:
        return "Server Error";
    }
}

/* 100..599 (GL_HTTP_STAT_MIN..MAX) by class and by code; others in
 * by_class[0]. */
_Static_assert(GL_HTTP_STAT_MIN == 100 && GL_HTTP_STAT_MAX == 599,
               "by_class[1..5] count the statuses by_code counts");
static void count_status(struct gl_http_stats *st, int status, uint64_t n)
{
    if (status >= GL_HTTP_STAT_MIN && status <= GL_HTTP_STAT_MAX) {
        st->by_class[status / 100] += n;
        st->by_code[status - GL_HTTP_STAT_MIN] += n;
    } else {
        st->by_class[0] += n;
    }
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A header name: 1..max token characters. */
static int valid_name(const char *s, size_t max)
{
    size_t n = 0;

    for (; s[n] != 0; n++)
        if (n >= max || !is_tchar((unsigned char)s[n]))
            return 0;
    return n > 0;
}

/* A header value: at most max bytes, no CTL but HTAB (so no CR/LF). */
static int valid_value(const char *s, size_t max)
{
    size_t n = 0;

    for (; s[n] != 0; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= max || (c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Appends s as the inside of a JSON string: quotes, backslashes and
 * control characters escaped, invalid UTF-8 replaced by U+FFFD, cut after
 * GL_HTTP_MAX_REASON input bytes (at a character boundary). */
static int json_escape(struct gl_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, k;
    uint32_t cp;
    int err = 0;

    while (i < n && err == 0) {
        k = gl_utf8_decode(p + i, n - i, &cp);
        if (i + (k == 0 ? 1 : k) > GL_HTTP_MAX_REASON) {
            err = gl_buf_append_str(b, "...");
            break;
        }
        if (k == 0) {
            err = gl_buf_append_str(b, "\\ufffd");
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            err = gl_buf_printf(b, "\\%c", (char)cp);
        else if (cp == '\n')
            err = gl_buf_append_str(b, "\\n");
        else if (cp == '\r')
            err = gl_buf_append_str(b, "\\r");
        else if (cp == '\t')
            err = gl_buf_append_str(b, "\\t");
        else if (cp < 0x20 || cp == 0x7f)
            err = gl_buf_printf(b, "\\u%04x", (unsigned)cp);
        else
            err = gl_buf_append(b, p + i, k);
        i += k;
    }
    return err;
}

/* Parses "A.B.C.D:PORT" or "[V6]:PORT" (numeric only). */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[64];
    const char *colon, *end;
    unsigned long port = 0;
    size_t hlen, i;

    memset(ss, 0, sizeof(*ss));
    if (s == NULL)
        return GL_EINVAL;
    if (s[0] == '[') {
        end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return GL_EINVAL;
        hlen = (size_t)(end - s - 1);
        if (hlen == 0 || hlen >= sizeof(host))
            return GL_EINVAL;
        memcpy(host, s + 1, hlen);
        colon = end + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return GL_EINVAL;
        hlen = (size_t)(colon - s);
        if (hlen == 0 || hlen >= sizeof(host))
            return GL_EINVAL;
        memcpy(host, s, hlen);
    }
    host[hlen] = 0;
    for (i = 1; colon[i] != 0; i++) {
        if (colon[i] < '0' || colon[i] > '9' || i > 5)
            return GL_EINVAL;
        port = port * 10 + (unsigned long)(colon[i] - '0');
    }
    if (i == 1 || port > 65535)
        return GL_EINVAL;
    if (s[0] == '[') {
        if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) != 0)
            return GL_EINVAL;
        *sslen = sizeof(struct sockaddr_in6);
    } else {
        if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) != 0)
            return GL_EINVAL;
        *sslen = sizeof(struct sockaddr_in);
    }
    return 0;
}

int gl_http_listen_valid(const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t sslen;

    return addr != NULL && parse_listen(addr, &ss, &sslen) == 0;
}

/* socket + bind + listen, done by hand so every failure is reported here,
 * synchronously, before any libuv handle exists. */
static int open_listener(const char *addr, int *fd_out, uint16_t *port)
{
    struct sockaddr_storage ss, bound;
    socklen_t sslen, blen = sizeof(bound);
    int fd, one = 1, err;

    if ((err = parse_listen(addr, &ss, &sslen)) != 0) {
        gl_log(GL_LOG_ERROR,
               "http: bad listen address \"%s\" (want ADDR:PORT or [ADDR]:PORT)",
               addr != NULL ? addr : "");
        return err;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        gl_log(GL_LOG_ERROR, "http: socket: %s", strerror(errno));
        return GL_EIO;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (ss.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        gl_log(GL_LOG_ERROR, "http: listen on %s: %s", addr, strerror(errno));
        close(fd);
        return GL_EIO;
    }
    *port = bound.ss_family == AF_INET6
                ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *fd_out = fd;
    return 0;
}

/* ---- the sweep: liveness of deferred requests, idle conns at shutdown ---- */

static void sweep_cb(uv_timer_t *t);

static void sweep_update(struct gl_http_server *srv)
{
    int need = srv->deferred != NULL || srv->nserved > 0;
    uint64_t ms = srv->sweep_ms;

    if (srv->sweep_closing)
        return;
    if (need && !srv->sweep_active) {
        if (srv->closing && ms > CLOSING_SWEEP_MS)
            ms = CLOSING_SWEEP_MS;
        uv_timer_start(&srv->sweep, sweep_cb, ms, ms);
        srv->sweep_active = 1;
    } else if (!need && srv->sweep_active) {
        uv_timer_stop(&srv->sweep);
        srv->sweep_active = 0;
    }
}

static void unlist(struct req_impl *ri)
{
    struct gl_http_server *srv = ri->srv;

    if (!ri->listed)
        return;
    if (ri->prev != NULL)
        ri->prev->next = ri->next;
    else
        srv->deferred = ri->next;
    if (ri->next != NULL)
        ri->next->prev = ri->prev;
    ri->prev = ri->next = NULL;
    ri->listed = 0;
    srv->stats.pending--;
    sweep_update(srv);
}

static int send_reply(struct req_impl *ri, int status, const char *content_type,
                      const struct gl_http_header *headers, size_t nheaders,
                      const void *body, size_t len, int count);
static void pending_unref(struct gl_http_pending *p);
static void pending_gone(struct gl_http_pending *p);

/* The socket of req's connection, or NULL. */
static h2o_socket_t *req_socket(h2o_req_t *req)
{
    if (req->conn->callbacks->get_socket == NULL)
        return NULL;
    return req->conn->callbacks->get_socket(req->conn);
}

/* The descriptor of req's connection, or -1. */
static int req_fd(h2o_req_t *req)
{
    h2o_socket_t *sock = req_socket(req);

    return sock != NULL ? h2o_socket_get_fd(sock) : -1;
}

/* 1 if the peer of a deferred request has closed (or shut down its
 * sending side) or reset its socket. Asked of poll, not of a peek at the
 * data: bytes the client sent after its request sit unread in the socket
 * (h2o does not read while a request is in progress), and a peek would
 * see them and never the FIN queued behind them. POLLRDHUP reports that
 * FIN whatever is still unread. */
static int client_gone(h2o_req_t *req)
{
    struct pollfd p;
    int fd;

    if ((fd = req_fd(req)) < 0)
        return 0;
    p.fd = fd;
    p.events = POLLIN | POLLRDHUP;
    p.revents = 0;
    if (poll(&p, 1, 0) <= 0)
        return 0; /* nothing to report, or EINTR: asked again next sweep */
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* During shutdown: shut the read side of connections idle between
 * requests, so h2o reads EOF and closes them. */
static void shut_idle_conns(struct gl_http_server *srv)
{
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        h2o_socket_t *sock;
        int fd;

        if (!c->served || c->shut || c->killed || uv_is_closing((uv_handle_t *)&c->tcp))
            continue;
        sock = c->tcp.data; /* set by h2o_uv_socket_create */
        if (sock == NULL || sock->input == NULL || sock->input->size != 0 ||
            !h2o_socket_is_reading(sock) || h2o_socket_is_writing(sock))
            continue;
        if ((fd = h2o_socket_get_fd(sock)) >= 0 && shutdown(fd, SHUT_RD) == 0)
            c->shut = 1;
    }
}

/* Resets c (whose socket is fd): SO_LINGER 0 (the close sends RST and
 * frees the kernel's buffers) and shutdown(SHUT_RDWR), so h2o's pending
 * read or write fails and h2o closes the connection itself. 1 if done. */
static int reset_conn(struct conn *c, int fd)
{
    static const struct linger reset = {1, 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (shutdown(fd, SHUT_RDWR) != 0)
        return 0;
    c->killed = 1;
    return 1;
}

/* 1 if `acked` bytes acknowledged in the `ms` since the sweep first saw
 * a response being written fall short of GL_HTTP_MIN_SEND_RATE counted
 * from timeout_ms on. */
static int too_slow(const struct gl_http_server *srv, uint64_t ms, size_t acked)
{
    const uint64_t rate = GL_HTTP_MIN_SEND_RATE;
    uint64_t owed;

    if (ms <= srv->timeout_ms)
        return 0;
    ms -= srv->timeout_ms;
    if (ms / 1000 > UINT64_MAX / rate / 2)
        return 1; /* owes more than any response holds */
    owed = ms / 1000 * rate + ms % 1000 * rate / 1000;
    return acked < owed;
}

/* Resets a connection whose response is not taken in time. h2o's http1
 * arms no timer while it writes, so without this a client that asks for
 * a large response and reads nothing, or a segment now and then, would
 * hold its connection and the response (a copy in the request's pool)
 * for as long as it likes. Two rules:
 *   - progress: the bytes not yet acknowledged by the client (libuv's
 *     write queue plus the kernel's send queue, SIOCOUTQ: unsent and
 *     unacked) change, or h2o hands the socket another write, at least
 *     once per request timeout. The kernel's part matters: a client
 *     reading steadily may drain a large send buffer for a while before
 *     libuv may queue more. A client that reads nothing shows a zero
 *     window and acknowledges nothing;
 *   - rate: from the first sweep that sees the response being written,
 *     the bytes acknowledged (bytes_written minus the unacknowledged)
 *     must keep up with GL_HTTP_MIN_SEND_RATE after a start of one
 *     request timeout, so a response of B bytes is gone within
 *     timeout + B / rate (+ a sweep period), however the client paces its
 *     reads. Consecutive responses the sweep sees without a pause count
 *     as one.
 * Both resets count in conns_stalled. */
static void check_progress(struct gl_http_server *srv, struct conn *c, uint64_t now)
{
    h2o_socket_t *sock = c->tcp.data; /* set by h2o_uv_socket_create */
    size_t queued, acked;
    int fd, unacked = 0;

    if (!c->served || c->killed || sock == NULL ||
        uv_is_closing((uv_handle_t *)&c->tcp) || (fd = h2o_socket_get_fd(sock)) < 0)
        return;
    if (!h2o_socket_is_writing(sock)) {
        c->writing = 0;
        return;
    }
    if (ioctl(fd, SIOCOUTQ, &unacked) != 0 || unacked < 0)
        unacked = 0;
    queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + (size_t)unacked;
    acked = sock->bytes_written > queued ? sock->bytes_written - queued : 0;
    if (!c->writing || queued != c->queued || sock->bytes_written != c->written) {
        if (!c->writing) {
            c->writing = 1;
            c->write_since = now;
            c->acked_base = acked;
        }
        c->queued = queued;
        c->written = sock->bytes_written;
        c->progress_at = now;
    }
    if (now - c->progress_at < srv->timeout_ms &&
        !too_slow(srv, now - c->write_since,
                  acked > c->acked_base ? acked - c->acked_base : 0))
        return;
    if (reset_conn(c, fd))
        srv->stats.conns_stalled++;
}

/* 1 if buf (n bytes, the start of a request) holds the end of its head
 * (an empty line after the request line), leading empty lines skipped as
 * h2o skips them. */
static int head_complete(const char *buf, size_t n)
{
    size_t i = 0;

    while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    for (; i + 1 < n; i++)
        if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
                               (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')))
            return 1;
    return 0;
}

/* Resets a connection whose request head, still unfinished, already holds
 * more than max_head bytes in h2o's input buffer. h2o itself lets a head
 * grow to H2O_MAX_REQLEN (417,792 bytes) for the whole request timeout;
 * across thousands of connections that is gigabytes. Only a connection
 * h2o is reading can be in its head; one whose head is complete (reading
 * a body, bounded by max_body) is left alone. */
static void check_head(struct gl_http_server *srv, struct conn *c)
{
    h2o_socket_t *sock = c->tcp.data; /* set by h2o_uv_socket_create */
    size_t n;
    int fd;

    if (!c->served || c->killed || sock == NULL ||
        uv_is_closing((uv_handle_t *)&c->tcp) || !h2o_socket_is_reading(sock) ||
        sock->input == NULL || sock->input->size <= srv->max_head ||
        (fd = h2o_socket_get_fd(sock)) < 0)
        return;
    n = sock->input->size < srv->max_head + 3 ? sock->input->size : srv->max_head + 3;
    if (head_complete(sock->input->bytes, n))
        return;
    if (reset_conn(c, fd))
        srv->stats.conns_big_head++;
}

/* Once the shutdown's grace (GL_HTTP_CLOSE_GRACE_MS) has passed: resets
 * every connection that carries no deferred request (those the server
 * still answers), whatever it is doing: writing a response, in the middle
 * of a request, idle. Without this one slow reader, or a client halfway
 * through its head, would keep the process from exiting. Deferred
 * requests are found by their socket's descriptor, marked in a bitmap
 * (h2o does not lead from a request to its struct conn): O(connections +
 * deferred requests). The caller runs it once; the connections left
 * afterwards are the deferred requests', answered and written under the
 * usual rules. GL_ENOMEM if the bitmap cannot be had (nothing reset). */
static int reset_rest(struct gl_http_server *srv)
{
    unsigned char *spare = NULL;
    size_t nfds = 0, n = 0;
    struct req_impl *ri;
    int fd;

    for (ri = srv->deferred; ri != NULL; ri = ri->next)
        if ((fd = req_fd(ri->h2o)) >= 0 && (size_t)fd >= nfds)
            nfds = (size_t)fd + 1;
    if (nfds > 0 && (spare = calloc(nfds / 8 + 1, 1)) == NULL)
        return GL_ENOMEM;
    for (ri = srv->deferred; ri != NULL; ri = ri->next)
        if ((fd = req_fd(ri->h2o)) >= 0 && (size_t)fd < nfds)
            spare[fd / 8] |= (unsigned char)(1u << (fd % 8));
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        h2o_socket_t *sock = c->tcp.data; /* set by h2o_uv_socket_create */

        if (!c->served || c->killed || sock == NULL ||
            uv_is_closing((uv_handle_t *)&c->tcp) || (fd = h2o_socket_get_fd(sock)) < 0 ||
            ((size_t)fd < nfds && (spare[fd / 8] & (1u << (fd % 8))) != 0))
            continue;
        n += (size_t)reset_conn(c, fd);
    }
    free(spare);
    if (n > 0)
        gl_log(GL_LOG_INFO,
               "http: closing: reset %zu connections still open after %u ms "
               "(answers being written or requests being received)",
               n, GL_HTTP_CLOSE_GRACE_MS);
    return 0;
}

static void sweep_cb(uv_timer_t *t)
{
    struct gl_http_server *srv = t->data;
    struct req_impl *ri, *next;
    uint64_t now = uv_now(srv->loop);

    for (ri = srv->deferred; ri != NULL; ri = next) {
        next = ri->next;
        if (ri->h2o != NULL && client_gone(ri->h2o)) {
            struct gl_http_pending *p = ri->pending;
            srv->stats.client_gone++;
            ri->h2o->http1_is_persistent = 0;
            if (p != NULL)
                p->refs++; /* the reply may dispose of ri and its reference */
            send_reply(ri, STATUS_CLIENT_GONE, NULL, NULL, 0, NULL, 0, 0);
            if (p != NULL) {
                pending_gone(p);
                pending_unref(p);
            }
        }
    }
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        check_head(srv, c);
        check_progress(srv, c, now);
    }
    if (srv->closing) {
        shut_idle_conns(srv);
        if (!srv->rest_reset && now - srv->closing_at >= GL_HTTP_CLOSE_GRACE_MS &&
            reset_rest(srv) == 0)
            srv->rest_reset = 1;
    }
    sweep_update(srv);
}

/* ---- shutdown ---- */

static void stop_idle_h2o_timers(struct gl_http_server *srv)
{
    h2o_context_t *c = &srv->h2octx;
    h2o_timeout_t *ts[] = {&c->zero_timeout,
                           &c->one_sec_timeout,
                           &c->hundred_ms_timeout,
                           &c->handshake_timeout,
                           &c->http1.req_timeout,
                           &c->http2.idle_timeout,
                           &c->http2.graceful_shutdown_timeout,
                           &c->proxy.io_timeout};

    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (h2o_linklist_is_empty(&ts[i]->_entries))
            uv_timer_stop(&ts[i]->_backend.timer);
}

static void on_sweep_closed(uv_handle_t *h)
{
    struct gl_http_server *srv = h->data;
    void (*cb)(void *);

    srv->sweep_closed = 1;
    stop_idle_h2o_timers(srv);
    srv->closed = 1;
    cb = srv->on_closed;
    srv->on_closed = NULL;
    if (cb != NULL)
        cb(srv->on_closed_arg);
}

static void maybe_finish_close(struct gl_http_server *srv)
{
    if (!srv->closing || srv->sweep_closing || !srv->listener_closed || srv->nconns > 0)
        return;
    if (srv->sweep_active)
        uv_timer_stop(&srv->sweep);
    srv->sweep_active = 0;
    srv->sweep_closing = 1;
    uv_close((uv_handle_t *)&srv->sweep, on_sweep_closed);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct gl_http_server *srv = h->data;

    free(h);
    srv->listener = NULL;
    srv->listener_closed = 1;
    maybe_finish_close(srv);
}

void gl_http_server_close(struct gl_http_server *srv, void (*on_closed)(void *arg),
                          void *arg)
{
    if (srv == NULL || srv->closing)
        return;
    srv->closing = 1;
    srv->closing_at = uv_now(srv->loop);
    srv->on_closed = on_closed;
    srv->on_closed_arg = arg;
    gl_log(GL_LOG_INFO,
           "http: closing; %llu connections served, %llu refused over the total limit, "
           "%llu over the per-client limit, %llu reset for an answer not taken in time, "
           "%llu "
           "for a request head over %zu bytes",
           (unsigned long long)srv->stats.conns_accepted,
           (unsigned long long)srv->stats.conns_rejected,
           (unsigned long long)srv->stats.conns_rejected_addr,
           (unsigned long long)srv->stats.conns_stalled,
           (unsigned long long)srv->stats.conns_big_head, srv->max_head);
    /* h2o 2.2's http1 reads this flag: requests parsed from now on are
     * answered with "Connection: close". (h2o_context_request_shutdown
     * would also arm HTTP/2's one-second GOAWAY timer, useless here.) */
    srv->h2octx.shutdown_requested = 1;
    uv_close((uv_handle_t *)srv->listener, on_listener_closed);
    shut_idle_conns(srv);
    if (srv->sweep_active) { /* restart at the shutdown pace */
        uv_timer_stop(&srv->sweep);
        srv->sweep_active = 0;
    }
    sweep_update(srv);
}

int gl_http_server_is_closed(const struct gl_http_server *srv)
{
    return srv != NULL && srv->closed;
}

/* ---- connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;
    struct gl_http_server *srv = c->srv;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->nconns--;
    if (c->counted)
        addr_limit_release(srv->clients, &c->client);
    if (c->served) {
        srv->nserved--;
        srv->stats.conns_active--;
    }
    free(c);
    sweep_update(srv);
    maybe_finish_close(srv);
}

/* Counts a refused connection and, at most every REFUSAL_REPORT_MS, logs
 * the refusals since the last report (a flood must not flood the log). */
static void note_refusal(struct gl_http_server *srv, const struct conn *c, int per_addr)
{
    uint64_t now = uv_now(srv->loop);

    if (per_addr) {
        srv->stats.conns_rejected_addr++;
        srv->refused_addr++;
        addr_limit_format(&c->client, srv->refused_last);
    } else {
        srv->stats.conns_rejected++;
        srv->refused_total++;
    }
    if (srv->closing || now < srv->report_at)
        return;
    if (srv->refused_addr > 0)
        gl_log(GL_LOG_WARN,
               "http: refused %llu connections over the limit of %u per client (last "
               "from %s) since the last report",
               (unsigned long long)srv->refused_addr, srv->max_per_addr,
               srv->refused_last);
    if (srv->refused_total > 0)
        gl_log(
            GL_LOG_WARN,
            "http: refused %llu connections over the limit of %u in all since the last "
            "report",
            (unsigned long long)srv->refused_total, srv->max_conns);
    srv->refused_addr = srv->refused_total = 0;
    srv->report_at = now + REFUSAL_REPORT_MS;
}

/* Whether the accepted connection c may be served: under the total and
 * per-client limits (and then counted for its client). */
static int admit(struct gl_http_server *srv, struct conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    /* a peer that reset the connection before it could be looked at is
     * gone already: closed without counting or logging it as a refusal */
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0 ||
        addr_limit_key((struct sockaddr *)&ss, (size_t)len, &c->client) != 0)
        return 0;
    if (srv->closing || srv->nserved >= srv->max_conns) {
        note_refusal(srv, c, 0);
        return 0;
    }
    if (addr_limit_acquire(srv->clients, &c->client, srv->max_per_addr) != 0) {
        note_refusal(srv, c, 1);
        return 0;
    }
    c->counted = 1;
    return 1;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct gl_http_server *srv = listener->data;
    struct conn *c;
    h2o_socket_t *sock;

    if (status < 0) {
        gl_log(GL_LOG_WARN, "http: accept: %s", uv_strerror(status));
        return;
    }
    /* h2o_mem_alloc aborts on failure, like every allocation in h2o: an
     * accepted fd must be taken (uv_accept) or libuv stops accepting. */
    c = h2o_mem_alloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->srv = srv;
    if (uv_tcp_init(srv->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        srv->stats.conns_rejected++;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    if (!admit(srv, c)) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    c->served = 1;
    srv->nserved++;
    srv->stats.conns_accepted++;
    srv->stats.conns_active++;
    uv_tcp_nodelay(&c->tcp, 1);
    sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&srv->accept_ctx, sock);
    sweep_update(srv);
}

/* ---- requests ---- */

static void pending_unref(struct gl_http_pending *p)
{
    if (--p->refs == 0)
        free(p);
}

/* The request behind p died unanswered: tells the owner, once. */
static void pending_gone(struct gl_http_pending *p)
{
    void (*cb)(void *) = p->on_gone;

    p->on_gone = NULL;
    if (cb != NULL)
        cb(p->gone_arg);
}

/* Destructor of the view, run when h2o disposes of the request. */
static void req_dispose(void *arg)
{
    struct req_impl *ri = arg;
    struct gl_http_pending *p = ri->pending;

    unlist(ri);
    ri->h2o = NULL;
    assert(ri->srv->stats.held_bytes >= ri->held);
    ri->srv->stats.held_bytes -= ri->held; /* its pool, the body's, goes now */
    if (p != NULL) {
        ri->pending = NULL;
        p->req = NULL;
        if (!ri->answered)
            pending_gone(p);
        pending_unref(p);
    }
}

static char *pool_strdup(h2o_req_t *req, const char *s, size_t n)
{
    return h2o_strdup(&req->pool, s, n).base;
}

/* Sends the whole reply (validated by the caller). */
static int send_reply(struct req_impl *ri, int status, const char *content_type,
                      const struct gl_http_header *headers, size_t nheaders,
                      const void *body, size_t len, int count)
{
    struct gl_http_server *srv = ri->srv;
    h2o_req_t *req = ri->h2o;
    h2o_iovec_t buf = {NULL, 0};
    int bodyless = status == 204 || status == 304;

    req->res.status = status;
    req->res.reason = reason_phrase(status);
    if (srv->closing)
        req->http1_is_persistent = 0;
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       pool_strdup(req, content_type, strlen(content_type)),
                       strlen(content_type));
    h2o_add_header_by_str(&req->pool, &req->res.headers,
                          H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    for (size_t i = 0; i < nheaders; i++) {
        size_t nlen = strlen(headers[i].name), vlen = strlen(headers[i].value);
        char *name = pool_strdup(req, headers[i].name, nlen);

        h2o_strtolower(name, nlen); /* so h2o finds its token */
        h2o_add_header_by_str(&req->pool, &req->res.headers, name, nlen, 1, NULL,
                              pool_strdup(req, headers[i].value, vlen), vlen);
    }
    req->res.content_length = bodyless ? SIZE_MAX : len;
    if (len > 0) {
        buf.base = h2o_mem_alloc_pool(&req->pool, len);
        memcpy(buf.base, body, len);
        buf.len = len;
        ri->held = len; /* until req_dispose frees the pool */
        srv->stats.held_bytes += len;
    }
    ri->answered = 1;
    unlist(ri);
    if (count)
        count_status(&srv->stats, status, 1);
    h2o_start_response(req, &srv->generator);
    if (buf.len == 0 ||
        h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    /* h2o may finish (and dispose of) the request from here on: not
     * touched again. */
    return 0;
}

/* 1 if a reply body of len bytes would take the bodies held past max_held
 * (never for a small one). Small ones are always sent, so what is held
 * may be past max_held already. */
static int over_held(const struct gl_http_server *srv, size_t len)
{
    return len > GL_HTTP_SMALL_REPLY && (srv->stats.held_bytes >= srv->max_held ||
                                         len > srv->max_held - srv->stats.held_bytes);
}

static int reply_error(struct gl_http_req *req, int status, const char *reason,
                       const char *retry_after);

/* The answer to a large reply over max_held: 503, retry in a second. */
static int reply_over_held(struct gl_http_req *req)
{
    struct req_impl *ri = (struct req_impl *)req;

    ri->srv->stats.replies_over_held++;
    return reply_error(req, 503,
                       "the server holds too many large answers to slow readers; "
                       "retry later",
                       "1");
}

int gl_http_reply(struct gl_http_req *req, int status, const char *content_type,
                  const struct gl_http_header *headers, size_t nheaders, const void *body,
                  size_t len)
{
    struct req_impl *ri = (struct req_impl *)req;
    static const char *const reserved[] = {
        "content-length", "transfer-encoding",     "connection", "content-type", "server",
        "date",           "x-content-type-options"};

    if (ri == NULL || ri->h2o == NULL || ri->answered)
        return GL_ESTATE;
    if (status < 200 || status > 599 || (len > 0 && body == NULL) ||
        (nheaders > 0 && headers == NULL) || nheaders > GL_HTTP_MAX_REPLY_HEADERS)
        return GL_EINVAL;
    if (len > GL_HTTP_MAX_REPLY_BODY)
        return GL_ETOOBIG;
    if ((status == 204 || status == 304) && len > 0)
        return GL_EINVAL;
    if (content_type != NULL &&
        (content_type[0] == 0 || !valid_value(content_type, MAX_CONTENT_TYPE)))
        return GL_EINVAL;
    for (size_t i = 0; i < nheaders; i++) {
        if (headers[i].name == NULL || headers[i].value == NULL ||
            !valid_name(headers[i].name, MAX_HEADER_NAME) ||
            !valid_value(headers[i].value, MAX_HEADER_VALUE))
            return GL_EINVAL;
        for (size_t j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++)
            if (strcasecmp(headers[i].name, reserved[j]) == 0)
                return GL_EINVAL;
    }
    if (over_held(ri->srv, len))
        return reply_over_held(req);
    return send_reply(ri, status, content_type, headers, nheaders, body, len, 1);
}

/* {"error": reason} with status, and Retry-After: retry_after unless
 * NULL. An error is the state of the moment (a tile not there yet, a
 * storage failure): no cache or CDN may keep it. */
static int reply_error(struct gl_http_req *req, int status, const char *reason,
                       const char *retry_after)
{
    const struct gl_http_header headers[] = {{"Cache-Control", "no-store"},
                                             {"Retry-After", retry_after}};
    struct req_impl *ri = (struct req_impl *)req;
    struct gl_buf b;
    int err;

    if (ri == NULL || ri->h2o == NULL || ri->answered)
        return GL_ESTATE;
    if (status < 200 || status > 599)
        return GL_EINVAL;
    gl_buf_init(&b, GL_HTTP_MAX_REASON * 6 + 64);
    if ((err = gl_buf_append_str(&b, "{\"error\":\"")) != 0 ||
        (err = json_escape(&b, reason != NULL ? reason : reason_phrase(status))) != 0 ||
        (err = gl_buf_append_str(&b, "\"}")) != 0)
        goto out;
    err = gl_http_reply(req, status, "application/json", headers,
                        retry_after != NULL ? 2 : 1, b.data, b.len);
out:
    gl_buf_release(&b);
    return err;
}

int gl_http_reply_error(struct gl_http_req *req, int status, const char *reason)
{
    return reply_error(req, status, reason, NULL);
}

int gl_http_reply_text(struct gl_http_req *req, int status, const char *text)
{
    if (text == NULL)
        text = "";
    return gl_http_reply(req, status, "text/plain; charset=utf-8", NULL, 0, text,
                         strlen(text));
}

int gl_http_req_header(const struct gl_http_req *req, const char *name,
                       const char **value, size_t *len)
{
    const struct req_impl *ri = (const struct req_impl *)req;
    char lname[MAX_HEADER_NAME];
    size_t n;
    ssize_t i;

    if (ri == NULL || ri->h2o == NULL || name == NULL || !valid_name(name, sizeof(lname)))
        return GL_EINVAL;
    n = strlen(name);
    memcpy(lname, name, n);
    h2o_strtolower(lname, n);
    if (gl_mem_is(lname, n, "host")) {
        /* h2o moves Host out of the header list */
        if (ri->h2o->input.authority.base == NULL)
            return GL_ENOTFOUND;
        *value = ri->h2o->input.authority.base;
        *len = ri->h2o->input.authority.len;
        return 0;
    }
    i = h2o_find_header_by_str(&ri->h2o->headers, lname, n, -1);
    if (i < 0)
        return GL_ENOTFOUND;
    *value = ri->h2o->headers.entries[i].value.base;
    *len = ri->h2o->headers.entries[i].value.len;
    return 0;
}

const char *gl_http_req_peer(const struct gl_http_req *req)
{
    struct req_impl *ri = (struct req_impl *)req;
    struct sockaddr_storage ss;
    char host[NI_MAXHOST];
    socklen_t sslen;
    size_t n;

    if (ri == NULL || ri->h2o == NULL)
        return "";
    if (ri->peer == NULL) {
        h2o_conn_t *conn = ri->h2o->conn;
        ri->peer = "";
        sslen = conn->callbacks->get_peername(conn, (struct sockaddr *)&ss);
        if (sslen != 0 && (n = h2o_socket_getnumerichost((struct sockaddr *)&ss, sslen,
                                                         host)) != SIZE_MAX)
            ri->peer = pool_strdup(ri->h2o, host, n);
    }
    return ri->peer;
}

int gl_http_defer(struct gl_http_req *req, struct gl_http_pending **out)
{
    struct req_impl *ri = (struct req_impl *)req;
    struct gl_http_server *srv;
    struct gl_http_pending *p;

    if (ri == NULL || ri->h2o == NULL || ri->answered || ri->deferred)
        return GL_ESTATE;
    if ((p = malloc(sizeof(*p))) == NULL)
        return GL_ENOMEM;
    p->req = ri;
    p->refs = 2; /* the caller's, and the request's (dropped in req_dispose) */
    p->on_gone = NULL;
    p->gone_arg = NULL;
    srv = ri->srv;
    ri->pending = p;
    ri->deferred = 1;
    ri->listed = 1;
    ri->prev = NULL;
    ri->next = srv->deferred;
    if (srv->deferred != NULL)
        srv->deferred->prev = ri;
    srv->deferred = ri;
    srv->stats.pending++;
    sweep_update(srv);
    *out = p;
    return 0;
}

void gl_http_pending_on_gone(struct gl_http_pending *p, void (*cb)(void *arg), void *arg)
{
    if (p == NULL)
        return;
    p->on_gone = gl_http_pending_alive(p) ? cb : NULL;
    p->gone_arg = arg;
}

int gl_http_pending_alive(const struct gl_http_pending *p)
{
    return p != NULL && p->req != NULL && !p->req->answered;
}

struct gl_http_req *gl_http_pending_req(struct gl_http_pending *p)
{
    return gl_http_pending_alive(p) ? &p->req->pub : NULL;
}

int gl_http_pending_reply(struct gl_http_pending *p, int status, const char *content_type,
                          const struct gl_http_header *headers, size_t nheaders,
                          const void *body, size_t len)
{
    if (!gl_http_pending_alive(p))
        return GL_ESTATE;
    return gl_http_reply(&p->req->pub, status, content_type, headers, nheaders, body,
                         len);
}

int gl_http_pending_reply_error(struct gl_http_pending *p, int status, const char *reason)
{
    if (!gl_http_pending_alive(p))
        return GL_ESTATE;
    return gl_http_reply_error(&p->req->pub, status, reason);
}

/* Answers 500 (JSON body, or an empty one if even that cannot be built):
 * a request must never be left hanging. */
static void answer_500(struct req_impl *ri)
{
    if (gl_http_reply_error(&ri->pub, 500, NULL) != 0 && ri->h2o != NULL && !ri->answered)
        send_reply(ri, 500, NULL, NULL, 0, NULL, 0, 1);
}

void gl_http_pending_release(struct gl_http_pending *p)
{
    if (p == NULL)
        return;
    if (gl_http_pending_alive(p)) {
        gl_log(GL_LOG_ERROR, "http: deferred request released unanswered; answering 500");
        answer_500(p->req);
    }
    pending_unref(p);
}

/* 1 if the header line p (len bytes, no line end) is field `name`. */
static int line_is_field(const char *p, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len > n && p[n] == ':' && strncasecmp(p, name, n) == 0;
}

/* Why the head of req frames its body ambiguously, or NULL if it does
 * not. h2o 2.2.5 takes Content-Length and Transfer-Encoding out of the
 * header list and resolves a conflict its own way (Transfer-Encoding wins
 * over Content-Length, the first of two Content-Lengths wins, a folded
 * line is kept as a nameless header); a proxy in front may resolve it
 * another way, and the two would then disagree on where the next request
 * starts (request smuggling). So the head is read again as it arrived:
 * h2o keeps it at the start of the socket's input buffer, from the
 * request's first byte (after any empty lines, which it skips), until
 * the response has been sent; the body (decoded in place if chunked)
 * follows it. A head that cannot be found there counts as ambiguous. */
static const char *framing_problem(h2o_req_t *req)
{
    h2o_socket_t *sock;
    const char *p, *end, *nl;
    size_t len, ncl = 0, nte = 0;

    if ((sock = req_socket(req)) == NULL || sock->input == NULL)
        return "request head not found";
    p = sock->input->bytes;
    end = p + sock->input->size;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
        return "request head not found";
    for (p = nl + 1;; p = nl + 1) { /* the header lines */
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return "request head not found";
        len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0)
            break;
        if (p[0] == ' ' || p[0] == '\t')
            return "folded header line";
        if (line_is_field(p, len, "content-length"))
            ncl++;
        if (line_is_field(p, len, "transfer-encoding"))
            nte++;
    }
    if (ncl > 0 && nte > 0)
        return "both Content-Length and Transfer-Encoding";
    if (ncl > 1)
        return "more than one Content-Length";
    if (nte > 1)
        return "more than one Transfer-Encoding";
    return NULL;
}

/* The origin form (path and query) of request target t: an absolute-form
 * target ("http://host/path?q", as forward proxies send, and servers must
 * accept) loses its scheme and authority, "/" standing for an empty path;
 * any other target is t itself. */
static h2o_iovec_t origin_form(h2o_req_t *req, h2o_iovec_t t)
{
    static const char *const schemes[] = {"http://", "https://"};
    const char *end = t.base + t.len, *p;

    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(schemes[i]);
        if (t.len < n || strncasecmp(t.base, schemes[i], n) != 0)
            continue;
        for (p = t.base + n; p < end && *p != '/' && *p != '?'; p++)
            ;
        if (p < end && *p == '/')
            return h2o_iovec_init(p, (size_t)(end - p));
        char *o = h2o_mem_alloc_pool(&req->pool, (size_t)(end - p) + 1);
        o[0] = '/';
        memcpy(o + 1, p, (size_t)(end - p));
        return h2o_iovec_init(o, (size_t)(end - p) + 1);
    }
    return t;
}

/* The one h2o handler, registered on "/" (so it sees every request). */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct gl_http_server *srv = ((struct glue_handler *)self)->srv;
    h2o_iovec_t t = req->input.path, m = req->input.method;
    struct req_impl *ri;
    const char *q, *why;
    size_t plen;
    int rc;

    ri = h2o_mem_alloc_shared(&req->pool, sizeof(*ri), req_dispose);
    memset(ri, 0, sizeof(*ri));
    ri->srv = srv;
    ri->h2o = req;
    ri->pub.method = ri->pub.path = ri->pub.query = "";
    ri->pub.body = empty_body;
    if ((why = framing_problem(req)) != NULL) {
        /* where this request ends is in doubt, so where the next one
         * starts is too: nothing more is read from this connection */
        req->http1_is_persistent = 0;
        gl_http_reply_error(&ri->pub, 400, why);
        return 0;
    }
    if (t.len > GL_HTTP_MAX_TARGET) {
        gl_http_reply_error(&ri->pub, 414, "request target too long");
        return 0;
    }
    t = origin_form(req, t);
    if (t.len == 0 || t.base[0] != '/' || memchr(t.base, 0, t.len) != NULL ||
        m.len == 0 || m.len > MAX_METHOD || memchr(m.base, 0, m.len) != NULL) {
        gl_http_reply_error(&ri->pub, 400, "bad request line");
        return 0;
    }
    ri->pub.method = pool_strdup(req, m.base, m.len);
    q = memchr(t.base, '?', t.len);
    plen = q != NULL ? (size_t)(q - t.base) : t.len;
    ri->pub.path = pool_strdup(req, t.base, plen);
    if (q != NULL)
        ri->pub.query = pool_strdup(req, q + 1, t.len - plen - 1);
    if (req->entity.base != NULL) {
        ri->pub.body = (const uint8_t *)req->entity.base;
        ri->pub.body_len = req->entity.len;
    }
    srv->stats.requests++;
    rc = srv->handler(srv->ctx, &ri->pub);
    if (!ri->answered && (rc != 0 || !ri->deferred)) {
        if (rc == 0)
            gl_log(GL_LOG_ERROR, "http: handler left %s %s unanswered", ri->pub.method,
                   ri->pub.path);
        answer_500(ri);
    }
    return 0;
}

/* ---- server ---- */

/* Raises the soft RLIMIT_NOFILE to the hard one; RLIM_INFINITY is above
 * what the kernel allows (fs.nr_open), so then to `unlimited` (the most a
 * descriptor budget here can use). *rl gets the limits now. GL_EINVAL if
 * they cannot be read; a refused raise is logged, not an error. */
static int fd_raise(rlim_t unlimited, struct rlimit *rl)
{
    rlim_t want;

    if (getrlimit(RLIMIT_NOFILE, rl) != 0)
        return GL_EINVAL;
    want = rl->rlim_max == RLIM_INFINITY ? unlimited : rl->rlim_max;
    if (want > rl->rlim_cur) {
        struct rlimit up = {want, rl->rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl->rlim_cur = want;
        else
            gl_log(GL_LOG_WARN,
                   "http: cannot raise the open-file limit from %llu to %llu: %s",
                   (unsigned long long)rl->rlim_cur, (unsigned long long)want,
                   strerror(errno));
    }
    return 0;
}

/* 1 if the soft limit of rl holds reserve_fds and GL_HTTP_MIN_CONNECTIONS
 * connections beside (reserve_fds <= GL_HTTP_MAX_FD_RESERVE: no overflow). */
static int fd_fits(const struct rlimit *rl, unsigned reserve_fds)
{
    return rl->rlim_cur == RLIM_INFINITY ||
           rl->rlim_cur >= (rlim_t)reserve_fds + GL_HTTP_MIN_CONNECTIONS;
}

int gl_http_fd_fits(unsigned reserve_fds, struct gl_http_fd_limits *lim)
{
    struct rlimit rl;

    if (lim == NULL || reserve_fds > GL_HTTP_MAX_FD_RESERVE ||
        getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return GL_EINVAL;
    lim->soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    lim->hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
    return fd_fits(&rl, reserve_fds) ? 0 : GL_ERANGE;
}

int gl_http_fd_raise(void)
{
    struct rlimit rl;

    return fd_raise((rlim_t)GL_HTTP_MAX_CONNECTIONS_LIMIT + GL_HTTP_MAX_FD_RESERVE, &rl);
}

int gl_http_fd_budget(unsigned reserve_fds, unsigned *max_connections)
{
    struct rlimit rl;
    rlim_t left;

    if (max_connections == NULL || reserve_fds > GL_HTTP_MAX_FD_RESERVE ||
        fd_raise((rlim_t)GL_HTTP_MAX_CONNECTIONS_LIMIT + reserve_fds, &rl) != 0)
        return GL_EINVAL;
    left = rl.rlim_cur > reserve_fds ? rl.rlim_cur - reserve_fds : 0;
    if (left > GL_HTTP_MAX_CONNECTIONS_LIMIT)
        left = GL_HTTP_MAX_CONNECTIONS_LIMIT;
    if (!fd_fits(&rl, reserve_fds)) {
        gl_log(
            GL_LOG_ERROR,
            "http: the open-file limit is %llu (hard %llu): with %u kept for storage and "
            "the rest, fewer than %u connections fit; raise it (ulimit -Hn, "
            "LimitNOFILE=) "
            "to at least %u",
            (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, reserve_fds,
            GL_HTTP_MIN_CONNECTIONS, reserve_fds + GL_HTTP_MIN_CONNECTIONS);
        return GL_ERANGE;
    }
    gl_log(GL_LOG_INFO,
           "http: open-file limit %llu (hard %llu), %u kept for storage and the rest: "
           "%llu connections",
           (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, reserve_fds,
           (unsigned long long)left);
    *max_connections = (unsigned)left;
    return 0;
}

static int valid_server_name(const char *s)
{
    size_t n = 0;

    for (; s[n] != 0; n++)
        if (n >= MAX_SERVER_NAME || s[n] < 0x20 || s[n] > 0x7e)
            return 0;
    return n > 0;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

struct walk_arg {
    void *target;
    int found;
};

static void unref_async(uv_handle_t *h, void *arg)
{
    struct walk_arg *w = arg;

    if (h->type == UV_ASYNC && (void *)h == w->target) {
        uv_unref(h);
        w->found = 1;
    }
}

/* A client that hangs up must not kill the daemon: libuv writes with
 * write(2), which raises SIGPIPE on a reset connection. Only a default
 * disposition is changed; a handler the program installed is kept. */
static void ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
        !(sa.sa_flags & SA_SIGINFO)) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
    }
}

int gl_http_server_new(uv_loop_t *loop, const struct gl_http_server_config *cfg,
                       gl_http_handler handler, void *ctx, struct gl_http_server **out)
{
    struct gl_http_server *srv = NULL;
    h2o_hostconf_t *hostconf;
    h2o_pathconf_t *pathconf;
    struct glue_handler *glue;
    struct walk_arg w;
    uint16_t port = 0;
    int fd = -1, err, uverr;

    if (loop == NULL || cfg == NULL || handler == NULL || out == NULL)
        return GL_EINVAL;
    if (cfg->max_body > GL_HTTP_MAX_BODY_LIMIT ||
        cfg->max_connections > GL_HTTP_MAX_CONNECTIONS_LIMIT ||
        cfg->max_conns_per_addr > GL_HTTP_MAX_CONNECTIONS_LIMIT ||
        (cfg->max_head != 0 &&
         (cfg->max_head < GL_HTTP_MIN_HEAD || cfg->max_head > GL_HTTP_MAX_HEAD_LIMIT)) ||
        (cfg->max_held != 0 && cfg->max_held < GL_HTTP_MIN_HELD) ||
        (cfg->server_name != NULL && !valid_server_name(cfg->server_name)))
        return GL_EINVAL;
    if ((err = open_listener(cfg->listen, &fd, &port)) != 0)
        return err;
    if ((srv = calloc(1, sizeof(*srv))) == NULL ||
        (srv->listener = malloc(sizeof(uv_tcp_t))) == NULL) {
        err = GL_ENOMEM;
        goto fail;
    }
    srv->loop = loop;
    srv->handler = handler;
    srv->ctx = ctx;
    srv->port = port;
    srv->max_conns =
        cfg->max_connections != 0 ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
    srv->max_per_addr = cfg->max_conns_per_addr != 0 ? cfg->max_conns_per_addr
                                                     : GL_HTTP_DEFAULT_CONNS_PER_ADDR;
    srv->sweep_ms =
        cfg->liveness_check_ms != 0 ? cfg->liveness_check_ms : DEFAULT_LIVENESS_MS;
    srv->timeout_ms =
        cfg->idle_timeout_ms != 0 ? cfg->idle_timeout_ms : DEFAULT_IDLE_TIMEOUT_MS;
    srv->max_head = cfg->max_head != 0 ? cfg->max_head : GL_HTTP_DEFAULT_MAX_HEAD;
    srv->max_held = cfg->max_held != 0 ? cfg->max_held : GL_HTTP_DEFAULT_MAX_HELD;
    if ((err = addr_limit_new(srv->max_conns, &srv->clients)) != 0)
        goto fail;
    snprintf(srv->server_name, sizeof(srv->server_name), "%s",
             cfg->server_name != NULL ? cfg->server_name : "glasslog/" GL_VERSION);

    if ((uverr = uv_tcp_init(loop, srv->listener)) != 0) {
        gl_log(GL_LOG_ERROR, "http: uv_tcp_init: %s", uv_strerror(uverr));
        err = GL_EIO;
        goto fail;
    }
    srv->listener->data = srv;
    uverr = uv_tcp_open(srv->listener, fd);
    if (uverr == 0) {
        fd = -1; /* the handle owns it now */
        uverr = uv_listen((uv_stream_t *)srv->listener, LISTEN_BACKLOG, on_connection);
    }
    if (uverr != 0) {
        /* The handle exists: it can only be closed asynchronously, and is
         * freed when the loop next runs. */
        gl_log(GL_LOG_ERROR, "http: listen on %s: %s", cfg->listen, uv_strerror(uverr));
        uv_close((uv_handle_t *)srv->listener, free_handle);
        srv->listener = NULL;
        err = GL_EIO;
        goto fail;
    }
    uv_timer_init(loop, &srv->sweep);
    srv->sweep.data = srv;
    ignore_sigpipe();

    h2o_config_init(&srv->config);
    srv->config.server_name = h2o_iovec_init(srv->server_name, strlen(srv->server_name));
    srv->config.max_request_entity_size =
        cfg->max_body != 0 ? cfg->max_body : DEFAULT_MAX_BODY;
    srv->config.http1.req_timeout = srv->timeout_ms;
    srv->config.http1.upgrade_to_http2 = 0;
    hostconf = h2o_config_register_host(&srv->config,
                                        h2o_iovec_init(H2O_STRLIT("default")), 65535);
    pathconf = h2o_config_register_path(hostconf, "/", 0);
    glue = (struct glue_handler *)h2o_create_handler(pathconf, sizeof(*glue));
    glue->super.on_req = on_req;
    glue->srv = srv;
    h2o_context_init(&srv->h2octx, loop, &srv->config);
    srv->accept_ctx.ctx = &srv->h2octx;
    srv->accept_ctx.hosts = srv->config.hosts;
    w.target = srv->h2octx.queue;
    w.found = 0;
    uv_walk(loop, unref_async, &w);
    if (!w.found)
        gl_log(GL_LOG_WARN, "http: h2o's queue handle not found; uv_run will not return "
                            "by itself after shutdown");
    gl_log(GL_LOG_INFO,
           "http: at most %u connections, %u per client; request timeout %llu ms; "
           "bodies up to %zu bytes; request heads up to %zu bytes; reply bodies held "
           "up to %zu bytes in all",
           srv->max_conns, srv->max_per_addr, (unsigned long long)srv->timeout_ms,
           srv->config.max_request_entity_size, srv->max_head, srv->max_held);
    *out = srv;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (srv != NULL) {
        free(srv->listener);
        addr_limit_free(srv->clients);
    }
    free(srv);
    return err;
}

uint16_t gl_http_server_port(const struct gl_http_server *srv)
{
    return srv->port;
}

void gl_http_server_stats(const struct gl_http_server *srv, struct gl_http_stats *out)
{
    *out = srv->stats;
    for (size_t i = 0; i < H2O_STATUS_ERROR_MAX; i++)
        count_status(out, h2o_error_codes[i], srv->h2octx.emitted_error_status[i]);
}

void gl_http_server_free(struct gl_http_server *srv)
{
    if (srv == NULL)
        return;
    if (!srv->closed) {
        gl_log(GL_LOG_ERROR,
               "http: server freed before its shutdown completed; leaking it");
        return;
    }
    h2o_context_dispose(&srv->h2octx);
    h2o_config_dispose(&srv->config);
    addr_limit_free(srv->clients);
    free(srv);
}
