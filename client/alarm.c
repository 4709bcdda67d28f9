/*
 * alarm: evidence directories and the --on-alarm hook; see alarm.h.
 *
 * The hook runs as `/bin/sh -c CMD` (lib/net/hook.h) with the parent's
 * environment plus GLASSLOG_ALARM_KIND, GLASSLOG_ALARM_DIR,
 * GLASSLOG_ALARM_DETAIL and GLASSLOG_LOG_URL; the monitor waits for it, at
 * most --on-alarm-timeout seconds (then the command's process group is
 * stopped: hook.h), and reports a non-zero exit or the timeout.
 * It runs only for newly recorded evidence. Between alarm_defer and
 * alarm_run_deferred (a caller holding the state lock) hooks are queued,
 * in order, and run once the caller has let go: a hook may use the state
 * (a `glasslog lookup` with the same --state) without waiting on it.
 */
#include "alarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"
#include "glasslog/sha256.h"
#include "hook.h"
#include "util.h"

/* A hook held back by alarm_defer: the URL as it was, and kind, dir and
 * detail copied into text. */
struct alarm_hook {
    struct alarm_hook *next;
    const char *url;
    const char *kind, *dir, *detail; /* into text */
    char text[];
};

static void run_hook(const struct alarm_ctx *a, const char *url, const char *kind,
                     const char *dir, const char *detail)
{
    const struct gl_hook_var vars[] = {
        {"GLASSLOG_ALARM_KIND", kind},
        {"GLASSLOG_ALARM_DIR", dir},
        {"GLASSLOG_ALARM_DETAIL", detail},
        {"GLASSLOG_LOG_URL", url},
    };
    int st = 0, timed_out = 0;

    if (gl_hook_run(a->on_alarm, "sh", NULL, 0, vars, sizeof(vars) / sizeof(vars[0]),
                    a->on_alarm_timeout_s * 1000u, &st, &timed_out) != 0) {
        cli_error("cannot run the --on-alarm command");
        return;
    }
    if (timed_out)
        cli_error(
            "the --on-alarm command timed out after %u s: stopped (its process group "
            "got SIGTERM, then SIGKILL)",
            a->on_alarm_timeout_s);
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        cli_error("the --on-alarm command failed (status %d)", st);
}

/* Runs the hook now, or queues it while hooks are deferred (run now if
 * the copy cannot be made: never lost). */
