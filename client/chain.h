/*
 * chain: the provenance chain of a build (specs/client.md, "The
 * provenance chain"): given the head (a v2 build or rule-update) and other
 * statements, each with its tlog-proof, decide every link under the
 * policy's roles and requirements, and print the verdict as a tree (or
 * JSON). lookup --chain gathers the statements from the log's API,
 * verify --chain-bundle from a chain bundle; both end here, so they accept
 * exactly the same chains.
 *
 * Every statement is first verified on its own exactly as `glasslog
 * verify` does (trust.c: submitter signature, log signature, witness
 * quorum, optional maximum age, inclusion); a link is then judged on what
 * the statement says and on its signer's role.
 */
#ifndef GL_CLIENT_CHAIN_H
#define GL_CLIENT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/chainbundle.h"
#include "glasslog/policy.h"
#include "glasslog/tlogproof.h"
#include "trust.h"

#define CHAIN_MAX GL_CHAINBUNDLE_MAX_PROOFS

/* One statement of a chain with its proof (both borrowed). */
struct chain_item {
    const char *stmt;
    size_t len;
    const struct gl_tlogproof *proof;
};

enum chain_verdict {
    CHAIN_OK = 0,
    CHAIN_FAIL = 1,
    CHAIN_IGNORED = 2, /* shown, but counts neither way */
};

struct chain_row {
    const char *link; /* "build", "source", "rebuild", "rebuilds", "audit", ... */
    int item;         /* index into the items, -1 for a summary row */
    uint64_t index;   /* log index (item >= 0) */
    char signer[300]; /* key name, "" for summary rows */
    const char *role; /* "builder", ..., "no role", NULL for summary rows */
    enum chain_verdict verdict;
    char why[TRUST_WHY_MAX];
};

struct chain_report {
    int ok;                   /* every link passed */
    int have_head;            /* the head parsed */
    struct gl_statement head; /* points into the head item's bytes */
    size_t nrows;
    struct chain_row rows[CHAIN_MAX + 4]; /* items, 3 summaries, log consistency */
};

/* Judges the chain of items[head] among items[0..n) (n <= CHAIN_MAX).
 * artifact (may be NULL): the SHA-256 the head must name. max_age and now
 * as in struct trust_input. Fills *r (caller-allocated, large); returns 0
 * if the chain verified, GL_EVERIFY if a link failed, GL_EINVAL/GL_ENOMEM. */
int chain_eval(const struct gl_policy *p, const struct chain_item *items, size_t n,
               size_t head, const uint8_t *artifact, uint64_t max_age, uint64_t now,
               struct chain_report *r);

/* The policy's requirements (`require rebuilds`, `require audit`) are
 * judged only on a provenance chain: verify --bundle and lookup without
 * --chain check that one statement is logged. For a build or rule update
 * under a policy with requirements, prints one warning on stderr saying
 * so and how to check the chain, and returns 1; 0 (nothing printed)
 * otherwise. */
int chain_warn_unchecked(const struct gl_policy *p, const struct gl_statement_fields *f);

/* Prints the report as a tree on stdout (json: one JSON object), and one
 * "glasslog: verification failed: <link> #<index>: <why>" line on stderr
 * per failed link. */
void chain_print(const struct chain_report *r, int json);

/* verify --chain-bundle FILE [--artifact PATH]: reads and judges a chain
 * bundle offline. A CLI_* exit code. */
int chain_verify_bundle(const struct gl_policy *p, const char *path, const char *artifact,
                        uint64_t max_age, int json);

/* Checks a proof's checkpoint against the client's memory (lookup's
 * state directory): 0, GL_EVERIFY (inconsistent: reported), or another
 * code (I/O, network: reported). */
typedef int (*chain_state_fn)(void *ctx, const struct gl_tlogproof *proof);

struct fetch;
/* lookup --chain PATH: asks the log (through f) for the chain of the
 * artifact whose SHA-256 is digest, judges it, checks every proof's
 * checkpoint with state(ctx, proof), optionally writes the chain to out
 * as a chain bundle. A CLI_* exit code. */
int chain_lookup(const struct gl_policy *p, struct fetch *f, const uint8_t digest[32],
                 const char *out, int json, chain_state_fn state, void *ctx);

#endif
