/*
 * cmd_lookup: `glasslog lookup`, "what does the log say about this
 * file?". Asks the log for the statements about an artifact digest
 * (GET /api/v1/lookup?sha256=), and for each one runs the same offline
 * checks as verify (trust.c) on the returned tlog-proof, with the queried
 * digest as the artifact, so a statement about another file never passes.
 *
 * Then the checkpoint the proofs lead to is compared with the last one
 * this client saw for that log (state.h: one memory per origin of the policy):
 * equal sizes need equal roots; otherwise the log's consistency proof
 * (GET /api/v1/proof/consistency) between the two must verify. A
 * verified larger checkpoint replaces the stored one (forward only, under
 * the state lock); the first one seen is remembered (trust on first use,
 * said on stderr). An inconsistency is recorded as fork evidence (alarm.h)
 * and fails the lookup.
 *
 * A statement signed by a key outside the policy's submitters does not
 * count: the log is shared, and a key the customer never named must not
 * make the lookup fail (nor pass). It is listed as such and not checked
 * further; a bad signature under a policy submitter's name and key ID
 * is a failure.
 *
 * A hostile log must not make a lookup expensive: a page (at most
 * UTIL_LOOKUP_BYTES bytes) is scanned before cJSON parses it, and one
 * holding more JSON values than UTIL_LOOKUP_VALUES allows is refused, so
 * the parse allocates a bounded number of nodes; a page listing more than
 * UTIL_LOOKUP_ITEMS statements is refused before any is verified; the
 * first malformed item ends the lookup (one message, exit 2); at most
 * LOOKUP_PAGES_MAX pages are read.
 *
 * Output: one block per statement on stdout. --out DIR writes each
 * verified statement's offline bundle as DIR/<index>.tlog-proof
 * (specs/bundle.md). Exit 0 a statement by a policy submitter verified
 * and every one that counts did, 1 none that counts found, 2 a
 * verification failure or an inconsistent log, 3 usage, I/O, network.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "chain.h"
#include "cli.h"
#include "cmd.h"
#include "consist.h"
#include "fetch.h"
#include "file.h"
#include "json.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/tlogproof.h"
#include "state.h"
#include "trust.h"
#include "util.h"

#define LOOKUP_PAGES_MAX 1000u /* pages of one lookup (100 statements each) */
#define PROOF_RESPONSE_MAX ((size_t)64 << 10)

static const char lookup_usage[] =
    "usage: glasslog lookup --log URL --policy FILE (PATH | --sha256 HEX)\n"
    "         [--state DIR] [--out DIR] [--timeout SECONDS]\n"
    "\n"
    "Asks the log for the statements about the artifact (the file PATH, or its\n"
    "SHA-256), verifies each under the policy (as 'glasslog verify' does) and\n"
    "checks that the log's checkpoint is consistent with the last one this\n"
    "client saw for that log (kept in --state DIR, default\n"
    "$XDG_STATE_HOME/glasslog or ~/.local/state/glasslog).\n"
    "  --out DIR      save each verified statement as DIR/<index>.tlog-proof\n"
    "  --timeout S    give up on the log after S seconds of retries (60)\n"
    "  --log URL      repeatable (or URL,URL): the log, then its mirrors\n"
    "                 (<witness URL>/mirror/<sha256 of the origin>), tried\n"
    "                 when one does not answer; checked as the log's answers\n"
    "  --chain PATH   instead: find and verify the provenance chain of the build\n"
    "                 PATH (source, rebuilds, audits) under the policy's roles\n"
    "  --chain-out F  with --chain: write the chain as a chain bundle to F\n"
    "  --json         with --chain: the verdict as JSON\n"
    "Statements signed by keys outside the policy do not count.\n"
    "Exit: 0 found and verified, 1 not found, 2 verification failure,\n"
    "3 usage, I/O or network error.\n";

struct lookup_opts {
    struct fetch_opts net; /* --log, --timeout */
    const char *policy, *path, *sha, *state, *out, *chain, *chain_out;
    int json;
};

/* Takes one option of lookup (a cli_take_fn; ctx: the lookup_opts). */
static int lookup_take(void *ctx, int c, const char *arg)
{
    struct lookup_opts *o = ctx;

    switch (c) {
    case 'p':
        o->policy = arg;
        break;
    case 'S':
        o->sha = arg;
        break;
    case 's':
        o->state = arg;
        break;
    case 'o':
        o->out = arg;
        break;
    case 'c':
        o->chain = o->path = arg;
        break;
    case 'C':
        o->chain_out = arg;
        break;
    case 'j':
        o->json = 1;
        break;
    default:
        return fetch_opts_take(&o->net, c, arg);
    }
    return 0;
}

