/*
 * fetch: bounded, retried GETs to a log or its mirrors; see fetch.h for
 * the rules.
 *
 * The retry loop (get_until, the only one) runs to a deadline: each
 * attempt gets at most 30 s and never more than what is left, and a
 * back-off sleep that would pass the deadline ends the loop instead; a
 * deadline already passed makes no request. fetch_get sets the deadline
 * to now + budget; fetch_tile sets it once for its one or two GETs (the
 * partial tile, then the full one), so a fallback costs no more time than
 * one request. Retrying a GET is always safe.
 * A retryable failure moves to the next URL of the list; the pause comes
 * when the loop is back at the URL it started from. f->cur always indexes
 * f->urls.v, which has at least one URL after init.
 */
#include "fetch.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "glasslog/error.h"
#include "http_client.h"
#include "util.h"
#include "clock.h"

#define URL_MAX 8192
#define ATTEMPT_MAX_MS 30000L
#define BACKOFF_FIRST 0.25
#define BACKOFF_MAX 8.0
#define RETRY_AFTER_MAX 30.0
#define BODY_SNIPPET 160

/* Appends one URL of len bytes at s to u (checked by the caller's loop). */
static int add_one(struct fetch_urls *u, const char *s, size_t len, struct gl_err *why)
{
    while (len > 0 && s[len - 1] == '/')
        len--;
    if (len == 0)
        return gl_err_set(why, GL_EINVAL, 0, "an empty URL in the --log list");
    if (!(len > 7 && memcmp(s, "http://", 7) == 0) &&
        !(len > 8 && memcmp(s, "https://", 8) == 0))
        return gl_err_set(why, GL_EINVAL, 0,
                          "the log URL '%.*s' must start with http:// or https://",
                          (int)(len > 200 ? 200 : len), s);
    if (u->n == FETCH_MAX_URLS)
        return gl_err_set(why, GL_ETOOBIG, 0, "at most %d log and mirror URLs",
                          FETCH_MAX_URLS);
    if (len >= sizeof(u->text) - u->used)
        return gl_err_set(why, GL_ETOOBIG, 0, "the log URLs exceed %d bytes in all",
                          FETCH_URLS_TEXT_MAX);
    memcpy(u->text + u->used, s, len);
    u->text[u->used + len] = 0;
    u->v[u->n++] = u->text + u->used;
    u->used += len + 1;
    return 0;
}

/* *dst = *src with dst's pointers into dst's own text. */
static void urls_copy(struct fetch_urls *dst, const struct fetch_urls *src)
{
    memcpy(dst->text, src->text, sizeof(dst->text));
    dst->used = src->used;
    dst->n = src->n;
    for (size_t i = 0; i < src->n; i++)
        dst->v[i] = dst->text + (src->v[i] - src->text);
}

