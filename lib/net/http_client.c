/*
 * http_client: libcurl easy interface behind gl_http_request. See
 * http_client.h for the contract.
 *
 * Invariants:
 *   - Every option is set again for every call after curl_easy_reset,
 *     which keeps the handle's connection cache, DNS cache and TLS session
 *     cache: a call never inherits a previous call's URL, body or headers,
 *     yet reuses its connections.
 *   - The body is written only through on_write, which appends to a gl_buf
 *     whose maximum is the caller's cap; of the first chunk past it only
 *     what fits is kept (the body holds the first max bytes), on_write
 *     returns short, curl aborts with CURLE_WRITE_ERROR, and the flag set
 *     beside it turns that into GL_ETOOBIG. libcurl decodes
 *     Content-Encoding before calling on_write, so the cap counts decoded
 *     bytes.
 *   - Every string handed to curl is validated first (no CR/LF/NUL in
 *     headers, URL without spaces or control bytes, http/https only, also
 *     enforced by CURLOPT_PROTOCOLS_STR), and every size is capped.
 *   - CURLOPT_NOSIGNAL: no SIGALRM tricks, safe in threads (DNS timeouts
 *     rely on the threaded resolver Debian's libcurl is built with).
 *   - The loop client (gl_http_multi) drives curl's multi interface from
 *     libuv: curl tells which sockets to watch (on_socket: one uv_poll_t
 *     per socket, found again through curl_multi_assign) and when to wake
 *     it (on_curl_timer: one uv_timer_t); libuv's events go back through
 *     curl_multi_socket_action. curl is never called from inside its own
 *     callbacks. A transfer owns a copy of its body and its own easy
 *     handle; connections are cached by the multi handle and reused.
 *     Callbacks run on the loop thread, exactly once per accepted request.
 */
#include "net/http_client.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

#ifndef GL_VERSION
#define GL_VERSION "dev"
#endif

#define MAX_HEADER_NAME 128
#define MAX_HEADER_VALUE 4096
#define MAX_PATH_OPT 4096
#define DEFAULT_CAPTURE "Retry-After"

struct gl_http_client {
    CURL *easy;
    char *ca_file;        /* owned, or NULL */
    char *capture_header; /* owned */
    long connect_timeout_ms;
    int (*abort_cb)(void *abort_arg); /* or NULL */
    void *abort_arg;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int valid_name(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n] != 0; n++)
        if (n >= MAX_HEADER_NAME || !is_tchar((unsigned char)s[n]))
            return 0;
    return n > 0;
}