static int lookup_parse(int argc, char **argv, struct lookup_opts *o)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'},
        {"policy", required_argument, NULL, 'p'},
        {"sha256", required_argument, NULL, 'S'},
        {"state", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"timeout", required_argument, NULL, 't'},
        {"chain", required_argument, NULL, 'c'},
        {"chain-out", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = cli_parse_opts(argc, argv, opts, lookup_usage, lookup_take, o)) != 0)
        return rc;
    if (optind < argc && o->chain == NULL)
        o->path = argv[optind++];
    if (fetch_opts_log(&o->net) == NULL || o->policy == NULL || optind != argc ||
        (o->path == NULL) == (o->sha == NULL) ||
        (o->chain == NULL && (o->chain_out != NULL || o->json)) ||
        (o->chain != NULL && o->out != NULL)) {
        cli_error("lookup needs --log, --policy, and exactly one of PATH, --sha256 or "
                  "--chain PATH (--chain-out and --json only with --chain, --out not)");
        fputs(lookup_usage, stderr);
        return -1;
    }
    return 0;
}

/* What one run knows: inputs, the log, and the checkpoint already checked
 * against the state (so a second statement under the same checkpoint does
 * not repeat the check). */
struct lookup {
    const struct lookup_opts *o;
    struct gl_policy *p;
    struct fetch f;
    char root[STATE_PATH_MAX];
    uint8_t digest[GL_HASH_LEN];
    char hex[GL_HASH_HEX_LEN + 1];
    int checked;        /* a checkpoint passed the state check */
    size_t checked_log; /* its policy log (trust_checkpoint's log) */
    uint64_t checked_size;
    uint8_t checked_root[GL_HASH_LEN];
    unsigned found, verified, outsiders; /* outsiders: statements that do not count */
    /* the tree size the log's last page answered as of ("tree_size"),
     * UINT64_MAX when it gave none (an older log) */
    uint64_t tree_size;
    int malformed;    /* an item of the answer was malformed: the lookup stops */
    int chain_warned; /* chain_warn_unchecked said its line */
};

/* --- consistency with the client's memory ------------------------------------------ */

/* Fetches the log's consistency proof m -> n (0 < m < n); a
 * consist_source's prove (ctx: the lookup). */
static int fetch_consistency(void *ctx, uint64_t m, uint64_t n,
                             uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct lookup *l = ctx;
    char path[128];
    struct gl_buf body;
    cJSON *j = NULL;
    int rc;

    snprintf(path, sizeof(path), "api/v1/proof/consistency?first=%llu&second=%llu",
             (unsigned long long)m, (unsigned long long)n);
    gl_buf_init(&body, PROOF_RESPONSE_MAX);
    if ((rc = fetch_get(&l->f, path, PROOF_RESPONSE_MAX, &body)) != 0)
        goto out;
    rc = GL_EPARSE;
    j = cJSON_ParseWithLength((const char *)body.data, body.len);
    if (gl_json_hashes(j, 1, proof, GL_MERKLE_MAX_PROOF, len) == 0)
        rc = 0;
out:
    if (rc == GL_EPARSE)
        snprintf(l->f.error, sizeof(l->f.error),
                 "malformed consistency proof from the log");
    cJSON_Delete(j);
    gl_buf_release(&body);
    return rc;
}

/* Turns back to the log's own URL before a proof that did not verify is
 * asked for again (a consist_source's refresh; ctx: the lookup). */
static void lookup_refresh(void *ctx)
{
    struct lookup *l = ctx;

    fetch_rewind(&l->f);
}

/* The URL that served the last proof, 1 if it is not the log's own (a
 * consist_source's served_by; ctx: the lookup). */
static int lookup_served_by(void *ctx, const char **url)
{
    const struct lookup *l = ctx;

    *url = l->f.base;
    return l->f.cur != 0;
}

/* The stored checkpoint: size and root if its log signature verifies.
 * GL_ENOTFOUND if none. */
static int stored_checkpoint(struct lookup *l, struct state *s, struct gl_buf *note,
                             struct trust_checkpoint *tc)
{
    char why[TRUST_WHY_MAX];
    int rc = state_load_checkpoint(s, note);

