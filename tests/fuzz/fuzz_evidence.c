/*
 * fuzz_evidence: the input as an evidence file, verified against the
 * vector log key (a success must name a split view with consistent sizes
 * and two different roots, or ordered sizes); and, read as a size pair
 * plus hashes, run through gl_evidence_roots (it must never accept a
 * proof of the wrong length). Parsing and verifying must say why
 * (fuzz_check_why).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"

static const char log_vkey[] =
    "example.com/log+9f5d4526+AWRyXegyaJ7XX9x3Co+oEFL7/PwhWatdHBLtnyNh+Dk0";

static void check_file(const char *s, size_t n, const struct gl_verifier *v)
{
    struct gl_evidence *e = calloc(1, sizeof(*e));
    struct gl_evidence_result r;
    struct gl_err why;
    int rc;

    if (e == NULL)
        abort();
    memset(&why, 0, sizeof(why));
    rc = gl_evidence_parse(s, n, e, &why);
    fuzz_check_why(rc, &why, (const uint8_t *)s, n);
    if (rc == 0) {
        if (e->nproof > GL_EVIDENCE_MAX_PROOF)
            abort();
        rc = gl_evidence_verify(e, v, 1, &r);
        /* r.why explains both outcomes */
        fuzz_check_why(GL_EVERIFY, &r.why, (const uint8_t *)s, n);
        if (rc == 0 &&
            (r.kind == GL_EVIDENCE_NONE || r.consistent || r.size[0] > r.size[1] ||
             (r.kind == GL_EVIDENCE_SAME_SIZE && r.size[0] != r.size[1])))
            abort();
        if (rc != 0 && r.kind != GL_EVIDENCE_NONE)
            abort();
    }
    free(e);
}

static void check_roots(const uint8_t *data, size_t size)
{
    uint8_t rm[32], rn[32];
    uint64_t m = 0, n = 0;
    size_t len, want;

    if (size < 16)
        return;
    for (int i = 0; i < 8; i++) {
        m = m << 8 | data[i];
        n = n << 8 | data[8 + i];
    }
    m >>= data[0] & 63;
    n >>= data[8] & 63;
    len = (size - 16) / 32;
    if (len > GL_EVIDENCE_MAX_PROOF)
        len = GL_EVIDENCE_MAX_PROOF;
    {
        uint8_t(*p)[32] = malloc(len ? len * 32 : 32);
        if (p == NULL)
            abort();
        memcpy(p, data + 16, len * 32);
        if (gl_evidence_roots(m, n, (const uint8_t(*)[32])p, len, rm, rn) == 0 &&
            (gl_merkle_consistency_len(m, n, &want) != 0 ||
             len != want + ((m & (m - 1)) == 0 ? 1 : 0)))
            abort();
        free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gl_verifier v; /* the vector log key, parsed once */
    static int ready;

    if (!ready) {
        if (gl_verifier_parse(log_vkey, strlen(log_vkey), &v, NULL) != 0)
            abort();
        ready = 1;
    }
    check_file((const char *)data, size, &v);
    check_roots(data, size);
    return 0;
}
