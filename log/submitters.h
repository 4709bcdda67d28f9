/*
 * submitters: glasslogd's --submitters file, the note keys allowed to
 * append, each with an optional rate limit (specs/log.md, "Submitters
 * file"):
 *
 *   # comment
 *   <verifier key>
 *   <verifier key> rate=<per second> burst=<n>     # trailing comment
 *
 * A line is a verifier key (name+id+base64, a note key: type 0x01)
 * followed by zero or more options separated by spaces or tabs: rate=R
 * (appends a second, a decimal such as 0.5, or "unlimited") and burst=B
 * (a whole number >= 1), each at most once. A token starting with "#"
 * starts a comment. What a line leaves out comes from the defaults
 * (glasslogd's --submit-rate and --submit-burst). So a file of bare keys,
 * the original format, stays valid.
 *
 * Strict: an unknown or repeated option, a bad value, a key that is not a
 * note key, or a key listed twice (same name and key ID) is an error with
 * its line number. Caps: SUBMITTERS_FILE_MAX bytes, SUBMITTERS_LINE_MAX
 * bytes a line, max keys (the caller's).
 */
#ifndef GL_LOG_SUBMITTERS_H
#define GL_LOG_SUBMITTERS_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/error.h"
#include "glasslog/key.h"
#include "ratelimit.h"

#define SUBMITTERS_FILE_MAX ((size_t)8 << 20)
#define SUBMITTERS_LINE_MAX (GL_KEY_TEXT_MAX + 256)

struct submitters {
    struct gl_verifier *keys; /* n keys, owned */
    struct ratelimit *limits; /* n buckets, owned; limits[i] is keys[i]'s */
    size_t n;
};

/* Parses the file's text (len bytes) into out: at most max keys, each
 * with a full bucket at now_ms built from its options and the defaults.
 * Errors: GL_EPARSE, GL_ETOOBIG (a line, the file or the key count over
 * its cap), GL_EKEYTYPE (a cosigning key), GL_EEXIST (a key listed twice),
 * GL_ENOMEM, with why (may be NULL) saying what was wrong and on which
 * line. The caller releases out (also after an error). */
int submitters_parse(const char *text, size_t len, size_t max,
                     const struct ratelimit_limit *defaults, uint64_t now_ms,
                     struct submitters *out, struct gl_err *why);
/* Reads path and parses it as submitters_parse does; GL_EIO (errno kept)
 * if the file cannot be read, with why saying so. */
int submitters_load(const char *path, size_t max, const struct ratelimit_limit *defaults,
                    uint64_t now_ms, struct submitters *out, struct gl_err *why);
/* Frees what s owns and empties it. Safe on an empty or released s. */
void submitters_release(struct submitters *s);

#endif
