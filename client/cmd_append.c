/*
 * cmd_append: `glasslog append`, for build pipelines. Builds and signs a
 * statement, posts it to the log, optionally verifies the returned proof
 * against the log's key, writes the offline bundle (a tlog-proof whose
 * extra line carries the statement, see specs/bundle.md) and prints
 * "index N", "leaf_hash HEX", "sha256 HEX" (the subject's digest: a
 * source's tree digest is what an auditor's --audited names) and, for a
 * statement linking a source, "source HEX".
 *
 * The provenance chain (specs/statement.md section 9): --kind source
 * with --dir (the tree digest, srctree.h) or --file (an archive);
 * --source-sha256 or --source-dir on a build, rule-update or rebuild;
 * --audited and --scope on an audit-report. Any of these, or the kinds
 * source and rebuild, make a v2 statement; without them a v1 statement,
 * as before. A rebuilder appends "rebuild" in one command: --source-dir
 * hashes the source tree it built from, --file the artifact it got.
 *
 * Retries: the statement is signed ONCE; on a timeout, a connection error,
 * a 5xx or a 429 (the submitter key's rate limit) the SAME bytes are posted
 * again until --timeout runs out, so the log's deduplication makes retries
 * safe (a retry of an append that did land answers with the original
 * index). The pause is the answer's Retry-After on 429 and 503 (whole
 * seconds, honoured exactly), else an exponential back-off; a pause that
 * would end past --timeout ends the command at once (exit 3) instead of
 * sleeping in vain.
 *
 * --out FILE is written like a key (cli_write_new_file: created
 * exclusively, fsynced, its directory fsynced); an existing FILE (any
 * name that lstat finds, a dangling symlink too) and a --log-vkey that is
 * not a log's key are refused before the statement is posted, not after
 * it is in the log. Without --log-vkey the proof is not verified, and
 * stderr says so.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/srctree.h"
#include "glasslog/statement.h"
#include "glasslog/tlogproof.h"
#include "fetch.h"
#include "http_client.h"
#include "util.h"
#include "clock.h"

#define RESPONSE_MAX (1 << 20)
#define BACKOFF_FIRST 0.2 /* seconds: the first wait before a retry */
#define BACKOFF_MAX 5.0   /* and the longest */

static const char append_usage[] =
    "usage: glasslog append --log URL --key SUBMITTER_KEY --kind KIND --subject NAME\n"
    "         --version V (--file PATH | --sha256 HEX | --dir DIR) [--meta K=V ...]\n"
    "         [--source-sha256 HEX | --source-dir DIR] [--audited HEX ... --scope TEXT]\n"
    "         [--out FILE.tlog-proof] [--log-vkey VKEY] [--timeout SECONDS]\n"
    "\n"
    "Signs a statement (kind build, rule-update, audit-report, source or\n"
    "rebuild) about the artifact and appends it to the log. Prints 'index N',\n"
    "'leaf_hash HEX', 'sha256 HEX' (the artifact's digest, or the tree digest\n"
    "of --dir) and, for a statement naming its source, 'source HEX'.\n"
    "  --dir DIR        (kind source) the tree digest of a source directory\n"
    "  --source-sha256 HEX, --source-dir DIR  the source a build, rule-update\n"
    "                   or rebuild was made from (an archive's SHA-256, or a\n"
    "                   directory's tree digest)\n"
    "  --audited HEX    (audit-report, up to 16) a source digest audited;\n"
    "  --scope TEXT     with --audited: what the audit covered\n"
    "  --log-vkey VKEY  verify the log's proof with its key (key or @FILE)\n"
    "  --out FILE       write the offline bundle (statement + proof) to FILE,\n"
    "                   a new file (an existing one is refused before appending)\n"
    "  --timeout S      give up after S seconds of retries (default 30)\n";

struct append_opts {
    const char *log, *key, *kind, *subject, *version, *file, *sha, *out, *vkey;
    const char *dir, *source_sha, *source_dir, *scope;
    const char *meta[GL_STATEMENT_META_MAX];
    size_t nmeta;
    const char *audited[GL_STATEMENT_AUDITED_MAX];
    size_t naudited;
    long timeout_s;
};

