/*
 * policy: C2SP tlog-policy (which logs and witnesses a verifier trusts and
 * which witness cosignatures make a checkpoint acceptable), plus glasslog's
 * `submitter` extension (specs/policy.md is normative).
 *
 *   log <vkey> [<url>]                 vkey type 0x01; name = origin
 *   witness <name> <vkey> [<url>]      vkey type 0x04 (0x01 converted)
 *   mirror <name> <vkey> [<url>]       (glasslog) a C2SP tlog-mirror cosigner:
 *                                      a witness entry with mirror = 1
 *   group <name> all|any|<k> <member>...
 *   quorum <name>|none                 exactly one
 *   submitter <vkey> [<role>]          (glasslog) 0x01 key signing statements;
 *                                      role builder|rebuilder|auditor
 *   require rebuilds <k> | require audit   (glasslog) what a chain needs
 *
 * A parsed policy is an opaque heap object owning all its strings; every
 * pointer an accessor returns lives as long as the policy.
 */
#ifndef GLASSLOG_POLICY_H
#define GLASSLOG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

#define GL_POLICY_MAX_SIZE 65536 /* bytes of policy text (bounds lines) */
#define GL_POLICY_MAX_NAME 256   /* bytes of a witness or group name */
#define GL_POLICY_MAX_URL 1024   /* bytes of a URL */
#define GL_POLICY_MAX_LOGS 256
#define GL_POLICY_MAX_WITNESSES 256
#define GL_POLICY_MAX_GROUPS 256
#define GL_POLICY_MAX_MEMBERS 256 /* members of one group */
#define GL_POLICY_MAX_SUBMITTERS 256

/* What a name (a group member or the quorum) refers to. */
enum gl_policy_ref_kind {
    GL_POLICY_REF_NONE = 0, /* the predefined name "none" (quorum only) */
    GL_POLICY_REF_WITNESS = 1,
    GL_POLICY_REF_GROUP = 2,
};

struct gl_policy_ref {
    enum gl_policy_ref_kind kind;
    size_t index; /* into witnesses or groups; 0 for NONE */
};

/* How a group's threshold was written (kept for formatting). */
enum gl_policy_threshold {
    GL_POLICY_K_NUMBER = 0,
    GL_POLICY_K_ALL = 1,
    GL_POLICY_K_ANY = 2,
};

struct gl_policy_log {
    const struct gl_verifier *key; /* GL_KEY_NOTE; key->name is the origin */
    const char *url;               /* NUL-terminated, NULL if none */
    size_t line;                   /* 1-based line of its definition */
};

struct gl_policy_witness {
    const char *name;              /* policy-local name, NUL-terminated */
    const struct gl_verifier *key; /* always GL_KEY_COSIG */
    const char *url;               /* NUL-terminated, NULL if none */
    int converted;                 /* 1: the policy gave a 0x01 key, which
                                      was converted to 0x04 (warn users) */
    int mirror;                    /* 1: declared by a "mirror" line (its
                                      url: the mirror's monitoring prefix) */
    size_t line;
};

struct gl_policy_group {
    const char *name; /* NUL-terminated */
    size_t k;         /* threshold, 1 <= k <= nmembers */
    enum gl_policy_threshold threshold;
    size_t nmembers;
    const struct gl_policy_ref *members; /* witnesses and earlier groups */
    size_t line;
};

/* A submitter's role in the provenance chain (specs/policy.md 4). */
enum gl_policy_role {
    GL_POLICY_ROLE_NONE = 0,      /* a plain submitter */
    GL_POLICY_ROLE_BUILDER = 1,   /* the vendor's: source, build, rule-update */
    GL_POLICY_ROLE_REBUILDER = 2, /* independent: rebuild */
    GL_POLICY_ROLE_AUDITOR = 3,   /* audit-report */
};

struct gl_policy; /* opaque */

/* Parses policy text of n bytes (NUL bytes are refused; text need not be
 * NUL-terminated). On success *out is a new policy the caller frees with
 * gl_policy_free; text is not referenced afterwards. On failure *out is
 * NULL and why (may be NULL) says why and where: the first error in file
 * order, line 0 for whole-file problems (size, no quorum line).
 * GL_ETOOBIG for a size cap, GL_EKEYTYPE for a key of the wrong type,
 * GL_EPARSE for anything else malformed, GL_ENOMEM. */
int gl_policy_parse(const char *text, size_t n, struct gl_policy **out,
                    struct gl_err *why);
/* Frees p and everything it owns. NULL is a no-op. */
void gl_policy_free(struct gl_policy *p);

/* Accessors. Index arguments must be below the matching count (NULL is
 * returned otherwise). Returned pointers live as long as p. */