static int valid_value(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n] != 0; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= MAX_HEADER_VALUE || (c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int valid_url(const char *s)
{
    size_t n = 0;

    if (s == NULL ||
        (strncasecmp(s, "http://", 7) != 0 && strncasecmp(s, "https://", 8) != 0))
        return 0;
    for (; s[n] != 0; n++)
        if (n >= GL_HTTP_CLIENT_MAX_URL || (unsigned char)s[n] <= 0x20 ||
            (unsigned char)s[n] == 0x7f)
            return 0;
    return 1;
}

/* Writes the diagnostic of a failed call (truncated to fit). */
#define set_error(r, ...) ((void)snprintf((r)->error, sizeof((r)->error), __VA_ARGS__))

/* Copies s into dst (size GL_HTTP_MAX_CAPTURE) if it fits; 1 if copied. */
static int capture(char dst[GL_HTTP_MAX_CAPTURE], const char *s)
{
    size_t n = s != NULL ? strlen(s) : GL_HTTP_MAX_CAPTURE;

    if (n >= GL_HTTP_MAX_CAPTURE)
        return 0;
    memcpy(dst, s, n + 1);
    return 1;
}

/* Checks a spec; on error writes why into out. */
static int check_spec(const struct gl_http_request_spec *s, struct gl_http_response *out)
{
    int post;

    if (s->method != NULL && strcmp(s->method, "GET") != 0 &&
        strcmp(s->method, "POST") != 0) {
        set_error(out, "unsupported method");
        return GL_EINVAL;
    }
    post = s->method != NULL && strcmp(s->method, "POST") == 0;
    if (!valid_url(s->url)) {
        set_error(out,
                  "bad URL (want http:// or https://, no spaces or control bytes, "
                  "at most %d bytes)",
                  GL_HTTP_CLIENT_MAX_URL);
        return GL_EINVAL;
    }
    if (s->max_response > GL_HTTP_CLIENT_MAX_RESPONSE || s->timeout_ms < 0 ||
        s->timeout_ms > GL_HTTP_CLIENT_MAX_TIMEOUT_MS ||
        s->nheaders > GL_HTTP_CLIENT_MAX_HEADERS ||
        (s->nheaders > 0 && s->headers == NULL)) {
        set_error(out, "bad request limits");
        return GL_EINVAL;
    }
    if (!post && (s->body_len > 0 || s->content_type != NULL)) {
        set_error(out, "body given for GET");
        return GL_EINVAL;
    }
    if (s->body_len > GL_HTTP_CLIENT_MAX_REQUEST_BODY ||
        (s->body_len > 0 && s->body == NULL)) {
        set_error(out, "bad request body");
        return GL_EINVAL;
    }
    if ((s->content_type != NULL && !valid_value(s->content_type)) ||
        (s->capture_header != NULL && !valid_name(s->capture_header))) {
        set_error(out, "bad Content-Type or captured header name");
        return GL_EINVAL;
    }
    for (size_t i = 0; i < s->nheaders; i++) {
        if (!valid_name(s->headers[i].name) || !valid_value(s->headers[i].value)) {
            set_error(out, "bad request header");
            return GL_EINVAL;
        }
    }
    return 0;
}

static void response_init(struct gl_http_response *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    gl_buf_init(&r->body, max);
}

void gl_http_response_release(struct gl_http_response *r)
{
    if (r != NULL)
        gl_buf_release(&r->body);
}

void gl_http_response_take_body(struct gl_http_response *r, struct gl_buf *body)
{
    gl_buf_release(body);
    *body = r->body;
    gl_buf_init(&r->body, body->max);
}

/* Checks a client configuration (NULL: defaults) and initialises curl
 * once per process. GL_EINVAL, GL_EIO. */
static int client_init(const struct gl_http_client_config *cfg)
{
    if (cfg != NULL && (cfg->connect_timeout_ms < 0 ||
                        cfg->connect_timeout_ms > GL_HTTP_CLIENT_MAX_TIMEOUT_MS ||
                        (cfg->ca_file != NULL && strlen(cfg->ca_file) > MAX_PATH_OPT)))
        return GL_EINVAL;
    pthread_once(&curl_once, curl_init);
    return curl_init_rc == CURLE_OK ? 0 : GL_EIO;
}

int gl_http_client_new(const struct gl_http_client_config *cfg,
                       struct gl_http_client **out)
{
    struct gl_http_client *c;
    const char *cap = cfg != NULL && cfg->capture_header != NULL ? cfg->capture_header
                                                                 : DEFAULT_CAPTURE;
    int err;

    if (out == NULL || !valid_name(cap))
        return GL_EINVAL;
    if ((err = client_init(cfg)) != 0)
        return err;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return GL_ENOMEM;
    if ((c->capture_header = strdup(cap)) == NULL ||
        (cfg != NULL && cfg->ca_file != NULL &&
         (c->ca_file = strdup(cfg->ca_file)) == NULL)) {
        err = GL_ENOMEM;
        goto fail;
    }
    c->connect_timeout_ms = cfg != NULL ? cfg->connect_timeout_ms : 0;
    c->abort_cb = cfg != NULL ? cfg->abort_cb : NULL;
    c->abort_arg = cfg != NULL ? cfg->abort_arg : NULL;
    if ((c->easy = curl_easy_init()) == NULL) {
        err = GL_ENOMEM;
        goto fail;
    }
    *out = c;
    return 0;

fail:
    gl_http_client_free(c);
    return err;
}

void gl_http_client_free(struct gl_http_client *c)
{
    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    free(c->ca_file);
    free(c->capture_header);
    free(c);
}

struct xfer {
    struct gl_buf *body;
    int too_big, nomem;
};

/* Appends curl's chunk; past the cap it keeps what fits (the body then
 * holds the first max bytes) and aborts the transfer. */
static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb; /* size is always 1 */
    size_t room = x->body->max - x->body->len;
    int err = gl_buf_append(x->body, ptr, n <= room ? n : room);

    if (err != 0) {
        x->nomem = 1;
        return 0;
    }
    if (n > room) {
        x->too_big = 1;
        return 0;
    }
    return n;
}

