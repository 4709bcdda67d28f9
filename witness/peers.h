/*
 * peers: the witnesses this one gossips with (--peers FILE), as
 * tlog-policy witness lines:
 *
 *   witness <name> <vkey> <url>
 *
 * The vkey is a cosigning key (0x04); a 0x01 key is converted to the 0x04
 * key of the same public key (peers_entry.converted says so: warn). The
 * url is the peer's prefix (glasslog witnesses serve submission and
 * monitoring under one prefix). Items are separated by runs of spaces and
 * tabs; leading and trailing ones are dropped (tlog-policy). A witness
 * line without a url names no peer: it is skipped and counted (nourl); so
 * is one whose key is of a type this build cannot verify (ECDSA, ML-DSA,
 * ...: skipped).
 * Other policy lines (log, group, quorum, submitter, mirror, require),
 * blank lines and "#" comments are skipped; any other line, or a witness
 * line with fewer or more items, is an error. Caps: PEERS_FILE_MAX bytes,
 * PEERS_MAX peers; names unique.
 */
#ifndef GL_WITNESS_PEERS_H
#define GL_WITNESS_PEERS_H

#include <stddef.h>

#include "glasslog/key.h"
#include "logs.h"

#define PEERS_FILE_MAX ((size_t)256 << 10)
#define PEERS_MAX 256
#define PEERS_NAME_MAX 256

struct peers_entry {
    char name[PEERS_NAME_MAX + 1];
    struct gl_verifier key; /* GL_KEY_COSIG */
    char url[LOGS_URL_MAX + 1];
    int converted; /* 1: given as a 0x01 key */
};

struct peers_list {
    struct peers_entry *v; /* owned */
    size_t n;
    size_t nourl;   /* witness lines skipped: no url */
    size_t skipped; /* witness lines skipped: a key type we cannot verify */
};

/* Parses the file (n bytes); errors and why as logs_parse. Release with
 * peers_release (also after an error). */
int peers_parse(const char *text, size_t n, struct peers_list *out, struct gl_err *why);
void peers_release(struct peers_list *l);

#endif
