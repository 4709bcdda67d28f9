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
 *     whose maximum is the caller's cap; the first append past it makes
 *     on_write return short, curl aborts with CURLE_WRITE_ERROR, and the
 *     flag set beside it turns that into GL_ETOOBIG. libcurl decodes
 *     Content-Encoding before calling on_write, so the cap counts decoded
 *     bytes.
 *   - Every string handed to curl is validated first (no CR/LF/NUL in
 *     headers, URL without spaces or control bytes, http/https only, also
 *     enforced by CURLOPT_PROTOCOLS_STR), and every size is capped.
 *   - CURLOPT_NOSIGNAL: no SIGALRM tricks, safe in threads (DNS timeouts
 *     rely on the threaded resolver Debian's libcurl is built with).
 *   - An async work item owns deep copies of its spec and config, its own
 *     client, and its response; the work callback (threadpool) touches
 *     only the item; the after-work callback (loop thread) calls back and
 *     frees the item.
 */
#include "net/http_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "glasslog/error.h"

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
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
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

    if (s->method != NULL && strcmp(s->method, "GET") != 0 && strcmp(s->method, "POST") != 0) {
        set_error(out, "unsupported method");
        return GL_EINVAL;
    }
    post = s->method != NULL && strcmp(s->method, "POST") == 0;
    if (!valid_url(s->url)) {
        set_error(out, "bad URL (want http:// or https://, no spaces or control bytes, "
                       "at most %d bytes)", GL_HTTP_CLIENT_MAX_URL);
        return GL_EINVAL;
    }
    if (s->max_response > GL_HTTP_CLIENT_MAX_RESPONSE || s->timeout_ms < 0 ||
        s->timeout_ms > GL_HTTP_CLIENT_MAX_TIMEOUT_MS ||
        s->nheaders > GL_HTTP_CLIENT_MAX_HEADERS || (s->nheaders > 0 && s->headers == NULL)) {
        set_error(out, "bad request limits");
        return GL_EINVAL;
    }
    if (!post && (s->body_len > 0 || s->content_type != NULL)) {
        set_error(out, "body given for GET");
        return GL_EINVAL;
    }
    if (s->body_len > GL_HTTP_CLIENT_MAX_REQUEST_BODY || (s->body_len > 0 && s->body == NULL)) {
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

int gl_http_client_new(const struct gl_http_client_config *cfg, struct gl_http_client **out)
{
    struct gl_http_client *c;
    const char *cap = cfg != NULL && cfg->capture_header != NULL ? cfg->capture_header
                                                                 : DEFAULT_CAPTURE;
    int err;

    if (out == NULL || !valid_name(cap) ||
        (cfg != NULL && (cfg->connect_timeout_ms < 0 ||
                         cfg->connect_timeout_ms > GL_HTTP_CLIENT_MAX_TIMEOUT_MS ||
                         (cfg->ca_file != NULL && strlen(cfg->ca_file) > MAX_PATH_OPT))))
        return GL_EINVAL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return GL_EIO;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return GL_ENOMEM;
    if ((c->capture_header = strdup(cap)) == NULL ||
        (cfg != NULL && cfg->ca_file != NULL && (c->ca_file = strdup(cfg->ca_file)) == NULL)) {
        err = GL_ENOMEM;
        goto fail;
    }
    c->connect_timeout_ms = cfg != NULL ? cfg->connect_timeout_ms : 0;
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

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb; /* size is always 1 */
    int err = gl_buf_append(x->body, ptr, n);

    if (err == GL_ETOOBIG) {
        x->too_big = 1;
        return 0;
    }
    if (err != 0) {
        x->nomem = 1;
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
        snprintf(line, sizeof(line), "Content-Type:%s%s", s->content_type != NULL ? " " : "",
                 s->content_type != NULL ? s->content_type : "");
        if ((l = curl_slist_append(NULL, line)) == NULL)
            return GL_ENOMEM;
    }
    for (size_t i = 0; i < s->nheaders; i++) {
        /* "Name;" sends an empty header; "Name:" would remove it. */
        if (s->headers[i].value[0] == 0)
            snprintf(line, sizeof(line), "%s;", s->headers[i].name);
        else
            snprintf(line, sizeof(line), "%s: %s", s->headers[i].name, s->headers[i].value);
        if ((t = curl_slist_append(l, line)) == NULL) {
            curl_slist_free_all(l);
            return GL_ENOMEM;
        }
        l = t;
    }
    *list = l;
    return 0;
}

int gl_http_request(struct gl_http_client *c, const struct gl_http_request_spec *s,
                    struct gl_http_response *out)
{
    struct curl_slist *hdrs = NULL;
    struct curl_header *h = NULL;
    struct xfer x;
    CURL *e;
    CURLcode rc;
    char *ct = NULL;
    int err, post;

    if (out == NULL)
        return GL_EINVAL;
    response_init(out, s != NULL ? s->max_response : 0);
    if (c == NULL || s == NULL) {
        set_error(out, "no client or request");
        return GL_EINVAL;
    }
    if ((err = check_spec(s, out)) != 0)
        return err;
    post = s->method != NULL && strcmp(s->method, "POST") == 0;
    if ((err = build_headers(s, post, &hdrs)) != 0) {
        set_error(out, "out of memory");
        return err;
    }
    e = c->easy;
    curl_easy_reset(e);
    c->errbuf[0] = 0;
    x.body = &out->body;
    x.too_big = x.nomem = 0;
    rc = CURLE_OK;
#define SETOPT(opt, val)                                                                   \
    do {                                                                                   \
        if (rc == CURLE_OK)                                                                \
            rc = curl_easy_setopt(e, opt, val);                                            \
    } while (0)
    SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
    SETOPT(CURLOPT_URL, s->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_TIMEOUT_MS, s->timeout_ms != 0 ? s->timeout_ms
                                                  : GL_HTTP_CLIENT_DEFAULT_TIMEOUT_MS);
    if (c->connect_timeout_ms != 0)
        SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SETOPT(CURLOPT_USERAGENT, "glasslog/" GL_VERSION);
    SETOPT(CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(CURLOPT_WRITEDATA, &x);
    if (c->ca_file != NULL)
        SETOPT(CURLOPT_CAINFO, c->ca_file);
    if (hdrs != NULL)
        SETOPT(CURLOPT_HTTPHEADER, hdrs);
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
        err = rc == CURLE_OUT_OF_MEMORY ? GL_ENOMEM : GL_EINVAL;
        goto out;
    }

    rc = curl_easy_perform(e);

    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status != 0) {
        if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
            capture(out->content_type, ct);
        if (s->capture_header != NULL &&
            curl_easy_header(e, s->capture_header, 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
            out->has_header = capture(out->header, h->value);
    }
    switch (rc) {
    case CURLE_OK:
        err = 0;
        break;
    case CURLE_WRITE_ERROR:
        if (x.too_big) {
            set_error(out, "response body larger than %zu bytes", s->max_response);
            err = GL_ETOOBIG;
        } else if (x.nomem) {
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
        set_error(out, "%s", c->errbuf[0] != 0 ? c->errbuf : curl_easy_strerror(rc));
out:
    /* The handle keeps pointers to hdrs, x and the body until reset. */
    curl_easy_reset(e);
    curl_slist_free_all(hdrs);
    return err;
}

int gl_http_get(struct gl_http_client *c, const char *url, size_t max_response_bytes,
                long timeout_ms, struct gl_http_response *out)
{
    struct gl_http_request_spec s;

    memset(&s, 0, sizeof(s));
    s.method = "GET";
    s.url = url;
    s.max_response = max_response_bytes;
    s.timeout_ms = timeout_ms;
    s.capture_header = c != NULL ? c->capture_header : NULL;
    return gl_http_request(c, &s, out);
}

int gl_http_post(struct gl_http_client *c, const char *url, const char *content_type,
                 const void *body, size_t len, size_t max_response_bytes, long timeout_ms,
                 struct gl_http_response *out)
{
    struct gl_http_request_spec s;

    memset(&s, 0, sizeof(s));
    s.method = "POST";
    s.url = url;
    s.content_type = content_type;
    s.body = body;
    s.body_len = len;
    s.max_response = max_response_bytes;
    s.timeout_ms = timeout_ms;
    s.capture_header = c != NULL ? c->capture_header : NULL;
    return gl_http_request(c, &s, out);
}

/* ---- async: one blocking request on the libuv threadpool ---- */

struct async_item {
    uv_work_t work;
    gl_http_async_cb cb;
    void *arg;
    struct gl_http_client_config cfg; /* strings owned */
    struct gl_http_request_spec spec; /* strings, body and headers owned */
    struct gl_http_header *headers;
    struct gl_http_response resp;
    int err;
};

static void async_item_free(struct async_item *it)
{
    if (it == NULL)
        return;
    free((char *)it->cfg.ca_file);
    free((char *)it->cfg.capture_header);
    free((char *)it->spec.method);
    free((char *)it->spec.url);
    free((char *)it->spec.content_type);
    free((void *)it->spec.body);
    free((char *)it->spec.capture_header);
    for (size_t i = 0; it->headers != NULL && i < it->spec.nheaders; i++) {
        free((char *)it->headers[i].name);
        free((char *)it->headers[i].value);
    }
    free(it->headers);
    gl_http_response_release(&it->resp);
    free(it);
}

/* Deep-copies cfg and spec into it; GL_ENOMEM. */
static int async_copy(struct async_item *it, const struct gl_http_client_config *cfg,
                      const struct gl_http_request_spec *s)
{
    void *body = NULL;

    if (cfg != NULL) {
        it->cfg.connect_timeout_ms = cfg->connect_timeout_ms;
        if ((cfg->ca_file != NULL && (it->cfg.ca_file = strdup(cfg->ca_file)) == NULL) ||
            (cfg->capture_header != NULL &&
             (it->cfg.capture_header = strdup(cfg->capture_header)) == NULL))
            return GL_ENOMEM;
    }
    it->spec.body_len = s->body_len;
    it->spec.max_response = s->max_response;
    it->spec.timeout_ms = s->timeout_ms;
    if ((s->method != NULL && (it->spec.method = strdup(s->method)) == NULL) ||
        (it->spec.url = strdup(s->url)) == NULL ||
        (s->content_type != NULL && (it->spec.content_type = strdup(s->content_type)) == NULL) ||
        (s->capture_header != NULL &&
         (it->spec.capture_header = strdup(s->capture_header)) == NULL))
        return GL_ENOMEM;
    if (s->body_len > 0) {
        if ((body = malloc(s->body_len)) == NULL)
            return GL_ENOMEM;
        memcpy(body, s->body, s->body_len);
        it->spec.body = body;
    }
    if (s->nheaders > 0) {
        if ((it->headers = calloc(s->nheaders, sizeof(*it->headers))) == NULL)
            return GL_ENOMEM;
        it->spec.headers = it->headers;
        it->spec.nheaders = s->nheaders;
        for (size_t i = 0; i < s->nheaders; i++)
            if ((it->headers[i].name = dup_or_null(s->headers[i].name)) == NULL ||
                (it->headers[i].value = dup_or_null(s->headers[i].value)) == NULL)
                return GL_ENOMEM;
    }
    return 0;
}

static void async_work(uv_work_t *w)
{
    struct async_item *it = w->data;
    struct gl_http_client *c = NULL;

    it->err = gl_http_client_new(&it->cfg, &c);
    if (it->err == 0)
        it->err = gl_http_request(c, &it->spec, &it->resp);
    else
        set_error(&it->resp, "client setup: %s", gl_strerror(it->err));
    gl_http_client_free(c);
}

static void async_done(uv_work_t *w, int status)
{
    struct async_item *it = w->data;

    if (status != 0) {
        it->err = GL_EIO;
        set_error(&it->resp, "%s", status == UV_ECANCELED ? "cancelled" : uv_strerror(status));
    }
    it->cb(it->arg, it->err, &it->resp);
    async_item_free(it);
}

int gl_http_request_async(uv_loop_t *loop, const struct gl_http_client_config *cfg,
                          const struct gl_http_request_spec *spec, gl_http_async_cb cb,
                          void *arg)
{
    struct async_item *it = NULL;
    struct gl_http_response tmp;
    int err;

    if (loop == NULL || spec == NULL || cb == NULL)
        return GL_EINVAL;
    response_init(&tmp, 0);
    if ((err = check_spec(spec, &tmp)) != 0)
        return err;
    if ((it = calloc(1, sizeof(*it))) == NULL)
        return GL_ENOMEM;
    if ((err = async_copy(it, cfg, spec)) != 0)
        goto fail;
    response_init(&it->resp, spec->max_response);
    it->cb = cb;
    it->arg = arg;
    it->work.data = it;
    if (uv_queue_work(loop, &it->work, async_work, async_done) != 0) {
        err = GL_EIO;
        goto fail;
    }
    return 0;

fail:
    async_item_free(it);
    return err;
}