static void hook(struct alarm_ctx *a, const char *kind, const char *dir,
                 const char *detail)
{
    size_t lk = strlen(kind) + 1, ld = strlen(dir) + 1, lt = strlen(detail) + 1;
    struct alarm_hook *h = NULL, **tail;

    if (a->defer && lk + ld <= SIZE_MAX - sizeof(*h) - lt)
        h = malloc(sizeof(*h) + lk + ld + lt);
    if (h == NULL) {
        run_hook(a, a->url, kind, dir, detail);
        return;
    }
    h->next = NULL;
    h->url = a->url;
    h->kind = memcpy(h->text, kind, lk);
    h->dir = memcpy(h->text + lk, dir, ld);
    h->detail = memcpy(h->text + lk + ld, detail, lt);
    for (tail = &a->deferred; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = h;
}

void alarm_defer(struct alarm_ctx *a)
{
    a->defer = 1;
}

void alarm_run_deferred(struct alarm_ctx *a)
{
    struct alarm_hook *h;

    a->defer = 0;
    while ((h = a->deferred) != NULL) {
        a->deferred = h->next;
        run_hook(a, h->url, h->kind, h->dir, h->detail);
        free(h);
    }
}

/* Builds the "alarm" summary file. */
static int summary(const struct alarm_ctx *a, const char *kind, const char *detail,
                   struct gl_buf *out)
{
    uint64_t now = (uint64_t)time(NULL);
    char t[32];
    int rc;

    util_time_utc(now, t);
    if ((rc = gl_buf_printf(out, "kind %s\ntime %llu %s\nlog ", kind,
                            (unsigned long long)now, t)) == 0 &&
        (rc = gl_verifier_format(a->log_key, out)) == 0)
        rc = gl_buf_printf(out, "\nurl %s\ndetail %s\n", a->url ? a->url : "-", detail);
    return rc;
}

/* Records the directory and runs the hook for new evidence. */
static int record(struct alarm_ctx *a, const char *kind, const char *name,
                  const struct state_file *files, size_t n, const char *detail, char *dir)
{
    struct gl_buf sum;
    int rc;

    a->seen++;
    gl_buf_init(&sum, 8192);
    if ((rc = summary(a, kind, detail, &sum)) != 0)
        goto out;
    rc = state_save_evidence(a->s, name, (const char *)sum.data, files, n, dir);
    if (rc == GL_EEXIST) {
        cli_error("ALARM (%s, recorded before in %s): %s", kind, dir, detail);
        rc = 0;
        goto out;
    }
    if (rc != 0)
        goto out;
    a->recorded++;
    cli_error("ALARM (%s): %s; evidence in %s", kind, detail, dir);
    if (a->on_alarm != NULL)
        hook(a, kind, dir, detail);
out:
    gl_buf_release(&sum);
    return rc;
}

/* "<old m>\n<new n>\n" then the proof hashes in base64, one a line. */
static int proof_file(uint64_t m, uint64_t n, const uint8_t (*proof)[GL_HASH_LEN],
                      size_t len, struct gl_buf *out)
{
    char b64[48];
    int rc = gl_buf_printf(out, "old %llu\nnew %llu\n", (unsigned long long)m,
                           (unsigned long long)n);

    for (size_t i = 0; rc == 0 && i < len; i++) {
        gl_base64_encode(proof[i], GL_HASH_LEN, b64, sizeof(b64));
        rc = gl_buf_printf(out, "%s\n", b64);
    }
    return rc;
}

/* The standard evidence file, when the pair provably is a split view. */
static void split_view(const struct alarm_ctx *a, const char *old, size_t oldlen,
                       uint64_t m, const uint8_t root_m[GL_HASH_LEN], const char *cur,
                       size_t curlen, uint64_t n, const uint8_t (*proof)[GL_HASH_LEN],
                       size_t len, struct gl_buf *out)
{
    uint8_t full[GL_EVIDENCE_MAX_PROOF][GL_HASH_LEN];
    size_t nfull = 0;

    if (m != n && (m == 0 || gl_evidence_full_proof(m < n ? m : n, m < n ? n : m, root_m,
                                                    proof, len, full, &nfull) != 0))
        return;
    if (gl_evidence_build(a->log_key, 1, old, oldlen, cur, curlen, gl_hashes_const(full),
                          nfull, out, NULL) != 0)
        gl_buf_reset(out);
}

/* The root a checkpoint note claims (syntax only). */
static int note_root(const char *msg, size_t len, uint8_t root[GL_HASH_LEN])
{
    struct gl_note *note = NULL;
    struct gl_checkpoint c;
    int rc;

    if ((rc = gl_note_parse(msg, len, &note, NULL)) == 0 &&
        (rc = gl_checkpoint_parse(note->text, note->text_len, &c, NULL)) == 0)
        memcpy(root, c.root, GL_HASH_LEN);
    gl_note_free(note);
    return rc;
}

int alarm_fork(struct alarm_ctx *a, const char *old, size_t oldlen, uint64_t m,
               const char *cur, size_t curlen, uint64_t n,
               const uint8_t (*proof)[GL_HASH_LEN], size_t len,
               const uint8_t *prefix_root, const char *detail, char *dir)
{
    struct gl_buf pf, ev;
    struct state_file files[4];
    uint8_t h[GL_HASH_LEN], root_small[GL_HASH_LEN];
    char name[128], hex[GL_HASH_HEX_LEN + 1];
    size_t nf = 0;
    int rc;

    gl_buf_init(&pf, 8192);
    gl_buf_init(&ev, GL_EVIDENCE_MAX_SIZE);
    if ((rc = gl_sha256(cur, curlen, h)) != 0 ||
        (rc = proof_file(m, n, proof, len, &pf)) != 0)
        goto out;
    if (prefix_root != NULL)
        memcpy(root_small, prefix_root, GL_HASH_LEN);
    if (prefix_root != NULL ||
        note_root(m <= n ? old : cur, m <= n ? oldlen : curlen, root_small) == 0)
        split_view(a, old, oldlen, m, root_small, cur, curlen, n, proof, len, &ev);
    gl_hex_encode(h, 4, hex, sizeof(hex));
    snprintf(name, sizeof(name), "fork-%llu-%llu-%s", (unsigned long long)m,
             (unsigned long long)n, hex);
    files[nf++] = (struct state_file){"checkpoint.old", old, oldlen};
    files[nf++] = (struct state_file){"checkpoint.new", cur, curlen};
    files[nf++] = (struct state_file){"consistency-proof", pf.data, pf.len};
    if (ev.len > 0)
        files[nf++] = (struct state_file){"split-view.evidence", ev.data, ev.len};
    rc = record(a, "fork", name, files, nf, detail, dir);
out:
    gl_buf_release(&pf);
    gl_buf_release(&ev);
    return rc;
}

int alarm_entry(struct alarm_ctx *a, const char *kind, uint64_t index,
                const uint8_t leaf[GL_HASH_LEN], const struct state_file *files, size_t n,
                const char *detail, char *dir)
{
    char name[128], hex[GL_HASH_HEX_LEN + 1];

    gl_hex_encode(leaf, 4, hex, sizeof(hex));
    snprintf(name, sizeof(name), "%s-%llu-%s", kind, (unsigned long long)index, hex);
    return record(a, kind, name, files, n, detail, dir);
}
