/*
 * test_tlogproof: C2SP tlog-proof parsing and formatting: byte-exact round
 * trips (with and without extra data, 0..63 hashes, the cosigned vector
 * checkpoint), the caps, and every malformed class refused.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/tlogproof.h"

#define H0 "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ="
#define H1 "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA="
#define HDR "c2sp.org/tlog-proof@v1\n"

static char *cosigned(size_t *n)
{
    return tu_read_vector("notes/checkpoint-cosigned.note", n);
}

/* head + "\n" + the cosigned vector note, in a fresh buffer. */
static void build(struct gl_buf *b, const char *head)
{
    size_t n;
    char *note = cosigned(&n);

    gl_buf_init(b, 2 * GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_buf_append_str(b, head), 0);
    assert_int_equal(gl_buf_putc(b, '\n'), 0);
    assert_int_equal(gl_buf_append(b, note, n), 0);
    free(note);
}

static int parse_head(const char *head)
{
    struct gl_tlogproof *p = NULL;
    struct gl_buf b;
    int err;

    build(&b, head);
    err = gl_tlogproof_parse((char *)b.data, b.len, &p, NULL);
    if (err == 0)
        gl_tlogproof_free(p);
    else
        assert_null(p);
    gl_buf_release(&b);
    return err;
}

/* Parses b, formats the result and requires the same bytes back. */
static void roundtrip(const struct gl_buf *b, struct gl_tlogproof **out)
{
    struct gl_tlogproof *p = NULL;
    struct gl_buf f;

    assert_int_equal(gl_tlogproof_parse((char *)b->data, b->len, &p, NULL), 0);
    gl_buf_init(&f, GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_tlogproof_format(p, &f), 0);
    assert_int_equal(f.len, b->len);
    assert_memory_equal(f.data, b->data, b->len);
    gl_buf_release(&f);
    *out = p;
}

static void test_roundtrip_full(void **state)
{
    struct gl_tlogproof *p;
    struct gl_verifier v;
    struct gl_checkpoint c;
    struct gl_buf b;
    uint8_t h[32];
    size_t n;
    char *note = cosigned(&n), *vk;
    (void)state;
    build(&b, HDR "extra aGVsbG8=\nindex 73894\n" H0 "\n" H1 "\n");
    roundtrip(&b, &p);
    assert_true(p->index == 73894);
    assert_int_equal(p->extra_len, 5);
    assert_memory_equal(p->extra, "hello", 5);
    assert_int_equal(p->nhashes, 2);
    tu_b64_hash(H0, h);
    assert_memory_equal(p->hashes[0], h, 32);
    tu_b64_hash(H1, h);
    assert_memory_equal(p->hashes[1], h, 32);
    assert_int_equal(p->checkpoint_len, n);
    assert_memory_equal(p->checkpoint, note, n);
    assert_ptr_equal(p->checkpoint, (char *)b.data + b.len - n);
    /* the embedded checkpoint opens with the log key */
    vk = tu_read_vector("notes/log.vkey", &n);
    assert_int_equal(gl_verifier_parse(vk, n, &v, NULL), 0);
    assert_int_equal(
        gl_checkpoint_open(p->checkpoint, p->checkpoint_len, &v, &c, NULL, NULL), 0);
    assert_true(c.size == 1000);
    gl_tlogproof_free(p);
    gl_buf_release(&b);
    free(vk);
    free(note);
}

static void test_roundtrip_minimal(void **state)
{
    struct gl_tlogproof *p;
    struct gl_buf b;
    (void)state;
    build(&b, HDR "index 0\n");
    roundtrip(&b, &p);
    assert_true(p->index == 0);
    assert_null(p->extra);
    assert_int_equal(p->extra_len, 0);
    assert_int_equal(p->nhashes, 0);
    gl_tlogproof_free(p);
    gl_buf_release(&b);
    build(&b, HDR "index 18446744073709551615\n" H1 "\n");
    roundtrip(&b, &p);
    assert_true(p->index == UINT64_MAX);
    gl_tlogproof_free(p);
    gl_buf_release(&b);
    gl_tlogproof_free(NULL);
}

