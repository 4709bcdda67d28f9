/*
 * fuzz_policy: tlog-policy parsing (specs/policy.md). Failures must say
 * where and why. Whatever parses must describe, format canonically into a
 * text that parses to the same policy (format is a fixed point), find each
 * of its keys by (name, ID), and decide quorums monotonically: more
 * verified witnesses never turn a satisfied quorum into an unsatisfied one.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/policy.h"

#define OUT_MAX (1u << 20)

/* format(p) parses, and formatting that again gives the same text. */
static void check_format(const struct gl_policy *p, int flags)
{
    struct gl_policy *q = NULL;
    struct gl_buf a, b;

    gl_buf_init(&a, OUT_MAX);
    gl_buf_init(&b, OUT_MAX);
    if (gl_policy_format(p, flags, &a) != 0 ||
        gl_policy_parse((const char *)a.data, a.len, &q, NULL) != 0 ||
        gl_policy_format(q, flags, &b) != 0 || a.len != b.len ||
        memcmp(a.data, b.data, a.len) != 0 ||
        gl_policy_nwitnesses(q) != gl_policy_nwitnesses(p) ||
        gl_policy_ngroups(q) != gl_policy_ngroups(p) ||
        gl_policy_nlogs(q) != gl_policy_nlogs(p))
        abort();
    gl_policy_free(q);
    gl_buf_release(&a);
    gl_buf_release(&b);
}

static void check_lookups(const struct gl_policy *p)
{
    const struct gl_verifier *k;
    size_t n, i, idx;

    k = gl_policy_log_keys(p, &n);
    for (i = 0; i < n; i++)
        if (gl_policy_find_log_key(p, k[i].name, strlen(k[i].name), k[i].id, &idx) != 0 ||
            idx != i ||
            gl_policy_find_log(p, k[i].name, strlen(k[i].name), 0, &idx) != 0 || idx > i)
            abort();
    k = gl_policy_witness_keys(p, &n);
    for (i = 0; i < n; i++) {
        const struct gl_policy_witness *w = gl_policy_witness_at(p, i);
        struct gl_policy_ref r;
        if (k[i].type != GL_KEY_COSIG || w->key != &k[i] ||
            gl_policy_find_witness_key(p, k[i].name, strlen(k[i].name), k[i].id, &idx) !=
                0 ||
            idx != i || gl_policy_find_name(p, w->name, strlen(w->name), &r) != 0 ||
            r.kind != GL_POLICY_REF_WITNESS || r.index != i)
            abort();
    }
}

/* none <= some <= all, for a subset chosen by the input bytes. */
static void check_quorum(const struct gl_policy *p, const uint8_t *data, size_t size)
{
    uint8_t w[GL_POLICY_MAX_WITNESSES];
    size_t n = gl_policy_nwitnesses(p);
    int r0, r1, rall;

    memset(w, 0, sizeof(w));
    r0 = gl_policy_quorum_check(p, w, n);
    for (size_t i = 0; i < n; i++)
        w[i] = size > 0 ? data[i % size] & 1 : 0;
    r1 = gl_policy_quorum_check(p, w, n);
    memset(w, 1, sizeof(w));
    rall = gl_policy_quorum_check(p, w, n);
    if ((r0 != 0 && r0 != GL_EQUORUM) || (r0 == 0 && r1 != 0) || (r1 == 0 && rall != 0) ||
        (rall != 0 && rall != GL_EQUORUM))
        abort();
    if (gl_policy_quorum(p).kind == GL_POLICY_REF_NONE && r0 != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gl_policy *p = NULL;
    struct gl_err e;
    struct gl_buf d;
    int rc;

    memset(&e, 0, sizeof(e));
    rc = gl_policy_parse((const char *)data, size, &p, &e);
    if (rc != 0) {
        if (p != NULL || rc > 0)
            abort();
        fuzz_check_why(rc, &e, data, size);
        return 0;
    }
    gl_buf_init(&d, OUT_MAX);
    if (gl_policy_describe(p, &d) != 0 || d.len == 0)
        abort();
    gl_buf_release(&d);
    check_format(p, 0);
    check_format(p, GL_POLICY_FORMAT_PORTABLE);
    check_lookups(p);
    check_quorum(p, data, size);
    gl_policy_free(p);
    return 0;
}