    if (rc == GL_ENOTFOUND)
        return rc;
    if (rc != 0) {
        cli_error("cannot read the stored checkpoint in %s: %s", s->dir, gl_strerror(rc));
        return GL_EIO;
    }
    rc = trust_checkpoint_open(l->p, (const char *)note->data, note->len,
                               (uint64_t)time(NULL), tc, why);
    if (rc != 0 && rc != GL_EQUORUM) {
        cli_error(
            "the stored checkpoint in %s does not verify (%s): remove it to start over",
            s->dir, why);
        return GL_EIO;
    }
    return 0;
}

/* Compares the verified checkpoint note (cur, with tc) with the stored one,
 * records a fork, and, with remember, stores cur when it is newer (or
 * when none is stored). 0 consistent; GL_EVERIFY inconsistent
 * (reported); other codes for I/O or network (reported). */
static int check_memory(struct lookup *l, struct state *s, const struct gl_tlogproof *pf,
                        const struct trust_checkpoint *tc, int remember)
{
    struct trust_checkpoint *old = malloc(sizeof(*old));
    struct alarm_ctx a = {.s = s, .url = l->f.base};
    const struct consist_source src = {.prove = fetch_consistency,
                                       .refresh = lookup_refresh,
                                       .served_by = lookup_served_by,
                                       .ctx = l,
                                       .error = l->f.error,
                                       .what = "the log's API",
                                       .seen = "seen"};
    struct consist_checkpoint cold, ccur = {pf->checkpoint, pf->checkpoint_len, &tc->cp};
    struct gl_buf note;
    uint64_t n = tc->cp.size;
    size_t nkeys;
    int rc, stored;

    gl_buf_init(&note, STATE_CHECKPOINT_MAX);
    if (old == NULL) {
        rc = GL_ENOMEM;
        goto out;
    }
    a.log_key = &gl_policy_log_keys(l->p, &nkeys)[tc->log];
    if ((rc = state_lock(s)) != 0)
        goto out;
    if ((rc = stored_checkpoint(l, s, &note, old)) != 0 && rc != GL_ENOTFOUND)
        goto out;
    if (rc == 0 && (rc = state_check_stored_log(s, gl_policy_log_keys(l->p, &nkeys),
                                                old->log, tc->log)) != 0)
        goto out;
    if (rc == GL_ENOTFOUND && !remember) {
        rc = 0; /* nothing to compare with */
        goto out;
    }
    if (rc == GL_ENOTFOUND) {
        cli_error("first checkpoint seen for log %s (size %llu): remembered in %s",
                  tc->cp.origin, (unsigned long long)n, s->dir);
        rc = state_store_checkpoint(s, pf->checkpoint, pf->checkpoint_len, n, tc->cp.root,
                                    &stored);
        goto out;
    }
    cold = (struct consist_checkpoint){(const char *)note.data, note.len, &old->cp};
    if ((rc = consist_check(&a, &src, &cold, &ccur, NULL)) != 0 || !remember)
        goto out;
    rc = state_store_checkpoint(s, pf->checkpoint, pf->checkpoint_len, n, tc->cp.root,
                                &stored);
out:
    state_unlock(s);
    free(old);
    gl_buf_release(&note);
    return rc;
}

/* Runs the state check (check_memory) once per distinct checkpoint
 * remembered: the same tree (size and root) of another policy log is not
 * the same checkpoint. */
static int check_state(struct lookup *l, const struct gl_tlogproof *pf,
                       const struct trust_checkpoint *tc, int remember)
{
    const struct gl_verifier *keys;
    struct state s;
    size_t n;
    int rc;

    if (l->checked && l->checked_log == tc->log && l->checked_size == tc->cp.size &&
        util_hash_equal(l->checked_root, tc->cp.root))
        return 0;
    keys = gl_policy_log_keys(l->p, &n);
    if ((rc = state_open_log(&s, l->root, keys, n, tc->log)) != 0)
        return rc;
    rc = check_memory(l, &s, pf, tc, remember);
    state_close(&s);
    if (rc == 0 && remember) {
        l->checked = 1;
        l->checked_log = tc->log;
        l->checked_size = tc->cp.size;
        memcpy(l->checked_root, tc->cp.root, GL_HASH_LEN);
    }
    return rc;
}

/* --- one statement ----------------------------------------------------------------- */