static void test_format_from_struct(void **state)
{
    struct gl_tlogproof p, *q = NULL;
    struct gl_buf b, want;
    size_t n;
    char *note = cosigned(&n);
    (void)state;
    memset(&p, 0, sizeof(p));
    p.index = 7;
    p.nhashes = 1;
    tu_b64_hash(H0, p.hashes[0]);
    p.extra = (const uint8_t *)"\x00\xff";
    p.extra_len = 2;
    p.checkpoint = note;
    p.checkpoint_len = n;
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_tlogproof_format(&p, &b), 0);
    build(&want, HDR "extra AP8=\nindex 7\n" H0 "\n");
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.data, want.data, b.len);
    assert_int_equal(gl_tlogproof_parse((char *)b.data, b.len, &q, NULL), 0);
    assert_int_equal(q->extra_len, 2);
    assert_memory_equal(q->extra, "\x00\xff", 2);
    gl_tlogproof_free(q);
    gl_buf_release(&b);
    gl_buf_release(&want);
    free(note);
}

static void test_hash_count(void **state)
{
    struct gl_tlogproof *p;
    struct gl_buf head, b;
    (void)state;
    gl_buf_init(&head, 8192);
    assert_int_equal(gl_buf_append_str(&head, HDR "index 5\n"), 0);
    for (int i = 0; i < GL_TLOGPROOF_MAX_HASHES; i++)
        assert_int_equal(gl_buf_append_str(&head, H0 "\n"), 0);
    build(&b, (char *)head.data);
    roundtrip(&b, &p);
    assert_int_equal(p->nhashes, GL_TLOGPROOF_MAX_HASHES);
    gl_tlogproof_free(p);
    gl_buf_release(&b);
    assert_int_equal(gl_buf_append_str(&head, H0 "\n"), 0);
    assert_int_equal(parse_head((char *)head.data), GL_ETOOBIG);
    gl_buf_release(&head);
}

static void test_extra_caps(void **state)
{
    uint8_t *raw = malloc(GL_TLOGPROOF_EXTRA_MAX + 3);
    size_t blen = gl_base64_len(GL_TLOGPROOF_EXTRA_MAX + 3);
    char *b64 = malloc(blen + 1);
    struct gl_tlogproof *p;
    struct gl_buf head, b;
    (void)state;
    assert_non_null(raw);
    assert_non_null(b64);
    for (size_t i = 0; i < GL_TLOGPROOF_EXTRA_MAX + 3; i++)
        raw[i] = (uint8_t)(i * 7);
    /* exactly the cap: accepted and round-trips */
    assert_int_equal(gl_base64_encode(raw, GL_TLOGPROOF_EXTRA_MAX, b64, blen + 1), 0);
    gl_buf_init(&head, 2 * GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_buf_printf(&head, HDR "extra %s\nindex 1\n", b64), 0);
    build(&b, (char *)head.data);
    roundtrip(&b, &p);
    assert_int_equal(p->extra_len, GL_TLOGPROOF_EXTRA_MAX);
    assert_memory_equal(p->extra, raw, GL_TLOGPROOF_EXTRA_MAX);
    gl_tlogproof_free(p);
    gl_buf_release(&b);
    /* one, two and three bytes over */
    for (size_t extra = 1; extra <= 3; extra++) {
        assert_int_equal(
            gl_base64_encode(raw, GL_TLOGPROOF_EXTRA_MAX + extra, b64, blen + 1), 0);
        gl_buf_reset(&head);
        assert_int_equal(gl_buf_printf(&head, HDR "extra %s\nindex 1\n", b64), 0);
        assert_int_equal(parse_head((char *)head.data), GL_ETOOBIG);
    }
    gl_buf_release(&head);
    free(raw);
    free(b64);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "c2sp.org/tlog-proof@v2\nindex 1\n",
        "c2sp.org/tlog-proof@v1 \nindex 1\n",
        "c2sp.org/tlog-proof@v1\r\nindex 1\n",
        "C2SP.org/tlog-proof@v1\nindex 1\n",
        "index 1\n",
        HDR, /* no index */
        HDR "extra aGVsbG8=\n",
        HDR "extra \nindex 1\n", /* empty extra */
        HDR "extra\nindex 1\n",
        HDR "extra  aGVsbG8=\nindex 1\n",
        HDR "extra aGVsbG8\nindex 1\n",  /* unpadded */
        HDR "extra aGVsbG9=\nindex 1\n", /* non-canonical */
        HDR "extra aGVs bG8=\nindex 1\n",
        HDR "extra aGVsbG8=\nextra aGVsbG8=\nindex 1\n", /* two extra */
        HDR "index 1\nextra aGVsbG8=\n",                 /* extra after index */
        HDR "\nindex 1\n",
        HDR "index 01\n",
        HDR "index -1\n",
        HDR "index +1\n",
        HDR "index \n",
        HDR "index 1 \n",
        HDR "index  1\n",
        HDR "index 18446744073709551616\n",
        HDR "Index 1\n",
        HDR "index\t1\n",
        HDR "index 1\r\n",
        HDR "index 1\n" H0 "\r\n",
        HDR "index 1\n"
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPl==\n", /* 31 */
        HDR "index 1\n"
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQA\n", /* 33 */
        HDR "index 1\n"
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlR=\n", /* bits */
        HDR "index 1\n"
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ\n",
        HDR "index 1\n" H0 " \n",
        HDR "index 1\n"
            "index 2\n",
        HDR "index 1\n\n", /* blank line, then "\n" + note */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = parse_head(bad[i]);
        if (err != GL_EPARSE)
            fail_msg("case %zu: got %d", i, err);
    }
}

