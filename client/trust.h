/*
 * trust: what a customer's or monitor's policy (specs/policy.md) accepts.
 * Loading a policy file, opening a signed checkpoint under it (log
 * signature by a policy log whose key name is the origin, then witness
 * cosignatures and the quorum), checking a statement's submitter
 * signature, and the complete offline verification of a statement with
 * its tlog-proof (specs/bundle.md), reported step by step.
 *
 * Nothing here touches the network or the state directory; verify,
 * lookup and monitor all go through these functions, so they accept
 * exactly the same things.
 */
#ifndef GL_CLIENT_TRUST_H
#define GL_CLIENT_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/checkpoint.h"
#include "glasslog/cosig.h"
#include "glasslog/policy.h"
#include "glasslog/statement.h"
#include "glasslog/tlogproof.h"
#include "glasslog/sha256.h"

#define TRUST_WHY_MAX 320

/* Reads and parses a policy file. Errors (unreadable, "FILE:LINE:
 * reason") are printed on stderr; with warn, so is one warning per
 * witness whose 0x01 key was converted to 0x04. *out is freed with
 * gl_policy_free. 0 or a GL_E* code. */
int trust_load_policy(const char *path, int warn, struct gl_policy **out);

/* A checkpoint opened under a policy. */
struct trust_checkpoint {
    struct gl_checkpoint cp; /* the verified checkpoint; its extension
                                lines are not kept (cp.ext NULL, cp.ext_len
                                and cp.next 0) */
    size_t log;              /* index of the policy log that signed */
    size_t nwitnesses;       /* = gl_policy_nwitnesses */
    struct gl_cosig_status wst[GL_POLICY_MAX_WITNESSES]; /* per witness */
    size_t nvalid;   /* witnesses with a valid cosignature */
    uint64_t newest; /* newest valid cosignature time, 0 none (informational:
                        the age is trust_age's quorum time) */
    size_t nfuture;  /* valid cosignatures dated too far ahead (not counted) */
    uint8_t future[GL_POLICY_MAX_WITNESSES]; /* 1: that witness's */
    int quorum;                              /* 0 satisfied, GL_EQUORUM not */
};

/* Opens the signed checkpoint note msg (len bytes) under p at time now
 * (Unix seconds; 0 = unknown). Returns 0 if a policy log signed it AND the
 * quorum is satisfied by valid cosignatures not dated more than
 * TRUST_FUTURE_SLACK after now (those are flagged in out->future and not
 * counted); GL_EQUORUM if the log signature verified but the quorum is
 * not met (*out is filled, so the caller can say which witnesses
 * cosigned); otherwise GL_EPARSE / GL_ENOKEY / GL_EVERIFY / GL_ETOOBIG
 * with why (TRUST_WHY_MAX bytes) saying what was wrong. */
int trust_checkpoint_open(const struct gl_policy *p, const char *msg, size_t len,
                          uint64_t now, struct trust_checkpoint *out, char *why);

/* Appends "A (time), B (time)" for the witnesses that cosigned, or "no
 * witness" to out; then, if any, "; not cosigned by C, D" and "; invalid
 * cosignature by E". */
int trust_describe_cosigners(const struct gl_policy *p, const struct trust_checkpoint *c,
                             struct gl_buf *out);

/* How far a cosignature may be dated ahead of the verifier's clock and
 * still count, for the quorum and for the age: 5 minutes. A time t counts
 * iff t <= now + TRUST_FUTURE_SLACK (exactly 5 minutes ahead still
 * counts). Shared with the witness, which stays within less
 * (glasslog/cosig.h). */
#define TRUST_FUTURE_SLACK GL_COSIG_FUTURE_SLACK

/* The checkpoint's age as its witness quorum vouches for it. */
struct trust_age {
    int rc;        /* 0: T found; GL_EQUORUM: the valid, not future-dated
                      cosignatures do not satisfy the quorum; GL_ENOTFOUND:
                      the quorum is none, no witness vouches for a time */
    uint64_t time; /* T (rc 0): the latest time such that the counted
                      cosignatures dated T or later satisfy the quorum */
    uint64_t age;  /* now - T, 0 if T is ahead of now (rc 0) */
    size_t nfuture;
    uint8_t future[GL_POLICY_MAX_WITNESSES]; /* 1: valid cosignature dated
                      more than TRUST_FUTURE_SLACK after now (not counted) */
};

