/*
 * test_policy: tlog-policy parsing (the C2SP example, every refusal class
 * with its line number), quorum decisions (all/any/k-of-n, nested groups,
 * none, single witness), the quorum's time (gl_policy_quorum_time, checked
 * against an independent max-min over witness subsets), 0x01 witness key conversion with
 * the shared vectors, lookups, describe and canonical format round trips.
 *
 * Policy texts are templates: $L is the log key (notes/log.vkey, 0x01),
 * $C the witness key (notes/witness.cosig-vkey, 0x04), $E enoch.vkey
 * (0x01), $1 $2 $3 $4 fresh 0x04 keys, $N $M fresh 0x01 keys.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/policy.h"

#define VKEY_MAX 600

static char k_log[VKEY_MAX], k_cosig[VKEY_MAX], k_enoch[VKEY_MAX];
static char k_w[4][VKEY_MAX], k_n[2][VKEY_MAX];

/* ---- helpers ---- */

static void strip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = 0;
}

static void read_vkey(const char *rel, char out[VKEY_MAX])
{
    char *t = tu_read_vector(rel, NULL);
    snprintf(out, VKEY_MAX, "%s", t);
    strip(out);
    free(t);
}

static void format_verifier(const struct gl_verifier *v, char out[VKEY_MAX])
{
    struct gl_buf b;

    gl_buf_init(&b, VKEY_MAX - 1);
    assert_int_equal(gl_verifier_format(v, &b), 0);
    memcpy(out, b.data, b.len + 1);
    gl_buf_release(&b);
}

static void gen_vkey(const char *name, uint8_t type, char out[VKEY_MAX])
{
    struct gl_signer s;
    struct gl_verifier v;

    assert_int_equal(gl_signer_generate(name, type, &s), 0);
    gl_signer_verifier(&s, &v);
    gl_signer_wipe(&s);
    format_verifier(&v, out);
}

static int setup(void **state)
{
    (void)state;
    read_vkey("notes/log.vkey", k_log);
    read_vkey("notes/witness.cosig-vkey", k_cosig);
    read_vkey("notes/enoch.vkey", k_enoch);
    gen_vkey("w1.example", GL_KEY_COSIG, k_w[0]);
    gen_vkey("w2.example", GL_KEY_COSIG, k_w[1]);
    gen_vkey("w3.example", GL_KEY_COSIG, k_w[2]);
    gen_vkey("w4.example", GL_KEY_COSIG, k_w[3]);
    gen_vkey("ci.example/release", GL_KEY_NOTE, k_n[0]);
    gen_vkey("ci.example/nightly", GL_KEY_NOTE, k_n[1]);
    return 0;
}

static const char *key_for(char c)
{
    switch (c) {
    case 'L':
        return k_log;
    case 'C':
        return k_cosig;
    case 'E':
        return k_enoch;
    case '1':
    case '2':
    case '3':
    case '4':
        return k_w[c - '1'];
    case 'N':
        return k_n[0];
    case 'M':
        return k_n[1];
    default:
        return NULL;
    }
}

/* Expands a template into a malloc'd string (caller frees). */
static char *expand(const char *tmpl)
{
    struct gl_buf b;
    uint8_t *out;

    gl_buf_init(&b, 1 << 20);
    for (const char *p = tmpl; *p; p++) {
        const char *k = p[0] == '$' ? key_for(p[1]) : NULL;
        if (k != NULL) {
            assert_int_equal(gl_buf_append_str(&b, k), 0);
            p++;
        } else {
            assert_int_equal(gl_buf_putc(&b, (uint8_t)*p), 0);
        }
    }
    assert_int_equal(gl_buf_detach(&b, &out, NULL), 0);
    return (char *)out;
}

static struct gl_policy *parse_text_ok(const char *text, size_t n)
{
    struct gl_policy *p = NULL;
    struct gl_err e;
    int rc = gl_policy_parse(text, n, &p, &e);

    if (rc != 0)
        fail_msg("parse failed (%s) at line %zu: %s", gl_strerror(rc), e.line, e.reason);
    assert_non_null(p);
    return p;
}

static struct gl_policy *parse_ok(const char *tmpl)
{
    char *text = expand(tmpl);
    struct gl_policy *p = parse_text_ok(text, strlen(text));
    free(text);
    return p;
}

static void check_bad_text(const char *text, size_t n, int rc, size_t line,
                           const char *why)
{
    struct gl_policy *p = (struct gl_policy *)&p; /* must be reset to NULL */
    struct gl_err e;
    int got = gl_policy_parse(text, n, &p, &e);

    if (got != rc || e.line != line || strstr(e.reason, why) == NULL)
        fail_msg("want %d at line %zu (\"%s\"), got %d at line %zu: %s\n--\n%.300s", rc,
                 line, why, got, e.line, e.reason, text);
    assert_null(p);
    assert_true(strlen(e.reason) > 0);
}

static void check_bad(const char *tmpl, int rc, size_t line, const char *why)
{
    char *text = expand(tmpl);
    check_bad_text(text, strlen(text), rc, line, why);
    free(text);
}

/* Quorum decision for the witnesses whose bits are set in mask. */
static int decide(const struct gl_policy *p, unsigned mask)
{
    uint8_t w[GL_POLICY_MAX_WITNESSES] = {0};
    size_t i, n = gl_policy_nwitnesses(p);

    for (i = 0; i < n && i < 32; i++)
        w[i] = (mask >> i) & 1;
    return gl_policy_quorum_check(p, w, n);
}

static char *describe(const struct gl_policy *p)
{
    struct gl_buf b;
    uint8_t *s;

    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_policy_describe(p, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &s, NULL), 0);
    return (char *)s;
}

static int popcount(unsigned x)
{
    int c = 0;
    for (; x; x &= x - 1)
        c++;
    return c;
}

/* ---- valid policies ---- */

static void test_quorum_none_only(void **state)
{
    struct gl_policy *p = parse_ok("quorum none\n");
    size_t n = 99;

    (void)state;
    assert_int_equal(gl_policy_nlogs(p), 0);
    assert_int_equal(gl_policy_nwitnesses(p), 0);
    assert_int_equal(gl_policy_ngroups(p), 0);
    assert_int_equal(gl_policy_quorum(p).kind, GL_POLICY_REF_NONE);
    assert_int_equal(gl_policy_quorum_check(p, NULL, 0), 0);
    assert_non_null(gl_policy_submitters(p, &n));
    assert_int_equal(n, 0);
    assert_null(gl_policy_log_at(p, 0));
    gl_policy_free(p);
}

