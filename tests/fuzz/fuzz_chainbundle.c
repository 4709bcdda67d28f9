/*
 * fuzz_chainbundle: parse the input as a chain bundle (specs/bundle.md);
 * every accepted input must respect the caps, have a statement in every
 * proof, format back to exactly the same bytes; every refused one must
 * say why (fuzz_check_why).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/chainbundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct gl_chainbundle *b = NULL;
    struct gl_err why;
    struct gl_buf out;
    int rc;

    memset(&why, 0, sizeof(why));
    if ((rc = gl_chainbundle_parse(s, size, &b, &why)) != 0) {
        if (b != NULL)
            abort();
        fuzz_check_why(rc, &why, data, size);
        return 0;
    }
    if (b->n == 0 || b->n > GL_CHAINBUNDLE_MAX_PROOFS)
        abort();
    for (size_t i = 0; i < b->n; i++)
        if (b->proofs[i] == NULL || b->proofs[i]->extra_len == 0 ||
            b->proofs[i]->checkpoint < s ||
            b->proofs[i]->checkpoint + b->proofs[i]->checkpoint_len > s + size)
            abort();
    gl_buf_init(&out, GL_CHAINBUNDLE_MAX_SIZE);
    if (gl_chainbundle_format(b->proofs, b->n, &out) != 0 || out.len != size ||
        memcmp(out.data, s, size) != 0)
        abort();
    gl_buf_release(&out);
    gl_chainbundle_free(b);
    return 0;
}
