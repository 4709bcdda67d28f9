/*
 * fetch: GET requests to one log, over the lib/net libcurl adapter, with
 * the client's network rules in one place:
 *
 *   - every response has a size cap chosen by the caller (the adapter
 *     aborts the transfer past it, counting decoded bytes, so gzip bombs
 *     stop too); gzip and identity are both accepted (tlog-tiles lets logs
 *     gzip entry bundles without negotiation);
 *   - TLS peer and host verification stay on (the adapter's default);
 *     redirects are not followed;
 *   - transport failures (connect, reset, timeout), 5xx and 429 answers are
 *     retried with exponential back-off (0.25 s doubling to 8 s, or the
 *     server's Retry-After up to 30 s) until the request's time budget
 *     runs out; every attempt is bounded by the time left;
 *   - other statuses are final: 404 is GL_ENOTFOUND, anything else but
 *     200 is GL_EIO with the status and the start of the body in
 *     f->error.
 *
 * One struct fetch owns one HTTP client (keep-alive to the log) and must be
 * used by one thread at a time.
 */
#ifndef GL_CLIENT_FETCH_H
#define GL_CLIENT_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"

#define FETCH_DEFAULT_BUDGET_S 60.0

struct gl_http_client;
struct gl_http_response;

struct fetch {
    struct gl_http_client *http; /* owned */
    const char *base;            /* the log's URL prefix; borrowed */
    double budget_s;             /* time for one request, retries included */
    long status;                 /* HTTP status of the last answer, 0 none */
    char error[512];             /* why the last request failed */
    uint64_t requests, retries;  /* counters, for diagnostics */
};

/* Prepares f for the log at base (http:// or https://; the string must
 * outlive f). budget_s <= 0 means FETCH_DEFAULT_BUDGET_S. 0, GL_EINVAL for
 * a URL that is not http(s), GL_ENOMEM / GL_EIO from the adapter. */
int fetch_init(struct fetch *f, const char *base, double budget_s);
/* Closes the connections. Safe on a zeroed or released struct. */
void fetch_release(struct fetch *f);

/* GETs <base>/<path> (path without leading "/", may carry a query).
 * On 200 returns 0 and replaces *body (released first; the caller owns
 * and releases the new one) with the decoded body, at most max bytes.
 * GL_ENOTFOUND for 404, GL_ETOOBIG past max, GL_EIO for anything else
 * (f->error says what). */
int fetch_get(struct fetch *f, const char *path, size_t max, struct gl_buf *body);

/* The Retry-After of an answer r whose capture_header was "Retry-After"
 * (the adapter's default): its delay in seconds (a non-negative decimal;
 * an HTTP date is not understood) into *seconds. 0, or GL_ENOTFOUND when
 * absent or unusable. */
int fetch_retry_after(const struct gl_http_response *r, double *seconds);

#endif
