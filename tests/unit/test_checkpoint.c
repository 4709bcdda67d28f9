/*
 * test_checkpoint: tlog-checkpoint parsing, formatting, signing and opening
 * against the vectors in notes/ (the log key must reproduce checkpoint.note
 * byte for byte), plus every malformed class the parser must refuse.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/error.h"

#define ROOT_B64 "Y4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI="

static int parse_str(const char *s, struct gl_checkpoint *c)
{
    return gl_checkpoint_parse(s, strlen(s), c, NULL);
}

static void test_parse_vector(void **state)
{
    struct gl_checkpoint c;
    uint8_t root[32];
    size_t n;
    char *text = tu_read_vector("notes/checkpoint.text", &n);
    (void)state;
    assert_int_equal(gl_checkpoint_parse(text, n, &c, NULL), 0);
    assert_string_equal(c.origin, "example.com/log");
    assert_true(c.size == 1000);
    tu_b64_hash(ROOT_B64, root);
    assert_memory_equal(c.root, root, 32);
    assert_null(c.ext);
    assert_int_equal(c.ext_len, 0);
    assert_int_equal(c.next, 0);
    free(text);
}

static void test_format_roundtrip(void **state)
{
    static const char *const ok[] = {
        "example.com/log\n1000\n" ROOT_B64 "\n",
        "o\n0\n" ROOT_B64 "\n",
        "o\n9223372036854775807\n" ROOT_B64 "\n", /* the largest: 2^63-1 */
        "example.com/log\n1\n" ROOT_B64 "\next one\n\xc3\xa9 two\n",
        "with space + plus\n7\n" ROOT_B64 "\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct gl_checkpoint c;
        struct gl_buf b;
        gl_buf_init(&b, GL_CHECKPOINT_TEXT_MAX);
        assert_int_equal(parse_str(ok[i], &c), 0);
        assert_int_equal(gl_checkpoint_format(&c, &b), 0);
        assert_int_equal(b.len, strlen(ok[i]));
        assert_memory_equal(b.data, ok[i], b.len);
        gl_buf_release(&b);
    }
}

static void test_extension_lines(void **state)
{
    const char *t = "example.com/log\n1\n" ROOT_B64 "\na\nbb\n";
    struct gl_checkpoint c;
    char big[GL_CHECKPOINT_TEXT_MAX + 64];
    (void)state;
    assert_int_equal(parse_str(t, &c), 0);
    assert_ptr_equal(c.ext, t + strlen(t) - 5);
    assert_int_equal(c.ext_len, 5);
    assert_int_equal(c.next, 2);
    /* 16 extension lines accepted, 17 refused */
    snprintf(big, sizeof(big), "o\n1\n%s\n", ROOT_B64);
    for (int i = 0; i < 16; i++)
        strcat(big, "x\n");
    assert_int_equal(parse_str(big, &c), 0);
    assert_int_equal(c.next, 16);
    strcat(big, "x\n");
    assert_int_equal(parse_str(big, &c), GL_ETOOBIG);
}

static void test_sign_kat(void **state)
{
    struct gl_checkpoint c;
    struct gl_signer s;
    struct gl_buf b;
    size_t tn, nn;
    char *text = tu_read_vector("notes/checkpoint.text", &tn);
    char *note = tu_read_vector("notes/checkpoint.note", &nn);
    (void)state;
    tu_load_signer("notes/log.key", &s);
    assert_int_equal(gl_checkpoint_parse(text, tn, &c, NULL), 0);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_checkpoint_sign(c.origin, c.size, c.root, &s, &b), 0);
    assert_int_equal(b.len, nn);
    assert_memory_equal(b.data, note, nn);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    free(text);
    free(note);
}

