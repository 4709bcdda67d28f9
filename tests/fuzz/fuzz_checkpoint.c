/*
 * fuzz_checkpoint: the input as checkpoint text (parse, then format must
 * give back the same bytes) and as a signed checkpoint note opened with the
 * vector log key (a success must carry origin == key name and re-parse).
 * Every refusal must say why (fuzz_check_why).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/checkpoint.h"

static const char log_vkey[] =
    "example.com/log+9f5d4526+AWRyXegyaJ7XX9x3Co+oEFL7/PwhWatdHBLtnyNh+Dk0";

/* The vector log key, parsed once for all runs. */
static const struct gl_verifier *fuzz_log_key(void)
{
    static struct gl_verifier v;
    static int ready;

    if (!ready) {
        if (gl_verifier_parse(log_vkey, strlen(log_vkey), &v, NULL) != 0)
            abort();
        ready = 1;
    }
    return &v;
}

static void fuzz_text(const char *s, size_t n)
{
    struct gl_checkpoint c;
    struct gl_err why;
    struct gl_buf b;
    int rc;

    memset(&why, 0, sizeof(why));
    if ((rc = gl_checkpoint_parse(s, n, &c, &why)) != 0) {
        fuzz_check_why(rc, &why, (const uint8_t *)s, n);
        return;
    }
    if (c.ext_len > n || (c.ext != NULL && (c.ext < s || c.ext + c.ext_len != s + n)))
        abort();
    gl_buf_init(&b, GL_CHECKPOINT_TEXT_MAX);
    if (gl_checkpoint_format(&c, &b) != 0 || b.len != n || memcmp(b.data, s, n) != 0)
        abort();
    gl_buf_release(&b);
}

static void fuzz_open(const char *s, size_t n)
{
    const struct gl_verifier *v = fuzz_log_key();
    struct gl_checkpoint c;
    struct gl_note *note = NULL;
    struct gl_err why;
    int rc;

    memset(&why, 0, sizeof(why));
    if ((rc = gl_checkpoint_open(s, n, v, &c, &note, &why)) != 0) {
        if (note != NULL)
            abort();
        fuzz_check_why(rc, &why, (const uint8_t *)s, n);
        return;
    }
    if (strcmp(c.origin, v->name) != 0 || note == NULL || note->text != s)
        abort();
    fuzz_text(note->text, note->text_len);
    gl_note_free(note);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_text((const char *)data, size);
    fuzz_open((const char *)data, size);
    return 0;
}