/* The example of the C2SP tlog-policy text, with real keys. */
static const char spec_example[] = "log $L\n"
                                   "\n"
                                   "witness X1 $1\n"
                                   "witness X2 $2\n"
                                   "witness X3 $3\n"
                                   "group X-witnesses 2 X1 X2 X3\n"
                                   "\n"
                                   "witness Y1 $4\n"
                                   "witness Y2 $C\n"
                                   "witness Y3 $E\n"
                                   "group Y-witnesses any Y1 Y2 Y3\n"
                                   "\n"
                                   "group X-and-Y all X-witnesses Y-witnesses\n"
                                   "quorum X-and-Y\n";

static void test_spec_example(void **state)
{
    struct gl_policy *p = parse_ok(spec_example);
    const struct gl_policy_group *g;
    struct gl_policy_ref q = gl_policy_quorum(p);
    unsigned mask;

    (void)state;
    assert_int_equal(gl_policy_nlogs(p), 1);
    assert_string_equal(gl_policy_log_at(p, 0)->key->name, "example.com/log");
    assert_null(gl_policy_log_at(p, 0)->url);
    assert_int_equal(gl_policy_log_at(p, 0)->line, 1);
    assert_int_equal(gl_policy_nwitnesses(p), 6);
    assert_int_equal(gl_policy_ngroups(p), 3);
    assert_int_equal(q.kind, GL_POLICY_REF_GROUP);
    assert_int_equal(q.index, 2);
    g = gl_policy_group_at(p, 0);
    assert_string_equal(g->name, "X-witnesses");
    assert_int_equal(g->k, 2);
    assert_int_equal(g->nmembers, 3);
    assert_int_equal(g->threshold, GL_POLICY_K_NUMBER);
    assert_int_equal(g->line, 6);
    g = gl_policy_group_at(p, 1);
    assert_int_equal(g->k, 1);
    assert_int_equal(g->threshold, GL_POLICY_K_ANY);
    assert_int_equal(g->members[2].kind, GL_POLICY_REF_WITNESS);
    assert_int_equal(g->members[2].index, 5);
    g = gl_policy_group_at(p, 2);
    assert_int_equal(g->k, 2);
    assert_int_equal(g->threshold, GL_POLICY_K_ALL);
    assert_int_equal(g->members[0].kind, GL_POLICY_REF_GROUP);
    assert_int_equal(g->members[1].index, 1);
    /* 2 of X (bits 0-2) and 1 of Y (bits 3-5), for every subset. */
    for (mask = 0; mask < 64; mask++) {
        int want = popcount(mask & 7) >= 2 && (mask & 0x38) != 0;
        assert_int_equal(decide(p, mask), want ? 0 : GL_EQUORUM);
    }
    gl_policy_free(p);
}

static void test_whitespace_comments_urls(void **state)
{
    struct gl_policy *p =
        parse_ok("# a comment\n"
                 "   # an indented comment with odd chars: \xe2\x84\xaa #\t\n"
                 " \t \n"
                 "\tlog   $L\thttps://log.example.com/x#frag  \n"
                 "witness\tW1 $1 https://w1.example/\n"
                 "witness W2 $2\n"
                 "quorum W1"); /* no final newline */
    const struct gl_policy_witness *w;

    (void)state;
    assert_string_equal(gl_policy_log_at(p, 0)->url, "https://log.example.com/x#frag");
    assert_int_equal(gl_policy_log_at(p, 0)->line, 4);
    w = gl_policy_witness_at(p, 0);
    assert_string_equal(w->name, "W1");
    assert_string_equal(w->url, "https://w1.example/");
    assert_int_equal(w->line, 5);
    assert_null(gl_policy_witness_at(p, 1)->url);
    assert_null(gl_policy_witness_at(p, 2));
    assert_int_equal(gl_policy_quorum(p).kind, GL_POLICY_REF_WITNESS);
    assert_int_equal(decide(p, 1), 0);
    assert_int_equal(decide(p, 2), GL_EQUORUM);
    assert_int_equal(decide(p, 0), GL_EQUORUM);
    gl_policy_free(p);
}

static void test_lines_after_quorum(void **state)
{
    struct gl_policy *p = parse_ok("quorum none\nlog $L\nwitness A $1\n");

    (void)state;
    assert_int_equal(gl_policy_nlogs(p), 1);
    assert_int_equal(gl_policy_nwitnesses(p), 1);
    assert_int_equal(decide(p, 0), 0);
    gl_policy_free(p);
}

static void test_names_are_opaque_octets(void **state)
{
    /* "K" and the Kelvin sign are different names; keywords are names too. */
    struct gl_policy *p = parse_ok("witness K $1\n"
                                   "witness \xe2\x84\xaa $2\n"
                                   "witness all $3\n"
                                   "group any all K \xe2\x84\xaa all\n"
                                   "quorum any\n");
    struct gl_policy_ref r;

    (void)state;
    assert_int_equal(gl_policy_find_name(p, "\xe2\x84\xaa", 3, &r), 0);
    assert_int_equal(r.kind, GL_POLICY_REF_WITNESS);
    assert_int_equal(r.index, 1);
    assert_int_equal(gl_policy_find_name(p, "any", 3, &r), 0);
    assert_int_equal(r.kind, GL_POLICY_REF_GROUP);
    assert_int_equal(gl_policy_find_name(p, "none", 4, &r), 0);
    assert_int_equal(r.kind, GL_POLICY_REF_NONE);
    assert_int_equal(gl_policy_find_name(p, "k", 1, &r), GL_ENOTFOUND);
    assert_int_equal(decide(p, 7), 0);
    assert_int_equal(decide(p, 3), GL_EQUORUM);
    gl_policy_free(p);
}

/* ---- quorum decisions ---- */

