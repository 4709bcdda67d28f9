/*
 * test_log_ratelimit: glasslogd's per-submitter token buckets with an
 * injected clock (milliseconds passed to every call): refill at the rate,
 * the burst cap, fractional rates, admission at the exact millisecond a
 * token is due, Retry-After (whole seconds, rounded up, at least 1, also
 * after a debt), unlimited buckets, a clock going back, the rate and burst
 * parsers, the /metrics families, the store bucket names,
 * ratelimit_take_shared on a store one process owns (the struct's bucket,
 * the store untouched) and on a shared one (a fake over two mem stores:
 * one take call an append, exact across two front-ends, no debt, a
 * failing store decided on the mirror). Expected values are worked out
 * by hand from the rate (tokens a second) and the elapsed milliseconds.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "../../log/ratelimit.h"
#include "../../log/store_impl.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

#define TOK RATELIMIT_TOKEN

static void bucket(struct ratelimit *b, const char *rate, uint64_t burst, uint64_t now_ms)
{
    struct ratelimit_limit l = {0, burst};

    assert_int_equal(ratelimit_parse_rate(rate, strlen(rate), &l.rate_u), 0);
    ratelimit_init(b, &l, now_ms);
}

/* Spends n tokens at now_ms, each admitted first. */
static void spend_n(struct ratelimit *b, int n, uint64_t now_ms)
{
    uint64_t ra = 0;

    for (int i = 0; i < n; i++) {
        assert_int_equal(ratelimit_admit(b, now_ms, &ra), 1);
        ratelimit_spend(b, now_ms);
    }
}

static void test_refill_rate(void **state)
{
    struct ratelimit b;
    uint64_t ra = 0;
    (void)state;

    bucket(&b, "2", 4, 1000);
    assert_int_equal(ratelimit_level(&b, 1000), 4 * TOK);
    spend_n(&b, 4, 1000);
    assert_int_equal(ratelimit_level(&b, 1000), 0);
    assert_int_equal(ratelimit_admit(&b, 1000, &ra), 0);
    assert_int_equal(ra, 1); /* 0.5 s to the next token, rounded up */
    /* 2 tokens/s = 0.002 tokens/ms */
    assert_int_equal(ratelimit_level(&b, 1250), TOK / 2);
    assert_int_equal(ratelimit_level(&b, 1499), 998000000);
    assert_int_equal(ratelimit_admit(&b, 1499, &ra), 0);
    assert_int_equal(ratelimit_admit(&b, 1500, &ra), 1);
    ratelimit_spend(&b, 1500);
    assert_int_equal(ratelimit_level(&b, 1500), 0);
    assert_int_equal(ratelimit_level(&b, 2500), 2 * TOK);
    assert_int_equal(b.limited, 2);
}

static void test_burst_cap(void **state)
{
    struct ratelimit b;
    uint64_t ra = 0;
    (void)state;

    bucket(&b, "10", 3, 0);
    /* a long idle time never fills beyond the burst */
    assert_int_equal(ratelimit_level(&b, 86400000ULL * 365), 3 * TOK);
    spend_n(&b, 3, 5000);
    assert_int_equal(ratelimit_admit(&b, 5000, &ra), 0);
    assert_int_equal(ratelimit_level(&b, 5000 + 86400000ULL * 365), 3 * TOK);
    spend_n(&b, 1, 5100); /* 0.1 s at 10/s: one token back */
    assert_int_equal(ratelimit_admit(&b, 5100, &ra), 0);
    assert_int_equal(ra, 1);
    /* burst 1 admits exactly one append at a time */
    bucket(&b, "1000000", 1, 0);
    spend_n(&b, 1, 7);
    assert_int_equal(ratelimit_admit(&b, 7, &ra), 0);
    assert_int_equal(ratelimit_admit(&b, 8, &ra), 1);
}

