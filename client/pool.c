/*
 * pool: a fixed set of worker threads checking a bundle's entries; see
 * pool.h.
 *
 * Synchronisation: one mutex and two condition variables. A job is
 * published under the mutex with a new generation number and `busy` set
 * to the number of workers; each worker, woken by the new generation,
 * claims CHUNK entries at a time from an atomic counter until none are
 * left, then decrements `busy` under the mutex, the last one signalling
 * `done`. Results are written to disjoint slots, and the mutex hand-off
 * (worker decrement -> pool_wait) orders every result before the caller
 * reads it.
 */
#include "pool.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glasslog/error.h"
#include "glasslog/merkle.h"

#define CHUNK 4

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t th[POOL_MAX_THREADS];
    size_t nthreads;
    struct pool_job job;
    uint64_t gen;
    atomic_size_t next;
    size_t busy;
    int stop;
};

void pool_check(const struct gl_tile_entry *e, const struct gl_verifier *keys,
                size_t nkeys, struct pool_result *out)
{
    int rc;

    out->which = 0;
    if (gl_merkle_leaf_hash(e->data, e->len, out->leaf) != 0) {
        out->status = POOL_MALFORMED;
        gl_err_set(&out->why, GL_ECRYPTO, 0, "cannot hash the entry");
        return;
    }
    if (gl_statement_parse((const char *)e->data, e->len, &out->st, &out->why) != 0) {
        out->status = POOL_MALFORMED;
        return;
    }
    rc = gl_statement_verify(&out->st, keys, nkeys, &out->which);
    out->status = rc == 0 ? POOL_OK : rc == GL_ENOKEY ? POOL_UNKNOWN : POOL_BADSIG;
}

static void run_job(struct pool *p, const struct pool_job *j)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, CHUNK), end;
        if (i >= j->n)
            break;
        end = i + CHUNK < j->n ? i + CHUNK : j->n;
        for (; i < end; i++)
            pool_check(&j->e[i], j->keys, j->nkeys, &j->out[i]);
    }
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    uint64_t seen = 0;
    struct pool_job j;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        j = p->job;
        pthread_mutex_unlock(&p->mu);
        run_job(p, &j);
        pthread_mutex_lock(&p->mu);
        assert(p->busy > 0); /* one decrement per worker per job */
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pool_new(size_t nthreads, struct pool **out)
{
    struct pool *p = calloc(1, sizeof(*p));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    if (p == NULL)
        return GL_ENOMEM;
    if (nthreads == 0)
        nthreads = ncpu < 1 ? 1 : (size_t)ncpu;
    if (nthreads > POOL_MAX_THREADS)
        nthreads = POOL_MAX_THREADS;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    for (; p->nthreads < nthreads; p->nthreads++)
        if (pthread_create(&p->th[p->nthreads], NULL, worker, p) != 0)
            break;
    if (p->nthreads == 0) {
        pool_free(p);
        return GL_EIO;
    }
    *out = p;
    return 0;
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}

size_t pool_threads(const struct pool *p)
{
    return p->nthreads;
}

void pool_submit(struct pool *p, const struct pool_job *job)
{
    pthread_mutex_lock(&p->mu);
    assert(p->busy == 0); /* one job at a time: pool_wait before the next */
    p->job = *job;
    atomic_store(&p->next, job->from);
    p->busy = p->nthreads;
    p->gen++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

void pool_wait(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
