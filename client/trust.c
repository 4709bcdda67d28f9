/*
 * trust: policy loading, checkpoint opening and offline verification; see
 * trust.h.
 *
 * Order of the checks (specs/bundle.md): statement syntax, submitter
 * signature, artifact digest, log signature, witness quorum, cosignature
 * age, inclusion proof. Every step that can run does, so a report says
 * everything that is wrong, not just the first thing; a step whose inputs
 * are untrusted because an earlier step failed is marked BLOCKED (e.g. no
 * quorum or inclusion check on a checkpoint whose log signature failed).
 * The verdict is the conjunction: any failure fails the verification.
 *
 * Which log key: the policy may list several keys for one origin (key
 * rotation). The checkpoint is checked against each log key whose name is
 * its origin; the first that verifies is the signer. A signature by any of
 * them that fails to verify rejects the checkpoint, even beside a good one
 * (signed-note: a client SHOULD reject the whole note; Go's note.Open
 * does). "No log with this origin", "no signature by its keys" and "a
 * signature that does not verify" are distinct failures.
 *
 * Age (specs/client.md, "checkpoint age"). The age is now - T, where T is
 * the quorum's time (gl_policy_quorum_time): the latest time such that
 * the policy witnesses whose valid cosignatures are dated T or later
 * satisfy the quorum on their own. So one witness with a wrong clock or a
 * stolen key cannot make a checkpoint look fresh unless the quorum needs
 * it. A cosignature dated more than TRUST_FUTURE_SLACK after now counts
 * for nothing: neither the witness quorum nor the age (a witness whose
 * clock or key is wrong must not help a checkpoint through), and is
 * reported. No T (quorum not met by counted cosignatures, or `quorum
 * none`) fails the age check.
 *
 * Missing input is never a pass: an empty or malformed statement fails
 * the statement step (and blocks the submitter and artifact steps).
 */
#include "trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "util.h"

static const char *const step_names[TRUST_NSTEPS] = {
    "statement",      "submitter signature", "artifact",        "log signature",
    "witness quorum", "checkpoint age",      "inclusion proof",
};

const char *trust_step_name(enum trust_step s)
{
    return (unsigned)s < TRUST_NSTEPS ? step_names[s] : "?";
}

int trust_load_policy(const char *path, int warn, struct gl_policy **out)
{
    struct gl_err why;
    struct gl_buf b;
    int rc;

    *out = NULL;
    gl_buf_init(&b, GL_POLICY_MAX_SIZE);
    if ((rc = cli_read_file(path, &b)) != 0)
        goto out;
    if ((rc = gl_policy_parse((const char *)b.data, b.len, out, &why)) != 0) {
        cli_err(path, &why);
        goto out;
    }
    for (size_t i = 0; warn && i < gl_policy_nwitnesses(*out); i++) {
        const struct gl_policy_witness *w = gl_policy_witness_at(*out, i);
        if (w->converted)
            cli_error("warning: %s:%zu: witness %s has a note key (type 0x01); "
                      "converted to the cosignature key (0x04) with the same public key. "
                      "A key that signs both notes and cosignatures can be tricked into "
                      "cosigning: ask the witness for its 0x04 key",
                      path, w->line, w->name);
    }
out:
    gl_buf_release(&b);
    return rc;
}

/* --- checkpoints ------------------------------------------------------------------- */

/* Opens the checkpoint with each policy log key whose name is origin: the
 * first that verifies is the signer (*note its parsed note, out->log its
 * index); any signature by one of them that fails rejects it. */
static int open_with_logs(const struct gl_policy *p, const char *msg, size_t len,
                          const char *origin, struct trust_checkpoint *out,
                          struct gl_note **note, char *why)
{
    size_t n, i = 0;
    const struct gl_verifier *keys = gl_policy_log_keys(p, &n);
    int rc = 0, tried = 0, found = 0;
    char name[UTIL_PRINTABLE_NAME]; /* origin is unverified until found */