static void test_fractional(void **state)
{
    struct ratelimit b;
    uint64_t ra = 0;
    (void)state;

    bucket(&b, "0.5", 1, 0);
    spend_n(&b, 1, 0);
    assert_int_equal(ratelimit_admit(&b, 0, &ra), 0);
    assert_int_equal(ra, 2);
    assert_int_equal(ratelimit_admit(&b, 1000, &ra), 0);
    assert_int_equal(ra, 1);
    assert_int_equal(ratelimit_admit(&b, 1999, &ra), 0);
    assert_int_equal(ra, 1);
    assert_int_equal(ratelimit_admit(&b, 2000, &ra), 1);

    /* 0.3/s: 3333.3 ms per token; Retry-After 4 s */
    bucket(&b, "0.3", 2, 0);
    spend_n(&b, 2, 0);
    assert_int_equal(ratelimit_admit(&b, 0, &ra), 0);
    assert_int_equal(ra, 4);
    assert_int_equal(ratelimit_level(&b, 3333), 999900000);
    assert_int_equal(ratelimit_admit(&b, 3333, &ra), 0);
    assert_int_equal(ra, 1);
    assert_int_equal(ratelimit_admit(&b, 3334, &ra), 1);

    /* the smallest rate: one token in 10^6 s */
    bucket(&b, "0.000001", 1, 0);
    spend_n(&b, 1, 0);
    assert_int_equal(ratelimit_admit(&b, 0, &ra), 0);
    assert_int_equal(ra, 1000000);
    assert_int_equal(ratelimit_admit(&b, 999999999, &ra), 0);
    assert_int_equal(ratelimit_admit(&b, 1000000000, &ra), 1);
}

static void test_retry_after(void **state)
{
    struct ratelimit b;
    uint64_t ra = 0;
    (void)state;

    bucket(&b, "1", 2, 0);
    /* a debt: five appends admitted together, all spent after their
     * signatures verified, leave -3 tokens: 4 s to the next one */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_admit(&b, 0, &ra), 1);
    for (int i = 0; i < 5; i++)
        ratelimit_spend(&b, 0);
    assert_int_equal(ratelimit_level(&b, 0), -3 * TOK);
    assert_int_equal(ratelimit_retry_after(&b, 0), 4);
    assert_int_equal(ratelimit_admit(&b, 0, &ra), 0);
    assert_int_equal(ra, 4);
    assert_int_equal(ratelimit_retry_after(&b, 250), 4); /* 3.75 s */
    assert_int_equal(ratelimit_retry_after(&b, 1000), 3);
    assert_int_equal(ratelimit_retry_after(&b, 3001), 1);
    assert_int_equal(ratelimit_admit(&b, 3999, &ra), 0);
    assert_int_equal(ratelimit_admit(&b, 4000, &ra), 1);
    /* waiting exactly the Retry-After given always finds a token */
    bucket(&b, "0.7", 1, 123);
    spend_n(&b, 1, 123);
    assert_int_equal(ratelimit_admit(&b, 500, &ra), 0);
    assert_int_equal(ra, 2); /* 1/0.7 = 1.43 s after 123 ms: 1.05 s after 500 ms */
    assert_int_equal(ratelimit_retry_after(&b, 500), 2);
    assert_int_equal(ratelimit_retry_after(&b, 623), 1); /* 0.93 s */
    assert_int_equal(ratelimit_admit(&b, 500 + 2000, &ra), 1);
    /* a token already there: still at least 1 */
    assert_int_equal(ratelimit_retry_after(&b, 100000), 1);
    assert_int_equal(b.limited, 1);
}

