/*
 * wprobe: the start-up question to a witness (wprobe.h).
 *
 * Each request is blocking, bounded by the caller's timeout; the body is
 * "old N", a blank line (the empty proof) and the note, at most
 * WPROBE_BODY_MAX bytes, as is the answer read.
 */
#include "wprobe.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"

#define WPROBE_BODY_MAX ((size_t)64 * 1024)

/* One blocking add-checkpoint of note with an empty proof from old; *r
 * is always filled (the caller releases it). */
static int ask_once(struct gl_http_client *c, const char *url, long timeout_ms,
                    uint64_t old, const uint8_t *note, size_t len,
                    struct gl_http_response *r)
{
    struct gl_buf body;
    int rc;

    memset(r, 0, sizeof *r);
    gl_buf_init(&r->body, WPROBE_BODY_MAX);
    gl_buf_init(&body, WPROBE_BODY_MAX);
    rc = gl_buf_printf(&body, "old %llu\n\n", (unsigned long long)old);
    if (rc == 0)
        rc = gl_buf_append(&body, note, len);
    if (rc == 0) {
        gl_http_response_release(r);
        if (gl_http_post(c, url, "text/plain", body.data, body.len, WPROBE_BODY_MAX,
                         timeout_ms, r) != 0)
            r->status = 0; /* no usable answer: r->error says why */
    }
    gl_buf_release(&body);
    return rc;
}

/* Whether r, the answer to an add-checkpoint from old = size, says the
 * witness holds another tree of that size: 422, or a 409 unless its body
 * names another size (the witness moved on meanwhile). */
static int is_conflict(const struct gl_http_response *r, uint64_t size)
{
    uint64_t theirs;

    if (r->status == 422)
        return 1;
    if (r->status != 409)
        return 0;
    return gl_parse_size_body((const char *)r->body.data, r->body.len, &theirs) != 0 ||
           theirs == size;
}

int wprobe_ask(struct gl_http_client *c, const char *url, long timeout_ms,
               const struct gl_verifier *key, const uint8_t *note, size_t len,
               uint64_t size, struct wprobe_answer *out)
{
    struct gl_http_response r;
    struct gl_err why;
    uint64_t theirs;
    int rc;

    memset(out, 0, sizeof *out);
    rc = ask_once(c, url, timeout_ms, 0, note, len, &r);
    if (rc == 0) {
        out->status = r.status;
        snprintf(out->error, sizeof out->error, "%s", r.error);
        if (r.status == 200 &&
            (key == NULL || gl_cosig_check_answer(
                                key, (const char *)note, len, (const char *)r.body.data,
                                r.body.len, (uint64_t)time(NULL), NULL, &why) == 0)) {
            out->known = 1;
            out->size = size;
        } else if (r.status == 200) {
            snprintf(out->error, sizeof out->error,
                     "200 without a valid cosignature: %.200s", why.reason);
        } else if (r.status == 409 && gl_parse_size_body((const char *)r.body.data,
                                                         r.body.len, &out->size) == 0) {
            out->known = 1;
        }
    }
    gl_http_response_release(&r);
    if (rc == 0 && out->known && out->status == 409 && out->size == size) {
        rc = ask_once(c, url, timeout_ms, size, note, len, &r);
        out->conflict = rc == 0 && is_conflict(&r, size);
        /* moved on meanwhile to a size above ours: that is what it holds */
        if (rc == 0 && r.status == 409 &&
            gl_parse_size_body((const char *)r.body.data, r.body.len, &theirs) == 0 &&
            theirs > size)
            out->size = theirs;
        gl_http_response_release(&r);
        rc = 0; /* a second question not answered shows nothing */
    }
    return rc;
}
