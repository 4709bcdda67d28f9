/*
 * test_statement: statements (specs/statement.md). Round trip sign -> parse
 * -> verify with fresh keys; format(parse(x)) == x; every malformed class
 * refused by the parser (texts are re-signed with a real key so that only
 * the grammar can be at fault); verification outcomes (unknown signer,
 * tampered text, wrong key types).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/note.h"
#include "glasslog/statement.h"

static struct gl_signer sub_a, sub_b, cosigner;
static struct gl_verifier ver[2];

static const char digest_hex[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

static const char good_text[] =
    "glasslog.dev/statement/v1\n"
    "kind build\n"
    "subject example.com/widget\n"
    "version 1.4.2\n"
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
    "time 1700000000\n"
    "meta builder ci.example.com runner 7\n"
    "meta git.commit 0d1c2b3a\n";

static int setup(void **state)
{
    (void)state;
    if (gl_signer_generate("ci.example/release", GL_KEY_NOTE, &sub_a) != 0 ||
        gl_signer_generate("ci.example/nightly", GL_KEY_NOTE, &sub_b) != 0 ||
        gl_signer_generate("witness.example", GL_KEY_COSIG, &cosigner) != 0)
        return -1;
    gl_signer_verifier(&sub_a, &ver[0]);
    gl_signer_verifier(&sub_b, &ver[1]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gl_signer_wipe(&sub_a);
    gl_signer_wipe(&sub_b);
    gl_signer_wipe(&cosigner);
    return 0;
}

static void base_fields(struct gl_statement_fields *f)
{
    memset(f, 0, sizeof(*f));
    f->kind = GL_STATEMENT_BUILD;
    f->subject = "example.com/widget";
    f->subject_len = strlen(f->subject);
    f->version = "1.4.2";
    f->version_len = strlen(f->version);
    assert_int_equal(gl_hex_decode_exact(digest_hex, 64, f->sha256, 32, 1), 0);
    f->time = 1700000000;
}

static void add_meta(struct gl_statement_fields *f, const char *k, const char *v)
{
    struct gl_statement_meta *m = &f->meta[f->nmeta++];
    m->key = k;
    m->key_len = strlen(k);
    m->value = v;
    m->value_len = strlen(v);
}

/* Signs arbitrary note text with signer (bypassing the statement rules);
 * returns a malloc'd note (caller frees). */
static char *sign_raw(const char *text, size_t n, const struct gl_signer *s, size_t *len)
{
    struct gl_buf b;
    uint8_t *out;

    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(text, n, s, 1, &b), 0);
    assert_int_equal(gl_buf_detach(&b, &out, len), 0);
    return (char *)out;
}

static int parse_signed_text(const char *text, size_t n, struct gl_err *why)
{
    struct gl_statement st;
    size_t len;
    char *msg;
    int rc;

    if (gl_note_text_check(text, n, NULL) != 0) {
        /* Not even note text: splice a real signature line after it. */
        char *good = sign_raw(good_text, strlen(good_text), &sub_a, &len);
        struct gl_buf b;
        gl_buf_init(&b, 1 << 20);
        assert_int_equal(gl_buf_append(&b, text, n), 0);
        assert_int_equal(
            gl_buf_append(&b, good + strlen(good_text), len - strlen(good_text)), 0);
        rc = gl_statement_parse((char *)b.data, b.len, &st, why);
        gl_buf_release(&b);
        free(good);
        return rc;
    }
    msg = sign_raw(text, n, &sub_a, &len);
    rc = gl_statement_parse(msg, len, &st, why);
    free(msg);
    return rc;
}

/* ---- round trips ---- */

