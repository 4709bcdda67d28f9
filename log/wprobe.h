/*
 * wprobe: asking a witness (or a mirror's witness: its add-checkpoint is
 * the witness's) which tree of a log it holds, without moving it on.
 *
 * The question is an add-checkpoint of the log's checkpoint with an
 * empty proof from size 0: a witness that holds nothing of the log
 * cosigns it (200: it now holds that size), one that holds a size
 * answers 409 naming it (text/x.tlog.size). When that size is the
 * checkpoint's own, a second add-checkpoint from it (old = size, an
 * empty proof) tells whether the witness holds this tree or another of
 * that size: 422, or a 409 whose body does not name another size (a
 * tlog-witness v1.0.0 witness answers a root conflict so), is a conflict.
 * Used at start by publish_probe (the --witnesses) and mirrorpush_probe
 * (the --mirrors of a copy).
 *
 * Only a 200 is signed: with the witness's key, a 200 says which size it
 * holds only if it carries a cosignature by that key over the note sent
 * (gl_cosig_check_answer), so a stale URL, a catch-all proxy or anyone on
 * the path of an http:// URL cannot show a copy current with a bare 200.
 * A 409 or 422 is unsigned by the protocol and is taken as it comes. A
 * second answer naming a size above the checkpoint's (the witness moved
 * on meanwhile) is the size it holds.
 */
#ifndef GL_LOG_WPROBE_H
#define GL_LOG_WPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/key.h"
#include "http_client.h"

struct wprobe_answer {
    long status;     /* the first answer's HTTP status; 0: none arrived */
    int known;       /* 1 if the witness said which size it holds */
    uint64_t size;   /* that size (known) */
    int conflict;    /* 1 if it holds another tree of the checkpoint's size */
    char error[256]; /* why no answer arrived (status 0) */
};

/* Asks the witness at url (its add-checkpoint URL, at most timeout_ms a
 * request) about note (len bytes, the log's checkpoint of size `size`),
 * filling *out. key: the witness's, or NULL when it is not known (a
 * mirror's add-checkpoint is its witness's, whose key the mirrors file
 * does not name): then a 200 is taken without a check. c, key and note
 * are borrowed. 0, or GL_ENOMEM / GL_ETOOBIG building the request (a
 * witness that does not answer is 0 with out->status 0). */
int wprobe_ask(struct gl_http_client *c, const char *url, long timeout_ms,
               const struct gl_verifier *key, const uint8_t *note, size_t len,
               uint64_t size, struct wprobe_answer *out);

#endif
