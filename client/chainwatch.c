/*
 * chainwatch: see chainwatch.h. Each check is one source lookup, read
 * page by page (at most SOURCE_PAGES_MAX pages; each `next` must be above
 * its page's `from`, so a hostile log's answer still ends): the
 * statements of a page are parsed and their signatures verified against
 * the policy's submitters (an entry that does not verify is not evidence
 * of anything and is skipped), the ones that verify are copied out and
 * the page is freed before the next is asked. Memory: one page (at most
 * UTIL_LOOKUP_BYTES) plus the statements about the source signed by policy
 * submitters, whatever others log about it: only those that can be a link
 * (a source statement of it, a build or rebuild naming it, an audit
 * listing it) are kept, each proof of at most GL_TLOGPROOF_MAX_SIZE bytes
 * (a longer one is no valid proof: skipped), at most ANSWER_ITEMS of them
 * in ANSWER_BYTES; an answer listing more is refused like a failed lookup
 * (a hostile log repeating one real statement cannot grow the monitor). The pending
 * checks (audit and source: struct chainwatch_pending) are a small array, sorted by
 * nothing, deduplicated by build index and kind, read by chainwatch_pending_parse,
 * written whole
 * (gl_file_replace: atomic): by chainwatch_flush for the checks added during a catch-up
 * (once per entry bundle, before its progress is saved, so a catch-up of N builds writes
 * it N / 256 times, not N), and by chainwatch_due when due checks are done. A build whose
 * check cannot be added (the file cannot be read, or holds CHAINWATCH_MAX_PENDING checks)
 * stops the catch-up before it: no check is dropped silently.
 *
 * Source grace. A build whose lookup shows no source statement for it yet
 * is not source-not-logged at once: pipelines log concurrently, and its
 * source statement may be logged a moment later. Its source check is
 * pending (PEND_SOURCE, made only then: a build whose source is logged
 * costs no line) until CHAINWATCH_SOURCE_GRACE after the earlier of the
 * build's time and when the monitor met it, and runs like a due audit
 * check (check_due): cleared by a source statement of the build's
 * product (its product_digest is kept in the check) proven in the log,
 * whenever logged; else the alarm, with the build as the answer or the
 * tiles give it. A build met past that time is decided at once, as
 * before. A v1 build or rule-update names no source: under a policy
 * with requirements, a builder's is source-not-logged at once
 * (unchained), never looked up.
 *
 * Due time. A check falls due D after the earlier of the build's own time
 * and the time the monitor first met the build (chainwatch_entry's now),
 * so a vendor cannot postpone its audit by dating the build ahead; a v2
 * statement dated more than CHAINWATCH_FUTURE_SLACK after that time is
 * a future-statement alarm of its own. An auditor's report counts for
 * the check only if signed (its time) at or before the due time, whenever
 * it is logged: a report logged late must not clear the alarm, and its
 * time is the auditor's signed word of when the audit was done (the log's
 * index says only when it was logged).
 *
 * Clearing needs proof. A lookup answer is whatever the server says: a
 * source statement or auditor's report in it clears source-not-logged or
 * unaudited-source only once w->prove shows its leaf hash is the entry at
 * its index in a checkpoint the monitor verified, or (past those) in a
 * larger one signed by the log and proven consistent with it (in_log,
 * checked lazily, the first proven one ends the search). One whose proof
 * cannot be told now (the tiles could not be read) decides nothing yet:
 * the entry's check (or the due check) is retried next cycle, like a
 * failed lookup. Statements that do not prove are ignored for clearing.
 *
 * Failing closed. A build's audit check is made pending before its
 * source lookup is asked, so a log that cannot answer that lookup cannot
 * drop the check. A due check whose lookup fails stays pending and the
 * run reports the failure (chainwatch_due's result); a due check the log
 * answers without the build itself raises unaudited-source all the same
 * (the answer shows no auditor's report either: a log that hides the
 * build cannot thereby keep the alarm back), but only when the answer
 * demonstrably reaches the build: some statement's proof carries a
 * checkpoint of the monitored log (its origin, signed with a policy key
 * for that origin) of a tree larger than the build's index (covers). A
 * checkpoint of another log of the policy is no such evidence: that log's
 * tree says nothing about this one's entries. Otherwise (an empty answer,
 * one from a mirror behind the log: its read API serves its own
 * checkpoint, or one whose proofs are another log's) the check stays
 * pending and the run reports it like a failed lookup.
 *
 * A build hidden from the lookup is still in the log's tiles, where the
 * monitor read it: the reader (chainwatch_read_fn) reads entry `index`
 * from the entry bundle and proves its inclusion, from the tiles, in a
 * checkpoint the monitor verified. The entry is attached to the alarm,
 * with that proof, only if it is also the build recorded: a statement
 * verifying with a builder's key (as the policy counts builders), of a
 * build naming the pending check's source. Anything short of that (the
 * reader fails, or the entry is another one) raises the alarm without the
 * statement, the detail saying why: evidence that does not verify is
 * not attached.
 *
 * Alarm cap. The receiver may take no more alarms (w->full: the
 * monitor's cap of alarms per cycle). chainwatch_entry then raises
 * nothing more about its statement and returns GL_ETOOBIG (before its
 * checks, or after the alarm that filled the receiver): the monitor stops
 * its catch-up before the entry and meets it again next cycle, when the
 * checks are made again (the pending ones are deduplicated; an alarm raised
 * already is raised again, and recorded once). chainwatch_due runs no due
 * check while the receiver is full: the rest stay pending, as if not due
 * yet, and are counted on stderr; nor the checks of builds from where
 * the caller's catch-up stopped (`below`: their entries' checks are made
 * again, and add them again). So a log of many v1 builds, or of many
 * builds whose source checks fall due together, cannot raise more alarms
 * (and run more hooks) in a cycle than the caps.
 */
#include "chainwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "cli.h"
#include "fetch.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/sha256.h"
#include "glasslog/tile.h"
#include "glasslog/tlogproof.h"
#include "state.h"
#include "util.h"

