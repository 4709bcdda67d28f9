/*
 * test_log_mirrorresp: glasslogd's reading of a tlog-mirror's answers
 * (log/mirrorresp.c). The mirror is the vector witness key
 * (notes/witness.cosig-vkey) and the checkpoint that of
 * notes/checkpoint-cosigned.note, whose second line is that key's
 * cosignature: the expected line comes from the vector, not from the code
 * under test. Other lines are made here: the vector's log line (a key the
 * mirror is not), cosignatures by freshly generated keys (through
 * gl_cosig_sign), the vector line with one bit of its signature flipped,
 * and hand-made malformed lines. Each malformed body must get its
 * documented refusal, wherever the bad line stands; a well-formed body
 * with several lines must give back exactly the vector line. The 409 tree
 * size parser gets the bodies a mirror may send, and some it must not.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../log/mirrorresp.h"
#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/note.h"

#define DASH "\xe2\x80\x94 "
#define VTIME 1700000000ULL

struct fx {
    char *msg;              /* the cosigned vector */
    struct gl_note *note;   /* parsed */
    struct gl_verifier key; /* the mirror's */
    const char *good;       /* the mirror's line in msg, with its "\n" */
    size_t good_len;
    const char *logl; /* the log's line (another key) */
    size_t logl_len;
    struct gl_buf body;
    uint64_t now; /* the clock the lines are checked against (0: none) */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    size_t n;

    assert_non_null(f);
    f->msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    assert_int_equal(gl_note_parse(f->msg, n, &f->note, NULL), 0);
    assert_int_equal(f->note->nsigs, 2);
    tu_load_verifier("notes/witness.cosig-vkey", &f->key);
    f->logl = f->note->sigs[0].line;
    f->logl_len = f->note->sigs[0].line_len;
    f->good = f->note->sigs[1].line;
    f->good_len = f->note->sigs[1].line_len;
    assert_true(f->good_len > 0 && f->good[f->good_len - 1] == '\n');
    gl_buf_init(&f->body, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    gl_buf_release(&f->body);
    gl_note_free(f->note);
    free(f->msg);
    free(f);
    return 0;
}

static void add(struct fx *f, const char *s, size_t n)
{
    assert_int_equal(gl_buf_append(&f->body, s, n), 0);
}

static void add_str(struct fx *f, const char *s)
{
    add(f, s, strlen(s));
}

static void add_good(struct fx *f)
{
    add(f, f->good, f->good_len);
}

static void add_log(struct fx *f)
{
    add(f, f->logl, f->logl_len);
}

/* A line by name whose base64 holds key ID id and len bytes of fill. */
static void add_raw(struct fx *f, const char *name, uint32_t id, size_t len, uint8_t fill)
{
    size_t n = 4 + len;
    uint8_t *raw = malloc(n);
    char *b64 = malloc(gl_base64_len(n) + 1);

    assert_non_null(raw);
    assert_non_null(b64);
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    memset(raw + 4, fill, len);
    assert_int_equal(gl_base64_encode(raw, n, b64, gl_base64_len(n) + 1), 0);
    assert_int_equal(gl_buf_printf(&f->body, DASH "%s %s\n", name, b64), 0);
    free(raw);
    free(b64);
}

/* The vector line with bit 0 of its last signature byte flipped. */
static void add_bad_sig(struct fx *f)
{
    const struct gl_note_sig *s = &f->note->sigs[1];
    uint8_t raw[4 + GL_COSIG_SIG_LEN];
    char b64[128];

    assert_int_equal(s->sig_len, GL_COSIG_SIG_LEN);
    raw[0] = (uint8_t)(s->id >> 24);
    raw[1] = (uint8_t)(s->id >> 16);
    raw[2] = (uint8_t)(s->id >> 8);
    raw[3] = (uint8_t)s->id;
    memcpy(raw + 4, s->sig, GL_COSIG_SIG_LEN);
    raw[sizeof raw - 1] ^= 1;
    assert_int_equal(gl_base64_encode(raw, sizeof raw, b64, sizeof b64), 0);
    assert_int_equal(gl_buf_printf(&f->body, DASH "%s %s\n", f->key.name, b64), 0);
}

/* A cosignature of the vector text by a fresh key named name. */
static void add_fresh(struct fx *f, const char *name)
{
    struct gl_signer s;

    assert_int_equal(gl_signer_generate(name, GL_KEY_COSIG, &s), 0);
    assert_int_equal(gl_cosig_sign(&s, f->note->text, f->note->text_len, VTIME, &f->body),
                     0);
    gl_signer_wipe(&s);
}