static void test_quorum_k_of_n(void **state)
{
    static const char *thr[] = {"any", "1", "2", "3", "4", "all"};
    static const int want_k[] = {1, 1, 2, 3, 4, 4};
    char tmpl[256];
    size_t i;
    unsigned mask;

    (void)state;
    for (i = 0; i < 6; i++) {
        struct gl_policy *p;
        snprintf(tmpl, sizeof(tmpl),
                 "witness a $1\nwitness b $2\nwitness c $3\n"
                 "witness d $4\ngroup g %s a b c d\nquorum g\n",
                 thr[i]);
        p = parse_ok(tmpl);
        assert_int_equal(gl_policy_group_at(p, 0)->k, want_k[i]);
        for (mask = 0; mask < 16; mask++)
            assert_int_equal(decide(p, mask),
                             popcount(mask) >= want_k[i] ? 0 : GL_EQUORUM);
        gl_policy_free(p);
    }
}

/* Mirrors are cosigners like witnesses: "one mirror and two witnesses" is
 * a group of two groups; mirror lines format back as mirror lines. */
static void test_mirrors(void **state)
{
    static const char text[] =
        "witness w1 $1\nwitness w2 $2\nmirror m1 $3 https://m1.example/mirror\n"
        "mirror m2 $4\ngroup ws all w1 w2\ngroup ms any m1 m2\n"
        "group both all ws ms\nquorum both\n";
    struct gl_policy *p;
    struct gl_buf out;
    unsigned mask;

    (void)state;
    p = parse_ok(text);
    assert_int_equal(gl_policy_nwitnesses(p), 4);
    assert_int_equal(gl_policy_witness_at(p, 0)->mirror, 0);
    assert_int_equal(gl_policy_witness_at(p, 2)->mirror, 1);
    assert_string_equal(gl_policy_witness_at(p, 2)->url, "https://m1.example/mirror");
    for (mask = 0; mask < 16; mask++) /* bits: w1 w2 m1 m2 */
        assert_int_equal(decide(p, mask),
                         (mask & 3) == 3 && (mask & 12) != 0 ? 0 : GL_EQUORUM);
    gl_buf_init(&out, 1 << 16);
    assert_int_equal(gl_policy_format(p, 0, &out), 0);
    assert_non_null(strstr((const char *)out.data, "\nmirror m1 "));
    assert_non_null(strstr((const char *)out.data, "\nmirror m2 "));
    assert_null(strstr((const char *)out.data, "witness m1"));
    gl_buf_reset(&out);
    assert_int_equal(gl_policy_format(p, GL_POLICY_FORMAT_PORTABLE, &out), 0);
    assert_non_null(strstr((const char *)out.data, "\nwitness m1 "));
    assert_null(strstr((const char *)out.data, "mirror "));
    gl_buf_release(&out);
    gl_policy_free(p);
}

/* quorum = all(any(all(a, b), 2 of (c, inner(d alone)))) over 4 keys. */
static const char nested_policy[] = "witness a $1\nwitness b $2\nwitness c $3\n"
                                    "witness d $4\n"
                                    "group ab all a b\n"
                                    "group dd 1 d\n"
                                    "group cd 2 c dd\n"
                                    "group top any ab cd\n"
                                    "group root all top\n"
                                    "quorum root\n";

static void test_quorum_nested(void **state)
{
    struct gl_policy *p = parse_ok(nested_policy);
    unsigned mask;

    (void)state;
    for (mask = 0; mask < 16; mask++) {
        int ab = (mask & 3) == 3, cd = (mask & 12) == 12;
        assert_int_equal(decide(p, mask), ab || cd ? 0 : GL_EQUORUM);
    }
    gl_policy_free(p);
}

static void test_quorum_single_and_none(void **state)
{
    struct gl_policy *p = parse_ok("witness a $1\nwitness b $2\nquorum b\n");
    uint8_t w[2] = {1, 0};

    (void)state;
    assert_int_equal(gl_policy_quorum_check(p, w, 2), GL_EQUORUM);
    w[1] = 7; /* any nonzero flag counts */
    assert_int_equal(gl_policy_quorum_check(p, w, 2), 0);
    assert_int_equal(gl_policy_quorum_check(p, w, 1), GL_EINVAL);
    assert_int_equal(gl_policy_quorum_check(p, NULL, 2), GL_EINVAL);
    gl_policy_free(p);
    p = parse_ok("witness a $1\nquorum none\n");
    w[0] = 0;
    assert_int_equal(gl_policy_quorum_check(p, w, 1), 0);
    gl_policy_free(p);
}

/* ---- the quorum's time ---- */

/* The independent definition: the largest, over the sets S of counted
 * witnesses that satisfy the quorum, of the oldest time in S. 0 if no S. */
static uint64_t max_min_over_subsets(const struct gl_policy *p, const uint64_t *times,
                                     const uint8_t *counted)
{
    size_t n = gl_policy_nwitnesses(p);
    uint64_t best = 0;
    unsigned s, i;

    for (s = 1; s < (1u << n); s++) {
        uint64_t oldest = UINT64_MAX;
        int ok = 1;
        for (i = 0; i < n; i++)
            if ((s >> i) & 1) {
                ok &= counted[i] != 0;
                if (times[i] < oldest)
                    oldest = times[i];
            }
        if (ok && decide(p, s) == 0 && oldest > best)
            best = oldest;
    }
    return best;
}

static void test_quorum_time_nested_exhaustive(void **state)
{
    struct gl_policy *p = parse_ok(nested_policy);
    uint64_t times[4], t;
    uint8_t counted[4];
    unsigned combo, i, checked = 0;

    (void)state;
    /* Each witness: absent (0) or dated 10, 20 or 30 (1..3), so 4^4 cases;
     * digit 3 of a combo with bit 8 set marks witness a as not counted
     * despite a time (a future-dated cosignature). */
    for (combo = 0; combo < 512; combo++) {
        for (i = 0; i < 4; i++) {
            unsigned v = (combo >> (2 * i)) & 3;
            times[i] = v * 10;
            counted[i] = v != 0;
        }
        if (combo & 256) {
            if (!counted[0])
                continue;
            counted[0] = 0;
            times[0] = 1000; /* must be ignored */
        }
        uint64_t want = max_min_over_subsets(p, times, counted);
        t = 12345;
        int rc = gl_policy_quorum_time(p, times, counted, 4, &t);
        if (want == 0) {
            assert_int_equal(rc, GL_EQUORUM);
            assert_true(t == 12345); /* untouched */
        } else {
            assert_int_equal(rc, 0);
            if (t != want)
                fail_msg("combo %u: T %llu, want %llu", combo, (unsigned long long)t,
                         (unsigned long long)want);
        }
        checked++;
    }
    assert_true(checked > 256);
    /* The spelled-out case: a, b at 30 and 10 (ab needs both: 10), c at 20
     * and d at 20 (cd: 20): T = 20, not a's 30. */
    uint64_t t1[4] = {30, 10, 20, 20};
    uint8_t c1[4] = {1, 1, 1, 1};
    assert_int_equal(gl_policy_quorum_time(p, t1, c1, 4, &t), 0);
    assert_true(t == 20);
    gl_policy_free(p);
}

