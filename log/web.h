/*
 * web: the explorer's static files and the suggested policy, served by
 * glasslogd at "/" (specs/log.md, "The explorer").
 *
 * Everything is read once at start into memory: the files of the web
 * directory (regular files only, no symbolic links, names of
 * [A-Za-z0-9_-][A-Za-z0-9._-]* with a known extension, at most WEB_DEPTH
 * directories deep), Debian's Chart.js at /vendor/chart.js/chart.min.js
 * and the --public-policy file at /policy. A request path is then only a
 * key into that table: it never reaches the file system, so ".." or any
 * other path trick can only miss. Caps: WEB_MAX_FILES files, each at most
 * WEB_MAX_FILE bytes, WEB_MAX_TOTAL in all; past a cap glasslogd refuses
 * to start. Changing the files takes a restart.
 *
 * Every answer carries a strict Content-Security-Policy, no-referrer,
 * nosniff (as every answer of the HTTP adapter), "Cache-Control: no-cache"
 * and a strong ETag (the content's SHA-256), so browsers revalidate and
 * get 304 while nothing changed.
 */
#ifndef GL_LOG_WEB_H
#define GL_LOG_WEB_H

#include <stddef.h>

#include "http_server.h"

#define WEB_MAX_FILES 256
#define WEB_MAX_FILE ((size_t)4 << 20)
#define WEB_MAX_TOTAL ((size_t)32 << 20)
#define WEB_DEPTH 4
/* Debian's libjs-chart.js, served at WEB_CHARTJS_URL when installed. */
#define WEB_CHARTJS_FILE "/usr/share/javascript/chart.js/chart.min.js"
#define WEB_CHARTJS_URL "/vendor/chart.js/chart.min.js"
#define WEB_CSP                                                                          \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "    \
    "connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; "       \
    "frame-ancestors 'none'"

struct web;

/* Resolves the --web setting into out (max bytes): "none" gives "" (no
 * explorer); a given directory is taken as is; an empty setting picks the
 * default next to the running binary: <exe dir>/../share/glasslog/web
 * when it exists (installed), else <exe dir>/../web (a checkout), else ""
 * (logged as a warning). 0, or GL_ETOOBIG / GL_EIO. */
int web_resolve_dir(const char *setting, char *out, size_t max);

/* Loads the web directory dir ("" = none) and the policy file policy
 * (NULL or "" = none; it must parse as a tlog-policy). *out is freed
 * with web_free. Errors are logged; GL_EIO, GL_ETOOBIG, GL_EPARSE,
 * GL_ENOMEM. */
int web_new(const char *dir, const char *policy, struct web **out);
void web_free(struct web *w);

/* Answers a GET or HEAD for a path the API does not serve: a web file,
 * /policy, or 404 (JSON). */
int web_handle(struct web *w, struct gl_http_req *req);

#endif