static void test_sign_parse_verify(void **state)
{
    struct gl_statement_fields f;
    struct gl_statement st;
    struct gl_buf b, t;
    struct gl_err why = {7, "untouched"};
    size_t which = 99;

    (void)state;
    base_fields(&f);
    add_meta(&f, "git.commit", "0d1c2b3a");
    add_meta(&f, "builder", "ci.example.com runner 7"); /* unsorted input */
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &sub_b, &b, &why), 0);
    assert_int_equal(memcmp(b.data, good_text, strlen(good_text)), 0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, &why), 0);
    assert_int_equal(why.line, 7); /* success leaves why alone */
    assert_string_equal(why.reason, "untouched");
    assert_ptr_equal(st.msg, b.data);
    assert_int_equal(st.msg_len, b.len);
    assert_int_equal(st.text_len, strlen(good_text));
    assert_int_equal(st.fields.kind, GL_STATEMENT_BUILD);
    assert_int_equal(st.fields.subject_len, 18);
    assert_memory_equal(st.fields.subject, "example.com/widget", 18);
    assert_memory_equal(st.fields.version, "1.4.2", 5);
    assert_memory_equal(st.fields.sha256, f.sha256, 32);
    assert_int_equal(st.fields.time, 1700000000);
    assert_int_equal(st.fields.nmeta, 2);
    assert_memory_equal(st.fields.meta[0].key, "builder", 7);
    assert_int_equal(st.fields.meta[0].value_len, 23);
    assert_int_equal(st.sig.name_len, strlen(sub_b.name));
    assert_int_equal(st.sig.id, sub_b.id);
    assert_int_equal(st.sig.sig_len, 64);
    assert_int_equal(gl_statement_verify(&st, ver, 2, &which), 0);
    assert_int_equal(which, 1);
    assert_int_equal(gl_statement_verify(&st, &ver[1], 1, NULL), 0);
    /* format(parse(x)) == x */
    gl_buf_init(&t, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_format_text(&st.fields, &t, NULL), 0);
    assert_int_equal(t.len, st.text_len);
    assert_memory_equal(t.data, st.text, t.len);
    /* the general note layer agrees */
    {
        struct gl_note *n;
        assert_int_equal(gl_note_parse((char *)b.data, b.len, &n, NULL), 0);
        assert_int_equal(gl_note_verify(n, &ver[1], 1, NULL), 0);
        gl_note_free(n);
    }
    gl_buf_release(&t);
    gl_buf_release(&b);
}

static void test_signing_is_deterministic(void **state)
{
    struct gl_statement_fields f;
    struct gl_buf a, b;

    (void)state;
    base_fields(&f);
    gl_buf_init(&a, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &a, NULL), 0);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    gl_buf_release(&a);
    gl_buf_release(&b);
}

static void test_all_kinds_and_meta_forms(void **state)
{
    static const enum gl_statement_kind kinds[] = {
        GL_STATEMENT_BUILD, GL_STATEMENT_RULE_UPDATE, GL_STATEMENT_AUDIT_REPORT};
    struct gl_statement_fields f;
    struct gl_statement st;
    struct gl_buf b;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        base_fields(&f);
        f.kind = kinds[i];
        f.time = i == 2 ? (uint64_t)INT64_MAX : 1;
        add_meta(&f, "flag", ""); /* written "meta flag" */
        add_meta(&f, "a-b_c.9", "x ~ y");
        gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
        assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
        assert_non_null(strstr((char *)b.data, "\nmeta a-b_c.9 x ~ y\nmeta flag\n\n"));
        assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), 0);
        assert_int_equal(st.fields.kind, kinds[i]);
        assert_int_equal(st.fields.time, f.time);
        assert_int_equal(st.fields.meta[1].value_len, 0);
        assert_int_equal(gl_statement_verify(&st, ver, 2, NULL), 0);
        gl_buf_release(&b);
    }
}

static void test_kind_names(void **state)
{
    enum gl_statement_kind k;

    (void)state;
    assert_string_equal(gl_statement_kind_name(GL_STATEMENT_RULE_UPDATE), "rule-update");
    assert_null(gl_statement_kind_name((enum gl_statement_kind)0));
    assert_string_equal(gl_statement_kind_name(GL_STATEMENT_SOURCE), "source");
    assert_string_equal(gl_statement_kind_name(GL_STATEMENT_REBUILD), "rebuild");
    assert_null(gl_statement_kind_name((enum gl_statement_kind)6));
    assert_int_equal(gl_statement_kind_parse("rebuild", 7, &k), 0);
    assert_int_equal(k, GL_STATEMENT_REBUILD);
    assert_int_equal(gl_statement_kind_parse("audit-report", 12, &k), 0);
    assert_int_equal(k, GL_STATEMENT_AUDIT_REPORT);
    assert_int_equal(gl_statement_kind_parse("audit-repor", 11, &k), GL_EPARSE);
    assert_int_equal(gl_statement_kind_parse("Build", 5, &k), GL_EPARSE);
}