static int run(struct fx *f, size_t *off, size_t *len, struct gl_err *why)
{
    memset(why, 0, sizeof *why);
    return mirrorresp_cosig(&f->key, f->note->text, f->note->text_len,
                            (const char *)f->body.data, f->body.len, f->now, off, len,
                            why);
}

/* The body must be taken, its line the vector's, at byte at. */
static void expect_good(struct fx *f, size_t at)
{
    struct gl_err why;
    size_t off = 12345, len = 0;
    int rc = run(f, &off, &len, &why);

    if (rc != 0)
        fail_msg("refused (%d): line %zu: %s", rc, why.line, why.reason);
    assert_int_equal(off, at);
    assert_int_equal(len, f->good_len);
    assert_memory_equal(f->body.data + off, f->good, f->good_len);
}

/* The body must be refused with rc at line, why holding reason; the
 * outputs stay as they were. */
static void expect_refused(struct fx *f, int rc, size_t line, const char *reason)
{
    struct gl_err why;
    size_t off = 777, len = 888;

    tu_expect_why(run(f, &off, &len, &why), &why, rc, line, reason);
    assert_int_equal(off, 777);
    assert_int_equal(len, 888);
}

static void test_one_line(void **state)
{
    struct fx *f = *state;

    add_good(f);
    expect_good(f, 0);
}

/* A line dated more than GL_COSIG_FUTURE_SLACK after the clock verifies
 * but is no cosignature a verifier counts: refused as GL_EVERIFY at its
 * line; exactly that far ahead is taken. */
static void test_dated_ahead(void **state)
{
    struct fx *f = *state;

    add_log(f);
    add_good(f);
    f->now = VTIME - GL_COSIG_FUTURE_SLACK - 1;
    expect_refused(f, GL_EVERIFY, 2, "is dated more than 300 s after this clock");
    f->now = VTIME - GL_COSIG_FUTURE_SLACK;
    expect_good(f, f->logl_len);
    f->now = VTIME + 86400;
    expect_good(f, f->logl_len);
}

/* Lines by other keys before and after it: the log's (a note key), a
 * fresh cosigning key, one by the mirror's name with another key (so
 * another key ID), and a long post-quantum-sized one; all ignored. */
static void test_several_lines(void **state)
{
    struct fx *f = *state;
    size_t at;

    add_log(f);
    add_fresh(f, "other.example/mirror");
    add_fresh(f, f->key.name);
    add_raw(f, "pq.example/mirror", 0x01020304, 3000, 0x55);
    at = f->body.len;
    add_good(f);
    add_fresh(f, "after.example/mirror");
    expect_good(f, at);
}

/* A line by the mirror's key that does not verify is passed over for one
 * that does, in either order; alone it is GL_EVERIFY at its line. */
static void test_bad_signature(void **state)
{
    struct fx *f = *state;
    size_t at;

    add_log(f);
    add_bad_sig(f);
    expect_refused(f, GL_EVERIFY, 2, "does not verify");
    at = f->body.len;
    add_good(f);
    expect_good(f, at);
    gl_buf_reset(&f->body);
    add_good(f);
    add_bad_sig(f);
    expect_good(f, 0);
}

/* Its key's name and ID on a cosignature of another checkpoint text. */
static void test_other_text(void **state)
{
    struct fx *f = *state;
    struct gl_signer s;
    struct gl_note_sig sig;
    const char *other = "example.com/log\n1001\n"
                        "Y4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI=\n";

    tu_load_signer("notes/witness.cosig-key", &s);
    assert_int_equal(gl_cosig_sign(&s, other, strlen(other), VTIME, &f->body), 0);
    gl_signer_wipe(&s);
    /* the line is the mirror's (name, key ID), for another text */
    assert_int_equal(
        gl_note_parse_sig((const char *)f->body.data, f->body.len - 1, &sig, NULL), 0);
    assert_int_equal(sig.id, f->key.id);
    expect_refused(f, GL_EVERIFY, 1, "does not verify");
}

static void test_unknown_keys_only(void **state)
{
    struct fx *f = *state;

    add_log(f);
    add_fresh(f, "other.example/mirror");
    add_fresh(f, f->key.name);
    expect_refused(f, GL_ENOKEY, 0, "no signature line by example.org/witness");
}

/* 72 bytes after the key ID, nothing else: 40, 71, 73, and 3000. */
static void test_wrong_length(void **state)
{
    struct fx *f = *state;
    const size_t lens[] = {40, 71, 73, 3000};

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        gl_buf_reset(&f->body);
        add_raw(f, f->key.name, f->key.id, lens[i], 0xaa);
        expect_refused(f, GL_EVERIFY, 1, "does not verify");
    }
}

static void test_empty(void **state)
{
    struct fx *f = *state;

    expect_refused(f, GL_EPARSE, 1, "empty body");
}

