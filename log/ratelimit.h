/*
 * ratelimit: token buckets, one per submitter key, for glasslogd's
 * POST /api/v1/add (specs/log.md, "Rate limits").
 *
 * A bucket holds at most `burst` tokens and gains `rate` tokens a second;
 * an append needs one whole token. The clock is the caller's: every call
 * takes now_ms, milliseconds of a monotonic clock (uv_now on the loop), so
 * tests drive time by hand. Loop-thread only, no locking.
 *
 * Exact arithmetic: a rate is kept in millionths of a token per second,
 * which is also billionths of a token ("nanotokens") per millisecond, and
 * the level in nanotokens, so refills, the admit decision and Retry-After
 * are integer computations without rounding drift: a client that waits
 * the Retry-After it was given finds a whole token (unless someone else
 * spent it).
 *
 * Admit and spend are separate calls. ratelimit_admit only looks (level at
 * least one token); ratelimit_spend takes a token and may leave the level
 * below zero. glasslogd admits before it reserves a pool slot and spends
 * only once the statement's signature verified, so only the key's holder
 * can spend its tokens; appends that were admitted together and verified
 * later are all paid for, and the debt refuses further appends until the
 * refill has covered it. So over any t seconds a bucket accepts at most
 * burst + rate * t appends plus the ones in verification at the end of
 * the interval (each holding a pool slot and a connection).
 *
 * Several front-ends (a store they share, store_shared): the bucket is the
 * store's (store_bucket_take, named by ratelimit_bucket_name), so the
 * limit holds across all of them, and the struct ratelimit mirrors the
 * level the store last answered (Retry-After, /metrics) and counts this
 * process's refusals. Admission before verification is ratelimit_admit
 * on the mirror alone, a pre-filter without a store call, so forged
 * statements naming the key cost a signature check and nothing in the
 * store. Once the signature verified, ratelimit_take_shared takes a whole
 * token in the store only if the bucket holds one (ONE call, on the
 * calling thread) and refuses the append otherwise: no debt, and over any
 * t seconds the front-ends together accept at most burst + rate * t (the
 * store's clock). The mirror holds no less than the store (both refill
 * alike, and only other front-ends' takes lower the store's level unseen;
 * up to the two clocks' drift, and but for a debt the fallback below
 * left), so the pre-filter refuses nothing the store would take. If the
 * store fails, the process decides on its mirror (logged: admit, then
 * spend with debt, as one process does), so a database outage never
 * refuses appends the mirror admits. Stores one process owns keep the
 * buckets in the struct (no store call).
 *
 * Invariants: an unlimited bucket (rate 0) admits everything and never
 * changes its level; otherwise 1 <= burst <= RATELIMIT_BURST_MAX and the
 * level never exceeds burst tokens.
 */
#ifndef GL_LOG_RATELIMIT_H
#define GL_LOG_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/key.h"
#include "store.h"

#define RATELIMIT_TOKEN 1000000000LL        /* nanotokens in a token */
#define RATELIMIT_RATE_MAX 1000000000000ULL /* 10^6 tokens/s, in micro */
#define RATELIMIT_BURST_MAX 1000000ULL      /* tokens */
#define RATELIMIT_RATE_TEXT_MAX 32          /* longest rate text accepted */
/* What ratelimit_parse_rate accepts, for error messages. */
#define RATELIMIT_RATE_SYNTAX                                                            \
    "\"unlimited\" or appends a second: a decimal above 0, at most 1000000, with "       \
    "at most 6 decimals (e.g. 0.5)"

struct ratelimit_limit {
    uint64_t rate_u; /* millionths of a token per second; 0 = unlimited */
    uint64_t burst;  /* tokens, 1..RATELIMIT_BURST_MAX (unused if unlimited) */
};

struct ratelimit {
    struct ratelimit_limit lim;
    int64_t level;    /* nanotokens at last_ms; negative = debt */
    uint64_t last_ms; /* the clock at the last spend (or init) */
    uint64_t limited; /* appends refused, for /metrics */
};

/* Makes a full bucket for limit l at now_ms. */
void ratelimit_init(struct ratelimit *b, const struct ratelimit_limit *l,
                    uint64_t now_ms);
/* 1 if b has no limit (rate 0). */
int ratelimit_unlimited(const struct ratelimit *b);
/* The level at now_ms in nanotokens (refilled, at most burst tokens; may
 * be negative), without changing b. A clock that went back counts as no
 * time passed. Unlimited buckets: burst tokens. */
int64_t ratelimit_level(const struct ratelimit *b, uint64_t now_ms);
/* 1 if an append may go ahead now (a whole token is there, or no limit).
 * Otherwise counts the refusal in b->limited, sets *retry_after_s to the
 * whole seconds until a token is due (at least 1) and returns 0. Takes
 * no token. */
int ratelimit_admit(struct ratelimit *b, uint64_t now_ms, uint64_t *retry_after_s);
/* Takes one token at now_ms; the level may go negative (see above). */
void ratelimit_spend(struct ratelimit *b, uint64_t now_ms);
/* Whole seconds from now_ms until the level reaches one token, rounded
 * up, at least 1 (also when a token is there already: a client never
 * retries at once). Unlimited buckets: 1. */
uint64_t ratelimit_retry_after(const struct ratelimit *b, uint64_t now_ms);

/* The store bucket name of a submitter key: "<name>+<8 hex digits of its
 * ID>" into out (STORE_BUCKET_NAME_MAX + 1 bytes, NUL-terminated). */
void ratelimit_bucket_name(const struct gl_verifier *key,
                           char out[STORE_BUCKET_NAME_MAX + 1]);
/* After the statement's signature verified, on an append ratelimit_admit
 * let through: on a shared store s (see above), takes a whole token from
 * key's bucket in s if it has one, ONE store call, and mirrors the level
 * in b; 1 if it took, else counts the refusal in b->limited, sets
 * *retry_after_s (as ratelimit_admit) and returns 0. s NULL or not
 * shared, an unlimited b, or a store call that failed (logged):
 * ratelimit_spend on b and 1. */
int ratelimit_take_shared(struct ratelimit *b, struct store *s,
                          const struct gl_verifier *key, uint64_t now_ms,
                          uint64_t *retry_after_s);

/* Parses a rate: "unlimited" (rate_u 0) or a positive decimal number of
 * tokens a second with at most 6 decimals ("10", "0.5", "2.125"), at most
 * 10^6. Canonical digits only: no sign, exponent, spaces or leading
 * zeros ("0.5" but not "00.5" or ".5"). 0 or GL_EPARSE. */
int ratelimit_parse_rate(const char *s, size_t n, uint64_t *rate_u);
/* Parses a burst: a whole number from 1 to RATELIMIT_BURST_MAX. 0 or
 * GL_EPARSE. */
int ratelimit_parse_burst(const char *s, size_t n, uint64_t *burst);

/* Appends the Prometheus families glasslog_rate_limited_total (counter)
 * and glasslog_rate_tokens (gauge, tokens now, negative while in debt),
 * one series per limited key of the n keys (labels submitter=<key name>,
 * key_id=<8 hex digits>; unlimited keys are left out). b[i] is keys[i]'s
 * bucket. Nothing is appended when no key is limited. GL_ETOOBIG past
 * out's max. */
int ratelimit_render(const struct gl_verifier *keys, const struct ratelimit *b, size_t n,
                     uint64_t now_ms, struct gl_buf *out);

#endif
