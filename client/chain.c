/*
 * chain: see chain.h. The judgement (specs/client.md, "The provenance
 * chain"), for the head H (a v2 build or rule-update naming source X,
 * subject N, version V):
 *
 *   build     H verifies, is signed by a builder, names the artifact;
 *   source    a verified source statement with digest X, subject N,
 *             version V, by a builder (at least one);
 *   rebuild   each rebuild of X for N V: by a rebuilder with H's digest
 *             reproduces it; by a rebuilder with another digest FAILS;
 *             by any other key does not count;
 *   rebuilds  distinct rebuilder keys that reproduced H >= the policy's
 *             "require rebuilds";
 *   audit     each audit-report listing X: by an auditor it covers X,
 *             by any other key it does not count; with "require audit"
 *             at least one must cover X.
 *
 * A statement that does not verify on its own fails its row, except one
 * signed by a key outside the policy (no submitter has its name and key
 * ID): anyone may append to a shared log, so such a statement does not
 * count, whether or not the rest of it verifies (its signature cannot be
 * checked). A bad signature by a policy key still fails. A statement
 * that cannot be a link of this chain (joins: a build other than the
 * head, a source or rebuild of another subject or version, ...) gets no
 * row, and lookup --chain does not even keep it. Memory: one trust
 * report at a time (heap), rows in the caller's report.
 */
#include "chain.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "fetch.h"
#include "file.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "util.h"

/* Pages of one lookup: the bound on the statements examined (times
 * UTIL_LOOKUP_ITEMS), whatever of them is set aside or dropped. */
#define CHAIN_PAGES_MAX 1000u
/* The reason of a link row whose statement is by a key outside the policy. */
#define OUTSIDER_WHY "signed by a key outside the policy: does not count"

/* What chain_eval knows of each item after verifying it alone. */
struct judged {
    int parsed, verified, known; /* known: signed by a policy submitter */
    int outsider;                /* parsed, and no policy submitter has its signer's name
                                    and key ID: it does not count, whatever else holds */
    struct gl_statement st;
    enum gl_policy_role role;
    size_t signer;
    char why[TRUST_WHY_MAX];
};

