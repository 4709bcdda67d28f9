/*
 * test_http: the network adapters end to end, on 127.0.0.1 only. Each test
 * starts a server on a free port and runs its libuv loop in the test
 * (main) thread, while a client thread talks to it with the real
 * http_client (or a raw socket when the bytes on the wire matter). The
 * client thread only records what it saw; the assertions run in the main
 * thread after the loop has ended (cmocka cannot fail from another thread).
 * Every test ends with the clean-shutdown check: gl_http_server_close,
 * uv_run returns (quickly), gl_http_server_free, uv_loop_close == 0, and
 * under ASan/LSan nothing leaks.
 *
 * Covered: routing on path and query, request headers, peer address,
 * binary POST bodies, Content-Length on the wire (never chunked),
 * keep-alive reuse, 400/413/414 refusals, JSON error bodies, deferred
 * replies from a timer, a client that leaves before its deferred reply,
 * unanswered and failed handlers, max_connections, shutdown with idle
 * keep-alive and deferred requests (one answered after the shutdown's
 * grace, while a half head is reset at it), client size cap, timeout,
 * refused connection, gzip decoding (and the cap on decoded bytes), the
 * threadpool async client, bad configurations; and what hostile clients
 * can hold:
 * the per-client connection limit (IPv4 from two loopback addresses, and
 * IPv6), a request head or body dribbled in (cut at the request timeout,
 * which arriving bytes do not extend), a client that stops reading a large
 * answer (reset) next to one that reads slowly (served), and the body cap
 * for Content-Length and chunked bodies; every status is counted by code
 * (gl_metrics_http shows codes outside the common few, such as 202, 422);
 * heads with ambiguous body framing (400 and a close, nothing after them
 * read: no request smuggling), unfinished heads over max_head (reset),
 * and a client gone behind bytes it sent while its request was deferred.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "clock.h"
#include "metrics.h"

/* gzip -9 of "glasslog\n" x 2000 (18000 bytes), made with Python's gzip
 * module (mtime 0): zlib is not linked into the tests, curl decodes. */
static const unsigned char gz_text[82] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0xed, 0xc6, 0xb1, 0x09,
    0x00, 0x40, 0x08, 0x04, 0xb0, 0xfe, 0xb7, 0xb4, 0xba, 0x46, 0xb0, 0x70, 0x7f, 0xf8,
    0x39, 0x84, 0xa4, 0x4a, 0xba, 0x76, 0x7b, 0xf2, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
    0x22, 0x97, 0xf3, 0x01, 0xe1, 0xa6, 0x69, 0xca, 0x50, 0x46, 0x00, 0x00,
};
#define GZ_TEXT_LEN 18000

#define BIG_LEN 100000
#define MAX_BODY (64 * 1024 + 16)

struct fx;
typedef void (*client_fn)(struct fx *f);

/* What the client thread saw, one slot per check. */
struct seen {
    int err;
    long status;
    size_t len;
    char *body; /* malloc'd copy, NUL-terminated */
    char ctype[GL_HTTP_MAX_CAPTURE];
    char header[GL_HTTP_MAX_CAPTURE];
    int has_header, timed_out;
    char error[256];
    double ms;
};

#define NSEEN 12

struct fx {
    uv_loop_t loop;
    struct gl_http_server *srv;
    uint16_t port;
    char base[64];
    uv_async_t done;
    pthread_t thread;
    client_fn client;
    /* hold: the client thread keeps its connections open until the loop
     * has ended (to test closing idle keep-alive connections). */
    int hold;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int released;
    /* main thread / loop side */
    int closed_cb;
    uint64_t active_at_close; /* connections open when the client was done */
    double close_ms;          /* from close request to the end of uv_run */
    struct timespec close_start;
    struct gl_http_client *keep; /* a client kept open past the loop */
    /* handler side records */
    int gone_alive, gone_rc, gone_fired;
    int badhdr_rc, badstatus_rc, bodyless_rc;
    int async_done, async_ok, async_cancelled;
    struct gl_http_multi *multi;
    int rst_alive, rst_rc, rst_fired;
    struct gl_http_pending *async_pending;
    char echo_seen[512];
    /* client side records */
    struct seen s[NSEEN];
    char raw[8][4096];
    int raw_len[8];
    int raw_eof[8];
    double raw_ms[8];
    uint8_t *post; /* the binary body sent */
    size_t post_len;
    int retries;
    size_t big_got[2];
    int big_end[2];
    double big_ms[2];
};