/* A last line without "\n" refuses the body, even after the good line. */
static void test_no_newline(void **state)
{
    struct fx *f = *state;

    add(f, f->good, f->good_len - 1);
    expect_refused(f, GL_EPARSE, 1, "does not end with a newline");
    gl_buf_reset(&f->body);
    add_good(f);
    add(f, f->logl, f->logl_len - 1);
    expect_refused(f, GL_EPARSE, 2, "does not end with a newline");
}

/* Malformed lines refuse the body wherever they stand: before the good
 * line, or after it (where a first-match reader would never look). */
static void malformed(struct fx *f, const char *bad, size_t n, const char *reason)
{
    gl_buf_reset(&f->body);
    add(f, bad, n);
    add_good(f);
    expect_refused(f, GL_EPARSE, 1, reason);
    gl_buf_reset(&f->body);
    add_log(f);
    add_good(f);
    add(f, bad, n);
    expect_refused(f, GL_EPARSE, 3, reason);
}

static void test_bad_base64(void **state)
{
    struct fx *f = *state;
    char line[256];

    snprintf(line, sizeof line, "%.*s", (int)f->good_len, f->good);
    line[f->good_len - 3] = '!'; /* inside the last base64 group */
    malformed(f, line, f->good_len, "not base64");
    malformed(f, DASH "example.org/witness \n", strlen(DASH "example.org/witness \n"),
              "empty signature");
    malformed(f, DASH "example.org/witness\n", strlen(DASH "example.org/witness\n"),
              "is not");
    malformed(f, "garbage\n", 8, "does not start with");
    malformed(f, "\n", 1, "does not start with"); /* a blank line */
}

/* A NUL anywhere in a line: in the name, in the base64. */
static void test_nul(void **state)
{
    struct fx *f = *state;
    char line[256];

    memcpy(line, f->good, f->good_len);
    line[6] = 0;
    malformed(f, line, f->good_len, "NUL byte");
    memcpy(line, f->good, f->good_len);
    line[f->good_len - 5] = 0;
    malformed(f, line, f->good_len, "NUL byte");
}

/* "\r\n" line ends are not the format: the "\r" stays in the base64. */
static void test_crlf(void **state)
{
    struct fx *f = *state;
    char line[256];

    memcpy(line, f->good, f->good_len - 1);
    memcpy(line + f->good_len - 1, "\r\n", 2);
    malformed(f, line, f->good_len + 1, "not base64");
}

/* MIRRORRESP_LINES lines with the good one last are taken; one more line
 * refuses the body, even with the good one first. */
static void test_line_cap(void **state)
{
    struct fx *f = *state;
    size_t at;

    for (int i = 0; i < MIRRORRESP_LINES - 1; i++)
        add_log(f);
    at = f->body.len;
    add_good(f);
    expect_good(f, at);
    add_log(f);
    expect_refused(f, GL_ETOOBIG, MIRRORRESP_LINES + 1, "more than 16");
    gl_buf_reset(&f->body);
    add_good(f);
    for (int i = 0; i < MIRRORRESP_LINES; i++)
        add_log(f);
    expect_refused(f, GL_ETOOBIG, MIRRORRESP_LINES + 1, "more than 16");
}

/* A body of exactly MIRRORRESP_BODY_MAX bytes (a long line by another key
 * padding it) is taken; one byte more is refused whole. */
static void test_body_cap(void **state)
{
    struct fx *f = *state;
    size_t pad_line, b64;

    add_good(f);
    /* DASH (4 bytes) name " " base64 "\n": pick the blob size whose line
     * fills the body to the cap exactly (base64 of 3k bytes is 4k chars) */
    pad_line = MIRRORRESP_BODY_MAX - f->good_len;
    b64 = pad_line - 4 - strlen("pq.example/m") - 2;
    b64 -= b64 % 4; /* a longer name takes up the rest */
    size_t name_len = pad_line - 4 - 2 - b64;
    char name[64];
    assert_true(name_len < sizeof name && name_len >= strlen("pq.example/m"));
    memset(name, 'm', name_len);
    memcpy(name, "pq.example/", strlen("pq.example/"));
    name[name_len] = 0;
    add_raw(f, name, 0x01020304, b64 / 4 * 3 - 4, 0x33);
    assert_int_equal(f->body.len, MIRRORRESP_BODY_MAX);
    expect_good(f, 0);
    add_str(f, "x");
    expect_refused(f, GL_ETOOBIG, 0, "over 16384");
    /* a single over-long line by the mirror's key, over the cap */
    gl_buf_reset(&f->body);
    add_raw(f, f->key.name, f->key.id, 20000, 0x11);
    expect_refused(f, GL_ETOOBIG, 0, "over 16384");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dated_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_base64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