static void test_sign_refuses(void **state)
{
    struct gl_signer s, w;
    struct gl_buf b;
    uint8_t root[32] = {0};
    char longname[GL_CHECKPOINT_ORIGIN_MAX + 2];
    (void)state;
    tu_load_signer("notes/log.key", &s);
    tu_load_signer("notes/witness.cosig-key", &w);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_checkpoint_sign("example.org/witness", 1, root, &w, &b),
                     GL_EKEYTYPE);
    assert_int_equal(gl_checkpoint_sign("example.com/other", 1, root, &s, &b), GL_EINVAL);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(gl_checkpoint_sign(longname, 1, root, &s, &b), GL_ETOOBIG);
    assert_int_equal(gl_checkpoint_sign(NULL, 1, root, &s, &b), GL_EINVAL);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    gl_signer_wipe(&w);
}

static void test_open_vectors(void **state)
{
    static const char *const files[] = {"notes/checkpoint.note",
                                        "notes/checkpoint-cosigned.note"};
    struct gl_verifier v;
    (void)state;
    tu_load_verifier("notes/log.vkey", &v);
    for (size_t i = 0; i < 2; i++) {
        struct gl_checkpoint c;
        struct gl_note *note = NULL;
        size_t n;
        char *msg = tu_read_vector(files[i], &n);
        assert_int_equal(gl_checkpoint_open(msg, n, &v, &c, &note, NULL), 0);
        assert_string_equal(c.origin, "example.com/log");
        assert_true(c.size == 1000);
        assert_non_null(note);
        assert_int_equal(note->nsigs, i + 1);
        assert_ptr_equal(note->text, msg);
        gl_note_free(note);
        assert_int_equal(gl_checkpoint_open(msg, n, &v, &c, NULL, NULL), 0);
        free(msg);
    }
}

static void test_open_wrong_keys(void **state)
{
    struct gl_verifier peter, wit, conv;
    struct gl_checkpoint c;
    struct gl_note *note = NULL;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;
    tu_load_verifier("notes/peter.vkey", &peter);
    tu_load_verifier("notes/witness.cosig-vkey", &wit);
    assert_int_equal(gl_checkpoint_open(msg, n, &peter, &c, &note, NULL), GL_ENOKEY);
    assert_int_equal(gl_checkpoint_open(msg, n, &wit, &c, &note, NULL), GL_EKEYTYPE);
    /* the witness's cosignature is no log signature, whatever the key type */
    conv = wit;
    conv.type = GL_KEY_NOTE;
    conv.id = gl_key_id(conv.name, GL_KEY_NOTE, conv.pub);
    assert_int_equal(gl_checkpoint_open(msg, n, &conv, &c, &note, NULL), GL_ENOKEY);
    assert_null(note);
    free(msg);
}

/* Opens msg with one byte pattern replaced; returns the result. */
static int open_tampered(const char *from, const char *to)
{
    struct gl_verifier v;
    struct gl_checkpoint c;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    char *at = strstr(msg, from);
    int err;

    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
    tu_load_verifier("notes/log.vkey", &v);
    err = gl_checkpoint_open(msg, n, &v, &c, NULL, NULL);
    free(msg);
    return err;
}

static void test_open_tampered(void **state)
{
    (void)state;
    assert_int_equal(open_tampered("\n1000\n", "\n1001\n"), GL_EVERIFY);
    assert_int_equal(open_tampered("\nY4r6", "\nZ4r6"), GL_EVERIFY);
    assert_int_equal(open_tampered("example.com/log\n", "example.com/loh\n"), GL_EVERIFY);
    assert_int_equal(open_tampered("J6XS", "J6XT"), GL_EVERIFY);
    assert_int_equal(open_tampered("log n11F", "log n11G"), GL_ENOKEY);
    assert_int_equal(open_tampered("\n1000\n", "\n01000"), GL_EVERIFY);
    assert_int_equal(open_tampered("\n\n", "\r\n"), GL_EPARSE);
}

