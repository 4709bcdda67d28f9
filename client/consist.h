/*
 * consist: the one check that a log's checkpoint is consistent with the
 * one this client remembered for it (state.h), used by `lookup` (proofs
 * from the log's API) and `monitor` (proofs computed from the log's
 * tiles). The proof comes from a consist_source, so the rule is written
 * once whatever gives the proof:
 *
 *   - equal sizes need equal roots; an empty tree is a prefix of any;
 *   - otherwise the RFC 9162 consistency proof from the smaller to the
 *     larger size must verify against both signed roots;
 *   - a proof that does not verify is asked for once more after the
 *     source's refresh (when it has one: the monitor's tile cache is
 *     emptied, so the proof is computed from fresh fetches; lookup turns
 *     back to the log's own URL): a tile that was wrong once must not
 *     raise alarms for as long as it is cached, and a mirror that serves
 *     a wrong proof must not make the log look forked;
 *   - a proof that still does not verify, or differing roots at one size,
 *     is a fork: recorded as evidence (alarm.h) with the proof the source
 *     gave (a split-view evidence file only when the pair provably is one)
 *     and the URL that served the proof named in the detail; except when
 *     that proof came from a mirror (the log's own could not be had): it
 *     shows only the mirror wrong, and is a verification failure naming
 *     the mirror, not a fork;
 *   - a smaller checkpoint whose proof cannot be had is refused (a log
 *     must be able to prove that it did not shrink), not recorded;
 *   - a larger one whose proof cannot be had is an I/O failure (try again).
 *
 * Both checkpoints must have been verified (log signature) by the caller.
 */
#ifndef GL_CLIENT_CONSIST_H
#define GL_CLIENT_CONSIST_H

#include <stddef.h>
#include <stdint.h>

#include "alarm.h"
#include "glasslog/checkpoint.h"
#include "glasslog/merkle.h"

/* Where consistency proofs come from. */
struct consist_source {
    /* Fills proof[] (at most GL_MERKLE_MAX_PROOF hashes, *len of them)
     * for sizes lo -> hi, 0 < lo < hi. 0 or a GL_E* code; `error` then
     * says why when it is not empty. */
    int (*prove)(void *ctx, uint64_t lo, uint64_t hi, uint8_t (*proof)[GL_HASH_LEN],
                 size_t *len);
    /* The root of the first lo leaves of the tree of hi leaves, when the
     * source can tell (for the split-view evidence file); may be NULL. */
    int (*prefix_root)(void *ctx, uint64_t lo, uint64_t hi, uint8_t out[GL_HASH_LEN]);
    /* Forgets what the source cached, before a proof that did not verify
     * is asked for again; may be NULL (nothing cached: no second try). */
    void (*refresh)(void *ctx);
    /* The URL that served the last proof (*url, or NULL when there is
     * none to name) and whether it is a mirror's (1) rather than the
     * log's own (0); may be NULL (the log's own, no URL). */
    int (*served_by)(void *ctx, const char **url);
    void *ctx;
    const char *error; /* NUL-terminated message of the last failure, or NULL */
    const char *what;  /* the source in messages, e.g. "the log's tiles" */
    const char *seen;  /* how the remembered one was had: "seen", "verified" */
};

/* One checkpoint: its note as served (for evidence) and its parsed body. */
struct consist_checkpoint {
    const char *note;
    size_t len;
    const struct gl_checkpoint *cp;
};

/* Checks cur against the remembered old, as above; failures are reported
 * on stderr. 0 consistent; GL_EVERIFY a fork (recorded through a: *forked
 * set to 1), a smaller checkpoint not proven a prefix or a mirror's proof
 * that does not verify (*forked 0);
 * GL_EIO the proof for a larger checkpoint could not be had. forked may
 * be NULL. */
int consist_check(struct alarm_ctx *a, const struct consist_source *src,
                  const struct consist_checkpoint *old,
                  const struct consist_checkpoint *cur, int *forked);

#endif
