/*
 * test_witness_logs: the witness's configuration files: the log list
 * (logs/v0 with vkey/origin/qpd/contact/bastion/url lines, comments,
 * unknown keywords skipped, one origin with two keys merged, lookups by
 * origin and by origin hash; a list in the published witness-network shape
 * with comments before the header and indented lines; qpd limited to 1 ..
 * 2^31 - 1; a list of LOGS_MAX logs given twice, merged, and the caps;
 * logs, witness lines and peers with post-quantum keys skipped)
 * and the peer list (tlog-policy witness lines, a 0x01 key
 * converted and flagged; a whole policy file: runs of spaces and tabs,
 * mirror and require lines skipped, a witness without a url skipped and
 * counted), and their errors with line numbers.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../witness/logs.h"
#include "../../witness/peers.h"
#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"

static int parse(const char *text, struct logs_list *l, struct gl_err *why)
{
    return logs_parse(text, strlen(text), l, why);
}

static void test_logs(void **state)
{
    char a[256], b[256], a2[256], text[4096];
    struct logs_list l;
    struct gl_err why;
    size_t i;
    uint8_t h[32];
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("b.example/log", GL_KEY_NOTE, b, sizeof(b));
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a2, sizeof(a2));
    snprintf(text, sizeof(text),
             "logs/v0\n# comment\n\nvkey %s\ncontact ops@b.example\nqpd 86400\nurl "
             "http://127.0.0.1:8080/\nfuture-keyword x\nvkey %s\nbastion b.example\n"
             "vkey %s\norigin custom origin\n",
             b, a, a2);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.unknown, 1);
    /* sorted by origin */
    assert_string_equal(l.v[0].origin, "a.example/log");
    assert_string_equal(l.v[1].origin, "b.example/log");
    assert_string_equal(l.v[2].origin, "custom origin");
    assert_true(l.v[1].qpd == 86400);
    assert_string_equal(l.v[1].url, "http://127.0.0.1:8080");
    assert_int_equal(logs_find(&l, "b.example/log", 13, &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(logs_find(&l, "b.example/lo", 12, &i), GL_ENOTFOUND);
    assert_int_equal(logs_find(&l, "b.example/logs", 14, &i), GL_ENOTFOUND);
    assert_int_equal(logs_find(&l, "0", 1, &i), GL_ENOTFOUND);
    assert_int_equal(logs_find(&l, "z", 1, &i), GL_ENOTFOUND);
    assert_int_equal(gl_sha256("custom origin", 13, h), 0);
    assert_int_equal(logs_find_hash(&l, h, &i), 0);
    assert_int_equal(i, 2);
    assert_int_equal(gl_sha256("custom origi", 12, h), 0);
    assert_int_equal(logs_find_hash(&l, h, &i), GL_ENOTFOUND);
    logs_release(&l);
    /* one origin, two keys: merged */
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nvkey %s\nqpd 5\n", a, a2);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].nkeys, 2);
    assert_true(l.v[0].qpd == 5);
    logs_release(&l);
    /* one origin, keys of two names: refused (evidence of a split names
     * one signer), whichever comes first */
    snprintf(text, sizeof(text),
             "logs/v0\nvkey %s\norigin o.example\nvkey %s\norigin o.example\n", a, b);
    assert_int_equal(parse(text, &l, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "one name"));
    logs_release(&l);
    snprintf(text, sizeof(text),
             "logs/v0\nvkey %s\norigin o.example\nvkey %s\norigin o.example\n", b, a);
    assert_int_equal(parse(text, &l, &why), GL_EPARSE);
    logs_release(&l);
    /* a log whose key is of a type we do not know, and not 32 bytes long
     * (ECDSA's 0x02), is skipped with its lines, not the whole list refused */
    snprintf(
        text, sizeof(text),
        "logs/v0\nvkey ecdsa.example/log+01020304+AgQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA"
        "QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA==\nqpd 7\nvkey %s\n",
        b);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.skipped, 1);
    assert_string_equal(l.v[0].origin, "b.example/log");
    logs_release(&l);
    /* no log at all: nothing found */
    assert_int_equal(parse("logs/v0\n", &l, &why), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(logs_find(&l, "b.example/log", 13, &i), GL_ENOTFOUND);
    assert_int_equal(logs_find_hash(&l, h, &i), GL_ENOTFOUND);
    logs_release(&l);
}

/* Post-quantum keys as other logs and witnesses publish them (ML-DSA-44
 * shaped: type 0x06, 1312 bytes, about 1,760 characters; ML-DSA-87: 2592
 * bytes) are longer than any Ed25519 key line: a log or a mirror's witness
 * line with one is skipped and counted, the other entries loaded. */
static void test_logs_pq_keys(void **state)
{
    char a[256], w[256], pq[GL_KEY_TEXT_MAX], pq87[GL_KEY_TEXT_MAX], ed[GL_KEY_TEXT_MAX],
        longname[301], text[4 * GL_KEY_TEXT_MAX];
    struct logs_list l;
    struct peers_list p;
    struct gl_err why;
    uint64_t seed = 1;
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    assert_true(tu_foreign_vkey("pq.example/log", 0x06, 1312, &seed, pq, sizeof(pq)) >
                1750);
    tu_foreign_vkey("pq87.example/w", 0x07, 2592, &seed, pq87, sizeof(pq87));
    /* an Ed25519 key whose name Go accepts but glasslog cannot hold (300
     * bytes): skipped as well, not fatal to the list */
    memset(longname, 'n', 300);
    longname[300] = 0;
    tu_foreign_vkey(longname, GL_KEY_NOTE, 32, &seed, ed, sizeof(ed));
    snprintf(
        text, sizeof(text),
        "logs/v0\nvkey %s\nqpd 7\nurl http://127.0.0.1:1/\nvkey %s\nvkey %s\nmirror\n"
        "witness %s\nwitness %s\n",
        pq, ed, a, pq87, w);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.skipped, 2);
    assert_int_equal(l.skipped_witnesses, 1);
    assert_string_equal(l.v[0].origin, "a.example/log");
    assert_int_equal(l.v[0].nwitnesses, 1);
    assert_string_equal(l.v[0].witnesses[0].name, "w.example");
    logs_release(&l);
    /* the peer list (tlog-policy witness lines): that peer skipped */
    snprintf(text, sizeof(text),
             "log %s\nwitness pq %s https://pq.example/\nwitness w1 %s "
             "http://127.0.0.1:1/\nquorum w1\n",
             pq, pq87, w);
    assert_int_equal(peers_parse(text, strlen(text), &p, &why), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.skipped, 1);
    assert_string_equal(p.v[0].name, "w1");
    peers_release(&p);
}