static void test_quorum_time_k_of_n(void **state)
{
    /* 2 of 3: the second-newest counted time, whatever the others say. */
    struct gl_policy *p =
        parse_ok("witness a $1\nwitness b $2\nwitness c $3\nwitness d $4\n"
                 "group g 2 a b c\nquorum g\n");
    uint64_t times[4] = {1700003600, 1699999990, 1699992800, 1700000000}, t = 0;
    uint8_t counted[4] = {0, 1, 1, 1}; /* a future-dated; d not in the quorum */

    (void)state;
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 4, &t), 0);
    assert_true(t == 1699992800);
    counted[0] = 1; /* counted, a and b make the quorum: b's time */
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 4, &t), 0);
    assert_true(t == 1699999990);
    counted[1] = counted[2] = 0; /* only a (and d, outside): no T */
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 4, &t), GL_EQUORUM);
    counted[0] = 0; /* nothing counted */
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 4, &t), GL_EQUORUM);
    /* Equal times: one candidate. */
    uint64_t same[4] = {5, 5, 5, 9};
    uint8_t all[4] = {1, 1, 1, 1};
    assert_int_equal(gl_policy_quorum_time(p, same, all, 4, &t), 0);
    assert_true(t == 5);
    /* Bad arguments. */
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 3, &t), GL_EINVAL);
    assert_int_equal(gl_policy_quorum_time(p, NULL, counted, 4, &t), GL_EINVAL);
    assert_int_equal(gl_policy_quorum_time(p, times, NULL, 4, &t), GL_EINVAL);
    assert_int_equal(gl_policy_quorum_time(p, times, counted, 4, NULL), GL_EINVAL);
    assert_int_equal(gl_policy_quorum_time(NULL, times, counted, 4, &t), GL_EINVAL);
    gl_policy_free(p);
    /* A single witness as the quorum. */
    p = parse_ok("witness a $1\nwitness b $2\nquorum b\n");
    assert_int_equal(gl_policy_quorum_time(p, times, all, 2, &t), 0);
    assert_true(t == 1699999990);
    gl_policy_free(p);
    /* quorum none: no witness vouches for a time, even with cosignatures. */
    p = parse_ok("witness a $1\nquorum none\n");
    assert_int_equal(gl_policy_quorum_time(p, times, all, 1, &t), GL_ENOTFOUND);
    gl_policy_free(p);
    p = parse_ok("quorum none\n");
    assert_int_equal(gl_policy_quorum_time(p, NULL, NULL, 0, &t), GL_ENOTFOUND);
    gl_policy_free(p);
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_quorum_time_wide(void **state)
{
    /* 200 witnesses, quorum 150 of them: T is the 150th newest counted
     * time (independently: a sorted copy). Pseudo-random times with ties. */
    enum { N = 200, K = 150 };
    struct gl_buf b;
    uint64_t times[N], sorted[N], t = 0, x = 88172645463325252ULL;
    uint8_t counted[N];
    char key[VKEY_MAX], name[32];
    struct gl_policy *p;
    size_t i, m = 0;
    uint8_t *text;

    (void)state;
    gl_buf_init(&b, 1 << 20);
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "w%zu.example", i);
        gen_vkey(name, GL_KEY_COSIG, key);
        assert_int_equal(gl_buf_printf(&b, "witness w%zu %s\n", i, key), 0);
    }
    assert_int_equal(gl_buf_printf(&b, "group g %d", K), 0);
    for (i = 0; i < N; i++)
        assert_int_equal(gl_buf_printf(&b, " w%zu", i), 0);
    assert_int_equal(gl_buf_append_str(&b, "\nquorum g\n"), 0);
    assert_int_equal(gl_buf_detach(&b, &text, &i), 0);
    p = parse_text_ok((const char *)text, i);
    free(text);
    for (i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        times[i] = 1700000000 + x % 500;
        counted[i] = (x >> 20) % 10 != 0; /* about 90% counted */
        if (counted[i])
            sorted[m++] = times[i];
    }
    assert_true(m >= K);
    qsort(sorted, m, sizeof(*sorted), cmp_u64_desc);
    assert_int_equal(gl_policy_quorum_time(p, times, counted, N, &t), 0);
    assert_true(t == sorted[K - 1]);
    gl_policy_free(p);
}

/* ---- keys ---- */

static void test_witness_conversion_vectors(void **state)
{
    struct gl_policy *p = parse_ok("log $L\nwitness enoch $E\nwitness wit $C\n"
                                   "group both all enoch wit\nquorum both\n");
    const struct gl_policy_witness *w0 = gl_policy_witness_at(p, 0);
    const struct gl_policy_witness *w1 = gl_policy_witness_at(p, 1);
    struct gl_verifier enoch, cosig;
    const struct gl_verifier *keys;
    size_t n, idx;

    (void)state;
    assert_int_equal(gl_verifier_parse(k_enoch, strlen(k_enoch), &enoch, NULL), 0);
    assert_int_equal(gl_verifier_parse(k_cosig, strlen(k_cosig), &cosig, NULL), 0);
    assert_int_equal(w0->converted, 1);
    assert_int_equal(w0->key->type, GL_KEY_COSIG);
    assert_memory_equal(w0->key->pub, enoch.pub, 32);
    assert_string_equal(w0->key->name, "EnochRoot");
    assert_int_equal(w0->key->id, gl_key_id("EnochRoot", GL_KEY_COSIG, enoch.pub));
    assert_true(w0->key->id != enoch.id);
    assert_int_equal(w1->converted, 0);
    assert_int_equal(w1->key->type, GL_KEY_COSIG);
    assert_int_equal(w1->key->id, 0x84e6a7f4);
    assert_int_equal(w1->key->id, cosig.id);
    keys = gl_policy_witness_keys(p, &n);
    assert_int_equal(n, 2);
    assert_ptr_equal(&keys[0], w0->key);
    /* Cosignature lines carry the 0x04 ID: lookups use it. */
    assert_int_equal(gl_policy_find_witness_key(p, "EnochRoot", 9, w0->key->id, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(gl_policy_find_witness_key(p, "EnochRoot", 9, enoch.id, &idx),
                     GL_ENOTFOUND);
    assert_int_equal(
        gl_policy_find_witness_key(p, "example.org/witness", 19, 0x84e6a7f4, &idx), 0);
    assert_int_equal(idx, 1);
    gl_policy_free(p);
}

static void test_submitters(void **state)
{
    struct gl_policy *p = parse_ok("log $L\nsubmitter $N\nsubmitter $M\nquorum none\n");
    const struct gl_verifier *s;
    size_t n;

    (void)state;
    s = gl_policy_submitters(p, &n);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].name, "ci.example/release");
    assert_string_equal(s[1].name, "ci.example/nightly");
    assert_int_equal(s[1].type, GL_KEY_NOTE);
    gl_policy_free(p);
}

