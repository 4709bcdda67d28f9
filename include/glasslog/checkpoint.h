/*
 * checkpoint: C2SP tlog-checkpoint v1.0.0, the text of a log's signed note.
 *
 *   <origin>\n
 *   <tree size, decimal, no leading zeros, at most 2^63-1 (as Go's tlog)>\n
 *   <base64 of the 32-byte RFC 6962 root hash>\n
 *   [<extension line, non-empty>\n]...
 *
 * Parsing is strict: every checkpoint has exactly one accepted text form
 * (canonical decimal, canonical padded base64 of exactly 32 bytes), the
 * text must be valid signed-note text (UTF-8, no control bytes but "\n",
 * final "\n"), the origin must be non-empty. Limits: origin at most
 * GL_CHECKPOINT_ORIGIN_MAX bytes, text at most GL_CHECKPOINT_TEXT_MAX bytes,
 * at most GL_CHECKPOINT_EXT_MAX extension lines.
 *
 * The spec only requires the origin to be non-empty (clients must not
 * assume it is a URL), so gl_checkpoint_parse accepts any such origin; the
 * log's key name must equal the origin, which gl_checkpoint_open and
 * gl_checkpoint_sign enforce, so a verified origin is always a valid key
 * name. That is stricter than tlog-checkpoint (which says SHOULD) and what
 * tlog-policy requires of a log named in a policy: a log whose key name
 * differs from its origin cannot be followed by the client (the witness
 * can: its logs file names the origin apart from the key). glasslog never writes
 * extension lines; it parses and preserves them (cosignatures sign them).
 */
#ifndef GLASSLOG_CHECKPOINT_H
#define GLASSLOG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/key.h"
#include "glasslog/note.h"
#include "glasslog/sha256.h"

#define GL_CHECKPOINT_ORIGIN_MAX GL_KEY_NAME_MAX /* bytes */
#define GL_CHECKPOINT_TEXT_MAX 16384             /* bytes of note text */
#define GL_CHECKPOINT_EXT_MAX 16                 /* extension lines */

/* A checkpoint as plain values. ext points into the text it was parsed
 * from (or into caller memory when formatting) and is never owned. */
struct gl_checkpoint {
    char origin[GL_CHECKPOINT_ORIGIN_MAX + 1]; /* NUL-terminated */
    uint64_t size;
    uint8_t root[GL_HASH_LEN];
    const char *ext; /* extension lines, each ending "\n"; NULL if none */
    size_t ext_len;  /* bytes at ext, 0 if none */
    size_t next;     /* number of extension lines */
};

/* Parses checkpoint note text (n bytes, without the blank line and
 * signatures). out->ext points into text, which must outlive *out.
 * GL_ETOOBIG past a cap, GL_EPARSE if malformed; *out undefined then, and
 * why (may be NULL) names the problem and its line. */
int gl_checkpoint_parse(const char *text, size_t n, struct gl_checkpoint *out,
                        struct gl_err *why);

/* Appends the note text of c (extension lines included) to out. Fails
 * with GL_EPARSE, leaving out unchanged, unless the result would parse
 * back into c (empty or over-long origin, bad extension lines, ...). */
int gl_checkpoint_format(const struct gl_checkpoint *c, struct gl_buf *out);

/* Builds the checkpoint (origin, size, root), no extension lines, signs it
 * with k and appends the whole signed note to out. k must be a GL_KEY_NOTE
 * signer (GL_EKEYTYPE otherwise) whose name equals origin (GL_EINVAL). */
int gl_checkpoint_sign(const char *origin, uint64_t size, const uint8_t root[GL_HASH_LEN],
                       const struct gl_signer *k, struct gl_buf *out);

/* Opens a signed checkpoint note (msg, len bytes): parses the note,
 * verifies it with the log's GL_KEY_NOTE verifier (signed-note rules:
 * other signatures, e.g. cosignatures, are ignored), parses the text and
 * requires origin == log_key->name. On success *out is the verified
 * checkpoint (out->ext points into msg) and, if note_out is not NULL,
 * *note_out the parsed note (points into msg; the caller frees it with
 * gl_note_free), e.g. to check cosignatures. Errors: GL_EKEYTYPE (log_key
 * not GL_KEY_NOTE), GL_EPARSE/GL_ETOOBIG (malformed), GL_ENOKEY (no
 * signature by log_key), GL_EVERIFY (bad log signature, origin differs
 * from the key name). On error nothing is allocated and why (may be NULL)
 * says what was wrong (lines of msg for syntax). */
int gl_checkpoint_open(const char *msg, size_t len, const struct gl_verifier *log_key,
                       struct gl_checkpoint *out, struct gl_note **note_out,
                       struct gl_err *why);

#endif
