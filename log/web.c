/*
 * web: the explorer's files, loaded at start and served from memory; see
 * web.h for the rules.
 *
 * Design: a flat table of (URL path, content type, bytes, ETag), filled by
 * a bounded walk of the web directory and a few fixed extras (Chart.js,
 * the policy). Lookup is a string comparison against the table, so
 * nothing a client sends is ever joined to a file-system path. Names are
 * checked while walking: a name that could not be requested verbatim (a
 * leading dot, a byte outside [A-Za-z0-9._-]) is skipped, as are symbolic
 * links and special files, so only regular files under the directory are
 * ever read.
 *
 * Invariants: n <= WEB_MAX_FILES + 2 (the extras), total <= WEB_MAX_TOTAL
 * for the directory's files, every url starts with '/', every etag is a
 * quoted 16-hex-digit prefix of the content's SHA-256.
 */
#include "web.h"

#include <assert.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/policy.h"
#include "glasslog/sha256.h"
#include "text.h"

#define WEB_NAME_MAX 64
#define WEB_URL_MAX 320
#define WEB_SLOTS (WEB_MAX_FILES + 2) /* + Chart.js and /policy */

struct web_file {
    char url[WEB_URL_MAX];
    const char *type;
    uint8_t *data;
    size_t len;
    char etag[24]; /* "\"" 16 hex "\"" */
};

struct web {
    struct web_file f[WEB_SLOTS];
    size_t n, nfiles, total;
};

static const struct {
    const char *ext, *type;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

/* The content type for name, or NULL for an extension not served. */
static const char *web_type(const char *name)
{
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(web_types) / sizeof(web_types[0]); i++)
        if (strcmp(dot, web_types[i].ext) == 0)
            return web_types[i].type;
    return NULL;
}

/* 1 if name may be part of a served path. */
static int web_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > WEB_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Reads path (at most WEB_MAX_FILE bytes) into a new slot for url. */
static int web_add(struct web *w, const char *path, const char *url, const char *type,
                   size_t cap)
{
    struct web_file *f;
    struct gl_buf b;
    uint8_t h[GL_HASH_LEN];
    char hex[17];
    int rc;

    if (w->n == WEB_SLOTS || strlen(url) >= WEB_URL_MAX) {
        gl_log(GL_LOG_ERROR, "web: more than %d files, or a path too long (%s)",
               WEB_MAX_FILES, path);
        return GL_ETOOBIG;
    }
    gl_buf_init(&b, cap);
    if ((rc = gl_file_read(path, &b)) != 0) {
        gl_log(GL_LOG_ERROR, "web: cannot read %s: %s", path, gl_file_read_error(rc));
        gl_buf_release(&b);
        return rc;
    }
    f = &w->f[w->n];
    f->len = b.len;
    if ((rc = gl_sha256(b.data ? b.data : (const uint8_t *)"", b.len, h)) != 0 ||
        (rc = gl_buf_detach(&b, &f->data, &f->len)) != 0) {
        gl_buf_release(&b);
        return rc;
    }
    gl_hex_encode(h, 8, hex, sizeof(hex));
    snprintf(f->etag, sizeof(f->etag), "\"%s\"", hex);
    snprintf(f->url, sizeof(f->url), "%s", url);
    f->type = type;
    w->n++;
    assert(w->n <= WEB_SLOTS && f->url[0] == '/' && strlen(f->etag) == 18);
    return 0;
}

static int web_walk(struct web *w, const char *fs, const char *url, int depth);

/* One directory entry of the walk. */
static int web_entry(struct web *w, const char *fs, const char *url, const char *name,
                     int depth)
{
    char path[PATH_MAX], sub[WEB_URL_MAX];
    const char *type;
    struct stat st;
    int rc;

    if (!web_name_ok(name))
        return 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", fs, name) >= sizeof(path) ||
        (size_t)snprintf(sub, sizeof(sub), "%s/%s", url, name) >= sizeof(sub))
        return GL_ETOOBIG;
    if (lstat(path, &st) != 0) {
        gl_log(GL_LOG_ERROR, "web: cannot stat %s", path);
        return GL_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= WEB_DEPTH) {
            gl_log(GL_LOG_WARN, "web: %s is deeper than %d levels: not served", path,
                   WEB_DEPTH);
            return 0;
        }
        return web_walk(w, path, sub, depth + 1);
    }
    if (!S_ISREG(st.st_mode)) {
        gl_log(GL_LOG_WARN, "web: %s is not a regular file (a link?): not served", path);
        return 0;
    }
    if ((type = web_type(name)) == NULL)
        return 0;
    if (w->nfiles == WEB_MAX_FILES || (size_t)st.st_size > WEB_MAX_FILE ||
        (size_t)st.st_size > WEB_MAX_TOTAL - w->total) {
        gl_log(GL_LOG_ERROR,
               "web: %s is over the caps (%d files of at most %zu bytes, "
               "%zu in all)",
               path, WEB_MAX_FILES, WEB_MAX_FILE, WEB_MAX_TOTAL);
        return GL_ETOOBIG;
    }
    if ((rc = web_add(w, path, sub, type, WEB_MAX_FILE)) != 0)
        return rc;
    w->nfiles++;
    w->total += w->f[w->n - 1].len;
    return w->total > WEB_MAX_TOTAL ? GL_ETOOBIG : 0;
}