static void test_logs_errors(void **state)
{
    char a[256], w[256], text[1024];
    struct logs_list l;
    struct gl_err why;
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    tu_expect_why(parse("", &l, &why), &why, GL_EPARSE, 0, "no \"logs/v0\" line");
    logs_release(&l);
    tu_expect_why(parse("# c\n\n", &l, &why), &why, GL_EPARSE, 2, "no \"logs/v0\" line");
    logs_release(&l);
    tu_expect_why(parse("logs/v1\n", &l, &why), &why, GL_EPARSE, 1,
                  "must be \"logs/v0\"");
    logs_release(&l);
    tu_expect_why(parse("logs/v0\nqpd 5\n", &l, &why), &why, GL_EPARSE, 2,
                  "a log attribute before any vkey line");
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nurl ftp://x\n", a);
    tu_expect_why(parse(text, &l, &why), &why, GL_EPARSE, 3,
                  "repeated or invalid url (http:// or https://)");
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n\n  qpd -1\n", a);
    tu_expect_why(parse(text, &l, &why), &why, GL_EPARSE, 4, "qpd must be a decimal");
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", w);
    tu_expect_why(parse(text, &l, &why), &why, GL_EPARSE, 2,
                  "a log key must be a note key (type 0x01)");
    logs_release(&l);
    tu_expect_why(parse("logs/v0\nvkey junk\n", &l, &why), &why, GL_EPARSE, 2,
                  "malformed vkey: not a key");
    logs_release(&l);
}

/* witness lines: cosigner keys of a mirrored log, 0x01 keys read as 0x04,
 * merged and deduplicated across a key rotation; refused without mirror. */
