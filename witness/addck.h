/*
 * addck: the C2SP tlog-witness add-checkpoint request as pure functions:
 * parsing the body, opening the checkpoint with the log's keys, and the
 * decision against the stored state. No I/O, no locks: the HTTP layer,
 * the pull feeder and the committer thread all use these.
 *
 * Body (at most ADDCK_BODY_MAX bytes):
 *   old <decimal, no leading zeros>\n
 *   <base64 hash>\n                    0..ADDCK_MAX_PROOF lines
 *   \n
 *   <signed checkpoint note>
 *
 * Status order (specs/witness.md): 400 when no note/origin can be found at
 * all; 404 unknown origin; 400 more signature lines than the signed-note
 * parser accepts; 403 no valid signature by the log's keys, or a line by
 * one of them (name and key ID) that is malformed or does not verify; 400
 * any other malformation or old > size; 429 (rate limit, HTTP layer);
 * then addck_decide: 422 origin frozen after a split view, 409 old !=
 * stored size, 422 size-0 root other than SHA-256(""), non-empty proof
 * from 0, same size with another root (a split view), bad proof (the
 * engine keeps it as evidence when it proves a split view); 200.
 *
 * Records: what the witness stores (and serves, and loads again) for a log
 * is never the note as received but addck_record's form: the text, the
 * log's verified signature lines (at most one per log key) and the
 * witness's own cosignature. So a record has at most LOGS_MAX_KEYS + 1
 * signature lines whatever a request carried, and store and load go
 * through the same parser (addck_record_open).
 */
#ifndef GL_WITNESS_ADDCK_H
#define GL_WITNESS_ADDCK_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/checkpoint.h"
#include "glasslog/note.h"
#include "logs.h"

#define ADDCK_BODY_MAX ((size_t)64 << 10)
#define ADDCK_MAX_PROOF 63

/* A parsed body: views into the caller's bytes. */
struct addck_req {
    uint64_t old;
    size_t nproof;
    uint8_t proof[ADDCK_MAX_PROOF][GL_HASH_LEN];
    const char *note; /* the signed checkpoint note */
    size_t note_len;
    const char *origin; /* the note's first line, not NUL-terminated */
    size_t origin_len;
    size_t head_lines;    /* lines of the body before the note (0: the note
                           * alone), to number the body's lines in reasons */
    int malformed;        /* 1: the header is malformed, a 400 reported after
                           * the 404 and 403 checks; syntax says why */
    struct gl_err syntax; /* set only when malformed */
};

/* Parses body (len bytes). GL_EPARSE, with why (may be NULL) saying why,
 * if not even the note and its origin line can be found (an immediate
 * 400); other malformations set out->malformed and out->syntax and return
 * 0. Lines in reasons are lines of the body. */
int addck_parse(const uint8_t *body, size_t len, struct addck_req *out,
                struct gl_err *why);

/* What the witness keeps of a verified note: its text (the first
 * text_len bytes) and the log's signature lines that verified, as offsets
 * into the note (each line with its "\n"), at most one per log key. */
struct addck_kept {
    size_t text_len;
    size_t n;
    struct {
        size_t off, len;
    } line[LOGS_MAX_KEYS];
};

/* Opens r's note with log's keys: GL_EPARSE (400: more signature lines
 * than GL_NOTE_MAX_SIGS, not a note or not a checkpoint, origin not the
 * log's), GL_ENOKEY/GL_EVERIFY (403: no valid signature by the log's keys,
 * or a signature line naming one of them, by key name and key ID, that is
 * malformed or does not verify), or 0 with *c the checkpoint (c->ext
 * points into r->note) and *kept what a record keeps of the note. why
 * (may be NULL) explains failures, with lines of the body (r->head_lines
 * lines before the note). No allocation survives the call. */
int addck_open(const struct addck_req *r, const struct logs_entry *log,
               struct gl_checkpoint *c, struct addck_kept *kept, struct gl_err *why);

/* Appends the record of a note to out: its text, the blank line, the kept
 * signature lines, then extra (extra_len bytes of whole signature lines,
 * e.g. the witness's cosignature; may be empty). kept must come from
 * addck_open on this note. GL_ETOOBIG past out->max. */
int addck_record(const char *note, const struct addck_kept *kept, const char *extra,
                 size_t extra_len, struct gl_buf *out);

/* Opens a record (built by addck_record, or read back from disk) with the
 * one signed-note parser and checkpoint parser the witness uses: 0 with
 * *c (c->ext points into rec) and *n (the parsed note, freed by the caller
 * with gl_note_free), GL_EPARSE or GL_ETOOBIG if either refuses it, with
 * why (may be NULL) saying why. */
int addck_record_open(const char *rec, size_t len, struct gl_checkpoint *c,
                      struct gl_note **n, struct gl_err *why);

/* The witness's record of one log. */
struct addck_state {
    int has; /* cosigned something already */
    uint64_t size;
    uint8_t root[GL_HASH_LEN];
    int frozen; /* a split view was proven: never cosign again */
};

enum addck_verdict {
    ADDCK_OK = 0,
    ADDCK_BAD_REQUEST, /* 400: old > size */
    ADDCK_FROZEN,      /* 422: split view proven for this origin */
    ADDCK_CONFLICT,    /* 409: old != stored size */
    ADDCK_EMPTY_ROOT,  /* 422: size 0 with a root other than SHA-256("") */
    ADDCK_BAD_PROOF,   /* 422: the proof does not prove consistency (it may
                        * prove a split view: the engine checks) */
    ADDCK_SPLIT        /* 422: same size, other root: evidence */
};

/* Decides a request (old, proof, verified checkpoint c) against st. *why
 * gets a static reason for non-OK verdicts. */
enum addck_verdict addck_decide(const struct addck_state *st, uint64_t old,
                                const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                                const struct gl_checkpoint *c, const char **why);
/* The HTTP status of a verdict. */
int addck_status(enum addck_verdict v);

#endif
