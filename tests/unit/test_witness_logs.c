/*
 * test_witness_logs: the witness's configuration files: the log list
 * (logs/v0 with vkey/origin/qpd/contact/bastion/url lines, comments,
 * unknown keywords skipped, one origin with two keys merged, lookups by
 * origin and by origin hash) and the peer list (tlog-policy witness lines,
 * a 0x01 key converted and flagged), and their errors with line numbers.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../witness/logs.h"
#include "../../witness/peers.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"

static int parse(const char *text, struct logs_list *l, size_t *line)
{
    const char *why;
    return logs_parse(text, strlen(text), l, line, &why);
}

static void test_logs(void **state)
{
    char a[256], b[256], a2[256], text[4096];
    struct logs_list l;
    size_t line, i;
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
    assert_int_equal(parse(text, &l, &line), 0);
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
    assert_int_equal(gl_sha256("custom origin", 13, h), 0);
    assert_int_equal(logs_find_hash(&l, h, &i), 0);
    assert_int_equal(i, 2);
    logs_release(&l);
    /* one origin, two keys: merged */
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nvkey %s\nqpd 5\n", a, a2);
    assert_int_equal(parse(text, &l, &line), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].nkeys, 2);
    assert_true(l.v[0].qpd == 5);
    logs_release(&l);
}

static void test_logs_errors(void **state)
{
    char a[256], w[256], text[1024];
    struct logs_list l;
    size_t line;
    (void)state;
    tu_gen_vkey("a.example/log", GL_KEY_NOTE, a, sizeof(a));
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    assert_int_equal(parse("", &l, &line), GL_EPARSE);
    logs_release(&l);
    assert_int_equal(parse("logs/v1\n", &l, &line), GL_EPARSE);
    assert_int_equal(line, 1);
    logs_release(&l);
    assert_int_equal(parse("logs/v0\nqpd 5\n", &l, &line), GL_EPARSE);
    assert_int_equal(line, 2);
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nurl ftp://x\n", a);
    assert_int_equal(parse(text, &l, &line), GL_EPARSE);
    assert_int_equal(line, 3);
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\nqpd -1\n", a);
    assert_int_equal(parse(text, &l, &line), GL_EPARSE);
    logs_release(&l);
    snprintf(text, sizeof(text), "logs/v0\nvkey %s\n", w);
    assert_int_equal(parse(text, &l, &line), GL_EPARSE);
    logs_release(&l);
    assert_int_equal(parse("logs/v0\nvkey junk\n", &l, &line), GL_EPARSE);
    logs_release(&l);
}

static void test_peers(void **state)
{
    char w[256], n01[256], text[2048];
    struct peers_list p;
    const char *why;
    size_t line;
    (void)state;
    tu_gen_vkey("w.example", GL_KEY_COSIG, w, sizeof(w));
    tu_gen_vkey("old.example", GL_KEY_NOTE, n01, sizeof(n01));
    snprintf(text, sizeof(text),
             "# peers\nlog %s\nwitness w1 %s http://127.0.0.1:1/\nwitness w2 %s "
             "https://w2.example/witness\ngroup g 1 w1 w2\nquorum g\n",
             n01, w, n01);
    assert_int_equal(peers_parse(text, strlen(text), &p, &line, &why), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].name, "w1");
    assert_string_equal(p.v[0].url, "http://127.0.0.1:1");
    assert_int_equal(p.v[0].converted, 0);
    assert_int_equal(p.v[1].converted, 1);
    assert_int_equal(p.v[1].key.type, GL_KEY_COSIG);
    peers_release(&p);
    snprintf(text, sizeof(text), "witness w1 %s\n", w);
    assert_int_equal(peers_parse(text, strlen(text), &p, &line, &why), GL_EPARSE);
    assert_int_equal(line, 1);
    peers_release(&p);
    snprintf(text, sizeof(text), "witness w1 %s http://a\nwitness w1 %s http://b\n", w,
             w);
    assert_int_equal(peers_parse(text, strlen(text), &p, &line, &why), GL_EPARSE);
    assert_int_equal(line, 2);
    peers_release(&p);
    assert_int_equal(peers_parse("peer x\n", 7, &p, &line, &why), GL_EPARSE);
    peers_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logs),
        cmocka_unit_test(test_logs_errors),
        cmocka_unit_test(test_peers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