/* Every refusal names its line of the proof (a checkpoint's lines
 * counted in the whole file) and what is wrong. */
static void test_refusals_say_why(void **state)
{
    static const struct {
        const char *head; /* then "\n" and the cosigned vector note */
        int rc;
        size_t line;
        const char *why;
    } bad[] = {
        {"c2sp.org/tlog-proof@v2\nindex 1\n", GL_EPARSE, 1,
         "the first line is not c2sp.org/tlog-proof@v1"},
        {HDR "extra \nindex 1\n", GL_EPARSE, 2, "empty extra data"},
        {HDR "extra aGVsbG9=\nindex 1\n", GL_EPARSE, 2,
         "extra data is not canonical base64"},
        {HDR "extra aGVsbG8=\nindex 01\n", GL_EPARSE, 3,
         "index is not a decimal without leading zeros"},
        {HDR "\nindex 1\n", GL_EPARSE, 2, "expected \"index <decimal>\""},
        {HDR "index 1\n" H0 "\n" H1 " \n", GL_EPARSE, 4,
         "a proof hash is not base64 of 32 bytes"},
    };
    struct gl_tlogproof *p = NULL;
    struct gl_err why;
    struct gl_buf b;
    size_t n;
    char *note = cosigned(&n);
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build(&b, bad[i].head);
        tu_expect_why(gl_tlogproof_parse((char *)b.data, b.len, &p, &why), &why,
                      bad[i].rc, bad[i].line, bad[i].why);
        gl_buf_release(&b);
    }
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
    /* no empty line before the checkpoint: the line after the last */
    tu_expect_why(gl_tlogproof_parse(HDR "index 1\n", strlen(HDR) + 8, &p, &why), &why,
                  GL_EPARSE, 3, "missing empty line before the checkpoint");
    tu_expect_why(gl_tlogproof_parse(HDR "index 1\n\n", strlen(HDR) + 9, &p, &why), &why,
                  GL_EPARSE, 3, "no checkpoint after the empty line");
    /* the checkpoint's size line (its line 2) is line 5 of the proof */
    assert_int_equal(gl_buf_printf(&b, HDR "index 1\n\n%s", note), 0);
    memcpy(strstr((char *)b.data, "\n1000\n"), "\n0100\n", 6);
    tu_expect_why(gl_tlogproof_parse((char *)b.data, b.len, &p, &why), &why, GL_EPARSE, 5,
                  "checkpoint: tree size is not a decimal");
    /* the note's last line (its 6th) cut short: line 9 of the proof */
    tu_expect_why(gl_tlogproof_parse((char *)b.data, b.len - 1, &p, &why), &why,
                  GL_EPARSE, 9, "checkpoint: the last line does not end with a newline");
    assert_null(p);
    gl_buf_release(&b);
    free(note);
}

static int parse_raw(const char *s, size_t n)
{
    struct gl_tlogproof *p = NULL;
    int err = gl_tlogproof_parse(s, n, &p, NULL);

    gl_tlogproof_free(p);
    return err;
}