#define SOURCE_PAGES_MAX 10000u         /* pages of one source lookup */
#define ANSWER_ITEMS 10000u             /* statements kept from one source lookup */
#define ANSWER_BYTES ((size_t)64 << 20) /* their texts' bytes */
#define PENDING_FILE "chain-pending"

/* A pending check (struct chainwatch_pending, chainwatch.h): an audit
 * check (PEND_AUDIT, its line `<due> <index> <source hex>`, the format of
 * every line before source checks were pending too) or a source check
 * (PEND_SOURCE, `source <due> <index> <source hex> <product hex>`: a
 * glasslog that knows only audit checks refuses such a file as malformed
 * rather than taking the line for an audit check). product:
 * product_digest of the build's subject and version (source checks only;
 * zero for audit checks). */
enum { PEND_AUDIT = CHAINWATCH_PENDING_AUDIT, PEND_SOURCE = CHAINWATCH_PENDING_SOURCE };

struct chainwatch {
    const struct gl_policy *p;
    struct fetch f;
    uint64_t audit_within;
    chainwatch_alarm_fn fn;
    chainwatch_read_fn reader; /* may be NULL */
    chainwatch_prove_fn prove; /* may be NULL */
    chainwatch_full_fn full;   /* may be NULL: never full */
    void *ctx;
    int named[4]; /* per role: the policy names at least one key */
    struct chainwatch_pending *pend;
    size_t npend;
    int loaded;
    int dirty;          /* pend holds checks chain-pending does not */
    uint64_t audit_due; /* the due time of the check check_due makes: audits
                           counts a report signed (its time) by then only */
};

/* One statement of a lookup answer, verified. stmt and proof are one
 * allocation (stmt first, both NUL-terminated) owned by the answer; st
 * points into stmt. */
struct linked {
    uint64_t index;
    char *stmt, *proof;
    struct gl_statement st;
    enum gl_policy_role role;
    int in; /* in_log's answer, or IN_UNKNOWN before it was asked */
};

#define IN_UNKNOWN 2

/* The verified statements of every page of a source lookup; each page is
 * freed once its statements are taken, so memory holds one page plus the
 * statements signed by policy submitters. */
struct answer {
    struct linked *l;
    size_t n, cap;
    size_t bytes;       /* of the kept texts */
    const uint8_t *x;   /* the source asked about (borrowed) */
    uint64_t need;      /* UINT64_MAX, or an index the answer should reach */
    const char *origin; /* with need: the monitored log's origin (borrowed) */
    int covers;         /* a proof's checkpoint of that log holds entry need */
};

int chainwatch_new(const struct gl_policy *p, const struct fetch_urls *urls,
                   double timeout_s, uint64_t audit_within, chainwatch_alarm_fn fn,
                   chainwatch_read_fn reader, chainwatch_prove_fn prove,
                   chainwatch_full_fn full, void *ctx, struct chainwatch **out)
{
    struct chainwatch *w = calloc(1, sizeof(*w));
    size_t n;

    if (w == NULL)
        return GL_ENOMEM;
    w->p = p;
    w->audit_within = audit_within;
    w->fn = fn;
    w->reader = reader;
    w->prove = prove;
    w->full = full;
    w->ctx = ctx;
    gl_policy_submitters(p, &n);
    for (size_t i = 0; i < n; i++)
        w->named[gl_policy_submitter_role(p, i)] = 1;
    if (fetch_init_urls(&w->f, urls, timeout_s) != 0) {
        free(w);
        return GL_EIO;
    }
    *out = w;
    return 0;
}

void chainwatch_free(struct chainwatch *w)
{
    if (w == NULL)
        return;
    fetch_release(&w->f);
    free(w->pend);
    free(w);
}

/* Whether a statement signed with this role counts as by `want`. */
static int plays(const struct chainwatch *w, enum gl_policy_role role,
                 enum gl_policy_role want)
{
    return !w->named[want] || role == want;
}

static int same_product(const struct gl_statement_fields *a,
                        const struct gl_statement_fields *b)
{
    return a->subject_len == b->subject_len && a->version_len == b->version_len &&
           memcmp(a->subject, b->subject, a->subject_len) == 0 &&
           memcmp(a->version, b->version, a->version_len) == 0;
}

static int is_build(const struct gl_statement_fields *f)
{
    return f->format == 2 &&
           (f->kind == GL_STATEMENT_BUILD || f->kind == GL_STATEMENT_RULE_UPDATE);
}

/* A rebuild by a rebuilder (any policy submitter when the policy names
 * no rebuilder: plays). */
static int counted_rebuild(const struct chainwatch *w,
                           const struct gl_statement_fields *f, enum gl_policy_role role)
{
    return f->kind == GL_STATEMENT_REBUILD && plays(w, role, GL_POLICY_ROLE_REBUILDER);
}

/* SHA-256 of "<subject> <version>" (neither holds a space): what a
 * pending source check keeps of its build's product, so that it counts
 * only a source statement of that subject and version. */
static void product_digest(const struct gl_statement_fields *f, uint8_t out[32])
{
    char text[GL_STATEMENT_SUBJECT_MAX + GL_STATEMENT_VERSION_MAX + 1];
    size_t sn = f->subject_len > GL_STATEMENT_SUBJECT_MAX ? GL_STATEMENT_SUBJECT_MAX
                                                          : f->subject_len;
    size_t vn = f->version_len > GL_STATEMENT_VERSION_MAX ? GL_STATEMENT_VERSION_MAX
                                                          : f->version_len;

    memcpy(text, f->subject, sn);
    text[sn] = ' ';
    memcpy(text + sn + 1, f->version, vn);
    if (gl_sha256(text, sn + 1 + vn, out) != 0)
        memset(out, 0, 32); /* matches no product (a real digest is not zero) */
}

static void answer_free(struct answer *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->l[i].stmt);
    free(a->l);
    memset(a, 0, sizeof(*a));
}

/* 1 if proof (a tlog-proof's text) carries a checkpoint of the monitored
 * log (origin a->origin, signed with one of the policy's keys for that
 * origin) whose tree holds entry a->need (size > need): the answer it
 * came with was made from a tree of that log that holds that entry. A
 * checkpoint of any other log of the policy, however well signed, says
 * nothing about this one's entries. */
