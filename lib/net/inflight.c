/*
 * inflight: see inflight.h. The places held per client are counted in an
 * addr_limit table of max keys (there are never more clients holding a
 * place than places); n is the sum of its counts.
 */
#include "inflight.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>

#include "glasslog/error.h"

struct inflight {
    struct addr_limit *clients; /* places held, per client */
    size_t max, n;              /* places, taken */
    unsigned per_client;
};

int inflight_new(size_t max, unsigned per_client, struct inflight **out)
{
    struct inflight *t;
    int rc;

    if (out == NULL || max == 0 || max > ADDR_LIMIT_MAX_CAPACITY || per_client == 0)
        return GL_EINVAL;
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return GL_ENOMEM;
    if ((rc = addr_limit_new(max, &t->clients)) != 0) {
        free(t);
        return rc;
    }
    t->max = max;
    t->per_client = per_client;
    *out = t;
    return 0;
}

void inflight_free(struct inflight *t)
{
    if (t == NULL)
        return;
    addr_limit_free(t->clients);
    free(t);
}

int inflight_take(struct inflight *t, const char *peer, struct addr_key *k)
{
    addr_limit_key_text(peer, k);
    if (t->n >= t->max)
        return GL_ETOOBIG;
    if (t->n >= t->max / 2 && addr_limit_count(t->clients, k) >= t->per_client)
        return GL_ERANGE;
    /* n < max: the table has room for one more client */
    if (addr_limit_acquire(t->clients, k, UINT_MAX) != 0)
        return GL_ETOOBIG;
    t->n++;
    return 0;
}

void inflight_give(struct inflight *t, const struct addr_key *k)
{
    assert(t->n > 0);
    addr_limit_release(t->clients, k);
    t->n--;
}

size_t inflight_count(const struct inflight *t)
{
    return t->n;
}
