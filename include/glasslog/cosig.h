/*
 * cosig: C2SP tlog-cosignature v1.0.1, Ed25519 (key type 0x04) only.
 *
 * A cosignature is a signed-note signature line on a checkpoint:
 *
 *   "— " <witness name> " " base64(key ID (4) || timestamp (8) || sig (64)) "\n"
 *
 * key ID = SHA-256(name || "\n" || 0x04 || pub)[:4]; the timestamp is u64
 * big-endian POSIX seconds and at most 2^63 - 1; sig is Ed25519 over
 *
 *   "cosignature/v1\n" "time " <timestamp, decimal> "\n" <checkpoint text>
 *
 * where the checkpoint text is the whole note body (extension lines
 * included, final "\n" included, no blank line, no signatures).
 *
 * Key separation (see key.h): only GL_KEY_COSIG keys sign or verify
 * cosignatures; GL_KEY_NOTE keys are refused with GL_EKEYTYPE. A published
 * 0x01 witness key must be converted explicitly with gl_verifier_to_cosig.
 *
 * Counting rule of gl_cosig_verify_note: signature lines whose (name, key
 * ID) match no configured witness are ignored; a witness's first line
 * decides whether it counts, and its later lines are ignored (as Go's
 * note verifier drops repeated signatures by one key: one check per
 * witness, however many lines a sender repeats). A bad line by a known
 * witness does NOT reject the note (anyone can append lines to a note,
 * and a quorum policy, not one witness, decides; a line appended after
 * the witness's own is never read); it only shows as that witness's
 * GL_EVERIFY status so that callers can log it.
 */
#ifndef GLASSLOG_COSIG_H
#define GLASSLOG_COSIG_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/key.h"
#include "glasslog/note.h"

#define GL_COSIG_SIG_LEN 72                     /* timestamp (8) || Ed25519 sig (64) */
#define GL_COSIG_TIME_MAX 0x7fffffffffffffffULL /* 2^63 - 1 */

/* Clock slack, in seconds. A verifier counts a cosignature dated at most
 * GL_COSIG_FUTURE_SLACK after its clock (exactly that far ahead still
 * counts). A witness that would date a cosignature more than
 * GL_COSIG_WITNESS_SLACK after its own clock (its latest one is dated
 * that far ahead, and its times never go back) gives none: this is
 * strictly less, so what it gives out still counts at a verifier whose
 * clock is up to the difference (60 s) behind the witness's. */
#define GL_COSIG_FUTURE_SLACK 300
#define GL_COSIG_WITNESS_SLACK 240
_Static_assert(GL_COSIG_WITNESS_SLACK < GL_COSIG_FUTURE_SLACK,
               "a witness must not give out cosignatures verifiers discard");

/* 1 if a cosignature dated ts is too far ahead of now (more than
 * GL_COSIG_FUTURE_SLACK seconds) for a verifier to count it, else 0 (also
 * when now is 0: no clock to compare with). The log counts its quorum by
 * the same rule. */
int gl_cosig_dated_ahead(uint64_t ts, uint64_t now);

/* Per-witness outcome of gl_cosig_verify_note. */
struct gl_cosig_status {
    int status;         /* 0: valid cosignature; GL_ENOKEY: no line with this
                         * witness's name and key ID; GL_EVERIFY: its first
                         * line failed to verify */
    uint64_t timestamp; /* of that line; 0 unless status == 0 */
    size_t sig;         /* its index in note->sigs; 0 unless status == 0 */
};

/* Cosigns checkpoint text (n bytes; must parse as a checkpoint, else
 * GL_EPARSE/GL_ETOOBIG) at time timestamp (GL_ERANGE above
 * GL_COSIG_TIME_MAX) with k, which must be a GL_KEY_COSIG signer
 * (GL_EKEYTYPE otherwise). Appends the full signature line, with its
 * final "\n", to out. Ed25519 is deterministic: same inputs, same line. */
int gl_cosig_sign(const struct gl_signer *k, const char *text, size_t n,
                  uint64_t timestamp, struct gl_buf *out);

/* Verifies one parsed signature line sig (from gl_note_parse) as a
 * cosignature by w over text (n bytes, the note text). w must be a
 * GL_KEY_COSIG verifier (GL_EKEYTYPE otherwise). GL_ENOKEY if sig's name
 * or key ID is not w's; GL_EVERIFY if the payload is not 72 bytes, the
 * timestamp exceeds 2^63 - 1 or the signature is bad; GL_ETOOBIG if text
 * exceeds GL_CHECKPOINT_TEXT_MAX. On success *timestamp (may be NULL) gets
 * the cosignature's time. Nothing is allocated for the caller. */
int gl_cosig_verify(const struct gl_verifier *w, const char *text, size_t n,
                    const struct gl_note_sig *sig, uint64_t *timestamp);
/* The time of a cosignature line, read without checking its signature
 * (for a line verified before, e.g. one a mirror keeps): 0 and
 * *timestamp, or GL_EVERIFY if its payload is not 72 bytes or the time
 * exceeds 2^63 - 1 (what gl_cosig_verify refuses too). */
int gl_cosig_time(const struct gl_note_sig *sig, uint64_t *timestamp);

/* Checks every signature of note against each of the nw witnesses (all
 * GL_KEY_COSIG, else GL_EKEYTYPE and nothing checked). st is a caller
 * array of nw entries, filled in witness order; *nvalid (may be NULL) gets
 * the number of witnesses with status 0. Returns 0 whatever the statuses
 * (quorum is the caller's policy); GL_EINVAL on bad arguments, or a
 * crypto/memory error. See the counting rule at the top of this file. */
int gl_cosig_verify_note(const struct gl_note *note, const struct gl_verifier *w,
                         size_t nw, struct gl_cosig_status *st, size_t *nvalid);

/* Checks a witness's 200 answer to add-checkpoint: body (n bytes, the
 * cosignature lines it returns) for the signed note msg (len bytes) sent.
 * 0 if body holds a line by w that verifies over msg's text and is not
 * dated ahead of now (gl_cosig_dated_ahead; now 0: no clock check); line
 * (may be NULL; reset first) then gets that line. Else GL_EVERIFY (no
 * line by w, a line that does not verify, or one dated ahead) or
 * gl_cosig_append's refusals for a malformed body, GL_ENOMEM; why (may
 * be NULL) says which. */
int gl_cosig_check_answer(const struct gl_verifier *w, const char *msg, size_t len,
                          const char *body, size_t n, uint64_t now, struct gl_buf *line,
                          struct gl_err *why);

/* Appends signature lines (lines, n bytes: one or more complete "— name
 * base64\n" lines, e.g. collected from witnesses) to the signed note msg
 * (len bytes), writing the whole resulting note to out; out is unchanged
 * on error. Only syntax is checked, not signatures (verify lines with
 * gl_cosig_verify first). GL_EPARSE if msg or lines are malformed,
 * GL_EEXIST if a line's (name, key ID) already signs msg or repeats in
 * lines, GL_ETOOBIG past the note caps (GL_NOTE_MAX_SIZE,
 * GL_NOTE_MAX_SIGS); why (may be NULL) then says why, its line numbers
 * counting the lines of msg followed by those of lines. */
int gl_cosig_append(const char *msg, size_t len, const char *lines, size_t n,
                    struct gl_buf *out, struct gl_err *why);

#endif
