/*
 * logs: the witness-network log list (--logs FILE, C2SP tlog-list), plus
 * glasslog's `url` extension:
 *
 *   logs/v0
 *   vkey <log verifier key>          starts a log
 *   origin <origin>                  default: the vkey's name
 *   qpd <requests per day>           1 to 2^31 - 1; default: no limit
 *   contact <text>                   kept for nothing (informative)
 *   bastion <...>                    ignored
 *   url <log URL>                    glasslog: poll this log (pull feeding)
 *   mirror                           glasslog: also mirror this log (C2SP
 *                                    tlog-mirror; needs --mirror-key)
 *   witness <cosigner vkey>          glasslog: a witness whose cosignatures
 *                                    of this log the mirror keeps and serves
 *                                    on its mirror checkpoint (repeatable, at
 *                                    most LOGS_MAX_WITNESSES; a 0x01 key is
 *                                    read as the 0x04 key of the same
 *                                    public key; needs the mirror line; a
 *                                    key of another type is skipped)
 *
 * Every line is trimmed of leading and trailing spaces and tabs (and
 * trailing "\r"s) first. Blank lines and "#" comments are skipped anywhere,
 * also before the logs/v0 line; unknown keywords are counted and skipped
 * (the list format grows); logs whose key type this build does not verify
 * (not Ed25519: ECDSA, ML-DSA, ... keys of any length up to
 * GL_KEY_TEXT_MAX) are skipped with their lines. Attribute lines may come in
 * any order after their vkey. Several entries with one origin merge into
 * one log with several keys (a key rotation; their witness lines are
 * merged too, duplicates once); the keys must have one name, which split
 * evidence names as the log's signer (specs/evidence.md), else the list is
 * refused at the second key's entry. The parsed list is sorted
 * by origin; a second index sorts it by SHA-256(origin) for the
 * monitoring endpoint. Caps: LOGS_FILE_MAX
 * bytes, LOGS_MAX logs, LOGS_MAX_KEYS keys per origin.
 */
#ifndef GL_WITNESS_LOGS_H
#define GL_WITNESS_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

#define LOGS_FILE_MAX ((size_t)1 << 20)
#define LOGS_MAX 4096
#define LOGS_MAX_KEYS 4
#define LOGS_MAX_WITNESSES 8 /* witness lines per log */
#define LOGS_URL_MAX 1024
#define LOGS_QPD_MAX 2147483647u /* 2^31 - 1 (tlog-list) */

struct logs_entry {
    char origin[GL_CHECKPOINT_ORIGIN_MAX + 1];
    uint8_t origin_hash[GL_HASH_LEN];       /* SHA-256(origin) */
    struct gl_verifier keys[LOGS_MAX_KEYS]; /* GL_KEY_NOTE */
    size_t nkeys;
    uint64_t qpd;               /* 1..LOGS_QPD_MAX, or 0: no qpd line, no limit */
    char url[LOGS_URL_MAX + 1]; /* "" unless polled; no final '/' */
    int mirror;                 /* 1: a "mirror" line (mirror.h) */
    struct gl_verifier witnesses[LOGS_MAX_WITNESSES]; /* GL_KEY_COSIG, distinct */
    size_t nwitnesses;
};

struct logs_list {
    struct logs_entry *v; /* owned, n entries sorted by origin */
    size_t n;
    size_t *by_hash;          /* owned: indices into v sorted by origin_hash */
    size_t skipped;           /* logs skipped for an unsupported key type */
    size_t skipped_witnesses; /* witness lines skipped for the same */
    size_t unknown;           /* lines with an unknown keyword */
};

/* Parses the list (n bytes). GL_EPARSE, GL_ETOOBIG, GL_ENOMEM, with why
 * (may be NULL) saying what failed and on which line. The caller releases
 * out with logs_release (also after an error). */
int logs_parse(const char *text, size_t n, struct logs_list *out, struct gl_err *why);
void logs_release(struct logs_list *l);
/* Checks a URL (http:// or https://, printable ASCII, no spaces, at most
 * LOGS_URL_MAX bytes) and copies it to out without final '/'s. 0 or
 * GL_EPARSE. */
int logs_url_parse(const char *s, size_t n, char out[LOGS_URL_MAX + 1]);
/* Finds the log with this origin (n bytes). 0 or GL_ENOTFOUND. */
int logs_find(const struct logs_list *l, const char *origin, size_t n, size_t *idx);
/* How many logs of l have a mirror line. */
size_t logs_mirrored(const struct logs_list *l);
/* Finds the log whose origin hashes to h. 0 or GL_ENOTFOUND. */
int logs_find_hash(const struct logs_list *l, const uint8_t h[GL_HASH_LEN], size_t *idx);

#endif