static int covers(const struct chainwatch *w, const struct answer *a, const char *proof)
{
    const struct gl_verifier *logs;
    struct gl_tlogproof *tp;
    struct gl_checkpoint cp;
    size_t nlog;
    int yes = 0;

    if (a->origin == NULL || gl_tlogproof_parse(proof, strlen(proof), &tp, NULL) != 0)
        return 0;
    logs = gl_policy_log_keys(w->p, &nlog);
    for (size_t i = 0; i < nlog && !yes; i++)
        yes = strcmp(logs[i].name, a->origin) == 0 &&
              gl_checkpoint_open(tp->checkpoint, tp->checkpoint_len, &logs[i], &cp, NULL,
                                 NULL) == 0 &&
              cp.size > a->need;
    gl_tlogproof_free(tp);
    return yes;
}

/* Whether statement g can be a link of a chain of source x: a source
 * statement of x, a build or rebuild naming x, an audit report listing x. */
static int about(const struct gl_statement_fields *g, const uint8_t x[32])
{
    if (g->kind == GL_STATEMENT_SOURCE)
        return memcmp(g->sha256, x, 32) == 0;
    return gl_statement_links_source(g, x);
}

/* Keeps item it of a page if its statement verifies with a policy
 * submitter's key and is about a->x, with a proof of at most
 * GL_TLOGPROOF_MAX_SIZE bytes: the statement and proof texts are copied
 * out of the page. 0 (kept or skipped), GL_ENOMEM, or GL_ETOOBIG (over
 * ANSWER_ITEMS or ANSWER_BYTES: reported). */
static int take(struct chainwatch *w, const cJSON *it, struct answer *a)
{
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(it, "index");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(it, "statement");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(it, "proof");
    const struct gl_verifier *subs;
    struct gl_statement st;
    struct linked *l;
    size_t nsub, which, slen, plen;
    uint64_t index;
    char *text;

    if (util_json_index(ji, &index) != 0 || !cJSON_IsString(js) || !cJSON_IsString(jp))
        return 0;
    if (!a->covers && a->need != UINT64_MAX)
        a->covers = covers(w, a, jp->valuestring);
    subs = gl_policy_submitters(w->p, &nsub);
    slen = strlen(js->valuestring);
    plen = strlen(jp->valuestring);
    if (plen > GL_TLOGPROOF_MAX_SIZE ||
        gl_statement_parse(js->valuestring, slen, &st, NULL) != 0 ||
        !about(&st.fields, a->x) || gl_statement_verify(&st, subs, nsub, &which) != 0)
        return 0;
    if (a->n == ANSWER_ITEMS || slen > ANSWER_BYTES - a->bytes ||
        plen > ANSWER_BYTES - a->bytes - slen) {
        cli_error(
            "chain check: the log's answer lists more than %u statements (or %zu MiB) "
            "about one source: refused",
            ANSWER_ITEMS, ANSWER_BYTES >> 20);
        return GL_ETOOBIG;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct linked *nl;
        if (cap < a->cap || cap > SIZE_MAX / sizeof(*nl) ||
            (nl = realloc(a->l, cap * sizeof(*nl))) == NULL)
            return GL_ENOMEM;
        a->l = nl;
        a->cap = cap;
    }
    if (slen > SIZE_MAX - 2 || plen > SIZE_MAX - 2 - slen ||
        (text = malloc(slen + plen + 2)) == NULL)
        return GL_ENOMEM;
    memcpy(text, js->valuestring, slen + 1);
    memcpy(text + slen + 1, jp->valuestring, plen + 1);
    l = &a->l[a->n];
    /* Parsed again from the copy, which st then points into. */
    if (gl_statement_parse(text, slen, &l->st, NULL) != 0) {
        free(text);
        return 0;
    }
    l->index = index;
    l->stmt = text;
    l->proof = text + slen + 1;
    l->role = gl_policy_submitter_role(w->p, which);
    l->in = IN_UNKNOWN;
    a->n++;
    a->bytes += slen + plen;
    return 0;
}

/* GET lookup?source=<hex>&from=*from: the page's verified statements
 * join *a, then the page is freed; *from gets the next page's start,
 * UINT64_MAX after the last. */
static int ask_page(struct chainwatch *w, const char *hex, uint64_t *from,
                    struct answer *a)
{
    const cJSON *jn, *it;
    cJSON *page, *arr;
    struct gl_buf body;
    char path[160];
    uint64_t next = UINT64_MAX;
    int rc = 0;

    snprintf(path, sizeof(path), "api/v1/lookup?source=%s&from=%" PRIu64, hex, *from);
    gl_buf_init(&body, UTIL_LOOKUP_BYTES);
    if (fetch_get(&w->f, path, UTIL_LOOKUP_BYTES, &body) != 0) {
        cli_error("chain check: lookup?source=%.16s... failed: %s", hex, w->f.error);
        gl_buf_release(&body);
        return GL_EIO;
    }
    page = util_json_values_within(body.data, body.len, UTIL_LOOKUP_VALUES) == 0
               ? cJSON_ParseWithLength((const char *)body.data, body.len)
               : NULL;
    gl_buf_release(&body);
    arr = cJSON_GetObjectItemCaseSensitive(page, "statements");
    jn = cJSON_GetObjectItemCaseSensitive(page, "next");
    if (!cJSON_IsArray(arr) || (unsigned)cJSON_GetArraySize(arr) > UTIL_LOOKUP_ITEMS ||
        (jn != NULL && (util_json_index(jn, &next) != 0 || next <= *from))) {
        cli_error("chain check: the log's lookup answer is malformed");
        cJSON_Delete(page);
        return GL_EIO;
    }
    *from = next;
    cJSON_ArrayForEach(it, arr)
    {
        if ((rc = take(w, it, a)) != 0) {
            if (rc == GL_ENOMEM)
                cli_error("chain check: out of memory");
            rc = GL_EIO; /* the log's answer could not be taken: as a failed lookup */
            break;
        }
    }
    cJSON_Delete(page);
    return rc;
}