static int same_text(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

static int same_product(const struct gl_statement_fields *a,
                        const struct gl_statement_fields *b)
{
    return same_text(a->subject, a->subject_len, b->subject, b->subject_len) &&
           same_text(a->version, a->version_len, b->version, b->version_len);
}

static void short_hex(const uint8_t d[32], char out[17])
{
    gl_hex_encode(d, 8, out, 17);
}

/* 1 if a statement other than the head h can be a link of h's chain (X, N,
 * V: h's source, subject, version): a source statement with digest X for
 * N V, a rebuild of X for N V, or an audit report listing X. Nothing else
 * gets a row, so lookup --chain keeps nothing else (gather): the rule is
 * one for the online and the offline chain. */
static int joins(const struct gl_statement_fields *h, const struct gl_statement_fields *f)
{
    switch (f->kind) {
    case GL_STATEMENT_SOURCE:
        return memcmp(f->sha256, h->source, 32) == 0 && same_product(f, h);
    case GL_STATEMENT_REBUILD:
        return gl_statement_links_source(f, h->source) && same_product(f, h);
    case GL_STATEMENT_AUDIT_REPORT:
        return gl_statement_links_source(f, h->source);
    default:
        return 0;
    }
}

/* The role whose statements of kind k count as links: a source by a
 * builder, a rebuild by a rebuilder, an audit report by an auditor;
 * NONE for any other kind (it is no link). One rule for the judgement
 * (judge_*) and for what lookup --chain counts against the chain's room
 * (take_link). */
static enum gl_policy_role link_role(enum gl_statement_kind k)
{
    switch (k) {
    case GL_STATEMENT_SOURCE:
        return GL_POLICY_ROLE_BUILDER;
    case GL_STATEMENT_REBUILD:
        return GL_POLICY_ROLE_REBUILDER;
    case GL_STATEMENT_AUDIT_REPORT:
        return GL_POLICY_ROLE_AUDITOR;
    default:
        return GL_POLICY_ROLE_NONE;
    }
}

/* Verifies item i alone (trust.c) into *j. */
static void judge_item(const struct gl_policy *p, const struct chain_item *it,
                       uint64_t max_age, uint64_t now, struct trust_report *tr,
                       struct judged *j)
{
    struct trust_input in;

    memset(j, 0, sizeof(*j));
    memset(&in, 0, sizeof(in));
    in.statement = it->stmt;
    in.statement_len = it->len;
    in.proof = it->proof;
    in.max_age = max_age;
    in.now = now;
    trust_verify(p, &in, tr);
    j->parsed = tr->have_statement;
    if (j->parsed)
        j->st = tr->st;
    j->verified = tr->failed < 0;
    if (!j->verified && tr->failed >= 0)
        snprintf(j->why, sizeof(j->why), "does not verify: %s: %s",
                 trust_step_name((enum trust_step)tr->failed), tr->why[tr->failed]);
    if (tr->state[TRUST_SUBMITTER] == TRUST_PASSED) {
        j->known = 1;
        j->signer = tr->submitter;
        j->role = gl_policy_submitter_role(p, tr->submitter);
    } else {
        /* a policy key whose signature is bad stays a failure */
        j->outsider = trust_outsider(p, tr);
    }
}

static struct chain_row *add_row(struct chain_report *r, const char *link, int item,
                                 const struct chain_item *items,
                                 const struct gl_policy *p, const struct judged *j)
{
    struct chain_row *row = &r->rows[r->nrows++];
    size_t nsub;
    const struct gl_verifier *subs = gl_policy_submitters(p, &nsub);

    memset(row, 0, sizeof(*row));
    row->link = link;
    row->item = item;
    if (item < 0)
        return row;
    row->index = items[item].proof->index;
    row->role = j->role != GL_POLICY_ROLE_NONE ? gl_policy_role_name(j->role) : "no role";
    if (j->known) {
        snprintf(row->signer, sizeof(row->signer), "%s", subs[j->signer].name);
    } else if (j->parsed) {
        char name[UTIL_PRINTABLE_NAME];
        snprintf(row->signer, sizeof(row->signer), "%s (not in the policy)",
                 util_printable(j->st.sig.name, j->st.sig.name_len, name, sizeof(name)));
    }
    return row;
}

static void set(struct chain_row *row, enum chain_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set(struct chain_row *row, enum chain_verdict v, const char *fmt, ...)
{
    va_list ap;

    row->verdict = v;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(row->why, sizeof(row->why), fmt, ap);
    va_end(ap);
}

/* The head row. 0 if the chain can be followed from it. */
static int judge_head(struct chain_report *r, const struct gl_policy *p,
                      const struct chain_item *items, size_t head, const struct judged *j,
                      const uint8_t *artifact)
{
    struct chain_row *row = add_row(r, "build", (int)head, items, p, j);
    char a[17], b[17];

    if (!j->parsed) {
        set(row, CHAIN_FAIL, "%s", j->why[0] ? j->why : "not a statement");
        return -1;
    }
    r->have_head = 1;
    r->head = j->st;
    if (j->st.fields.kind == GL_STATEMENT_RULE_UPDATE)
        row->link = "rule-update";
    if (j->st.fields.format != 2 || !gl_statement_has_source(&j->st.fields) ||
        j->st.fields.kind == GL_STATEMENT_REBUILD) {
        set(row, CHAIN_FAIL, "not a v2 build or rule-update (it names no source)");
        return -1;
    }
    if (!j->verified)
        set(row, CHAIN_FAIL, "%s", j->why);
    else if (j->role != GL_POLICY_ROLE_BUILDER)
        set(row, CHAIN_FAIL, "signed by %s, which the policy does not name a builder",
            row->signer);
    else if (artifact != NULL && !util_hash_equal(artifact, j->st.fields.sha256)) {
        short_hex(artifact, a);
        short_hex(j->st.fields.sha256, b);
        set(row, CHAIN_FAIL, "the artifact's sha256 %s... is not the build's %s...", a,
            b);
    } else {
        short_hex(j->st.fields.source, a);
        set(row, CHAIN_OK,
            "signed by a builder, in the log under the policy; source %s...", a);
    }
    return 0;
}

/* Sets row if j cannot be a link of kind k: IGNORED when it is by a key
 * outside the policy or by a policy key without the link's role
 * (link_role, whatever its proof: lookup --chain sets such statements
 * aside, cannot_count, so they never decide the chain), FAIL when it does
 * not verify. 1 if it set the row. */
static int not_link(struct chain_row *row, const struct judged *j,
                    enum gl_statement_kind k, const char *norole)
{
    if (j->outsider)
        set(row, CHAIN_IGNORED, OUTSIDER_WHY);
    else if (j->known && j->role != link_role(k))
        set(row, CHAIN_IGNORED, "%s", norole);
    else if (!j->verified)
        set(row, CHAIN_FAIL, "%s", j->why);
    else
        return 0;
    return 1;
}

/* Source rows: at least one good source statement. */
static void judge_sources(struct chain_report *r, const struct gl_policy *p,
                          const struct chain_item *items, size_t n, size_t head,
                          const struct judged *js)
{
    const struct gl_statement_fields *h = &r->head.fields;
    struct chain_row *row;
    int good = 0;
    char x[17];

    for (size_t i = 0; i < n; i++) {
        const struct judged *j = &js[i];
        if (i == head || !j->parsed || j->st.fields.kind != GL_STATEMENT_SOURCE ||
            !joins(h, &j->st.fields))
            continue;
        row = add_row(r, "source", (int)i, items, p, j);
        if (!not_link(row, j, GL_STATEMENT_SOURCE,
                      "not signed by a builder: does not count")) {
            set(row, CHAIN_OK, "the source snapshot, logged by a builder");
            good++;
        }
    }
    if (good == 0) {
        short_hex(h->source, x);
        row = add_row(r, "source", -1, items, p, NULL);
        set(row, CHAIN_FAIL, "no source statement by a builder for %s... in the log", x);
    }
}

/* Rebuild rows and the count the policy requires. */
static void judge_rebuilds(struct chain_report *r, const struct gl_policy *p,
                           const struct chain_item *items, size_t n,
                           const struct judged *js)
{
    const struct gl_statement_fields *h = &r->head.fields;
    uint8_t counted[GL_POLICY_MAX_SUBMITTERS] = {0};
    size_t need = gl_policy_require_rebuilds(p), have = 0;
    struct chain_row *row;
    char a[17], b[17];

    for (size_t i = 0; i < n; i++) {
        const struct judged *j = &js[i];
        if (!j->parsed || j->st.fields.kind != GL_STATEMENT_REBUILD ||
            !joins(h, &j->st.fields))
            continue;
        row = add_row(r, "rebuild", (int)i, items, p, j);
        short_hex(j->st.fields.sha256, a);
        short_hex(h->sha256, b);
        if (not_link(row, j, GL_STATEMENT_REBUILD,
                     "not signed by a rebuilder: does not count"))
            continue;
        if (!util_hash_equal(j->st.fields.sha256, h->sha256))
            set(row, CHAIN_FAIL, "rebuilt %s..., which differs from the build's %s...", a,
                b);
        else {
            set(row, CHAIN_OK, "reproduced the build (%s...)", a);
            have += !counted[j->signer];
            counted[j->signer] = 1;
        }
    }
    row = add_row(r, "rebuilds", -1, items, p, NULL);
    if (need == 0)
        set(row, CHAIN_IGNORED, "%zu rebuilder%s reproduced it; the policy requires none",
            have, have == 1 ? "" : "s");
    else
        set(row, have >= need ? CHAIN_OK : CHAIN_FAIL,
            "%zu of the %zu required rebuilder%s reproduced it", have, need,
            need == 1 ? "" : "s");
}

static void judge_audits(struct chain_report *r, const struct gl_policy *p,
                         const struct chain_item *items, size_t n,
                         const struct judged *js)
{
    const struct gl_statement_fields *h = &r->head.fields;
    struct chain_row *row;
    int covered = 0;

    for (size_t i = 0; i < n; i++) {
        const struct judged *j = &js[i];
        if (!j->parsed || j->st.fields.kind != GL_STATEMENT_AUDIT_REPORT ||
            !joins(h, &j->st.fields))
            continue;
        row = add_row(r, "audit", (int)i, items, p, j);
        if (!not_link(row, j, GL_STATEMENT_AUDIT_REPORT,
                      "not signed by an auditor: does not count")) {
            set(row, CHAIN_OK, "covers the source (scope: %.*s)",
                (int)(j->st.fields.scope_len > 200 ? 200 : j->st.fields.scope_len),
                j->st.fields.scope);
            covered = 1;
        }
    }
    row = add_row(r, "audits", -1, items, p, NULL);
    if (!gl_policy_require_audit(p))
        set(row, CHAIN_IGNORED, "%s; the policy requires none",
            covered ? "an auditor covered the source" : "no auditor covered the source");
    else
        set(row, covered ? CHAIN_OK : CHAIN_FAIL, "%s",
            covered ? "the source is covered by an auditor's report"
                    : "the policy requires an audit, and no auditor's report covers the "
                      "source");
}

int chain_eval(const struct gl_policy *p, const struct chain_item *items, size_t n,
               size_t head, const uint8_t *artifact, uint64_t max_age, uint64_t now,
               struct chain_report *r)
{
    struct trust_report *tr;
    struct judged *js;

    if (p == NULL || items == NULL || r == NULL || n == 0 || n > CHAIN_MAX || head >= n)
        return GL_EINVAL;
    memset(r, 0, sizeof(*r));
    tr = malloc(sizeof(*tr));
    js = calloc(n, sizeof(*js));
    if (tr == NULL || js == NULL) {
        free(tr);
        free(js);
        return GL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        judge_item(p, &items[i], max_age, now, tr, &js[i]);
    if (judge_head(r, p, items, head, &js[head], artifact) == 0) {
        judge_sources(r, p, items, n, head, js);
        judge_rebuilds(r, p, items, n, js);
        judge_audits(r, p, items, n, js);
    }
    r->ok = 1;
    for (size_t i = 0; i < r->nrows; i++)
        r->ok &= r->rows[i].verdict != CHAIN_FAIL;
    free(tr);
    free(js);
    return r->ok ? 0 : GL_EVERIFY;
}

/* --- output ------------------------------------------------------------------------- */

static const char *verdict_word(enum chain_verdict v)
{
    return v == CHAIN_OK ? "ok" : v == CHAIN_FAIL ? "FAIL" : "does not count";
}

static void print_tree(const struct chain_report *r)
{
    const struct gl_statement_fields *h = &r->head.fields;
    char hex[GL_HASH_HEX_LEN + 1];

    if (r->have_head) {
        gl_hex_encode(h->sha256, 32, hex, sizeof(hex));
        printf("chain of %s %.*s %.*s sha256 %s\n", gl_statement_kind_name(h->kind),
               (int)h->subject_len, h->subject, (int)h->version_len, h->version, hex);
    } else {
        printf("chain (no readable head statement)\n");
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const struct chain_row *w = &r->rows[i];
        const char *branch = i == 0 ? "" : i + 1 == r->nrows ? "  `- " : "  |- ";
        if (w->item >= 0)
            printf("%s%s #%llu by %s (%s): %s: %s\n", branch, w->link,
                   (unsigned long long)w->index, w->signer[0] ? w->signer : "?", w->role,
                   verdict_word(w->verdict), w->why);
        else
            printf("%s%s: %s: %s\n", branch, w->link, verdict_word(w->verdict), w->why);
    }
    printf("overall: %s\n", r->ok ? "verified" : "FAILED");
}

static void print_json(const struct chain_report *r)
{
    cJSON *o = cJSON_CreateObject(), *links, *head;
    char hex[GL_HASH_HEX_LEN + 1], *s;

    if (o == NULL)
        return;
    cJSON_AddStringToObject(o, "verdict", r->ok ? "verified" : "failed");
    if (r->have_head && (head = cJSON_AddObjectToObject(o, "head")) != NULL) {
        const struct gl_statement_fields *h = &r->head.fields;
        char sub[GL_STATEMENT_SUBJECT_MAX + 1], ver[GL_STATEMENT_VERSION_MAX + 1];
        snprintf(sub, sizeof(sub), "%.*s", (int)h->subject_len, h->subject);
        snprintf(ver, sizeof(ver), "%.*s", (int)h->version_len, h->version);
        cJSON_AddStringToObject(head, "kind", gl_statement_kind_name(h->kind));
        cJSON_AddStringToObject(head, "subject", sub);
        cJSON_AddStringToObject(head, "version", ver);
        gl_hex_encode(h->sha256, 32, hex, sizeof(hex));
        cJSON_AddStringToObject(head, "sha256", hex);
        if (gl_statement_has_source(h)) {
            gl_hex_encode(h->source, 32, hex, sizeof(hex));
            cJSON_AddStringToObject(head, "source", hex);
        }
    }
    if ((links = cJSON_AddArrayToObject(o, "links")) != NULL)
        for (size_t i = 0; i < r->nrows; i++) {
            const struct chain_row *w = &r->rows[i];
            cJSON *l = cJSON_CreateObject();
            if (l == NULL || !cJSON_AddItemToArray(links, l))
                break;
            cJSON_AddStringToObject(l, "link", w->link);
            if (w->item >= 0) {
                cJSON_AddNumberToObject(l, "index", (double)w->index);
                cJSON_AddStringToObject(l, "signer", w->signer);
                cJSON_AddStringToObject(l, "role", w->role);
            }
            cJSON_AddStringToObject(l, "verdict",
                                    w->verdict == CHAIN_OK     ? "ok"
                                    : w->verdict == CHAIN_FAIL ? "fail"
                                                               : "ignored");
            cJSON_AddStringToObject(l, "reason", w->why);
        }
    if ((s = cJSON_PrintUnformatted(o)) != NULL)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

/* With --json, the answer for a chain that could not be judged at all:
 * {"verdict": verdict, "error": why} (a script reading stdout gets an
 * answer on every exit). */
static void print_json_error(int json, const char *verdict, const char *why)
{
    cJSON *o = json ? cJSON_CreateObject() : NULL;
    char *s;

    if (o == NULL)
        return;
    cJSON_AddStringToObject(o, "verdict", verdict);
    cJSON_AddStringToObject(o, "error", why);
    if ((s = cJSON_PrintUnformatted(o)) != NULL)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

void chain_print(const struct chain_report *r, int json)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct chain_row *w = &r->rows[i];
        if (w->verdict != CHAIN_FAIL)
            continue;
        if (w->item >= 0)
            cli_error("verification failed: %s #%llu: %s", w->link,
                      (unsigned long long)w->index, w->why);
        else
            cli_error("verification failed: %s: %s", w->link, w->why);
    }
    if (json)
        print_json(r);
    else
        print_tree(r);
}

/* --- offline: a chain bundle -------------------------------------------------------- */

int chain_warn_unchecked(const struct gl_policy *p, const struct gl_statement_fields *f)
{
    size_t k = gl_policy_require_rebuilds(p);
    int audit = gl_policy_require_audit(p);
    char rebuilds[48] = "";

    if ((k == 0 && !audit) ||
        (f->kind != GL_STATEMENT_BUILD && f->kind != GL_STATEMENT_RULE_UPDATE))
        return 0;
    if (k > 0)
        snprintf(rebuilds, sizeof(rebuilds), "%zu independent rebuild%s%s", k,
                 k == 1 ? "" : "s", audit ? " and " : "");
    cli_error("warning: this checks that the %s is logged, not the policy's requirements "
              "(%s%s): check its provenance chain with `glasslog lookup --chain PATH` "
              "or `glasslog verify --chain-bundle FILE`",
              gl_statement_kind_name(f->kind), rebuilds,
              audit ? "an audit of its source" : "");
    return 1;
}

int chain_verify_bundle(const struct gl_policy *p, const char *path, const char *artifact,
                        uint64_t max_age, int json)
{
    struct chain_item items[CHAIN_MAX];
    struct gl_chainbundle *b = NULL;
    struct chain_report *r = NULL;
    uint8_t digest[32];
    struct gl_buf text;
    struct gl_err why;
    char msg[GL_ERR_REASON_MAX + 64];
    int rc = CLI_USAGE;

    gl_buf_init(&text, GL_CHAINBUNDLE_MAX_SIZE);
    if (cli_read_file(path, &text) != 0 ||
        (artifact != NULL && util_hash_file(artifact, digest) != 0))
        goto out;
    if (gl_chainbundle_parse((const char *)text.data, text.len, &b, &why) != 0) {
        gl_err_format(&why, path, msg, sizeof(msg));
        cli_error("verification failed: chain bundle: %s", msg);
        print_json_error(json, "failed", msg);
        rc = CLI_VERIFY;
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        items[i].stmt = (const char *)b->proofs[i]->extra;
        items[i].len = b->proofs[i]->extra_len;
        items[i].proof = b->proofs[i];
    }
    if ((r = malloc(sizeof(*r))) == NULL)
        goto out;
    rc = chain_eval(p, items, b->n, 0, artifact != NULL ? digest : NULL, max_age,
                    (uint64_t)time(NULL), r);
    if (rc != 0 && rc != GL_EVERIFY) {
        rc = CLI_USAGE;
        goto out;
    }
    chain_print(r, json);
    rc = r->ok ? CLI_OK : CLI_VERIFY;
out:
    free(r);
    gl_chainbundle_free(b);
    gl_buf_release(&text);
    return rc;
}

/* --- online: from the log's lookup API ---------------------------------------------- */

/* A statement and its proof from a lookup answer, copied (the page is
 * freed once read); pf's checkpoint points into proof. */
struct held {
    char *stmt, *proof;
    struct gl_tlogproof *pf;
};

/* The gathering runs in two steps. Finding the head (the artifact's
 * lookup): only the best head so far is kept, in own[0]. Linking (the
 * source's lookup, linking = 1): only statements that can join the
 * head's chain (joins) are kept; anything else in the answer, however
 * much, is dropped unread. Of those, the ones that cannot count (by a
 * key outside the policy, or verified by a policy key without the role
 * their link needs: link_role) are kept aside, never counted against
 * the chain's room, so anyone appending such statements about the
 * source can neither crowd out nor overflow the chain; only statements
 * that count (or fail: a policy key's bad signature) fill it. So memory
 * is bounded by the chain (CHAIN_MAX held statements plus CHAIN_MAX
 * aside) and one answer page, and the time by the pages read (at most
 * CHAIN_PAGES_MAX per lookup, however many statements are set aside or
 * dropped). */
struct gathered {
    const struct gl_policy *p;
    const uint8_t *digest;              /* the artifact's */
    int head_by_builder;                /* own[0] verified by a builder */
    int linking;                        /* the head is chosen: items[0] */
    struct gl_statement head;           /* points into own[0].stmt (linking) */
    struct chain_item items[CHAIN_MAX]; /* the chain: items[i] lives in own[i] */
    struct gl_tlogproof *proofs[CHAIN_MAX];
    struct held own[CHAIN_MAX];
    size_t n;
    /* statements that cannot count (by keys outside the policy or without
     * the role of their link): they join the chain (to be shown) only
     * where room is left at the end */
    struct held out[CHAIN_MAX];
    size_t nout, dropped;
};

static void held_free(struct held *h)
{
    gl_tlogproof_free(h->pf);
    free(h->stmt);
    free(h->proof);
    memset(h, 0, sizeof(*h));
}

/* Copies item it's statement and proof into h and parses the proof. */
static int hold(const cJSON *it, struct held *h)
{
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(it, "statement");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(it, "proof");

    char *stmt = NULL, *proof = NULL;
    struct gl_tlogproof *pf = NULL;

    memset(h, 0, sizeof(*h));
    if (!cJSON_IsString(js) || !cJSON_IsString(jp))
        return GL_EPARSE;
    if ((stmt = strdup(js->valuestring)) == NULL ||
        (proof = strdup(jp->valuestring)) == NULL ||
        gl_tlogproof_parse(proof, strlen(proof), &pf, NULL) != 0) {
        free(stmt);
        free(proof);
        return GL_EPARSE;
    }
    h->stmt = stmt;
    h->proof = proof;
    h->pf = pf;
    return 0;
}

static int held_index(const struct gathered *g, uint64_t index)
{
    for (size_t k = 0; k < g->n; k++)
        if (g->proofs[k]->index == index)
            return 1;
    for (size_t k = 0; k < g->nout; k++)
        if (g->out[k].pf->index == index)
            return 1;
    return 0;
}

/* Moves h into the chain. */
static void add(struct gathered *g, struct held *h)
{
    assert(g->n < CHAIN_MAX);
    g->own[g->n] = *h;
    g->proofs[g->n] = h->pf;
    g->items[g->n].stmt = h->stmt;
    g->items[g->n].len = strlen(h->stmt);
    g->items[g->n].proof = h->pf;
    g->n++;
    memset(h, 0, sizeof(*h));
}

/* Finding the head: keeps h in own[0] if it is a better head than the one
 * held (the first v2 build or rule-update naming the digest by a policy
 * key, replaced by the first that verifies by a builder), else frees it. */
static void pick_head(struct gathered *g, struct held *h)
{
    const struct gl_verifier *subs;
    struct gl_statement st;
    size_t nsub, which;
    int rc, builder;

    subs = gl_policy_submitters(g->p, &nsub);
    if (g->head_by_builder ||
        gl_statement_parse(h->stmt, strlen(h->stmt), &st, NULL) != 0 ||
        st.fields.format != 2 || !gl_statement_has_source(&st.fields) ||
        st.fields.kind == GL_STATEMENT_REBUILD ||
        !util_hash_equal(st.fields.sha256, g->digest) ||
        (rc = gl_statement_verify(&st, subs, nsub, &which)) == GL_ENOKEY) {
        held_free(h);
        return;
    }
    builder = rc == 0 && gl_policy_submitter_role(g->p, which) == GL_POLICY_ROLE_BUILDER;
    if (g->n == 1 && !builder) {
        held_free(h);
        return;
    }
    if (g->n == 1) {
        held_free(&g->own[0]);
        g->n = 0;
    }
    add(g, h);
    g->head_by_builder = builder;
}

/* Whether a statement that joins the chain cannot count: signed by a key
 * outside the policy, or verified with a policy key whose role is not
 * the one its link needs. A bad signature by a policy key can count (it
 * fails its row), so it is not set aside. */
static int cannot_count(const struct gl_policy *p, const struct gl_statement *st)
{
    const struct gl_verifier *subs;
    size_t nsub, which;
    int rc;

    subs = gl_policy_submitters(p, &nsub);
    rc = gl_statement_verify(st, subs, nsub, &which);
    return rc == GL_ENOKEY ||
           (rc == 0 && gl_policy_submitter_role(p, which) != link_role(st->fields.kind));
}

/* Linking: keeps h if it can join the head's chain, aside when it cannot
 * count (dropped, counted, when the aside is full), else frees it. 0, or
 * CLI_USAGE: more links that count than the chain holds. */
static int take_link(struct gathered *g, struct held *h)
{
    struct gl_statement st;

    if (held_index(g, h->pf->index) ||
        gl_statement_parse(h->stmt, strlen(h->stmt), &st, NULL) != 0 ||
        !joins(&g->head.fields, &st.fields)) {
        held_free(h);
    } else if (cannot_count(g->p, &st)) {
        if (g->nout < CHAIN_MAX)
            g->out[g->nout++] = *h;
        else
            g->dropped++, held_free(h);
    } else if (g->n == CHAIN_MAX) {
        held_free(h);
        cli_error("the chain holds more than %d statements that count (the head, sources "
                  "by builders, rebuilds by rebuilders, audit reports by auditors)",
                  CHAIN_MAX);
        return CLI_USAGE;
    } else {
        add(g, h);
    }
    return 0;
}

/* Takes the items of one lookup answer (pick_head or link, by the step).
 * 0, CLI_VERIFY (malformed answer) or CLI_USAGE (too many). */
static int gather(struct gathered *g, const cJSON *answer)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(answer, "statements"), *it;
    struct held h;
    int rc;

    if (!cJSON_IsArray(arr)) {
        cli_error("the log's lookup answer is not {\"statements\": [...]}");
        return CLI_VERIFY;
    }
    if ((unsigned)cJSON_GetArraySize(arr) > UTIL_LOOKUP_ITEMS) {
        cli_error("the log's lookup answer lists more than the %u statements of a page",
                  UTIL_LOOKUP_ITEMS);
        return CLI_VERIFY;
    }
    cJSON_ArrayForEach(it, arr)
    {
        if (hold(it, &h) != 0) {
            cli_error(
                "verification failed: the log's answer is malformed (an item lacks a "
                "valid statement or proof)");
            return CLI_VERIFY;
        }
        if (!g->linking)
            pick_head(g, &h);
        else if ((rc = take_link(g, &h)) != 0)
            return rc;
    }
    return 0;
}

/* Every page of GET lookup?<param>=<hex of d>, each gathered and freed.
 * An answer of more than CHAIN_PAGES_MAX pages is CLI_USAGE (reported):
 * the chain is not judged on the statements read so far, since one past
 * them could fail it. */
static int ask(struct gathered *g, struct fetch *f, const char *param,
               const uint8_t d[32])
{
    struct gl_buf body, path;
    char hex[GL_HASH_HEX_LEN + 1];
    uint64_t from = 0, next;
    int rc = 0;

    gl_hex_encode(d, 32, hex, sizeof(hex));
    gl_buf_init(&body, UTIL_LOOKUP_BYTES);
    gl_buf_init(&path, 256);
    for (unsigned page = 0; rc == 0 && from != UINT64_MAX; page++) {
        cJSON *answer = NULL;
        const cJSON *jn;
        gl_buf_reset(&body);
        gl_buf_reset(&path);
        if (page == CHAIN_PAGES_MAX) {
            cli_error("the log's lookup?%s= lists more than %u pages (%u statements): "
                      "the chain is not judged",
                      param, CHAIN_PAGES_MAX, CHAIN_PAGES_MAX * UTIL_LOOKUP_ITEMS);
            rc = CLI_USAGE;
        } else if (gl_buf_printf(&path, "api/v1/lookup?%s=%s&from=%" PRIu64, param, hex,
                                 from) != 0) {
            rc = CLI_USAGE;
        } else if (fetch_get(f, (const char *)path.data, UTIL_LOOKUP_BYTES, &body) != 0) {
            cli_error("lookup failed: %s", f->error);
            rc = CLI_USAGE;
        } else if (util_json_values_within(body.data, body.len, UTIL_LOOKUP_VALUES) !=
                   0) {
            cli_error("the log's lookup answer holds more JSON values than %u statements "
                      "need",
                      UTIL_LOOKUP_ITEMS);
            rc = CLI_VERIFY;
        } else if ((answer = cJSON_ParseWithLength((const char *)body.data, body.len)) ==
                   NULL) {
            cli_error("the log's lookup answer is not JSON");
            rc = CLI_VERIFY;
        } else if ((jn = cJSON_GetObjectItemCaseSensitive(answer, "next")) != NULL &&
                   (util_json_index(jn, &next) != 0 || next <= from)) {
            cli_error("the log's lookup answer has a \"next\" not above %" PRIu64, from);
            rc = CLI_VERIFY;
        } else {
            from = jn != NULL ? next : UINT64_MAX;
            rc = gather(g, answer);
        }
        cJSON_Delete(answer);
    }
    gl_buf_release(&body);
    gl_buf_release(&path);
    return rc;
}

/* Ends the gathering: the statements set aside join the chain while room
 * is left; how many did not is said. */
static void finish(struct gathered *g)
{
    for (size_t k = 0; k < g->nout; k++) {
        if (g->n < CHAIN_MAX)
            add(g, &g->out[k]);
        else
            g->dropped++, held_free(&g->out[k]);
    }
    g->nout = 0;
    if (g->dropped > 0)
        cli_error(
            "%zu statement%s that do not count (by keys outside the policy or "
            "without the role of their link) not shown (the chain holds at most %d)",
            g->dropped, g->dropped == 1 ? "" : "s", CHAIN_MAX);
}

static void gathered_free(struct gathered *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n; i++)
        held_free(&g->own[i]);
    for (size_t k = 0; k < g->nout; k++)
        held_free(&g->out[k]);
    free(g);
}

static int by_index(const void *a, const void *b)
{
    const struct gl_tlogproof *x = *(struct gl_tlogproof *const *)a;
    const struct gl_tlogproof *y = *(struct gl_tlogproof *const *)b;

    return x->index < y->index ? -1 : x->index > y->index;
}

/* Writes the chain bundle: the head first, then the other statements in
 * ascending log index (specs/bundle.md). */
static int write_bundle(const struct gathered *g, size_t head, const char *out)
{
    struct gl_tlogproof *order[CHAIN_MAX];
    struct gl_tlogproof copies[CHAIN_MAX];
    struct gl_buf b;
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < g->n; i++) {
        size_t src = i == 0 ? head : (i <= head ? i - 1 : i);
        copies[i] = *g->proofs[src];
        copies[i].extra = (const uint8_t *)g->items[src].stmt;
        copies[i].extra_len = g->items[src].len;
        order[k++] = &copies[i];
    }
    if (k > 2)
        qsort(order + 1, k - 1, sizeof(struct gl_tlogproof *), by_index);
    gl_buf_init(&b, GL_CHAINBUNDLE_MAX_SIZE);
    rc = gl_chainbundle_format(order, k, &b);
    if (rc == 0 && (rc = gl_file_replace(out, b.data, b.len, 0644)) != 0)
        cli_error("cannot write %s", out);
    else if (rc != 0)
        cli_error("cannot make the chain bundle: %s", gl_strerror(rc));
    gl_buf_release(&b);
    return rc;
}