static void test_logs_witnesses(void **state)
{
    char a[256], a2[256], w1[256], w2n[256], text[4096];
    struct logs_list l;
    struct gl_err why;
    struct gl_verifier v, c;
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a2, sizeof(a2));
    tu_gen_vkey("w1.example", GL_KEY_COSIG, w1, sizeof(w1));
    tu_gen_vkey("w2.example", GL_KEY_NOTE, w2n, sizeof(w2n));
    snprintf(text, sizeof(text),
             "logs/v0\nvkey %s\nwitness %s\nmirror\nwitness %s\nvkey %s\nwitness %s\n", a,
             w1, w2n, a2, w1);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 1);
    assert_true(l.v[0].mirror);
    assert_int_equal(l.v[0].nwitnesses, 2);
    assert_int_equal(gl_verifier_parse(w1, strlen(w1), &v, NULL), 0);
    assert_memory_equal(&l.v[0].witnesses[0], &v, sizeof v);
    assert_int_equal(gl_verifier_parse(w2n, strlen(w2n), &v, NULL), 0);
    assert_int_equal(gl_verifier_to_cosig(&v, &c, NULL), 0);
    assert_int_equal(l.v[0].witnesses[1].type, GL_KEY_COSIG);
    assert_true(l.v[0].witnesses[1].id == c.id);
    assert_memory_equal(l.v[0].witnesses[1].pub, c.pub, sizeof c.pub);
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nwitness %s\n", a, w1);
    tu_expect_why(parse(text, &l, &why), &why, GL_EPARSE, 3,
                  "witness lines of a.example/log without a mirror line");
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nmirror\nwitness junk\n", a);
    tu_expect_why(parse(text, &l, &why), &why, GL_EPARSE, 4,
                  "witness: not a cosigner verifier key");
    logs_release(&l);
}

/* The fixture in the shape of the published witness-network lists loads
 * every log with its origin, key and qpd. */
static void test_logs_published(void **state)
{
    static const struct {
        const char *origin, *vkey;
        uint64_t qpd;
    } want[] = {
        {"arche2099h1.staging.ct.example.org",
         "arche2099h1.staging.ct.example.org+50fa9183+ARcH+"
         "qo6brOHtJTCEVwplvLE38rN06Ze8pAft"
         "STSZiii",
         86400},
        {"sigsum.org/v1/tree/"
         "f8aedeb048ae3e51aea8828b62b2da34b02a4d63444679fb2712dbd3da7181cd",
         "sigsum.org/v1/tree/"
         "f8aedeb048ae3e51aea8828b62b2da34b02a4d63444679fb2712dbd3da7181cd"
         "+a9ad0f5f+AUwgJsy8ERiZXLHUuB9w9bRYrbnNXIeksE6kbP5tqCG9",
         8640},
        {"something-not-equal-to-vkey-keyname",
         "example.com/"
         "witnessed-log+122cbf4f+AXKPPdnGN3NvxyTl9x9RifQGSQjZtsMvWxvsX940ISg5",
         24},
        {"log2099-alpha1.rekor.example.dev",
         "log2099-alpha1.rekor.example.dev+66fbf170+AR+XGtJ8Qdgj9mdoY+"
         "Q7uzfDy70Kttw15xlpDJ+wz"
         "+4u",
         86400},
        {"keyserver.example.net",
         "keyserver.example.net+d96fca67+Ab+6XZnRVn2GvBRd67smDmHQFle7bahaqj8Zv3SCU8kT",
         1440},
    };
    struct logs_list l;
    struct gl_verifier v;
    struct gl_err why;
    size_t n, i;
    char *text = tu_read_file("tests/unit/fixtures/witness-network.logs", &n);
    (void)state;
    if (text == NULL)
        fail_msg("cannot read tests/unit/fixtures/witness-network.logs (run from the "
                 "repository root)");
    assert_int_equal(logs_parse(text, n, &l, &why), 0);
    assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
    assert_int_equal(l.unknown, 0);
    assert_int_equal(l.skipped, 0);
    for (size_t k = 0; k < l.n; k++) {
        assert_int_equal(logs_find(&l, want[k].origin, strlen(want[k].origin), &i), 0);
        assert_int_equal(gl_verifier_parse(want[k].vkey, strlen(want[k].vkey), &v, NULL),
                         0);
        assert_int_equal(l.v[i].nkeys, 1);
        assert_string_equal(l.v[i].keys[0].name, v.name);
        assert_true(l.v[i].keys[0].id == v.id);
        assert_memory_equal(l.v[i].keys[0].pub, v.pub, sizeof(v.pub));
        assert_true(l.v[i].qpd == want[k].qpd);
        assert_string_equal(l.v[i].url, "");
    }
    logs_release(&l);
    free(text);
}

/* Lines are trimmed at both ends; comments and blank lines may come before
 * the header; qpd is 1 to 2^31 - 1, anything else names its line. */
