/*
 * test_addr_limit: the per-client connection table. Client keys (IPv4,
 * IPv4-mapped IPv6, IPv6 /64 grouping, refused families, from a peer's
 * address text), the limit and capacity rules, and a long random run
 * against a brute-force model (an array of counts), which is what checks
 * that backward-shift deletion never loses a key behind an emptied slot.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "glasslog/error.h"
#include "net/addr_limit.h"

static struct addr_key key4(const char *text)
{
    struct sockaddr_in s;
    struct addr_key k;

    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &s.sin_addr), 1);
    assert_int_equal(addr_limit_key((struct sockaddr *)&s, sizeof(s), &k), 0);
    return k;
}

static struct addr_key key6(const char *text)
{
    struct sockaddr_in6 s;
    struct addr_key k;

    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &s.sin6_addr), 1);
    assert_int_equal(addr_limit_key((struct sockaddr *)&s, sizeof(s), &k), 0);
    return k;
}

static int same(struct addr_key a, struct addr_key b)
{
    return memcmp(a.b, b.b, sizeof(a.b)) == 0;
}

static void test_keys(void **state)
{
    struct sockaddr_un un;
    struct sockaddr_in s4;
    struct addr_key k;
    char text[ADDR_LIMIT_TEXT_MAX];
    (void)state;

    assert_false(same(key4("127.0.0.1"), key4("127.0.0.2")));
    /* an IPv4-mapped IPv6 peer is the IPv4 client */
    assert_true(same(key4("192.0.2.7"), key6("::ffff:192.0.2.7")));
    /* one IPv6 /64 is one client */
    assert_true(same(key6("2001:db8:1:2::1"), key6("2001:db8:1:2:ffff:ffff:ffff:fffe")));
    assert_false(same(key6("2001:db8:1:2::1"), key6("2001:db8:1:3::1")));
    /* IPv6 ::/64 (::1 among them) is not any IPv4 address */
    assert_false(same(key6("::1"), key4("0.0.0.0")));
    assert_false(same(key6("::"), key4("0.0.0.1")));
    k = key4("203.0.113.255");
    addr_limit_format(&k, text);
    assert_string_equal(text, "203.0.113.255");
    k = key6("2001:db8:aaaa:bbbb:1:2:3:4");
    addr_limit_format(&k, text);
    assert_string_equal(text, "2001:db8:aaaa:bbbb::/64");
    k = key6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    addr_limit_format(&k, text);
    assert_string_equal(text, "ffff:ffff:ffff:ffff::/64");
    /* other families, short lengths, NULL */
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    assert_int_equal(addr_limit_key((struct sockaddr *)&un, sizeof(un), &k), GL_EINVAL);
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    assert_int_equal(addr_limit_key((struct sockaddr *)&s4, sizeof(s4) - 1, &k),
                     GL_EINVAL);
    assert_int_equal(
        addr_limit_key((struct sockaddr *)&s4, sizeof(struct sockaddr_in6), &k), 0);
    s4.sin_family = AF_INET6;
    assert_int_equal(addr_limit_key((struct sockaddr *)&s4, sizeof(s4), &k), GL_EINVAL);
    assert_int_equal(addr_limit_key(NULL, 0, &k), GL_EINVAL);
    /* from a peer's text: the same keys; anything else the zero key */
    static const struct addr_key zero;
    addr_limit_key_text("192.0.2.7", &k);
    assert_true(same(k, key4("192.0.2.7")));
    addr_limit_key_text("::ffff:192.0.2.7", &k);
    assert_true(same(k, key4("192.0.2.7")));
    addr_limit_key_text("2001:db8:1:2::5", &k);
    assert_true(same(k, key6("2001:db8:1:2::1")));
    addr_limit_key_text("", &k);
    assert_true(same(k, zero));
    addr_limit_key_text("not an address", &k);
    assert_true(same(k, zero));
    addr_limit_key_text(NULL, &k);
    assert_true(same(k, zero));
}