/* The client's memory against every proof whose checkpoint verified
 * (state skips a checkpoint it has checked). CLI_OK, CLI_VERIFY, CLI_USAGE. */
static int check_memory(const struct gathered *g, chain_state_fn state, void *ctx)
{
    int rc;

    for (size_t i = 0; state != NULL && i < g->n; i++) {
        if ((rc = state(ctx, g->proofs[i])) == GL_EVERIFY)
            return CLI_VERIFY;
        if (rc != 0)
            return CLI_USAGE;
    }
    return CLI_OK;
}

/* Adds the failed memory check (check_memory's code mem) to the report as
 * a summary row; the chain then does not verify. */
static void memory_row(struct chain_report *r, int mem)
{
    struct chain_row *row;

    r->ok = 0;
    if (r->nrows == sizeof(r->rows) / sizeof(r->rows[0]))
        return; /* cannot happen: rows has room for this one */
    row = &r->rows[r->nrows++];
    memset(row, 0, sizeof(*row));
    row->link = "log consistency";
    row->item = -1;
    set(row, CHAIN_FAIL, "%s",
        mem == CLI_VERIFY
            ? "a proof's checkpoint is not consistent with the one remembered in the "
              "state directory (fork alarm)"
            : "the proofs' checkpoints could not be checked against the one remembered "
              "in the state directory");
}

