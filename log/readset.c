/*
 * readset: a hash set of store-read keys, and a map of them to values;
 * see readset.h for the design (linear probing, backward-shift deletion,
 * at most half full) and the invariants. The map's functions are the
 * set's, with the values moved beside the keys (set_put, set_drop).
 */
#include "readset.h"

#include <assert.h>

#define READSET_MASK (READSET_SLOTS - 1)

size_t readset_home(const struct readset_key *k)
{
    uint64_t h = (k->a * 0x9e3779b97f4a7c15ull) ^ (k->b * 0xc2b2ae3d27d4eb4full) ^
                 ((uint64_t)k->level << 32 | k->kind);

    h *= 0x9e3779b97f4a7c15ull; /* Fibonacci hashing: the top bits */
    return (size_t)(h >> (64 - READSET_BITS));
}

static int key_same(const struct readset_key *x, const struct readset_key *y)
{
    return x->kind == y->kind && x->level == y->level && x->a == y->a && x->b == y->b;
}

/* The slot holding k, or the free slot where it would go (there is one:
 * the set is at most half full). */
static size_t readset_find(const struct readset *s, const struct readset_key *k)
{
    size_t i = readset_home(k);

    assert(k->kind != 0);
    assert(s->n <= READSET_MAX);
    while (s->slot[i].kind != 0 && !key_same(&s->slot[i], k))
        i = (i + 1) & READSET_MASK;
    return i;
}

int readset_has(const struct readset *s, const struct readset_key *k)
{
    return s->slot[readset_find(s, k)].kind != 0;
}

size_t readset_room(const struct readset *s)
{
    assert(s->n <= READSET_MAX);
    return READSET_MAX - s->n;
}

/* Puts k, not in s, in s; returns its slot. */
static size_t set_put(struct readset *s, const struct readset_key *k)
{
    size_t at = readset_find(s, k);

    assert(s->slot[at].kind == 0); /* not there yet */
    assert(s->n < READSET_MAX);
    s->slot[at] = *k;
    s->n++;
    return at;
}

void readset_put(struct readset *s, const struct readset_key *k)
{
    (void)set_put(s, k);
}

/* Takes k out of s, if it is there, and moves the keys after it in its
 * run back, with their values in value[] (NULL: a set, none), so that
 * none sits past a free slot from its home: a key at j moves to the hole
 * at i unless its home lies in (i, j] (round the wrap). */
static void set_drop(struct readset *s, uint32_t *value, const struct readset_key *k)
{
    size_t i = readset_find(s, k), j = i, home;

    if (s->slot[i].kind == 0)
        return;
    assert(s->n > 0);
    s->n--;
    for (;;) {
        s->slot[i].kind = 0;
        do {
            j = (j + 1) & READSET_MASK;
            if (s->slot[j].kind == 0)
                return;
            home = readset_home(&s->slot[j]);
        } while (i <= j ? i < home && home <= j : i < home || home <= j);
        s->slot[i] = s->slot[j];
        if (value != NULL)
            value[i] = value[j];
        i = j;
    }
}

void readset_drop(struct readset *s, const struct readset_key *k)
{
    set_drop(s, NULL, k);
}

int readset_map_get(const struct readset_map *m, const struct readset_key *k,
                    uint32_t *value)
{
    size_t at = readset_find(&m->keys, k);

    if (m->keys.slot[at].kind == 0)
        return 0;
    *value = m->value[at];
    return 1;
}

void readset_map_put(struct readset_map *m, const struct readset_key *k, uint32_t value)
{
    m->value[set_put(&m->keys, k)] = value;
}

void readset_map_drop(struct readset_map *m, const struct readset_key *k)
{
    set_drop(&m->keys, m->value, k);
}