/* The largest statement the caps allow still fits the u16 framing. */
static void test_maximal_statement(void **state)
{
    static char subject[GL_STATEMENT_SUBJECT_MAX],
        keys[32][GL_STATEMENT_META_KEY_MAX + 1];
    static char value[GL_STATEMENT_META_VALUE_MAX + 1];
    struct gl_statement_fields f;
    struct gl_statement st;
    struct gl_signer big;
    char name[GL_KEY_NAME_MAX + 1];
    struct gl_verifier v;
    struct gl_buf b;
    size_t i;

    (void)state;
    memset(subject, '~', sizeof(subject));
    memset(name, 'n', GL_KEY_NAME_MAX);
    name[GL_KEY_NAME_MAX] = 0;
    memset(value, 'v', GL_STATEMENT_META_VALUE_MAX);
    base_fields(&f);
    f.subject = subject;
    f.subject_len = f.version_len = sizeof(subject);
    f.version = subject;
    f.time = (uint64_t)INT64_MAX;
    for (i = 0; i < GL_STATEMENT_META_MAX; i++) {
        memset(keys[i], 'a' + (char)(i % 26), GL_STATEMENT_META_KEY_MAX);
        keys[i][0] = (char)('0' + i / 10);
        keys[i][1] = (char)('0' + i % 10);
        add_meta(&f, keys[i], value);
    }
    assert_int_equal(gl_signer_generate(name, GL_KEY_NOTE, &big), 0);
    gl_signer_verifier(&big, &v);
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &big, &b, NULL), 0);
    assert_true(b.len <= GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), 0);
    assert_int_equal(st.fields.nmeta, 32);
    assert_int_equal(gl_statement_verify(&st, &v, 1, NULL), 0);
    gl_buf_release(&b);
    gl_signer_wipe(&big);
}

/* The example of specs/statement.md section 6 parses and verifies. */
static void test_spec_example(void **state)
{
    static const char note[] =
        "glasslog.dev/statement/v1\n"
        "kind build\n"
        "subject example.com/widget\n"
        "version 1.4.2\n"
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
        "time 1700000000\n"
        "meta builder ci.example.com runner 7\n"
        "meta git.commit 0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796\n"
        "\n"
        "\xe2\x80\x94 docs.example/ci lqevBMeZpt01sfVdH2FeOeBym/oFSqz8v3p0dWphGXXb"
        "izkmwy6XlWvdQMpKgNseGRTv79FKu+OPkEpCcTWD2Ih4JQM=\n";
    static const char vkey[] =
        "docs.example/ci+96a7af04+Aa+umgO7SmMAJFvEpx8xdclQvt6ivruUefWkWjQymSKl";
    struct gl_statement st;
    struct gl_verifier v;

    (void)state;
    assert_int_equal(gl_verifier_parse(vkey, strlen(vkey), &v, NULL), 0);
    assert_int_equal(gl_statement_parse(note, strlen(note), &st, NULL), 0);
    assert_int_equal(gl_statement_verify(&st, &v, 1, NULL), 0);
    assert_int_equal(st.fields.nmeta, 2);
}

/* ---- malformed statements ---- */

struct bad {
    const char *text;
    size_t line;     /* the line the refusal names */
    const char *why; /* substring of the reason */
};

#define H "glasslog.dev/statement/v1\n"
#define K "kind build\n"
#define S "subject s\n"
#define V "version 1\n"
#define D "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
#define T "time 1\n"