/* Roles on submitter lines; requirements; requirements may come before
 * the roles they count (checked at the end of the file). */
static void test_roles(void **state)
{
    struct gl_policy *p = parse_ok("log $L\nrequire audit\nsubmitter $N builder\n"
                                   "submitter $M rebuilder\nsubmitter $E auditor\n"
                                   "require rebuilds 1\nquorum none\n");
    struct gl_policy *q = parse_ok("log $L\nsubmitter $N\nquorum none\n");
    char *d;

    (void)state;
    assert_int_equal(gl_policy_submitter_role(p, 0), GL_POLICY_ROLE_BUILDER);
    assert_int_equal(gl_policy_submitter_role(p, 1), GL_POLICY_ROLE_REBUILDER);
    assert_int_equal(gl_policy_submitter_role(p, 2), GL_POLICY_ROLE_AUDITOR);
    assert_int_equal(gl_policy_submitter_role(p, 3), GL_POLICY_ROLE_NONE);
    assert_int_equal(gl_policy_require_rebuilds(p), 1);
    assert_int_equal(gl_policy_require_audit(p), 1);
    assert_int_equal(gl_policy_submitter_role(q, 0), GL_POLICY_ROLE_NONE);
    assert_int_equal(gl_policy_require_rebuilds(q), 0);
    assert_int_equal(gl_policy_require_audit(q), 0);
    assert_string_equal(gl_policy_role_name(GL_POLICY_ROLE_REBUILDER), "rebuilder");
    assert_null(gl_policy_role_name(GL_POLICY_ROLE_NONE));
    assert_null(gl_policy_role_name((enum gl_policy_role)4));
    d = describe(p);
    assert_non_null(strstr(d, "; submitters ci.example/release (builder), "
                              "ci.example/nightly (rebuilder), "));
    assert_non_null(
        strstr(d, " (auditor); requires 1 rebuild; requires an audit of the source"));
    free(d);
    gl_policy_free(q);
    gl_policy_free(p);
}

