/*
 * addr_limit: see addr_limit.h. Invariants, checked by the unit test
 * against a brute-force model:
 *   - a slot is empty iff its count is 0;
 *   - every key sits in the probe chain from its home slot with no empty
 *     slot in between (backward-shift deletion keeps this: after a slot is
 *     emptied, each later entry of the cluster that may move back does);
 *   - nkeys <= capacity <= nslots / 2.
 */
#include "addr_limit.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "glasslog/error.h"

#define MIN_SLOTS 16
#define KEY_WORDS 4

struct slot {
    struct addr_key key;
    uint32_t count; /* 0: empty */
};

struct addr_limit {
    struct slot *slots;
    size_t mask;     /* nslots - 1 */
    unsigned shift;  /* 64 - log2(nslots) */
    size_t capacity; /* most keys */
    size_t nkeys;
    uint64_t mul[KEY_WORDS], add;
};

int addr_limit_key(const struct sockaddr *sa, size_t len, struct addr_key *out)
{
    memset(out, 0, sizeof(*out));
    if (sa == NULL)
        return GL_EINVAL;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &s4->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            memcpy(out->b, a->s6_addr, 16); /* already ::ffff:a.b.c.d */
        else
            memcpy(out->b, a->s6_addr, 8);
        return 0;
    }
    return GL_EINVAL;
}

void addr_limit_key_text(const char *peer, struct addr_key *out)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    struct sockaddr_in s4 = {.sin_family = AF_INET};

    memset(out, 0, sizeof(*out));
    if (peer == NULL)
        return;
    if (inet_pton(AF_INET, peer, &s4.sin_addr) == 1)
        (void)addr_limit_key((const struct sockaddr *)&s4, sizeof(s4), out);
    else if (inet_pton(AF_INET6, peer, &s6.sin6_addr) == 1)
        (void)addr_limit_key((const struct sockaddr *)&s6, sizeof(s6), out);
}

static int is_v4(const struct addr_key *k)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(k->b, prefix, sizeof(prefix)) == 0;
}

void addr_limit_format(const struct addr_key *k, char buf[ADDR_LIMIT_TEXT_MAX])
{
    char text[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    int v4 = is_v4(k);

    memcpy(a6.s6_addr, k->b, 16);
    if (inet_ntop(v4 ? AF_INET : AF_INET6,
                  v4 ? (const void *)(k->b + 12) : (const void *)&a6, text,
                  sizeof(text)) == NULL)
        snprintf(buf, ADDR_LIMIT_TEXT_MAX, "?");
    else
        snprintf(buf, ADDR_LIMIT_TEXT_MAX, "%s%s", text, v4 ? "" : "/64");
}

int addr_limit_new(size_t capacity, struct addr_limit **out)
{
    struct addr_limit *t;
    size_t nslots = MIN_SLOTS;
    unsigned bits = 4;
    uint8_t seed[sizeof(t->mul) + sizeof(t->add)];
    size_t got = 0;
    ssize_t n;

    if (capacity == 0 || capacity > ADDR_LIMIT_MAX_CAPACITY || out == NULL)
        return GL_EINVAL;
    while (nslots < 2 * capacity) {
        nslots <<= 1;
        bits++;
    }
    while (got < sizeof(seed)) {
        n = getrandom(seed + got, sizeof(seed) - got, 0);
        if (n < 0 && errno != EINTR)
            return GL_EIO;
        got += n > 0 ? (size_t)n : 0;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return GL_ENOMEM;
    if ((t->slots = calloc(nslots, sizeof(*t->slots))) == NULL) {
        free(t);
        return GL_ENOMEM;
    }
    memcpy(t->mul, seed, sizeof(t->mul));
    memcpy(&t->add, seed + sizeof(t->mul), sizeof(t->add));
    t->mask = nslots - 1;
    t->shift = 64 - bits;
    t->capacity = capacity;
    *out = t;
    return 0;
}

void addr_limit_free(struct addr_limit *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t);
}

/* The home slot of k: the top bits of sum(mul[i] * word[i]) + add. */
static size_t home(const struct addr_limit *t, const struct addr_key *k)
{
    uint64_t h = t->add;
    uint32_t w;

    for (int i = 0; i < KEY_WORDS; i++) {
        memcpy(&w, k->b + (size_t)4 * (size_t)i, 4);
        h += t->mul[i] * w;
    }
    return (size_t)(h >> t->shift);
}

/* 1 and *at = k's slot if present; 0 and *at = the empty slot ending its
 * chain otherwise. The load bound guarantees an empty slot exists. */
static int find(const struct addr_limit *t, const struct addr_key *k, size_t *at)
{
    size_t i = home(t, k);

    while (t->slots[i].count != 0) {
        if (memcmp(t->slots[i].key.b, k->b, sizeof(k->b)) == 0) {
            *at = i;
            return 1;
        }
        i = (i + 1) & t->mask;
    }
    *at = i;
    return 0;
}

int addr_limit_acquire(struct addr_limit *t, const struct addr_key *k, unsigned limit)
{
    size_t i;

    if (find(t, k, &i)) {
        if (t->slots[i].count >= limit)
            return GL_ERANGE;
        t->slots[i].count++;
        return 0;
    }
    if (limit == 0 || t->nkeys >= t->capacity)
        return GL_ERANGE;
    t->slots[i].key = *k;
    t->slots[i].count = 1;
    t->nkeys++;
    return 0;
}

/* Empties slot i and moves later entries of its cluster back where their
 * probe chain allows, so no chain is ever broken by an empty slot. */
static void remove_at(struct addr_limit *t, size_t i)
{
    size_t j = i, h;

    t->slots[i].count = 0;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->slots[j].count == 0)
            return;
        h = home(t, &t->slots[j].key);
        /* the entry at j may move to i iff i lies on its chain h..j */
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            t->slots[j].count = 0;
            i = j;
        }
    }
}

void addr_limit_release(struct addr_limit *t, const struct addr_key *k)
{
    size_t i;
    int found = find(t, k, &i);

    assert(found);
    if (!found)
        return;
    if (--t->slots[i].count == 0) {
        remove_at(t, i);
        t->nkeys--;
    }
}

unsigned addr_limit_count(const struct addr_limit *t, const struct addr_key *k)
{
    size_t i;

    return find(t, k, &i) ? t->slots[i].count : 0;
}

size_t addr_limit_clients(const struct addr_limit *t)
{
    return t->nkeys;
}