/* Takes one option of append (a cli_take_fn; ctx: the append_opts). */
static int append_take(void *ctx, int c, const char *arg)
{
    struct append_opts *o = ctx;
    uint64_t t;

    switch (c) {
    case 'l':
        o->log = arg;
        break;
    case 'k':
        o->key = arg;
        break;
    case 'K':
        o->kind = arg;
        break;
    case 's':
        o->subject = arg;
        break;
    case 'v':
        o->version = arg;
        break;
    case 'f':
        o->file = arg;
        break;
    case 'S':
        o->sha = arg;
        break;
    case 'o':
        o->out = arg;
        break;
    case 'V':
        o->vkey = arg;
        break;
    case 't':
        if (util_opt_u64("--timeout", arg, 1, 86400, &t) != 0)
            return -1;
        o->timeout_s = (long)t;
        break;
    case 'd':
        o->dir = arg;
        break;
    case 'x':
        o->source_sha = arg;
        break;
    case 'X':
        o->source_dir = arg;
        break;
    case 'c':
        o->scope = arg;
        break;
    case 'a':
        if (o->naudited == GL_STATEMENT_AUDITED_MAX) {
            cli_error("at most %d --audited options", GL_STATEMENT_AUDITED_MAX);
            return -1;
        }
        o->audited[o->naudited++] = arg;
        break;
    case 'm':
        if (o->nmeta == GL_STATEMENT_META_MAX) {
            cli_error("at most %d --meta options", GL_STATEMENT_META_MAX);
            return -1;
        }
        o->meta[o->nmeta++] = arg;
        break;
    }
    return 0;
}

static int append_parse(int argc, char **argv, struct append_opts *o)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'},
        {"key", required_argument, NULL, 'k'},
        {"kind", required_argument, NULL, 'K'},
        {"subject", required_argument, NULL, 's'},
        {"version", required_argument, NULL, 'v'},
        {"file", required_argument, NULL, 'f'},
        {"sha256", required_argument, NULL, 'S'},
        {"meta", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"log-vkey", required_argument, NULL, 'V'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"dir", required_argument, NULL, 'd'},
        {"source-sha256", required_argument, NULL, 'x'},
        {"source-dir", required_argument, NULL, 'X'},
        {"audited", required_argument, NULL, 'a'},
        {"scope", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    int rc;

    memset(o, 0, sizeof(*o));
    o->timeout_s = 30;
    if ((rc = cli_parse_opts(argc, argv, opts, append_usage, append_take, o)) != 0)
        return rc;
    if (!o->log || !o->key || !o->kind || !o->subject || !o->version || optind != argc ||
        (o->file != NULL) + (o->sha != NULL) + (o->dir != NULL) != 1 ||
        (o->source_sha != NULL && o->source_dir != NULL)) {
        cli_error(
            "append needs --log, --key, --kind, --subject, --version, exactly one of "
            "--file, --sha256 or --dir, at most one of --source-sha256 and "
            "--source-dir");
        fputs(append_usage, stderr);
        return -1;
    }
    return 0;
}

/* A digest option: 64 lowercase hex digits into out. */
static int digest_opt(const char *opt, const char *hex, uint8_t out[32])
{
    if (gl_hex_decode_exact(hex, strlen(hex), out, 32, 1) != 0) {
        cli_error("%s must be 64 lowercase hex digits, not '%.80s'", opt, hex);
        return -1;
    }
    return 0;
}

/* The tree digest of a source directory (reported on failure). */
static int tree_digest(const char *dir, uint8_t out[32])
{
    struct gl_err why = {0};

    if (gl_srctree_digest(dir, out, NULL, &why) != 0) {
        cli_error("cannot hash the source tree %s: %s", dir, why.reason);
        return -1;
    }
    return 0;
}

static int cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The v2 links the options give, checked against the kind. */
static int append_links(const struct append_opts *o, struct gl_statement_fields *f)
{
    int has_src = o->source_sha != NULL || o->source_dir != NULL, audit = o->naudited > 0;

    if (f->kind == GL_STATEMENT_SOURCE || f->kind == GL_STATEMENT_REBUILD || has_src ||
        audit)
        f->format = 2;
    if (gl_statement_has_source(f) != has_src ||
        (o->dir != NULL && f->kind != GL_STATEMENT_SOURCE) ||
        (audit && f->kind != GL_STATEMENT_AUDIT_REPORT) ||
        (audit != (o->scope != NULL))) {
        cli_error(
            "--source-sha256/--source-dir go with (and a rebuild needs one) build, "
            "rule-update or rebuild; --dir with source; --audited with --scope, on an "
            "audit-report");
        return -1;
    }
    if ((o->source_sha && digest_opt("--source-sha256", o->source_sha, f->source) != 0) ||
        (o->source_dir && tree_digest(o->source_dir, f->source) != 0))
        return -1;
    for (size_t i = 0; i < o->naudited; i++)
        if (digest_opt("--audited", o->audited[i], f->audited[i]) != 0)
            return -1;
    f->naudited = o->naudited;
    qsort(f->audited, f->naudited, 32, cmp_digest);
    for (size_t i = 1; i < f->naudited; i++)
        if (memcmp(f->audited[i - 1], f->audited[i], 32) == 0) {
            cli_error("--audited names the same digest twice");
            return -1;
        }
    f->scope = o->scope;
    f->scope_len = o->scope != NULL ? strlen(o->scope) : 0;
    return 0;
}

