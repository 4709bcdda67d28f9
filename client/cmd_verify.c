/*
 * cmd_verify: `glasslog verify`, the customer's offline check of a
 * statement and its tlog-proof (or the one-file bundle of specs/bundle.md)
 * under a trust policy. No network.
 *
 * The checks and their order live in trust.c (shared with lookup); this
 * file reads the inputs, runs trust_verify and reports: a human report on
 * stdout (each step with what it found: the statement, its submitter, the
 * artifact, the log and tree, which witnesses cosigned and when), or with
 * --json one JSON object; every failed step is also one
 * "glasslog: verification failed: <step>: <why>" line on stderr. Exit 0
 * only if every step passed, 2 if any failed, 3 for usage or I/O errors.
 * A witness cosignature dated more than 5 minutes in the future is shown
 * in the age row, flagged in --json and warned about on stderr, whether or
 * not --max-age was given.
 * A proof file that does not parse, or a --statement that differs from the
 * bundle's, is a verification failure (exit 2: the file is what is being
 * verified); only unreadable files and bad options are exit 3.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chain.h"
#include "cli.h"
#include "cmd.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/tlogproof.h"
#include "trust.h"
#include "util.h"

static const char verify_usage[] =
    "usage: glasslog verify --policy FILE\n"
    "         (--bundle FILE | --proof FILE --statement FILE | --chain-bundle FILE)\n"
    "         [--artifact PATH] [--max-age DURATION] [--json]\n"
    "\n"
    "Checks offline that the statement is signed by a submitter of the policy,\n"
    "(with --artifact) that the file has the statement's SHA-256, that the\n"
    "checkpoint is signed by the policy's log and cosigned by a quorum of its\n"
    "witnesses, and that the inclusion proof leads from the statement to the\n"
    "checkpoint's root.\n"
    "  --bundle FILE     a .tlog-proof whose extra line carries the statement\n"
    "                    (what 'glasslog append --out' and 'lookup --out' write)\n"
    "  --proof FILE      a .tlog-proof; --statement FILE gives the statement\n"
    "  --chain-bundle F  a provenance chain ('glasslog lookup --chain-out'):\n"
    "                    verify every statement and every link under the\n"
    "                    policy's roles and requirements\n"
    "  --max-age D       refuse unless witnesses satisfying the quorum all\n"
    "                    cosigned within D (e.g. 30s, 10m, 24h, 7d); cosignatures\n"
    "                    dated more than 5 minutes in the future do not count\n"
    "  --json            machine-readable report on stdout\n"
    "Exit: 0 verified, 2 a check failed (stderr names it), 3 usage or I/O error.\n";

struct verify_opts {
    const char *policy, *proof, *statement, *artifact, *chain;
    uint64_t max_age;
    int json;
    int nproof; /* --proof, --bundle and --chain-bundle options given */
};

/* Takes one option of verify (a cli_take_fn; ctx: the verify_opts). */
static int verify_take(void *ctx, int c, const char *arg)
{
    struct verify_opts *o = ctx;

    switch (c) {
    case 'p':
        o->policy = arg;
        break;
    case 'P':
    case 'b':
        o->proof = arg;
        o->nproof++;
        break;
    case 'c':
        o->chain = arg;
        o->nproof++;
        break;
    case 's':
        o->statement = arg;
        break;
    case 'a':
        o->artifact = arg;
        break;
    case 'j':
        o->json = 1;
        break;
    case 'm':
        if (util_parse_duration(arg, &o->max_age) != 0) {
            cli_error("--max-age takes a duration such as 30s, 10m, 24h or 7d, not '%s'",
                      arg);
            return -1;
        }
        break;
    }
    return 0;
}

static int verify_parse(int argc, char **argv, struct verify_opts *o)
{
    static const struct option opts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"proof", required_argument, NULL, 'P'},
        {"bundle", required_argument, NULL, 'b'},
        {"chain-bundle", required_argument, NULL, 'c'},
        {"statement", required_argument, NULL, 's'},
        {"artifact", required_argument, NULL, 'a'},
        {"max-age", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = cli_parse_opts(argc, argv, opts, verify_usage, verify_take, o)) != 0)
        return rc;
    if (o->chain != NULL && o->statement != NULL) {
        cli_error("--statement goes with --proof, not with --chain-bundle (a chain "
                  "bundle holds its statements)");
        return -1;
    }
    if (o->policy == NULL || o->nproof != 1 || optind != argc) {
        cli_error("verify needs --policy and exactly one of --bundle, --proof or "
                  "--chain-bundle");
        fputs(verify_usage, stderr);
        return -1;
    }
    return 0;
}

/* --- human report ------------------------------------------------------------------ */

