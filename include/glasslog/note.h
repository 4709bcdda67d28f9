/*
 * note: C2SP signed notes.
 *
 *   <text, UTF-8, ends with "\n", no control bytes but "\n">
 *   "\n"
 *   ("— " <key name> " " base64(<4-byte key ID> || signature) "\n")+
 *
 * The signature block starts after the LAST "\n\n". Parsing checks syntax
 * only, as Go's sumdb/note reads it, whoever the signer: a name by the
 * signed-note rule (gl_key_sig_name_valid: any length, DEL allowed), padded standard
 * base64 whose unused bits in the last group are ignored (Go's decoder is not Strict;
 * sig->canonical records whether they were zero), at least 5 bytes, of any
 * length within the note's size cap. Verifying applies the rules: a signature counts for
 * a known key only if name AND key ID match; unknown signatures are ignored; a known
 * key's bad signature rejects the note; a second signature by the same known key is
 * ignored; no verified signature rejects the note. Only GL_KEY_NOTE verifiers verify
 * notes. Limits: GL_NOTE_MAX_SIZE bytes, at most GL_NOTE_MAX_SIGS signature lines.
 */
#ifndef GLASSLOG_NOTE_H
#define GLASSLOG_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

#define GL_NOTE_MAX_SIZE ((size_t)1 << 20)
#define GL_NOTE_MAX_SIGS 100
/* Signature bytes (after the key ID) a parsed signature keeps: more than
 * any signature glasslog verifies (Ed25519 64, tlog-cosignature 72). */
#define GL_NOTE_SIG_MAX 128

struct gl_note_sig {
    const char *name; /* points into the message, not NUL-terminated */
    size_t name_len;
    uint32_t id; /* the key ID from the signature blob */
    /* The signature bytes after the key ID: all sig_len of them if sig_len
     * <= GL_NOTE_SIG_MAX. A longer signature (post-quantum ones run to
     * kilobytes) is only counted: sig is then zero and the signature can
     * never verify (every verifier checks its exact length first). */
    uint8_t sig[GL_NOTE_SIG_MAX];
    size_t sig_len;
    int canonical;    /* 1 if its base64 has zero unused bits (see below) */
    const char *line; /* the whole line in the message, with its "\n" */
    size_t line_len;
};

struct gl_note {
    const char *text; /* points into the message: text with final "\n" */
    size_t text_len;
    size_t nsigs;
    struct gl_note_sig *sigs; /* owned array of nsigs */
};

/* 0 if text (n bytes) is valid note text (non-empty, UTF-8, no control
 * bytes but "\n", ends with "\n"); GL_EPARSE otherwise, with why (may be
 * NULL) naming the problem and its line. */
int gl_note_text_check(const char *text, size_t n, struct gl_err *why);

/* Parses msg (len bytes). *out is heap-allocated, freed with gl_note_free,
 * and points into msg, which must outlive it. GL_EPARSE, GL_ETOOBIG,
 * GL_ENOMEM; why (may be NULL) then says why (lines of msg). */
int gl_note_parse(const char *msg, size_t len, struct gl_note **out, struct gl_err *why);
void gl_note_free(struct gl_note *n);
/* Parses one signature line (n bytes, without its "\n") as gl_note_parse
 * parses each of them; sig->line is left unset. GL_EPARSE
 * if malformed, why (may be NULL; line 0) saying how. (A witness uses it
 * to tell a malformed line by a key it trusts, a 403, from other
 * malformations, a 400.) */
int gl_note_parse_sig(const char *line, size_t n, struct gl_note_sig *sig,
                      struct gl_err *why);

/* Verifies a parsed note against known keys. verified (may be NULL) is an
 * array of n->nsigs flags set to 1 for each signature that verified, and,
 * on GL_EVERIFY, to 2 for the known key's signature that failed.
 * Returns 0 if at least one known signature verified, GL_EVERIFY if a
 * known key's signature is bad, GL_ENOKEY if none is by a known key;
 * GL_ECRYPTO when OpenSSL cannot run a verification (out of memory):
 * nothing is known of that signature then (verified is left unset). */
int gl_note_verify(const struct gl_note *n, const struct gl_verifier *keys, size_t nkeys,
                   uint8_t *verified);

/* Signs text with each signer (all GL_KEY_NOTE, else GL_EKEYTYPE) and
 * appends the complete note to out. GL_ETOOBIG if the note (text, blank
 * line, signature lines) would exceed GL_NOTE_MAX_SIZE bytes, GL_EPARSE if
 * text is not valid; out is then unchanged. */
int gl_note_sign(const char *text, size_t n, const struct gl_signer *signers,
                 size_t nsigners, struct gl_buf *out);
/* Appends one signature line "— <name> <base64(id || sig)>\n" to out. */
int gl_note_format_sig(const char *name, uint32_t id, const uint8_t *sig, size_t sig_len,
                       struct gl_buf *out);

#endif
