/*
 * fuzz_chainpending: the monitor's pending chain checks, chain-pending
 * (client/chainwatch.c, chainwatch_pending_parse). Nothing may crash; a
 * refusal must say why and where (fuzz_check_why) and leave no check; an
 * accepted file holds checks of a known kind (an audit check without a
 * product digest), and the checks written back as chainwatch writes them
 * (chainwatch_pending_format, pending_save's) are the input itself (the one
 * form a file has: a last newline may only be missing), within the
 * file's size cap, and accepted again, the same checks in the same order. The cap on the
 * number of checks is tried too: the same input with room for one check
 * fewer than it holds must be refused (saying why), with room for exactly
 * as many accepted.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../client/chainwatch.h"
#include "glasslog/buf.h"

/* Room for the monitor's cap, twice (the input's checks, the re-read ones):
 * static, not allocated per input. */
static struct chainwatch_pending got[CHAINWATCH_MAX_PENDING];
static struct chainwatch_pending again[CHAINWATCH_MAX_PENDING];

static int same(const struct chainwatch_pending *a, const struct chainwatch_pending *b)
{
    return a->due == b->due && a->index == b->index && a->kind == b->kind &&
           memcmp(a->source, b->source, 32) == 0 &&
           memcmp(a->product, b->product, 32) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zero[32];
    const char *s = (const char *)data;
    struct gl_err why;
    struct gl_buf out;
    size_t n = 1, m = 1;
    int rc;

    memset(&why, 0, sizeof(why));
    rc = chainwatch_pending_parse(s, size, got, CHAINWATCH_MAX_PENDING, &n, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc != 0) {
        if (n != 0 || (rc != GL_EPARSE && rc != GL_ETOOBIG) ||
            (rc == GL_ETOOBIG && size <= CHAINWATCH_PENDING_MAX_SIZE))
            abort();
        return 0;
    }
    if (n > CHAINWATCH_MAX_PENDING || (n > 0 && size == 0))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((got[i].kind != CHAINWATCH_PENDING_AUDIT &&
             got[i].kind != CHAINWATCH_PENDING_SOURCE) ||
            (got[i].kind == CHAINWATCH_PENDING_AUDIT &&
             memcmp(got[i].product, zero, 32) != 0))
            abort();
    /* written back and read again: the same checks */
    gl_buf_init(&out, CHAINWATCH_PENDING_MAX_SIZE);
    if (chainwatch_pending_format(got, n, &out) != 0 ||
        out.len > (size_t)n * CHAINWATCH_PENDING_LINE_MAX)
        abort();
    if (out.len != size && out.len != size + 1)
        abort();
    if (size > 0 && (memcmp(out.data, data, size) != 0 ||
                     (out.len == size + 1 && out.data[size] != '\n')))
        abort();
    if (chainwatch_pending_parse((const char *)out.data, out.len, again,
                                 CHAINWATCH_MAX_PENDING, &m, NULL) != 0 ||
        m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!same(&got[i], &again[i]))
            abort();
    gl_buf_release(&out);
    /* the cap on the number of checks */
    if (n > 0) {
        memset(&why, 0, sizeof(why));
        rc = chainwatch_pending_parse(s, size, again, n - 1, &m, &why);
        fuzz_check_why(rc, &why, data, size);
        if (rc != GL_EPARSE || m != 0)
            abort();
        if (chainwatch_pending_parse(s, size, again, n, &m, NULL) != 0 || m != n)
            abort();
    }
    return 0;
}