static const char *mark(enum trust_state s)
{
    switch (s) {
    case TRUST_PASSED:
        return "ok     ";
    case TRUST_FAILED:
        return "FAILED ";
    case TRUST_BLOCKED:
        return "skipped";
    default:
        return "-      ";
    }
}

static void print_step(const struct trust_report *r, enum trust_step s,
                       const char *unasked, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One line of the report: the step, its result, and what it found (fmt)
 * when it passed, why when it failed, `unasked` when not requested. */
static void print_step(const struct trust_report *r, enum trust_step s,
                       const char *unasked, const char *fmt, ...)
{
    va_list ap;

    printf("%-20s %s ", trust_step_name(s), mark(r->state[s]));
    va_start(ap, fmt);
    if (r->state[s] == TRUST_FAILED)
        printf("%s", r->why[s]);
    else if (r->state[s] == TRUST_BLOCKED)
        printf("(needs an earlier check that failed)");
    else if (r->state[s] == TRUST_NOT_ASKED)
        printf("%s", unasked);
    else
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
        vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* The age row; b is scratch. Future-dated cosignatures are listed in
 * every case, even when no age was asked for. */
static void print_age(const struct gl_policy *p, const struct trust_input *in,
                      const struct trust_report *r, struct gl_buf *b)
{
    const struct trust_age *a = &r->age;
    char t[32], unasked[TRUST_WHY_MAX + 64];
    const char *fut = "";

    gl_buf_reset(b);
    if (r->have_age && a->nfuture > 0 &&
        gl_buf_printf(b, "; dated more than %d s in the future, not counted: ",
                      TRUST_FUTURE_SLACK) == 0 &&
        trust_describe_future(p, &r->ck, a, in->now, b) == 0)
        fut = (const char *)b->data;
    snprintf(unasked, sizeof(unasked), "not checked (no --max-age)%.*s", TRUST_WHY_MAX,
             fut);
    util_time_utc(a->time, t);
    print_step(r, TRUST_AGE, unasked,
               "the freshest quorum of cosignatures dates from %s (%llu s ago), within "
               "%llu s%s",
               t, (unsigned long long)a->age, (unsigned long long)in->max_age, fut);
}

static void print_human(const struct gl_policy *p, const struct trust_input *in,
                        const struct trust_report *r)
{
    const struct gl_statement_fields *f = &r->st.fields;
    char hex[GL_HASH_HEX_LEN + 1], t[32];
    struct gl_buf b;
    size_t nsub;
    const struct gl_verifier *subs = gl_policy_submitters(p, &nsub);
    int none = gl_policy_quorum(p).kind == GL_POLICY_REF_NONE;

    gl_buf_init(&b, 1 << 16);
    gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex));
    util_time_utc(f->time, t);
    print_step(r, TRUST_STATEMENT, "", "%s %.*s %.*s, sha256 %s, signed %s",
               gl_statement_kind_name(f->kind), (int)f->subject_len, f->subject,
               (int)f->version_len, f->version, hex, t);
    if (r->state[TRUST_SUBMITTER] == TRUST_PASSED)
        gl_verifier_format(&subs[r->submitter], &b);
    print_step(r, TRUST_SUBMITTER, "", "%s", b.data ? (const char *)b.data : "");
    print_step(r, TRUST_ARTIFACT,
               "not checked (no --artifact: the file itself was not compared)",
               "%s has the statement's SHA-256",
               in->artifact_name ? in->artifact_name : "the artifact");
    print_step(r, TRUST_LOG, "", "%s, tree size %llu", r->ck.cp.origin,
               (unsigned long long)r->ck.cp.size);
    gl_buf_reset(&b);
    if (r->have_checkpoint)
        trust_describe_cosigners(p, &r->ck, &b);
    print_step(r, TRUST_QUORUM, "", "%scosigned by %s",
               none ? "no cosignature required (quorum none); " : "",
               b.data ? (const char *)b.data : "");
    print_age(p, in, r, &b);
    print_step(r, TRUST_INCLUSION, "", "entry %llu of %llu",
               (unsigned long long)in->proof->index, (unsigned long long)r->ck.cp.size);
    gl_buf_reset(&b);
    if (gl_policy_describe(p, &b) == 0)
        printf("policy: %s\n", (const char *)b.data);
    printf(r->failed < 0 ? "VERIFIED\n" : "NOT VERIFIED\n");
    gl_buf_release(&b);
}

/* --- JSON report ------------------------------------------------------------------- */

