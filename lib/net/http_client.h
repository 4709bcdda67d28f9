/*
 * http_client: the libcurl client adapter, for the CLI, for worker threads
 * of the daemons (blocking calls) and for the event loop (a threadpool
 * helper). Only http_client.c includes curl/curl.h.
 *
 * Blocking calls: a struct gl_http_client wraps one curl easy handle, so
 * consecutive calls on one client reuse its connections (keep-alive), DNS
 * cache and TLS sessions. A client may move between threads but must be
 * used by one thread at a time; use one client per worker thread.
 * curl_global_init runs once per process (pthread_once) and
 * curl_global_cleanup never (it is not thread-safe and the process exit
 * reclaims everything).
 *
 * Transfers: http:// and https:// only; TLS peer and host verification is
 * on (curl's defaults, the system CA store unless ca_file is given);
 * redirects are NOT followed (a 3xx is returned like any other status: the
 * caller decides; capture "Location" if it wants it); the body is decoded
 * transparently (gzip, deflate, whatever libcurl supports: "Accept-Encoding"
 * lists them), and the size cap applies to the DECODED bytes, so a small
 * compressed bomb is still stopped at max_response. The transfer is
 * aborted as soon as the cap is passed (GL_ETOOBIG). The whole transfer,
 * connect included, is bounded by timeout_ms. User-Agent is
 * "glasslog/<GL_VERSION>".
 *
 * Non-blocking use from the libuv loop: a struct gl_http_multi runs any
 * number of requests at once on the loop's own thread (curl's multi
 * interface on libuv poll and timer handles: no threadpool thread is ever
 * blocked), reusing connections between requests to the same server.
 *
 * Errors: 0 means an HTTP response arrived (any status: check
 * out->status). GL_ETOOBIG: the body passed the cap (status and headers
 * are filled, the body holds the first max_response bytes). GL_EIO: no
 * response (DNS, connect, TLS, reset, timeout: out->timed_out tells the
 * last one; the client's abort_cb: out->aborted). GL_EINVAL: a bad
 * argument. GL_ENOMEM. On every error out->error holds a one-line message
 * for diagnostics (curl's, when it comes from curl).
 */
#ifndef GL_NET_HTTP_CLIENT_H
#define GL_NET_HTTP_CLIENT_H

#include <stddef.h>

#include <uv.h>

#include "glasslog/buf.h"
#include "http_header.h"

#define GL_HTTP_CLIENT_MAX_RESPONSE ((size_t)1 << 30)
#define GL_HTTP_CLIENT_MAX_REQUEST_BODY ((size_t)256 << 20)
#define GL_HTTP_CLIENT_MAX_TIMEOUT_MS 600000L
#define GL_HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000L
#define GL_HTTP_CLIENT_MAX_HEADERS 16
#define GL_HTTP_CLIENT_MAX_URL 8192
/* Size of the captured strings (including the NUL); longer values are
 * treated as absent. */
#define GL_HTTP_MAX_CAPTURE 256

struct gl_http_client_config {
    /* PEM file of CAs to trust instead of the system store; NULL = system. */
    const char *ca_file;
    /* Response header captured by gl_http_get / gl_http_post;
     * NULL = "Retry-After". */
    const char *capture_header;
    /* Limit on connecting alone; 0 = only the whole-transfer timeout. */
    long connect_timeout_ms;
    /* Blocking calls only (gl_http_multi ignores it): polled while a
     * transfer runs (about once a second when nothing moves, more often
     * while bytes flow, and before it starts); non-zero aborts the call
     * with GL_EIO and error "aborted" (out->aborted set). Runs on the
     * calling thread; NULL: never. */
    int (*abort_cb)(void *abort_arg);
    void *abort_arg;
};

/* One request. Only read during the call (gl_http_multi_request copies it). */
struct gl_http_request_spec {
    const char *method;       /* "GET" (also when NULL) or "POST" */
    const char *url;          /* http:// or https://, at most GL_HTTP_CLIENT_MAX_URL */
    const char *content_type; /* POST only; NULL sends no Content-Type */
    const void *body;         /* POST body (NULL with body_len 0 = empty) */
    size_t body_len;          /* at most GL_HTTP_CLIENT_MAX_REQUEST_BODY */
    const struct gl_http_header *headers; /* extra request headers */
    size_t nheaders;                      /* at most GL_HTTP_CLIENT_MAX_HEADERS */
    size_t max_response;                  /* cap on the decoded body, at most
                                           * GL_HTTP_CLIENT_MAX_RESPONSE */
    long timeout_ms;                      /* whole transfer; 0 = 30 s; at most 10 min */
    const char *capture_header;           /* response header to capture, or NULL */
};