static double now_ms(void)
{
    return gl_clock_mono() * 1e3;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- handler side (loop thread) ---- */

static void on_closed(void *arg)
{
    ((struct fx *)arg)->closed_cb++;
}

struct later {
    uv_timer_t t;
    struct fx *f;
    struct gl_http_pending *p;
    int kind;
};

enum { LATER_SLOW, LATER_GONE, LATER_CLOSE, LATER_RST };

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void on_later(uv_timer_t *t)
{
    struct later *l = (struct later *)t;
    struct fx *f = l->f;

    switch (l->kind) {
    case LATER_SLOW:
    case LATER_CLOSE:
        assert_int_equal(gl_http_pending_alive(l->p), 1);
        assert_int_equal(
            gl_http_pending_reply(l->p, 200, "text/plain", NULL, 0, "late", 4), 0);
        assert_int_equal(gl_http_pending_alive(l->p), 0);
        assert_int_equal(gl_http_pending_reply(l->p, 200, NULL, NULL, 0, NULL, 0),
                         GL_ESTATE);
        break;
    case LATER_RST:
        /* the peer reset the connection; the sweep has not looked yet */
        f->rst_fired = 1;
        f->rst_alive = gl_http_pending_alive(l->p);
        f->rst_rc = gl_http_pending_reply(l->p, 200, "text/plain", NULL, 0, "void", 4);
        break;
    case LATER_GONE:
        f->gone_fired = 1;
        f->gone_alive = gl_http_pending_alive(l->p);
        f->gone_rc = gl_http_pending_reply_error(l->p, 503, "too late");
        break;
    }
    gl_http_pending_release(l->p);
    uv_close((uv_handle_t *)t, free_handle);
}

static void defer_for(struct fx *f, struct gl_http_req *req, int kind, uint64_t ms)
{
    struct later *l = calloc(1, sizeof(*l));

    assert_non_null(l);
    l->f = f;
    l->kind = kind;
    assert_int_equal(gl_http_defer(req, &l->p), 0);
    assert_int_equal(gl_http_defer(req, &l->p), GL_ESTATE);
    uv_timer_init(&f->loop, &l->t);
    uv_timer_start(&l->t, on_later, ms, 0);
}

static void on_async_cancelled(void *arg, int err, struct gl_http_response *resp)
{
    struct fx *f = arg;

    if (err == GL_EIO && resp->status == 0 && strcmp(resp->error, "cancelled") == 0)
        f->async_cancelled++;
}

static void on_async_done(void *arg, int err, struct gl_http_response *resp)
{
    struct fx *f = arg;

    f->async_done++;
    if (err == 0 && resp->status == 200 && resp->body.len > 0)
        f->async_ok++;
    if (f->async_done == 3) {
        struct gl_http_request_spec spec;
        char msg[32], url[96];
        snprintf(msg, sizeof(msg), "ok %d", f->async_ok);
        gl_http_pending_reply(f->async_pending, 200, "text/plain", NULL, 0, msg,
                              strlen(msg));
        gl_http_pending_release(f->async_pending);
        f->async_pending = NULL;
        /* One more, cancelled by the close before it can finish; then no
         * request is taken any more. */
        snprintf(url, sizeof(url), "%s/echo?cancelled", f->base);
        memset(&spec, 0, sizeof(spec));
        spec.url = url;
        spec.max_response = 4096;
        assert_int_equal(gl_http_multi_request(f->multi, &spec, on_async_cancelled, f),
                         0);
        assert_int_equal(gl_http_multi_active(f->multi), 1);
        gl_http_multi_close(f->multi, NULL, NULL);
        assert_int_equal(f->async_cancelled, 1);
        assert_int_equal(gl_http_multi_active(f->multi), 0);
        assert_int_equal(gl_http_multi_request(f->multi, &spec, on_async_cancelled, f),
                         GL_ESTATE);
    }
}

static int handler(void *ctx, struct gl_http_req *req)
{
    struct fx *f = ctx;
    const char *p = req->path;

    if (strcmp(p, "/echo") == 0) {
        static const struct gl_http_header hs[] = {{"Cache-Control", "no-store"},
                                                   {"Retry-After", "7"}};
        const char *v = "";
        size_t vlen = 0;
        char out[512];
        if (gl_http_req_header(req, "x-TEST", &v, &vlen) != 0)
            v = "-", vlen = 1;
        snprintf(out, sizeof(out), "%s %s ?%s x=%.*s peer=%s", req->method, req->path,
                 req->query, (int)vlen, v, gl_http_req_peer(req));
        snprintf(f->echo_seen, sizeof(f->echo_seen), "%s", out);
        return gl_http_reply(req, 200, "text/plain", hs, 2, out, strlen(out));
    }
    if (strcmp(p, "/body") == 0) {
        if (strcmp(req->method, "POST") != 0)
            return gl_http_reply_error(req, 405, "POST only");
        return gl_http_reply(req, 200, "application/octet-stream", NULL, 0, req->body,
                             req->body_len);
    }
    if (strcmp(p, "/big") == 0) {
        char *b = malloc(BIG_LEN);
        int rc;
        assert_non_null(b);
        memset(b, 'x', BIG_LEN);
        rc = gl_http_reply(req, 200, "application/octet-stream", NULL, 0, b, BIG_LEN);
        free(b); /* the reply holds its own copy */
        return rc;
    }
    if (strcmp(p, "/kib") == 0) { /* ?<KiB> */
        char b[64 << 10];
        size_t n = strtoul(req->query, NULL, 10) << 10;
        assert_true(n <= sizeof(b));
        memset(b, 'k', n);
        return gl_http_reply(req, 200, "application/octet-stream", NULL, 0, b, n);
    }
    if (strcmp(p, "/huge") == 0) { /* ?<MiB> */
        size_t n = strtoul(req->query, NULL, 10) << 20;
        char *b = malloc(n);
        int rc;
        assert_non_null(b);
        memset(b, 'h', n);
        rc = gl_http_reply(req, 200, "application/octet-stream", NULL, 0, b, n);
        free(b);
        return rc;
    }
    if (strcmp(p, "/gzip") == 0) {
        static const struct gl_http_header hs[] = {{"Content-Encoding", "gzip"}};
        return gl_http_reply(req, 200, "text/plain", hs, 1, gz_text, sizeof(gz_text));
    }
    if (strcmp(p, "/slow") == 0) {
        defer_for(f, req, LATER_SLOW, 150);
        return 0;
    }
    if (strcmp(p, "/rst") == 0) {
        defer_for(f, req, LATER_RST, 150);
        return 0;
    }
    if (strcmp(p, "/host") == 0) {
        const char *v;
        size_t vlen;
        if (gl_http_req_header(req, "Host", &v, &vlen) != 0)
            return gl_http_reply_error(req, 400, "no host");
        assert_int_equal(gl_http_req_header(req, "content-length", &v, &vlen),
                         GL_ENOTFOUND);
        assert_int_equal(gl_http_req_header(req, "bad name", &v, &vlen), GL_EINVAL);
        if (gl_http_req_header(req, "Host", &v, &vlen) != 0)
            return gl_http_reply_error(req, 400, "no host");
        return gl_http_reply(req, 200, "text/plain", NULL, 0, v, vlen);
    }
    if (strcmp(p, "/gone") == 0) {
        defer_for(f, req, LATER_GONE, 400);
        return 0;
    }
    if (strcmp(p, "/park") == 0) {
        defer_for(f, req, LATER_GONE, 600);
        return 0;
    }
    if (strcmp(p, "/closeslow") == 0) {
        defer_for(f, req, LATER_CLOSE, GL_HTTP_CLOSE_GRACE_MS + 300);
        clock_gettime(CLOCK_MONOTONIC, &f->close_start);
        gl_http_server_close(f->srv, on_closed, f);
        return 0;
    }
    if (strcmp(p, "/forget") == 0) {
        struct gl_http_pending *pd;
        assert_int_equal(gl_http_defer(req, &pd), 0);
        gl_http_pending_release(pd); /* answers 500 */
        return 0;
    }
    if (strcmp(p, "/status") == 0) /* ?<code> */
        return gl_http_reply_text(req, atoi(req->query), "s");
    if (strcmp(p, "/error") == 0)
        return gl_http_reply_error(req, 403, "bad \"sig\"\n\x01 caf\xc3\xa9 \xff");
    if (strcmp(p, "/none") == 0)
        return 0;
    if (strcmp(p, "/fail") == 0)
        return GL_EIO;
    if (strcmp(p, "/nocontent") == 0) {
        f->bodyless_rc = gl_http_reply(req, 204, NULL, NULL, 0, "x", 1);
        return gl_http_reply(req, 204, NULL, NULL, 0, NULL, 0);
    }
    if (strcmp(p, "/badhdr") == 0) {
        struct gl_http_header bad[] = {{"X-Evil", "a\r\nSet-Cookie: x"}};
        struct gl_http_header len[] = {{"Content-Length", "5"}};
        f->badhdr_rc = gl_http_reply(req, 200, NULL, bad, 1, "x", 1);
        struct gl_http_header sniff[] = {{"X-Content-Type-Options", "sniff"}};
        assert_int_equal(gl_http_reply(req, 200, NULL, len, 1, "x", 1), GL_EINVAL);
        assert_int_equal(gl_http_reply(req, 200, NULL, sniff, 1, "x", 1), GL_EINVAL);
        f->badstatus_rc = gl_http_reply(req, 100, NULL, NULL, 0, NULL, 0);
        return gl_http_reply_text(req, 200, "fine");
    }
    if (strcmp(p, "/async") == 0) {
        struct gl_http_request_spec spec;
        char url[96];
        assert_int_equal(gl_http_defer(req, &f->async_pending), 0);
        assert_int_equal(gl_http_multi_new(&f->loop, NULL, &f->multi), 0);
        snprintf(url, sizeof(url), "%s/echo?async", f->base);
        memset(&spec, 0, sizeof(spec));
        spec.url = url;
        spec.max_response = 4096;
        spec.timeout_ms = 2000;
        for (int i = 0; i < 3; i++)
            assert_int_equal(gl_http_multi_request(f->multi, &spec, on_async_done, f), 0);
        spec.url = "ftp://example.org/";
        assert_int_equal(gl_http_multi_request(f->multi, &spec, on_async_done, f),
                         GL_EINVAL);
        return 0;
    }
    return gl_http_reply_error(req, 404, "no such route");
}

/* ---- fixture ---- */

static void on_done(uv_async_t *a)
{
    struct fx *f = a->data;
    struct gl_http_stats st;

    gl_http_server_stats(f->srv, &st);
    f->active_at_close = st.conns_active;
    if (f->close_start.tv_sec == 0)
        clock_gettime(CLOCK_MONOTONIC, &f->close_start);
    gl_http_server_close(f->srv, on_closed, f);
    gl_http_server_close(f->srv, on_closed, f); /* ignored */
    uv_close((uv_handle_t *)a, NULL);
}

static void *client_main(void *arg)
{
    struct fx *f = arg;

    f->client(f);
    uv_async_send(&f->done);
    if (f->hold) {
        pthread_mutex_lock(&f->mu);
        while (!f->released)
            pthread_cond_wait(&f->cv, &f->mu);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

/* A configuration of defaults listening on `listen`. */
static void cfg_local(struct gl_http_server_config *cfg, const char *listen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = listen;
}

/* Runs a server with cfg_in (NULL: defaults on 127.0.0.1:0) and client in
 * a thread until the client is done and the server has shut down. With
 * hold, the client thread keeps running (holding its connections) until
 * the loop has ended. */
static void fx_run(struct fx *f, const struct gl_http_server_config *cfg_in,
                   client_fn client, int hold)
{
    struct gl_http_server_config cfg;
    struct timespec end;

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (cfg_in != NULL) {
        cfg = *cfg_in;
    } else {
        cfg_local(&cfg, "127.0.0.1:0");
    }
    if (cfg.server_name == NULL)
        cfg.server_name = "glasslog-test";
    if (cfg.max_body == 0)
        cfg.max_body = MAX_BODY;
    if (cfg.liveness_check_ms == 0)
        cfg.liveness_check_ms = 20;
    f->client = client;
    f->hold = hold;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(gl_http_server_new(&f->loop, &cfg, handler, f, &f->srv), 0);
    f->port = gl_http_server_port(f->srv);
    assert_true(f->port != 0);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", f->port);
    assert_int_equal(uv_async_init(&f->loop, &f->done, on_done), 0);
    f->done.data = f;
    assert_int_equal(pthread_create(&f->thread, NULL, client_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    clock_gettime(CLOCK_MONOTONIC, &end);
    f->close_ms = (double)(end.tv_sec - f->close_start.tv_sec) * 1e3 +
                  (double)(end.tv_nsec - f->close_start.tv_nsec) / 1e6;
    pthread_mutex_lock(&f->mu);
    f->released = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    assert_int_equal(f->closed_cb, 1);
    assert_int_equal(gl_http_server_is_closed(f->srv), 1);
}

static void fx_finish(struct fx *f)
{
    struct gl_http_stats st;

    gl_http_server_stats(f->srv, &st);
    assert_int_equal(st.conns_active, 0);
    assert_int_equal(st.pending, 0);
    gl_http_server_free(f->srv);
    gl_http_multi_free(f->multi);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    for (int i = 0; i < NSEEN; i++)
        free(f->s[i].body);
    free(f->post);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

static uint64_t stat_code(const struct gl_http_stats *st, int code)
{
    assert_true(code >= GL_HTTP_STAT_MIN && code <= GL_HTTP_STAT_MAX);
    return st->by_code[code - GL_HTTP_STAT_MIN];
}

/* ---- client side helpers (client thread: record, never assert) ---- */

static void record(struct seen *s, int err, struct gl_http_response *r, double t0)
{
    s->err = err;
    s->status = r->status;
    s->len = r->body.len;
    s->body = malloc(r->body.len + 1);
    if (s->body != NULL) {
        if (r->body.len > 0)
            memcpy(s->body, r->body.data, r->body.len);
        s->body[r->body.len] = 0;
    }
    memcpy(s->ctype, r->content_type, sizeof(s->ctype));
    memcpy(s->header, r->header, sizeof(s->header));
    s->has_header = r->has_header;
    s->timed_out = r->timed_out;
    memcpy(s->error, r->error, sizeof(s->error));
    s->ms = now_ms() - t0;
    gl_http_response_release(r);
}

static void get(struct fx *f, struct gl_http_client *c, int slot, const char *path,
                size_t max, long timeout_ms)
{
    struct gl_http_response r;
    char url[GL_HTTP_CLIENT_MAX_URL];
    double t0 = now_ms();

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    record(&f->s[slot], gl_http_get(c, url, max, timeout_ms, &r), &r, t0);
}

static struct gl_http_client *new_client(void)
{
    struct gl_http_client *c = NULL;

    if (gl_http_client_new(NULL, &c) != 0)
        abort();
    return c;
}

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static const char *ci_find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != 0; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* A TCP connection to the server from address `from` ("127.0.0.1",
 * "127.0.0.2", "::1": any loopback address; the server's address is the
 * same family's loopback), with a 2 s receive timeout and, if rcvbuf > 0,
 * that receive buffer. -1 on failure. */
static int raw_connect_ex(const char *from, uint16_t port, int rcvbuf)
{
    struct sockaddr_storage src, dst;
    struct timeval tv = {2, 0};
    socklen_t len;
    int v6 = strchr(from, ':') != NULL,
        fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    if (v6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&src,
                            *d = (struct sockaddr_in6 *)&dst;
        s->sin6_family = d->sin6_family = AF_INET6;
        inet_pton(AF_INET6, from, &s->sin6_addr);
        d->sin6_addr = in6addr_loopback;
        d->sin6_port = htons(port);
        len = sizeof(*s);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&src,
                           *d = (struct sockaddr_in *)&dst;
        s->sin_family = d->sin_family = AF_INET;
        inet_pton(AF_INET, from, &s->sin_addr);
        d->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d->sin_port = htons(port);
        len = sizeof(*s);
    }
    if (bind(fd, (struct sockaddr *)&src, len) != 0 ||
        connect(fd, (struct sockaddr *)&dst, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int raw_connect(uint16_t port)
{
    return raw_connect_ex("127.0.0.1", port, 0);
}

/* Sends req (len bytes) and reads one response: the head, then (unless
 * head_only) Content-Length bytes of body, or up to EOF without one.
 * Stores it in f->raw[slot]. */
static void raw_exchange(struct fx *f, int fd, int slot, const char *req, size_t len,
                         int head_only)
{
    char *buf = f->raw[slot];
    size_t cap = sizeof(f->raw[slot]) - 1, n = 0, want = SIZE_MAX;
    ssize_t k;

    if (len > 0 && send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
        f->raw_len[slot] = -1;
        return;
    }
    while (n < cap && n < want) {
        k = recv(fd, buf + n, cap - n, 0);
        if (k <= 0) {
            f->raw_eof[slot] = k == 0;
            break;
        }
        n += (size_t)k;
        buf[n] = 0;
        if (want == SIZE_MAX) {
            const char *end = strstr(buf, "\r\n\r\n"), *cl;
            if (end != NULL) {
                cl = ci_find(buf, "\r\nContent-Length:");
                want = (size_t)(end + 4 - buf);
                if (cl != NULL && cl < end && !head_only)
                    want += strtoul(cl + 17, NULL, 10);
                else if (cl == NULL && !head_only)
                    want = SIZE_MAX - 1;
            }
        }
    }
    buf[n] = 0;
    f->raw_len[slot] = (int)n;
}

/* 1 if the peer closed the connection (EOF) within 2 s. */
static int raw_wait_eof(int fd)
{
    char c;

    return recv(fd, &c, 1, 0) == 0;
}

/* Sends req (len bytes) and reads everything the server sends until it
 * closes the connection (or 2 s pass without data) into f->raw[slot]. */
static void raw_until_eof(struct fx *f, int fd, int slot, const char *req, size_t len)
{
    char *buf = f->raw[slot];
    size_t cap = sizeof(f->raw[slot]) - 1, n = 0;
    ssize_t k;

    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
        f->raw_len[slot] = -1;
        return;
    }
    while (n < cap && (k = recv(fd, buf + n, cap - n, 0)) > 0)
        n += (size_t)k;
    f->raw_eof[slot] = n < cap && k == 0;
    buf[n] = 0;
    f->raw_len[slot] = (int)n;
}

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- tests ---- */

static void client_routing(struct fx *f)
{
    struct gl_http_client *c = new_client();
    struct gl_http_response r;
    struct gl_http_request_spec s;
    struct gl_http_header h[] = {{"X-Test", "hello world"}, {"Accept", "*/*"}};
    char url[128];
    double t0 = now_ms();

    memset(&s, 0, sizeof(s));
    snprintf(url, sizeof(url), "%s/echo?a=1&b=%%2F", f->base);
    s.url = url;
    s.headers = h;
    s.nheaders = 2;
    s.max_response = 4096;
    s.timeout_ms = 2000;
    s.capture_header = "cache-control";
    record(&f->s[0], gl_http_request(c, &s, &r), &r, t0);
    get(f, c, 1, "/echo", 4096, 2000);         /* same connection, default capture */
    get(f, c, 2, "/nowhere?x", 4096, 2000);    /* 404 */
    get(f, c, 3, "/echo/../echo", 4096, 2000); /* path as received */
    get(f, c, 4, "/host", 4096, 2000);
    gl_http_client_free(c);
}

static void test_routing(void **state)
{
    struct fx f;
    struct gl_http_stats st;
    char host[32];
    (void)state;

    fx_run(&f, NULL, client_routing, 0);
    assert_int_equal(f.s[0].err, 0);
    assert_int_equal(f.s[0].status, 200);
    assert_string_equal(f.s[0].body, "GET /echo ?a=1&b=%2F x=hello world peer=127.0.0.1");
    assert_string_equal(f.s[0].ctype, "text/plain");
    assert_int_equal(f.s[0].has_header, 1);
    assert_string_equal(f.s[0].header, "no-store");
    assert_int_equal(f.s[1].status, 200);
    assert_string_equal(f.s[1].body, "GET /echo ? x=- peer=127.0.0.1");
    assert_int_equal(f.s[1].has_header, 1);
    assert_string_equal(f.s[1].header, "7"); /* Retry-After, the default capture */
    assert_int_equal(f.s[2].err, 0);
    assert_int_equal(f.s[2].status, 404);
    assert_string_equal(f.s[2].ctype, "application/json");
    assert_string_equal(f.s[2].body, "{\"error\":\"no such route\"}");
    assert_int_equal(f.s[2].has_header, 0);
    /* curl itself squashes dot segments; the server would pass them on */
    assert_int_equal(f.s[3].status, 200);
    snprintf(host, sizeof(host), "127.0.0.1:%u", f.port);
    assert_string_equal(f.s[4].body, host);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_accepted, 1); /* keep-alive: one connection */
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.by_class[2], 4);
    assert_int_equal(st.by_class[4], 1);
    assert_int_equal(stat_code(&st, 200), 4);
    assert_int_equal(stat_code(&st, 404), 1);
    assert_true(f.close_ms < 1000);
    fx_finish(&f);
}

static void client_status(struct fx *f)
{
    struct gl_http_client *c = new_client();

    get(f, c, 0, "/status?422", 4096, 2000);
    get(f, c, 1, "/status?422", 4096, 2000);
    get(f, c, 2, "/status?202", 4096, 2000);
    gl_http_client_free(c);
}

static void test_status_codes(void **state)
{
    struct fx f;
    struct gl_http_stats st;
    struct gl_buf b;
    (void)state;

    fx_run(&f, NULL, client_status, 0);
    assert_int_equal(f.s[0].status, 422);
    assert_int_equal(f.s[1].status, 422);
    assert_int_equal(f.s[2].status, 202);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(stat_code(&st, 422), 2);
    assert_int_equal(stat_code(&st, 202), 1);
    gl_buf_init(&b, 1 << 16);
    assert_int_equal(gl_metrics_http(&b, "t_http", &st), 0);
    assert_non_null(strstr((char *)b.data, "\nt_http_responses_total{code=\"422\"} 2\n"));
    assert_non_null(strstr((char *)b.data, "\nt_http_responses_total{code=\"202\"} 1\n"));
    gl_buf_release(&b);
    fx_finish(&f);
}

static void client_post(struct fx *f)
{
    struct gl_http_client *c = new_client();
    struct gl_http_response r;
    char url[128];
    double t0;

    f->post_len = 64 * 1024;
    f->post = malloc(f->post_len);
    if (f->post == NULL)
        abort();
    for (size_t i = 0; i < f->post_len; i++)
        f->post[i] = (uint8_t)(i % 7 == 0 ? 0 : (i * 131) & 0xff);
    snprintf(url, sizeof(url), "%s/body", f->base);
    t0 = now_ms();
    record(&f->s[0],
           gl_http_post(c, url, "application/octet-stream", f->post, f->post_len, 1 << 20,
                        2000, &r),
           &r, t0);
    t0 = now_ms();
    record(&f->s[1], gl_http_post(c, url, NULL, NULL, 0, 1 << 20, 2000, &r), &r, t0);
    /* larger than max_body: h2o answers 413 by itself */
    {
        size_t n = MAX_BODY + 1;
        uint8_t *big = calloc(1, n);
        t0 = now_ms();
        record(&f->s[2], gl_http_post(c, url, "text/plain", big, n, 1 << 20, 2000, &r),
               &r, t0);
        free(big);
    }
    get(f, c, 3, "/body", 4096, 2000); /* GET on a POST route: 405 */
    gl_http_client_free(c);
}

static void test_post_binary(void **state)
{
    struct fx f;
    struct gl_http_stats st;
    (void)state;

    fx_run(&f, NULL, client_post, 0);
    assert_int_equal(f.s[0].err, 0);
    assert_int_equal(f.s[0].status, 200);
    assert_int_equal(f.s[0].len, f.post_len);
    assert_memory_equal(f.s[0].body, f.post, f.post_len);
    assert_int_equal(f.s[1].err, 0);
    assert_int_equal(f.s[1].status, 200);
    assert_int_equal(f.s[1].len, 0);
    assert_int_equal(f.s[2].err, 0);
    assert_int_equal(f.s[2].status, 413);
    assert_int_equal(f.s[3].status, 405);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(stat_code(&st, 413), 1); /* counted from h2o's own errors */
    assert_int_equal(stat_code(&st, 405), 1);
    fx_finish(&f);
}

static void client_raw(struct fx *f)
{
    static const char get1[] = "GET /echo?raw HTTP/1.1\r\nHost: x\r\nX-Test: r\r\n\r\n";
    static const char head[] = "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char nul[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char chunked[] = "POST /body HTTP/1.1\r\nHost: x\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhel\0o\r\n6\r\n world\r\n0\r\n\r\n";
    /* absolute form (a forward proxy's): served as its origin form; a
     * scheme other than http and https is no target */
    static const char absolute[] =
        "GET hTTp://x.example/echo?abs HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char ftp[] = "GET ftp://x.example/echo HTTP/1.1\r\nHost: x\r\n\r\n";
    char *longreq;
    int fd;

    fd = raw_connect(f->port);
    raw_exchange(f, fd, 5, absolute, strlen(absolute), 0);
    close(fd);
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 6, ftp, strlen(ftp), 0);
    close(fd);
    /* two requests on one connection, then HEAD */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 0, get1, strlen(get1), 0);
    raw_exchange(f, fd, 1, head, strlen(head), 1);
    close(fd);
    /* a chunked request body */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 4, chunked, sizeof(chunked) - 1, 0);
    close(fd);
    /* a NUL in the request line */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 2, nul, sizeof(nul) - 1, 0);
    close(fd);
    /* a target longer than GL_HTTP_MAX_TARGET */
    longreq = malloc(GL_HTTP_MAX_TARGET + 100);
    if (longreq == NULL)
        abort();
    memcpy(longreq, "GET /", 5);
    memset(longreq + 5, 'a', GL_HTTP_MAX_TARGET);
    strcpy(longreq + 5 + GL_HTTP_MAX_TARGET, " HTTP/1.1\r\nHost: x\r\n\r\n");
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 3, longreq, strlen(longreq), 0);
    close(fd);
    free(longreq);
}

static void test_raw_wire(void **state)
{
    static const char body0[] = "GET /echo ?raw x=r peer=127.0.0.1";
    static const char body1[] = "HEAD /echo ? x=- peer=127.0.0.1";
    struct fx f;
    const char *r;
    char cl[64];
    (void)state;

    fx_run(&f, NULL, client_raw, 0);
    r = f.raw[0];
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body0));
    assert_non_null(ci_find(r, cl));
    assert_null(ci_find(r, "Transfer-Encoding"));
    assert_non_null(ci_find(r, "\r\nServer: glasslog-test\r\n"));
    assert_non_null(ci_find(r, "\r\nConnection: keep-alive\r\n"));
    assert_non_null(ci_find(r, "\r\ncache-control: no-store\r\n"));
    assert_non_null(ci_find(r, "\r\nx-content-type-options: nosniff\r\n"));
    assert_string_equal(strstr(r, "\r\n\r\n") + 4, body0);
    r = f.raw[1];
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body1));
    assert_non_null(ci_find(r, cl));
    assert_true(strlen(strstr(r, "\r\n\r\n")) == 4); /* HEAD: no body */
    assert_true(strncmp(f.raw[4], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(ci_find(f.raw[4], "\r\nContent-Length: 11\r\n"));
    assert_int_equal(f.raw_len[4],
                     (int)(strstr(f.raw[4], "\r\n\r\n") + 4 - f.raw[4]) + 11);
    assert_memory_equal(strstr(f.raw[4], "\r\n\r\n") + 4, "hel\0o world", 11);
    assert_true(strncmp(f.raw[2], "HTTP/1.1 400 ", 13) == 0);
    assert_true(strncmp(f.raw[3], "HTTP/1.1 414 ", 13) == 0);
    assert_non_null(strstr(f.raw[3], "{\"error\":\"request target too long\"}"));
    assert_non_null(ci_find(f.raw[3], "\r\nx-content-type-options: nosniff\r\n"));
    assert_true(strncmp(f.raw[5], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_string_equal(strstr(f.raw[5], "\r\n\r\n") + 4,
                        "GET /echo ?abs x=- peer=127.0.0.1");
    assert_true(strncmp(f.raw[6], "HTTP/1.1 400 ", 13) == 0);
    fx_finish(&f);
}

static void client_deferred(struct fx *f)
{
    struct gl_http_client *c = new_client();

    get(f, c, 0, "/slow", 4096, 2000);
    /* the client gives up before the deferred reply; the server notices */
    get(f, c, 1, "/gone", 4096, 100);
    sleep_ms(450); /* until the server's timer has fired */
    get(f, c, 2, "/forget", 4096, 2000);
    get(f, c, 3, "/none", 4096, 2000);
    get(f, c, 4, "/fail", 4096, 2000);
    get(f, c, 5, "/badhdr", 4096, 2000);
    get(f, c, 6, "/nocontent", 4096, 2000);
    gl_http_client_free(c);
}

static void test_deferred(void **state)
{
    struct fx f;
    struct gl_http_stats st;
    (void)state;

    fx_run(&f, NULL, client_deferred, 0);
    assert_int_equal(f.s[0].err, 0);
    assert_int_equal(f.s[0].status, 200);
    assert_string_equal(f.s[0].body, "late");
    assert_true(f.s[0].ms >= 140);
    /* client gone: the handle says so, replying is a no-op */
    assert_int_equal(f.s[1].err, GL_EIO);
    assert_int_equal(f.s[1].timed_out, 1);
    assert_int_equal(f.s[1].status, 0);
    assert_true(strlen(f.s[1].error) > 0);
    assert_int_equal(f.gone_fired, 1);
    assert_int_equal(f.gone_alive, 0);
    assert_int_equal(f.gone_rc, GL_ESTATE);
    /* released unanswered, unanswered, failed: 500 with a JSON body */
    for (int i = 2; i <= 4; i++) {
        assert_int_equal(f.s[i].status, 500);
        assert_string_equal(f.s[i].ctype, "application/json");
        assert_string_equal(f.s[i].body, "{\"error\":\"Internal Server Error\"}");
    }
    assert_int_equal(f.badhdr_rc, GL_EINVAL);
    assert_int_equal(f.badstatus_rc, GL_EINVAL);
    assert_int_equal(f.s[5].status, 200);
    assert_string_equal(f.s[5].body, "fine");
    assert_string_equal(f.s[5].ctype, "text/plain; charset=utf-8");
    assert_int_equal(f.bodyless_rc, GL_EINVAL);
    assert_int_equal(f.s[6].status, 204);
    assert_int_equal(f.s[6].len, 0);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.client_gone, 1);
    assert_int_equal(stat_code(&st, 500), 3);
    fx_finish(&f);
}

static void client_error(struct fx *f)
{
    struct gl_http_client *c = new_client();

    get(f, c, 0, "/error", 4096, 2000);
    gl_http_client_free(c);
}

static void test_error_json(void **state)
{
    struct fx f;
    cJSON *j, *e;
    (void)state;

    fx_run(&f, NULL, client_error, 0);
    assert_int_equal(f.s[0].status, 403);
    assert_string_equal(f.s[0].ctype, "application/json");
    j = cJSON_Parse(f.s[0].body);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsString(e));
    assert_string_equal(e->valuestring, "bad \"sig\"\n\x01 caf\xc3\xa9 \xef\xbf\xbd");
    cJSON_Delete(j);
    fx_finish(&f);
}

static void client_limits(struct fx *f)
{
    struct gl_http_client *c = new_client();
    struct gl_http_response r;
    char url[128];
    double t0;

    get(f, c, 0, "/big", BIG_LEN - 1, 2000); /* over the cap */
    get(f, c, 1, "/big", BIG_LEN, 2000);     /* exactly the cap */
    get(f, c, 2, "/gzip", 1 << 20, 2000);    /* decoded */
    get(f, c, 3, "/gzip", 10000, 2000);      /* 82 bytes on the wire, 18000 decoded */
    get(f, c, 4, "/echo", 4096, 2000);       /* the connection still works */
    /* a refused connection: nothing listens on port 1 of 127.0.0.1 */
    t0 = now_ms();
    record(&f->s[5], gl_http_get(c, "http://127.0.0.1:1/", 4096, 2000, &r), &r, t0);
    /* bad arguments: nothing sent, the response is still initialised */
    t0 = now_ms();
    record(&f->s[6], gl_http_get(c, "file:///etc/passwd", 4096, 2000, &r), &r, t0);
    snprintf(url, sizeof(url), "%s/echo", f->base);
    t0 = now_ms();
    record(&f->s[7], gl_http_get(c, url, GL_HTTP_CLIENT_MAX_RESPONSE + 1, 2000, &r), &r,
           t0);
    t0 = now_ms();
    record(&f->s[8], gl_http_get(c, "http://127.0.0.1/a b", 4096, 2000, &r), &r, t0);
    get(f, c, 9, "/big", 50000, 2000); /* over the cap, inside one chunk */
    gl_http_client_free(c);
}

static void test_client_limits(void **state)
{
    struct fx f;
    (void)state;

    fx_run(&f, NULL, client_limits, 0);
    assert_int_equal(f.s[0].err, GL_ETOOBIG);
    assert_int_equal(f.s[0].status, 200);
    assert_int_equal(f.s[0].len, BIG_LEN - 1); /* the first max bytes */
    assert_non_null(strstr(f.s[0].error, "larger than"));
    assert_int_equal(f.s[1].err, 0);
    assert_int_equal(f.s[1].len, BIG_LEN);
    assert_int_equal(f.s[2].err, 0);
    assert_int_equal(f.s[2].len, GZ_TEXT_LEN);
    for (size_t i = 0; i < GZ_TEXT_LEN; i += 9)
        assert_memory_equal(f.s[2].body + i, "glasslog\n", 9);
    assert_int_equal(f.s[3].err, GL_ETOOBIG);
    assert_int_equal(f.s[4].status, 200);
    assert_int_equal(f.s[5].err, GL_EIO);
    assert_int_equal(f.s[5].status, 0);
    assert_int_equal(f.s[5].timed_out, 0);
    assert_true(strlen(f.s[5].error) > 0);
    assert_int_equal(f.s[6].err, GL_EINVAL);
    assert_true(strlen(f.s[6].error) > 0);
    assert_int_equal(f.s[7].err, GL_EINVAL);
    assert_int_equal(f.s[8].err, GL_EINVAL);
    assert_int_equal(f.s[9].err, GL_ETOOBIG);
    assert_int_equal(f.s[9].status, 200);
    assert_int_equal(f.s[9].len, 50000);
    for (size_t i = 0; i < 50000; i++)
        assert_int_equal(f.s[9].body[i], 'x');
    fx_finish(&f);
}

/* Keeps an idle keep-alive connection open while the server shuts down. */
static void client_idle(struct fx *f)
{
    f->keep = new_client();
    get(f, f->keep, 0, "/echo", 4096, 2000);
    /* the connection stays in keep's cache, idle, until the loop ends */
}

static void test_shutdown_idle(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.idle_timeout_ms = 5000; /* only the shutdown can close it quickly */
    cfg.liveness_check_ms = 1000;
    fx_run(&f, &cfg, client_idle, 1);
    assert_int_equal(f.s[0].status, 200);
    assert_int_equal(f.active_at_close, 1); /* idle keep-alive, closed by us */
    assert_true(f.close_ms < 1000);
    gl_http_client_free(f.keep);
    fx_finish(&f);
}

/* Half a request head on one connection, then a request the server
 * defers past the shutdown's grace and closes the server: the half head
 * is reset at the grace, the deferred request still answered after it. */
static void client_closeslow(struct fx *f)
{
    static const char req[] = "GET /closeslow HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char half[] = "GET /echo HTTP/1.1\r\nHo";
    struct timeval tv = {5, 0}; /* the answer comes after the grace */
    int mid = raw_connect(f->port), fd, fd2;
    char c;

    send(mid, half, strlen(half), MSG_NOSIGNAL);
    sleep_ms(100); /* accepted and read before the listener closes */
    fd = raw_connect(f->port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(mid, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    raw_exchange(f, fd, 0, req, strlen(req), 0);
    f->raw_eof[1] = raw_wait_eof(fd);
    close(fd);
    f->raw_len[3] = (int)recv(mid, &c, 1, 0);
    f->raw_eof[3] = f->raw_len[3] == 0 || (f->raw_len[3] < 0 && errno == ECONNRESET);
    close(mid);
    /* the listener is closed: connecting fails */
    fd2 = raw_connect(f->port);
    f->raw_len[2] = fd2;
    if (fd2 >= 0)
        close(fd2);
}

static void test_shutdown_pending(void **state)
{
    struct fx f;
    (void)state;

    fx_run(&f, NULL, client_closeslow, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(ci_find(f.raw[0], "\r\nConnection: close\r\n"));
    assert_non_null(strstr(f.raw[0], "\r\n\r\nlate"));
    assert_int_equal(f.raw_eof[1], 1);
    assert_int_equal(f.raw_len[2], -1);
    assert_int_equal(f.raw_eof[3], 1); /* reset: not the 10 s request timeout */
    assert_true(f.close_ms >= GL_HTTP_CLOSE_GRACE_MS && f.close_ms < 4000);
    fx_finish(&f);
}

static void client_maxconn(struct fx *f)
{
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    int a = raw_connect(f->port), b = raw_connect(f->port), c;

    raw_exchange(f, a, 0, req, strlen(req), 0);
    raw_exchange(f, b, 1, req, strlen(req), 0);
    c = raw_connect(f->port);
    f->raw_eof[2] = c >= 0 && raw_wait_eof(c);
    close(c);
    close(a);
    close(b);
}

static void test_max_connections(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_connections = 2;
    fx_run(&f, &cfg, client_maxconn, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_true(strncmp(f.raw[1], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(f.raw_eof[2], 1);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_accepted, 2);
    assert_int_equal(st.conns_rejected, 1);
    fx_finish(&f);
}

static void client_timeouts(struct fx *f)
{
    static const char partial[] = "GET /echo HTTP/1.1\r\nHost:";
    static const char slow[] = "GET /rst HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char echo[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    struct linger lg = {1, 0};
    double t0;
    int fd;

    /* an idle connection that never sends a request */
    fd = raw_connect(f->port);
    t0 = now_ms();
    f->raw_eof[0] = raw_wait_eof(fd);
    f->raw_ms[0] = now_ms() - t0;
    close(fd);
    /* a request head that never completes (slowloris) */
    fd = raw_connect(f->port);
    t0 = now_ms();
    send(fd, partial, strlen(partial), MSG_NOSIGNAL);
    f->raw_eof[1] = raw_wait_eof(fd);
    f->raw_ms[1] = now_ms() - t0;
    close(fd);
    /* a deferred request whose client resets the connection: the reply
     * goes to a dead socket (the sweep runs too rarely to notice first) */
    fd = raw_connect(f->port);
    send(fd, slow, strlen(slow), MSG_NOSIGNAL);
    sleep_ms(30);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd); /* RST */
    sleep_ms(300);
    /* and the server still serves */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 2, echo, strlen(echo), 0);
    close(fd);
}

static void test_timeouts(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.idle_timeout_ms = 200;
    cfg.liveness_check_ms = 5000;
    fx_run(&f, &cfg, client_timeouts, 0);
    assert_int_equal(f.raw_eof[0], 1);
    assert_true(f.raw_ms[0] >= 150 && f.raw_ms[0] < 1500);
    assert_int_equal(f.raw_eof[1], 1);
    assert_true(f.raw_ms[1] >= 150 && f.raw_ms[1] < 1500);
    assert_int_equal(f.rst_fired, 1);
    assert_int_equal(f.rst_alive, 1);
    assert_int_equal(f.rst_rc, 0);
    assert_true(strncmp(f.raw[2], "HTTP/1.1 200 OK\r\n", 17) == 0);
    fx_finish(&f);
}

/* Two connections fill 127.0.0.1's quota: a third is closed at once,
 * 127.0.0.2 is still served, and once one of the two closes 127.0.0.1 is
 * served again. */
static void client_per_client(struct fx *f)
{
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    int a = raw_connect(f->port), b = raw_connect(f->port), c, d, e = -1;
    double t0;

    raw_exchange(f, a, 0, req, strlen(req), 0);
    raw_exchange(f, b, 1, req, strlen(req), 0);
    c = raw_connect(f->port);
    t0 = now_ms();
    f->raw_eof[2] = c >= 0 && raw_wait_eof(c);
    f->raw_ms[2] = now_ms() - t0;
    if (c >= 0)
        close(c);
    d = raw_connect_ex("127.0.0.2", f->port, 0);
    raw_exchange(f, d, 3, req, strlen(req), 0);
    close(d);
    close(a);
    /* the server sees a's close soon; until then 127.0.0.1 stays full */
    for (f->retries = 0; f->retries < 250; f->retries++) {
        e = raw_connect(f->port);
        raw_exchange(f, e, 4, req, strlen(req), 0);
        if (f->raw_len[4] > 0)
            break;
        close(e);
        e = -1;
        sleep_ms(20);
    }
    if (e >= 0)
        close(e);
    close(b);
}

static void test_per_client(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_conns_per_addr = 2;
    fx_run(&f, &cfg, client_per_client, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_true(strncmp(f.raw[1], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(f.raw_eof[2], 1);
    assert_true(f.raw_ms[2] < 1000);
    assert_true(strncmp(f.raw[3], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(f.raw[3], "peer=127.0.0.2"));
    assert_true(f.retries < 250);
    assert_true(strncmp(f.raw[4], "HTTP/1.1 200 OK\r\n", 17) == 0);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_accepted, 4);
    assert_int_equal(st.conns_rejected_addr, 1 + (uint64_t)f.retries);
    assert_int_equal(st.conns_rejected, 0);
    fx_finish(&f);
}

static void client_per_client6(struct fx *f)
{
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    int a = raw_connect_ex("::1", f->port, 0), b;

    raw_exchange(f, a, 0, req, strlen(req), 0);
    b = raw_connect_ex("::1", f->port, 0);
    f->raw_eof[1] = b >= 0 && raw_wait_eof(b);
    if (b >= 0)
        close(b);
    close(a);
}

/* The same limit over IPv6, where the client is the peer's /64. */
static void test_per_client_ipv6(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    struct sockaddr_in6 sa;
    int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;
    (void)state;

    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        print_message("no IPv6 loopback on this host: IPv6 per-client limit not run\n");
        skip();
    }
    cfg_local(&cfg, "[::1]:0");
    cfg.max_conns_per_addr = 1;
    fx_run(&f, &cfg, client_per_client6, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(f.raw[0], "peer=::1"));
    assert_int_equal(f.raw_eof[1], 1);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_accepted, 1);
    assert_int_equal(st.conns_rejected_addr, 1);
    fx_finish(&f);
}

/* Sends msg one byte every gap_ms until the server closes the connection.
 * Returns the ms from the first byte to the close, or -1 if everything
 * was sent (or the server answered) without a close; *eof: it was a close. */
static double dribble(int fd, const char *msg, size_t len, int gap_ms, int *eof)
{
    struct pollfd p = {fd, POLLIN, 0};
    double t0 = now_ms();
    char c;

    *eof = 0;
    for (size_t i = 0; i < len; i++) {
        if (send(fd, msg + i, 1, MSG_NOSIGNAL) != 1) {
            *eof = 1;
            return now_ms() - t0;
        }
        if (poll(&p, 1, gap_ms) > 0) {
            ssize_t k = recv(fd, &c, 1, 0);
            *eof = k == 0 || (k < 0 && errno == ECONNRESET);
            return *eof ? now_ms() - t0 : -1;
        }
    }
    return -1;
}

/* Slowloris: a head, a Content-Length body and a chunked body each
 * trickling in (one byte per 40 ms, seconds' worth) are cut at the request
 * timeout, which arriving bytes do not extend; and after a response the
 * deadline starts again. */
static void client_slow(struct fx *f)
{
    static const char post[] =
        "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 150\r\n\r\n";
    static const char chunked[] = "POST /body HTTP/1.1\r\nHost: x\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n";
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    char head[256], body[256];
    size_t n = 0;
    double t0;
    int fd;

    n = (size_t)snprintf(head, sizeof(head), "GET /echo HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    memset(head + n, 'p', 150);
    memcpy(head + n + 150, "\r\n\r\n", 5);
    fd = raw_connect(f->port);
    f->raw_ms[0] = dribble(fd, head, n + 154, 40, &f->raw_eof[0]);
    close(fd);
    memset(body, 'b', 150);
    fd = raw_connect(f->port);
    send(fd, post, strlen(post), MSG_NOSIGNAL);
    f->raw_ms[1] = dribble(fd, body, 150, 40, &f->raw_eof[1]);
    close(fd);
    for (n = 0; n + 6 <= 180; n += 6)
        memcpy(body + n, "1\r\na\r\n", 6);
    fd = raw_connect(f->port);
    send(fd, chunked, strlen(chunked), MSG_NOSIGNAL);
    f->raw_ms[2] = dribble(fd, body, 180, 40, &f->raw_eof[2]);
    close(fd);
    /* a request 300 ms after connecting, then silence */
    fd = raw_connect(f->port);
    sleep_ms(300);
    raw_exchange(f, fd, 3, req, strlen(req), 0);
    t0 = now_ms();
    f->raw_eof[3] = raw_wait_eof(fd);
    f->raw_ms[3] = now_ms() - t0;
    close(fd);
}

static void test_slow_clients(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.idle_timeout_ms = 400;
    fx_run(&f, &cfg, client_slow, 0);
    for (int i = 0; i < 3; i++) {
        /* sending it all would take 6 s or more */
        assert_int_equal(f.raw_eof[i], 1);
        assert_true(f.raw_ms[i] >= 350 && f.raw_ms[i] < 2500);
    }
    assert_true(strncmp(f.raw[3], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(f.raw_eof[3], 1);
    assert_true(f.raw_ms[3] >= 350 && f.raw_ms[3] < 2500);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.requests, 1);
    fx_finish(&f);
}

/* Reads a response, pausing pause_ms between reads, until it is complete
 * (head + Content-Length), the connection ends, or 2 s pass without data.
 * *end: 1 complete, 0 EOF, else -errno (-EAGAIN: timed out). */
static size_t drain(int fd, int pause_ms, int *end)
{
    static char buf[1 << 20];
    char head[4096];
    size_t got = 0, hlen = 0, want = SIZE_MAX;
    ssize_t k;

    for (;;) {
        k = recv(fd, buf, sizeof(buf), 0);
        if (k <= 0) {
            *end = k == 0 ? 0 : -errno;
            return got;
        }
        if (hlen < sizeof(head) - 1) {
            size_t c =
                (size_t)k < sizeof(head) - 1 - hlen ? (size_t)k : sizeof(head) - 1 - hlen;
            memcpy(head + hlen, buf, c);
            hlen += c;
            head[hlen] = 0;
        }
        got += (size_t)k;
        if (want == SIZE_MAX && strstr(head, "\r\n\r\n") != NULL &&
            ci_find(head, "\r\nContent-Length:") != NULL)
            want = (size_t)(strstr(head, "\r\n\r\n") + 4 - head) +
                   strtoul(ci_find(head, "\r\nContent-Length:") + 17, NULL, 10);
        if (got >= want) {
            *end = 1;
            return got;
        }
        if (pause_ms > 0)
            sleep_ms(pause_ms);
    }
}

/* A client that asks for 32 MiB and reads nothing is reset; one that keeps
 * reading, slowly, gets all of its 8 MiB although that takes longer than
 * the timeout. */
static void client_stalled(struct fx *f)
{
    static const char huge32[] = "GET /huge?32 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char huge8[] = "GET /huge?8 HTTP/1.1\r\nHost: x\r\n\r\n";
    double t0;
    int fd;

    fd = raw_connect_ex("127.0.0.1", f->port, 4096);
    send(fd, huge32, strlen(huge32), MSG_NOSIGNAL);
    sleep_ms(3000); /* 10 x the timeout: the reset comes long before */
    f->big_got[0] = drain(fd, 0, &f->big_end[0]);
    close(fd);
    fd = raw_connect_ex("127.0.0.1", f->port, 65536);
    t0 = now_ms();
    send(fd, huge8, strlen(huge8), MSG_NOSIGNAL);
    f->big_got[1] = drain(fd, 20, &f->big_end[1]);
    f->big_ms[1] = now_ms() - t0;
    close(fd);
}

static void test_stalled_reader(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.idle_timeout_ms = 300;
    cfg.liveness_check_ms = 50;
    fx_run(&f, &cfg, client_stalled, 0);
    assert_true(f.big_got[0] < ((size_t)32 << 20));
    assert_true(f.big_end[0] == 0 || f.big_end[0] == -ECONNRESET);
    assert_int_equal(f.big_end[1], 1);
    assert_true(f.big_got[1] > ((size_t)8 << 20));
    assert_true(f.big_ms[1] > 600);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_stalled, 1);
    assert_int_equal(stat_code(&st, 200), 2);
    fx_finish(&f);
}

/* Body caps (max_body 1000): a Content-Length over it is refused before
 * any body byte is sent; exactly max_body is served; a chunked body must
 * stay under it (h2o counts ">="); a chunked stream of 1 MiB is cut. */
static void client_caps(struct fx *f)
{
    static const char over[] =
        "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n";
    static const char chunk_head[] = "POST /body HTTP/1.1\r\nHost: x\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n";
    struct gl_buf b;
    char chunk[1100];
    double t0;
    int fd;

    gl_buf_init(&b, 1 << 16);
    fd = raw_connect(f->port);
    t0 = now_ms();
    raw_exchange(f, fd, 0, over, strlen(over), 0);
    f->raw_ms[0] = now_ms() - t0;
    close(fd);
    gl_buf_printf(&b, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    for (int i = 0; i < 1000; i++)
        gl_buf_append(&b, "c", 1);
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 1, (const char *)b.data, b.len, 1);
    close(fd);
    for (int slot = 2, n = 999; slot <= 3; slot++, n++) {
        gl_buf_reset(&b);
        gl_buf_printf(&b, "%s%x\r\n", chunk_head, n);
        for (int i = 0; i < n; i++)
            gl_buf_append(&b, "c", 1);
        gl_buf_append_str(&b, "\r\n0\r\n\r\n");
        fd = raw_connect(f->port);
        raw_exchange(f, fd, slot, (const char *)b.data, b.len, 1);
        close(fd);
    }
    fd = raw_connect(f->port);
    send(fd, chunk_head, strlen(chunk_head), MSG_NOSIGNAL);
    memcpy(chunk, "400\r\n", 5);
    memset(chunk + 5, 'c', 1024);
    memcpy(chunk + 5 + 1024, "\r\n", 2);
    for (int i = 0; i < 1024; i++)
        if (send(fd, chunk, 5 + 1024 + 2, MSG_NOSIGNAL) < 0)
            break;
    raw_exchange(f, fd, 4, NULL, 0, 0);
    close(fd);
    gl_buf_release(&b);
}

static void test_body_caps(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_body = 1000;
    fx_run(&f, &cfg, client_caps, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 413 ", 13) == 0);
    assert_non_null(ci_find(f.raw[0], "\r\nConnection: close\r\n"));
    assert_string_equal(strstr(f.raw[0], "\r\n\r\n") + 4, "request entity is too large");
    assert_true(f.raw_ms[0] < 1500); /* no body was sent: answered from the head */
    assert_true(strncmp(f.raw[1], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(ci_find(f.raw[1], "\r\nContent-Length: 1000\r\n"));
    assert_true(strncmp(f.raw[2], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(ci_find(f.raw[2], "\r\nContent-Length: 999\r\n"));
    assert_true(strncmp(f.raw[3], "HTTP/1.1 413 ", 13) == 0);
    assert_true(strncmp(f.raw[4], "HTTP/1.1 413 ", 13) == 0);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(stat_code(&st, 413), 3);
    assert_int_equal(st.requests, 2);
    fx_finish(&f);
}

/* Request smuggling: a head whose body framing is ambiguous (Content-Length
 * with Transfer-Encoding, in either order; two Content-Lengths; two
 * Transfer-Encodings; a folded line) gets 400 and the connection is
 * closed, so the bytes after it are never read as a request. A front
 * proxy reading the framing the other way would pass the "smuggled"
 * request on as part of the body. Unambiguous pipelined requests on one
 * connection are still both served. */
#define SMUGGLED "GET /echo?smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
static void client_framing(struct fx *f)
{
    static const char *const reqs[] = {
        "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED,
        "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "content-length: 4\r\n\r\n0\r\n\r\n" SMUGGLED,
        "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        "Content-Length: 10\r\n\r\nabc" SMUGGLED,
        "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED,
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Test: a\r\n b\r\n\r\n" SMUGGLED,
    };
    static const char pipelined[] =
        "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "\r\nhelloGET /echo?second HTTP/1.1\r\nHost: x\r\n"
        "Connection: close\r\n\r\n";
    static const char expect[] = "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    int fd;

    for (int i = 0; i < 5; i++) {
        fd = raw_connect(f->port);
        raw_until_eof(f, fd, i, reqs[i], strlen(reqs[i]));
        close(fd);
    }
    fd = raw_connect(f->port);
    raw_until_eof(f, fd, 5, pipelined, strlen(pipelined));
    close(fd);
    /* "Expect: 100-continue": the body comes after h2o's 100 */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 6, expect, strlen(expect), 1);
    raw_until_eof(f, fd, 7, "hello", 5);
    close(fd);
}

static void test_ambiguous_framing(void **state)
{
    static const char *const why[] = {
        "both Content-Length and Transfer-Encoding",
        "both Content-Length and Transfer-Encoding",
        "more than one Content-Length",
        "more than one Transfer-Encoding",
        "folded header line",
    };
    struct fx f;
    struct gl_http_stats st;
    char body[128];
    (void)state;

    fx_run(&f, NULL, client_framing, 0);
    for (int i = 0; i < 5; i++) {
        assert_true(strncmp(f.raw[i], "HTTP/1.1 400 ", 13) == 0);
        assert_non_null(ci_find(f.raw[i], "\r\nConnection: close\r\n"));
        snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why[i]);
        assert_string_equal(strstr(f.raw[i], "\r\n\r\n") + 4, body);
        /* one answer, then the close: the rest was never parsed */
        assert_int_equal(count_of(f.raw[i], "HTTP/1.1 "), 1);
        assert_int_equal(f.raw_eof[i], 1);
    }
    assert_true(strncmp(f.raw[5], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_int_equal(count_of(f.raw[5], "HTTP/1.1 200 OK\r\n"), 2);
    assert_non_null(strstr(f.raw[5], "\r\n\r\nhelloHTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(f.raw[5], "GET /echo ?second x=- peer=127.0.0.1"));
    assert_null(strstr(f.echo_seen, "smuggled"));
    assert_true(strncmp(f.raw[6], "HTTP/1.1 100 ", 13) == 0);
    assert_true(strncmp(f.raw[7], "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_string_equal(strstr(f.raw[7], "\r\n\r\n") + 4, "hello");
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(stat_code(&st, 400), 5);
    /* only the pipelined pair and the 100-continue one reached the handler */
    assert_int_equal(st.requests, 3);
    fx_finish(&f);
}

/* Request heads: 20 connections each send 100 KB of a head that never
 * ends (h2o alone would keep up to 417,792 bytes each for the whole
 * request timeout); every one is reset within a few sweeps, long before
 * the 5 s timeout. A complete head under the cap is served. */
#define HEAD_CONNS 20
static void client_heads(struct fx *f)
{
    static const char start[] = "GET /echo HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    size_t big = 100000;
    char *buf = malloc(sizeof(start) + big);
    int fds[HEAD_CONNS], closed = 0;
    double t0, worst = 0;

    if (buf == NULL)
        abort();
    memcpy(buf, start, sizeof(start) - 1);
    memset(buf + sizeof(start) - 1, 'p', big);
    for (int i = 0; i < HEAD_CONNS; i++) {
        fds[i] = raw_connect(f->port);
        send(fds[i], buf, sizeof(start) - 1 + big, MSG_NOSIGNAL);
    }
    t0 = now_ms();
    for (int i = 0; i < HEAD_CONNS; i++) {
        char c;
        ssize_t k = recv(fds[i], &c, 1, 0);
        if (k == 0 || (k < 0 && errno == ECONNRESET)) {
            closed++;
            if (now_ms() - t0 > worst)
                worst = now_ms() - t0;
        }
        close(fds[i]);
    }
    f->raw_len[0] = closed;
    f->raw_ms[0] = worst;
    /* 3000 bytes of head, complete: served */
    memcpy(buf + sizeof(start) - 1 + 3000, "\r\n\r\n", 4);
    fds[0] = raw_connect(f->port);
    raw_exchange(f, fds[0], 1, buf, sizeof(start) - 1 + 3004, 1);
    close(fds[0]);
    free(buf);
}

static void test_head_cap(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_head = 4096;
    cfg.idle_timeout_ms = 5000;
    fx_run(&f, &cfg, client_heads, 0);
    assert_int_equal(f.raw_len[0], HEAD_CONNS);
    assert_true(f.raw_ms[0] < 1500);
    assert_true(strncmp(f.raw[1], "HTTP/1.1 200 OK\r\n", 17) == 0);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.conns_big_head, HEAD_CONNS);
    assert_int_equal(st.requests, 1);
    fx_finish(&f);
}

/* Reply bodies held (max_held 20 MiB): a client that reads nothing holds
 * its 16 MiB, so the next large reply (8 MiB) is refused 503 with
 * Retry-After: 1 while a small one is sent; once that client is gone its
 * 16 MiB are free and 8 MiB are sent in full. */
static void client_held(struct fx *f)
{
    static const char huge16[] = "GET /huge?16 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char huge8[] = "GET /huge?8 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char echo[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    int hold = raw_connect_ex("127.0.0.1", f->port, 4096), fd;

    send(hold, huge16, strlen(huge16), MSG_NOSIGNAL);
    sleep_ms(300); /* answered: 16 MiB held for this client */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 0, huge8, strlen(huge8), 0);
    close(fd);
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 1, echo, strlen(echo), 0);
    close(fd);
    close(hold); /* unread data: a reset, the server frees its reply */
    sleep_ms(300);
    fd = raw_connect_ex("127.0.0.1", f->port, 65536);
    send(fd, huge8, strlen(huge8), MSG_NOSIGNAL);
    f->big_got[0] = drain(fd, 0, &f->big_end[0]);
    close(fd);
}

static void test_held_cap(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_held = (size_t)20 << 20;
    fx_run(&f, &cfg, client_held, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 503 ", 13) == 0);
    assert_non_null(ci_find(f.raw[0], "\r\nRetry-After: 1\r\n"));
    assert_non_null(strstr(f.raw[0], "too many large answers"));
    assert_true(strncmp(f.raw[1], "HTTP/1.1 200 ", 13) == 0);
    assert_int_equal(f.big_end[0], 1);
    assert_true(f.big_got[0] > ((size_t)8 << 20));
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.replies_over_held, 1);
    assert_true(st.held_bytes == 0); /* every reply's pool freed */
    fx_finish(&f);
}

/* Small replies are always sent, so they can take the bodies held past
 * max_held: a large reply is then refused, not let through by the room
 * left wrapping around (max_held 1 MiB; 24 clients reading nothing, each
 * with 128 requests for 60 KiB pipelined, fill their sockets' buffers and
 * then hold a 60 KiB reply each, about 1.5 MB in all). */
#define SMALL_HOLDERS 24
static void client_held_small(struct fx *f)
{
    static const char kib60[] = "GET /kib?60 HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char huge8[] = "GET /huge?8 HTTP/1.1\r\nHost: x\r\n\r\n";
    int hold[SMALL_HOLDERS], fd;

    for (int i = 0; i < SMALL_HOLDERS; i++) {
        hold[i] = raw_connect_ex("127.0.0.1", f->port, 4096);
        /* pipelined: once the socket's buffers are full, one is held */
        for (int k = 0; k < 128; k++)
            send(hold[i], kib60, strlen(kib60), MSG_NOSIGNAL);
    }
    sleep_ms(300); /* answered: a 60 KiB reply held for each client */
    fd = raw_connect(f->port);
    raw_exchange(f, fd, 0, huge8, strlen(huge8), 1);
    close(fd);
    for (int i = 0; i < SMALL_HOLDERS; i++)
        close(hold[i]);
    sleep_ms(300);
}

static void test_held_cap_small_past(void **state)
{
    struct fx f;
    struct gl_http_server_config cfg;
    struct gl_http_stats st;
    (void)state;

    cfg_local(&cfg, "127.0.0.1:0");
    cfg.max_held = GL_HTTP_MIN_HELD;
    cfg.max_conns_per_addr = 2 * SMALL_HOLDERS;
    fx_run(&f, &cfg, client_held_small, 0);
    assert_true(strncmp(f.raw[0], "HTTP/1.1 503 ", 13) == 0);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.replies_over_held, 1);
    assert_true(st.held_bytes == 0);
    fx_finish(&f);
}

/* A client that sends a byte more after its request, while the request is
 * deferred, and then closes: the unread byte must not hide the close. */
static void client_gone_after_data(struct fx *f)
{
    static const char req[] = "GET /park HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = raw_connect(f->port);

    send(fd, req, strlen(req), MSG_NOSIGNAL);
    sleep_ms(200);
    send(fd, "X", 1, MSG_NOSIGNAL);
    close(fd);
    sleep_ms(700); /* past the deferred reply's timer (600 ms) */
}

static void test_gone_after_data(void **state)
{
    struct fx f;
    struct gl_http_stats st;
    (void)state;

    fx_run(&f, NULL, client_gone_after_data, 0);
    assert_int_equal(f.gone_fired, 1);
    assert_int_equal(f.gone_alive, 0);
    assert_int_equal(f.gone_rc, GL_ESTATE);
    gl_http_server_stats(f.srv, &st);
    assert_int_equal(st.client_gone, 1);
    fx_finish(&f);
}

static void client_async(struct fx *f)
{
    struct gl_http_client *c = new_client();

    get(f, c, 0, "/async", 4096, 3000);
    gl_http_client_free(c);
}

static void test_async(void **state)
{
    struct fx f;
    (void)state;

    fx_run(&f, NULL, client_async, 0);
    assert_int_equal(f.s[0].status, 200);
    assert_string_equal(f.s[0].body, "ok 3");
    assert_int_equal(f.async_done, 3);
    assert_int_equal(f.async_cancelled, 1);
    assert_string_equal(f.echo_seen, "GET /echo ?async x=- peer=127.0.0.1");
    fx_finish(&f);
}

static int null_handler(void *ctx, struct gl_http_req *req)
{
    (void)ctx;
    return gl_http_reply_text(req, 200, "ok");
}

static void close_now(struct gl_http_server *srv, uv_loop_t *loop)
{
    gl_http_server_close(srv, NULL, NULL);
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    gl_http_server_free(srv);
}

static void test_config(void **state)
{
    static const char *bad[] = {"",           "127.0.0.1",    "127.0.0.1:",
                                ":80",        "localhost:80", "127.0.0.1:65536",
                                "1.2.3.4:8x", "[::1]:",       "::1:80",
                                "[::1]80",    "[nope]:80",    "127.0.0.1:123456"};
    struct gl_http_server_config cfg;
    struct gl_http_server *srv = NULL, *srv2 = NULL;
    uv_loop_t loop;
    struct sigaction sa;
    char addr[64];
    int rc;
    (void)state;

    assert_int_equal(uv_loop_init(&loop), 0);
    memset(&cfg, 0, sizeof(cfg));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.listen = bad[i];
        assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                         GL_EINVAL);
    }
    cfg.listen = NULL;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.listen = "127.0.0.1:0";
    cfg.server_name = "bad\nname";
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.server_name = NULL;
    cfg.max_body = GL_HTTP_MAX_BODY_LIMIT + 1;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.max_body = 0;
    cfg.max_head = GL_HTTP_MIN_HEAD - 1;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.max_head = GL_HTTP_MAX_HEAD_LIMIT + 1;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.max_head = 0;
    cfg.max_held = GL_HTTP_MIN_HELD - 1;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv),
                     GL_EINVAL);
    cfg.max_held = 0;
    assert_int_equal(gl_http_server_new(&loop, NULL, null_handler, NULL, &srv),
                     GL_EINVAL);
    assert_int_equal(gl_http_server_new(&loop, &cfg, NULL, NULL, &srv), GL_EINVAL);
    /* a port in use; SIGPIPE ignored once a server exists */
    signal(SIGPIPE, SIG_DFL);
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv), 0);
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_IGN);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", gl_http_server_port(srv));
    cfg.listen = addr;
    assert_int_equal(gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv2), GL_EIO);
    close_now(srv, &loop);
    /* IPv6 loopback, when the host has it */
    cfg.listen = "[::1]:0";
    rc = gl_http_server_new(&loop, &cfg, null_handler, NULL, &srv);
    if (rc == 0) {
        assert_true(gl_http_server_port(srv) != 0);
        close_now(srv, &loop);
    } else {
        assert_int_equal(rc, GL_EIO);
    }
    gl_http_server_free(NULL);
    gl_http_client_free(NULL);
    gl_http_pending_release(NULL);
    assert_int_equal(gl_http_pending_alive(NULL), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- the blocking client's abort hook ---- */

struct abort_arg {
    double after_ms; /* abort once this time (now_ms) has passed */
    int calls;
};

static int abort_after(void *arg)
{
    struct abort_arg *a = arg;

    a->calls++;
    return now_ms() >= a->after_ms;
}

/* The open-file limits test_fd_fits found, put back by its teardown
 * (an assertion leaves the test at once). */
static struct rlimit nofile_was;

static int restore_nofile(void **state)
{
    (void)state;
    return setrlimit(RLIMIT_NOFILE, &nofile_was);
}

/* gl_http_fd_fits: the soft limit, set here to 500 (or the hard limit,
 * if lower), holds a reserve of that less GL_HTTP_MIN_CONNECTIONS and not
 * one more; nothing is raised. */
static void test_fd_fits(void **state)
{
    struct rlimit low, was;
    struct gl_http_fd_limits lim;
    unsigned soft = 500;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile_was), 0);
    was = nofile_was;
    if (was.rlim_max != RLIM_INFINITY && was.rlim_max < soft)
        soft = (unsigned)was.rlim_max;
    assert_true(soft > GL_HTTP_MIN_CONNECTIONS);
    low = was;
    low.rlim_cur = soft;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(gl_http_fd_fits(soft - GL_HTTP_MIN_CONNECTIONS, &lim), 0);
    assert_true(lim.soft == soft);
    assert_true(lim.hard == (was.rlim_max == RLIM_INFINITY ? UINT64_MAX : was.rlim_max));
    assert_int_equal(gl_http_fd_fits(soft - GL_HTTP_MIN_CONNECTIONS + 1, &lim),
                     GL_ERANGE);
    assert_true(lim.soft == soft); /* not raised */
    assert_int_equal(gl_http_fd_fits(GL_HTTP_MAX_FD_RESERVE + 1, &lim), GL_EINVAL);
    assert_int_equal(gl_http_fd_fits(0, NULL), GL_EINVAL);
}

/* A server that accepts connections (the kernel does) and never answers:
 * a GET on it waits its whole timeout unless the abort hook ends it. */
static void test_client_abort(void **state)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    struct abort_arg a = {0};
    struct gl_http_client_config cfg = {0};
    struct gl_http_client *c = NULL;
    struct gl_http_response r;
    char url[64];
    double t0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    assert_true(fd >= 0);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)ntohs(sa.sin_port));
    cfg.abort_cb = abort_after;
    cfg.abort_arg = &a;
    assert_int_equal(gl_http_client_new(&cfg, &c), 0);

    /* asked while the request waits: it ends within about a second */
    t0 = now_ms();
    a.after_ms = t0 + 300;
    assert_int_equal(gl_http_get(c, url, 1024, 8000, &r), GL_EIO);
    assert_int_equal(r.aborted, 1);
    assert_int_equal(r.timed_out, 0);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.error, "aborted");
    assert_true(now_ms() - t0 < 2500);
    assert_true(a.calls >= 2);
    gl_http_response_release(&r);

    /* asked before: no request at all */
    t0 = now_ms();
    a.after_ms = 0;
    a.calls = 0;
    assert_int_equal(gl_http_get(c, url, 1024, 8000, &r), GL_EIO);
    assert_int_equal(r.aborted, 1);
    assert_int_equal(a.calls, 1);
    assert_true(now_ms() - t0 < 500);
    gl_http_response_release(&r);

    /* not asked: the timeout ends it, not the hook */
    a.after_ms = now_ms() + 60000;
    assert_int_equal(gl_http_get(c, url, 1024, 300, &r), GL_EIO);
    assert_int_equal(r.aborted, 0);
    assert_int_equal(r.timed_out, 1);
    gl_http_response_release(&r);
    gl_http_client_free(c);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_post_binary),
        cmocka_unit_test(test_raw_wire),
        cmocka_unit_test(test_deferred),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_client_limits),
        cmocka_unit_test(test_shutdown_idle),
        cmocka_unit_test(test_shutdown_pending),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_per_client),
        cmocka_unit_test(test_per_client_ipv6),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_stalled_reader),
        cmocka_unit_test(test_held_cap),
        cmocka_unit_test(test_held_cap_small_past),
        cmocka_unit_test(test_body_caps),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_client_abort),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_ambiguous_framing),
        cmocka_unit_test(test_head_cap),
        cmocka_unit_test(test_gone_after_data),
        cmocka_unit_test_teardown(test_fd_fits, restore_nofile),
    };

    /* everything here talks to 127.0.0.1 directly */
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