static const struct bad bad_texts[] = {
    /* header */
    {"glasslog.dev/statement/v3\n" K S V D T, 1, "first line"},
    {"glasslog.dev/statement/v\n" K S V D T, 1, "first line"},
    {"Glasslog.dev/statement/v1\n" K S V D T, 1, "first line"},
    {"glasslog.dev/statement/v1 \n" K S V D T, 1, "first line"},
    {K S V D T, 1, "first line"},
    /* missing and misplaced fields */
    {H S V D T, 2, "expected a \"kind <value>\" line"},
    {H K V D T, 3, "expected a \"subject <value>\" line"},
    {H K S D T, 4, "expected a \"version <value>\" line"},
    {H K S V T, 5, "expected a \"sha256 <value>\" line"},
    {H K S V D, 6, "missing time line"},
    {H K V S D T, 3, "expected a \"subject <value>\" line"},
    {H K S V T D, 5, "expected a \"sha256 <value>\" line"},
    {H K S V D T K, 7, "unexpected line after time"},
    {H K S V D T "foo bar\n", 7, "unexpected line after time"},
    {H K S V D T "metadata x y\n", 7, "unexpected line after time"},
    {H "kind  build\n" S V D T, 2, "kind is not"},
    {H "kind\n" S V D T, 2, "expected a \"kind <value>\" line"},
    /* kind */
    {H "kind Build\n" S V D T, 2, "kind is not"},
    {H "kind deploy\n" S V D T, 2, "kind is not"},
    {H "kind build \n" S V D T, 2, "kind is not"},
    /* subject and version */
    {H K "subject a b\n" V D T, 3, "subject is not"},
    {H K "subject  a\n" V D T, 3, "subject is not"},
    {H K "subject \n" V D T, 3, "subject is not"},
    {H K "subject a\t\n" V D T, 3, "not a signed note: control character 0x09"},
    {H K "subject caf\xc3\xa9\n" V D T, 3, "subject is not"},
    {H K S "version 1.0 beta\n" D T, 4, "version is not"},
    {H K S "version \n" D T, 4, "version is not"},
    /* digest */
    {H K S V
     "sha256 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n" T,
     5, "sha256 is not"},
    {H K S V "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0\n" T,
     5, "sha256 is not"},
    {H K S V
     "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a088\n" T,
     5, "sha256 is not"},
    {H K S V
     "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\n" T,
     5, "sha256 is not"},
    {H K S V "sha256 n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=\n" T, 5,
     "sha256 is not"},
    /* time */
    {H K S V D "time 0123\n", 6, "time is not"},
    {H K S V D "time 0\n", 6, "time is not"},
    {H K S V D "time 9223372036854775808\n", 6, "time is not"},
    {H K S V D "time 18446744073709551616\n", 6, "time is not"},
    {H K S V D "time -5\n", 6, "time is not"},
    {H K S V D "time +5\n", 6, "time is not"},
    {H K S V D "time 5 \n", 6, "time is not"},
    {H K S V D "time 1.5\n", 6, "time is not"},
    {H K S V D "time \n", 6, "time is not"},
    /* meta */
    {H K S V D T "meta B x\n", 7, "meta key"},
    {H K S V D T "meta a/b x\n", 7, "meta key"},
    {H K S V D T "meta  x\n", 7, "meta key"},
    {H K S V D T "meta \n", 7, "meta key"},
    {H K S V D T "meta k \n", 7, "meta value"},
    {H K S V D T "meta k  x\n", 7, "meta value"},
    {H K S V D T "meta k x \n", 7, "meta value"},
    {H K S V D T "meta k x  y\n", 7, "meta value"},
    {H K S V D T "meta k x\ty\n", 7, "not a signed note: control character 0x09"},
    {H K S V D T "meta k \xc3\xa9\n", 7, "meta value"},
    {H K S V D T "meta b x\nmeta a x\n", 8, "strictly ascending"},
    {H K S V D T "meta a x\nmeta a y\n", 8, "strictly ascending"},
    {H K S V D T "meta ab x\nmeta a x\n", 8, "strictly ascending"},
};

#define H2 "glasslog.dev/statement/v2\n"
#define X1 "1111111111111111111111111111111111111111111111111111111111111111"
#define X2 "2222222222222222222222222222222222222222222222222222222222222222"
#define SRC "source " X1 "\n"
#define AUD "audited " X1 "\naudited " X2 "\n"
#define SCOPE "scope full source review\n"

/* Version 2: kinds per version, the link lines each kind requires. */
static const struct bad bad_texts_v2[] = {
    /* new kinds need the v2 header */
    {H "kind source\n" S V D T, 2, "kind is not build, rule-update or audit-report"},
    {H "kind rebuild\n" S V D T SRC, 2, "kind is not build, rule-update or audit-report"},
    {H2 "kind deploy\n" S V D T, 2, "kind is not build, rule-update, audit-report"},
    /* v1 has no links */
    {H K S V D T SRC, 7, "unexpected line after time"},
    /* build, rule-update, rebuild: exactly one source line */
    {H2 K S V D T, 7, "missing source line"},
    {H2 "kind rebuild\n" S V D T "meta a b\n", 7, "expected a \"source <value>\" line"},
    {H2 K S V D T "source " X1 "0\n", 7, "source is not 64 lowercase hex"},
    {H2 K S V D T
     "source 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n",
     7, "source is not 64 lowercase hex"},
    {H2 K S V D T SRC SRC, 8, "unexpected line after time"},
    {H2 "kind rule-update\n" S V D SRC T, 6, "expected a \"time <value>\" line"},
    /* source: no links at all */
    {H2 "kind source\n" S V D T SRC, 7, "unexpected line after time"},
    {H2 "kind source\n" S V D T AUD SCOPE, 7, "unexpected line after time"},
    /* audit-report: 1..16 ascending audited lines, then one scope */
    {H2 "kind audit-report\n" S V D T SCOPE, 7, "expected a \"audited <value>\" line"},
    {H2 "kind audit-report\n" S V D T AUD, 9, "missing scope line"},
    {H2 "kind audit-report\n" S V D T "audited " X2 "\naudited " X1 "\n" SCOPE, 8,
     "strictly ascending"},
    {H2 "kind audit-report\n" S V D T "audited " X1 "\naudited " X1 "\n" SCOPE, 8,
     "strictly ascending"},
    {H2 "kind audit-report\n" S V D T AUD "scope \n", 9, "scope is not"},
    {H2 "kind audit-report\n" S V D T AUD "scope a  b\n", 9, "scope is not"},
    {H2 "kind audit-report\n" S V D T AUD "scope\n", 9,
     "expected a \"scope <value>\" line"},
    {H2 "kind audit-report\n" S V D T AUD SCOPE SCOPE, 10, "unexpected line after time"},
    {H2 "kind audit-report\n" S V D T SRC AUD SCOPE, 7, "expected a \"audited <value>\""},
};

