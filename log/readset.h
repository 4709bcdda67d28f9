/*
 * readset: a fixed-size hash set of store-read keys (struct readset),
 * and one with a value per key (struct readset_map), for glasslogd's read
 * API (readapi.c, struct readapi_async): the reads others wait for
 * (reading, a set), and the reads a finished job hands over (ended, a
 * map, each key's value the index of its want). What a key names, and
 * when a read is put in or taken out, is readapi.c's.
 *
 * Design: open addressing in READSET_SLOTS slots (a power of two) with
 * linear probing; a key's home slot is readset_home, Fibonacci hashing of
 * the key's fields (the top READSET_BITS bits of a 64-bit product). A
 * look-up goes from the home slot to the key or to the first free slot,
 * wrapping from the last slot to slot 0. Deletion is by backward shift
 * (no tombstones): the keys after the one taken out, in its run, move back
 * to the hole when their home allows it, so look-ups never slow down with
 * use. The caller keeps the set at most half full (readset_room), so a
 * run stays short and a look-up always ends at a free slot.
 *
 * Keys: kind 0 marks a free slot, so a key's kind is never 0; two keys
 * are the same key when kind, level, a and b are all equal.
 *
 * A map is a set (keys: all the above holds) and a value[] array beside
 * its slots: a key's value, the caller's (readset_map_put), sits at the
 * key's slot, and moves with it on deletion (readset_map_drop). The
 * probing, putting and backward shift are the set's, done once for both
 * (readset.c); a set carries no values (the map costs 4 bytes a slot
 * more: 16 KiB).
 *
 * Invariants: n keys, 0 <= n <= READSET_MAX, all different; every key
 * sits in its home slot or after it, with no free slot between its home
 * and it (counting round the wrap); every other slot has kind 0. A zeroed
 * struct readset is the empty set, a zeroed struct readset_map the empty
 * map. No allocation, no locking: one thread.
 */
#ifndef GL_LOG_READSET_H
#define GL_LOG_READSET_H

#include <stddef.h>
#include <stdint.h>

struct readset_key {
    uint64_t a, b;
    uint32_t level, kind; /* kind 0: a free slot, never a key */
};

#define READSET_BITS 12 /* 4096 slots */
#define READSET_SLOTS ((size_t)1 << READSET_BITS)
#define READSET_MAX (READSET_SLOTS / 2) /* keys at most: half the slots */

struct readset {
    struct readset_key slot[READSET_SLOTS];
    size_t n; /* keys in the set */
};

struct readset_map {
    struct readset keys;
    uint32_t value[READSET_SLOTS]; /* of the key in keys.slot[i]; free: any */
};

/* The home slot of k (< READSET_SLOTS): where a look-up for k starts. */
size_t readset_home(const struct readset_key *k);
/* 1 if k is in s. */
int readset_has(const struct readset *s, const struct readset_key *k);
/* How many more keys s may hold: READSET_MAX - s->n. */
size_t readset_room(const struct readset *s);
/* Puts k, which is not in s, in s; readset_room(s) must be above 0. */
void readset_put(struct readset *s, const struct readset_key *k);
/* Takes k out of s, if it is there. */
void readset_drop(struct readset *s, const struct readset_key *k);

/* A map m's keys are m->keys, for readset_has, readset_room and n; only
 * readset_map_put and readset_map_drop change them (with the values). */

/* If k is in m, sets *value to its value and returns 1, else 0. */
int readset_map_get(const struct readset_map *m, const struct readset_key *k,
                    uint32_t *value);
/* Puts k, which is not in m, in m with the value value;
 * readset_room(&m->keys) must be above 0. */
void readset_map_put(struct readset_map *m, const struct readset_key *k, uint32_t value);
/* Takes k, and its value, out of m, if it is there. */
void readset_map_drop(struct readset_map *m, const struct readset_key *k);

#endif