/* GET lookup?source=X, every page (at most SOURCE_PAGES_MAX), into *a;
 * a->covers tells whether the answer reaches entry need of the log whose
 * origin is origin (borrowed; need UINT64_MAX and origin NULL: not asked,
 * a->covers stays 0). */
static int ask_source(struct chainwatch *w, const uint8_t x[32], uint64_t need,
                      const char *origin, struct answer *a)
{
    char hex[GL_HASH_HEX_LEN + 1];
    uint64_t from = 0;
    int rc;

    memset(a, 0, sizeof(*a));
    a->need = need;
    a->origin = origin;
    a->x = x;
    gl_hex_encode(x, 32, hex, sizeof(hex));
    for (unsigned page = 0; from != UINT64_MAX; page++) {
        if (page == SOURCE_PAGES_MAX) {
            cli_error(
                "chain check: the log lists more than %u pages about source %.16s...",
                SOURCE_PAGES_MAX, hex);
            answer_free(a);
            return GL_EIO;
        }
        if ((rc = ask_page(w, hex, &from, a)) != 0) {
            answer_free(a);
            return rc;
        }
    }
    return 0;
}

/* 1 if the receiver takes no more alarms now (w->full), else 0. */
static int full(const struct chainwatch *w)
{
    return w->full != NULL && w->full(w->ctx) != 0;
}

/* Raises an alarm about entry index (stmt: its len bytes, or NULL;
 * stmt_proof: its tlog-proof text, or NULL) with rel (may be NULL) as
 * the related statement; the detail is printf-formatted. 0, or GL_ETOOBIG
 * when the receiver takes no more alarms after it (full). */