static void test_malformed_v2(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_texts_v2) / sizeof(bad_texts_v2[0]); i++) {
        struct gl_err why = {0, ""};
        const struct bad *b = &bad_texts_v2[i];
        int rc = parse_signed_text(b->text, strlen(b->text), &why);
        if (rc != GL_EPARSE || why.line != b->line || strstr(why.reason, b->why) == NULL)
            fail_msg(
                "case %zu: want EPARSE at line %zu \"%s\", got %d at line %zu \"%s\"\n%s",
                i, b->line, b->why, rc, why.line, why.reason, b->text);
    }
}

/* 17 audited lines are one too many; 16 parse. */
static void test_audited_cap(void **state)
{
    char text[4096];
    struct gl_err why = {0, ""};
    size_t n, i;

    (void)state;
    for (int count = 16; count <= 17; count++) {
        n = (size_t)snprintf(text, sizeof(text), H2 "kind audit-report\n" S V D T);
        for (i = 0; i < (size_t)count; i++)
            n += (size_t)snprintf(text + n, sizeof(text) - n, "audited %062zx%02zx\n",
                                  (size_t)0, i);
        n += (size_t)snprintf(text + n, sizeof(text) - n, SCOPE);
        if (count == 16) {
            assert_int_equal(parse_signed_text(text, n, &why), 0);
        } else {
            assert_int_equal(parse_signed_text(text, n, &why), GL_EPARSE);
            assert_int_equal(why.line, 7 + 16);
            assert_non_null(strstr(why.reason, "more than 16 audited"));
        }
    }
}

/* Each v2 kind signs, parses back to the same fields and formats back to
 * the same text; v1 fields (format 0 or 1) still give a v1 text. */
static void test_v2_round_trips(void **state)
{
    static const char want_audit[] =
        H2 "kind audit-report\n"
           "subject example.com/widget\n"
           "version 1.4.2\n"
           "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
           "time 1700000000\n" AUD SCOPE "meta firm audits.example\n";
    static const enum gl_statement_kind kinds[] = {
        GL_STATEMENT_SOURCE, GL_STATEMENT_BUILD, GL_STATEMENT_RULE_UPDATE,
        GL_STATEMENT_REBUILD, GL_STATEMENT_AUDIT_REPORT};
    struct gl_statement_fields f;
    struct gl_statement st;
    struct gl_buf b, t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        base_fields(&f);
        f.format = 2;
        f.kind = kinds[i];
        memset(f.source, 0x11, 32);
        if (f.kind == GL_STATEMENT_AUDIT_REPORT) {
            f.naudited = 2;
            memset(f.audited[0], 0x11, 32);
            memset(f.audited[1], 0x22, 32);
            f.scope = "full source review";
            f.scope_len = strlen(f.scope);
            add_meta(&f, "firm", "audits.example");
        }
        gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
        assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
        assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), 0);
        assert_int_equal(st.fields.format, 2);
        assert_int_equal(st.fields.kind, kinds[i]);
        assert_memory_equal(b.data, H2, strlen(H2));
        assert_int_equal(gl_statement_has_source(&st.fields),
                         f.kind == GL_STATEMENT_BUILD ||
                             f.kind == GL_STATEMENT_RULE_UPDATE ||
                             f.kind == GL_STATEMENT_REBUILD);
        /* 0x11 is the source and the first audited digest; 0x22 the
         * second audited one; 0x33 neither */
        {
            uint8_t x[3][32];
            memset(x[0], 0x11, 32);
            memset(x[1], 0x22, 32);
            memset(x[2], 0x33, 32);
            assert_int_equal(gl_statement_links_source(&st.fields, x[0]),
                             f.kind != GL_STATEMENT_SOURCE);
            assert_int_equal(gl_statement_links_source(&st.fields, x[1]),
                             f.kind == GL_STATEMENT_AUDIT_REPORT);
            assert_int_equal(gl_statement_links_source(&st.fields, x[2]), 0);
        }
        if (gl_statement_has_source(&st.fields))
            assert_memory_equal(st.fields.source, f.source, 32);
        else
            assert_null(strstr((char *)b.data, "\nsource "));
        if (f.kind == GL_STATEMENT_AUDIT_REPORT) {
            assert_memory_equal(b.data, want_audit, strlen(want_audit));
            assert_int_equal(st.fields.naudited, 2);
            assert_memory_equal(st.fields.audited[1], f.audited[1], 32);
            assert_int_equal(st.fields.scope_len, 18);
            assert_memory_equal(st.fields.scope, "full source review", 18);
        }
        gl_buf_init(&t, GL_STATEMENT_MAX_SIZE);
        assert_int_equal(gl_statement_format_text(&st.fields, &t, NULL), 0);
        assert_int_equal(t.len, st.text_len);
        assert_memory_equal(t.data, st.text, t.len);
        gl_buf_release(&t);
        gl_buf_release(&b);
    }
    /* format 1 (and 0) refuse the new kinds and write v1 */
    base_fields(&f);
    f.kind = GL_STATEMENT_SOURCE;
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_EPARSE);
    f.kind = GL_STATEMENT_BUILD;
    f.format = 1;
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
    assert_memory_equal(b.data, H, strlen(H));
    assert_null(strstr((char *)b.data, "source "));
    gl_buf_release(&b);
    /* the formatter checks the links as the parser does */
    base_fields(&f);
    f.format = 2;
    f.kind = GL_STATEMENT_AUDIT_REPORT;
    f.scope = "x";
    f.scope_len = 1;
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_EPARSE); /* 0 audited */
    f.naudited = 2;
    memset(f.audited[0], 0x22, 32);
    memset(f.audited[1], 0x11, 32);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_EPARSE); /* order */
    memset(f.audited[0], 0x01, 32);
    f.scope_len = 0;
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_EPARSE); /* no scope */
    f.format = 3;
    f.scope_len = 1;
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_EPARSE);
    f.format = 2;
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
    assert_int_equal(b.len > 0, 1);
    gl_buf_release(&b);
}