static int append_fields(const struct append_opts *o, struct gl_statement_fields *f)
{
    memset(f, 0, sizeof(*f));
    if (gl_statement_kind_parse(o->kind, strlen(o->kind), &f->kind) != 0) {
        cli_error("--kind must be build, rule-update, audit-report, source or rebuild");
        return -1;
    }
    if (append_links(o, f) != 0)
        return -1;
    f->subject = o->subject;
    f->subject_len = strlen(o->subject);
    f->version = o->version;
    f->version_len = strlen(o->version);
    f->time = (uint64_t)time(NULL);
    if (o->sha != NULL && digest_opt("--sha256", o->sha, f->sha256) != 0)
        return -1;
    if (o->file != NULL && util_hash_file(o->file, f->sha256) != 0)
        return -1;
    if (o->dir != NULL && tree_digest(o->dir, f->sha256) != 0)
        return -1;
    for (size_t i = 0; i < o->nmeta; i++) {
        const char *eq = strchr(o->meta[i], '=');
        if (eq == NULL) {
            cli_error("--meta takes KEY=VALUE, not '%s'", o->meta[i]);
            return -1;
        }
        f->meta[i].key = o->meta[i];
        f->meta[i].key_len = (size_t)(eq - o->meta[i]);
        f->meta[i].value = eq + 1;
        f->meta[i].value_len = strlen(eq + 1);
    }
    f->nmeta = o->nmeta;
    return 0;
}

/* The "error" string of a JSON error answer, or "no reason given"; made
 * printable (util_printable: the text goes to a terminal). */
static void append_reason(const struct gl_http_response *resp, char *out, size_t max)
{
    cJSON *j = cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *text = cJSON_IsString(er) ? er->valuestring : "no reason given";

    util_printable(text, strlen(text), out, max);
    cJSON_Delete(j);
}

/* The pause before retrying answer resp (rc: the post's result): its
 * Retry-After on 429 and 503 when longer than backoff, else backoff (a
 * server may slow the client down, never make it post in a tight loop). */
static double append_pause(int rc, const struct gl_http_response *resp, double backoff)
{
    double ra;

    if (rc == 0 && (resp->status == 429 || resp->status == 503) &&
        fetch_retry_after(resp, &ra) == 0 && ra > backoff)
        return ra;
    return backoff;
}

/* Says why the post is retried after pause seconds, or (give_up) why it
 * ends now. rc: the post's result. */
static void append_retry_msg(int rc, const struct gl_http_response *resp, double pause,
                             long timeout_s, int give_up)
{
    char why[256];

    if (rc != 0) {
        snprintf(why, sizeof(why), "%s", resp->error[0] ? resp->error : gl_strerror(rc));
        if (give_up)
            cli_error("%s; gave up after %ld s (--timeout)", why, timeout_s);
        else
            cli_error("%s, retrying in %.1f s", why, pause);
        return;
    }
    append_reason(resp, why, sizeof(why));
    if (!give_up)
        cli_error("log answered %ld (%s), retrying in %.1f s", resp->status, why, pause);
    else if (resp->status == 429)
        cli_error(
            "rate limited (429: %s): the log allows this submitter key's next append in "
            "%.0f s, past the --timeout of %ld s; giving up",
            why, pause, timeout_s);
    else
        cli_error("log answered %ld (%s); gave up after %ld s (--timeout)", resp->status,
                  why, timeout_s);
}

/* Posts the statement until it is answered (not 5xx or 429) or time runs
 * out; only a network failure (GL_EIO) or such an answer is tried again.
 * resp is the caller's; 0 with a final answer, an error code otherwise.
 * *unknown is set to 1 if a post went unanswered (a network failure) or
 * was answered 5xx: the log may have taken the statement then, whatever
 * later posts were answered (a 429 to a retry of a post the log took and
 * whose answer was lost). */
static int append_post(const char *url, const struct gl_buf *st, long timeout_s,
                       struct gl_http_response *resp, int *unknown)
{
    struct gl_http_client *c;
    double deadline = gl_clock_mono() + (double)timeout_s, backoff = BACKOFF_FIRST, pause;
    int rc;

