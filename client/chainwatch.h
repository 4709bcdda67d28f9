/*
 * chainwatch: the monitor's provenance-chain alarms (specs/client.md,
 * "Chain alarms"). For every verified v2 statement the monitor meets it
 * asks the log's source index (GET /api/v1/lookup?source=X) what else is
 * linked to the same source and raises:
 *
 *   rebuild-differs     a rebuild and a vendor build of the same source,
 *                       subject and version with different digests
 *                       (raised on the later of the two, once);
 *   source-not-logged   a vendor build naming a source digest for which
 *                       the log holds no source statement (by a builder)
 *                       CHAINWATCH_SOURCE_GRACE after the earlier of the
 *                       build's time and the time the monitor first met
 *                       it (until then the check is pending in
 *                       chain-pending, and a source statement logged
 *                       meanwhile clears it); at once, a v1 build or
 *                       rule-update by a builder (it names no source)
 *                       under a policy with `require` lines;
 *   unaudited-source    (with --audit-within D) a vendor build whose
 *                       source no auditor's report covers D after the
 *                       earlier of the build's time and the time the
 *                       monitor first met it. Pending checks are kept in
 *                       the state directory (chain-pending) across
 *                       restarts. When
 *                       the log's answer lacks the build, its statement is
 *                       read from the log's tiles (the reader below) and
 *                       attached with a tlog-proof against a checkpoint the
 *                       monitor verified, if it verifies and is the build
 *                       recorded; otherwise the alarm comes without it and
 *                       its detail says why;
 *   future-statement    a v2 statement dated more than
 *                       CHAINWATCH_FUTURE_SLACK seconds after the time
 *                       the monitor met it.
 *
 * Only statements proven in the log clear an alarm: a statement of a
 * lookup answer counts as a source or an audit only when the prover (the
 * monitor's) shows its leaf is the entry at its index in a checkpoint the
 * monitor verified. A lookup answer is not evidence of itself; statements
 * that are not proven may still raise alarms (rebuild-differs), with the
 * log's proof attached for anyone to check.
 *
 * "Vendor build" means signed by a builder when the policy names builders,
 * by any policy submitter otherwise; likewise rebuilders and auditors
 * (lookup --chain is stricter: a link counts only with its role; an
 * alarm is about any policy key's statement that disagrees).
 * The lookups go through its own fetch (one HTTP client), so it never
 * shares one with the monitor's tile downloads; the reader (the
 * monitor's) reads tiles with the monitor's, on the same thread.
 */
#ifndef GL_CLIENT_CHAINWATCH_H
#define GL_CLIENT_CHAINWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/policy.h"
#include "glasslog/statement.h"

#define CHAINWATCH_MAX_PENDING 100000
#define CHAINWATCH_FUTURE_SLACK 3600 /* seconds a statement's time may be ahead */
/* Seconds a build's source statement may be logged after the build
 * (pipelines log concurrently) before source-not-logged is raised. */
#define CHAINWATCH_SOURCE_GRACE 600
#define CHAINWATCH_PENDING_LINE_MAX 200 /* bytes of a chain-pending line, at most */
/* Bytes of chain-pending, at most (what chainwatch ever writes). */
#define CHAINWATCH_PENDING_MAX_SIZE                                                      \
    ((size_t)CHAINWATCH_MAX_PENDING * CHAINWATCH_PENDING_LINE_MAX)

struct chainwatch;

/* A pending check, one line of chain-pending (the state directory's file
 * that chainwatch_flush writes): an audit check
 * (CHAINWATCH_PENDING_AUDIT, the line `<due> <index> <source hex>`) or a
 * source check (CHAINWATCH_PENDING_SOURCE, the line `source <due>
 * <index> <source hex> <product hex>`), the numbers decimal, the digests
 * 64 lowercase hex digits. product: the product digest of the build's
 * subject and version (source checks only; zero for audit checks). */
enum { CHAINWATCH_PENDING_AUDIT = 0, CHAINWATCH_PENDING_SOURCE = 1 };