static void test_malformed_texts(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
        struct gl_err why = {0, ""};
        int rc = parse_signed_text(bad_texts[i].text, strlen(bad_texts[i].text), &why);
        if (rc != GL_EPARSE || why.line != bad_texts[i].line ||
            strstr(why.reason, bad_texts[i].why) == NULL)
            fail_msg(
                "case %zu: want EPARSE at line %zu \"%s\", got %d at line %zu \"%s\"\n%s",
                i, bad_texts[i].line, bad_texts[i].why, rc, why.line, why.reason,
                bad_texts[i].text);
    }
    /* and the same skeleton, well formed, parses */
    assert_int_equal(parse_signed_text(H K S V D T, strlen(H K S V D T), NULL), 0);
    assert_int_equal(parse_signed_text(H K S V D T "meta a x\nmeta ab x\nmeta b\n",
                                       strlen(H K S V D T) + 26, NULL),
                     0);
}

static void test_long_fields(void **state)
{
    char text[2048];
    int n;

    (void)state;
    n = snprintf(text, sizeof(text), H K "subject %0256d\n" V D T, 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), 0);
    n = snprintf(text, sizeof(text), H K "subject %0257d\n" V D T, 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), GL_EPARSE);
    n = snprintf(text, sizeof(text), H K S "version %0257d\n" D T, 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), GL_EPARSE);
    n = snprintf(text, sizeof(text), H K S V D T "meta %064d x\n", 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), 0);
    n = snprintf(text, sizeof(text), H K S V D T "meta %065d x\n", 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), GL_EPARSE);
    n = snprintf(text, sizeof(text), H K S V D T "meta k %01024d\n", 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), 0);
    n = snprintf(text, sizeof(text), H K S V D T "meta k %01025d\n", 0);
    assert_int_equal(parse_signed_text(text, (size_t)n, NULL), GL_EPARSE);
}

static void test_too_many_meta(void **state)
{
    struct gl_buf b;
    struct gl_err why;
    size_t i;

    (void)state;
    gl_buf_init(&b, 1 << 20);
    assert_int_equal(gl_buf_append_str(&b, H K S V D T), 0);
    for (i = 0; i < GL_STATEMENT_META_MAX; i++)
        assert_int_equal(gl_buf_printf(&b, "meta k%02zu v\n", i), 0);
    assert_int_equal(parse_signed_text((char *)b.data, b.len, NULL), 0);
    assert_int_equal(gl_buf_append_str(&b, "meta k99 v\n"), 0);
    assert_int_equal(parse_signed_text((char *)b.data, b.len, &why), GL_EPARSE);
    assert_string_equal(why.reason, "more than 32 meta lines");
    assert_int_equal(why.line, 7 + GL_STATEMENT_META_MAX);
    gl_buf_release(&b);
}

/* Line endings and control bytes: refused by the note layer (CR, C0 controls)
 * or by the field rules (DEL), always with a reason and a line. */
