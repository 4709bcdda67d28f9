/*
 * statement: the log's entries (specs/statement.md is normative).
 *
 *   glasslog.dev/statement/v1
 *   kind <build|rule-update|audit-report>
 *   subject <1..256 bytes 0x21-0x7E>
 *   version <1..256 bytes 0x21-0x7E>
 *   sha256 <64 lowercase hex>
 *   time <decimal, no leading zeros, 1 .. 2^63-1>
 *   meta <key [a-z0-9._-]{1,64}>[ <value, 0..1024 printable, single spaces>]
 *                                          (0..32 lines, keys ascending)
 *
 * a signed note with exactly one Ed25519 (0x01) signature line, at most
 * 65535 bytes in all. The leaf is the whole note.
 *
 * Version 2 (header glasslog.dev/statement/v2) adds the kinds source and
 * rebuild and the link lines between time and meta:
 *   source <64 lowercase hex>      build, rule-update, rebuild: exactly one
 *   audited <64 lowercase hex>     audit-report: 1..16, strictly ascending
 *   scope <1..1024 printable, single spaces>   audit-report: exactly one
 * A v1 text keeps its three kinds and has no link lines.
 *
 * A parsed statement owns no memory: it points into the caller's message.
 */
#ifndef GLASSLOG_STATEMENT_H
#define GLASSLOG_STATEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/key.h"
#include "glasslog/note.h"
#include "glasslog/sha256.h"

#define GL_STATEMENT_HEADER "glasslog.dev/statement/v1"
#define GL_STATEMENT_HEADER_V2 "glasslog.dev/statement/v2"
#define GL_STATEMENT_MAX_SIZE 65535 /* whole signed note (u16 framing) */
#define GL_STATEMENT_SUBJECT_MAX 256
#define GL_STATEMENT_VERSION_MAX 256
#define GL_STATEMENT_META_MAX 32 /* meta lines */
#define GL_STATEMENT_META_KEY_MAX 64
#define GL_STATEMENT_META_VALUE_MAX 1024
#define GL_STATEMENT_TIME_MAX INT64_MAX
#define GL_STATEMENT_AUDITED_MAX 16 /* audited lines of a v2 audit-report */
#define GL_STATEMENT_SCOPE_MAX 1024

enum gl_statement_kind {
    GL_STATEMENT_BUILD = 1,
    GL_STATEMENT_RULE_UPDATE = 2,
    GL_STATEMENT_AUDIT_REPORT = 3,
    GL_STATEMENT_SOURCE = 4,  /* v2 only: a source snapshot */
    GL_STATEMENT_REBUILD = 5, /* v2 only: an independent rebuild */
};

/* One meta fact. Neither string is NUL-terminated; value may be empty. */
struct gl_statement_meta {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

/* The content of a statement. As parse output every pointer points into the
 * parsed message; as format/sign input the caller owns the strings. */
struct gl_statement_fields {
    unsigned format; /* statement version: 1 or 2 (format/sign
                        take 0 as 1) */
    enum gl_statement_kind kind;
    const char *subject; /* not NUL-terminated */
    size_t subject_len;
    const char *version; /* not NUL-terminated */
    size_t version_len;
    uint8_t sha256[GL_HASH_LEN]; /* the artifact's digest */
    uint64_t time;               /* Unix seconds when signed */
    /* v2 links (see gl_statement_has_source); zero in v1. */
    uint8_t source[32];                            /* the source snapshot's digest */
    size_t naudited;                               /* audit-report: 1..AUDITED_MAX */
    uint8_t audited[GL_STATEMENT_AUDITED_MAX][32]; /* strictly ascending */
    const char *scope;                             /* audit-report; not NUL-terminated */
    size_t scope_len;
    size_t nmeta;
    struct gl_statement_meta meta[GL_STATEMENT_META_MAX];
};

/* A parsed statement. Plain value, nothing to free; valid while the message
 * it was parsed from is. */
struct gl_statement {
    struct gl_statement_fields fields;
    const char *msg; /* the whole note: the leaf */
    size_t msg_len;
    const char *text; /* the signed text, final "\n" included */
    size_t text_len;
    struct gl_note_sig sig; /* the one signature (sig_len == 64) */
};

/* The kind's name ("build", ...), or NULL if kind is not a valid kind. */
const char *gl_statement_kind_name(enum gl_statement_kind kind);
/* Parses a kind name of n bytes (any of the five; whether the kind exists
 * in a statement's version is the parser's business). 0, or GL_EPARSE. */
int gl_statement_kind_parse(const char *s, size_t n, enum gl_statement_kind *out);

/* 1 if a statement with these fields carries a "source" line (a v2 build,
 * rule-update or rebuild), else 0. */
int gl_statement_has_source(const struct gl_statement_fields *f);

/* 1 if a statement with these fields links the source digest x: a v2
 * build, rule-update or rebuild naming x as its source, or an audit
 * report listing x among its audited digests; else 0. */
int gl_statement_links_source(const struct gl_statement_fields *f, const uint8_t x[32]);

/* Parses a signed statement of n bytes (v1 or v2). *out owns nothing (no free): it
 * points into msg, which must outlive it. On failure *out is unspecified
 * and why (may be NULL) names the first problem and its line (why is
 * untouched on success). GL_ETOOBIG over GL_STATEMENT_MAX_SIZE, GL_EPARSE
 * for anything malformed (note syntax, signature count or type, any
 * field), GL_ENOMEM. */
int gl_statement_parse(const char *msg, size_t n, struct gl_statement *out,
                       struct gl_err *why);

/* Verifies the signature of a parsed statement against the submitter keys
 * (all GL_KEY_NOTE, else GL_EKEYTYPE). On success *which (may be NULL) is
 * the index in submitters of the key that signed. GL_ENOKEY if no submitter
 * has the signature's name and key ID, GL_EVERIFY if it does but the
 * signature is bad. */
int gl_statement_verify(const struct gl_statement *st,
                        const struct gl_verifier *submitters, size_t n, size_t *which);

/* Validates fields with the parser's rules and appends the statement text
 * (final "\n" included) to out. Meta entries may be in any order; they are
 * written in ascending key order (duplicate keys: GL_EPARSE). GL_EPARSE if
 * any field is invalid, GL_ETOOBIG past out's max, GL_ENOMEM; why (may be
 * NULL; line 0) says which. out is unchanged on failure. */
int gl_statement_format_text(const struct gl_statement_fields *f, struct gl_buf *out,
                             struct gl_err *why);

/* Formats the text and appends the complete signed statement (text, empty
 * line, one signature line by signer) to out. signer must be GL_KEY_NOTE
 * (else GL_EKEYTYPE). GL_EPARSE for invalid fields, GL_ETOOBIG if the note
 * would exceed GL_STATEMENT_MAX_SIZE or out's max; why (may be NULL; line
 * 0) says which. out is unchanged on failure. The caller keeps ownership
 * of signer (and wipes it). */
int gl_statement_sign(const struct gl_statement_fields *f, const struct gl_signer *signer,
                      struct gl_buf *out, struct gl_err *why);

#endif
