/*
 * reload: what glasslogd re-reads on SIGHUP, without dropping connections
 * or state: the submitters file and the witness policy. Each file is read
 * and parsed in full first; one that does not parse (or cannot be read)
 * is refused with a log line naming the file and why, and what is in use
 * stays. Loop thread only.
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

/* Reads the witness policy at path into *out (caller frees it with
 * gl_policy_free); logs why on failure (GL_EIO, GL_EPARSE, GL_EINVAL for
 * a witness without a URL, ...). */
int reload_load_policy(const char *path, struct gl_policy **out);

/* Re-reads path (at most max keys; defaults for lines without options);
 * on success replaces *cur and the api's view of it (submitters, limits)
 * and frees the old; on failure logs why and changes nothing. */
int reload_submitters(const char *path, size_t max,
                      const struct ratelimit_limit *defaults, struct submitters *cur,
                      struct api *api);

/* Re-reads the witness policy at path and hands it to pub (NULL: the
 * daemon started without witnesses, which a reload cannot change: refused
 * with a log line). */
int reload_policy(const char *path, struct publish *pub);

#endif