struct chainwatch_pending {
    uint64_t due, index;
    uint8_t source[32];
    uint8_t product[32];
    int kind; /* CHAINWATCH_PENDING_* */
};

/* Parses the text of a chain-pending file (buf, len bytes, borrowed,
 * any bytes) into pend[0..*n), one check a line in the file's order, at
 * most max of them (chainwatch's own cap is CHAINWATCH_MAX_PENDING).
 * pend is the caller's (room for max); *n is always set. Each line is
 * exactly what chainwatch writes: `<due> <index> <source hex>` or
 * `source <due> <index> <source hex> <product hex>`, fields one space
 * apart, numbers decimal without sign or leading zeros, digests 64
 * lowercase hex digits, at most CHAINWATCH_PENDING_LINE_MAX bytes, each
 * ended by a newline (the last one may lack it); nothing else, no empty
 * line. 0 (an empty text holds no check); GL_EPARSE when a line is not a
 * check or the text holds more than max checks; GL_ETOOBIG when len
 * exceeds CHAINWATCH_PENDING_MAX_SIZE. On failure *n is 0 (entries of
 * pend may have been written) and why (may be NULL) says what was wrong
 * and on which line. Nothing is printed or allocated. */
int chainwatch_pending_parse(const char *buf, size_t len, struct chainwatch_pending *pend,
                             size_t max, size_t *n, struct gl_err *why);
/* Appends pend[0..n) (borrowed) to out (the caller's) as chain-pending's
 * lines, the one form chainwatch_pending_parse takes: what chainwatch
 * writes. 0, or gl_buf's error when out's cap is reached (part of the
 * text appended). */
int chainwatch_pending_format(const struct chainwatch_pending *pend, size_t n,
                              struct gl_buf *out);

/* What an alarm carries: the entry it is about (index, its bytes: stmt
 * is NULL and len 0 when neither the log's answer nor its tiles gave it,
 * as the detail then says), the entry's tlog-proof text when chainwatch
 * has one (stmt_proof: the reader's, for a build read from the tiles;
 * NULL otherwise, and the receiver proves the entry itself), the source
 * digest it concerns, and the related statement with the log's tlog-proof
 * text for it (both may be NULL). All borrowed for the call. */
struct chainwatch_alarm {
    const char *kind;
    uint64_t index;
    uint8_t source[32];
    const char *stmt, *stmt_proof;
    size_t len;
    const char *related, *related_proof;
    size_t related_len;
    char detail[512];
};

typedef void (*chainwatch_alarm_fn)(void *ctx, const struct chainwatch_alarm *a);

/* Whether the receiver of the alarms takes no more of them now: 1 full
 * (the monitor's cap of alarms per cycle is reached, monitor.c), 0 not.
 * Asked before a statement's checks, after each alarm and before each due
 * check: chainwatch raises nothing more while it says 1 (what is left is
 * kept for a later call, see chainwatch_entry and chainwatch_due). */
typedef int (*chainwatch_full_fn)(void *ctx);

/* Reads entry index from the log's tiles with evidence anyone can check:
 * appends the entry's bytes to stmt and to proof a C2SP tlog-proof text
 * (the entry as its extra data) of its inclusion in a checkpoint signed by
 * the log that the caller verified, the proof computed from the tiles and
 * verified against that checkpoint's root by the reader. Both buffers are
 * the caller's (empty, with their maximum sizes). 0; otherwise an error
 * code and why (whylen bytes, NUL-terminated) says in one line what could
 * not be read or did not verify. */
typedef int (*chainwatch_read_fn)(void *ctx, uint64_t index, struct gl_buf *stmt,
                                  struct gl_buf *proof, char *why, size_t whylen);

/* Whether the statement with leaf hash `leaf`, which a lookup answer lists
 * at index with the tlog-proof text `proof` (borrowed, NUL-terminated,
 * anything the answer held), is in the log: 0 when leaf is entry index of
 * a checkpoint signed by the log that the caller verified (the inclusion
 * proof computed from the log's tiles leads to its root), or, past those,
 * when `proof` shows it, at index, in a larger checkpoint signed by the
 * log that is consistent with the verified one; GL_EIO when that could
 * not be told (the tiles could not be read); any other code: not shown to
 * be in the log. */