static int found(struct chainwatch *w, const char *kind, uint64_t index,
                 const uint8_t source[32], const char *stmt, size_t len,
                 const char *stmt_proof, const struct linked *rel, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

static int found(struct chainwatch *w, const char *kind, uint64_t index,
                 const uint8_t source[32], const char *stmt, size_t len,
                 const char *stmt_proof, const struct linked *rel, const char *fmt, ...)
{
    struct chainwatch_alarm a;
    va_list ap;

    memset(&a, 0, sizeof(a));
    a.kind = kind;
    a.index = index;
    memcpy(a.source, source, 32);
    a.stmt = stmt;
    a.stmt_proof = stmt_proof;
    a.len = len;
    if (rel != NULL) {
        a.related = rel->stmt;
        a.related_len = strlen(rel->stmt);
        a.related_proof = rel->proof;
    }
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vsnprintf(a.detail, sizeof(a.detail), fmt, ap);
    va_end(ap);
    w->fn(w->ctx, &a);
    return full(w) ? GL_ETOOBIG : 0;
}

static int clip(size_t n)
{
    return n > 100 ? 100 : (int)n;
}

/* Builds and rebuilds of the same product from the same source with
 * other digests, logged before index. The answer is the log's (untrusted):
 * a statement it lists that names another source is about another chain
 * and raises nothing here. 0, or found's GL_ETOOBIG. */
static int check_differs(struct chainwatch *w, uint64_t index, const char *stmt,
                         size_t len, const struct gl_statement_fields *f, int is_rebuild,
                         const struct answer *a)
{
    char mine[17], theirs[17];

    for (size_t i = 0; i < a->n; i++) {
        const struct linked *l = &a->l[i];
        const struct gl_statement_fields *g = &l->st.fields;
        int other = is_rebuild ? is_build(g) && plays(w, l->role, GL_POLICY_ROLE_BUILDER)
                               : counted_rebuild(w, g, l->role);
        if (!other || l->index >= index || !same_product(f, g) ||
            !gl_statement_has_source(g) || memcmp(f->source, g->source, 32) != 0 ||
            memcmp(f->sha256, g->sha256, 32) == 0)
            continue;
        gl_hex_encode(f->sha256, 8, mine, sizeof(mine));
        gl_hex_encode(g->sha256, 8, theirs, sizeof(theirs));
        return found(w, "rebuild-differs", index, f->source, stmt, len, NULL, l,
                     "entry %" PRIu64
                     ": %s of %.*s %.*s has sha256 %s..., the %s at entry %" PRIu64
                     " of the same source has %s...",
                     index, is_rebuild ? "rebuild" : "build", clip(f->subject_len),
                     f->subject, clip(f->version_len), f->version, mine,
                     is_rebuild ? "build" : "rebuild", l->index, theirs);
    }
    return 0;
}

/* Whether l is in the log (see the top of this file): 1 proven, 0 not,
 * -1 not decidable now (the tiles could not be read). Asked once. */
static int in_log(struct chainwatch *w, struct linked *l)
{
    uint8_t leaf[GL_HASH_LEN];
    int rc;

    if (l->in != IN_UNKNOWN)
        return l->in;
    if (w->prove == NULL || gl_merkle_leaf_hash(l->stmt, strlen(l->stmt), leaf) != 0)
        return l->in = 0;
    rc = w->prove(w->ctx, l->index, leaf, l->proof);
    return l->in = rc == 0 ? 1 : rc == GL_EIO ? -1 : 0;
}

/* A source statement of x for the build whose product_digest is
 * product (its subject and version), by a builder (a snapshot of another
 * product is not the build's source). Logged whenever: a source statement
 * logged after the build, even past a source check's due time, is a link
 * of its chain for lookup --chain too. */
static int is_source_of(const struct chainwatch *w, const struct linked *l,
                        const uint8_t *product, const uint8_t x[32])
{
    uint8_t mine[32];

    if (l->st.fields.kind != GL_STATEMENT_SOURCE ||
        memcmp(l->st.fields.sha256, x, 32) != 0 || product == NULL ||
        !plays(w, l->role, GL_POLICY_ROLE_BUILDER))
        return 0;
    product_digest(&l->st.fields, mine);
    return memcmp(mine, product, 32) == 0;
}

/* An auditor's report covering x (of whatever build: product unused),
 * signed (its time) at or before w->audit_due: a report signed after the
 * check fell due does not clear it, however soon it is logged. */
static int audits(const struct chainwatch *w, const struct linked *l,
                  const uint8_t *product, const uint8_t x[32])
{
    (void)product;
    return l->st.fields.kind == GL_STATEMENT_AUDIT_REPORT && about(&l->st.fields, x) &&
           l->st.fields.time <= w->audit_due && plays(w, l->role, GL_POLICY_ROLE_AUDITOR);
}

/* Whether the answer holds a statement that is (product, x) about x
 * (for the build of that product_digest, or NULL) and proven in the log:
 * 1, 0, or -1 when none is proven but one could not be decided yet
 * (in_log). */
static int proven_about(struct chainwatch *w, struct answer *a,
                        int (*is)(const struct chainwatch *, const struct linked *,
                                  const uint8_t *, const uint8_t[32]),
                        const uint8_t *product, const uint8_t x[32])
{
    int later = 0;

    for (size_t i = 0; i < a->n; i++) {
        if (!is(w, &a->l[i], product, x))
            continue;
        int r = in_log(w, &a->l[i]);
        if (r == 1)
            return 1;
        later |= r < 0;
    }
    return later ? -1 : 0;
}

/* --- pending checks (audit and source) --------------------------------------------- */

static int pending_path(const char *dir, char *out)
{
    return snprintf(out, STATE_PATH_MAX, "%s/" PENDING_FILE, dir) >= STATE_PATH_MAX ? -1
                                                                                    : 0;
}

/* The next field of the line [*p, end): up to a space or the end; *p
 * moves past the space. 0 and *f, *flen; GL_EPARSE if the field is
 * empty (two spaces, a space at either end, no field left). */
static int next_field(const char **p, const char *end, const char **f, size_t *flen)
{
    const char *sp = memchr(*p, ' ', (size_t)(end - *p));

    *f = *p;
    *flen = (size_t)((sp != NULL ? sp : end) - *p);
    *p = sp != NULL ? sp + 1 : end;
    return *flen > 0 && !(sp != NULL && *p == end) ? 0 : GL_EPARSE;
}

/* One line of chain-pending, [p, end) without its newline, into *e
 * (zeroed first): exactly the fields pending_save writes. 0, or
 * GL_EPARSE with why (may be NULL) naming the line and what was wrong. */
static int pending_parse_line(const char *p, const char *end, size_t line,
                              struct chainwatch_pending *e, struct gl_err *why)
{
    const char *f;
    size_t n;
    int src = (size_t)(end - p) >= 7 && memcmp(p, "source ", 7) == 0;

    memset(e, 0, sizeof(*e));
    e->kind = src ? PEND_SOURCE : PEND_AUDIT;
    if (src)
        p += 7;
    if (next_field(&p, end, &f, &n) != 0 || gl_parse_u64(f, n, &e->due) != 0 ||
        next_field(&p, end, &f, &n) != 0 || gl_parse_u64(f, n, &e->index) != 0)
        return gl_err_set(
            why, GL_EPARSE, line, "%s",
            src ? "not a source check (source <due> <index> <source hex> <product hex>)"
                : "not an audit check (<due> <index> <source hex>)");
    if (next_field(&p, end, &f, &n) != 0 ||
        gl_hex_decode_exact(f, n, e->source, 32, 1) != 0)
        return gl_err_set(why, GL_EPARSE, line,
                          "the source digest is not 64 lowercase hex digits");
    if (src && (next_field(&p, end, &f, &n) != 0 ||
                gl_hex_decode_exact(f, n, e->product, 32, 1) != 0))
        return gl_err_set(why, GL_EPARSE, line,
                          "the product digest is not 64 lowercase hex digits");
    if (p != end)
        return gl_err_set(why, GL_EPARSE, line, "more fields than a check has");
    return 0;
}

int chainwatch_pending_parse(const char *buf, size_t len, struct chainwatch_pending *pend,
                             size_t max, size_t *n, struct gl_err *why)
{
    const char *p = buf, *end, *nl;
    size_t line = 1;
    int rc = 0;

    *n = 0;
    if (len == 0)
        return 0; /* buf may be NULL */
    end = buf + len;
    if (len > CHAINWATCH_PENDING_MAX_SIZE)
        return gl_err_set(why, GL_ETOOBIG, 0, "larger than %zu bytes",
                          CHAINWATCH_PENDING_MAX_SIZE);
    for (; rc == 0 && p < end; line++, p = nl < end ? nl + 1 : end) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end; /* a last line without its newline */
        if ((size_t)(nl - p) > CHAINWATCH_PENDING_LINE_MAX)
            rc = gl_err_set(why, GL_EPARSE, line, "longer than %d bytes",
                            CHAINWATCH_PENDING_LINE_MAX);
        else if (*n == max)
            rc = gl_err_set(why, GL_EPARSE, line, "more than %zu pending checks", max);
        else if ((rc = pending_parse_line(p, nl, line, &pend[*n], why)) == 0)
            (*n)++;
    }
    if (rc != 0)
        *n = 0;
    return rc;
}

int chainwatch_pending_format(const struct chainwatch_pending *pend, size_t n,
                              struct gl_buf *out)
{
    char hex[GL_HASH_HEX_LEN + 1], phex[GL_HASH_HEX_LEN + 1];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct chainwatch_pending *e = &pend[i];
        gl_hex_encode(e->source, 32, hex, sizeof(hex));
        if (e->kind == PEND_SOURCE) {
            gl_hex_encode(e->product, 32, phex, sizeof(phex));
            rc = gl_buf_printf(out, "source %" PRIu64 " %" PRIu64 " %s %s\n", e->due,
                               e->index, hex, phex);
        } else {
            rc =
                gl_buf_printf(out, "%" PRIu64 " %" PRIu64 " %s\n", e->due, e->index, hex);
        }
    }
    return rc;
}