    for (size_t from = 0; gl_policy_find_log(p, origin, strlen(origin), from, &i) == 0;
         from = i + 1) {
        tried++;
        rc = gl_checkpoint_open(msg, len, &keys[i], &out->cp, found ? NULL : note, NULL);
        if (rc == 0 && !found) {
            found = 1;
            out->log = i;
        } else if (rc != 0 && rc != GL_ENOKEY) {
            break;
        }
    }
    util_printable(origin, strlen(origin), name, sizeof(name));
    if (tried == 0) {
        snprintf(why, TRUST_WHY_MAX, "no log in the policy has origin \"%s\"", name);
        return GL_ENOKEY;
    }
    if (rc != 0 && rc != GL_ENOKEY) {
        gl_note_free(*note);
        *note = NULL;
        snprintf(why, TRUST_WHY_MAX, "the signature of log %s does not verify (%s)", name,
                 gl_strerror(rc));
        return GL_EVERIFY;
    }
    if (!found) {
        snprintf(why, TRUST_WHY_MAX,
                 "the checkpoint carries no signature by the policy's key for log %s",
                 name);
        return GL_ENOKEY;
    }
    return 0;
}

static int check_quorum(const struct gl_policy *p, const struct gl_note *note,
                        uint64_t now, struct trust_checkpoint *out, char *why)
{
    size_t nw;
    const struct gl_verifier *wk = gl_policy_witness_keys(p, &nw);
    uint8_t witnessed[GL_POLICY_MAX_WITNESSES];
    int rc;

    out->nwitnesses = nw;
    if ((rc = gl_cosig_verify_note(note, wk, nw, out->wst, &out->nvalid)) != 0) {
        snprintf(why, TRUST_WHY_MAX, "cannot check cosignatures: %s", gl_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < nw; i++) {
        witnessed[i] = out->wst[i].status == 0;
        if (witnessed[i] && gl_cosig_dated_ahead(out->wst[i].timestamp, now)) {
            witnessed[i] = 0;
            out->future[i] = 1;
            out->nfuture++;
        }
        if (witnessed[i] && out->wst[i].timestamp > out->newest)
            out->newest = out->wst[i].timestamp;
    }
    out->quorum = gl_policy_quorum_check(p, witnessed, nw);
    if (out->quorum != 0) {
        struct gl_buf d;
        gl_buf_init(&d, TRUST_WHY_MAX);
        trust_describe_cosigners(p, out, &d);
        snprintf(
            why, TRUST_WHY_MAX,
            "the cosignatures do not satisfy the policy's quorum (%zu of %zu witnesses "
            "cosigned%s): cosigned by %s",
            out->nvalid, nw,
            out->nfuture ? ", some dated more than 5 minutes in the future, not counted"
                         : "",
            d.data ? (const char *)d.data : "?");
        gl_buf_release(&d);
    }
    return out->quorum;
}

int trust_checkpoint_open(const struct gl_policy *p, const char *msg, size_t len,
                          uint64_t now, struct trust_checkpoint *out, char *why)
{
    struct gl_note *note = NULL, *vnote = NULL;
    struct gl_checkpoint parsed;
    struct gl_err perr;
    char reason[GL_ERR_REASON_MAX + 32];
    int rc;

    memset(out, 0, sizeof(*out));
    why[0] = 0;
    if ((rc = gl_note_parse(msg, len, &note, &perr)) != 0 ||
        (rc = gl_checkpoint_parse(note->text, note->text_len, &parsed, &perr)) != 0) {
        snprintf(why, TRUST_WHY_MAX, "malformed checkpoint: %s",
                 gl_err_format(&perr, NULL, reason, sizeof(reason)));
        goto out;
    }
    if ((rc = open_with_logs(p, msg, len, parsed.origin, out, &vnote, why)) != 0)
        goto out;
    rc = check_quorum(p, vnote, now, out, why);
out:
    /* the extension lines live in the note freed here: not kept */
    out->cp.ext = NULL;
    out->cp.ext_len = 0;
    out->cp.next = 0;
    gl_note_free(note);
    gl_note_free(vnote);
    return rc;
}

static int describe_list(const struct gl_policy *p, const struct trust_checkpoint *c,
                         int status, const char *intro, struct gl_buf *out)
{
    int first = 1, rc = 0;
    char t[32];

    for (size_t i = 0; i < c->nwitnesses && rc == 0; i++) {
        if (c->wst[i].status != status)
            continue;
        rc = gl_buf_printf(out, "%s%s", first ? intro : ", ",
                           gl_policy_witness_at(p, i)->name);
        if (rc == 0 && status == 0) {
            util_time_utc(c->wst[i].timestamp, t);
            rc = gl_buf_printf(out, " at %s", t);
        }
        first = 0;
    }
    return rc;
}

int trust_describe_cosigners(const struct gl_policy *p, const struct trust_checkpoint *c,
                             struct gl_buf *out)
{
    int rc;

    if (c->nvalid == 0)
        rc = gl_buf_append_str(out, c->nwitnesses == 0 ? "no witnesses in the policy"
                                                       : "no witness");
    else
        rc = describe_list(p, c, 0, "", out);
    if (rc == 0)
        rc = describe_list(p, c, GL_ENOKEY, "; not cosigned by ", out);
    if (rc == 0)
        rc = describe_list(p, c, GL_EVERIFY, "; INVALID cosignature by ", out);
    return rc;
}

/* --- statements -------------------------------------------------------------------- */

int trust_statement(const struct gl_verifier *keys, size_t nkeys, const char *msg,
                    size_t n, struct gl_statement *st, size_t *which, char *why)
{
    struct gl_err perr;
    char reason[GL_ERR_REASON_MAX + 32], name[UTIL_PRINTABLE_NAME];
    int rc;

    memset(st, 0, sizeof(*st));
    if (n == 0 || msg == NULL) {
        snprintf(why, TRUST_WHY_MAX, "empty statement (0 bytes)");
        return GL_EPARSE;
    }
    if ((rc = gl_statement_parse(msg, n, st, &perr)) != 0) {
        snprintf(why, TRUST_WHY_MAX, "malformed statement: %s",
                 gl_err_format(&perr, NULL, reason, sizeof(reason)));
        return rc == GL_ETOOBIG ? GL_ETOOBIG : GL_EPARSE;
    }
    rc = gl_statement_verify(st, keys, nkeys, which);
    util_printable(st->sig.name, st->sig.name_len, name, sizeof(name));
    if (rc == GL_ENOKEY)
        snprintf(why, TRUST_WHY_MAX,
                 "signed by %s (key ID %08x), which is not a submitter of the policy",
                 name, st->sig.id);
    else if (rc != 0)
        snprintf(why, TRUST_WHY_MAX, "the signature of submitter %s does not verify",
                 name);
    return rc == 0 || rc == GL_ENOKEY ? rc : GL_EVERIFY;
}

int trust_outsider(const struct gl_policy *p, const struct trust_report *r)
{
    size_t nsub;
    const struct gl_verifier *subs = gl_policy_submitters(p, &nsub);

    return r->have_statement && r->state[TRUST_SUBMITTER] == TRUST_FAILED &&
           gl_statement_verify(&r->st, subs, nsub, NULL) == GL_ENOKEY;
}

/* --- age --------------------------------------------------------------------------- */

int trust_age(const struct gl_policy *p, const struct trust_checkpoint *c, uint64_t now,
              struct trust_age *out)
{
    uint64_t times[GL_POLICY_MAX_WITNESSES];
    uint8_t counted[GL_POLICY_MAX_WITNESSES];

    memset(out, 0, sizeof(*out));
    out->rc = GL_EINVAL;
    if (now == 0 || c->nwitnesses != gl_policy_nwitnesses(p))
        return out->rc;
    for (size_t i = 0; i < c->nwitnesses; i++) {
        const struct gl_cosig_status *w = &c->wst[i];
        times[i] = w->timestamp;
        counted[i] = 0;
        if (w->status != 0)
            continue;
        if (gl_cosig_dated_ahead(w->timestamp, now)) {
            out->future[i] = 1;
            out->nfuture++;
        } else {
            counted[i] = 1;
        }
    }
    out->rc = gl_policy_quorum_time(p, times, counted, c->nwitnesses, &out->time);
    if (out->rc == 0)
        out->age = now > out->time ? now - out->time : 0;
    return out->rc;
}

int trust_describe_future(const struct gl_policy *p, const struct trust_checkpoint *c,
                          const struct trust_age *a, uint64_t now, struct gl_buf *out)
{
    int first = 1, rc = 0;
    char t[32];

    for (size_t i = 0; i < c->nwitnesses && rc == 0; i++) {
        if (!a->future[i])
            continue;
        util_time_utc(c->wst[i].timestamp, t);
        rc = gl_buf_printf(out, "%s%s at %s (%llu s ahead)", first ? "" : ", ",
                           gl_policy_witness_at(p, i)->name, t,
                           (unsigned long long)(c->wst[i].timestamp - now));
        first = 0;
    }
    return rc;
}

/* --- offline verification ---------------------------------------------------------- */

static void step_fail(struct trust_report *r, enum trust_step s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void step_fail(struct trust_report *r, enum trust_step s, const char *fmt, ...)
{
    va_list ap;

    r->state[s] = TRUST_FAILED;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(r->why[s], TRUST_WHY_MAX, fmt, ap);
    va_end(ap);
    if (r->failed < 0 || (int)s < r->failed)
        r->failed = (int)s;
}

static void step_statement(const struct gl_policy *p, const struct trust_input *in,
                           struct trust_report *r)
{
    size_t nsub;
    const struct gl_verifier *subs = gl_policy_submitters(p, &nsub);
    char why[TRUST_WHY_MAX];
    int rc = trust_statement(subs, nsub, in->statement, in->statement_len, &r->st,
                             &r->submitter, why);

    if (rc != 0 && rc != GL_ENOKEY && rc != GL_EVERIFY) {
        step_fail(r, TRUST_STATEMENT, "%s", why);
        r->state[TRUST_SUBMITTER] = TRUST_BLOCKED;
        r->state[TRUST_ARTIFACT] = in->artifact ? TRUST_BLOCKED : TRUST_NOT_ASKED;
        return;
    }
    r->have_statement = 1;
    r->state[TRUST_STATEMENT] = TRUST_PASSED;
    if (rc != 0)
        step_fail(r, TRUST_SUBMITTER, "%s%s", why,
                  nsub == 0 ? " (the policy lists none)" : "");
    else
        r->state[TRUST_SUBMITTER] = TRUST_PASSED;
}

static void step_artifact(const struct trust_input *in, struct trust_report *r)
{
    char got[GL_HASH_HEX_LEN + 1], want[GL_HASH_HEX_LEN + 1];

    if (in->artifact == NULL || !r->have_statement)
        return;
    if (util_hash_equal(in->artifact, r->st.fields.sha256)) {
        r->state[TRUST_ARTIFACT] = TRUST_PASSED;
        return;
    }
    gl_hex_encode(in->artifact, GL_HASH_LEN, got, sizeof(got));
    gl_hex_encode(r->st.fields.sha256, GL_HASH_LEN, want, sizeof(want));
    step_fail(r, TRUST_ARTIFACT, "the SHA-256 of %.100s is %s, the statement says %s",
              in->artifact_name ? in->artifact_name : "the artifact", got, want);
}

static void step_checkpoint(const struct gl_policy *p, const struct trust_input *in,
                            struct trust_report *r)
{
    char why[TRUST_WHY_MAX];
    int rc = trust_checkpoint_open(p, in->proof->checkpoint, in->proof->checkpoint_len,
                                   in->now, &r->ck, why);

    if (rc != 0 && rc != GL_EQUORUM) {
        step_fail(r, TRUST_LOG, "%s", why);
        r->state[TRUST_QUORUM] = r->state[TRUST_INCLUSION] = TRUST_BLOCKED;
        r->state[TRUST_AGE] = in->max_age ? TRUST_BLOCKED : TRUST_NOT_ASKED;
        return;
    }
    r->have_checkpoint = 1;
    r->state[TRUST_LOG] = TRUST_PASSED;
    if (rc == GL_EQUORUM)
        step_fail(r, TRUST_QUORUM, "%s", why);
    else
        r->state[TRUST_QUORUM] = TRUST_PASSED;
}

/* snprintf into a reason buffer of TRUST_WHY_MAX bytes, cut to fit (a
 * reason may quote others: its end is the least useful part). */
static void why_printf(char why[TRUST_WHY_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why_printf(char why[TRUST_WHY_MAX], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(why, TRUST_WHY_MAX, fmt, ap);
    va_end(ap);
}

int trust_age_judge(const struct gl_policy *p, const struct trust_checkpoint *c,
                    const struct trust_age *a, uint64_t now, uint64_t max_age,
                    char why[TRUST_WHY_MAX])
{
    char t[32], fut[TRUST_WHY_MAX];
    struct gl_buf b;

    fut[0] = 0;
    gl_buf_init(&b, 1 << 16);
    if (a->nfuture > 0 && trust_describe_future(p, c, a, now, &b) == 0)
        snprintf(
            fut, sizeof(fut), "; not counted, dated more than %d s in the future: %.*s",
            TRUST_FUTURE_SLACK, (int)(b.len > 200 ? 200 : b.len), (const char *)b.data);
    gl_buf_release(&b);
    util_time_utc(a->time, t);
    if (a->rc == 0 && a->age <= max_age)
        return 0;
    if (a->rc == 0)
        why_printf(why,
                   "the freshest quorum of cosignatures dates from %s, %llu s ago, older "
                   "than the limit of %llu s%s",
                   t, (unsigned long long)a->age, (unsigned long long)max_age, fut);
    else if (a->rc == GL_ENOTFOUND)
        why_printf(why,
                   "the policy's quorum is none: no witness vouches for the checkpoint's "
                   "time, so its age is unknown");
    else
        why_printf(why,
                   "the valid cosignatures (not dated in the future) do not satisfy the "
                   "policy's quorum, so the checkpoint's age is unknown%s",
                   fut);
    return GL_EVERIFY;
}

static void step_age(const struct gl_policy *p, const struct trust_input *in,
                     struct trust_report *r)
{
    char why[TRUST_WHY_MAX];

    if (in->max_age == 0 || !r->have_checkpoint)
        return;
    if (!r->have_age) {
        step_fail(r, TRUST_AGE, "the current time is unknown");
        return;
    }
    if (trust_age_judge(p, &r->ck, &r->age, in->now, in->max_age, why) == 0)
        r->state[TRUST_AGE] = TRUST_PASSED;
    else
        step_fail(r, TRUST_AGE, "%s", why);
}

static void step_inclusion(const struct trust_input *in, struct trust_report *r)
{
    unsigned long long idx = in->proof->index, size;
    int rc;

    if (!r->have_checkpoint)
        return;
    size = r->ck.cp.size;
    rc = gl_merkle_verify_inclusion(in->proof->index, r->ck.cp.size, r->leaf,
                                    in->proof->hashes, in->proof->nhashes, r->ck.cp.root);
    if (rc == GL_ERANGE)
        step_fail(r, TRUST_INCLUSION,
                  "index %llu is outside the checkpoint's tree of size %llu", idx, size);
    else if (rc != 0)
        step_fail(
            r, TRUST_INCLUSION,
            "the proof does not lead from the statement (index %llu) to the root of the "
            "checkpoint's tree of size %llu",
            idx, size);
    else
        r->state[TRUST_INCLUSION] = TRUST_PASSED;
}

int trust_verify(const struct gl_policy *p, const struct trust_input *in,
                 struct trust_report *r)
{
    memset(r, 0, sizeof(*r));
    r->failed = -1;
    if (gl_merkle_leaf_hash(in->statement, in->statement_len, r->leaf) != 0) {
        for (int s = 0; s < TRUST_NSTEPS; s++)
            r->state[s] = TRUST_BLOCKED;
        r->state[TRUST_ARTIFACT] = in->artifact ? TRUST_BLOCKED : TRUST_NOT_ASKED;
        r->state[TRUST_AGE] = in->max_age ? TRUST_BLOCKED : TRUST_NOT_ASKED;
        step_fail(r, TRUST_STATEMENT, "cannot hash the statement");
        return GL_EVERIFY;
    }
    step_statement(p, in, r);
    step_artifact(in, r);
    step_checkpoint(p, in, r);
    if (r->have_checkpoint && in->now != 0)
        r->have_age = trust_age(p, &r->ck, in->now, &r->age) != GL_EINVAL;
    step_age(p, in, r);
    step_inclusion(in, r);
    return r->failed < 0 ? 0 : GL_EVERIFY;
}
