/*
 * key: Ed25519 keys in the Go/C2SP signed-note text formats.
 *
 *   signer:   PRIVATE+KEY+<name>+<8 hex id>+base64(<type> || 32-byte seed)
 *   verifier: <name>+<8 hex id>+base64(<type> || 32-byte public key)
 *
 * Two types, never mixed: GL_KEY_NOTE (0x01) signs signed notes (logs,
 * submitters); GL_KEY_COSIG (0x04) signs tlog-cosignature/v1 lines
 * (witnesses). The key ID is SHA-256(name || "\n" || type || pub)[:4] read
 * big-endian. A cosigning key that also signed notes could be tricked into
 * a valid cosignature (a note whose text starts "cosignature/v1\n"), hence
 * the separation: note.c refuses COSIG keys and cosig.c refuses NOTE keys.
 *
 * Structs are plain values (no heap); signers hold the secret seed and must
 * be wiped with gl_signer_wipe when done.
 */
#ifndef GLASSLOG_KEY_H
#define GLASSLOG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"

#define GL_KEY_LEN 32 /* an Ed25519 public key or seed; hashes are GL_HASH_LEN */
#define GL_KEY_NOTE 0x01
#define GL_KEY_COSIG 0x04
/* Caps on names (bytes). Go's sumdb/note sets none. GL_KEY_NAME_MAX bounds
 * the names of the keys glasslog holds (signers, parsed verifiers: the
 * struct fields below, held thousands of times by a witness's log list).
 * GL_KEY_OTHER_NAME_MAX bounds the name in a verifier key of a type we do
 * not know (skipped, GL_EKEYTYPE), so that the key string has a cap. A
 * name in a signature line has none of its own, as in Go: the note's size
 * cap bounds it, and a line by a key we do not know is only read past. */
#define GL_KEY_NAME_MAX 256
#define GL_KEY_OTHER_NAME_MAX 1024
/* Cap on a key string's length: the longest name, "+", 8 hex digits, "+"
 * and 4096 base64 characters, enough for an ML-DSA-87 key (1 + 2592 bytes:
 * 3460 characters), ML-DSA's largest parameter set. */
#define GL_KEY_TEXT_MAX (GL_KEY_OTHER_NAME_MAX + 10 + 4096)

struct gl_verifier {
    char name[GL_KEY_NAME_MAX + 1]; /* NUL-terminated */
    uint32_t id;
    uint8_t type; /* GL_KEY_NOTE or GL_KEY_COSIG */
    uint8_t pub[GL_KEY_LEN];
};

struct gl_signer {
    char name[GL_KEY_NAME_MAX + 1];
    uint32_t id;
    uint8_t type;
    uint8_t seed[GL_KEY_LEN]; /* secret */
    uint8_t pub[GL_KEY_LEN];
};

/* 1 if name (n bytes) is a valid name for a key glasslog holds: the
 * signed-note rule (below), at most GL_KEY_NAME_MAX bytes, and no control
 * character at all (no DEL, no C1 U+0080..U+009F either): such names are
 * printed in messages and logs. 0 otherwise. */
int gl_key_name_valid(const char *name, size_t n);
/* 1 if name (n bytes) may stand in a signature line of a signed note, by
 * the signed-note rule (as Go's sumdb/note): non-empty, valid UTF-8, no
 * '+', no Unicode whitespace (Go's unicode.IsSpace), and no C0 control
 * characters (no note holds any); of any length, DEL
 * and C1 allowed: such lines come from others' keys, which verifiers must
 * ignore rather than refuse; names of keys held here must pass
 * gl_key_name_valid. */
int gl_key_sig_name_valid(const char *name, size_t n);
/* The key ID of (name, type, pub). */
uint32_t gl_key_id(const char *name, uint8_t type, const uint8_t pub[GL_KEY_LEN]);

/* Generates a fresh key of the given type from the OS CSPRNG. */
int gl_signer_generate(const char *name, uint8_t type, struct gl_signer *out);
/* Parses a signer key string (surrounding whitespace is NOT stripped; one
 * trailing "\n" is allowed). GL_EPARSE if malformed or the ID mismatches,
 * GL_ETOOBIG over GL_KEY_TEXT_MAX bytes, GL_EKEYTYPE for an unknown type
 * byte (a well-formed key of any length whose name passes
 * gl_key_sig_name_valid: lists skip it); why (may be NULL; line 0) then
 * says which, never quoting the key. A key of a known type must have a
 * name passing gl_key_name_valid; one whose name only Go's rule allows is
 * GL_EKEYTYPE as well (lists skip it). The caller wipes *out. */
int gl_signer_parse(const char *s, size_t n, struct gl_signer *out, struct gl_err *why);
/* Appends the signer key string (no newline) to out. */
int gl_signer_format(const struct gl_signer *k, struct gl_buf *out);
/* The verifier for a signer. */
void gl_signer_verifier(const struct gl_signer *k, struct gl_verifier *out);
/* Wipes the secret. */
void gl_signer_wipe(struct gl_signer *k);

/* Parses a verifier key string (one trailing "\n" allowed). Errors and
 * why as gl_signer_parse. */
int gl_verifier_parse(const char *s, size_t n, struct gl_verifier *out,
                      struct gl_err *why);
/* Appends the verifier key string (no newline) to out. */
int gl_verifier_format(const struct gl_verifier *k, struct gl_buf *out);
/* Converts a witness's note-type (0x01) verifier into the cosignature
 * (0x04) verifier for the same public key (ID recomputed); a 0x04 key is
 * copied unchanged. *converted (may be NULL) is set to 1 if it converted. */
int gl_verifier_to_cosig(const struct gl_verifier *in, struct gl_verifier *out,
                         int *converted);

/* Raw Ed25519 (RFC 8032) over msg. sign: seed -> 64-byte signature.
 * verify: 0 if valid, GL_EVERIFY if not. */
int gl_ed25519_sign(const uint8_t seed[GL_KEY_LEN], const void *msg, size_t n,
                    uint8_t sig[64]);
int gl_ed25519_verify(const uint8_t pub[GL_KEY_LEN], const void *msg, size_t n,
                      const uint8_t sig[64]);
/* Derives the public key of a seed. */
int gl_ed25519_public(const uint8_t seed[GL_KEY_LEN], uint8_t pub[GL_KEY_LEN]);

#endif
