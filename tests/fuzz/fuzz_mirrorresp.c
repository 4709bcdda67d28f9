/*
 * fuzz_mirrorresp: glasslogd's reading of a tlog-mirror's answers
 * (log/mirrorresp.c), fed the same bytes: as the body of a 200 to
 * add-entries, searched for the cosignature of a fixed mirror key
 * (tests/vectors/notes/witness.cosig-vkey) on a fixed checkpoint (that of
 * notes/checkpoint-cosigned.note, whose witness line verifies), and as the
 * tree size of a 409 to add-checkpoint (gl_parse_size_body). Nothing may crash; every
 * refusal says why (fuzz_check_why); a line taken lies inside the body, starts a line,
 * ends with its "\n", is a signature line by the key, and verifies; a taken body is
 * within the caps; a size parsed formats back to exactly the input, its final "\n"
 * optional.
 */
#include "fuzz.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/note.h"
#include "../../log/mirrorresp.h"

static const char vkey[] =
    "example.org/witness+84e6a7f4+BLdNJK83lHhW5R72xswXhYlEGxlumTKysueyMjmooH5H";
static const char text[] = "example.com/log\n"
                           "1000\n"
                           "Y4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI=\n";

static void fuzz_cosig(const uint8_t *data, size_t size)
{
    static struct gl_verifier key;
    static int loaded;
    struct gl_note_sig sig;
    struct gl_err why;
    size_t off = 0, len = 0, lines = 0;
    int rc;

    if (!loaded) {
        if (gl_verifier_parse(vkey, strlen(vkey), &key, NULL) != 0)
            abort();
        loaded = 1;
    }
    memset(&why, 0, sizeof why);
    rc = mirrorresp_cosig(&key, text, strlen(text), (const char *)data, size, 0, &off,
                          &len, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc != 0)
        return;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (size > MIRRORRESP_BODY_MAX || lines > MIRRORRESP_LINES || size == 0 ||
        data[size - 1] != '\n' || memchr(data, 0, size) != NULL)
        abort();
    if (len < 2 || off > size || len > size - off || (off > 0 && data[off - 1] != '\n') ||
        data[off + len - 1] != '\n' || memchr(data + off, '\n', len - 1) != NULL)
        abort();
    if (gl_note_parse_sig((const char *)data + off, len - 1, &sig, NULL) != 0 ||
        gl_cosig_verify(&key, text, strlen(text), &sig, NULL) != 0)
        abort();
}

/* A size read is the body printed back, its final "\n" optional. */
static void fuzz_size(const uint8_t *data, size_t size)
{
    uint64_t v = 0;
    char back[32];
    int n;

    if (gl_parse_size_body((const char *)data, size, &v) != 0)
        return;
    n = snprintf(back, sizeof back, "%" PRIu64 "\n", v);
    if (n < 0 || ((size_t)n != size && (size_t)n != size + 1) ||
        memcmp(back, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cosig(data, size);
    fuzz_size(data, size);
    return 0;
}
