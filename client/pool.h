/*
 * pool: checks the entries of one entry bundle in parallel (the monitor's
 * hot path). Per entry: leaf hash, statement syntax, and the submitter
 * signature against a key list; one Ed25519 verify per entry dominates,
 * so the entries are spread over one worker thread per core.
 *
 * Protocol: pool_submit hands the workers a job (borrowed: the entries,
 * keys and result array must stay untouched until pool_wait returns) and
 * returns at once, so the caller can fetch the next bundle meanwhile;
 * pool_wait blocks until every entry of the job is done. One job at a
 * time; submit and wait from one thread. Workers take entries in small
 * chunks from an atomic counter, so a slow core never holds up the rest.
 */
#ifndef GL_CLIENT_POOL_H
#define GL_CLIENT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/key.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"

#define POOL_MAX_THREADS 64

enum pool_status {
    POOL_OK = 0,    /* well formed, signed by keys[which] */
    POOL_UNKNOWN,   /* well formed, signed by a key not in the list */
    POOL_BADSIG,    /* a listed key's name and ID, bad signature */
    POOL_MALFORMED, /* not a statement (why says why) */
};

/* The outcome for one entry. st points into the entry's bytes. */
struct pool_result {
    uint8_t leaf[GL_HASH_LEN];
    enum pool_status status;
    struct gl_err why; /* for POOL_MALFORMED: what is wrong (lines of the entry) */
    size_t which;
    struct gl_statement st; /* valid unless POOL_MALFORMED */
};

struct pool_job {
    const struct gl_tile_entry *e; /* entries [from, n) are checked */
    size_t from, n;
    const struct gl_verifier *keys;
    size_t nkeys;
    struct pool_result *out; /* n results, filled from `from` */
};

struct pool;

/* Starts nthreads workers (1..POOL_MAX_THREADS; 0 = one per online core).
 * Free with pool_free. GL_ENOMEM / GL_EIO (threads). */
int pool_new(size_t nthreads, struct pool **out);
/* Stops and joins the workers (after any job in flight). NULL is a no-op. */
void pool_free(struct pool *p);
size_t pool_threads(const struct pool *p);

void pool_submit(struct pool *p, const struct pool_job *job);
void pool_wait(struct pool *p);

/* Checks one entry on the calling thread (what the workers run). */
void pool_check(const struct gl_tile_entry *e, const struct gl_verifier *keys,
                size_t nkeys, struct pool_result *out);

#endif