    if ((rc = gl_http_client_new(NULL, &c)) != 0)
        return rc;
    for (;;) {
        double left = deadline - gl_clock_mono();
        long ms = left > 10 ? 10000 : (long)(left * 1000) + 1;
        rc =
            gl_http_post(c, url, "text/plain", st->data, st->len, RESPONSE_MAX, ms, resp);
        if (rc == 0 && resp->status < 500 && resp->status != 429)
            break;
        if (rc == GL_EIO || (rc == 0 && resp->status >= 500))
            *unknown = 1;
        if (rc != 0 &&
            rc != GL_EIO) { /* a bad URL, an answer too large: the same again */
            cli_error("%s: not retried", resp->error[0] ? resp->error : gl_strerror(rc));
            break;
        }
        pause = append_pause(rc, resp, backoff);
        if (gl_clock_mono() + pause >= deadline) {
            append_retry_msg(rc, resp, pause, timeout_s, 1);
            rc = GL_EIO;
            break;
        }
        append_retry_msg(rc, resp, pause, timeout_s, 0);
        util_sleep(pause);
        backoff = gl_clock_backoff(backoff, BACKOFF_FIRST, BACKOFF_MAX);
        gl_http_response_release(resp);
    }
    gl_http_client_free(c);
    return rc;
}

/* After a post without a final answer (a timeout, a lost connection, 5xx
 * to the end): the log may have taken the statement, and appending again
 * signs another one (another time), so says how to find out first. */
static void append_unknown(const struct append_opts *o,
                           const struct gl_statement_fields *f)
{
    char hex[GL_HASH_HEX_LEN + 1];

    gl_hex_encode(f->sha256, GL_HASH_LEN, hex, sizeof(hex));
    cli_error(
        "the statement may be in the log all the same (no answer is not a refusal); "
        "before appending again, check: glasslog lookup --log %s --policy POLICY "
        "--sha256 %s",
        o->log, hex);
}

/* Checks the log's answer and writes the bundle: 0, CLI_VERIFY or
 * CLI_USAGE. *checked is set to 1 once the answer checked out (the
 * statement is in the log), whether or not the bundle could be written. */
static int append_finish(const struct append_opts *o, const struct gl_verifier *vk,
                         const struct gl_buf *st, const char *proof_text, uint64_t index,
                         const uint8_t leaf[GL_HASH_LEN], int *checked)
{
    struct gl_tlogproof *tp = NULL;
    struct gl_buf bundle;
    struct gl_err why;
    char msg[GL_ERR_REASON_MAX + 32];
    int rc = CLI_OK;

    gl_buf_init(&bundle, GL_TLOGPROOF_MAX_SIZE);
    if (gl_tlogproof_parse(proof_text, strlen(proof_text), &tp, &why) != 0) {
        cli_error("the log's proof is malformed: %s",
                  gl_err_format(&why, NULL, msg, sizeof(msg)));
        rc = CLI_VERIFY;
        goto out;
    }
    if (tp->index != index) {
        cli_error("the log's proof names index %llu, its answer %llu",
                  (unsigned long long)tp->index, (unsigned long long)index);
        rc = CLI_VERIFY;
        goto out;
    }
    if (vk != NULL && gl_tlogproof_verify(tp, leaf, vk, NULL, &why) != 0) {
        cli_error("the log's answer does not verify: %s", why.reason);
        rc = CLI_VERIFY;
        goto out;
    }
    if (vk == NULL)
        cli_error("note: the log's proof was not verified (no --log-vkey); `glasslog "
                  "verify` checks the bundle");
    *checked = 1;
    if (o->out != NULL) {
        tp->extra = st->data;
        tp->extra_len = st->len;
        if (gl_tlogproof_format(tp, &bundle) != 0) {
            cli_error("cannot write %s: the bundle cannot be formatted", o->out);
            rc = CLI_USAGE;
        } else if (cli_write_new_file(o->out, bundle.data, bundle.len, 0644) != 0) {
            rc = CLI_USAGE;
        }
    }
out:
    gl_tlogproof_free(tp);
    gl_buf_release(&bundle);
    return rc;
}

/* Prints "NAME HEX" for a 32-byte digest. */
static void print_digest(const char *name, const uint8_t d[GL_HASH_LEN])
{
    char hex[GL_HASH_HEX_LEN + 1];

    gl_hex_encode(d, GL_HASH_LEN, hex, sizeof(hex));
    printf("%s %s\n", name, hex);
}

/* Reads the JSON answer: index, leaf_hash, proof. Once the statement is
 * known to be in the log, prints where (index, leaf_hash) and what it
 * names (f: sha256, and source when it links one), the digests others
 * need for their own statements and lookups. */
