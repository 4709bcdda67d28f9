/*
 * mirrorresp: what glasslogd reads in a C2SP tlog-mirror's answers to its
 * pushes (mirrorpush.c), apart from the mirror info of a 202 or 409 to
 * add-entries, which lib/mirror.c parses (gl_mirror_info_parse), and the
 * tree size of a 409 to add-checkpoint, read as a witness's is
 * (gl_parse_size_body).
 *
 *   200 to add-entries: one or more signature lines, each
 *       "— <name> <base64>\n"; the mirror's cosignature (tlog-cosignature)
 *       on the pushed checkpoint is one of them (mirrorresp_cosig).
 *
 * It is a pure function over the caller's bytes: nothing is allocated,
 * results point into the body, and every refusal says why (why may be
 * NULL; its line is 1-based in the body).
 */
#ifndef GL_LOG_MIRRORRESP_H
#define GL_LOG_MIRRORRESP_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/error.h"
#include "glasslog/key.h"

#define MIRRORRESP_LINES 16       /* signature lines a 200 body may hold */
#define MIRRORRESP_BODY_MAX 16384 /* and its bytes */

/* The cosignature by key (a GL_KEY_COSIG verifier, borrowed) on the
 * checkpoint text (text_len bytes: the note text, final "\n" included) in
 * the body of a 200 to add-entries (n bytes, borrowed). The whole body is
 * checked before any line is taken, so the answer does not depend on the
 * order of the lines: it must be 1 to MIRRORRESP_LINES signature lines,
 * each ending in "\n" (no "\r" before it, no NUL), in at most
 * MIRRORRESP_BODY_MAX bytes. Lines by other keys (name or key ID) are
 * ignored, as tlog-mirror says unknown keys are, whatever their length; a
 * line by key that does not verify is passed over for one that does.
 * On 0, body[*off .. *off + *len) is the first line by key that verifies,
 * with its "\n". GL_ETOOBIG: a body or a count of lines over the caps;
 * GL_EPARSE: an empty body, a line that is not a signature line or does
 * not end in "\n"; GL_ENOKEY: no line by key; GL_EVERIFY: lines by key,
 * none of which verifies; GL_EKEYTYPE / GL_ETOOBIG from gl_cosig_verify
 * for a key or text it refuses. A line that verifies but is dated more
 * than GL_COSIG_FUTURE_SLACK after now (gl_cosig_dated_ahead; now 0: no
 * clock check) counts as one that does not: verifiers would not count it.
 * *off and *len are set only on 0. */
int mirrorresp_cosig(const struct gl_verifier *key, const char *text, size_t text_len,
                     const char *body, size_t n, uint64_t now, size_t *off, size_t *len,
                     struct gl_err *why);

#endif