static void test_limit_and_capacity(void **state)
{
    struct addr_limit *t = NULL;
    struct addr_key a = key4("10.0.0.1"), b = key4("10.0.0.2"), c = key6("2001:db8::1"),
                    d = key4("10.0.0.4");
    (void)state;

    assert_int_equal(addr_limit_new(0, &t), GL_EINVAL);
    assert_int_equal(addr_limit_new(ADDR_LIMIT_MAX_CAPACITY + 1, &t), GL_EINVAL);
    assert_int_equal(addr_limit_new(3, &t), 0);
    /* per-key limit */
    assert_int_equal(addr_limit_acquire(t, &a, 2), 0);
    assert_int_equal(addr_limit_acquire(t, &a, 2), 0);
    assert_int_equal(addr_limit_acquire(t, &a, 2), GL_ERANGE);
    assert_int_equal(addr_limit_count(t, &a), 2);
    assert_int_equal(addr_limit_acquire(t, &a, 3), 0); /* a larger limit, one more */
    assert_int_equal(addr_limit_count(t, &a), 3);
    assert_int_equal(addr_limit_acquire(t, &b, 0), GL_ERANGE);
    assert_int_equal(addr_limit_count(t, &b), 0);
    /* capacity: three clients at most; known ones still count up */
    assert_int_equal(addr_limit_acquire(t, &b, 5), 0);
    assert_int_equal(addr_limit_acquire(t, &c, 5), 0);
    assert_int_equal(addr_limit_clients(t), 3);
    assert_int_equal(addr_limit_acquire(t, &d, 5), GL_ERANGE);
    assert_int_equal(addr_limit_count(t, &d), 0);
    assert_int_equal(addr_limit_acquire(t, &c, 5), 0);
    assert_int_equal(addr_limit_count(t, &c), 2);
    /* release: the key leaves at 0, making room */
    addr_limit_release(t, &b);
    assert_int_equal(addr_limit_count(t, &b), 0);
    assert_int_equal(addr_limit_clients(t), 2);
    assert_int_equal(addr_limit_acquire(t, &d, 1), 0);
    for (int i = 0; i < 3; i++)
        addr_limit_release(t, &a);
    addr_limit_release(t, &c);
    addr_limit_release(t, &c);
    addr_limit_release(t, &d);
    assert_int_equal(addr_limit_clients(t), 0);
    assert_int_equal(addr_limit_count(t, &a), 0);
    addr_limit_free(t);
    addr_limit_free(NULL);
}

#define POOL 3000
#define CAP 1000
#define LIMIT 5

/* Random acquire/release over 3000 clients (consecutive IPv4 addresses and
 * IPv6 prefixes) in a table for 1000, checked against plain counts. */
static void test_model(void **state)
{
    static struct addr_key keys[POOL];
    static unsigned model[POOL];
    struct addr_limit *t = NULL;
    uint64_t rng = 42;
    size_t clients = 0;
    (void)state;

    for (size_t i = 0; i < POOL; i++) {
        char text[64];
        if (i % 2 == 0) {
            snprintf(text, sizeof(text), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255,
                     i & 255);
            keys[i] = key4(text);
        } else {
            snprintf(text, sizeof(text), "2001:db8:%zx:%zx::%zx", i >> 4, i & 15, i);
            keys[i] = key6(text);
        }
    }
    assert_int_equal(addr_limit_new(CAP, &t), 0);
    for (int op = 0; op < 400000; op++) {
        size_t i = (size_t)(tu_rand(&rng) % POOL);
        int rc;
        if (tu_rand(&rng) % 100 < 55) {
            int want_ok = model[i] < LIMIT && (model[i] > 0 || clients < CAP);
            rc = addr_limit_acquire(t, &keys[i], LIMIT);
            assert_int_equal(rc, want_ok ? 0 : GL_ERANGE);
            if (want_ok && model[i]++ == 0)
                clients++;
        } else if (model[i] > 0) {
            addr_limit_release(t, &keys[i]);
            if (--model[i] == 0)
                clients--;
        }
        if (op % 997 == 0) {
            for (size_t j = 0; j < POOL; j++)
                assert_int_equal(addr_limit_count(t, &keys[j]), model[j]);
            assert_int_equal(addr_limit_clients(t), clients);
        }
    }
    assert_true(clients > CAP / 2); /* the table was really loaded */
    for (size_t j = 0; j < POOL; j++)
        while (model[j] > 0) {
            addr_limit_release(t, &keys[j]);
            model[j]--;
        }
    assert_int_equal(addr_limit_clients(t), 0);
    for (size_t j = 0; j < POOL; j++)
        assert_int_equal(addr_limit_count(t, &keys[j]), 0);
    addr_limit_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_limit_and_capacity),
        cmocka_unit_test(test_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