static void test_find_logs(void **state)
{
    struct gl_policy *p;
    struct gl_signer s;
    struct gl_verifier v;
    char rotated[VKEY_MAX], tmpl[2048];
    size_t idx = 99;
    const struct gl_verifier *keys;
    size_t n;

    (void)state;
    /* A second key for the same origin (key rotation) is allowed. */
    assert_int_equal(gl_signer_generate("example.com/log", GL_KEY_NOTE, &s), 0);
    gl_signer_verifier(&s, &v);
    gl_signer_wipe(&s);
    format_verifier(&v, rotated);
    snprintf(tmpl, sizeof(tmpl),
             "log $N\nlog $L https://a/\nlog %s https://b/\n"
             "quorum none\n",
             rotated);
    p = parse_ok(tmpl);
    assert_int_equal(gl_policy_find_log(p, "example.com/log", 15, 0, &idx), 0);
    assert_int_equal(idx, 1);
    assert_int_equal(gl_policy_find_log(p, "example.com/log", 15, idx + 1, &idx), 0);
    assert_int_equal(idx, 2);
    assert_string_equal(gl_policy_log_at(p, idx)->url, "https://b/");
    assert_int_equal(gl_policy_find_log(p, "example.com/log", 15, idx + 1, &idx),
                     GL_ENOTFOUND);
    assert_int_equal(gl_policy_find_log(p, "example.com/lo", 14, 0, &idx), GL_ENOTFOUND);
    assert_int_equal(gl_policy_find_log_key(p, "example.com/log", 15, 0x9f5d4526, &idx),
                     0);
    assert_int_equal(idx, 1);
    assert_int_equal(gl_policy_find_log_key(p, "example.com/log", 15, v.id, &idx), 0);
    assert_int_equal(idx, 2);
    assert_int_equal(gl_policy_find_log_key(p, "example.com/log", 15, 1, &idx),
                     GL_ENOTFOUND);
    keys = gl_policy_log_keys(p, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(keys[2].pub, v.pub, 32);
    gl_policy_free(p);
}

/* ---- refusals ---- */

struct bad {
    const char *tmpl;
    int rc;
    size_t line;
    const char *why;
};

static const struct bad bad_cases[] = {
    /* structure and keywords */
    {"", GL_EPARSE, 0, "no quorum"},
    {"# only a comment\nlog $L\n", GL_EPARSE, 0, "no quorum"},
    {"logs $L\nquorum none\n", GL_EPARSE, 1, "unknown keyword \"logs\""},
    {"quorum none\nLOG $L\n", GL_EPARSE, 2, "unknown keyword"},
    {"quorum none\nwitnesses a $1\n", GL_EPARSE, 2, "unknown keyword"},
    {"c2sp.org/tlog-proof@v1\nindex 1\n", GL_EPARSE, 1, "a proof bundle, not a policy"},
    {"glasslog.dev/chain-bundle/v1\n", GL_EPARSE, 1, "a proof bundle, not a policy"},
    {"quorum none\nc2sp.org/tlog-proof@v1\n", GL_EPARSE, 2, "unknown keyword"},
    {"log\nquorum none\n", GL_EPARSE, 1, "expected: log"},
    {"log $L https://x/ extra\nquorum none\n", GL_EPARSE, 1, "expected: log"},
    {"log $L # trailing comments are not comments\nquorum none\n", GL_EPARSE, 1,
     "expected: log"},
    {"witness a\nquorum none\n", GL_EPARSE, 1, "expected: witness"},
    {"witness a $1 u extra\nquorum none\n", GL_EPARSE, 1, "expected: witness"},
    {"quorum\n", GL_EPARSE, 1, "expected: quorum"},
    {"quorum none extra\n", GL_EPARSE, 1, "expected: quorum"},
    {"quorum none\nquorum none\n", GL_EPARSE, 2,
     "second quorum line (the first is on line 1)"},
    {"submitter\nquorum none\n", GL_EPARSE, 1, "expected: submitter"},
    {"submitter $N https://x/\nquorum none\n", GL_EPARSE, 1, "unknown submitter role"},
    /* roles and requirements */
    {"submitter $N builder x\nquorum none\n", GL_EPARSE, 1, "expected: submitter"},
    {"submitter $N Builder\nquorum none\n", GL_EPARSE, 1,
     "unknown submitter role \"Builder\""},
    {"submitter $N builder\nrequire\nquorum none\n", GL_EPARSE, 2, "expected: require"},
    {"submitter $N builder\nrequire rebuild 1\nquorum none\n", GL_EPARSE, 2,
     "expected: require"},
    {"submitter $N builder\nrequire audit now\nquorum none\n", GL_EPARSE, 2,
     "expected: require"},
    {"submitter $N builder\nsubmitter $M rebuilder\nrequire rebuilds 0\nquorum none\n",
     GL_EPARSE, 3, "rebuild count is not"},
    {"submitter $N builder\nsubmitter $M rebuilder\nrequire rebuilds 01\nquorum none\n",
     GL_EPARSE, 3, "rebuild count is not"},
    {"submitter $N builder\nsubmitter $M rebuilder\nrequire rebuilds 257\nquorum none\n",
     GL_EPARSE, 3, "rebuild count is not"},
    {"submitter $N builder\nsubmitter $M rebuilder\nrequire rebuilds 2\nquorum none\n",
     GL_EPARSE, 3, "require rebuilds 2, but the policy names 1 rebuilder"},
    {"submitter $N builder\nsubmitter $M rebuilder\nrequire rebuilds 1\n"
     "require rebuilds 1\nquorum none\n",
     GL_EPARSE, 4, "second \"require rebuilds\""},
    {"submitter $N builder\nsubmitter $E auditor\nrequire audit\nrequire audit\n"
     "quorum none\n",
     GL_EPARSE, 4, "second \"require audit\" line (first on line 3)"},
    {"submitter $N builder\nrequire audit\nquorum none\n", GL_EPARSE, 2,
     "policy names no auditor"},
    {"submitter $M rebuilder\nquorum none\nrequire rebuilds 1\n", GL_EPARSE, 3,
     "needs at least one \"submitter <vkey> builder\""},
    /* keys */
    {"log not-a-key\nquorum none\n", GL_EPARSE, 1,
     "log key is not a valid vkey: not a key: want <name>+<id>+<base64>"},
    {"quorum none\nlog "
     "example.com/log+00000000+AWRyXegyaJ7XX9x3Co+oEFL7/PwhWatdHBLtnyNh+Dk0\n",
     GL_EPARSE, 2, "log key is not a valid vkey: the key ID does not match the key"},
    {"log $C\nquorum none\n", GL_EKEYTYPE, 1, "type 0x01"},
    {"submitter $1\nquorum none\n", GL_EKEYTYPE, 1, "type 0x01"},
    {"witness a not+a+key\nquorum none\n", GL_EPARSE, 1, "not a valid vkey"},
    /* duplicates */
    {"log $L\nlog $L\nquorum none\n", GL_EPARSE, 2, "already used on line 1"},
    {"witness a $1\nwitness b $1\nquorum none\n", GL_EPARSE, 2, "already used on line 1"},
    {"witness a $E\nlog $E\nquorum none\n", GL_EPARSE, 2, "already used on line 1"},
    {"log $L\nsubmitter $L\nquorum none\n", GL_EPARSE, 2, "already used on line 1"},
    {"submitter $N\nsubmitter $N\nquorum none\n", GL_EPARSE, 2, "already used on line 1"},
    {"witness a $1\nwitness a $2\nquorum none\n", GL_EPARSE, 2,
     "\"a\" already defined on line 1"},
    {"witness a $1\ngroup a any a\nquorum none\n", GL_EPARSE, 2,
     "already defined on line 1"},
    {"witness none $1\nquorum none\n", GL_EPARSE, 1, "predefined"},
    {"witness a $1\ngroup none any a\nquorum none\n", GL_EPARSE, 2, "predefined"},
    /* groups */
    {"witness a $1\ngroup g\nquorum none\n", GL_EPARSE, 2, "expected: group"},
    {"witness a $1\ngroup g any\nquorum none\n", GL_EPARSE, 2, "expected: group"},
    {"witness a $1\ngroup g 0 a\nquorum none\n", GL_EPARSE, 2, "out of range 1..1"},
    {"witness a $1\nwitness b $2\ngroup g 3 a b\nquorum g\n", GL_EPARSE, 3,
     "out of range 1..2"},
    {"witness a $1\ngroup g 01 a\nquorum none\n", GL_EPARSE, 2, "leading zeros"},
    {"witness a $1\ngroup g -1 a\nquorum none\n", GL_EPARSE, 2, "threshold must be"},
    {"witness a $1\ngroup g one a\nquorum none\n", GL_EPARSE, 2, "threshold must be"},
    {"witness a $1\ngroup g ALL a\nquorum none\n", GL_EPARSE, 2, "threshold must be"},
    {"witness a $1\ngroup g 18446744073709551616 a\nquorum none\n", GL_EPARSE, 2,
     "threshold must be"},
    {"witness a $1\ngroup g any a b\nquorum none\n", GL_EPARSE, 2,
     "undefined name \"b\""},
    {"group g any a\nwitness a $1\nquorum g\n", GL_EPARSE, 1, "undefined name \"a\""},
    {"witness a $1\ngroup g any none\nquorum none\n", GL_EPARSE, 2,
     "cannot be a group member"},
    {"witness a $1\ngroup g any a a\nquorum none\n", GL_EPARSE, 2, "listed twice"},
    {"witness a $1\nwitness b $2\ngroup g any a\ngroup h any b a\nquorum none\n",
     GL_EPARSE, 4, "already a member of group g on line 3"},
    {"witness a $1\ngroup g any a\ngroup h any g\ngroup i any g\nquorum i\n", GL_EPARSE,
     4, "\"g\" is already a member of group h on line 3"},
    /* cycles cannot be written: the later name is undefined */
    {"witness a $1\ngroup g any a h\ngroup h any g\nquorum g\n", GL_EPARSE, 2,
     "undefined name \"h\""},
    {"witness a $1\ngroup g any g\nquorum g\n", GL_EPARSE, 2, "undefined name \"g\""},
    /* quorum */
    {"quorum x\n", GL_EPARSE, 1, "undefined name \"x\""},
    {"quorum a\nwitness a $1\n", GL_EPARSE, 1, "undefined name \"a\""},
    /* character set */
    {"quorum none\r\n", GL_EPARSE, 1, "carriage return"},
    {"log $L\nquorum\x01 none\n", GL_EPARSE, 2, "control character 0x01"},
    {"# comment with DEL \x7f\nquorum none\n", GL_EPARSE, 1, "control character 0x7f"},
    {"quorum none\n\x0b\n", GL_EPARSE, 2, "control character 0x0b"},
};

static void test_malformed(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        check_bad(bad_cases[i].tmpl, bad_cases[i].rc, bad_cases[i].line,
                  bad_cases[i].why);
}

static void test_nul_byte(void **state)
{
    static const char text[] = "quorum none\n#\0\n";

    (void)state;
    check_bad_text(text, sizeof(text) - 1, GL_EPARSE, 2, "control character 0x00");
}

/* Two keys with the same public key but different names are duplicates. */
static void test_same_pub_other_name(void **state)
{
    struct gl_verifier v;
    char other[VKEY_MAX], tmpl[2048];

    (void)state;
    assert_int_equal(gl_verifier_parse(k_w[0], strlen(k_w[0]), &v, NULL), 0);
    snprintf(v.name, sizeof(v.name), "renamed.example");
    v.id = gl_key_id(v.name, v.type, v.pub);
    format_verifier(&v, other);
    snprintf(tmpl, sizeof(tmpl), "witness a $1\nwitness b %s\nquorum none\n", other);
    check_bad(tmpl, GL_EPARSE, 2, "already used on line 1");
    /* ... also when one of them is the 0x01 form of the same key. */
    v.type = GL_KEY_NOTE;
    v.id = gl_key_id(v.name, v.type, v.pub);
    format_verifier(&v, other);
    snprintf(tmpl, sizeof(tmpl), "witness a $1\nwitness b %s\nquorum none\n", other);
    check_bad(tmpl, GL_EPARSE, 2, "already used on line 1");
}

static void test_size_caps(void **state)
{
    struct gl_buf b;
    char *t;

    (void)state;
    /* whole input */
    t = malloc(GL_POLICY_MAX_SIZE + 1);
    memset(t, '#', GL_POLICY_MAX_SIZE + 1);
    check_bad_text(t, GL_POLICY_MAX_SIZE + 1, GL_ETOOBIG, 0, "larger than");
    /* exactly the cap is fine: one long comment line, then the quorum */
    memcpy(t + GL_POLICY_MAX_SIZE - 13, "\nquorum none\n", 13);
    gl_policy_free(parse_text_ok(t, GL_POLICY_MAX_SIZE));
    free(t);
    /* name, URL */
    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_buf_printf(&b, "witness %0257d $1\nquorum none\n", 0), 0);
    check_bad((char *)b.data, GL_ETOOBIG, 1, "name longer than 256");
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, "witness %0256d $1\nquorum none\n", 0), 0);
    gl_policy_free(parse_ok((char *)b.data));
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, "log $L https://%01020d\nquorum none\n", 0), 0);
    check_bad((char *)b.data, GL_ETOOBIG, 1, "URL longer than 1024");
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_printf(&b, "log %0*d\nquorum none\n", GL_KEY_TEXT_MAX + 1, 0),
                     0);
    check_bad((char *)b.data, GL_ETOOBIG, 1, "log key longer than");
    /* a post-quantum key (ML-DSA-44 shaped, about 1,760 characters) is of a
     * type we do not know, as any other: GL_EKEYTYPE, not too long */
    {
        char pq[GL_KEY_TEXT_MAX];
        uint64_t seed = 3;
        assert_true(tu_foreign_vkey("pq.example/log", 0x06, 1312, &seed, pq, sizeof(pq)) >
                    1750);
        gl_buf_reset(&b);
        assert_int_equal(gl_buf_printf(&b, "log $L\nwitness w %s\nquorum w\n", pq), 0);
        check_bad((char *)b.data, GL_EKEYTYPE, 2, "unknown key type 0x06");
    }
    gl_buf_release(&b);
}