int chain_lookup(const struct gl_policy *p, struct fetch *f, const uint8_t digest[32],
                 const char *out, int json, chain_state_fn state, void *ctx)
{
    struct gathered *g = calloc(1, sizeof(*g));
    struct chain_report *r = malloc(sizeof(*r));
    int rc = CLI_USAGE, mem;

    if (g == NULL || r == NULL)
        goto out;
    g->p = p;
    g->digest = digest;
    if ((rc = ask(g, f, "sha256", digest)) != 0)
        goto out;
    if (g->n == 0) {
        static const char none[] =
            "no v2 build or rule-update statement about this artifact in the log";
        cli_error("%s", none);
        print_json_error(json, "not found", none);
        rc = CLI_NOTFOUND;
        goto out;
    }
    rc = CLI_USAGE;
    if (gl_statement_parse(g->items[0].stmt, g->items[0].len, &g->head, NULL) != 0)
        goto out;
    g->linking = 1;
    if ((rc = ask(g, f, "source", g->head.fields.source)) != 0)
        goto out;
    finish(g);
    if (chain_eval(p, g->items, g->n, 0, digest, 0, (uint64_t)time(NULL), r) ==
        GL_EINVAL) {
        rc = CLI_USAGE;
        goto out;
    }
    rc = r->ok ? CLI_OK : CLI_VERIFY;
    /* The memory check comes before the verdict is printed, and counts. */
    if ((mem = check_memory(g, state, ctx)) != CLI_OK) {
        memory_row(r, mem);
        if (rc == CLI_OK || mem == CLI_VERIFY)
            rc = mem;
    }
    chain_print(r, json);
    if (out != NULL && write_bundle(g, 0, out) != 0)
        rc = CLI_USAGE;
out:
    gathered_free(g);
    free(r);
    return rc;
}
