/*
 * fuzz_note: signed-note parsing and verification, and key-string parsing.
 * Whatever parses must verify without crashing against the vector keys,
 * and every parsed signature must lie inside the input; every refusal
 * must say why (fuzz_check_why).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/key.h"
#include "glasslog/note.h"

static const char *const fuzz_vkeys[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gl_verifier keys[2]; /* the vector keys, parsed once */
    static int ready;
    struct gl_verifier v;
    struct gl_signer s;
    struct gl_note *n;
    struct gl_note_sig sig;
    struct gl_err why;
    uint8_t flags[GL_NOTE_MAX_SIGS];
    int rc;

    for (int i = 0; i < 2 && !ready; i++)
        if (gl_verifier_parse(fuzz_vkeys[i], strlen(fuzz_vkeys[i]), &keys[i], NULL) != 0)
            abort();
    ready = 1;
    memset(&why, 0, sizeof(why));
    fuzz_check_why(gl_verifier_parse((const char *)data, size, &v, &why), &why, data,
                   size);
    memset(&why, 0, sizeof(why));
    if ((rc = gl_signer_parse((const char *)data, size, &s, &why)) == 0)
        gl_signer_wipe(&s);
    fuzz_check_why(rc, &why, data, size);
    memset(&why, 0, sizeof(why));
    fuzz_check_why(gl_note_parse_sig((const char *)data, size, &sig, &why), &why, data,
                   size);
    memset(&why, 0, sizeof(why));
    if ((rc = gl_note_parse((const char *)data, size, &n, &why)) != 0) {
        fuzz_check_why(rc, &why, data, size);
        return 0;
    }
    if (n->text != (const char *)data || n->text_len > size || n->nsigs == 0)
        abort();
    for (size_t i = 0; i < n->nsigs; i++) {
        const char *l = n->sigs[i].line;
        if (l < (const char *)data || l + n->sigs[i].line_len > (const char *)data + size)
            abort();
    }
    (void)gl_note_verify(n, keys, 2, flags);
    gl_note_free(n);
    return 0;
}