/* 256 witnesses in one 256-member group is fine; one more of either is not. */
static void test_count_caps(void **state)
{
    struct gl_buf b, g;
    struct gl_signer s;
    struct gl_verifier v;
    char vk[VKEY_MAX], name[32];
    struct gl_policy *p;
    size_t i;

    (void)state;
    gl_buf_init(&b, 1 << 20);
    gl_buf_init(&g, 1 << 20);
    assert_int_equal(gl_buf_append_str(&g, "group big all"), 0);
    for (i = 0; i < GL_POLICY_MAX_WITNESSES + 1; i++) {
        snprintf(name, sizeof(name), "w%zu", i);
        assert_int_equal(gl_signer_generate(name, GL_KEY_COSIG, &s), 0);
        gl_signer_verifier(&s, &v);
        gl_signer_wipe(&s);
        format_verifier(&v, vk);
        if (i == GL_POLICY_MAX_WITNESSES)
            break;
        assert_int_equal(gl_buf_printf(&b, "witness %s %s\n", name, vk), 0);
        assert_int_equal(gl_buf_printf(&g, " %s", name), 0);
    }
    assert_int_equal(gl_buf_printf(&b, "%s\nquorum big\n", (char *)g.data), 0);
    p = parse_text_ok((char *)b.data, b.len);
    assert_int_equal(gl_policy_group_at(p, 0)->nmembers, 256);
    assert_int_equal(decide(p, 0), GL_EQUORUM);
    gl_policy_free(p);
    /* a 257th witness */
    assert_int_equal(gl_buf_printf(&b, "witness %s %s\n", name, vk), 0);
    check_bad_text((char *)b.data, b.len, GL_ETOOBIG, 259, "more than 256 witnesses");
    /* a 257-member group */
    assert_int_equal(gl_buf_append_str(&g, " w0\nquorum none\n"), 0);
    check_bad_text((char *)g.data, g.len, GL_ETOOBIG, 1, "more than 256 group members");
    gl_buf_release(&b);
    gl_buf_release(&g);
}

