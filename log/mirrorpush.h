/*
 * mirrorpush: glasslogd feeding C2SP tlog-mirrors (--mirrors FILE).
 *
 * The file lists one mirror a line, like the witnesses of a tlog-policy:
 *
 *   mirror <name> <cosigning verifier key> <submission URL>
 *
 * ("#" comments and blank lines skipped; fields split by spaces or tabs;
 * at most MIRRORPUSH_MAX mirrors). The name is a local label for log lines
 * and metrics, any word of printable ASCII without " or \ (so no label
 * needs escaping), one per mirror, as a policy's witness names are; the
 * key's own name is what finds the mirror's cosignature.
 * A thread of its own, every interval, for each mirror whose copy is
 * behind the stored tree (size P, checkpoint C):
 *   0. only a released tree is pushed: while P is above the largest size
 *      the sequencer released (mirrorpush_released: made durable, every
 *      release, a follower's adopted trees too), the round pushes nothing
 *      and the release wakes the thread for the next one. The store may
 *      show a tree never released: after a failed write, a read-only
 *      reopen replays the write-ahead log, the failed batch included, into
 *      memory alone (on a shared store, a commit may be on the primary
 *      alone); its checkpoint, sent to a mirror (which cosigns as a
 *      witness), would outlive a power loss after which the log signs
 *      another tree of that size. The served (cosigned) checkpoint is no
 *      gate: mirrors may be among the witnesses its quorum needs.
 *      A size held back for a whole interval is logged once;
 *   1. probes with an empty add-entries at P (start = end = P): a 200
 *      means the mirror holds P already (its cosignature), a 409's
 *      mirror info gives the mirror's pending size and next entry;
 *   2. if the pending size is below P: add-checkpoint of C with the
 *      consistency proof from that size (a 409 names the size to prove
 *      from: retried once);
 *   3. add-entries of [next, P), MIRRORPUSH_PACKAGES packages a request
 *      (fewer past GL_MIRROR_BODY_SOFT bytes, halved after a 413),
 *      entries read from the store and subtree proofs computed from the
 *      stored tiles, resuming from each 202's (or 409's) next entry, until
 *      a 200, whose cosignature must verify with the mirror's key; the
 *      log then serves that line on its checkpoint while the text is the
 *      same (mirrorpush_lines, api.c).
 * C is the checkpoint glasslogd serves (mirrorpush_served: the log's
 * signature and the witness cosignatures) when its text is the stored
 * tree's, else the stored, log-signed checkpoint. When the served
 * checkpoint of a size a mirror holds gains cosignatures, they are sent
 * again: add-checkpoint of C with old = P (an empty proof) and the probe
 * again, so the mirror checkpoint carries them (specs/mirror.md).
 * Store reads only (store.h rule 5): the thread never touches the loop,
 * the sequencer or the published tree.
 * Uploads are gzipped (Content-Encoding) while the mirror's replies list
 * gzip in Accept-Encoding; a 415 resends the body as is. Each request
 * carries the ticket of the mirror's last 202/409 (any mirror's: up to
 * 65535 bytes), so a mirror may accept an upload_end it no longer
 * remembers.
 */
#ifndef GL_LOG_MIRRORPUSH_H
#define GL_LOG_MIRRORPUSH_H

#include <stdint.h>

#include "glasslog/error.h"
#include "glasslog/key.h"
#include "store.h"

#define MIRRORPUSH_MAX 16
#define MIRRORPUSH_PACKAGES 32
#define MIRRORPUSH_URL_MAX 1024

#define MIRRORPUSH_NAME_MAX 256

struct mirrorpush_target {
    char name[MIRRORPUSH_NAME_MAX + 1]; /* the line's name, for log lines */
    struct gl_verifier key;             /* GL_KEY_COSIG */
    char url[MIRRORPUSH_URL_MAX + 1];
};

struct mirrorpush_list {
    struct mirrorpush_target v[MIRRORPUSH_MAX];
    size_t n;
};

/* Parses a mirrors file (n bytes). GL_EPARSE / GL_ETOOBIG with why. */
int mirrorpush_parse(const char *text, size_t n, struct mirrorpush_list *out,
                     struct gl_err *why);

struct mirrorpush;

/* The start-up check of a copy (a backup or a restore, specs/log.md):
 * asks each mirror of list what it holds of this log, with the question
 * a witness is asked (wprobe.h; a mirror's add-checkpoint is its
 * witness's, whose checkpoint bounds what the mirror stores and
 * cosigns), about note (len bytes, borrowed): the copy's checkpoint, of
 * size `size`. A mirror holding a larger tree, or another tree of that
 * size, refuses the start (GL_ESTATE, the log line naming it); so does
 * one that does not answer, unless accept (--accept-copy). Blocks up to
 * one HTTP timeout a mirror. */
int mirrorpush_probe(const struct mirrorpush_list *list, const uint8_t *note, size_t len,
                     uint64_t size, int accept);

/* Starts the thread over store (borrowed; must outlive it). It pushes
 * nothing until mirrorpush_released gives a size. */
int mirrorpush_start(struct store *store, const struct mirrorpush_list *list,
                     unsigned interval_ms, struct mirrorpush **out);
/* The sequencer released (made durable) the tree of `size`: the pusher
 * may push stored trees up to the largest size given (any thread; NULL
 * p: no-op). glasslogd calls it for every release, and right after
 * mirrorpush_start with the loaded tree's size where that is durable
 * (not on a shared store: there the first release gives it). */
void mirrorpush_released(struct mirrorpush *p, uint64_t size);
/* Appends to out the verified cosignature lines of the mirrors whose
 * latest cosigned checkpoint text is text (n bytes; any thread). NULL p:
 * none. */
int mirrorpush_lines(struct mirrorpush *p, const char *text, size_t n,
                     struct gl_buf *out);
/* The checkpoint glasslogd serves now (note with the witness
 * cosignatures, len bytes, copied; any thread): what is pushed to the
 * mirrors while its text is the stored tree's. NULL p: no-op. */
void mirrorpush_served(struct mirrorpush *p, const uint8_t *note, size_t len);
/* Appends each mirror's Prometheus series to out: glasslog_mirror_size
 * (the size it cosigned last) and glasslog_mirror_push_failures_total,
 * labelled mirror="<name>" (any thread). NULL p: nothing. 0 or
 * GL_ETOOBIG. */
int mirrorpush_metrics(struct mirrorpush *p, struct gl_buf *out);
/* Stops (at most one HTTP timeout) and frees. NULL is a no-op. */
void mirrorpush_free(struct mirrorpush *p);

#endif