static int pending_load(struct chainwatch *w, const char *dir)
{
    struct gl_err why = {0};
    char path[STATE_PATH_MAX];
    struct gl_buf b;
    int rc;

    if (w->loaded)
        return 0;
    if (pending_path(dir, path) != 0) {
        cli_error("the path of %s/" PENDING_FILE " is too long", dir);
        return GL_ETOOBIG;
    }
    gl_buf_init(&b, CHAINWATCH_PENDING_MAX_SIZE);
    errno = 0;
    rc = gl_file_read(path, &b);
    if (rc == GL_EIO && errno == ENOENT)
        rc = 0;
    /* One array for the life of w (freed by chainwatch_free), however
     * often a failed load is retried; a failed load leaves it empty. */
    w->npend = 0;
    if (rc == 0 && w->pend == NULL &&
        (w->pend = calloc(CHAINWATCH_MAX_PENDING, sizeof(*w->pend))) == NULL)
        rc = GL_ENOMEM;
    if (rc == 0 && (rc = chainwatch_pending_parse((const char *)b.data, b.len, w->pend,
                                                  CHAINWATCH_MAX_PENDING, &w->npend,
                                                  &why)) == GL_EPARSE)
        cli_error(
            "%s is malformed (line %zu: %s): remove it to drop the pending chain checks",
            path, why.line, why.reason);
    else if (rc != 0) /* errno still gl_file_read's (or the allocation's) */
        cli_error("cannot read %s: %s", path, gl_file_read_error(rc));
    gl_buf_release(&b);
    w->loaded = rc == 0;
    if (rc != 0)
        w->npend = 0;
    return rc;
}

static int pending_save(struct chainwatch *w, const char *dir)
{
    char path[STATE_PATH_MAX];
    struct gl_buf b;
    int rc;

    if (pending_path(dir, path) != 0) {
        cli_error("the path of %s/" PENDING_FILE " is too long", dir);
        return GL_ETOOBIG;
    }
    gl_buf_init(&b, CHAINWATCH_PENDING_MAX_SIZE);
    rc = chainwatch_pending_format(w->pend, w->npend, &b);
    if (rc == 0 && (rc = gl_file_replace(path, b.data, b.len, 0644)) != 0)
        cli_error("cannot write %s: %s", path, strerror(errno));
    else if (rc == 0)
        w->dirty = 0;
    else if (rc != 0)
        cli_error("cannot write %s: %s", path, gl_strerror(rc));
    gl_buf_release(&b);
    return rc;
}

/* When a check of the build f, met at now, falls due: within seconds
 * after the earlier of the build's own time and now (a build dated ahead
 * does not postpone its checks). */
static uint64_t due_time(const struct gl_statement_fields *f, uint64_t now,
                         uint64_t within)
{
    uint64_t from = f->time < now ? f->time : now;

    return from > UINT64_MAX - within ? UINT64_MAX : from + within;
}

/* 1 if a check of kind `kind` (PEND_*) of the build at index is pending,
 * 0 if not; pending_load's codes. */
static int pending_has(struct chainwatch *w, const char *dir, int kind, uint64_t index)
{
    int rc;

    if ((rc = pending_load(w, dir)) != 0)
        return rc;
    for (size_t i = 0; i < w->npend; i++)
        if (w->pend[i].index == index && w->pend[i].kind == kind)
            return 1;
    return 0;
}

/* Adds the check of kind `kind` (PEND_*) of the build f at index, due at
 * due, to the array (chainwatch_flush writes it); a build has at most
 * one check of each kind. 0; GL_ESTATE when the array is full (reported);
 * pending_load's codes. */