static void test_bad_checkpoint(void **state)
{
    struct gl_buf b;
    size_t n;
    char *note = cosigned(&n);
    (void)state;
    /* nothing after the blank line; no blank line at all */
    assert_int_equal(parse_raw(HDR "index 1\n\n", strlen(HDR) + 9), GL_EPARSE);
    assert_int_equal(parse_raw(HDR "index 1\n", strlen(HDR) + 8), GL_EPARSE);
    /* a checkpoint text without signatures */
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_buf_printf(&b, HDR "index 1\n\n%.*s", 66, note), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len), GL_EPARSE);
    /* a signed note that is no checkpoint */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, HDR "index 1\n\nhello\n%s", note + 66), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len), GL_EPARSE);
    /* trailing garbage after the note; without it the proof is fine; the
     * note truncated by one or two bytes */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, HDR "index 1\n\n%sjunk", note), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len), GL_EPARSE);
    assert_int_equal(parse_raw((char *)b.data, b.len - 4), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len - 5), GL_EPARSE);
    assert_int_equal(parse_raw((char *)b.data, b.len - 6), GL_EPARSE);
    assert_int_equal(parse_raw(NULL, 0), GL_EINVAL);
    gl_buf_release(&b);
    free(note);
}

static void test_size_cap(void **state)
{
    struct gl_buf b;
    char *big = malloc(GL_TLOGPROOF_MAX_SIZE + 1);
    (void)state;
    assert_non_null(big);
    memset(big, 'A', GL_TLOGPROOF_MAX_SIZE + 1);
    assert_int_equal(parse_raw(big, GL_TLOGPROOF_MAX_SIZE + 1), GL_ETOOBIG);
    /* an extra line longer than the extra cap allows, refused before
     * decoding; and one making the whole proof too big */
    gl_buf_init(&b, 2 * GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_buf_append_str(&b, HDR "extra "), 0);
    assert_int_equal(gl_buf_append(&b, big, 100000), 0);
    assert_int_equal(gl_buf_append_str(&b, "\nindex 1\n\n"), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len), GL_ETOOBIG);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_str(&b, HDR "extra "), 0);
    assert_int_equal(gl_buf_append(&b, big, GL_TLOGPROOF_MAX_SIZE), 0);
    assert_int_equal(gl_buf_append_str(&b, "\nindex 1\n\n"), 0);
    assert_int_equal(parse_raw((char *)b.data, b.len), GL_ETOOBIG);
    gl_buf_release(&b);
    free(big);
}

static void test_format_refuses(void **state)
{
    struct gl_tlogproof p;
    struct gl_buf b;
    size_t n;
    char *note = cosigned(&n);
    (void)state;
    memset(&p, 0, sizeof(p));
    p.checkpoint = note;
    p.checkpoint_len = n;
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
    assert_int_equal(gl_buf_append_str(&b, "keep"), 0);
    p.nhashes = GL_TLOGPROOF_MAX_HASHES + 1;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_ETOOBIG);
    p.nhashes = 0;
    p.extra_len = 3;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EINVAL);
    p.extra = (const uint8_t *)"abc";
    p.extra_len = 0;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EINVAL);
    p.extra_len = GL_TLOGPROOF_EXTRA_MAX + 1;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_ETOOBIG);
    p.extra = NULL;
    p.extra_len = 0;
    p.checkpoint_len = n - 1;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EPARSE);
    p.checkpoint = "x\n\n— a AAAAAAA=\n";
    p.checkpoint_len = strlen(p.checkpoint);
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EPARSE);
    p.checkpoint = NULL;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EINVAL);
    assert_int_equal(gl_tlogproof_format(NULL, &b), GL_EINVAL);
    assert_int_equal(b.len, 4);
    /* too big as a whole: out of the format buffer's room, out unchanged */
    p.checkpoint = note;
    p.checkpoint_len = n;
    b.max = 100;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    gl_buf_release(&b);
    free(note);
}

/* checkpoint_checked: set by parse; when set, format takes the checkpoint
 * as it is (no second parse) but still holds the whole-proof cap. */