static void print_ok(struct lookup *l, uint64_t index, const struct trust_report *r)
{
    const struct gl_statement_fields *f = &r->st.fields;
    size_t n;
    const struct gl_verifier *subs = gl_policy_submitters(l->p, &n);
    struct gl_buf b;
    char t[32];

    gl_buf_init(&b, 1 << 16);
    util_time_utc(f->time, t);
    trust_describe_cosigners(l->p, &r->ck, &b);
    printf("index %llu: %s %.*s %.*s, sha256 %s\n", (unsigned long long)index,
           gl_statement_kind_name(f->kind), (int)f->subject_len, f->subject,
           (int)f->version_len, f->version, l->hex);
    printf("  signed by submitter %s at %s\n", subs[r->submitter].name, t);
    printf("  in log %s at tree size %llu; cosigned by %s\n", r->ck.cp.origin,
           (unsigned long long)r->ck.cp.size, (const char *)b.data);
    printf("  verified\n");
    gl_buf_release(&b);
}

/* Writes DIR/<index>.tlog-proof. */
static int save_bundle(struct lookup *l, uint64_t index, const char *st, size_t len,
                       struct gl_tlogproof *pf)
{
    struct gl_buf b, path;
    int rc;

    gl_buf_init(&b, (size_t)GL_TLOGPROOF_MAX_SIZE);
    gl_buf_init(&path, STATE_PATH_MAX);
    pf->extra = (const uint8_t *)st;
    pf->extra_len = len;
    if ((rc = gl_tlogproof_format(pf, &b)) == 0 &&
        (rc = gl_buf_printf(&path, "%s/%llu.tlog-proof", l->o->out,
                            (unsigned long long)index)) == 0 &&
        (rc = gl_file_replace((const char *)path.data, b.data, b.len, 0644)) != 0)
        cli_error("cannot write %s", (const char *)path.data);
    pf->extra = NULL;
    pf->extra_len = 0;
    gl_buf_release(&b);
    gl_buf_release(&path);
    return rc;
}

/* Verifies one item of the answer: CLI_OK (verified, or signed by a key
 * outside the policy, which does not count), CLI_VERIFY or CLI_USAGE. */
static int check_item(struct lookup *l, const cJSON *item, struct trust_report *r)
{
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(item, "index");
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(item, "leaf_hash");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(item, "statement");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(item, "proof");
    struct gl_tlogproof *pf = NULL;
    struct trust_input in;
    uint8_t leaf[GL_HASH_LEN];
    uint64_t idx;
    int rc = CLI_VERIFY;

    if (!cJSON_IsNumber(ji) || !cJSON_IsString(jl) || !cJSON_IsString(js) ||
        !cJSON_IsString(jp) || util_json_index(ji, &idx) != 0 ||
        gl_hex_decode_exact(jl->valuestring, strlen(jl->valuestring), leaf, GL_HASH_LEN,
                            1) != 0 ||
        gl_tlogproof_parse(jp->valuestring, strlen(jp->valuestring), &pf, NULL) != 0 ||
        pf->index != idx) {
        cli_error(
            "verification failed: the log's answer is malformed (an item lacks a valid "
            "index, leaf_hash, statement or proof): not reading it further");
        l->malformed = 1;
        goto out;
    }
    memset(&in, 0, sizeof(in));
    in.statement = js->valuestring;
    in.statement_len = strlen(js->valuestring);
    in.proof = pf;
    in.artifact = l->digest;
    in.artifact_name = l->o->path;
    in.now = (uint64_t)time(NULL);
    trust_verify(l->p, &in, r);
    if (trust_outsider(l->p, r)) {
        printf("index %llu: %s: does not count\n", (unsigned long long)pf->index,
               r->why[TRUST_SUBMITTER]);
        l->outsiders++;
        rc = CLI_OK;
        goto out;
    }
    for (int s = 0; s < TRUST_NSTEPS; s++)
        if (r->state[s] == TRUST_FAILED)
            cli_error("verification failed: index %llu: %s: %s",
                      (unsigned long long)pf->index, trust_step_name((enum trust_step)s),
                      r->why[s]);
    if (!util_hash_equal(leaf, r->leaf))
        cli_error(
            "verification failed: index %llu: the log's leaf_hash is not the hash of "
            "its statement",
            (unsigned long long)pf->index);
    if (r->failed < 0 && util_hash_equal(leaf, r->leaf) && l->tree_size != UINT64_MAX &&
        r->ck.cp.size != l->tree_size) {
        cli_error("verification failed: index %llu: the log's answer is as of tree size "
                  "%llu but its proof leads to a checkpoint of size %llu",
                  (unsigned long long)pf->index, (unsigned long long)l->tree_size,
                  (unsigned long long)r->ck.cp.size);
        goto out;
    }
    /* signed by the log but without its witness quorum: still compared
     * with the client's memory (a split view the witnesses refused to
     * cosign is one the log signed alone), never remembered */
    if (r->failed >= 0 && r->have_checkpoint && r->state[TRUST_QUORUM] == TRUST_FAILED)
        check_state(l, pf, &r->ck, 0);
    if (r->failed >= 0 || !util_hash_equal(leaf, r->leaf))
        goto out;
    if ((rc = check_state(l, pf, &r->ck, 1)) != 0) {
        rc = rc == GL_EVERIFY ? CLI_VERIFY : CLI_USAGE;
        goto out;
    }
    print_ok(l, pf->index, r);
    if (!l->chain_warned)
        l->chain_warned = chain_warn_unchecked(l->p, &r->st.fields);
    rc = CLI_OK;
    if (l->o->out != NULL &&
        save_bundle(l, pf->index, in.statement, in.statement_len, pf) != 0)
        rc = CLI_USAGE;
    l->verified += rc == CLI_OK;
out:
    gl_tlogproof_free(pf);
    return rc;
}

