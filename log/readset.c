/*
 * readset: a hash set of store-read keys with a value each; see readset.h
 * for the design (linear probing, backward-shift deletion, at most half
 * full) and the invariants.
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

int readset_get(const struct readset *s, const struct readset_key *k, uint32_t *value)
{
    size_t at = readset_find(s, k);

    if (s->slot[at].kind == 0)
        return 0;
    *value = s->value[at];
    return 1;
}

size_t readset_room(const struct readset *s)
{
    assert(s->n <= READSET_MAX);
    return READSET_MAX - s->n;
}

void readset_put_value(struct readset *s, const struct readset_key *k, uint32_t value)
{
    size_t at = readset_find(s, k);

    assert(s->slot[at].kind == 0); /* not there yet */
    assert(s->n < READSET_MAX);
    s->slot[at] = *k;
    s->value[at] = value;
    s->n++;
}

void readset_put(struct readset *s, const struct readset_key *k)
{
    readset_put_value(s, k, 0);
}

/* The keys after k in its run move back, with their values, so that none
 * sits past a free slot from its home: a key at j moves to the hole at i
 * unless its home lies in (i, j] (round the wrap). */
void readset_drop(struct readset *s, const struct readset_key *k)
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
        s->value[i] = s->value[j];
        i = j;
    }
}