size_t gl_policy_nlogs(const struct gl_policy *p);
const struct gl_policy_log *gl_policy_log_at(const struct gl_policy *p, size_t i);
size_t gl_policy_nwitnesses(const struct gl_policy *p);
const struct gl_policy_witness *gl_policy_witness_at(const struct gl_policy *p, size_t i);
size_t gl_policy_ngroups(const struct gl_policy *p);
const struct gl_policy_group *gl_policy_group_at(const struct gl_policy *p, size_t i);
/* The quorum: NONE, or the witness or group it names. */
struct gl_policy_ref gl_policy_quorum(const struct gl_policy *p);
/* Contiguous key arrays (count through *n, possibly 0), ready for
 * gl_note_verify and gl_statement_verify; index i matches
 * gl_policy_log_at(p, i) etc. */
const struct gl_verifier *gl_policy_log_keys(const struct gl_policy *p, size_t *n);
const struct gl_verifier *gl_policy_witness_keys(const struct gl_policy *p, size_t *n);
const struct gl_verifier *gl_policy_submitters(const struct gl_policy *p, size_t *n);

/* The role of submitter i (NONE past the end). */
enum gl_policy_role gl_policy_submitter_role(const struct gl_policy *p, size_t i);
/* "builder", "rebuilder", "auditor"; NULL for NONE or an invalid value. */
const char *gl_policy_role_name(enum gl_policy_role r);
/* The requirements: distinct rebuilder keys that must have reproduced a
 * build (0: none), and whether its source needs an auditor's report. */
size_t gl_policy_require_rebuilds(const struct gl_policy *p);
int gl_policy_require_audit(const struct gl_policy *p);

/* Finds the first log at index >= from whose origin (key name) is the n
 * bytes at origin. A policy may list several keys for one origin (key
 * rotation): loop with from = *idx + 1. 0 or GL_ENOTFOUND. */
int gl_policy_find_log(const struct gl_policy *p, const char *origin, size_t n,
                       size_t from, size_t *idx);
/* Finds the log / witness whose key has this key name (n bytes) and key ID,
 * as read from a signature line. (name, ID) pairs are unique among a
 * policy's logs and among its witnesses. 0 or GL_ENOTFOUND. */
int gl_policy_find_log_key(const struct gl_policy *p, const char *name, size_t n,
                           uint32_t id, size_t *idx);
int gl_policy_find_witness_key(const struct gl_policy *p, const char *name, size_t n,
                               uint32_t id, size_t *idx);
/* Resolves a policy-local witness or group name (n bytes), or "none".
 * 0 or GL_ENOTFOUND. */
int gl_policy_find_name(const struct gl_policy *p, const char *name, size_t n,
                        struct gl_policy_ref *out);

/* The quorum decision. witnessed holds nwitnessed flags, one per witness
 * index (nonzero: that witness's cosignature verified); nwitnessed must
 * equal gl_policy_nwitnesses(p) (else GL_EINVAL; witnessed may be NULL
 * when it is 0). Returns 0 if the quorum is satisfied, GL_EQUORUM if not.
 * A group is satisfied when at least k of its members are; `quorum none`
 * is satisfied by zero witnesses. No allocation. */
int gl_policy_quorum_check(const struct gl_policy *p, const uint8_t *witnessed,
                           size_t nwitnessed);

/* The quorum's time: the latest T such that the witnesses i with
 * counted[i] nonzero and times[i] >= T satisfy the quorum on their own
 * (times[i] of uncounted witnesses is ignored). This is the freshness a
 * quorum vouches for: a witness the quorum does not need cannot move T,
 * however recent its time. times and counted hold n entries, one per
 * witness index; n must equal gl_policy_nwitnesses(p) (else GL_EINVAL).
 * Returns 0 with *t = T; GL_EQUORUM if all counted witnesses together do
 * not satisfy the quorum (no T exists); GL_ENOTFOUND for `quorum none`,
 * which needs no witness, so no cosignature time speaks for it. Adding
 * witnesses never unsatisfies a quorum, so T is found by a binary search
 * over the distinct counted times: a sort (qsort) plus O(log n) quorum
 * decisions. */
int gl_policy_quorum_time(const struct gl_policy *p, const uint64_t *times,
                          const uint8_t *counted, size_t n, uint64_t *t);

/* Appends a one-line human explanation (no final newline) to out, e.g.
 * "log example.com/log; quorum: 2 of 3 witnesses: A, B, C". Nested groups
 * are described in parentheses. GL_ETOOBIG past out's max, GL_ENOMEM. */
int gl_policy_describe(const struct gl_policy *p, struct gl_buf *out);

/* Flags for gl_policy_format. */
#define GL_POLICY_FORMAT_PORTABLE                                                        \
    1 /* omit `submitter` and `require` lines;                                           \
         mirrors as witnesses (plain C2SP) */

/* Appends the policy in canonical form to out: logs, witnesses, groups (in
 * definition order), quorum, then submitters; single spaces, no comments,
 * witness keys as 0x04 vkeys. Parsing the result gives the same policy
 * (with converted == 0). GL_ETOOBIG past out's max, GL_ENOMEM. */
int gl_policy_format(const struct gl_policy *p, int flags, struct gl_buf *out);

#endif