static void test_open_origin_mismatch(void **state)
{
    const char *text = "example.com/other\n1000\n" ROOT_B64 "\n";
    struct gl_verifier v;
    struct gl_signer s;
    struct gl_checkpoint c;
    struct gl_note *note = NULL;
    struct gl_buf b;
    (void)state;
    tu_load_signer("notes/log.key", &s);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(text, strlen(text), &s, 1, &b), 0);
    assert_int_equal(gl_checkpoint_open((char *)b.data, b.len, &v, &c, &note, NULL),
                     GL_EVERIFY);
    assert_null(note);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
}

static void test_open_not_checkpoint(void **state)
{
    const char *text = "example.com/log\nnot a size\n";
    struct gl_verifier v;
    struct gl_signer s;
    struct gl_checkpoint c;
    struct gl_buf b;
    (void)state;
    tu_load_signer("notes/log.key", &s);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(text, strlen(text), &s, 1, &b), 0);
    assert_int_equal(gl_checkpoint_open((char *)b.data, b.len, &v, &c, NULL, NULL),
                     GL_EPARSE);
    assert_int_equal(gl_checkpoint_open("", 0, &v, &c, NULL, NULL), GL_EPARSE);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "example.com/log\n",
        "example.com/log\n1000\n",
        "example.com/log\n1000\n" ROOT_B64,       /* no final newline */
        "\n1000\n" ROOT_B64 "\n",                 /* empty origin */
        "example.com/log\n01000\n" ROOT_B64 "\n", /* leading zero */
        "example.com/log\n00\n" ROOT_B64 "\n",
        "example.com/log\n-1\n" ROOT_B64 "\n", /* negative */
        "example.com/log\n+1\n" ROOT_B64 "\n",
        "example.com/log\n 1000\n" ROOT_B64 "\n",
        "example.com/log\n1000 \n" ROOT_B64 "\n",
        "example.com/log\n\n" ROOT_B64 "\n",
        "example.com/log\n18446744073709551616\n" ROOT_B64 "\n", /* overflow */
        "example.com/log\n0x10\n" ROOT_B64 "\n",
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcJ=\n",
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI\n",
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T_OBcI=\n",
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcI= \n",
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBc==\n", /* 31 */
        "example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcIA\n", /* 33 */
        "example.com/"
        "log\n1000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAA=\n",
        "example.com/log\n1000\n\n",               /* empty root */
        "example.com/log\r\n1000\n" ROOT_B64 "\n", /* CR */
        "example.com/log\n1000\r\n" ROOT_B64 "\n",
        "example.com/log\n1000\n" ROOT_B64 "\r\n",
        "example.com/log\n1000\n" ROOT_B64 "\n\n", /* empty extension line */
        "example.com/log\n1000\n" ROOT_B64 "\next\n\n",
        "example.com/log\n1000\n" ROOT_B64 "\next", /* unterminated */
        "exa\tmple.com/log\n1000\n" ROOT_B64 "\n",  /* control byte */
        "example.com/\xff\n1000\n" ROOT_B64 "\n",   /* not UTF-8 */
        "example.com/log\n1000\n" ROOT_B64 "\n\x7f\x01\n",
    };
    struct gl_checkpoint c;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = parse_str(bad[i], &c);
        if (err != GL_EPARSE)
            fail_msg("case %zu: got %d", i, err);
    }
    /* an embedded NUL is a control byte */
    assert_int_equal(gl_checkpoint_parse("o\0\n1\n" ROOT_B64 "\n", 5 + 45, &c, NULL),
                     GL_EPARSE);
    assert_int_equal(gl_checkpoint_parse(NULL, 0, &c, NULL), GL_EINVAL);
}

/* Every refusal names its line of the text (0: not tied to one) and what
 * is wrong; opening also says which key failed. */
