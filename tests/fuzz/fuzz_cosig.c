/*
 * fuzz_cosig: the input as a signed note whose cosignatures are checked
 * against the vector witness key (every line alone and the per-witness
 * count must agree); as signature lines appended to the vector checkpoint
 * note (a success must parse with exactly the new lines); and, when the
 * note text is a checkpoint, cosigned with the vector witness key (public
 * test vector) and verified back. Refusals must say why (fuzz_check_why).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/cosig.h"

static const char witness_vkey[] =
    "example.org/witness+84e6a7f4+BLdNJK83lHhW5R72xswXhYlEGxlumTKysueyMjmooH5H";
static const char witness_key[] =
    "PRIVATE+KEY+example.org/"
    "witness+84e6a7f4+BKMW2iLaLHVUSVQGnXTMAPb1MJYrrropBzrPHofDFSCI";
static const char log_note[] =
    "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI=\n\n"
    "\xe2\x80\x94 example.com/log n11FJlXfdH72Pmrvm6oPk4M+eYR7U/On16dS0k96J6XSrhQBwXiT5C"
    "t6RVJzOhk3Dr1C2ip+6sBBEfdx/lPfMedfOwQ=\n";

static void check_note(const struct gl_note *note, const struct gl_verifier *w)
{
    struct gl_cosig_status st;
    size_t nvalid = 0, good = 0;
    uint64_t t;

    if (gl_cosig_verify_note(note, w, 1, &st, &nvalid) != 0)
        abort();
    for (size_t i = 0; i < note->nsigs; i++) {
        int err = gl_cosig_verify(w, note->text, note->text_len, &note->sigs[i], &t);
        if (err == 0 && t > GL_COSIG_TIME_MAX)
            abort();
        good += err == 0;
    }
    if ((good > 0) != (nvalid == 1) || (st.status == 0) != (nvalid == 1))
        abort();
}

/* The vector witness key (a public test key: kept, not wiped), parsed
 * once for all runs. */
static const struct gl_signer *fuzz_witness_key(void)
{
    static struct gl_signer k;
    static int ready;

    if (!ready) {
        if (gl_signer_parse(witness_key, strlen(witness_key), &k, NULL) != 0)
            abort();
        ready = 1;
    }
    return &k;
}

static void cosign_back(const struct gl_note *note, const struct gl_verifier *w)
{
    const struct gl_signer *k = fuzz_witness_key();
    struct gl_note *signed_note = NULL;
    struct gl_buf b;
    uint64_t t = 0;

    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    if (gl_buf_append(&b, note->text, note->text_len) != 0 || gl_buf_putc(&b, '\n') != 0)
        abort();
    if (gl_cosig_sign(k, note->text, note->text_len, 1700000000, &b) == 0) {
        if (gl_note_parse((const char *)b.data, b.len, &signed_note, NULL) != 0 ||
            gl_cosig_verify(w, signed_note->text, signed_note->text_len,
                            &signed_note->sigs[0], &t) != 0 ||
            t != 1700000000)
            abort();
        gl_note_free(signed_note);
    }
    gl_buf_release(&b);
}

/* Why's lines count the note's lines, then the appended ones. */
static void check_append_why(int rc, const struct gl_err *why, const char *s, size_t n)
{
    struct gl_buf joined;

    gl_buf_init(&joined, sizeof(log_note) + n);
    if (gl_buf_append_str(&joined, log_note) != 0 || gl_buf_append(&joined, s, n) != 0)
        abort();
    fuzz_check_why(rc, why, joined.data, joined.len);
    gl_buf_release(&joined);
}

static void append_lines(const char *s, size_t n)
{
    struct gl_note *note = NULL;
    struct gl_err why;
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    memset(&why, 0, sizeof(why));
    if ((rc = gl_cosig_append(log_note, sizeof(log_note) - 1, s, n, &b, &why)) == 0) {
        if (gl_note_parse((const char *)b.data, b.len, &note, NULL) != 0 ||
            note->nsigs < 2 || b.len != sizeof(log_note) - 1 + n)
            abort();
        gl_note_free(note);
    }
    check_append_why(rc, &why, s, n);
    gl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    static struct gl_verifier w; /* the vector witness key, parsed once */
    static int ready;
    struct gl_note *note = NULL;

    if (!ready) {
        if (gl_verifier_parse(witness_vkey, strlen(witness_vkey), &w, NULL) != 0)
            abort();
        ready = 1;
    }
    if (gl_note_parse(s, size, &note, NULL) == 0) {
        check_note(note, &w);
        cosign_back(note, &w);
        gl_note_free(note);
    }
    append_lines(s, size);
    return 0;
}