static int append_answer(const struct append_opts *o, const struct gl_verifier *vk,
                         const struct gl_statement_fields *f, const struct gl_buf *st,
                         const struct gl_http_response *resp)
{
    cJSON *j = cJSON_ParseWithLength((const char *)resp->body.data, resp->body.len);
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
    const cJSON *lh = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "proof");
    uint8_t leaf[GL_HASH_LEN], got[GL_HASH_LEN];
    char why[256];
    uint64_t index;
    int rc = CLI_VERIFY, checked = 0;

    if (resp->status != 200) {
        append_reason(resp, why, sizeof(why));
        cli_error("the log refused the statement (%ld): %s", resp->status, why);
        rc = CLI_USAGE;
        goto out;
    }
    gl_merkle_leaf_hash(st->data, st->len, leaf);
    if (util_json_index(idx, &index) != 0 || !cJSON_IsString(lh) || !cJSON_IsString(pr) ||
        gl_hex_decode_exact(lh->valuestring, strlen(lh->valuestring), got, GL_HASH_LEN,
                            1) != 0 ||
        memcmp(got, leaf, GL_HASH_LEN) != 0) {
        cli_error("the log's answer is malformed or names another leaf");
        goto out;
    }
    rc = append_finish(o, vk, st, pr->valuestring, index, leaf, &checked);
    if (checked) { /* appended: say where, even if --out could not be written */
        printf("index %llu\n", (unsigned long long)index);
        print_digest("leaf_hash", leaf);
        print_digest("sha256", f->sha256);
        if (gl_statement_has_source(f))
            print_digest("source", f->source);
    }
out:
    cJSON_Delete(j);
    return rc;
}

/* Loads --log-vkey into *vk (*use set to vk, or NULL without one): a
 * log's key, a note key. 0, or -1 reported. */
static int append_log_key(const struct append_opts *o, struct gl_verifier *vk,
                          const struct gl_verifier **use)
{
    *use = NULL;
    if (o->vkey == NULL)
        return 0;
    if (cli_load_verifier(o->vkey, vk) != 0)
        return -1;
    if (vk->type != GL_KEY_NOTE) {
        cli_error("--log-vkey %s is a witness key; give the log's (note) key", o->vkey);
        return -1;
    }
    *use = vk;
    return 0;
}

/* Refuses an --out name that exists in any form (a dangling symlink too:
 * the bundle is written with link(), which never follows one). 0, or -1
 * reported. */
static int append_out_free(const struct append_opts *o)
{
    struct stat sb;

    if (o->out == NULL)
        return 0;
    if (lstat(o->out, &sb) == 0) {
        cli_error("refusing to overwrite %s", o->out);
        return -1;
    }
    if (errno == ENOENT)
        return 0;
    cli_error("cannot use --out %s: %s", o->out, strerror(errno));
    return -1;
}

int cmd_append_main(int argc, char **argv)
{
    struct append_opts o;
    struct gl_statement_fields f;
    struct gl_signer k;
    struct gl_verifier vk;
    const struct gl_verifier *use_vk;
    struct gl_buf st, url;
    struct gl_http_response resp;
    struct gl_err why;
    int unknown = 0, rc = append_parse(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    /* everything that can be refused is, before anything is appended */
    if (append_fields(&o, &f) != 0 || append_log_key(&o, &vk, &use_vk) != 0 ||
        append_out_free(&o) != 0 || cli_load_signer(o.key, &k) != 0)
        return CLI_USAGE;
    gl_buf_init(&st, GL_STATEMENT_MAX_SIZE);
    gl_buf_init(&url, 4096);
    memset(&resp, 0, sizeof(resp));
    rc = CLI_USAGE;
    if (gl_statement_sign(&f, &k, &st, &why) != 0) {
        cli_error("cannot make the statement: %s", why.reason);
        goto out;
    }
    if (gl_buf_printf(&url, "%s%sapi/v1/add", o.log,
                      o.log[0] && o.log[strlen(o.log) - 1] == '/' ? "" : "/") != 0) {
        cli_error("--log URL too long");
        goto out;
    }
    if (append_post((const char *)url.data, &st, o.timeout_s, &resp, &unknown) != 0) {
        if (unknown)
            append_unknown(&o, &f);
        goto out; /* rc: CLI_USAGE */
    }
    rc = append_answer(&o, use_vk, &f, &st, &resp);
out:
    gl_signer_wipe(&k);
    gl_http_response_release(&resp);
    gl_buf_release(&st);
    gl_buf_release(&url);
    return rc;
}