static void test_logs_format(void **state)
{
    char a[256], b[256], text[2048];
    struct logs_list l;
    struct gl_err why;
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("b.example/log", GL_KEY_NOTE, b, sizeof(b));
    snprintf(text, sizeof(text),
             "  # leading comment\n\n\t\n  logs/v0 \t\n\tvkey %s\n  qpd 2147483647\t\r\n"
             "\t# indented comment\n   vkey %s  \n\torigin b origin\n",
             a, b);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].origin, "a.example/log");
    assert_true(l.v[0].qpd == 2147483647);
    assert_string_equal(l.v[1].origin, "b origin");
    assert_true(l.v[1].qpd == 0); /* no qpd line: no limit */
    logs_release(&l);
    /* the first line that is not a comment must be the header */
    snprintf(text, sizeof(text), "# list\n\nvkey %s\nlogs/v0\n", a);
    assert_int_equal(parse(text, &l, &why), GL_EPARSE);
    assert_int_equal(why.line, 3);
    logs_release(&l);
    assert_int_equal(parse("# only comments\n\n", &l, &why), GL_EPARSE);
    logs_release(&l);
    /* qpd out of range or not canonical */
    static const char *const bad[] = {"0",          "2147483648", "01", "+5",
                                      "4294967296", "1e3",        ""};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        snprintf(text, sizeof(text), "# c\nlogs/v0\nvkey %s\ncontact x\nqpd %s\n", a,
                 bad[k]);
        assert_int_equal(parse(text, &l, &why), GL_EPARSE);
        assert_int_equal(why.line, 5);
        logs_release(&l);
    }
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nqpd 1\n", a);
    assert_int_equal(parse(text, &l, &why), 0);
    assert_true(l.v[0].qpd == 1);
    logs_release(&l);
}

static void test_peers(void **state)
{
    char w[256], n01[256], text[2048];
    struct peers_list p;
    struct gl_err why;
    (void)state;
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    tu_gen_vkey("old.example", GL_KEY_NOTE, n01, sizeof(n01));
    snprintf(text, sizeof(text),
             "# peers\nlog %s\nwitness w1 %s http://127.0.0.1:1/\nwitness w2 %s "
             "https://w2.example/witness\ngroup g 1 w1 w2\nquorum g\n",
             n01, w, n01);
    assert_int_equal(peers_parse(text, strlen(text), &p, &why), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].name, "w1");
    assert_string_equal(p.v[0].url, "http://127.0.0.1:1");
    assert_int_equal(p.v[0].converted, 0);
    assert_int_equal(p.v[1].converted, 1);
    assert_int_equal(p.v[1].key.type, GL_KEY_COSIG);
    peers_release(&p);
    /* a witness line without a url is no peer: skipped, counted */
    snprintf(text, sizeof(text), "witness w1 %s\n", w);
    assert_int_equal(peers_parse(text, strlen(text), &p, &why), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.nourl, 1);
    peers_release(&p);
    /* ... but its key is still checked, and too few or many items refused */
    tu_expect_why(peers_parse("witness w1 nokey\n", 17, &p, &why), &why, GL_EPARSE, 1,
                  "malformed witness vkey");
    peers_release(&p);
    tu_expect_why(peers_parse("witness w1\n", 11, &p, &why), &why, GL_EPARSE, 1,
                  "want: witness <name> <vkey> <url>");
    peers_release(&p);
    snprintf(text, sizeof(text), "witness w1 %s http://a x\n", w);
    tu_expect_why(peers_parse(text, strlen(text), &p, &why), &why, GL_EPARSE, 1,
                  "too many items");
    peers_release(&p);
    snprintf(text, sizeof(text), "witness w1 %s http://a\nwitness w1 %s http://b\n", w,
             w);
    tu_expect_why(peers_parse(text, strlen(text), &p, &why), &why, GL_EPARSE, 2,
                  "two peers named w1");
    peers_release(&p);
    tu_expect_why(peers_parse("# c\r\npeer x\n", 12, &p, &why), &why, GL_EPARSE, 2,
                  "unknown line (want: witness <name> <vkey> <url>)");
    peers_release(&p);
    tu_expect_why(peers_parse("witnesses x\n", 12, &p, &why), &why, GL_EPARSE, 1,
                  "unknown line (want: witness <name> <vkey> <url>)");
    peers_release(&p);
}

/* A policy file (specs/policy.md) as a peer list: items separated by runs
 * of spaces and tabs, indented lines and comments, mirror and require
 * lines skipped, a witness without a url skipped. */