/* --chain: a proof's checkpoint against the client's memory, as plain
 * lookup compares it: when it verifies under the policy (remembered if
 * newer), and when the log signed it without its witness quorum (a fork
 * is raised, nothing remembered; its link failed already). Any other
 * checkpoint failed its link and is not compared. */
static int chain_memory(void *ctx, const struct gl_tlogproof *pf)
{
    struct lookup *l = ctx;
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    char why[TRUST_WHY_MAX];
    int rc;

    if (tc == NULL)
        return GL_ENOMEM;
    rc = trust_checkpoint_open(l->p, pf->checkpoint, pf->checkpoint_len,
                               (uint64_t)time(NULL), tc, why);
    if (rc == GL_EQUORUM)
        rc = check_state(l, pf, tc, 0) == GL_EVERIFY ? GL_EVERIFY : 0;
    else
        rc = rc == 0 ? check_state(l, pf, tc, 1) : 0;
    free(tc);
    return rc;
}

/* --- the command ------------------------------------------------------------------- */

/* Checks one page of the log's lookup answer (statements from index
 * from on); *next gets the next page's from, or UINT64_MAX after the
 * last. Folds each statement's result into *rc. CLI_OK, or the exit
 * code when the page cannot be read. */
static int lookup_page(struct lookup *l, uint64_t from, struct trust_report *r, int *rc,
                       uint64_t *next)
{
    struct gl_buf body, path;
    const cJSON *arr, *item, *jn, *jt;
    cJSON *j = NULL;
    int err = CLI_USAGE, one;

    *next = UINT64_MAX;
    gl_buf_init(&body, UTIL_LOOKUP_BYTES);
    gl_buf_init(&path, 256);
    if (gl_buf_printf(&path, "api/v1/lookup?sha256=%s&from=%" PRIu64, l->hex, from) != 0)
        goto out;
    if (fetch_get(&l->f, (const char *)path.data, UTIL_LOOKUP_BYTES, &body) != 0) {
        cli_error("lookup failed: %s", l->f.error);
        goto out;
    }
    err = CLI_VERIFY;
    if (util_json_values_within(body.data, body.len, UTIL_LOOKUP_VALUES) != 0) {
        cli_error("the log's lookup answer holds more JSON values than %u statements "
                  "need: refused unread",
                  UTIL_LOOKUP_ITEMS);
        goto out;
    }
    j = cJSON_ParseWithLength((const char *)body.data, body.len);
    arr = cJSON_GetObjectItemCaseSensitive(j, "statements");
    jn = cJSON_GetObjectItemCaseSensitive(j, "next");
    jt = cJSON_GetObjectItemCaseSensitive(j, "tree_size");
    l->tree_size = UINT64_MAX;
    if (!cJSON_IsArray(arr) ||
        (jn != NULL && (util_json_index(jn, next) != 0 || *next <= from ||
                        cJSON_GetArraySize(arr) == 0)) ||
        (jt != NULL && util_json_index(jt, &l->tree_size) != 0)) {
        cli_error("the log's lookup answer is not {\"statements\": [...], \"tree_size\": "
                  "N, \"next\": N > %" PRIu64 "}",
                  from);
        goto out;
    }
    if ((unsigned)cJSON_GetArraySize(arr) > UTIL_LOOKUP_ITEMS) {
        cli_error("the log's lookup answer lists %d statements, more than the %u of a "
                  "page: refused, none verified",
                  cJSON_GetArraySize(arr), UTIL_LOOKUP_ITEMS);
        goto out;
    }
    err = CLI_OK;
    cJSON_ArrayForEach(item, arr)
    {
        l->found++;
        one = check_item(l, item, r);
        if (one != CLI_OK && (*rc == CLI_OK || one == CLI_VERIFY))
            *rc = one;
        if (l->malformed) {
            err = CLI_VERIFY;
            break;
        }
    }
out:
    cJSON_Delete(j);
    gl_buf_release(&body);
    gl_buf_release(&path);
    return err;
}