static void test_crlf_and_controls(void **state)
{
    static const char *texts[] = {
        "glasslog.dev/statement/v1\r\n" K S V D T,
        H K S V D "time 1\r\n",
        H K "subject a\x01"
            "b\n" V D T,
        H K "subject a\x7f"
            "b\n" V D T,
        H K S V D T "meta k a\x1b[31m\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct gl_err why = {0, ""};
        assert_int_equal(parse_signed_text(texts[i], strlen(texts[i]), &why), GL_EPARSE);
        assert_true(why.reason[0] != 0);
        assert_true(why.line >= 1 && why.line <= 7);
    }
}

static void test_signature_lines(void **state)
{
    struct gl_statement st;
    struct gl_signer two[2];
    struct gl_buf b;
    struct gl_err why;
    uint8_t sig72[72] = {0};
    size_t len;
    char *msg;

    (void)state;
    /* two signature lines, even both by known keys */
    two[0] = sub_a;
    two[1] = sub_b;
    gl_buf_init(&b, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_note_sign(good_text, strlen(good_text), two, 2, &b), 0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, &why), GL_EPARSE);
    assert_string_equal(why.reason, "a statement has exactly one signature line, not 2");
    gl_signer_wipe(&two[0]);
    gl_signer_wipe(&two[1]);
    /* a cosignature-shaped (72-byte) signature blob */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_str(&b, good_text), 0);
    assert_int_equal(gl_buf_putc(&b, '\n'), 0);
    assert_int_equal(gl_note_format_sig("witness.example", cosigner.id, sig72, 72, &b),
                     0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, &why), GL_EPARSE);
    assert_string_equal(why.reason,
                        "the signature is not an Ed25519 note signature (64 bytes)");
    assert_int_equal(why.line, 10); /* 8 lines of text, the blank line, the signature */
    /* no signature at all */
    assert_int_equal(gl_statement_parse(good_text, strlen(good_text), &st, &why),
                     GL_EPARSE);
    assert_string_equal(
        why.reason,
        "not a signed note: no blank line between the text and the signatures");
    assert_int_equal(why.line, 0);
    /* a text line after the signature */
    msg = sign_raw(good_text, strlen(good_text), &sub_a, &len);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, len), 0);
    assert_int_equal(gl_buf_append_str(&b, "meta z z\n"), 0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), GL_EPARSE);
    /* an empty line inside the text */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_str(&b, H K S V D T "\n"), 0);
    assert_int_equal(gl_buf_append(&b, msg + strlen(good_text), len - strlen(good_text)),
                     0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), GL_EPARSE);
    /* one spelling only: a padding bit set in the signature's base64 (a
     * general note reader takes the same bytes) or a key name no key of
     * ours can have (DEL) */
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append(&b, msg, len), 0);
    assert_int_equal(memcmp(b.data + b.len - 2, "=\n", 2), 0);
    {
        static const char a[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *c = strchr(a, b.data[b.len - 3]);
        assert_non_null(c);
        b.data[b.len - 3] = (uint8_t)a[(c - a) | 1]; /* an unused bit */
    }
    {
        struct gl_note *note;
        assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
        assert_int_equal(note->sigs[0].canonical, 0);
        gl_note_free(note);
    }
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, &why), GL_EPARSE);
    assert_string_equal(why.reason,
                        "the signature line is not in canonical form (key name, base64)");
    assert_int_equal(why.line, 10);
    gl_buf_reset(&b);
    assert_int_equal(gl_buf_append_str(&b, good_text), 0);
    assert_int_equal(gl_buf_append_str(&b, "\n\xe2\x80\x94 a\x7f"
                                           "b "),
                     0);
    for (int i = 0; i < 91; i++)
        assert_int_equal(gl_buf_putc(&b, 'A'), 0);
    assert_int_equal(gl_buf_append_str(&b, "=\n"), 0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, &why), GL_EPARSE);
    assert_string_equal(why.reason,
                        "the signature line is not in canonical form (key name, base64)");
    free(msg);
    gl_buf_release(&b);
}

static void test_oversize(void **state)
{
    struct gl_statement st;
    struct gl_err why;
    char *big = malloc(GL_STATEMENT_MAX_SIZE + 1);

    (void)state;
    memset(big, 'a', GL_STATEMENT_MAX_SIZE + 1);
    assert_int_equal(gl_statement_parse(big, GL_STATEMENT_MAX_SIZE + 1, &st, &why),
                     GL_ETOOBIG);
    assert_string_equal(why.reason, "statement larger than 65535 bytes");
    assert_int_equal(why.line, 0);
    assert_int_equal(gl_statement_parse(big, GL_STATEMENT_MAX_SIZE, &st, NULL),
                     GL_EPARSE);
    free(big);
}

/* ---- verification ---- */