static void test_unlimited_and_clock(void **state)
{
    struct ratelimit b;
    uint64_t ra = 0;
    (void)state;

    bucket(&b, "unlimited", 0, 50);
    assert_true(ratelimit_unlimited(&b));
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ratelimit_admit(&b, 50, &ra), 1);
        ratelimit_spend(&b, 50);
    }
    assert_int_equal(b.limited, 0);
    assert_int_equal(ratelimit_retry_after(&b, 50), 1);

    /* a clock that goes back refills nothing and does not rewind */
    bucket(&b, "1", 1, 10000);
    spend_n(&b, 1, 10000);
    assert_int_equal(ratelimit_level(&b, 5000), 0);
    ratelimit_spend(&b, 5000);
    assert_int_equal(ratelimit_level(&b, 5000), -TOK);
    assert_int_equal(b.last_ms, 10000);
    assert_int_equal(ratelimit_level(&b, 12000), TOK);
}

static void test_parse(void **state)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
        {"unlimited", 0},   {"10", 10000000},      {"0.5", 500000},
        {"2.125", 2125000}, {"0.000001", 1},       {"1000000", 1000000000000ULL},
        {"0.50", 500000},   {"7.000000", 7000000},
    };
    static const char *const bad[] = {
        "",          "0",       "0.0",        "0.0000001",
        "-1",        "+1",      ".5",         "1.",
        "00.5",      "01",      "1e3",        "1.1234567",
        "1000000.1", "1000001", " 1",         "1 ",
        "inf",       "nan",     "unlimitedx", "Unlimited",
        "0x10",      "1,5",     "1.5.5",      "99999999999999999999999",
        "1.-5",
    };
    uint64_t v;
    (void)state;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        v = 12345;
        assert_int_equal(ratelimit_parse_rate(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 12345;
        if (ratelimit_parse_rate(bad[i], strlen(bad[i]), &v) != GL_EPARSE)
            fail_msg("rate \"%s\" accepted", bad[i]);
        assert_int_equal(v, 12345);
    }
    /* the length counts, not a NUL */
    assert_int_equal(ratelimit_parse_rate("0.5 junk", 3, &v), 0);
    assert_int_equal(v, 500000);
    assert_int_equal(ratelimit_parse_burst("1", 1, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(ratelimit_parse_burst("1000000", 7, &v), 0);
    assert_int_equal(v, 1000000);
    assert_int_equal(ratelimit_parse_burst("0", 1, &v), GL_EPARSE);
    assert_int_equal(ratelimit_parse_burst("1000001", 7, &v), GL_EPARSE);
    assert_int_equal(ratelimit_parse_burst("01", 2, &v), GL_EPARSE);
    assert_int_equal(ratelimit_parse_burst("1.5", 3, &v), GL_EPARSE);
    assert_int_equal(ratelimit_parse_burst("", 0, &v), GL_EPARSE);
}

static void key(const char *name, struct gl_verifier *v)
{
    struct gl_signer s;

    assert_int_equal(gl_signer_generate(name, GL_KEY_NOTE, &s), 0);
    gl_signer_verifier(&s, v);
    gl_signer_wipe(&s);
}

static void test_render(void **state)
{
    struct gl_verifier k[3];
    struct ratelimit b[3];
    struct gl_buf out;
    char want[2048];
    uint64_t ra;
    (void)state;

    key("ci.example.com", &k[0]);
    key("odd\"name\\x", &k[1]);
    key("free.example.com", &k[2]);
    bucket(&b[0], "1", 2, 0);
    bucket(&b[1], "0.25", 4, 0);
    bucket(&b[2], "unlimited", 1, 0);
    gl_buf_init(&out, 1 << 16);

    /* nothing limited, nothing rendered */
    assert_int_equal(ratelimit_render(&k[2], &b[2], 1, 0, &out), 0);
    assert_int_equal(out.len, 0);

    spend_n(&b[0], 2, 0);
    assert_int_equal(ratelimit_admit(&b[0], 500, &ra), 0);
    assert_int_equal(ratelimit_admit(&b[0], 600, &ra), 0);
    ratelimit_spend(&b[1], 0);
    assert_int_equal(ratelimit_render(k, b, 3, 500, &out), 0);
    snprintf(
        want, sizeof(want),
        "# HELP glasslog_rate_limited_total Appends refused by the submitter key's rate "
        "limit (429).\n"
        "# TYPE glasslog_rate_limited_total counter\n"
        "glasslog_rate_limited_total{submitter=\"ci.example.com\",key_id=\"%08x\"} 2\n"
        "glasslog_rate_limited_total{submitter=\"odd\\\"name\\\\x\",key_id=\"%08x\"} 0\n"
        "# HELP glasslog_rate_tokens Tokens in the submitter key's bucket (negative: "
        "debt).\n"
        "# TYPE glasslog_rate_tokens gauge\n"
        "glasslog_rate_tokens{submitter=\"ci.example.com\",key_id=\"%08x\"} 0.5\n"
        "glasslog_rate_tokens{submitter=\"odd\\\"name\\\\x\",key_id=\"%08x\"} 3.125\n",
        (unsigned)k[0].id, (unsigned)k[1].id, (unsigned)k[0].id, (unsigned)k[1].id);
    assert_string_equal((const char *)out.data, want);

    /* a buffer too small is an error, not a cut */
    gl_buf_release(&out);
    gl_buf_init(&out, 100);
    assert_int_equal(ratelimit_render(k, b, 3, 500, &out), GL_ETOOBIG);
    gl_buf_release(&out);
}

/* Names "<key name>+<8 hex ID>", never cut; on a store that is not
 * shared (mem) or none, ratelimit_take_shared is ratelimit_spend (debt
 * allowed) and always lets the append go ahead, the store's bucket of
 * that name still full. */
static void test_shared_local(void **state)
{
    struct gl_verifier k;
    struct store_options o = {.url = "mem:", .create = 1, .cache_mb = 8};
    struct store *s = NULL;
    struct ratelimit b;
    char name[STORE_BUCKET_NAME_MAX + 1];
    uint64_t ra = 0;
    int64_t level;
    int took;

    (void)state;
    memset(&k, 0, sizeof(k));
    strcpy(k.name, "ci.example.com");
    k.id = 0x0a0b0c0d;
    ratelimit_bucket_name(&k, name);
    assert_string_equal(name, "ci.example.com+0a0b0c0d");
    memset(k.name, 'n', GL_KEY_NAME_MAX);
    k.name[GL_KEY_NAME_MAX] = 0;
    ratelimit_bucket_name(&k, name);
    assert_int_equal(strlen(name), GL_KEY_NAME_MAX + 9);
    assert_string_equal(name + GL_KEY_NAME_MAX, "+0a0b0c0d");

    assert_int_equal(store_open(&o, &s, NULL), 0);
    strcpy(k.name, "lim.example");
    ratelimit_bucket_name(&k, name);
    for (int pass = 0; pass < 2; pass++) {
        struct store *st = pass == 0 ? s : NULL;
        bucket(&b, "1", 2, 1000);
        for (int i = 0; i < 3; i++) { /* the third was admitted with the others */
            if (i < 2)
                assert_int_equal(ratelimit_admit(&b, 1000, &ra), 1);
            assert_int_equal(ratelimit_take_shared(&b, st, &k, 1000, &ra), 1);
        }
        assert_int_equal(ratelimit_level(&b, 1000), -TOK); /* a debt, as spend's */
        assert_int_equal(ratelimit_admit(&b, 2500, &ra), 0);
        assert_int_equal(ra, 1); /* half a token there */
        assert_int_equal(ratelimit_level(&b, 2500), TOK / 2);
        assert_int_equal(b.limited, 1);
        assert_int_equal(ratelimit_admit(&b, 3000, &ra), 1);
    }
    assert_int_equal(store_bucket_take(s, name, 1000000, 2, 0, &level, &took), 0);
    assert_int_equal(level, 2 * TOK); /* never taken from */
    store_close(s);
}

/* A shared store for the take: the mem store's ops with a lease (so
 * store_shared) whose buckets are those of a second, plain mem store (the
 * database), counting the bucket calls; fail: they answer GL_EIO. */
static struct fake_db {
    struct store_ops ops;
    struct store *db;
    int calls, fail;
} fake;

static int fake_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                      uint64_t *epoch)
{
    (void)s, (void)holder, (void)ms, (void)have, (void)epoch;
    return GL_ESTATE;
}

static int fake_bucket_take(struct store *s, const char *name, uint64_t rate_u,
                            uint64_t burst, int take, int64_t *level, int *took)
{
    (void)s;
    fake.calls++;
    if (fake.fail)
        return GL_EIO;
    return store_bucket_take(fake.db, name, rate_u, burst, take, level, took);
}

/* Two front-ends (a bucket each, burst 2, 1 token a second) on one shared
 * store: each verified append is ONE take call; together they get the
 * burst and are then refused (0, counted, Retry-After from the store's
 * level) without a debt, their mirrors set to the store's level; a
 * failing store lets the append through on the mirror (spent there). */
static void test_shared_store(void **state)
{
    struct store_options o = {.url = "mem:", .create = 1, .cache_mb = 8};
    struct store *s;
    struct gl_verifier k;
    struct ratelimit fe[2];
    uint64_t ra = 0;

    (void)state;
    assert_int_equal(store_open(&o, &s, NULL), 0);
    assert_int_equal(store_open(&o, &fake.db, NULL), 0);
    fake.ops = *s->ops;
    fake.ops.lease = fake_lease;
    fake.ops.bucket_take = fake_bucket_take;
    fake.calls = fake.fail = 0;
    s->ops = &fake.ops;
    assert_true(store_shared(s));
    memset(&k, 0, sizeof(k));
    strcpy(k.name, "lim.example");
    k.id = 7;
    bucket(&fe[0], "1", 2, 1000);
    bucket(&fe[1], "1", 2, 1000);

    assert_int_equal(ratelimit_take_shared(&fe[0], s, &k, 1000, &ra), 1);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(ratelimit_take_shared(&fe[1], s, &k, 1000, &ra), 1);
    assert_int_equal(fake.calls, 2);
    /* the bucket (the store's) is empty: front-end 0's mirror still shows
     * a token, so it admits, and the take refuses: no debt */
    assert_int_equal(ratelimit_admit(&fe[0], 1000, &ra), 1);
    ra = 0;
    assert_int_equal(ratelimit_take_shared(&fe[0], s, &k, 1000, &ra), 0);
    assert_int_equal(fake.calls, 3);
    assert_int_equal(fe[0].limited, 1);
    assert_in_range(ra, 1, 1); /* the store's level is about 0: a token in 1 s */
    assert_in_range(ratelimit_level(&fe[0], 1000), 0, TOK / 10);
    /* the mirror refuses now, without a call */
    assert_int_equal(ratelimit_admit(&fe[0], 1000, &ra), 0);
    assert_int_equal(fake.calls, 3);
    assert_int_equal(fe[1].limited, 0);

    /* the store fails: decided on the mirror, spent there (debt) */
    fake.fail = 1;
    assert_int_equal(ratelimit_take_shared(&fe[1], s, &k, 1000, &ra), 1);
    assert_int_equal(fake.calls, 4);
    assert_in_range(ratelimit_level(&fe[1], 1000), -TOK, -TOK + TOK / 10);
    assert_int_equal(fe[1].limited, 0);

    /* an unlimited bucket never calls the store */
    bucket(&fe[1], "unlimited", 1, 1000);
    assert_int_equal(ratelimit_take_shared(&fe[1], s, &k, 1000, &ra), 1);
    assert_int_equal(fake.calls, 4);
    store_close(s);
    store_close(fake.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refill_rate),
        cmocka_unit_test(test_burst_cap),
        cmocka_unit_test(test_fractional),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_unlimited_and_clock),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_shared_local),
        cmocka_unit_test(test_shared_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