/* Builds the request header list; *list stays NULL when there is none. */
static int build_headers(const struct gl_http_request_spec *s, int post,
                         struct curl_slist **list)
{
    char line[MAX_HEADER_NAME + MAX_HEADER_VALUE + 4];
    struct curl_slist *l = NULL, *t;

    if (post) {
        /* "Content-Type:" with nothing removes curl's form default. */
        snprintf(line, sizeof(line), "Content-Type:%s%s",
                 s->content_type != NULL ? " " : "",
                 s->content_type != NULL ? s->content_type : "");
        if ((l = curl_slist_append(NULL, line)) == NULL)
            return GL_ENOMEM;
    }
    for (size_t i = 0; i < s->nheaders; i++) {
        /* "Name;" sends an empty header; "Name:" would remove it. */
        if (s->headers[i].value[0] == 0)
            snprintf(line, sizeof(line), "%s;", s->headers[i].name);
        else
            snprintf(line, sizeof(line), "%s: %s", s->headers[i].name,
                     s->headers[i].value);
        if ((t = curl_slist_append(l, line)) == NULL) {
            curl_slist_free_all(l);
            return GL_ENOMEM;
        }
        l = t;
    }
    *list = l;
    return 0;
}

/* What one transfer needs while curl runs it: where the body goes, the
 * header list, curl's error text. Owned by the caller of easy_setup, which
 * must keep it alive until easy_result. */
struct xfer_state {
    struct xfer x;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];
};

/* Sets every option of request s on the (reset) easy handle e; the body
 * pointer is s->body itself (not copied). On error writes why into out. */
static int easy_setup(CURL *e, const char *ca_file, long connect_timeout_ms,
                      const struct gl_http_request_spec *s, struct xfer_state *xs,
                      struct gl_http_response *out)
{
    int post = s->method != NULL && strcmp(s->method, "POST") == 0, err;
    CURLcode rc = CURLE_OK;

    if ((err = build_headers(s, post, &xs->hdrs)) != 0) {
        set_error(out, "out of memory");
        return err;
    }
    xs->errbuf[0] = 0;
    xs->x.body = &out->body;
    xs->x.too_big = xs->x.nomem = 0;
#define SETOPT(opt, val)                                                                 \
    do {                                                                                 \
        if (rc == CURLE_OK)                                                              \
            rc = curl_easy_setopt(e, opt, val);                                          \
    } while (0)
    SETOPT(CURLOPT_ERRORBUFFER, xs->errbuf);
    SETOPT(CURLOPT_URL, s->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_TIMEOUT_MS,
           s->timeout_ms != 0 ? s->timeout_ms : GL_HTTP_CLIENT_DEFAULT_TIMEOUT_MS);
    if (connect_timeout_ms != 0)
        SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    SETOPT(CURLOPT_USERAGENT, "glasslog/" GL_VERSION);
    SETOPT(CURLOPT_ACCEPT_ENCODING,
           "gzip"); /* gzip and identity only: no other decoder */
    SETOPT(CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(CURLOPT_WRITEDATA, &xs->x);
    if (ca_file != NULL)
        SETOPT(CURLOPT_CAINFO, ca_file);
    if (xs->hdrs != NULL)
        SETOPT(CURLOPT_HTTPHEADER, xs->hdrs);
    if (post) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body_len);
        SETOPT(CURLOPT_POSTFIELDS, s->body_len > 0 ? (const char *)s->body : "");
    } else {
        SETOPT(CURLOPT_HTTPGET, 1L);
    }
#undef SETOPT
    if (rc != CURLE_OK) {
        set_error(out, "curl setup: %s", curl_easy_strerror(rc));
        return rc == CURLE_OUT_OF_MEMORY ? GL_ENOMEM : GL_EINVAL;
    }
    return 0;
}

