/*
 * reload: see reload.h. Replacing the submitters is a swap of three
 * fields of struct api on the loop thread; the signature checks on the
 * threadpool never read them (each append carries a copy of its key), so
 * the old arrays can be freed at once.
 */
#include "reload.h"

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
        gl_log(GL_LOG_ERROR, "cannot read %s: %s", path, gl_strerror(rc));
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

int reload_submitters(const char *path, size_t max,
                      const struct ratelimit_limit *defaults, struct submitters *cur,
                      struct api *api)
{
    struct submitters next = {0}, old;
    struct gl_err why;
    size_t kept = 0;
    int rc = submitters_load(path, max, defaults, uv_now(api->loop), &next, &why);

    if (rc != 0) {
        gl_log_err(GL_LOG_ERROR, path, &why);
        gl_log(GL_LOG_ERROR, "reload: %s refused; the %zu submitter key(s) in use stay",
               path, cur->n);
        submitters_release(&next);
        return rc;
    }
    for (size_t i = 0; i < next.n; i++) {
        const struct ratelimit *b = old_bucket(cur, &next.keys[i], &next.limits[i].lim);
        if (b != NULL) {
            next.limits[i] = *b;
            kept++;
        }
    }
    old = *cur;
    *cur = next;
    api->submitters = cur->keys;
    api->nsubmitters = cur->n;
    api->limits = cur->limits;
    submitters_release(&old);
    gl_log(GL_LOG_INFO, "reload: %zu submitter key(s) from %s (%zu kept as they were)",
           cur->n, path, kept);
    if (cur->n == 0)
        gl_log(GL_LOG_WARN, "no submitter keys in %s: every append will be refused",
               path);
    return 0;
}

int reload_policy(const char *path, struct publish *pub)
{
    struct gl_policy *pol;
    int rc;

    if (pub == NULL) {
        gl_log(GL_LOG_ERROR,
               "reload: the log started without --witnesses; adding witnesses "
               "needs a restart");
        return GL_ESTATE;
    }
    if ((rc = reload_load_policy(path, &pol)) != 0) {
        gl_log(GL_LOG_ERROR, "reload: %s refused; the witness policy in use stays", path);
        return rc;
    }
    publish_set_policy(pub, pol);
    return 0;
}