static void test_verify_outcomes(void **state)
{
    struct gl_statement_fields f;
    struct gl_statement st;
    struct gl_verifier mixed[2], same_name;
    struct gl_signer other;
    struct gl_buf b;
    char *p;

    (void)state;
    base_fields(&f);
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), 0);
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), 0);
    /* unknown signer */
    assert_int_equal(gl_statement_verify(&st, &ver[1], 1, NULL), GL_ENOKEY);
    assert_int_equal(gl_statement_verify(&st, NULL, 0, NULL), GL_ENOKEY);
    /* same name, other key: the ID differs, so still unknown */
    assert_int_equal(gl_signer_generate(sub_a.name, GL_KEY_NOTE, &other), 0);
    gl_signer_verifier(&other, &same_name);
    gl_signer_wipe(&other);
    assert_int_equal(gl_statement_verify(&st, &same_name, 1, NULL), GL_ENOKEY);
    /* a cosignature key in the submitter list is a caller bug */
    mixed[0] = ver[0];
    gl_signer_verifier(&cosigner, &mixed[1]);
    assert_int_equal(gl_statement_verify(&st, mixed, 2, NULL), GL_EKEYTYPE);
    /* tampered text, still well formed */
    p = strstr((char *)b.data, "widget");
    p[0] = 'W';
    assert_int_equal(gl_statement_parse((char *)b.data, b.len, &st, NULL), 0);
    assert_int_equal(gl_statement_verify(&st, ver, 2, NULL), GL_EVERIFY);
    gl_buf_release(&b);
}

static void test_sign_refusals(void **state)
{
    struct gl_statement_fields f;
    struct gl_buf b;
    struct gl_err why;

    (void)state;
    base_fields(&f);
    gl_buf_init(&b, GL_STATEMENT_MAX_SIZE);
    assert_int_equal(gl_buf_append_str(&b, "keep"), 0);
    /* a cosignature key never signs statements */
    assert_int_equal(gl_statement_sign(&f, &cosigner, &b, NULL), GL_EKEYTYPE);
    /* invalid fields, out untouched */
    f.subject = "two words";
    f.subject_len = 9;
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "subject"));
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    f.time = 0;
    assert_int_equal(gl_statement_format_text(&f, &b, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "time"));
    f.time = (uint64_t)INT64_MAX + 1;
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    f.kind = (enum gl_statement_kind)9;
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    f.subject = NULL;
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    add_meta(&f, "k", "v");
    add_meta(&f, "k", "w");
    assert_int_equal(gl_statement_format_text(&f, &b, &why), GL_EPARSE);
    assert_string_equal(why.reason, "duplicate meta key");
    base_fields(&f);
    add_meta(&f, "K", "v");
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    add_meta(&f, "k", " v");
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    base_fields(&f);
    f.nmeta = GL_STATEMENT_META_MAX + 1;
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_EPARSE);
    assert_int_equal(b.len, 4);
    gl_buf_release(&b);
    /* out's own max */
    base_fields(&f);
    gl_buf_init(&b, 100);
    assert_int_equal(gl_statement_format_text(&f, &b, NULL), GL_ETOOBIG);
    assert_int_equal(gl_statement_sign(&f, &sub_a, &b, NULL), GL_ETOOBIG);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
}

static void test_einval(void **state)
{
    struct gl_statement st;
    struct gl_statement_fields f;

    (void)state;
    memset(&st, 0, sizeof(st));
    base_fields(&f);
    assert_int_equal(gl_statement_parse(NULL, 0, &st, NULL), GL_EINVAL);
    assert_int_equal(gl_statement_parse("x", 1, NULL, NULL), GL_EINVAL);
    assert_int_equal(gl_statement_verify(&st, ver, 2, NULL), GL_EINVAL);
    assert_int_equal(gl_statement_verify(NULL, ver, 2, NULL), GL_EINVAL);
    assert_int_equal(gl_statement_format_text(&f, NULL, NULL), GL_EINVAL);
    assert_int_equal(gl_statement_sign(&f, NULL, NULL, NULL), GL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_parse_verify),
        cmocka_unit_test(test_signing_is_deterministic),
        cmocka_unit_test(test_all_kinds_and_meta_forms),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_maximal_statement),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_malformed_texts),
        cmocka_unit_test(test_malformed_v2),
        cmocka_unit_test(test_audited_cap),
        cmocka_unit_test(test_v2_round_trips),
        cmocka_unit_test(test_long_fields),
        cmocka_unit_test(test_too_many_meta),
        cmocka_unit_test(test_crlf_and_controls),
        cmocka_unit_test(test_signature_lines),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_verify_outcomes),
        cmocka_unit_test(test_sign_refusals),
        cmocka_unit_test(test_einval),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
