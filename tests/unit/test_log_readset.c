/*
 * test_log_readset: the hash set of reads others wait for in glasslogd's
 * read API (log/readset.c), and the map of reads that ended to their
 * wants (the same set, a value per key): keys that collide at the last
 * slot wrap round to the first ones, and a key whose home is slot 0 sits
 * behind them; taking any of them out (readset_drop, readset_map_drop)
 * leaves every other one findable, in the map with its own value
 * (readset_map_get: values move with their keys), and the slots of those
 * taken out free, whatever the order, across the wrap, in a set and in a
 * map. Keys differing in one field only are different keys (readset_map_get
 * finds none of them and leaves *value alone), and readset_room counts
 * down from half the slots.
 *
 * (That an index look-up or a want marked alone is never put in the set
 * is readapi.c's, not the set's: integration test 76 covers it.)
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../log/readset.h"

#define KEYS 4
#define LAST (READSET_SLOTS - 1)

/* A key (kind 1, level 0, b 0) whose home is slot home, with a from *from
 * on. */
static struct readset_key key_at(size_t home, uint64_t *from)
{
    struct readset_key k = {.kind = 1};

    for (k.a = *from; readset_home(&k) != home; k.a++)
        ;
    *from = k.a + 1;
    return k;
}

/* Three keys at home the last slot (there, then 0 and 1), one at home 0
 * (then 2), in a set, or in a map (map 1) key i with the value 100 + i;
 * dropped in the order given; each other key still found, with its value
 * in the map. */
static void drop_in_order(const size_t order[KEYS], int map)
{
    struct readset_map *m = calloc(1, sizeof(*m));
    struct readset *s = &m->keys;
    struct readset_key k[KEYS];
    uint64_t from = 0;
    int in[KEYS] = {1, 1, 1, 1};

    assert_non_null(m);
    for (size_t i = 0; i < 3; i++)
        k[i] = key_at(LAST, &from);
    k[3] = key_at(0, &from);
    for (size_t i = 0; i < KEYS; i++) {
        assert_false(readset_has(s, &k[i]));
        if (map)
            readset_map_put(m, &k[i], 100 + (uint32_t)i);
        else
            readset_put(s, &k[i]);
        assert_true(readset_has(s, &k[i]));
    }
    assert_int_equal(s->n, KEYS);
    assert_int_not_equal(s->slot[LAST].kind, 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_not_equal(s->slot[i].kind, 0);
    for (size_t d = 0; d < KEYS; d++) {
        if (map)
            readset_map_drop(m, &k[order[d]]);
        else
            readset_drop(s, &k[order[d]]);
        in[order[d]] = 0;
        assert_int_equal(s->n, KEYS - 1 - d);
        for (size_t i = 0; i < KEYS; i++) {
            uint32_t value = 7;
            assert_int_equal(readset_has(s, &k[i]), in[i]);
            if (!map)
                continue;
            assert_int_equal(readset_map_get(m, &k[i], &value), in[i]);
            assert_int_equal(value, in[i] ? 100 + i : 7);
        }
    }
    for (size_t i = 0; i < READSET_SLOTS; i++)
        assert_int_equal(s->slot[i].kind, 0);
    free(m);
}

static void test_drop_across_the_wrap(void **state)
{
    static const size_t orders[][KEYS] = {
        {0, 1, 2, 3}, {1, 0, 3, 2}, {2, 3, 0, 1},
        {3, 2, 1, 0}, {0, 3, 1, 2}, {1, 3, 2, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        drop_in_order(orders[i], 0);
        drop_in_order(orders[i], 1);
    }
}

/* A key put (in a map, with the value 42) is found; one differing in
 * kind, level, a or b only is not, and dropping one that is not there
 * changes nothing. */
static void test_fields_and_room(void **state)
{
    struct readset_map *m = calloc(1, sizeof(*m));
    struct readset *s = &m->keys;
    struct readset_key k = {.a = 7, .b = 9, .level = 2, .kind = 3};
    struct readset_key other[4] = {k, k, k, k};
    uint32_t value = 5;

    (void)state;
    assert_non_null(m);
    other[0].kind++;
    other[1].level++;
    other[2].a++;
    other[3].b++;
    assert_int_equal(readset_room(s), READSET_SLOTS / 2);
    readset_map_put(m, &k, 42);
    assert_int_equal(readset_room(s), READSET_SLOTS / 2 - 1);
    assert_true(readset_has(s, &k));
    assert_true(readset_map_get(m, &k, &value));
    assert_int_equal(value, 42);
    for (size_t i = 0; i < 4; i++) {
        value = 5;
        assert_false(readset_has(s, &other[i]));
        assert_false(readset_map_get(m, &other[i], &value));
        assert_int_equal(value, 5);
        readset_map_drop(m, &other[i]);
        assert_int_equal(s->n, 1);
        assert_true(readset_has(s, &k));
    }
    readset_map_drop(m, &k);
    assert_int_equal(readset_room(s), READSET_SLOTS / 2);
    assert_false(readset_has(s, &k));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_across_the_wrap),
        cmocka_unit_test(test_fields_and_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