static int web_walk(struct web *w, const char *fs, const char *url, int depth)
{
    DIR *d = opendir(fs);
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        gl_log(GL_LOG_ERROR, "web: cannot open the directory %s", fs);
        return GL_EIO;
    }
    while (rc == 0 && (e = readdir(d)) != NULL)
        rc = web_entry(w, fs, url, e->d_name, depth);
    closedir(d);
    return rc;
}

/* Reads and checks the suggested policy, served at /policy. */
static int web_policy(struct web *w, const char *path)
{
    struct gl_err perr;
    struct gl_policy *p = NULL;
    const struct web_file *f;
    int rc;

    if ((rc = web_add(w, path, "/policy", "text/plain; charset=utf-8",
                      GL_POLICY_MAX_SIZE)) != 0)
        return rc;
    f = &w->f[w->n - 1];
    rc = gl_policy_parse((const char *)f->data, f->len, &p, &perr);
    if (rc != 0) {
        gl_log_err(GL_LOG_ERROR, path, &perr);
        gl_log(GL_LOG_ERROR, "the --public-policy must be a valid policy");
    }
    gl_policy_free(p);
    return rc;
}

int web_new(const char *dir, const char *policy, struct web **out)
{
    struct web *w = calloc(1, sizeof(*w));
    int rc = 0;

    *out = NULL;
    if (w == NULL)
        return GL_ENOMEM;
    if (dir != NULL && dir[0] != 0) {
        if ((rc = web_walk(w, dir, "", 0)) != 0)
            goto fail;
        if (access(WEB_CHARTJS_FILE, R_OK) == 0)
            rc = web_add(w, WEB_CHARTJS_FILE, WEB_CHARTJS_URL,
                         "text/javascript; charset=utf-8", WEB_MAX_FILE);
        else
            gl_log(GL_LOG_WARN,
                   "web: %s is missing (Debian package libjs-chart.js): the "
                   "explorer shows no charts",
                   WEB_CHARTJS_FILE);
        if (rc != 0)
            goto fail;
        gl_log(GL_LOG_INFO, "web: the explorer from %s (%zu files, %zu bytes)", dir,
               w->nfiles, w->total);
    }
    if (policy != NULL && policy[0] != 0 && (rc = web_policy(w, policy)) != 0)
        goto fail;
    *out = w;
    return 0;
fail:
    web_free(w);
    return rc;
}

void web_free(struct web *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->f[i].data);
    free(w);
}

/* 1 if dir is a directory. */
static int is_dir(const char *dir)
{
    struct stat st;

    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int web_resolve_dir(const char *setting, char *out, size_t max)
{
    char exe[PATH_MAX], *slash;
    ssize_t n;

    if (max == 0)
        return GL_ETOOBIG;
    out[0] = 0;
    if (strcmp(setting, "none") == 0)
        return 0;
    if (setting[0] != 0) {
        if (!is_dir(setting)) {
            gl_log(GL_LOG_ERROR, "--web %s: not a directory", setting);
            return GL_EIO;
        }
        return (size_t)snprintf(out, max, "%s", setting) < max ? 0 : GL_ETOOBIG;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0 && (size_t)n < sizeof(exe) - 1)
        exe[n] = 0; /* readlink does not terminate */
    if (n <= 0 || (size_t)n >= sizeof(exe) - 1 || (slash = strrchr(exe, '/')) == NULL) {
        gl_log(GL_LOG_WARN,
               "web: cannot find the running binary: no explorer (give --web)");
        return 0;
    }
    *slash = 0;
    if ((size_t)snprintf(out, max, "%s/../share/glasslog/web", exe) < max && is_dir(out))
        return 0;
    if ((size_t)snprintf(out, max, "%s/../web", exe) < max && is_dir(out))
        return 0;
    gl_log(GL_LOG_WARN,
           "web: no %s/../share/glasslog/web nor %s/../web: no explorer (give "
           "--web DIR)",
           exe, exe);
    out[0] = 0;
    return 0;
}

static const struct web_file *web_find(const struct web *w, const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->f[i].url, path) == 0)
            return &w->f[i];
    return NULL;
}

/* 1 if the If-None-Match list (n bytes) names etag, or is "*". */
static int web_etag_matches(const char *v, size_t n, const char *etag)
{
    size_t elen = strlen(etag), i = 0;

    while (i < n) {
        size_t start, end;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        start = i;
        while (i < n && v[i] != ',')
            i++;
        end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (gl_mem_prefix(v + start, end - start, "W/"))
            start += GL_LIT_LEN("W/");
        if ((end - start == 1 && v[start] == '*') ||
            (end - start == elen && memcmp(v + start, etag, elen) == 0))
            return 1;
    }
    return 0;
}

int web_handle(struct web *w, struct gl_http_req *req)
{
    const struct web_file *f = w != NULL ? web_find(w, req->path) : NULL;
    const char *inm;
    size_t inm_len;

    if (f == NULL)
        return gl_http_reply_error(req, 404,
                                   strcmp(req->path, "/policy") == 0
                                       ? "this log publishes no suggested policy"
                                       : "not found");
    const struct gl_http_header h[] = {
        {"Cache-Control", "no-cache"},
        {"ETag", f->etag},
        {"Content-Security-Policy", WEB_CSP},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
    };
    if (gl_http_req_header(req, "If-None-Match", &inm, &inm_len) == 0 &&
        web_etag_matches(inm, inm_len, f->etag))
        return gl_http_reply(req, 304, NULL, h, sizeof(h) / sizeof(h[0]), NULL, 0);
    return gl_http_reply(req, 200, f->type, h, sizeof(h) / sizeof(h[0]), f->data, f->len);
}