typedef int (*chainwatch_prove_fn)(void *ctx, uint64_t index,
                                   const uint8_t leaf[GL_HASH_LEN], const char *proof);

/* audit_within: seconds, 0 = no unaudited-source alarm. p is borrowed,
 * urls copied (the log, then its mirrors: they serve the lookup API too).
 * fn gets the alarms; reader (may be NULL: a build the log's answer lacks
 * is then never attached) reads a build the log's answer lacks; prove
 * (may be NULL: then no statement of an answer clears an alarm) proves
 * the statements that would; full (may be NULL: never full) says when
 * fn takes no more alarms; all get ctx.
 * Caller frees with chainwatch_free. 0 or GL_E*. */
int chainwatch_new(const struct gl_policy *p, const struct fetch_urls *urls,
                   double timeout_s, uint64_t audit_within, chainwatch_alarm_fn fn,
                   chainwatch_read_fn reader, chainwatch_prove_fn prove,
                   chainwatch_full_fn full, void *ctx, struct chainwatch **out);
void chainwatch_free(struct chainwatch *w);

/* The statement at index (its bytes: stmt, parsed: st, verified, signed
 * by policy submitter which; v1 or v2), met at now (Unix seconds).
 * state_dir: where chain-pending lives. A build's audit check is pending
 * (in memory: see chainwatch_flush) before the log is asked anything; its
 * source check is made pending when the log holds no source statement
 * for it yet and it is not due yet. A v1 statement is never asked about
 * (it names no source). 0; GL_EIO when the
 * log could not be asked, or its answer could not be proven yet
 * (reported on stderr: the statement's chain checks were not made, and
 * calling again retries them); GL_ESTATE: chain-pending could not be read,
 * or holds CHAINWATCH_MAX_PENDING checks already (the cause reported on
 * stderr; no alarm was raised: calling again retries); GL_ETOOBIG: the
 * receiver is full (chainwatch_full_fn), before the statement's checks or
 * after an alarm about it: the checks after that were not made (calling
 * again makes them, raising again the alarms raised already: the monitor
 * records and announces a finding once); GL_ENOMEM. */
int chainwatch_entry(struct chainwatch *w, const char *state_dir, uint64_t index,
                     const char *stmt, size_t len, const struct gl_statement *st,
                     size_t which, uint64_t now);

/* Writes the checks chainwatch_entry made pending since the last
 * write to chain-pending (one atomic replace; nothing when none). Call
 * before saving any progress past their builds. 0, or GL_ESTATE (the
 * cause reported on stderr). */
int chainwatch_flush(struct chainwatch *w, const char *state_dir);

/* Runs the pending checks due at now (Unix seconds) of the monitored
 * log, whose origin (its checkpoints' first line, borrowed) is origin:
 * source checks always, audit checks when audit_within is not 0 (else
 * they are kept as they are). A due check that the log answers is done
 * (an alarm, or audited / the source found; a build the answer lacks is
 * read with the reader for the alarm's evidence); one whose lookup fails,
 * or whose answer lacks the
 * build without reaching it (no proof carries a checkpoint of that
 * origin, signed with a policy key for it, larger than the build's
 * index: another log's checkpoint does not count), stays pending and
 * makes the result GL_EIO (reported). While the receiver is full
 * (chainwatch_full_fn) no due check runs: they stay pending for a later
 * call (reported: how many), which does not change the result. Checks
 * of builds at index `below` or later stay pending as if not due: their
 * entries' own checks are not finished (the caller's catch-up stopped
 * before them, and makes them again, which adds no second check). 0,
 * GL_EIO, or another code when chain-pending cannot be read or written. */
int chainwatch_due(struct chainwatch *w, const char *state_dir, const char *origin,
                   uint64_t below, uint64_t now);

#endif
