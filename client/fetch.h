/*
 * fetch: GET requests to one log, or to the log and its mirrors, over the
 * lib/net libcurl adapter, with the client's network rules in one place:
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
 *     runs out; every attempt is bounded by the time left; one budget
 *     covers one fetch_get, or one fetch_tile with both its GETs (a
 *     partial tile, then the full one), never each GET anew;
 *   - other statuses are final: 404 is GL_ENOTFOUND (once every URL of
 *     the list answered 404, below), anything else but 200 is GL_EIO with
 *     the status and the start of the body in f->error;
 *   - failover: the URL list (the log and its mirrors, struct fetch_urls)
 *     is tried in order; a retryable failure moves on to the next URL at
 *     once, and the back-off pause comes only after every URL failed. A
 *     404 moves on too, without a pause, until every URL has answered 404
 *     (a mirror behind the log, or one that dropped a partial tile before
 *     it has the full one, lacks what another serves: tlog-tiles asks
 *     clients to try another prefix). The URL that answered last (any
 *     status but a retryable one) is tried first next time, so one run
 *     mostly reads one server. Nothing here
 *     trusts a server: callers check every byte against the policy, the
 *     same whether the log or a mirror served it.
 *
 * One struct fetch owns one HTTP client (keep-alive to the log) and must be
 * used by one thread at a time.
 */
#ifndef GL_CLIENT_FETCH_H
#define GL_CLIENT_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/tile.h"

#define FETCH_DEFAULT_BUDGET_S 60.0

struct gl_http_client;
struct gl_http_response;

#define FETCH_MAX_URLS 8
#define FETCH_URLS_TEXT_MAX 4096

/* The URL prefixes of a log and of its mirrors (a mirror's is
 * <witness URL>/mirror/<hex SHA-256 of the origin>), in the order to try.
 * Plain storage, no heap: copy or zero it freely. */
struct fetch_urls {
    char text[FETCH_URLS_TEXT_MAX]; /* the URLs, NUL-separated */
    size_t used;                    /* bytes of text in use */
    const char *v[FETCH_MAX_URLS];  /* into text */
    size_t n;
};

/* Adds the URLs of one --log argument to u: one URL or a comma-separated
 * list; a trailing "/" is dropped. Each must start with http:// or
 * https:// and be non-empty; at most FETCH_MAX_URLS in all. 0, or
 * GL_EINVAL / GL_ETOOBIG with the reason in why (optional); u is
 * unchanged on error. */
int fetch_urls_add(struct fetch_urls *u, const char *arg, struct gl_err *why);

/* fetch_urls_add for a command's --log option: reports a refusal with
 * cli_error ("--log: reason") and returns -1; 0 when added. */
int fetch_urls_opt(struct fetch_urls *u, const char *arg);

/* A command's --log and --timeout options (fetch_opts_take fills them;
 * zero them first). No heap; log points into urls, so a filled one is used
 * where it was filled, not copied. */
struct fetch_opts {
    struct fetch_urls urls; /* --log, repeatable: the log, then its mirrors */
    double timeout_s;       /* --timeout, 1 to 86400; 0: FETCH_DEFAULT_BUDGET_S */
};

/* The log's URL (o->urls.v[0], borrowed), or NULL before a --log. */
const char *fetch_opts_log(const struct fetch_opts *o);

/* Takes a command's option c (the val of its struct option) with value arg
 * when c is 'l' (--log URL[,URL...], as fetch_urls_opt) or 't' (--timeout
 * SECONDS, 1 to 86400): 0 taken; GL_EINVAL for a bad value (reported on
 * stderr, o unchanged); GL_ENOTFOUND when c is neither (nothing said). */
int fetch_opts_take(struct fetch_opts *o, int c, const char *arg);

struct fetch {
    struct gl_http_client *http; /* owned */
    const char *base;            /* the URL that answered last; into urls */
    struct fetch_urls urls;      /* the log, then its mirrors */
    size_t cur;                  /* index of base in urls.v */
    double budget_s;             /* time for one fetch_get or fetch_tile */
    long status;                 /* HTTP status of the last answer, 0 none */
    char error[512];             /* why the last request failed */
    uint64_t requests, retries;  /* counters, for diagnostics */
};

/* Prepares f for the log at base (http:// or https://, or a
 * comma-separated list of such URLs, as fetch_urls_add; copied).
 * budget_s <= 0 means FETCH_DEFAULT_BUDGET_S. 0, GL_EINVAL for a URL that
 * is not http(s) (f->error says why), GL_ENOMEM / GL_EIO from the
 * adapter. */
int fetch_init(struct fetch *f, const char *base, double budget_s);
/* The same for a URL list (copied; at least one URL). */
int fetch_init_urls(struct fetch *f, const struct fetch_urls *urls, double budget_s);
/* fetch_init_urls for a command, from its options (at least one --log):
 * reports a failure on stderr as "--log URL: why". 0 or fetch_init_urls's
 * code; the caller releases f either way. */
int fetch_open(struct fetch *f, const struct fetch_opts *o);
/* Closes the connections. Safe on a zeroed or released struct. */
void fetch_release(struct fetch *f);

/* The next request tries the first URL of the list first again (a
 * long-running client goes back to the log once it answers again). */
void fetch_rewind(struct fetch *f);

/* GETs <url>/<path> from the first URL that answers (path without
 * leading "/", may carry a query). On 200 returns 0 and replaces *body
 * (released first; the caller owns and releases the new one) with the
 * decoded body, at most max bytes. GL_ENOTFOUND for 404, GL_ETOOBIG past
 * max, GL_EIO for anything else (f->error says what). */
int fetch_get(struct fetch *f, const char *path, size_t max, struct gl_buf *body);

/* fetch_get of tile *t (a data tile when `entries`) through
 * gl_tile_fetch: a partial tile that answers 404 is read from the full
 * tile's first width hashes or entries (a full tile that is not exactly
 * 256 of them is GL_EPARSE). Both GETs share one deadline, f->budget_s
 * from the call: the full tile gets only the time the partial one left
 * (GL_EIO, without a request, when none is left). *body as fetch_get's;
 * errors as fetch_get's or gl_tile_fetch's, f->error says what (for a
 * fallback, both paths). The caller checks the body as it would any
 * tile. */
int fetch_tile(struct fetch *f, const struct gl_tile *t, int entries,
               struct gl_buf *body);

/* The Retry-After of an answer r whose capture_header was "Retry-After"
 * (the adapter's default): its delay in seconds (a non-negative decimal;
 * an HTTP date is not understood) into *seconds. 0, or GL_ENOTFOUND when
 * absent or unusable. */
int fetch_retry_after(const struct gl_http_response *r, double *seconds);

#endif