static void test_refusals_say_why(void **state)
{
    static const struct {
        const char *text;
        int rc;
        size_t line;
        const char *why;
    } bad[] = {
        {"", GL_EPARSE, 0, "empty text"},
        {"\n1000\n" ROOT_B64 "\n", GL_EPARSE, 1, "empty origin line"},
        {"example.com/log\n01000\n" ROOT_B64 "\n", GL_EPARSE, 2,
         "tree size is not a decimal without leading zeros"},
        {"example.com/log\n9223372036854775808\n" ROOT_B64 "\n", GL_EPARSE, 2,
         "tree size exceeds 2^63-1"},
        {"example.com/log\n1000\n", GL_EPARSE, 3, "missing root hash line"},
        {"example.com/log\n1000\nY4r6mAIpJbrP3a2xXvIv0BmcGsmcKXO2FYJD0T/OBcJ=\n",
         GL_EPARSE, 3, "root hash is not base64 of 32 bytes"},
        {"example.com/log\n1000\n" ROOT_B64 "\next\n\n", GL_EPARSE, 5,
         "empty extension line"},
        {"example.com/log\n1000\n" ROOT_B64 "\next", GL_EPARSE, 4,
         "the last line does not end with a newline"},
        {"example.com/log\n1000\r\n" ROOT_B64 "\n", GL_EPARSE, 2,
         "control character 0x0d"},
        {"example.com/log\n1000\n" ROOT_B64
         "\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n"
         "15\n16\n17\n",
         GL_ETOOBIG, 20, "more than 16 extension lines"},
    };
    const char *other = "example.com/other\n1000\n" ROOT_B64 "\n";
    struct gl_verifier v, peter, wit;
    struct gl_checkpoint c;
    struct gl_signer s;
    struct gl_err why;
    struct gl_buf b;
    size_t n;
    char *msg = tu_read_vector("notes/checkpoint-cosigned.note", &n);
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tu_expect_why(gl_checkpoint_parse(bad[i].text, strlen(bad[i].text), &c, &why),
                      &why, bad[i].rc, bad[i].line, bad[i].why);
    tu_load_signer("notes/log.key", &s);
    gl_signer_verifier(&s, &v);
    tu_load_verifier("notes/peter.vkey", &peter);
    tu_load_verifier("notes/witness.cosig-vkey", &wit);
    tu_expect_why(gl_checkpoint_open(msg, n, &peter, &c, NULL, &why), &why, GL_ENOKEY, 0,
                  "no signature by the log key PeterNeumann+c74f20a3");
    tu_expect_why(gl_checkpoint_open(msg, n, &wit, &c, NULL, &why), &why, GL_EKEYTYPE, 0,
                  "is not a note key");
    memcpy(strstr(msg, "\n1000\n"), "\n1001\n", 6);
    tu_expect_why(
        gl_checkpoint_open(msg, n, &v, &c, NULL, &why), &why, GL_EVERIFY, 0,
        "the signature by the log key example.com/log+9f5d4526 does not verify");
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(other, strlen(other), &s, 1, &b), 0);
    tu_expect_why(
        gl_checkpoint_open((char *)b.data, b.len, &v, &c, NULL, &why), &why, GL_EVERIFY,
        1, "origin \"example.com/other\" is not the log key's name example.com/log");
    gl_buf_reset(&b);
    assert_int_equal(gl_note_sign("example.com/log\nx\n", 18, &s, 1, &b), 0);
    tu_expect_why(gl_checkpoint_open((char *)b.data, b.len, &v, &c, NULL, &why), &why,
                  GL_EPARSE, 2, "tree size is not a decimal");
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    free(msg);
}

