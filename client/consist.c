/*
 * consist: see consist.h. The proof buffer (GL_MERKLE_MAX_PROOF hashes)
 * is on the stack; nothing is allocated.
 */
#include "consist.h"

#include <assert.h>
#include <stdio.h>

#include "cli.h"
#include "glasslog/error.h"
#include "state.h"

static const char *source_error(const struct consist_source *src, int rc)
{
    return src->error != NULL && src->error[0] != '\0' ? src->error : gl_strerror(rc);
}

/* The URL that served the last proof into *url (NULL: none to name); 1
 * if it is a mirror's, 0 the log's own. */
static int served_by(const struct consist_source *src, const char **url)
{
    *url = NULL;
    return src->served_by != NULL ? src->served_by(src->ctx, url) : 0;
}

/* Records the fork between old and cur. */
static void fork_alarm(struct alarm_ctx *a, const struct consist_source *src,
                       const struct consist_checkpoint *old,
                       const struct consist_checkpoint *cur,
                       const uint8_t (*proof)[GL_HASH_LEN], size_t len)
{
    uint64_t m = old->cp->size, n = cur->cp->size, lo = m < n ? m : n, hi = m < n ? n : m;
    uint8_t prefix[GL_HASH_LEN];
    const uint8_t *pr = NULL;
    const char *url;
    char detail[600], dir[STATE_PATH_MAX];

    if (src->prefix_root != NULL && lo > 0 && lo < hi &&
        src->prefix_root(src->ctx, lo, hi, prefix) == 0)
        pr = prefix;
    served_by(src, &url);
    snprintf(
        detail, sizeof(detail),
        "log %.100s: the checkpoint of size %llu is not consistent with the one of size "
        "%llu %s before (%s%s%s%.200s%s)",
        cur->cp->origin, (unsigned long long)n, (unsigned long long)m, src->seen,
        m == n ? "same size, different root" : "the consistency proof from ",
        m == n ? "" : src->what, m == n || url == NULL ? "" : " at ",
        m == n || url == NULL ? "" : url, m == n ? "" : " does not verify");
    alarm_fork(a, old->note, old->len, m, cur->note, cur->len, n, proof, len, pr, detail,
               dir);
}

/* Gets the proof lo -> hi from src (into proof[], *plen hashes) and
 * verifies it: 0 with *ok 1 (verified) or 0 (it does not verify); the
 * codes of consist_check when the proof could not be had (reported). */
static int prove_verify(const struct consist_source *src,
                        const struct consist_checkpoint *old,
                        const struct consist_checkpoint *cur,
                        uint8_t (*proof)[GL_HASH_LEN], size_t *plen, int *ok)
{
    uint64_t m = old->cp->size, n = cur->cp->size, lo = m < n ? m : n, hi = m < n ? n : m;
    const uint8_t *rlo = m <= n ? old->cp->root : cur->cp->root;
    const uint8_t *rhi = m <= n ? cur->cp->root : old->cp->root;
    size_t len = 0;
    int rc;

    *plen = 0;
    *ok = 0;
    if (lo != hi && lo != 0) {
        rc = src->prove(src->ctx, lo, hi, proof, &len);
        if (rc != 0 && m > n) {
            cli_error(
                "the log serves a checkpoint of size %llu, smaller than the size %llu "
                "%s before: cannot get the consistency proof between sizes %llu and "
                "%llu from %s: %s",
                (unsigned long long)n, (unsigned long long)m, src->seen,
                (unsigned long long)m, (unsigned long long)n, src->what,
                source_error(src, rc));
            /* tiles missing or malformed show the older tree is no prefix;
             * servers that did not answer (an outage, a timeout) show
             * nothing: an I/O failure, as for a larger checkpoint */
            return rc == GL_ENOTFOUND || rc == GL_EPARSE || rc == GL_ETOOBIG ||
                           rc == GL_EVERIFY
                       ? GL_EVERIFY
                       : GL_EIO;
        }
        if (rc != 0) {
            cli_error("cannot get the consistency proof between sizes %llu and %llu from "
                      "%s: %s",
                      (unsigned long long)m, (unsigned long long)n, src->what,
                      source_error(src, rc));
            return GL_EIO;
        }
        assert(len <= GL_MERKLE_MAX_PROOF);
    }
    *plen = len;
    *ok =
        gl_merkle_verify_consistency(lo, hi, rlo, rhi, gl_hashes_const(proof), len) == 0;
    return 0;
}

int consist_check(struct alarm_ctx *a, const struct consist_source *src,
                  const struct consist_checkpoint *old,
                  const struct consist_checkpoint *cur, int *forked)
{
    uint8_t proof[GL_MERKLE_MAX_PROOF][GL_HASH_LEN];
    uint64_t m = old->cp->size, n = cur->cp->size;
    int asked = m != n && m != 0 && n != 0; /* a proof was needed */
    const char *url;
    size_t len = 0;
    int rc, ok = 0;

    if (forked != NULL)
        *forked = 0;
    rc = prove_verify(src, old, cur, proof, &len, &ok);
    if (rc == 0 && !ok && asked && src->refresh != NULL) {
        src->refresh(src->ctx); /* cached tiles, or a mirror: once more, fresh */
        rc = prove_verify(src, old, cur, proof, &len, &ok);
    }
    if (rc != 0 || ok)
        return rc;
    if (asked && served_by(src, &url)) {
        cli_error("verification failed: the consistency proof between sizes %llu and "
                  "%llu from the mirror %s does not verify, and the log's own could not "
                  "be had: not taken as a fork of the log",
                  (unsigned long long)old->cp->size, (unsigned long long)cur->cp->size,
                  url != NULL ? url : "?");
        return GL_EVERIFY;
    }
    fork_alarm(a, src, old, cur, gl_hashes_const(proof), len);
    if (forked != NULL)
        *forked = 1;
    return GL_EVERIFY;
}