static void test_free_null_and_einval(void **state)
{
    struct gl_policy *p = NULL;

    (void)state;
    gl_policy_free(NULL);
    assert_int_equal(gl_policy_parse(NULL, 1, &p, NULL), GL_EINVAL);
    assert_int_equal(gl_policy_parse("quorum none\n", 12, NULL, NULL), GL_EINVAL);
    /* err may be NULL */
    assert_int_equal(gl_policy_parse("quorum x\n", 9, &p, NULL), GL_EPARSE);
    assert_null(p);
    assert_int_equal(gl_policy_parse("quorum none\n", 12, &p, NULL), 0);
    gl_policy_free(p);
}

/* ---- describe and format ---- */

static void test_describe(void **state)
{
    struct gl_policy *p;
    char *d;

    (void)state;
    p = parse_ok("log $L\nwitness A $1\nwitness B $2\nwitness C $3\n"
                 "group g 2 A B C\nquorum g\n");
    d = describe(p);
    assert_string_equal(d, "log example.com/log; quorum: 2 of 3 witnesses: A, B, C");
    free(d);
    gl_policy_free(p);

    p = parse_ok(spec_example);
    d = describe(p);
    assert_string_equal(d, "log example.com/log; quorum: all 2 groups: "
                           "X-witnesses (2 of 3 witnesses: X1, X2, X3), "
                           "Y-witnesses (any of 3 witnesses: Y1, Y2, Y3)");
    free(d);
    gl_policy_free(p);

    p = parse_ok("quorum none\n");
    d = describe(p);
    assert_string_equal(d, "no logs; quorum: none (no cosignatures required)");
    free(d);
    gl_policy_free(p);

    p = parse_ok("log $L\nlog $N\nwitness A $1\nwitness B $2\ngroup one 1 A\n"
                 "group mix all one B\nsubmitter $M\nquorum mix\n");
    d = describe(p);
    assert_string_equal(d, "logs example.com/log, ci.example/release; quorum: "
                           "all 2 members: one (1 of 1 witness: A), B; "
                           "submitter ci.example/nightly");
    free(d);
    gl_policy_free(p);

    p = parse_ok("witness A $1\nquorum A\n");
    d = describe(p);
    assert_string_equal(d, "no logs; quorum: witness A");
    free(d);
    gl_policy_free(p);
}

static void test_describe_bounded(void **state)
{
    struct gl_policy *p = parse_ok(spec_example);
    struct gl_buf b;

    (void)state;
    gl_buf_init(&b, 40);
    assert_int_equal(gl_policy_describe(p, &b), GL_ETOOBIG);
    gl_buf_release(&b);
    gl_policy_free(p);
}

static char *format(const struct gl_policy *p, int flags)
{
    struct gl_buf b;
    uint8_t *s;

    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_policy_format(p, flags, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &s, NULL), 0);
    return (char *)s;
}

static void test_format_round_trip(void **state)
{
    struct gl_policy *p = parse_ok("# comment\nwitness Y $E  https://y/\n"
                                   "log $L https://log/\nsubmitter $N\n"
                                   "witness X $C\ngroup G any X Y\nquorum G\n"
                                   "group H all G\n");
    struct gl_policy *q;
    char *f1, *f2, *fp;
    char *want;

    (void)state;
    f1 = format(p, 0);
    q = parse_text_ok(f1, strlen(f1));
    f2 = format(q, 0);
    assert_string_equal(f1, f2);
    /* the 0x01 witness key is written in its 0x04 form */
    assert_int_equal(gl_policy_witness_at(p, 0)->converted, 1);
    assert_int_equal(gl_policy_witness_at(q, 0)->converted, 0);
    assert_int_equal(gl_policy_witness_at(q, 0)->key->id,
                     gl_policy_witness_at(p, 0)->key->id);
    want = expand("log $L https://log/\nwitness Y ");
    assert_memory_equal(f1, want, strlen(want));
    free(want);
    assert_non_null(strstr(f1, "\ngroup G any X Y\ngroup H all G\nquorum G\nsubmitter "));
    fp = format(p, GL_POLICY_FORMAT_PORTABLE);
    assert_null(strstr(fp, "submitter"));
    assert_non_null(strstr(fp, "quorum G\n"));
    free(fp);
    free(f1);
    free(f2);
    gl_policy_free(q);
    gl_policy_free(p);
    /* roles and requirements survive the round trip; portable drops them */
    p = parse_ok("require audit\nsubmitter $M rebuilder\nsubmitter $N builder\n"
                 "require rebuilds 1\nsubmitter $E auditor\nquorum none\n");
    f1 = format(p, 0);
    want = expand("quorum none\nsubmitter $M rebuilder\nsubmitter $N builder\n"
                  "submitter $E auditor\nrequire rebuilds 1\nrequire audit\n");
    assert_string_equal(f1, want);
    q = parse_text_ok(f1, strlen(f1));
    f2 = format(q, 0);
    assert_string_equal(f1, f2);
    fp = format(p, GL_POLICY_FORMAT_PORTABLE);
    assert_string_equal(fp, "quorum none\n");
    free(fp);
    free(want);
    free(f1);
    free(f2);
    gl_policy_free(q);
    gl_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quorum_none_only),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_whitespace_comments_urls),
        cmocka_unit_test(test_lines_after_quorum),
        cmocka_unit_test(test_names_are_opaque_octets),
        cmocka_unit_test(test_quorum_k_of_n),
        cmocka_unit_test(test_quorum_nested),
        cmocka_unit_test(test_quorum_single_and_none),
        cmocka_unit_test(test_quorum_time_nested_exhaustive),
        cmocka_unit_test(test_quorum_time_k_of_n),
        cmocka_unit_test(test_quorum_time_wide),
        cmocka_unit_test(test_witness_conversion_vectors),
        cmocka_unit_test(test_submitters),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_find_logs),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_same_pub_other_name),
        cmocka_unit_test(test_size_caps),
        cmocka_unit_test(test_count_caps),
        cmocka_unit_test(test_free_null_and_einval),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_bounded),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_mirrors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
