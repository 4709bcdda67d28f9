/*
 * alarm: recording what a monitor (or lookup) found wrong with a log, as
 * evidence directories in the state directory (state.h), and running the
 * user's --on-alarm command. Formats in specs/client.md, "Alarms".
 *
 * Kinds:
 *   fork                  two checkpoints signed by the log that are not
 *                         consistent (same size and different roots, or no
 *                         valid consistency proof from the smaller to the
 *                         larger). Files: checkpoint.old, checkpoint.new
 *                         (as served), consistency-proof (what the log's
 *                         data gave), and split-view.evidence (the
 *                         standard glasslog evidence file of
 *                         include/glasslog/evidence.h) when the pair is
 *                         provably a split view.
 *   unexpected-statement  a statement by a watched submitter that is not in
 *                         the expected-releases file. Files: statement,
 *                         statement.tlog-proof (the offline bundle against
 *                         the verified checkpoint: `glasslog verify
 *                         --bundle` checks it).
 *   bad-entry             an entry the log should never have accepted (not
 *                         a statement, or a bad signature under the name
 *                         and key ID of a policy or watched submitter).
 *                         Files: statement, and statement.tlog-proof when
 *                         the log's tiles prove its inclusion (else
 *                         checkpoint).
 *   bad-tile              an entry whose leaf hash differs from the log's
 *                         level-0 tile (the tiles other clients use for
 *                         proofs disagree with the entries). Files as for
 *                         bad-entry.
 *   bad-tree              the entries do not hash to the checkpoint's root.
 *                         Files: checkpoint.
 *   rebuild-differs, source-not-logged, unaudited-source, future-statement
 *                         the provenance-chain alarms (chainwatch.h).
 *                         Files as for unexpected-statement, plus
 *                         related.statement and related.tlog-proof for
 *                         the other statement of the finding (none for
 *                         an unaudited build the log's lookup hid: its
 *                         statement then comes from the tiles, or only
 *                         the checkpoint when that failed).
 *
 * Directory names are deterministic (kind, sizes or index, a hash prefix),
 * so one finding is recorded and announced once however often it is seen.
 */
#ifndef GL_CLIENT_ALARM_H
#define GL_CLIENT_ALARM_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/key.h"
#include "glasslog/merkle.h"
#include "state.h"

struct alarm_hook;

/* Where an alarm goes. */
struct alarm_ctx {
    const struct state *s;
    const struct gl_verifier *log_key; /* the log's key (for the summary) */
    const char *url;                   /* the URL that served (log or mirror), or NULL */
    const char *on_alarm;              /* shell command, or NULL */
    unsigned on_alarm_timeout_s;       /* its time limit (0: none; hook.h) */
    unsigned recorded;                 /* new alarms recorded */
    unsigned seen;                     /* alarms found (new or not) */
    int defer;                         /* hooks queued: alarm_defer */
    struct alarm_hook *deferred;       /* the queue (owned; alarm_run_deferred) */
};

/* From now on the hooks of new alarms wait in a's queue (a caller about
 * to take the state lock: a hook may use the state). Their evidence and
 * messages are not delayed. */
void alarm_defer(struct alarm_ctx *a);
/* Runs the queued hooks in order, frees the queue, and stops deferring.
 * Call after alarm_defer once the lock is let go, on every path. */
void alarm_run_deferred(struct alarm_ctx *a);

/* A fork between the checkpoint notes old (m leaves) and cur (n leaves):
 * records it (with the consistency proof the log's data gave, len hashes,
 * possibly none) and runs the hook. prefix_root (may be NULL) is the root
 * of the first min(m, n) leaves of the larger tree as the log's data gave
 * it: the standard evidence file needs it when min(m, n) is a power of
 * two. detail is one line. The evidence directory goes to dir
 * (STATE_PATH_MAX bytes). 0 (recorded, or recorded before), GL_EIO. */
int alarm_fork(struct alarm_ctx *a, const char *old, size_t oldlen, uint64_t m,
               const char *cur, size_t curlen, uint64_t n,
               const uint8_t (*proof)[GL_HASH_LEN], size_t len,
               const uint8_t *prefix_root, const char *detail, char *dir);

/* A finding about entry `index` (for bad-tree: the tree size): kind is
 * "unexpected-statement", "bad-entry", "bad-tile" or "bad-tree"; files[n]
 * are written as given. 0, GL_EIO. */
int alarm_entry(struct alarm_ctx *a, const char *kind, uint64_t index,
                const uint8_t leaf[GL_HASH_LEN], const struct state_file *files, size_t n,
                const char *detail, char *dir);

#endif
