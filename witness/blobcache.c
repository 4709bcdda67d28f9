/*
 * blobcache: see blobcache.h. A chained hash table (power-of-two buckets,
 * grown to keep chains short) over records that also sit on a doubly
 * linked list in recency order (head: most recent). Invariants, under mu:
 * bytes is the sum of the held values' lengths and never exceeds max;
 * every record is on exactly one chain and on the list; n counts them.
 */
#include "blobcache.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/error.h"

struct rec {
    uint64_t key;
    size_t len;
    struct rec *hnext;       /* bucket chain */
    struct rec *prev, *next; /* recency list */
    uint8_t data[];
};

struct blobcache {
    pthread_mutex_t mu;
    struct rec **bucket;
    size_t nbuckets; /* a power of two */
    struct rec *head, *tail;
    size_t n, bytes, max;
    uint64_t hits, misses;
};

static size_t slot(const struct blobcache *c, uint64_t key)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9u;
    key ^= key >> 32;
    return (size_t)key & (c->nbuckets - 1);
}

int blobcache_new(size_t max_bytes, struct blobcache **out)
{
    struct blobcache *c;

    if (max_bytes == 0 || out == NULL)
        return GL_EINVAL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return GL_ENOMEM;
    c->nbuckets = 64;
    if ((c->bucket = calloc(c->nbuckets, sizeof(struct rec *))) == NULL) {
        free(c);
        return GL_ENOMEM;
    }
    c->max = max_bytes;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void blobcache_free(struct blobcache *c)
{
    if (c == NULL)
        return;
    for (struct rec *r = c->head, *nx; r != NULL; r = nx) {
        nx = r->next;
        free(r);
    }
    free(c->bucket);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct rec *find(const struct blobcache *c, uint64_t key)
{
    struct rec *r = c->bucket[slot(c, key)];
    while (r != NULL && r->key != key)
        r = r->hnext;
    return r;
}

static void unlink_list(struct blobcache *c, struct rec *r)
{
    /* Only the head has no prev, only the tail no next. */
    assert(r->prev != NULL || c->head == r);
    assert(r->next != NULL || c->tail == r);
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        c->head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        c->tail = r->prev;
    r->prev = r->next = NULL;
}

static void push_front(struct blobcache *c, struct rec *r)
{
    r->prev = NULL;
    r->next = c->head;
    if (c->head != NULL)
        c->head->prev = r;
    c->head = r;
    if (c->tail == NULL)
        c->tail = r;
}

/* Drops the least recently used record. */
static void evict(struct blobcache *c)
{
    struct rec *r = c->tail, **pp;

    assert(r != NULL && r->next == NULL); /* the tail has no next */
    unlink_list(c, r);
    for (pp = &c->bucket[slot(c, r->key)]; *pp != r; pp = &(*pp)->hnext)
        assert(*pp != NULL);
    *pp = r->hnext;
    c->bytes -= r->len;
    c->n--;
    free(r);
}

/* Doubles the buckets once records outnumber them (best effort). */
static void grow(struct blobcache *c)
{
    size_t nb = c->nbuckets * 2;
    struct rec **b;

    if (c->n < c->nbuckets || nb > ((size_t)1 << 24) ||
        (b = calloc(nb, sizeof(struct rec *))) == NULL)
        return;
    free(c->bucket);
    c->bucket = b;
    c->nbuckets = nb;
    for (struct rec *r = c->head; r != NULL; r = r->next) {
        size_t s = slot(c, r->key);
        r->hnext = b[s];
        b[s] = r;
    }
}

int blobcache_get(struct blobcache *c, uint64_t key, struct gl_buf *out)
{
    struct rec *r;
    int rc = GL_ENOTFOUND;

    pthread_mutex_lock(&c->mu);
    if ((r = find(c, key)) != NULL) {
        unlink_list(c, r);
        push_front(c, r);
        rc = gl_buf_append(out, r->data, r->len);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void blobcache_put(struct blobcache *c, uint64_t key, const void *data, size_t len)
{
    struct rec *r;

    if (len > SIZE_MAX - sizeof *r || (r = malloc(sizeof *r + len)) == NULL)
        return;
    r->key = key;
    r->len = len;
    memcpy(r->data, data, len);
    pthread_mutex_lock(&c->mu);
    /* the bound is read under the lock: blobcache_set_max may move it */
    if (len > c->max || find(c, key) != NULL) {
        pthread_mutex_unlock(&c->mu);
        free(r);
        return;
    }
    while (c->max - c->bytes < len)
        evict(c);
    size_t s = slot(c, key);
    r->hnext = c->bucket[s];
    c->bucket[s] = r;
    push_front(c, r);
    c->n++;
    c->bytes += len;
    grow(c);
    pthread_mutex_unlock(&c->mu);
}

void blobcache_set_max(struct blobcache *c, size_t max_bytes)
{
    if (max_bytes == 0)
        return;
    pthread_mutex_lock(&c->mu);
    c->max = max_bytes;
    while (c->bytes > c->max)
        evict(c);
    pthread_mutex_unlock(&c->mu);
}

size_t blobcache_max(struct blobcache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t max = c->max;
    pthread_mutex_unlock(&c->mu);
    return max;
}

void blobcache_stats(struct blobcache *c, uint64_t *hits, uint64_t *misses, size_t *n,
                     size_t *bytes)
{
    pthread_mutex_lock(&c->mu);
    *hits = c->hits;
    *misses = c->misses;
    *n = c->n;
    *bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}
