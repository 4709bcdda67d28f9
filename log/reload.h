/*
 * reload: what glasslogd re-reads on SIGHUP, without dropping connections
 * or state: the submitters file and the witness policy, at the paths the
 * settings read again name (main.c's reload_all; config_reload_check says
 * which settings a reload applies). Both files are
 * read and parsed in full first; if either does not parse (or cannot be
 * read), or the submitters file lists no key (an edit gone wrong would
 * otherwise refuse every append at once; a --read-only log may have
 * none), the reload is refused: a log line names the file and why, one
 * line says "reload: refused", and both files in use stay. Otherwise both
 * are put in place together. Loop thread only.
 *
 * Submitters: keys still listed with the same limit keep their rate-limit
 * bucket (a reload does not refill anyone's tokens); new keys start full.
 * Appends whose signature is being checked when a key is removed are
 * refused 403 once the check ends (api.c finds the key again).
 *
 * Witness policy: every witness must have a URL (as at start-up); the
 * publisher switches between requests (publish_set_policy).
 */
#ifndef GL_LOG_RELOAD_H
#define GL_LOG_RELOAD_H

#include <stdint.h>

#include "api.h"
#include "glasslog/policy.h"
#include "ratelimit.h"
#include "submitters.h"

#define RELOAD_STATUS_MAX 1024

/* What a reload reads: the submitters file (at most max keys; defaults
 * for lines without options) and the witness policy (NULL or "": none).
 * allow_empty: a submitters file without a key is accepted (start-up,
 * --read-only); else it is refused. */
struct reload_config {
    const char *submitters;
    size_t max;
    struct ratelimit_limit defaults;
    const char *witnesses;
    int allow_empty;
};

/* Reads the witness policy at path into *out (caller frees it with
 * gl_policy_free); logs why on failure (GL_EIO, GL_EPARSE, GL_EINVAL for
 * a witness without a URL, ...). */
int reload_load_policy(const char *path, struct gl_policy **out);

/* Reads and parses c->submitters into *out (buckets full at now_ms; the
 * caller releases *out, also after an error); logs why on failure
 * (FILE:LINE: reason), and GL_EINVAL for a file without a key unless
 * c->allow_empty. */
int reload_read_submitters(const struct reload_config *c, uint64_t now_ms,
                           struct submitters *out);

/* SIGHUP: reads and parses the submitters file and the witness policy
 * (if c names one) first; only if both are usable are both put in place
 * (the submitters into *cur and the api's view of them, the old freed;
 * the policy handed to pub: publish_set_policy), else nothing changes
 * (also when c names a policy and pub is NULL: the log started without
 * witnesses, which a reload cannot change). Logs the problems, then one
 * outcome line, "reload: applied: ..." or "reload: refused: ...", and
 * writes the same outcome (at most status_len bytes, NUL-terminated;
 * RELOAD_STATUS_MAX is enough) into status for the service manager.
 * 0 if applied, else the first error. */
int reload_run(const struct reload_config *c, struct submitters *cur, struct api *api,
               struct publish *pub, char *status, size_t status_len);

#endif