struct gl_http_response {
    long status;        /* HTTP status, 0 when no response arrived */
    struct gl_buf body; /* decoded body; owned: gl_http_response_release */
    char content_type[GL_HTTP_MAX_CAPTURE]; /* "" when absent */
    char header[GL_HTTP_MAX_CAPTURE];       /* the captured header's value */
    int has_header;                         /* 1 if the captured header was present */
    int timed_out;                          /* 1 if the failure was the timeout */
    int aborted;                            /* 1 if the client's abort_cb stopped it */
    char error[256];                        /* "" on success; a message on failure */
};

struct gl_http_client;

/* Creates a client; cfg may be NULL (defaults) and is copied. The caller
 * frees *out with gl_http_client_free. GL_ENOMEM, GL_EIO (curl init). */
int gl_http_client_new(const struct gl_http_client_config *cfg,
                       struct gl_http_client **out);
/* Frees the client and closes its connections. NULL is a no-op. */
void gl_http_client_free(struct gl_http_client *c);

/* Performs spec and fills *out, which it initialises first (whatever the
 * outcome, the caller then owns out's body and releases it with
 * gl_http_response_release). Errors as described at the top. Blocks up to
 * spec->timeout_ms. */
int gl_http_request(struct gl_http_client *c, const struct gl_http_request_spec *spec,
                    struct gl_http_response *out);
/* GET url, capturing the client's capture_header. As gl_http_request. */
int gl_http_get(struct gl_http_client *c, const char *url, size_t max_response_bytes,
                long timeout_ms, struct gl_http_response *out);
/* POST len bytes of body with Content-Type content_type (NULL: none). */
int gl_http_post(struct gl_http_client *c, const char *url, const char *content_type,
                 const void *body, size_t len, size_t max_response_bytes, long timeout_ms,
                 struct gl_http_response *out);
/* Frees the body; leaves an empty response. */
void gl_http_response_release(struct gl_http_response *r);
/* Moves r's body into *body (whose old data is released first; the
 * caller then owns the new one) and leaves r's body empty, same max. */
void gl_http_response_take_body(struct gl_http_response *r, struct gl_buf *body);

/* Completion of a gl_http_multi request, on the loop thread. err and
 * *resp as gl_http_request's (err is GL_EIO with error "cancelled" when
 * the client was closed first). resp is valid during the call only; the
 * callback may take the body with gl_buf_detach(&resp->body, ...) and may
 * start new requests. */
typedef void (*gl_http_async_cb)(void *arg, int err, struct gl_http_response *resp);

struct gl_http_multi;

/* Creates a loop client on `loop` (which the caller owns and runs); cfg
 * may be NULL (defaults; capture_header is per request) and is copied.
 * Loop thread only, like every gl_http_multi_* call. Freed with
 * gl_http_multi_close, then running the loop, then gl_http_multi_free.
 * GL_EINVAL, GL_ENOMEM, GL_EIO (curl init). */
int gl_http_multi_new(uv_loop_t *loop, const struct gl_http_client_config *cfg,
                      struct gl_http_multi **out);
/* Starts spec (copied, body included: the caller may free it at once);
 * cb(arg, ...) runs later, exactly once. On failure (GL_EINVAL for a bad
 * spec, GL_ENOMEM, GL_ESTATE once closing) cb is never called. */
int gl_http_multi_request(struct gl_http_multi *m,
                          const struct gl_http_request_spec *spec, gl_http_async_cb cb,
                          void *arg);
/* Requests in flight. */
size_t gl_http_multi_active(const struct gl_http_multi *m);
/* Cancels every request in flight (their callbacks run now, "cancelled"),
 * closes the cached connections and the handles; on_closed(arg) (may be
 * NULL) runs on the loop thread once all are closed. Later calls are
 * ignored. */
void gl_http_multi_close(struct gl_http_multi *m, void (*on_closed)(void *arg),
                         void *arg);
/* Frees m after its close completed (else logs and leaks it). NULL: no-op. */
void gl_http_multi_free(struct gl_http_multi *m);

#endif