static cJSON *json_statement(const struct gl_policy *p, const struct trust_report *r)
{
    const struct gl_statement_fields *f = &r->st.fields;
    cJSON *o = cJSON_CreateObject();
    char hex[GL_HASH_HEX_LEN + 1], buf[GL_STATEMENT_SUBJECT_MAX + 1];
    size_t nsub;
    const struct gl_verifier *subs = gl_policy_submitters(p, &nsub);

    if (o == NULL)
        return NULL;
    gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex));
    cJSON_AddStringToObject(o, "kind", gl_statement_kind_name(f->kind));
    snprintf(buf, sizeof(buf), "%.*s", (int)f->subject_len, f->subject);
    cJSON_AddStringToObject(o, "subject", buf);
    snprintf(buf, sizeof(buf), "%.*s", (int)f->version_len, f->version);
    cJSON_AddStringToObject(o, "version", buf);
    cJSON_AddStringToObject(o, "sha256", hex);
    cJSON_AddNumberToObject(o, "time", (double)f->time);
    if (r->state[TRUST_SUBMITTER] == TRUST_PASSED)
        cJSON_AddStringToObject(o, "submitter", subs[r->submitter].name);
    return o;
}

static cJSON *json_witnesses(const struct gl_policy *p, const struct trust_report *r)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; a != NULL && i < r->ck.nwitnesses; i++) {
        cJSON *w = cJSON_CreateObject();
        int st = r->ck.wst[i].status;
        if (w == NULL || !cJSON_AddItemToArray(a, w))
            break;
        cJSON_AddStringToObject(w, "name", gl_policy_witness_at(p, i)->name);
        cJSON_AddStringToObject(w, "status",
                                st == 0           ? "cosigned"
                                : st == GL_ENOKEY ? "absent"
                                                  : "invalid");
        if (st == 0)
            cJSON_AddNumberToObject(w, "time", (double)r->ck.wst[i].timestamp);
        if (r->have_age && r->age.future[i])
            cJSON_AddBoolToObject(w, "future", 1);
    }
    return a;
}

static void print_json(const struct gl_policy *p, const struct trust_input *in,
                       const struct trust_report *r)
{
    static const char *const states[] = {"not_checked", "passed", "failed", "skipped"};
    cJSON *o = cJSON_CreateObject(), *checks;
    char hex[GL_HASH_HEX_LEN + 1], *text;

    if (o == NULL)
        return;
    cJSON_AddBoolToObject(o, "verified", r->failed < 0);
    if (r->failed >= 0) {
        cJSON_AddStringToObject(o, "failed", trust_step_name((enum trust_step)r->failed));
        cJSON_AddStringToObject(o, "error", r->why[r->failed]);
    }
    checks = cJSON_AddArrayToObject(o, "checks");
    for (int s = 0; checks != NULL && s < TRUST_NSTEPS; s++) {
        cJSON *c = cJSON_CreateObject();
        if (c == NULL || !cJSON_AddItemToArray(checks, c))
            break;
        cJSON_AddStringToObject(c, "check", trust_step_name((enum trust_step)s));
        cJSON_AddStringToObject(c, "result", states[r->state[s]]);
        if (r->state[s] == TRUST_FAILED)
            cJSON_AddStringToObject(c, "error", r->why[s]);
    }
    if (r->have_statement)
        cJSON_AddItemToObject(o, "statement", json_statement(p, r));
    gl_hex_encode(r->leaf, GL_HASH_LEN, hex, sizeof(hex));
    cJSON_AddStringToObject(o, "leaf_hash", hex);
    cJSON_AddNumberToObject(o, "index", (double)in->proof->index);
    if (r->have_checkpoint) {
        gl_hex_encode(r->ck.cp.root, GL_HASH_LEN, hex, sizeof(hex));
        cJSON_AddStringToObject(o, "origin", r->ck.cp.origin);
        cJSON_AddNumberToObject(o, "tree_size", (double)r->ck.cp.size);
        cJSON_AddStringToObject(o, "root", hex);
        cJSON_AddItemToObject(o, "witnesses", json_witnesses(p, r));
        if (r->ck.newest != 0)
            cJSON_AddNumberToObject(o, "newest_cosignature", (double)r->ck.newest);
        if (r->have_age && r->age.rc == 0) {
            cJSON_AddNumberToObject(o, "quorum_time", (double)r->age.time);
            cJSON_AddNumberToObject(o, "age", (double)r->age.age);
        }
    }
    text = cJSON_Print(o);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
}

static void print_json_error(const char *step, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    char *text;

    cJSON_AddBoolToObject(o, "verified", 0);
    cJSON_AddStringToObject(o, "failed", step);
    cJSON_AddStringToObject(o, "error", why);
    text = cJSON_Print(o);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
}

/* One stderr warning per cosignature dated more than TRUST_FUTURE_SLACK
 * after now. */
