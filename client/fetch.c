/*
 * fetch: bounded, retried GETs to one log; see fetch.h for the rules.
 *
 * The retry loop keeps one deadline per request: each attempt gets at most
 * 30 s and never more than what is left, and a back-off sleep that would
 * pass the deadline ends the loop instead. Retrying a GET is always safe.
 */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glasslog/error.h"
#include "http_client.h"
#include "text.h"
#include "util.h"

#define URL_MAX 8192
#define ATTEMPT_MAX_MS 30000L
#define BACKOFF_FIRST 0.25
#define BACKOFF_MAX 8.0
#define RETRY_AFTER_MAX 30.0
#define BODY_SNIPPET 160

int fetch_init(struct fetch *f, const char *base, double budget_s)
{
    memset(f, 0, sizeof(*f));
    if (!gl_str_prefix(base, "http://") && !gl_str_prefix(base, "https://")) {
        snprintf(f->error, sizeof(f->error),
                 "the log URL must start with http:// or https://");
        return GL_EINVAL;
    }
    f->base = base;
    f->budget_s = budget_s > 0 ? budget_s : FETCH_DEFAULT_BUDGET_S;
    return gl_http_client_new(NULL, &f->http);
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
 * it gave a sane one, else the back-off. */
static double wait_for(const struct gl_http_response *r, double backoff)
{
    double ra;

    if (fetch_retry_after(r, &ra) == 0)
        return ra > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : ra;
    return backoff;
}

static int retryable(int rc, const struct gl_http_response *r)
{
    return rc == GL_EIO || (rc == 0 && (r->status >= 500 || r->status == 429));
}

/* Turns a final answer into fetch_get's result. */
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
        gl_buf_release(body);
        *body = r->body;
        gl_buf_init(&r->body, body->max);
        return 0;
    }
    snippet(&r->body, snip, sizeof(snip));
    snprintf(f->error, sizeof(f->error), "%s: the log answered %ld%s%s", url, r->status,
             snip[0] ? ": " : "", snip);
    return r->status == 404 ? GL_ENOTFOUND : GL_EIO;
}

int fetch_get(struct fetch *f, const char *path, size_t max, struct gl_buf *body)
{
    struct gl_http_request_spec spec;
    struct gl_http_response r;
    struct gl_buf url;
    double deadline = util_now() + f->budget_s, backoff = BACKOFF_FIRST, left, pause;
    int rc;

    f->error[0] = 0;
    gl_buf_init(&url, URL_MAX);
    memset(&r, 0, sizeof(r));
    if (util_join_url(f->base, path, &url) != 0) {
        snprintf(f->error, sizeof(f->error), "URL too long for %s", path);
        gl_buf_release(&url);
        return GL_EINVAL;
    }
    memset(&spec, 0, sizeof(spec));
    spec.url = (const char *)url.data;
    spec.max_response = max;
    spec.capture_header = "Retry-After";
    for (;;) {
        left = deadline - util_now();
        spec.timeout_ms =
            left * 1000 > ATTEMPT_MAX_MS ? ATTEMPT_MAX_MS : (long)(left * 1000) + 1;
        f->requests++;
        rc = gl_http_request(f->http, &spec, &r);
        if (!retryable(rc, &r))
            break;
        pause = wait_for(&r, backoff);
        if (util_now() + pause >= deadline)
            break;
        f->retries++;
        usleep((useconds_t)(pause * 1e6));
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
        gl_http_response_release(&r);
    }
    rc = finish(f, rc, &r, spec.url, body);
    gl_http_response_release(&r);
    gl_buf_release(&url);
    return rc;
}
