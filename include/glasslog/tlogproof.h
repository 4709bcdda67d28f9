/*
 * tlogproof: C2SP tlog-proof (current text, "c2sp.org/tlog-proof@v1"), an
 * offline-verifiable inclusion proof, stored as *.tlog-proof files.
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64 of opaque, non-empty data>\n]      (at most one)
 *   index <decimal, no leading zeros>\n
 *   [<base64 of a 32-byte hash>\n]...                 (0..63, leaf's sibling first)
 *   \n
 *   <the signed checkpoint note, verbatim: log signature and cosignatures>
 *
 * Only syntax is handled here: parsing checks that the lines are in this
 * order, every value is canonical (strict base64, canonical decimal), the
 * caps hold, and that the checkpoint is a well-formed signed note whose
 * text is a well-formed checkpoint. It verifies nothing: open the
 * checkpoint with gl_checkpoint_open, check cosignatures with cosig.h, then
 * the inclusion proof with merkle.h (which also checks the proof length
 * against index and the tree size). The extra data is not authenticated by
 * anything and must not be trusted implicitly.
 *
 * Decisions: "extra " with empty data is refused (the spec omits the line
 * when there is no extra data), so each proof has one text form and
 * parse/format round-trip byte for byte.
 */
#ifndef GLASSLOG_TLOGPROOF_H
#define GLASSLOG_TLOGPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"

#define GL_TLOGPROOF_HEADER "c2sp.org/tlog-proof@v1"
#define GL_TLOGPROOF_MAX_SIZE ((size_t)256 * 1024) /* bytes of a whole proof */
#define GL_TLOGPROOF_EXTRA_MAX 65536u              /* decoded bytes of extra data */
#define GL_TLOGPROOF_MAX_HASHES 63                 /* inclusion-proof hashes */

struct gl_tlogproof {
    uint64_t index;
    size_t nhashes;
    uint8_t hashes[64]
                  [GL_HASH_LEN]; /* first nhashes (<= 63) used, leaf's sibling first */
    const uint8_t *extra;        /* NULL iff extra_len == 0; see parse/format */
    size_t extra_len;
    const char *checkpoint; /* the signed checkpoint note, never owned */
    size_t checkpoint_len;
    int checkpoint_checked; /* nonzero: checkpoint is known to parse as a
                             * note holding a checkpoint (set by parse, or
                             * by a log formatting its own checkpoint), so
                             * format does not parse it again */
};

/* Parses a proof (len bytes). *out is heap-allocated and freed with
 * gl_tlogproof_free; its extra bytes are owned by it (same allocation),
 * its checkpoint points into data, which must outlive *out. Errors:
 * GL_ETOOBIG past a cap, GL_EPARSE if malformed, GL_ENOMEM; why (may be
 * NULL) then names the problem and its line. */
int gl_tlogproof_parse(const char *data, size_t len, struct gl_tlogproof **out,
                       struct gl_err *why);
/* Frees a parsed proof; NULL is a no-op. */
void gl_tlogproof_free(struct gl_tlogproof *p);

/* Appends the text form of p to out; all of p's memory stays the
 * caller's. Refuses (GL_ETOOBIG / GL_EPARSE / GL_EINVAL, out unchanged)
 * anything gl_tlogproof_parse would refuse; the checkpoint's note and
 * checkpoint are parsed for that unless p->checkpoint_checked. */
int gl_tlogproof_format(const struct gl_tlogproof *p, struct gl_buf *out);

/* Verifies p for the entry whose leaf hash is `leaf`: the checkpoint must
 * be signed by log_key (origin = key name) and the inclusion proof must
 * lead from leaf at p->index to its root. On success *cp (may be NULL)
 * gets the verified checkpoint. GL_EVERIFY / GL_ENOKEY / GL_ERANGE /
 * GL_EPARSE as the failing step says; why (may be NULL) then starts with
 * the step ("checkpoint: ...", "inclusion proof: ..."). Cosignatures are
 * not checked here. */
struct gl_checkpoint;
struct gl_verifier;
int gl_tlogproof_verify(const struct gl_tlogproof *p, const uint8_t leaf[GL_HASH_LEN],
                        const struct gl_verifier *log_key, struct gl_checkpoint *cp,
                        struct gl_err *why);

#endif
