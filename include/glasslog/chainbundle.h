/*
 * chainbundle: a provenance chain as one offline file (specs/bundle.md,
 * "Chain bundles"): several tlog-proofs, each carrying its statement in
 * its extra line, framed by length:
 *
 *   glasslog.dev/chain-bundle/v1\n
 *   proof <decimal byte length, no leading zeros>\n
 *   <exactly that many bytes: a tlog-proof with an extra line>
 *   ...                                  (1 to GL_CHAINBUNDLE_MAX_PROOFS)
 *
 * The first proof's statement is the head of the chain: a v2 build or
 * rule-update. Parsing checks syntax only (framing, every tlog-proof, that
 * every extra is a statement, the head's kind); trust is the verifier's.
 */
#ifndef GLASSLOG_CHAINBUNDLE_H
#define GLASSLOG_CHAINBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/tlogproof.h"

#define GL_CHAINBUNDLE_HEADER "glasslog.dev/chain-bundle/v1"
#define GL_CHAINBUNDLE_MAX_PROOFS 64
#define GL_CHAINBUNDLE_MAX_SIZE ((size_t)16 << 20) /* bytes of a whole bundle */

struct gl_chainbundle {
    size_t n;                                               /* 1..MAX_PROOFS */
    struct gl_tlogproof *proofs[GL_CHAINBUNDLE_MAX_PROOFS]; /* owned */
};

/* Parses a chain bundle of len bytes. *out is heap-allocated, freed with
 * gl_chainbundle_free; each proof's checkpoint points into data, which
 * must outlive *out; its extra (the statement) is owned by the proof.
 * GL_ETOOBIG past a cap, GL_EPARSE if malformed, GL_ENOMEM; why (may be
 * NULL) names the problem and its line in the bundle. */
int gl_chainbundle_parse(const char *data, size_t len, struct gl_chainbundle **out,
                         struct gl_err *why);
void gl_chainbundle_free(struct gl_chainbundle *b);

/* Appends the bundle of n proofs (each with extra set; the caller owns
 * them) to out. Refuses (GL_EINVAL / GL_ETOOBIG / GL_EPARSE, out
 * unchanged) what the parser would refuse. */
int gl_chainbundle_format(struct gl_tlogproof *const *proofs, size_t n,
                          struct gl_buf *out);

#endif