static void test_caps(void **state)
{
    char *t = malloc(GL_CHECKPOINT_TEXT_MAX + 100);
    struct gl_checkpoint c;
    size_t n;
    (void)state;
    assert_non_null(t);
    /* origin of exactly 256 bytes accepted, 257 refused */
    memset(t, 'a', 256);
    n = 256 + (size_t)sprintf(t + 256, "\n1\n%s\n", ROOT_B64);
    assert_int_equal(gl_checkpoint_parse(t, n, &c, NULL), 0);
    assert_int_equal(strlen(c.origin), 256);
    memset(t, 'a', 257);
    n = 257 + (size_t)sprintf(t + 257, "\n1\n%s\n", ROOT_B64);
    assert_int_equal(gl_checkpoint_parse(t, n, &c, NULL), GL_ETOOBIG);
    /* whole text capped at GL_CHECKPOINT_TEXT_MAX */
    n = (size_t)sprintf(t, "o\n1\n%s\n", ROOT_B64);
    memset(t + n, 'e', GL_CHECKPOINT_TEXT_MAX - n - 1);
    t[GL_CHECKPOINT_TEXT_MAX - 1] = '\n';
    assert_int_equal(gl_checkpoint_parse(t, GL_CHECKPOINT_TEXT_MAX, &c, NULL), 0);
    t[GL_CHECKPOINT_TEXT_MAX - 1] = 'e';
    t[GL_CHECKPOINT_TEXT_MAX] = '\n';
    assert_int_equal(gl_checkpoint_parse(t, GL_CHECKPOINT_TEXT_MAX + 1, &c, NULL),
                     GL_ETOOBIG);
    free(t);
}

static void test_format_refuses(void **state)
{
    struct gl_checkpoint c;
    struct gl_buf b;
    (void)state;
    memset(&c, 0, sizeof(c));
    gl_buf_init(&b, GL_CHECKPOINT_TEXT_MAX);
    assert_int_equal(gl_buf_append_str(&b, "keep"), 0);
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE); /* empty origin */
    strcpy(c.origin, "a\nb");
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    strcpy(c.origin, "a\rb");
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    strcpy(c.origin, "o");
    c.ext = "no newline";
    c.ext_len = strlen(c.ext);
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    c.ext = "a\n\nb\n";
    c.ext_len = strlen(c.ext);
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    c.ext = NULL;
    c.ext_len = 3;
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EINVAL);
    c.ext_len = 0;
    c.size = (uint64_t)INT64_MAX + 1; /* Go's tlog reads a signed size */
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    c.size = 0;
    memset(c.origin, 'a', sizeof(c.origin)); /* unterminated */
    assert_int_equal(gl_checkpoint_format(&c, &b), GL_EPARSE);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 5);
    /* a good one appends */
    strcpy(c.origin, "o");
    c.ext = "x\n";
    c.ext_len = 2;
    assert_int_equal(gl_checkpoint_format(&c, &b), 0);
    assert_string_equal((char *)b.data,
                        "keepo\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nx\n");
    gl_buf_release(&b);
}

static void test_sign_open_roundtrip(void **state)
{
    struct gl_signer s;
    struct gl_verifier v;
    struct gl_checkpoint c;
    struct gl_buf b;
    uint8_t root[32];
    uint64_t seed = 42;
    (void)state;
    assert_int_equal(gl_signer_generate("log.example/a", GL_KEY_NOTE, &s), 0);
    gl_signer_verifier(&s, &v);
    for (int i = 0; i < 20; i++) {
        uint64_t size = i == 0 ? 0 : (i == 1 ? (uint64_t)INT64_MAX : tu_rand(&seed) >> 1);
        for (int k = 0; k < 32; k++)
            root[k] = (uint8_t)tu_rand(&seed);
        gl_buf_init(&b, GL_NOTE_MAX_SIZE);
        assert_int_equal(gl_checkpoint_sign("log.example/a", size, root, &s, &b), 0);
        assert_int_equal(gl_checkpoint_open((char *)b.data, b.len, &v, &c, NULL, NULL),
                         0);
        assert_true(c.size == size);
        assert_memory_equal(c.root, root, 32);
        gl_buf_release(&b);
    }
    gl_signer_wipe(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_vector),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_extension_lines),
        cmocka_unit_test(test_sign_kat),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_open_vectors),
        cmocka_unit_test(test_open_wrong_keys),
        cmocka_unit_test(test_open_tampered),
        cmocka_unit_test(test_open_origin_mismatch),
        cmocka_unit_test(test_open_not_checkpoint),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_refusals_say_why),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_sign_open_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