static void test_format_checked_checkpoint(void **state)
{
    struct gl_tlogproof p, *q = NULL;
    struct gl_buf b, again;
    size_t n;
    char *note = cosigned(&n), *big;
    (void)state;
    memset(&p, 0, sizeof(p));
    p.index = 7;
    p.checkpoint = note;
    p.checkpoint_len = n;
    gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE + 16);
    gl_buf_init(&again, GL_TLOGPROOF_MAX_SIZE + 16);
    assert_int_equal(gl_tlogproof_format(&p, &b), 0);
    assert_int_equal(gl_tlogproof_parse((const char *)b.data, b.len, &q, NULL), 0);
    assert_int_not_equal(q->checkpoint_checked, 0);
    assert_int_equal(gl_tlogproof_format(q, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    gl_tlogproof_free(q);
    /* a checkpoint that does not parse: refused unless marked checked */
    gl_buf_reset(&b);
    p.checkpoint = "x\n\n— a AAAAAAA=\n";
    p.checkpoint_len = strlen(p.checkpoint);
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_EPARSE);
    p.checkpoint_checked = 1;
    assert_int_equal(gl_tlogproof_format(&p, &b), 0);
    assert_true(b.len > p.checkpoint_len);
    assert_memory_equal(b.data + b.len - p.checkpoint_len, p.checkpoint,
                        p.checkpoint_len);
    /* the whole proof over the cap: refused, out as it was */
    big = malloc(GL_TLOGPROOF_MAX_SIZE);
    assert_non_null(big);
    memset(big, 'a', GL_TLOGPROOF_MAX_SIZE);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_str(&b, "keep"), 0);
    p.checkpoint = big;
    p.checkpoint_len = GL_TLOGPROOF_MAX_SIZE;
    assert_int_equal(gl_tlogproof_format(&p, &b), GL_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    free(big);
    gl_buf_release(&b);
    gl_buf_release(&again);
    free(note);
}

static void test_random_roundtrips(void **state)
{
    uint64_t rs = 7;
    size_t n;
    char *note = cosigned(&n);
    (void)state;
    for (int iter = 0; iter < 200; iter++) {
        struct gl_tlogproof p, *q = NULL;
        uint8_t extra[100];
        struct gl_buf b, f;
        memset(&p, 0, sizeof(p));
        p.index = tu_rand(&rs) >> (tu_rand(&rs) % 64);
        p.nhashes = tu_rand(&rs) % (GL_TLOGPROOF_MAX_HASHES + 1);
        for (size_t i = 0; i < p.nhashes; i++)
            for (int k = 0; k < 32; k++)
                p.hashes[i][k] = (uint8_t)tu_rand(&rs);
        p.extra_len = tu_rand(&rs) % sizeof(extra);
        for (size_t i = 0; i < p.extra_len; i++)
            extra[i] = (uint8_t)tu_rand(&rs);
        p.extra = p.extra_len ? extra : NULL;
        p.checkpoint = note;
        p.checkpoint_len = n;
        gl_buf_init(&b, GL_TLOGPROOF_MAX_SIZE);
        gl_buf_init(&f, GL_TLOGPROOF_MAX_SIZE);
        assert_int_equal(gl_tlogproof_format(&p, &b), 0);
        assert_int_equal(gl_tlogproof_parse((char *)b.data, b.len, &q, NULL), 0);
        assert_true(q->index == p.index);
        assert_int_equal(q->nhashes, p.nhashes);
        assert_memory_equal(q->hashes, p.hashes, p.nhashes * 32);
        assert_int_equal(q->extra_len, p.extra_len);
        if (p.extra_len)
            assert_memory_equal(q->extra, extra, p.extra_len);
        assert_int_equal(gl_tlogproof_format(q, &f), 0);
        assert_int_equal(f.len, b.len);
        assert_memory_equal(f.data, b.data, b.len);
        gl_tlogproof_free(q);
        gl_buf_release(&b);
        gl_buf_release(&f);
    }
    free(note);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_full),
        cmocka_unit_test(test_roundtrip_minimal),
        cmocka_unit_test(test_format_from_struct),
        cmocka_unit_test(test_hash_count),
        cmocka_unit_test(test_extra_caps),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_refusals_say_why),
        cmocka_unit_test(test_bad_checkpoint),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_format_checked_checkpoint),
        cmocka_unit_test(test_random_roundtrips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