/* Fills out from a finished transfer (status, Content-Type, the captured
 * header) and maps curl's result rc to a GL_E* code (0: a response came). */
static int easy_result(CURL *e, CURLcode rc, const char *capture_header,
                       size_t max_response, const struct xfer_state *xs,
                       struct gl_http_response *out)
{
    struct curl_header *h = NULL;
    char *ct = NULL;
    int err;

    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status != 0) {
        if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
            capture(out->content_type, ct);
        if (capture_header != NULL &&
            curl_easy_header(e, capture_header, 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
            out->has_header = capture(out->header, h->value);
    }
    switch (rc) {
    case CURLE_OK:
        err = 0;
        break;
    case CURLE_WRITE_ERROR:
        if (xs->x.too_big) {
            set_error(out, "response body larger than %zu bytes", max_response);
            err = GL_ETOOBIG;
        } else if (xs->x.nomem) {
            set_error(out, "out of memory");
            err = GL_ENOMEM;
        } else {
            err = GL_EIO;
        }
        break;
    case CURLE_OPERATION_TIMEDOUT:
        out->timed_out = 1;
        err = GL_EIO;
        break;
    case CURLE_OUT_OF_MEMORY:
        err = GL_ENOMEM;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        err = GL_EINVAL;
        break;
    default:
        err = GL_EIO;
        break;
    }
    if (err != 0 && out->error[0] == 0)
        set_error(out, "%s", xs->errbuf[0] != 0 ? xs->errbuf : curl_easy_strerror(rc));
    return err;
}

/* curl's progress hook of a client with an abort_cb: non-zero aborts. */
static int on_xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    const struct gl_http_client *c = arg;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return c->abort_cb(c->abort_arg) != 0;
}

/* Arms the client's abort_cb on its (set up) handle; on error writes why. */
static int easy_abortable(struct gl_http_client *c, struct gl_http_response *out)
{
    CURLcode rc;

    if (c->abort_cb == NULL)
        return 0;
    if ((rc = curl_easy_setopt(c->easy, CURLOPT_XFERINFOFUNCTION, on_xferinfo)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(c->easy, CURLOPT_XFERINFODATA, c)) != CURLE_OK ||
        (rc = curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK) {
        set_error(out, "curl setup: %s", curl_easy_strerror(rc));
        return rc == CURLE_OUT_OF_MEMORY ? GL_ENOMEM : GL_EINVAL;
    }
    return 0;
}

int gl_http_request(struct gl_http_client *c, const struct gl_http_request_spec *s,
                    struct gl_http_response *out)
{
    struct xfer_state xs;
    CURLcode rc;
    int err;

    if (out == NULL)
        return GL_EINVAL;
    response_init(out, s != NULL ? s->max_response : 0);
    if (c == NULL || s == NULL) {
        set_error(out, "no client or request");
        return GL_EINVAL;
    }
    if ((err = check_spec(s, out)) != 0)
        return err;
    memset(&xs, 0, sizeof(xs));
    curl_easy_reset(c->easy);
    if ((err = easy_setup(c->easy, c->ca_file, c->connect_timeout_ms, s, &xs, out)) ==
            0 &&
        (err = easy_abortable(c, out)) == 0) {
        if (c->abort_cb != NULL && c->abort_cb(c->abort_arg) != 0)
            rc = CURLE_ABORTED_BY_CALLBACK; /* not even started */
        else
            rc = curl_easy_perform(c->easy);
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
            out->aborted = 1;
            set_error(out, "aborted");
        }
        err = easy_result(c->easy, rc, s->capture_header, s->max_response, &xs, out);
    }
    /* The handle keeps pointers to the header list, xs and the body until
     * reset. */
    curl_easy_reset(c->easy);
    curl_slist_free_all(xs.hdrs);
    return err;
}

/* gl_http_get's or gl_http_post's request (method; a body, with its
 * content type, for POST), the header to capture the client's. */
static int simple_request(struct gl_http_client *c, const char *method, const char *url,
                          const char *content_type, const void *body, size_t len,
                          size_t max_response_bytes, long timeout_ms,
                          struct gl_http_response *out)
{
    struct gl_http_request_spec s;