static int pending_put(struct chainwatch *w, const char *dir, int kind, uint64_t index,
                       const struct gl_statement_fields *f, uint64_t due)
{
    struct chainwatch_pending *e;
    int rc;

    if ((rc = pending_has(w, dir, kind, index)) != 0)
        return rc > 0 ? 0 : rc;
    if (w->npend == CHAINWATCH_MAX_PENDING) {
        cli_error("%d chain checks are pending already (chain-pending is full): entry "
                  "%" PRIu64 "'s %s check cannot be kept",
                  CHAINWATCH_MAX_PENDING, index,
                  kind == PEND_SOURCE ? "source" : "audit");
        return GL_ESTATE;
    }
    e = &w->pend[w->npend++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->index = index;
    e->due = due;
    memcpy(e->source, f->source, 32);
    if (kind == PEND_SOURCE)
        product_digest(f, e->product);
    w->dirty = 1;
    return 0;
}

/* Adds the audit check of the build f at index, met at now (see
 * pending_put). */
static int pending_add(struct chainwatch *w, const char *dir, uint64_t index,
                       const struct gl_statement_fields *f, uint64_t now)
{
    return pending_put(w, dir, PEND_AUDIT, index, f, due_time(f, now, w->audit_within));
}

int chainwatch_flush(struct chainwatch *w, const char *state_dir)
{
    if (!w->dirty)
        return 0;
    return pending_save(w, state_dir) == 0 ? 0 : GL_ESTATE;
}

/* --- entry points ------------------------------------------------------------------- */

/* A v1 build or rule-update (no source line: specs/statement.md section
 * 9) by a builder under a policy with requirements cannot show the
 * chain the policy requires (lookup --chain finds no head for it): it is
 * source-not-logged at once, with nothing to wait for and nothing to ask
 * the log. Without requirements a v1 build is what a build of unknown
 * source is meant to be, and raises nothing. 0, or found's GL_ETOOBIG. */
static int unchained(struct chainwatch *w, uint64_t index, const char *stmt, size_t len,
                     const struct gl_statement_fields *f, enum gl_policy_role role)
{
    static const uint8_t none[32];

    if ((f->kind != GL_STATEMENT_BUILD && f->kind != GL_STATEMENT_RULE_UPDATE) ||
        !plays(w, role, GL_POLICY_ROLE_BUILDER) ||
        (gl_policy_require_rebuilds(w->p) == 0 && !gl_policy_require_audit(w->p)))
        return 0;
    return found(w, "source-not-logged", index, none, stmt, len, NULL, NULL,
                 "entry %" PRIu64
                 ": %s of %.*s %.*s is a v1 statement, which names no source: "
                 "its provenance chain, which the policy requires, cannot be shown",
                 index, gl_statement_kind_name(f->kind), clip(f->subject_len), f->subject,
                 clip(f->version_len), f->version);
}

int chainwatch_entry(struct chainwatch *w, const char *state_dir, uint64_t index,
                     const char *stmt, size_t len, const struct gl_statement *st,
                     size_t which, uint64_t now)
{
    const struct gl_statement_fields *f = &st->fields;
    enum gl_policy_role role = gl_policy_submitter_role(w->p, which);
    int build = is_build(f) && plays(w, role, GL_POLICY_ROLE_BUILDER);
    int rebuild = counted_rebuild(w, f, role);
    uint64_t src_due = 0;
    uint8_t product[32];
    struct answer a;
    char hex[17];
    int rc, src = 1;

    if (full(w))
        return GL_ETOOBIG; /* nothing checked: the receiver takes no more alarms */
    if (f->format == 1)
        return unchained(w, index, stmt, len, f, role);
    if (!build && !rebuild)
        goto dated;
    /* The audit check needs no answer now: pending first. Its failure
     * (reported by pending_*) is GL_ESTATE, never GL_EIO: that one means
     * the log could not be asked. */
    if (build && w->audit_within > 0 && pending_add(w, state_dir, index, f, now) != 0)
        return GL_ESTATE;
    if ((rc = ask_source(w, f->source, UINT64_MAX, NULL, &a)) != 0)
        return rc;
    gl_hex_encode(f->source, 8, hex, sizeof(hex));
    /* Decided before any alarm, so a retry raises each once. */
    if (build) {
        product_digest(f, product);
        src = proven_about(w, &a, is_source_of, product, f->source);
    }
    if (src < 0) {
        cli_error("chain check: the log's answer about source %s... names a source "
                  "statement whose inclusion in the log could not be checked",
                  hex);
        answer_free(&a);
        return GL_EIO;
    }
    /* A source not logged yet may be logged a moment later (pipelines
     * log concurrently): until its due time the check is pending. */
    if (!src && (src_due = due_time(f, now, CHAINWATCH_SOURCE_GRACE)) > now &&
        pending_put(w, state_dir, PEND_SOURCE, index, f, src_due) != 0) {
        answer_free(&a);
        return GL_ESTATE;
    }
    /* due already: at once, unless its pending check (a build met again,
     * after a stop before the progress past it was saved) raises it */
    if (!src && src_due <= now &&
        (rc = pending_has(w, state_dir, PEND_SOURCE, index)) != 0) {
        if (rc < 0) {
            answer_free(&a);
            return GL_ESTATE;
        }
        src = 1;
    }
    /* Each alarm may fill the receiver (GL_ETOOBIG): the checks after it
     * are made when the statement is met again. */
    rc = check_differs(w, index, stmt, len, f, rebuild, &a);
    if (rc == 0 && !src && src_due <= now)
        rc = found(w, "source-not-logged", index, f->source, stmt, len, NULL, NULL,
                   "entry %" PRIu64
                   ": build of %.*s %.*s names source %s..., which the log holds "
                   "no source statement for",
                   index, clip(f->subject_len), f->subject, clip(f->version_len),
                   f->version, hex);
    answer_free(&a);
    if (rc != 0)
        return rc;
dated:
    if (f->format == 2 && f->time > now && f->time - now > CHAINWATCH_FUTURE_SLACK)
        return found(w, "future-statement", index, f->source, stmt, len, NULL, NULL,
                     "entry %" PRIu64 ": %s of %.*s %.*s is dated %" PRIu64 ", %" PRIu64
                     " s after the monitor met it (more than %d s ahead)",
                     index, gl_statement_kind_name(f->kind), clip(f->subject_len),
                     f->subject, clip(f->version_len), f->version, f->time, f->time - now,
                     CHAINWATCH_FUTURE_SLACK);
    return 0;
}

/* The alarm of due check e (PEND_AUDIT: unaudited-source; PEND_SOURCE:
 * source-not-logged) and what it says was missing. */
static const char *due_kind(const struct chainwatch_pending *e)
{
    return e->kind == PEND_SOURCE ? "source-not-logged" : "unaudited-source";
}

/* What due check e found missing, for the build f (NULL: its statement
 * is not at hand), hex being its source's first 8 bytes in hex: the
 * detail of its alarm after "entry <index>: ". */
static void due_what(const struct chainwatch_pending *e,
                     const struct gl_statement_fields *f, const char *hex, char *out,
                     size_t n)
{
    char build[240] = "build";

    if (f != NULL)
        snprintf(build, sizeof(build), "build of %.*s %.*s", clip(f->subject_len),
                 f->subject, clip(f->version_len), f->version);
    if (e->kind == PEND_SOURCE)
        snprintf(out, n,
                 "%s names source %s..., which the log holds no source statement for "
                 "(none logged within %d s of the build)",
                 build, hex, CHAINWATCH_SOURCE_GRACE);
    else
        snprintf(out, n,
                 "%s: no auditor's report covers its source %s... within the configured "
                 "time",
                 build, hex);
}

/* The alarm of due check e (hex: its source's first 8 bytes in hex) when
 * the log's answer lacks the build: the build's statement read from the
 * log's tiles by w->reader, with its proof, when it is the build recorded
 * (see the top of this file); without it otherwise, the detail saying
 * why. */
static void hidden_build(struct chainwatch *w, const struct chainwatch_pending *e,
                         const char *hex)
{
    const struct gl_verifier *subs;
    struct gl_statement st;
    struct gl_buf stmt, proof;
    char why[256] = "no reader of the log's tiles", what[400];
    size_t nsub, which;

    gl_buf_init(&stmt, GL_TILE_ENTRY_MAX);
    gl_buf_init(&proof, GL_TLOGPROOF_MAX_SIZE);
    if (w->reader == NULL ||
        w->reader(w->ctx, e->index, &stmt, &proof, why, sizeof(why)) != 0)
        goto without;
    subs = gl_policy_submitters(w->p, &nsub);
    if (stmt.len == 0 || proof.len == 0 ||
        gl_statement_parse((const char *)stmt.data, stmt.len, &st, NULL) != 0 ||
        gl_statement_verify(&st, subs, nsub, &which) != 0 || !is_build(&st.fields) ||
        !plays(w, gl_policy_submitter_role(w->p, which), GL_POLICY_ROLE_BUILDER) ||
        memcmp(st.fields.source, e->source, 32) != 0) {
        snprintf(why, sizeof(why),
                 "entry %" PRIu64 " of the log's tiles is not the build recorded (a "
                 "build by a builder naming source %s...)",
                 e->index, hex);
        goto without;
    }
    due_what(e, &st.fields, hex, what, sizeof(what));
    (void)found(
        w, due_kind(e), e->index, e->source, (const char *)stmt.data, stmt.len,
        (const char *)proof.data, NULL,
        "entry %" PRIu64 ": %s (the log's answer about the source lacks the build "
        "itself: its statement is attached as read from the log's tiles, with their "
        "proof of it)",
        e->index, what);
    goto out;
without:
    due_what(e, NULL, hex, what, sizeof(what));
    (void)found(w, due_kind(e), e->index, e->source, NULL, 0, NULL, NULL,
                "entry %" PRIu64
                ": %s (the log's answer about the source lacks the build "
                "itself: its statement is not attached: %s)",
                e->index, what, why);
out:
    gl_buf_release(&stmt);
    gl_buf_release(&proof);
}

/* The due check e of the log whose origin is origin. An audit check:
 * alarm if no auditor's report signed by e->due covers it (audits; one
 * signed later does not count, whenever logged). A source check: alarm if
 * no source statement of its build's product names its source (is_source_of;
 * one logged since the build was met, however late, counts). The alarm
 * comes with the build's statement when the answer holds it, else when
 * the log's tiles give it (hidden_build). 0 done (alarm raised or
 * cleared); GL_EIO: the log could not be asked, or its answer lacks the
 * build and does not reach it (reported); the check stays pending. */
static int check_due(struct chainwatch *w, const struct chainwatch_pending *e,
                     const char *origin)
{
    const char *what = e->kind == PEND_SOURCE ? "source" : "audit";
    const struct linked *build = NULL;
    struct answer a;
    char hex[17];
    int rc, cover;

    if ((rc = ask_source(w, e->source, e->index, origin, &a)) != 0)
        return rc;
    gl_hex_encode(e->source, 8, hex, sizeof(hex));
    w->audit_due = e->due; /* audits counts reports signed by then only */
    cover = e->kind == PEND_SOURCE
                ? proven_about(w, &a, is_source_of, e->product, e->source)
                : proven_about(w, &a, audits, NULL, e->source);
    if (cover != 0) {
        if (cover < 0)
            cli_error("chain check: the log's answer about source %s... holds %s whose "
                      "inclusion in the log could not be checked: the %s check of entry "
                      "%" PRIu64 " stays pending",
                      hex,
                      e->kind == PEND_SOURCE ? "a source statement"
                                             : "an auditor's report",
                      what, e->index);
        answer_free(&a);
        return cover < 0 ? GL_EIO : 0;
    }
    /* The build: the one the check was made for, proven in the log. */
    for (size_t i = 0; i < a.n && build == NULL; i++)
        if (a.l[i].index == e->index && is_build(&a.l[i].st.fields) &&
            plays(w, a.l[i].role, GL_POLICY_ROLE_BUILDER) &&
            memcmp(a.l[i].st.fields.source, e->source, 32) == 0 &&
            in_log(w, &a.l[i]) == 1)
            build = &a.l[i];
    if (build == NULL && !a.covers) {
        cli_error("chain check: the log's answer about source %s... lacks entry %" PRIu64
                  " and no proof in it reaches that entry (a mirror behind the log?): "
                  "its %s check stays pending",
                  hex, e->index, what);
        rc = GL_EIO;
    } else if (build == NULL) {
        hidden_build(w, e, hex);
        rc = 0;
    } else {
        char found_what[400];
        due_what(e, &build->st.fields, hex, found_what, sizeof(found_what));
        (void)found(w, due_kind(e), e->index, e->source, build->stmt, strlen(build->stmt),
                    NULL, build, "entry %" PRIu64 ": %s", e->index, found_what);
    }
    answer_free(&a);
    return rc;
}

int chainwatch_due(struct chainwatch *w, const char *state_dir, const char *origin,
                   uint64_t below, uint64_t now)
{
    size_t keep = 0, before, held = 0, unasked[2] = {0, 0};
    int rc;

    if ((rc = pending_load(w, state_dir)) != 0)
        return rc;
    before = w->npend;
    for (size_t i = 0; i < w->npend; i++) {
        const struct chainwatch_pending *e = &w->pend[i];
        if (e->due > now || e->index >= below ||
            (e->kind == PEND_AUDIT && w->audit_within == 0))
            w->pend[keep++] = *e; /* not yet (or no audit checks this run) */
        else if (full(w)) {
            w->pend[keep++] = *e; /* the receiver takes no more alarms now */
            held++;
        } else if (check_due(w, e, origin) != 0) {
            w->pend[keep++] = *e; /* the log could not be asked */
            unasked[e->kind]++;
        }
    }
    w->npend = keep;
    if ((keep != before || w->dirty) && (rc = pending_save(w, state_dir)) != 0)
        return rc;
    for (int k = PEND_AUDIT; k <= PEND_SOURCE; k++)
        if (unasked[k] > 0)
            cli_error("%zu due %s check%s could not ask the log: kept pending",
                      unasked[k], k == PEND_SOURCE ? "source" : "audit",
                      unasked[k] == 1 ? "" : "s");
    if (held > 0)
        cli_error("%zu due chain check%s not run: the alarms of this cycle reached their "
                  "cap: kept pending for the next cycle",
                  held, held == 1 ? "" : "s");
    return unasked[PEND_AUDIT] + unasked[PEND_SOURCE] > 0 ? GL_EIO : 0;
}
