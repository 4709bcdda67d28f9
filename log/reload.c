/*
 * reload: see reload.h. Both files are read and parsed before anything
 * changes, so a reload applies both or neither. Replacing the submitters
 * is a swap of three
 * fields of struct api on the loop thread; the signature checks on the
 * threadpool never read them (each append carries a copy of its key), so
 * the old arrays can be freed at once.
 */
#include "reload.h"

#include <stdio.h>
#include <string.h>

#include "file.h"
#include "glasslog/log.h"

#define POLICY_FILE_MAX ((size_t)1 << 16)

int reload_load_policy(const char *path, struct gl_policy **out)
{
    struct gl_policy *pol = NULL;
    struct gl_err why;
    struct gl_buf text;
    int rc;

    *out = NULL;
    gl_buf_init(&text, POLICY_FILE_MAX);
    rc = gl_file_read(path, &text);
    if (rc != 0)
        gl_log(GL_LOG_ERROR, "cannot read %s: %s", path, gl_file_read_error(rc));
    else if ((rc = gl_policy_parse((const char *)text.data, text.len, &pol, &why)) != 0)
        gl_log_err(GL_LOG_ERROR, path, &why);
    gl_buf_release(&text);
    for (size_t i = 0; rc == 0 && i < gl_policy_nwitnesses(pol); i++) {
        const struct gl_policy_witness *w = gl_policy_witness_at(pol, i);
        if (w->url == NULL || w->url[0] == 0) {
            gl_log(GL_LOG_ERROR, "%s:%zu: witness %s has no URL to ask", path, w->line,
                   w->name);
            rc = GL_EINVAL;
        } else if (w->converted) {
            gl_log(GL_LOG_WARN, "witness %s: 0x01 key converted to a cosignature key",
                   w->name);
        }
    }
    if (rc != 0) {
        gl_policy_free(pol);
        return rc;
    }
    *out = pol;
    return 0;
}

/* The bucket of the key equal to k in old (same name, ID and public key)
 * with the same limit, or NULL. */
static const struct ratelimit *old_bucket(const struct submitters *old,
                                          const struct gl_verifier *k,
                                          const struct ratelimit_limit *lim)
{
    for (size_t i = 0; i < old->n; i++) {
        const struct gl_verifier *o = &old->keys[i];
        const struct ratelimit_limit *ol = &old->limits[i].lim;
        if (o->id == k->id && strcmp(o->name, k->name) == 0 &&
            memcmp(o->pub, k->pub, sizeof(o->pub)) == 0 && ol->rate_u == lim->rate_u &&
            ol->burst == lim->burst)
            return &old->limits[i];
    }
    return NULL;
}

int reload_read_submitters(const struct reload_config *c, uint64_t now_ms,
                           struct submitters *out)
{
    struct gl_err why;
    int rc = submitters_load(c->submitters, c->max, &c->defaults, now_ms, out, &why);

    if (rc != 0) {
        gl_log_err(GL_LOG_ERROR, c->submitters, &why);
        return rc;
    }
    if (out->n == 0 && !c->allow_empty) {
        gl_log(GL_LOG_ERROR,
               "%s lists no submitter key: every append would be refused (a reload "
               "keeps the keys in use; to stop appends, restart with --read-only)",
               c->submitters);
        return GL_EINVAL;
    }
    return 0;
}

/* Puts next in place of *cur (buckets of unchanged keys carried over) and
 * frees the old; next is emptied. Returns how many buckets were kept. */
static size_t swap_submitters(struct submitters *cur, struct submitters *next,
                              struct api *api)
{
    struct submitters old;
    size_t kept = 0;

    for (size_t i = 0; i < next->n; i++) {
        const struct ratelimit *b = old_bucket(cur, &next->keys[i], &next->limits[i].lim);
        if (b != NULL) {
            next->limits[i] = *b;
            kept++;
        }
    }
    old = *cur;
    *cur = *next;
    memset(next, 0, sizeof(*next));
    api->submitters = cur->keys;
    api->nsubmitters = cur->n;
    api->limits = cur->limits;
    submitters_release(&old);
    return kept;
}

int reload_run(const struct reload_config *c, struct submitters *cur, struct api *api,
               struct publish *pub, char *status, size_t status_len)
{
    struct submitters next = {0};
    struct gl_policy *pol = NULL;
    char msg[RELOAD_STATUS_MAX];
    size_t kept;
    int rc, prc = 0;

    rc = reload_read_submitters(c, uv_now(api->loop), &next);
    if (c->witnesses != NULL && c->witnesses[0] != 0) {
        if (pub == NULL) {
            gl_log(GL_LOG_ERROR, "the log started without --witnesses; adding witnesses "
                                 "needs a restart");
            prc = GL_ESTATE;
        } else {
            prc = reload_load_policy(c->witnesses, &pol);
        }
    }
    if (rc != 0 || prc != 0) {
        snprintf(msg, sizeof(msg), "%s%s%s; the %zu submitter key(s)%s in use stay",
                 rc != 0 ? c->submitters : "", rc != 0 && prc != 0 ? " and " : "",
                 prc != 0 ? c->witnesses : "", cur->n,
                 pub != NULL ? " and the witness policy" : "");
        submitters_release(&next);
        gl_policy_free(pol);
        rc = rc != 0 ? rc : prc;
        gl_log(GL_LOG_ERROR, "reload: refused: %s", msg);
        snprintf(status, status_len, "reload refused: %s", msg);
        return rc;
    }
    kept = swap_submitters(cur, &next, api);
    snprintf(msg, sizeof(msg), "%zu submitter key(s) from %s (%zu kept as they were)",
             cur->n, c->submitters, kept);
    if (pol != NULL) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, "; witness policy %s: %zu witness(es)",
                 c->witnesses, gl_policy_nwitnesses(pol));
        publish_set_policy(pub, pol);
    }
    gl_log(GL_LOG_INFO, "reload: applied: %s", msg);
    snprintf(status, status_len, "reload applied: %s", msg);
    if (cur->n == 0)
        gl_log(GL_LOG_WARN, "no submitter keys in %s: every append will be refused",
               c->submitters);
    return 0;
}