static void test_peers_policy(void **state)
{
    char w[256], m[256], lg[256], text[4096];
    struct peers_list p;
    struct gl_err why;
    (void)state;
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    tu_gen_vkey("m.example", GL_KEY_COSIG, m, sizeof(m));
    tu_gen_vkey("l.example/log", GL_KEY_NOTE, lg, sizeof(lg));
    snprintf(text, sizeof(text),
             "  # indented comment\n"
             "log\t%s  https://l.example/\n"
             "witness\tw1 \t %s\t\thttp://127.0.0.1:1/  \n"
             "  witness  w2   %s  https://w2.example/witness\n"
             "witness w3 %s\n"
             "mirror m1 %s https://m.example/\n"
             "group g any w1 w2 w3 m1\n"
             "quorum g\n"
             "require rebuilds 1\n"
             "require audit\n",
             lg, w, w, w, m);
    assert_int_equal(peers_parse(text, strlen(text), &p, &why), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.nourl, 1);
    assert_string_equal(p.v[0].name, "w1");
    assert_string_equal(p.v[0].url, "http://127.0.0.1:1");
    assert_string_equal(p.v[1].name, "w2");
    assert_string_equal(p.v[1].url, "https://w2.example/witness");
    peers_release(&p);
}

/* A list at the cap: LOGS_MAX origins, each given twice (merged into one
 * log with two keys, the qpd of its second entry), all found; one more
 * origin, or a fifth key for one, is refused at its line. */
static void test_logs_many(void **state)
{
    char a[256], o[32];
    uint8_t h[GL_HASH_LEN];
    struct gl_buf text;
    struct logs_list l;
    struct gl_err why;
    size_t i, j, line = 1;
    (void)state;

    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    gl_buf_init(&text, 4u << 20);
    assert_int_equal(gl_buf_append_str(&text, "logs/v0\n"), 0);
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < LOGS_MAX; k++) {
            assert_int_equal(gl_buf_printf(&text, "vkey %s\norigin o%d\n", a, k), 0);
            if (round == 1)
                assert_int_equal(gl_buf_printf(&text, "qpd %d\n", k + 1), 0);
            line += round == 1 ? 3 : 2;
        }
    assert_int_equal(logs_parse((const char *)text.data, text.len, &l, &why), 0);
    assert_int_equal(l.n, LOGS_MAX);
    for (int k = 0; k < LOGS_MAX; k++) {
        snprintf(o, sizeof(o), "o%d", k);
        assert_int_equal(logs_find(&l, o, strlen(o), &i), 0);
        assert_int_equal(l.v[i].nkeys, 2);
        assert_true(l.v[i].qpd == (uint64_t)k + 1);
        assert_int_equal(gl_sha256(o, strlen(o), h), 0);
        assert_int_equal(logs_find_hash(&l, h, &j), 0);
        assert_int_equal(j, i);
    }
    assert_int_equal(logs_find(&l, "o4096", 5, &i), GL_ENOTFOUND);
    assert_int_equal(gl_sha256("o4096", 5, h), 0);
    assert_int_equal(logs_find_hash(&l, h, &i), GL_ENOTFOUND);
    logs_release(&l);
    /* one origin more: refused when its entry closes (the end, line + 2) */
    assert_int_equal(gl_buf_printf(&text, "vkey %s\norigin new\n", a), 0);
    tu_expect_why(logs_parse((const char *)text.data, text.len, &l, &why), &why,
                  GL_ETOOBIG, line + 2, "more than 4096 logs");
    logs_release(&l);
    /* a fifth key for o7: refused when its entry closes (the next vkey) */
    gl_buf_reset(&text);
    assert_int_equal(gl_buf_append_str(&text, "logs/v0\n"), 0);
    for (int k = 0; k < 5; k++)
        assert_int_equal(gl_buf_printf(&text, "vkey %s\norigin o7\n", a), 0);
    assert_int_equal(gl_buf_printf(&text, "vkey %s\n", a), 0);
    tu_expect_why(logs_parse((const char *)text.data, text.len, &l, &why), &why,
                  GL_ETOOBIG, 12, "more than 4 keys for the origin o7");
    logs_release(&l);
    gl_buf_release(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logs),           cmocka_unit_test(test_logs_pq_keys),
        cmocka_unit_test(test_logs_errors),    cmocka_unit_test(test_logs_published),
        cmocka_unit_test(test_logs_format),    cmocka_unit_test(test_logs_many),
        cmocka_unit_test(test_peers),          cmocka_unit_test(test_peers_policy),
        cmocka_unit_test(test_logs_witnesses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