int fetch_urls_add(struct fetch_urls *u, const char *arg, struct gl_err *why)
{
    struct fetch_urls tmp;
    const char *p = arg, *comma;
    int rc;

    urls_copy(&tmp, u); /* u is unchanged unless every item is good */
    for (;;) {
        comma = strchr(p, ',');
        rc = add_one(&tmp, p, comma ? (size_t)(comma - p) : strlen(p), why);
        if (rc != 0)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    urls_copy(u, &tmp);
    return 0;
}

int fetch_urls_opt(struct fetch_urls *u, const char *arg)
{
    struct gl_err why;

    if (fetch_urls_add(u, arg, &why) == 0)
        return 0;
    cli_error("--log: %s", why.reason);
    return -1;
}

const char *fetch_opts_log(const struct fetch_opts *o)
{
    return o->urls.n > 0 ? o->urls.v[0] : NULL;
}

int fetch_opts_take(struct fetch_opts *o, int c, const char *arg)
{
    uint64_t t;

    if (c == 'l') {
        if (fetch_urls_opt(&o->urls, arg) != 0)
            return GL_EINVAL;
        return 0;
    }
    if (c == 't') {
        if (util_opt_u64("--timeout", arg, 1, 86400, &t) != 0)
            return GL_EINVAL;
        o->timeout_s = (double)t;
        return 0;
    }
    return GL_ENOTFOUND;
}

int fetch_init_urls(struct fetch *f, const struct fetch_urls *urls, double budget_s)
{
    memset(f, 0, sizeof(*f));
    if (urls->n == 0) {
        snprintf(f->error, sizeof(f->error), "no log URL");
        return GL_EINVAL;
    }
    urls_copy(&f->urls, urls);
    f->base = f->urls.v[0];
    f->budget_s = budget_s > 0 ? budget_s : FETCH_DEFAULT_BUDGET_S;
    return gl_http_client_new(NULL, &f->http);
}

int fetch_init(struct fetch *f, const char *base, double budget_s)
{
    struct fetch_urls u;
    struct gl_err why;

    memset(&u, 0, sizeof(u));
    if (fetch_urls_add(&u, base, &why) != 0) {
        memset(f, 0, sizeof(*f));
        snprintf(f->error, sizeof(f->error), "%s", why.reason);
        return GL_EINVAL;
    }
    return fetch_init_urls(f, &u, budget_s);
}

int fetch_open(struct fetch *f, const struct fetch_opts *o)
{
    int rc = fetch_init_urls(f, &o->urls, o->timeout_s);

    if (rc != 0)
        cli_error("--log %s: %s", fetch_opts_log(o),
                  f->error[0] ? f->error : "cannot start libcurl");
    return rc;
}

void fetch_release(struct fetch *f)
{
    gl_http_client_free(f->http);
    f->http = NULL;
}

/* The printable start of a body, for error messages. */
static void snippet(const struct gl_buf *b, char *out, size_t max)
{
    size_t j = 0;

    for (size_t i = 0; i < b->len && j + 1 < max && i < BODY_SNIPPET; i++)
        out[j++] = b->data[i] >= 0x20 && b->data[i] < 0x7f ? (char)b->data[i] : ' ';
    out[j] = 0;
}

int fetch_retry_after(const struct gl_http_response *r, double *seconds)
{
    char *end;
    double ra;

    if (r->status == 0 || !r->has_header)
        return GL_ENOTFOUND;
    ra = strtod(r->header, &end);
    if (end == r->header || *end != 0 || !(ra >= 0))
        return GL_ENOTFOUND;
    *seconds = ra;
    return 0;
}

/* Seconds to wait before the next attempt: the server's Retry-After when
 * it gave a sane one, else the back-off; never less than the back-off (a
 * server may slow the client down, never make it retry in a tight loop:
 * Retry-After: 0 answered without end). */
static double wait_for(const struct gl_http_response *r, double backoff)
{
    double ra;

    if (fetch_retry_after(r, &ra) != 0 || ra < backoff)
        return backoff;
    return ra > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : ra;
}

static int retryable(int rc, const struct gl_http_response *r)
{
    return rc == GL_EIO || (rc == 0 && (r->status >= 500 || r->status == 429));
}

/* The bit of each of n URL prefixes (n <= FETCH_MAX_URLS). */
static unsigned all_urls(size_t n)
{
    assert(n > 0 && n <= FETCH_MAX_URLS);
    return (1u << n) - 1;
}

/* 1 if a 404 from URL prefix k should be asked of the next: not every
 * prefix has answered 404 to this GET yet (*seen404 has a bit for each
 * that has). A mirror behind the log, or one that dropped a partial tile
 * before it has the full one, may lack what another prefix serves
 * (tlog-tiles: on a failure, try the resource on another prefix); a 404
 * from every prefix is the answer. */
static int try_next_on_404(const struct fetch *f, int rc,
                           const struct gl_http_response *r, size_t k, unsigned *seen404)
{
    if (rc != 0 || r->status != 404)
        return 0;
    *seen404 |= 1u << k;
    return *seen404 != all_urls(f->urls.n);
}

/* 1 if r, a 404 to a GET of url, is likely not the log API's answer: the
 * path is the JSON API's (api/v1/) and the body is not a JSON object (every
 * glasslog server gives its 404s a JSON reason there). A static copy of
 * the tiles (mirror-dir behind a web server) answers so: it serves the
 * checkpoint and tiles, not the API; so may a proxy that rewrites error
 * bodies, so it stays a "not found", only said more plainly. */
static int no_api_here(const struct gl_http_response *r, const char *url)
{
    size_t i = 0;

    if (r->status != 404 || strstr(url, "/api/v1/") == NULL)
        return 0;
    while (i < r->body.len && strchr(" \t\r\n", r->body.data[i]) != NULL)
        i++;
    return i == r->body.len || r->body.data[i] != '{';
}

/* Turns a final answer to a GET into fetch_get's result. */
static int finish(struct fetch *f, int rc, struct gl_http_response *r, const char *url,
                  struct gl_buf *body)
{
    char snip[BODY_SNIPPET + 1];

    f->status = r->status;
    if (rc == GL_ETOOBIG) {
        snprintf(f->error, sizeof(f->error), "%s: the answer exceeds %zu bytes", url,
                 r->body.max);
        return rc;
    }
    if (rc != 0) {
        snprintf(f->error, sizeof(f->error), "%s: %s", url,
                 r->error[0] ? r->error : gl_strerror(rc));
        return GL_EIO;
    }
    if (r->status == 200) {
        gl_http_response_take_body(r, body);
        return 0;
    }
    if (f->urls.n == 1 && no_api_here(r, url)) { /* of several, another may have it */
        snprintf(
            f->error, sizeof(f->error),
            "%s: 404 without the log API's JSON reason: likely no glasslog API at this "
            "URL (a static copy of the tiles serves /checkpoint and tiles only; give "
            "the log's URL)",
            url);
        return GL_ENOTFOUND;
    }
    snippet(&r->body, snip, sizeof(snip));
    snprintf(f->error, sizeof(f->error), "%s: the log answered %ld%s%s", url, r->status,
             snip[0] ? ": " : "", snip);
    return r->status == 404 ? GL_ENOTFOUND : GL_EIO;
}

void fetch_rewind(struct fetch *f)
{
    f->cur = 0;
    f->base = f->urls.v[0];
}

/* Builds the URL of path under f->urls.v[k] into url. */
static int make_url(const struct fetch *f, size_t k, const char *path, struct gl_buf *url)
{
    url->len = 0;
    return util_join_url(f->urls.v[k], path, url);
}

/* The timeout of an attempt starting now: what is left before deadline,
 * at least 1 ms (a late wake-up), at most ATTEMPT_MAX_MS. */
static long attempt_ms(double deadline)
{
    double left = deadline - gl_clock_mono();

    if (left * 1000 >= ATTEMPT_MAX_MS)
        return ATTEMPT_MAX_MS;
    return left > 0 ? (long)(left * 1000) + 1 : 1;
}

/* fetch_get with the retries ending at deadline (gl_clock_mono seconds):
 * GL_EIO without a request when it has passed already. */
static int get_until(struct fetch *f, const char *path, size_t max, struct gl_buf *body,
                     double deadline)
{
    struct gl_http_request_spec spec;
    struct gl_http_response r;
    struct gl_buf url;
    double backoff = BACKOFF_FIRST, pause;
    size_t k = f->cur, start = f->cur;
    unsigned seen404 = 0;
    int rc;

    assert(f->urls.n > 0 && f->cur < f->urls.n);
    f->error[0] = 0;
    if (gl_clock_mono() >= deadline) {
        f->status = 0;
        snprintf(f->error, sizeof(f->error),
                 "%s/%s: the time budget of %g s ran out first", f->urls.v[k], path,
                 f->budget_s);
        return GL_EIO;
    }
    gl_buf_init(&url, URL_MAX);
    memset(&r, 0, sizeof(r));
    memset(&spec, 0, sizeof(spec));
    spec.max_response = max;
    spec.capture_header = "Retry-After";
    for (;;) {
        if (make_url(f, k, path, &url) != 0) {
            snprintf(f->error, sizeof(f->error), "URL too long for %s", path);
            gl_buf_release(&url);
            return GL_EINVAL;
        }
        spec.url = (const char *)url.data;
        spec.timeout_ms = attempt_ms(deadline);
        f->requests++;
        rc = gl_http_request(f->http, &spec, &r);
        if (!retryable(rc, &r) && !try_next_on_404(f, rc, &r, k, &seen404)) {
            f->cur = k;
            f->base = f->urls.v[k];
            break;
        }
        k = (k + 1) % f->urls.n;
        if (k == start) {
            pause = wait_for(&r, backoff);
            if (gl_clock_mono() + pause >= deadline)
                break;
            usleep((useconds_t)(pause * 1e6));
            backoff = gl_clock_backoff(backoff, BACKOFF_FIRST, BACKOFF_MAX);
        } else if (gl_clock_mono() >= deadline) {
            break;
        }
        f->retries++;
        gl_http_response_release(&r);
    }
    rc = finish(f, rc, &r, spec.url, body);
    if (rc == GL_ENOTFOUND && seen404 != all_urls(f->urls.n)) {
        /* the time ran out with a 404 last, but some URL never answered
         * one (it failed): absence is not established */
        snprintf(f->error, sizeof(f->error),
                 "%s/%s: not every URL answered (the last answer, a 404, may come from "
                 "a mirror behind the log)",
                 f->urls.v[start], path);
        rc = GL_EIO;
    }
    gl_http_response_release(&r);
    gl_buf_release(&url);
    return rc;
}

int fetch_get(struct fetch *f, const char *path, size_t max, struct gl_buf *body)
{
    return get_until(f, path, max, body, gl_clock_mono() + f->budget_s);
}

/* gl_tile_fetch's getter: both GETs of one fetch_tile share its deadline. */
struct tile_get {
    struct fetch *f;
    double deadline;
    int calls;
};

static int tile_get(void *ctx, const char *path, size_t max, struct gl_buf *body)
{
    struct tile_get *g = ctx;

    g->calls++;
    return get_until(g->f, path, max, body, g->deadline);
}

int fetch_tile(struct fetch *f, const struct gl_tile *t, int entries, struct gl_buf *body)
{
    char path[GL_TILE_PATH_MAX], then[sizeof(f->error)];
    struct tile_get g = {f, gl_clock_mono() + f->budget_s, 0};
    struct gl_err why;
    int rc = gl_tile_fetch(t, entries, tile_get, &g, body, &why);

    if (rc == GL_EINVAL && g.calls == 0)
        snprintf(f->error, sizeof(f->error), "%s", why.reason);
    if (rc == 0 || g.calls < 2)
        return rc;
    /* fell back to the full tile: say so */
    snprintf(then, sizeof(then), "%s", rc == GL_EPARSE ? why.reason : f->error);
    gl_tile_path_format(t, entries, path, NULL);
    snprintf(f->error, sizeof(f->error), "%s not found (404), nor its full tile: %.400s",
             path, then);
    return rc;
}