/* Every statement the log lists for the digest, page by page (at most
 * LOOKUP_PAGES_MAX pages, each starting after the last). */
static int lookup_run(struct lookup *l)
{
    struct trust_report *r = malloc(sizeof(*r));
    uint64_t from = 0;
    int rc = CLI_OK, err = CLI_OK;

    if (r == NULL)
        return CLI_USAGE;
    for (unsigned page = 0; err == CLI_OK && from != UINT64_MAX; page++) {
        if (page == LOOKUP_PAGES_MAX) {
            cli_error("the log lists more than %u pages of statements; stopped there",
                      LOOKUP_PAGES_MAX);
            err = CLI_VERIFY;
            break;
        }
        err = lookup_page(l, from, r, &rc, &from);
    }
    free(r);
    if (err != CLI_OK)
        return err;
    if (l->found == 0) {
        if (l->tree_size != UINT64_MAX)
            cli_error("no statement about %s in the log as of tree size %llu", l->hex,
                      (unsigned long long)l->tree_size);
        else
            cli_error("no statement about %s in the log", l->hex);
        return CLI_NOTFOUND;
    }
    if (l->outsiders == 0)
        cli_error("%u statement%s found, %u verified", l->found, l->found == 1 ? "" : "s",
                  l->verified);
    else
        cli_error("%u statement%s found, %u verified, %u signed by %s outside the policy "
                  "(%s not count)",
                  l->found, l->found == 1 ? "" : "s", l->verified, l->outsiders,
                  l->outsiders == 1 ? "a key" : "keys",
                  l->outsiders == 1 ? "does" : "do");
    if (rc == CLI_OK && l->verified == 0) {
        cli_error("no statement about %s by a submitter of the policy", l->hex);
        return CLI_NOTFOUND;
    }
    return rc;
}

int cmd_lookup_main(int argc, char **argv)
{
    struct lookup_opts o;
    struct lookup l;
    int rc = lookup_parse(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    memset(&l, 0, sizeof(l));
    l.o = &o;
    rc = CLI_USAGE;
    if (o.state != NULL &&
        snprintf(l.root, sizeof(l.root), "%s", o.state) >= STATE_PATH_MAX) {
        cli_error("--state path too long");
        return CLI_USAGE;
    }
    if (o.state == NULL && state_default_root(l.root) != 0) {
        cli_error("no state directory: set XDG_STATE_HOME or HOME, or give --state DIR");
        return CLI_USAGE;
    }
    if (o.sha != NULL &&
        gl_hex_decode_exact(o.sha, strlen(o.sha), l.digest, GL_HASH_LEN, 1) != 0) {
        cli_error("--sha256 must be 64 lowercase hex digits");
        return CLI_USAGE;
    }
    if (o.path != NULL && util_hash_file(o.path, l.digest) != 0)
        return CLI_USAGE;
    gl_hex_encode(l.digest, GL_HASH_LEN, l.hex, sizeof(l.hex));
    if (trust_load_policy(o.policy, 1, &l.p) != 0)
        goto out;
    if (o.out != NULL && mkdir(o.out, 0755) != 0 && errno != EEXIST) {
        cli_error("cannot create --out %s: %s", o.out, strerror(errno));
        goto out;
    }
    if (fetch_open(&l.f, &o.net) != 0)
        goto out;
    rc = o.chain != NULL
             ? chain_lookup(l.p, &l.f, l.digest, o.chain_out, o.json, chain_memory, &l)
             : lookup_run(&l);
out:
    fetch_release(&l.f);
    gl_policy_free(l.p);
    return rc;
}
