/*
 * restore: `glasslogd --data DIR --restore-from URL` rebuilds a lost log
 * from any C2SP tlog-tiles copy of it (the log's own mirror, a
 * transparency centre's copy, a static tile directory), trusting nothing
 * the copy says until it is proven:
 *  1. the copy's checkpoint must be signed by this log's key and, with
 *     --witnesses, cosigned by that policy's quorum; its size and root are
 *     the target;
 *  2. every entry bundle is fetched, every entry hashed and appended to a
 *     fresh tree; the recomputed root must equal the checkpoint's;
 *  3. every hash tile the copy serves for that size must equal the one
 *     recomputed from the entries (byte for byte);
 * (a partial tile or bundle the copy does not serve, 404, is read from
 * the full one's prefix with gl_tile_fetch, and checked the same way)
 * all into DIR.restoring, a store without a log key or state until step
 * 3 passed (so an interrupted restore can never be served), then the key
 * and a checkpoint of that size and root freshly signed by the log key are
 * committed and DIR.restoring is renamed to DIR. Anything that does not
 * verify is refused with the reason, and DIR.restoring is removed.
 * DIR must be missing or empty; a symbolic link is followed (the restore
 * fills the directory it names, built beside that one); DIR is made if
 * missing and flock'ed until the restore ends, so a second restore of it
 * is refused before it touches DIR.restoring. The restored store is marked as a copy
 * (store_get_copy): the copy may be older than what the log released, so
 * glasslogd then signs nothing until every witness of the policy answered
 * its start-up check without conflict (a witness that cosigned a larger
 * or another tree refuses the restored log; one that does not answer
 * stops the start), or, with no witnesses, until the operator states with
 * --accept-copy that the copy is current. The mark is then removed.
 */
#ifndef GL_LOG_RESTORE_H
#define GL_LOG_RESTORE_H

#include <stddef.h>

#include "glasslog/key.h"
#include "glasslog/policy.h"

struct restore_config {
    const char *url;             /* the tlog-tiles prefix */
    const char *dir;             /* the data directory to make */
    const struct gl_signer *key; /* the log key (signs the new checkpoint) */
    const struct gl_verifier *vkey;
    const struct gl_policy *policy; /* NULL, or the witness quorum to require */
    size_t cache_mb;
};

/* Runs the restore (logged, with progress). 0, or GL_EEXIST (DIR has
 * data), GL_EVERIFY (something did not verify), GL_EIO (network, disk),
 * GL_EQUORUM, ... after logging why. */
int restore_run(const struct restore_config *rc);

#endif
