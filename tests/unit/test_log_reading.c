/*
 * test_log_reading: the set of reads others wait for in glasslogd's read
 * API (ra->reading in log/readapi.c, included here for its static
 * functions): keys that collide at the last slot wrap round to the first
 * ones, and a key whose home is slot 0 sits behind them; taking any of
 * them out (reading_drop) leaves every other one findable and the slots
 * of those taken out free, whatever the order, across the wrap.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../log/readapi.c"

#define KEYS 4

/* An entry read whose key's home is slot home, from index *from on. */
static struct want want_at(size_t home, uint64_t *from)
{
    struct want w = {.kind = WANT_ENTRY};
    struct readapi_read k;

    for (w.a = *from;; w.a++) {
        k = read_key(&w);
        if (read_home(&k) == home)
            break;
    }
    *from = w.a + 1;
    return w;
}

static void put(struct readapi_async *ra, const struct want *w)
{
    struct readapi_read k = read_key(w);
    size_t at = reading_find(ra, &k);

    assert_int_equal(ra->reading[at].kind, 0);
    ra->reading[at] = k;
    ra->nreading++;
}

/* Three keys at home the last slot (there, then 0 and 1), one at home 0
 * (then 2); dropped in the order given; each other key still found. */
static void drop_in_order(const size_t order[KEYS])
{
    struct readapi_async *ra = calloc(1, sizeof(*ra));
    struct want w[KEYS];
    uint64_t from = 0;
    int in[KEYS] = {1, 1, 1, 1};

    assert_non_null(ra);
    for (size_t i = 0; i < 3; i++)
        w[i] = want_at(READING_MASK, &from);
    w[3] = want_at(0, &from);
    for (size_t i = 0; i < KEYS; i++)
        put(ra, &w[i]);
    assert_int_not_equal(ra->reading[READING_MASK].kind, 0);
    for (size_t s = 0; s < 3; s++)
        assert_int_not_equal(ra->reading[s].kind, 0);
    for (size_t d = 0; d < KEYS; d++) {
        struct readapi_read k = read_key(&w[order[d]]);
        reading_drop(ra, &k);
        in[order[d]] = 0;
        assert_int_equal(ra->nreading, KEYS - 1 - d);
        for (size_t i = 0; i < KEYS; i++)
            assert_int_equal(reading_has(ra, &w[i]), in[i]);
    }
    for (size_t s = 0; s < READAPI_READING_SLOTS; s++)
        assert_int_equal(ra->reading[s].kind, 0);
    free(ra);
}

static void test_drop_across_the_wrap(void **state)
{
    static const size_t orders[][KEYS] = {
        {0, 1, 2, 3}, {1, 0, 3, 2}, {2, 3, 0, 1},
        {3, 2, 1, 0}, {0, 3, 1, 2}, {1, 3, 2, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
        drop_in_order(orders[i]);
}

/* An index look-up is never in the set: a job never waits for one. */
static void test_index_not_shared(void **state)
{
    struct want w = {.kind = WANT_INDEX};

    (void)state;
    assert_false(want_shareable(&w));
    w.kind = WANT_LEAF;
    assert_true(want_shareable(&w));
    w.alone = 1;
    assert_false(want_shareable(&w));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_across_the_wrap),
        cmocka_unit_test(test_index_not_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