static void warn_future(const struct gl_policy *p, const struct trust_input *in,
                        const struct trust_report *r)
{
    char t[32];

    for (size_t i = 0; r->have_age && i < r->ck.nwitnesses; i++) {
        if (!r->age.future[i])
            continue;
        util_time_utc(r->ck.wst[i].timestamp, t);
        cli_error("warning: the cosignature by witness %s is dated %s, %llu s in the "
                  "future (a wrong clock here or at the witness?): it does not count "
                  "for the checkpoint's age",
                  gl_policy_witness_at(p, i)->name, t,
                  (unsigned long long)(r->ck.wst[i].timestamp - in->now));
    }
}

/* --- inputs ------------------------------------------------------------------------ */

struct verify_inputs {
    struct gl_buf proof_text, statement;
    struct gl_tlogproof *proof;
    uint8_t artifact[GL_HASH_LEN];
    char why[TRUST_WHY_MAX]; /* why the inputs fail verification */
};

/* Reads the files; 0, CLI_VERIFY (unparsable proof, statement mismatch)
 * or CLI_USAGE. */
static int read_inputs(const struct verify_opts *o, struct verify_inputs *v)
{
    struct gl_err why;
    int rc;

    if (cli_read_file(o->proof, &v->proof_text) != 0)
        return CLI_USAGE;
    if ((rc = gl_tlogproof_parse((const char *)v->proof_text.data, v->proof_text.len,
                                 &v->proof, &why)) != 0) {
        gl_err_wrap(&why, rc, 0, "not a valid tlog-proof");
        gl_err_format(&why, o->proof, v->why, sizeof(v->why));
        return CLI_VERIFY;
    }
    if (o->statement != NULL && cli_read_file(o->statement, &v->statement) != 0)
        return CLI_USAGE;
    if (o->statement == NULL && v->proof->extra_len == 0) {
        snprintf(v->why, sizeof(v->why),
                 "%s carries no statement (no extra line): give --statement FILE",
                 o->proof);
        return CLI_VERIFY;
    }
    if (o->statement != NULL && v->proof->extra_len > 0 &&
        (v->statement.len != v->proof->extra_len ||
         memcmp(v->statement.data, v->proof->extra, v->statement.len) != 0)) {
        snprintf(v->why, sizeof(v->why), "%s differs from the statement in %s",
                 o->statement, o->proof);
        return CLI_VERIFY;
    }
    if (o->statement == NULL &&
        gl_buf_append(&v->statement, v->proof->extra, v->proof->extra_len) != 0)
        return CLI_USAGE;
    if (o->artifact != NULL && util_hash_file(o->artifact, v->artifact) != 0)
        return CLI_USAGE;
    return 0;
}

int cmd_verify_main(int argc, char **argv)
{
    struct verify_opts o;
    struct verify_inputs v;
    struct gl_policy *p = NULL;
    struct trust_input in;
    struct trust_report *r = NULL;
    int rc = verify_parse(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    memset(&v, 0, sizeof(v));
    gl_buf_init(&v.proof_text, (size_t)GL_TLOGPROOF_MAX_SIZE);
    gl_buf_init(&v.statement, GL_STATEMENT_MAX_SIZE);
    if (trust_load_policy(o.policy, 1, &p) != 0) {
        rc = CLI_USAGE;
        goto out;
    }
    if (o.chain != NULL) {
        rc = chain_verify_bundle(p, o.chain, o.artifact, o.max_age, o.json);
        goto out;
    }
    if ((rc = read_inputs(&o, &v)) != 0) {
        if (rc == CLI_VERIFY) {
            cli_error("verification failed: proof: %s", v.why);
            if (o.json)
                print_json_error("proof", v.why);
        }
        goto out;
    }
    if ((r = malloc(sizeof(*r))) == NULL) {
        rc = CLI_USAGE;
        goto out;
    }
    memset(&in, 0, sizeof(in));
    in.statement = (const char *)v.statement.data;
    in.statement_len = v.statement.len;
    in.proof = v.proof;
    in.artifact = o.artifact ? v.artifact : NULL;
    in.artifact_name = o.artifact;
    in.max_age = o.max_age;
    in.now = (uint64_t)time(NULL);
    rc = trust_verify(p, &in, r) == 0 ? CLI_OK : CLI_VERIFY;
    warn_future(p, &in, r);
    if (r->state[TRUST_STATEMENT] == TRUST_PASSED)
        chain_warn_unchecked(p, &r->st.fields);
    for (int s = 0; s < TRUST_NSTEPS; s++)
        if (r->state[s] == TRUST_FAILED)
            cli_error("verification failed: %s: %s", trust_step_name((enum trust_step)s),
                      r->why[s]);
    if (o.json)
        print_json(p, &in, r);
    else
        print_human(p, &in, r);
out:
    free(r);
    gl_tlogproof_free(v.proof);
    gl_buf_release(&v.proof_text);
    gl_buf_release(&v.statement);
    gl_policy_free(p);
    return rc;
}
