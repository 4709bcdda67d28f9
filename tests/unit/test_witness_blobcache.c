/*
 * test_witness_blobcache: the mirror's bounded LRU of full tiles and
 * bundles (witness/blobcache.c). A get returns exactly the bytes put; a
 * miss leaves the buffer alone; the byte bound is never exceeded and the
 * least recently used value goes first (a get refreshes); a value over the
 * bound is not kept; a second put of a key keeps the first value; the
 * counters count exactly; many keys (bucket growth) all stay findable; a
 * lowered bound evicts the least recently used values at once until the
 * rest fits, and a raised one keeps more.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../witness/blobcache.h"
#include "glasslog/error.h"

/* Value of key k: len bytes derived from k. */
static void value(uint64_t k, uint8_t *out, size_t len)
{
    uint64_t s = k + 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)tu_rand(&s);
}

static void expect(struct blobcache *c, uint64_t k, size_t len)
{
    uint8_t want[4096];
    struct gl_buf b;

    gl_buf_init(&b, 1 << 20);
    gl_buf_append(&b, "x", 1);
    value(k, want, len);
    assert_int_equal(blobcache_get(c, k, &b), 0);
    assert_int_equal(b.len, 1 + len);
    assert_memory_equal(b.data + 1, want, len);
    gl_buf_release(&b);
}

static int held(struct blobcache *c, uint64_t k)
{
    struct gl_buf b;
    gl_buf_init(&b, 1 << 20);
    int rc = blobcache_get(c, k, &b);
    assert_true(rc == 0 || (rc == GL_ENOTFOUND && b.len == 0));
    gl_buf_release(&b);
    return rc == 0;
}

static void put(struct blobcache *c, uint64_t k, size_t len)
{
    uint8_t v[4096];
    value(k, v, len);
    blobcache_put(c, k, v, len);
}

static void test_args(void **state)
{
    struct blobcache *c = NULL;
    (void)state;
    assert_int_equal(blobcache_new(0, &c), GL_EINVAL);
    assert_int_equal(blobcache_new(10, NULL), GL_EINVAL);
    blobcache_free(NULL);
}

static void test_lru_bound(void **state)
{
    struct blobcache *c;
    uint64_t hits, misses;
    size_t n, bytes;
    (void)state;

    assert_int_equal(blobcache_new(3000, &c), 0);
    put(c, 1, 1000);
    put(c, 2, 1000);
    put(c, 3, 1000);
    expect(c, 1, 1000); /* 1 is now the most recent: 2 goes first */
    put(c, 4, 1000);
    assert_false(held(c, 2));
    expect(c, 1, 1000);
    expect(c, 3, 1000);
    expect(c, 4, 1000);
    put(c, 5, 1500); /* recency 4, 3, 1: evicts 1, then 3 */
    assert_false(held(c, 1));
    assert_false(held(c, 3));
    expect(c, 4, 1000);
    expect(c, 5, 1500);
    put(c, 6, 3001); /* over the bound: not kept, nothing evicted */
    assert_false(held(c, 6));
    expect(c, 5, 1500);
    blobcache_stats(c, &hits, &misses, &n, &bytes);
    assert_int_equal(n, 2);
    assert_int_equal(bytes, 2500);
    assert_int_equal(hits, 7);
    assert_int_equal(misses, 4);
    blobcache_free(c);
}

static void test_set_max(void **state)
{
    struct blobcache *c;
    uint64_t hits, misses;
    size_t n, bytes;
    (void)state;

    assert_int_equal(blobcache_new(4000, &c), 0);
    for (uint64_t k = 1; k <= 4; k++)
        put(c, k, 1000);
    expect(c, 1, 1000); /* order, least recent first: 2, 3, 4, 1 */
    blobcache_set_max(c, 2500);
    assert_int_equal(blobcache_max(c), 2500);
    blobcache_stats(c, &hits, &misses, &n, &bytes);
    assert_int_equal(n, 2);
    assert_int_equal(bytes, 2000);
    assert_false(held(c, 2));
    assert_false(held(c, 3));
    expect(c, 4, 1000);
    expect(c, 1, 1000);
    blobcache_set_max(c, 0); /* ignored */
    assert_int_equal(blobcache_max(c), 2500);
    blobcache_set_max(c, 3000); /* raised: three fit again */
    put(c, 5, 1000);
    blobcache_stats(c, &hits, &misses, &n, &bytes);
    assert_int_equal(n, 3);
    assert_int_equal(bytes, 3000);
    blobcache_free(c);
}

static void test_first_value_kept(void **state)
{
    struct blobcache *c;
    uint8_t other[100];
    (void)state;

    assert_int_equal(blobcache_new(1000, &c), 0);
    put(c, 7, 100);
    memset(other, 0xee, sizeof other);
    blobcache_put(c, 7, other, sizeof other);
    expect(c, 7, 100);
    blobcache_put(c, 8, "", 0); /* an empty value is a value */
    struct gl_buf b;
    gl_buf_init(&b, 16);
    assert_int_equal(blobcache_get(c, 8, &b), 0);
    assert_int_equal(b.len, 0);
    gl_buf_release(&b);
    blobcache_free(c);
}

static void test_many(void **state)
{
    struct blobcache *c;
    size_t n, bytes;
    uint64_t hits, misses;
    (void)state;

    assert_int_equal(blobcache_new((size_t)10000 * 64, &c), 0);
    for (uint64_t k = 0; k < 10000; k++)
        put(c, k << 4 | (k % 9), 64);
    for (uint64_t k = 0; k < 10000; k++)
        expect(c, k << 4 | (k % 9), 64);
    assert_false(held(c, 1)); /* never put */
    blobcache_stats(c, &hits, &misses, &n, &bytes);
    assert_int_equal(n, 10000);
    assert_int_equal(bytes, (size_t)10000 * 64);
    blobcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),    cmocka_unit_test(test_lru_bound),
        cmocka_unit_test(test_set_max), cmocka_unit_test(test_first_value_kept),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
