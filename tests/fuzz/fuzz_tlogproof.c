/*
 * fuzz_tlogproof: parse the input as a tlog-proof; every accepted input
 * must format back to exactly the same bytes and respect the caps, every
 * refused one must say why (fuzz_check_why).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/tlogproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct gl_tlogproof *p = NULL;
    struct gl_err why;
    struct gl_buf b;
    int rc;

    memset(&why, 0, sizeof(why));
    if ((rc = gl_tlogproof_parse(s, size, &p, &why)) != 0) {
        if (p != NULL)
            abort();
        fuzz_check_why(rc, &why, data, size);
        return 0;
    }
    if (p->nhashes > GL_TLOGPROOF_MAX_HASHES || p->extra_len > GL_TLOGPROOF_EXTRA_MAX ||
        (p->extra == NULL) != (p->extra_len == 0) || p->checkpoint < s ||
        p->checkpoint + p->checkpoint_len != s + size)
        abort();
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
    if (gl_tlogproof_format(p, &b) != 0 || b.len != size || memcmp(b.data, s, size) != 0)
        abort();
    gl_buf_release(&b);
    gl_tlogproof_free(p);
    return 0;
}