    memset(&s, 0, sizeof(s));
    s.method = method;
    s.url = url;
    s.content_type = content_type;
    s.body = body;
    s.body_len = len;
    s.max_response = max_response_bytes;
    s.timeout_ms = timeout_ms;
    s.capture_header = c != NULL ? c->capture_header : NULL;
    return gl_http_request(c, &s, out);
}

int gl_http_get(struct gl_http_client *c, const char *url, size_t max_response_bytes,
                long timeout_ms, struct gl_http_response *out)
{
    return simple_request(c, "GET", url, NULL, NULL, 0, max_response_bytes, timeout_ms,
                          out);
}

int gl_http_post(struct gl_http_client *c, const char *url, const char *content_type,
                 const void *body, size_t len, size_t max_response_bytes, long timeout_ms,
                 struct gl_http_response *out)
{
    return simple_request(c, "POST", url, content_type, body, len, max_response_bytes,
                          timeout_ms, out);
}

/* ---- the loop client: curl's multi interface driven by libuv ---- */

/* One request in flight on a gl_http_multi. */
struct transfer {
    struct gl_http_multi *m;
    struct transfer *prev, *next;
    CURL *easy;
    struct xfer_state xs;
    struct gl_http_response resp;
    char *capture_header; /* owned, or NULL */
    size_t max_response;
    void *body; /* owned copy of the request body, or NULL */
    gl_http_async_cb cb;
    void *arg;
};

/* A socket curl asked us to watch. */
struct sock {
    uv_poll_t poll; /* first member: the close callback gets &poll */
    struct gl_http_multi *m;
    curl_socket_t fd;
};

struct gl_http_multi {
    uv_loop_t *loop;
    CURLM *multi; /* NULL once closed */
    uv_timer_t timer;
    char *ca_file; /* owned, or NULL */
    long connect_timeout_ms;
    struct transfer *xfers;
    size_t nxfers, nsocks;
    int closing, timer_closed, closed;
    void (*on_closed)(void *arg);
    void *on_closed_arg;
};

static void transfer_free(struct transfer *t)
{
    if (t->easy != NULL)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->xs.hdrs);
    gl_http_response_release(&t->resp);
    free(t->capture_header);
    free(t->body);
    free(t);
}

static void transfer_unlink(struct gl_http_multi *m, struct transfer *t)
{
    assert((t->prev == NULL) == (m->xfers == t)); /* only the head has no prev */
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        m->xfers = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    m->nxfers--;
    curl_multi_remove_handle(m->multi, t->easy);
}

/* Ends t: out of the multi handle, callback, freed. The callback may start
 * new requests. */
static void transfer_end(struct gl_http_multi *m, struct transfer *t, int err)
{
    transfer_unlink(m, t);
    t->cb(t->arg, err, &t->resp);
    transfer_free(t);
}