/* Computes the age of the checkpoint c (opened under p) at now (Unix
 * seconds, nonzero): the witnesses with a valid cosignature dated at most
 * TRUST_FUTURE_SLACK after now are counted, the others with a valid one
 * are flagged future, and T is gl_policy_quorum_time over the counted
 * ones. Fills *out; returns out->rc (or GL_EINVAL for bad arguments). */
int trust_age(const struct gl_policy *p, const struct trust_checkpoint *c, uint64_t now,
              struct trust_age *out);

/* Judges a (trust_age of c at now) against max_age seconds: 0 if the
 * quorum's time is known and at most max_age old; else GL_EVERIFY with
 * why saying what (too old, quorum none, or the quorum not met by valid
 * cosignatures not dated in the future, naming those). */
int trust_age_judge(const struct gl_policy *p, const struct trust_checkpoint *c,
                    const struct trust_age *a, uint64_t now, uint64_t max_age,
                    char why[TRUST_WHY_MAX]);

/* Appends "W1 at <time> (<s> s ahead), W2 ..." for the witnesses a flags
 * as future, to out. */
int trust_describe_future(const struct gl_policy *p, const struct trust_checkpoint *c,
                          const struct trust_age *a, uint64_t now, struct gl_buf *out);

/* Parses msg (n bytes) as a statement into *st (pointing into msg) and
 * verifies its signature against keys. 0 with *which = the signing key's
 * index; GL_EPARSE / GL_ETOOBIG (malformed or empty: msg may be NULL
 * when n is 0), GL_ENOKEY (not signed by any of keys) or GL_EVERIFY (bad
 * signature), why saying what in every case. */
int trust_statement(const struct gl_verifier *keys, size_t nkeys, const char *msg,
                    size_t n, struct gl_statement *st, size_t *which, char *why);

/* The steps of an offline verification, in the order they run. */
enum trust_step {
    TRUST_STATEMENT = 0, /* statement syntax */
    TRUST_SUBMITTER,     /* signed by a policy submitter */
    TRUST_ARTIFACT,      /* artifact SHA-256 equals the statement's */
    TRUST_LOG,           /* checkpoint signed by the policy's log key */
    TRUST_QUORUM,        /* witness cosignatures satisfy the quorum */
    TRUST_AGE,           /* the quorum's cosignature time within --max-age */
    TRUST_INCLUSION,     /* inclusion proof leads to the checkpoint root */
    TRUST_NSTEPS
};

enum trust_state {
    TRUST_NOT_ASKED = 0, /* not requested (no artifact, no max age) */
    TRUST_PASSED,
    TRUST_FAILED,
    TRUST_BLOCKED, /* not run: an earlier step it needs failed */
};

struct trust_input {
    const char *statement; /* the entry bytes */
    size_t statement_len;
    const struct gl_tlogproof *proof;
    const uint8_t *artifact;   /* the artifact's SHA-256, or NULL */
    const char *artifact_name; /* for messages, or NULL */
    uint64_t max_age;          /* seconds, 0 = no limit */
    uint64_t now;              /* Unix seconds; 0 = unknown (then max_age
                                  must be 0 and no age is computed) */
};

struct trust_report {
    enum trust_state state[TRUST_NSTEPS];
    char why[TRUST_NSTEPS][TRUST_WHY_MAX]; /* failure reasons */
    int failed;                            /* first failed step, -1 if none */
    int have_statement;                    /* st parsed */
    struct gl_statement st;                /* points into the input statement */
    size_t submitter;                      /* index of the policy submitter, if passed */
    int have_checkpoint;                   /* ck opened (log signature verified) */
    struct trust_checkpoint ck;
    int have_age; /* age computed: checkpoint opened and now known */
    struct trust_age age;
    uint8_t leaf[GL_HASH_LEN]; /* the statement's leaf hash */
};

/* 1 if r's statement parsed but is signed by a key outside p's submitters
 * (no submitter has its signer's key name and key ID): on a log shared by
 * many submitters such a statement does not count, neither for nor
 * against. 0 otherwise, in particular for a bad signature under a policy
 * submitter's name and key ID. */
int trust_outsider(const struct gl_policy *p, const struct trust_report *r);

/* The step's name as used in messages ("artifact", "witness quorum"...). */
const char *trust_step_name(enum trust_step s);

/* Runs every check on in; fills *r. 0 if every requested step passed,
 * GL_EVERIFY otherwise (r->failed names the first failure). */
int trust_verify(const struct gl_policy *p, const struct trust_input *in,
                 struct trust_report *r);

#endif