/* Ends every transfer curl reports finished. */
static void collect_done(struct gl_http_multi *m)
{
    struct transfer *t;
    CURLMsg *msg;
    CURLcode rc;
    int left;

    while (m->multi != NULL && (msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        rc = msg->data.result;
        t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        assert(t != NULL && t->easy == msg->easy_handle);
        transfer_end(m, t,
                     easy_result(t->easy, rc, t->capture_header, t->max_response, &t->xs,
                                 &t->resp));
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct sock *s = (struct sock *)h;
    struct gl_http_multi *m = s->m;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(m->multi, s->fd, flags, &running);
    collect_done(m);
}

static void maybe_closed(struct gl_http_multi *m)
{
    void (*cb)(void *);

    if (!m->closing || m->closed || !m->timer_closed || m->nsocks > 0)
        return;
    m->closed = 1;
    cb = m->on_closed;
    m->on_closed = NULL;
    if (cb != NULL)
        cb(m->on_closed_arg);
}

static void on_sock_closed(uv_handle_t *h)
{
    struct sock *s = (struct sock *)h;
    struct gl_http_multi *m = s->m;

    free(s);
    m->nsocks--;
    maybe_closed(m);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget one socket. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct gl_http_multi *m = userp;
    struct sock *s = socketp;
    int events = 0;

    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            if (m->multi != NULL)
                curl_multi_assign(m->multi, fd, NULL);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
        }
        return 0;
    }
    if (s == NULL) {
        if ((s = calloc(1, sizeof(*s))) == NULL)
            return -1;
        if (uv_poll_init_socket(m->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->m = m;
        s->fd = fd;
        m->nsocks++;
        curl_multi_assign(m->multi, fd, s);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_uv_timer(uv_timer_t *t)
{
    struct gl_http_multi *m = t->data;
    int running;

    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(m);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms (or
 * never, when negative). Never calls curl from here (no recursion). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct gl_http_multi *m = userp;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&m->timer);
    else
        uv_timer_start(&m->timer, on_uv_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int gl_http_multi_new(uv_loop_t *loop, const struct gl_http_client_config *cfg,
                      struct gl_http_multi **out)
{
    struct gl_http_multi *m;

    int err;

    if (loop == NULL || out == NULL)
        return GL_EINVAL;
    if ((err = client_init(cfg)) != 0)
        return err;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return GL_ENOMEM;
    m->loop = loop;
    m->connect_timeout_ms = cfg != NULL ? cfg->connect_timeout_ms : 0;
    if ((cfg != NULL && cfg->ca_file != NULL &&
         (m->ca_file = strdup(cfg->ca_file)) == NULL) ||
        (m->multi = curl_multi_init()) == NULL) {
        free(m->ca_file);
        free(m);
        return GL_ENOMEM;
    }
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    *out = m;
    return 0;
}

int gl_http_multi_request(struct gl_http_multi *m,
                          const struct gl_http_request_spec *spec, gl_http_async_cb cb,
                          void *arg)
{
    struct gl_http_request_spec s;
    struct transfer *t;
    int err;

    if (m == NULL || spec == NULL || cb == NULL)
        return GL_EINVAL;
    if (m->closing)
        return GL_ESTATE;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return GL_ENOMEM;
    response_init(&t->resp, spec->max_response);
    if ((err = check_spec(spec, &t->resp)) != 0)
        goto fail;
    s = *spec;
    err = GL_ENOMEM;
    if ((s.body_len > 0 && (t->body = malloc(s.body_len)) == NULL) ||
        (s.capture_header != NULL &&
         (t->capture_header = strdup(s.capture_header)) == NULL) ||
        (t->easy = curl_easy_init()) == NULL)
        goto fail;
    if (s.body_len > 0)
        s.body = memcpy(t->body, s.body, s.body_len);
    t->max_response = s.max_response;
    if ((err = easy_setup(t->easy, m->ca_file, m->connect_timeout_ms, &s, &t->xs,
                          &t->resp)) != 0)
        goto fail;
    if (curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (char *)t) != CURLE_OK ||
        curl_multi_add_handle(m->multi, t->easy) != CURLM_OK) {
        err = GL_ENOMEM;
        goto fail;
    }
    t->m = m;
    t->cb = cb;
    t->arg = arg;
    t->next = m->xfers;
    if (m->xfers != NULL)
        m->xfers->prev = t;
    m->xfers = t;
    m->nxfers++;
    return 0;

fail:
    transfer_free(t);
    return err;
}

size_t gl_http_multi_active(const struct gl_http_multi *m)
{
    return m != NULL ? m->nxfers : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct gl_http_multi *m = h->data;

    m->timer_closed = 1;
    maybe_closed(m);
}

void gl_http_multi_close(struct gl_http_multi *m, void (*on_closed)(void *arg), void *arg)
{
    if (m == NULL || m->closing)
        return;
    m->closing = 1;
    m->on_closed = on_closed;
    m->on_closed_arg = arg;
    while (m->xfers != NULL) {
        struct transfer *t = m->xfers;
        set_error(&t->resp, "cancelled");
        transfer_end(m, t, GL_EIO);
    }
    /* Closes cached connections; curl forgets their sockets through
     * on_socket (CURL_POLL_REMOVE), which closes their poll handles. */
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, on_timer_closed);
}

void gl_http_multi_free(struct gl_http_multi *m)
{
    if (m == NULL)
        return;
    if (!m->closed) {
        gl_log(GL_LOG_ERROR, "http: client freed before it was closed; leaking it");
        return;
    }
    free(m->ca_file);
    free(m);
}
