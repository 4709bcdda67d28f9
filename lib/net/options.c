/*
 * options: see options.h. Values are checked with the core's parsers
 * (gl_parse_u64: canonical decimal, no sign, no spaces, no suffix), so
 * "10x", "-1", " 5" and "" are refused. A config file is read whole
 * (GL_OPTS_FILE_MAX bytes) and cut with lib/text.h; a line longer than
 * GL_OPTS_LINE_MAX bytes is refused.
 *
 * Invariant: a string field always holds a NUL-terminated value shorter
 * than its buffer (checked before copying). Every setting takes one value:
 * one given twice (two lines of one config file, or a flag repeated) is
 * refused, naming both lines; a flag overrides the config file. There is
 * at most one config file (a second --config is refused), so a setting
 * has one place in it.
 */
#include "options.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"

static void set_defaults(const struct gl_opts *t, void *cfg)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct gl_opt *o = &t->v[i];
        char *field = (char *)cfg + o->off;
        if (o->kind == GL_OPT_KIND_UINT) {
            assert(o->def_uint >= o->min && o->def_uint <= o->max);
            *(unsigned *)field = o->def_uint;
        } else if (o->kind == GL_OPT_KIND_FLAG) {
            *(int *)field = 0;
        } else {
            assert(o->def_str == NULL || strlen(o->def_str) < o->size);
            memset(field, 0, o->size);
            if (o->def_str != NULL)
                memcpy(field, o->def_str, strlen(o->def_str));
        }
    }
}

void gl_opts_usage(const struct gl_opts *t, FILE *f)
{
    char left[64];

    fputs(t->usage, f);
    for (size_t i = 0; i < t->n; i++) {
        const struct gl_opt *o = &t->v[i];
        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s", left, o->help);
        if (o->kind == GL_OPT_KIND_UINT)
            fprintf(f, " (default %u)", o->def_uint);
        else if (o->kind == GL_OPT_KIND_STR && o->def_str != NULL)
            fprintf(f, " (default %s)", o->def_str);
        fputc('\n', f);
    }
    fprintf(f, "  %-26s %s\n  --help, --version\n", "--config FILE",
            "read settings from FILE (\"key value\" lines; flags win)");
}

static const struct gl_opt *find(const struct gl_opts *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->v[i].name) == n && memcmp(t->v[i].name, name, n) == 0)
            return &t->v[i];
    return NULL;
}

/* Sets one setting from its text (NULL: none given). */
static int set(void *cfg, const struct gl_opt *o, const char *value, struct gl_err *why)
{
    char *field = (char *)cfg + o->off;
    uint64_t v;

    if (o->kind == GL_OPT_KIND_FLAG) {
        if (value != NULL && strcmp(value, "true") != 0 && strcmp(value, "1") != 0)
            return gl_err_set(why, GL_EPARSE, 0, "%s takes no value (or \"true\")",
                              o->name);
        *(int *)field = 1;
        return 0;
    }
    if (value == NULL)
        return gl_err_set(why, GL_EPARSE, 0, "%s needs a value", o->name);
    if (o->kind == GL_OPT_KIND_STR) {
        if (strlen(value) >= o->size || value[0] == 0)
            return gl_err_set(why, GL_EPARSE, 0, "%s: empty or longer than %zu bytes",
                              o->name, o->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return 0;
    }
    if (gl_parse_u64(value, strlen(value), &v) != 0 || v < o->min || v > o->max)
        return gl_err_set(why, GL_EPARSE, 0,
                          "%s must be a whole number from %u to %u, not \"%.64s\"",
                          o->name, o->min, o->max, value);
    *(unsigned *)field = (unsigned)v;
    return 0;
}

/* One "key value" line (NUL-terminated, trimmed, not blank) of a config
 * file, number `line`. seen[i]: the line that set setting i (0: none); a
 * second one is refused. */
static int text_line(const struct gl_opts *t, void *cfg, char *p, size_t line,
                     size_t *seen, struct gl_err *why)
{
    const struct gl_opt *o;
    char *key = p, *val;
    size_t i;

    p += strcspn(p, " \t=");
    val = p;
    if (*p != 0) {
        *p++ = 0;
        val = p + strspn(p, " \t=");
    }
    if ((o = find(t, key, strlen(key))) == NULL)
        return gl_err_set(why, GL_EPARSE, 0, "unknown setting \"%.64s\"", key);
    /* "#" starts a comment only at the start of a line: one after a
     * value would silently become part of it (a directory "B # backups") */
    for (const char *h = strchr(val, '#'); h != NULL; h = strchr(h + 1, '#'))
        if (h > val && (h[-1] == ' ' || h[-1] == '\t'))
            return gl_err_set(why, GL_EPARSE, 0,
                              "%s: a \"#\" after the value: a comment takes a line of "
                              "its own",
                              o->name);
    i = (size_t)(o - t->v);
    if (seen[i] != 0)
        return gl_err_set(why, GL_EPARSE, 0, "%s given twice (lines %zu and %zu)",
                          o->name, seen[i], line);
    seen[i] = line;
    return set(cfg, o, *val ? val : NULL, why);
}

int gl_opts_text(const struct gl_opts *t, const char *text, size_t len, void *cfg,
                 struct gl_err *why)
{
    char line[GL_OPTS_LINE_MAX + 1];
    struct gl_text tx;
    const char *s;
    size_t n, *seen;
    int rc;

    if (len > GL_OPTS_FILE_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "larger than %u bytes", GL_OPTS_FILE_MAX);
    if ((seen = calloc(t->n + 1, sizeof(*seen))) == NULL)
        return gl_err_set(why, GL_ENOMEM, 0, "out of memory");
    gl_text_init(&tx, text, len,
                 GL_TEXT_OPEN_END | GL_TEXT_CR | GL_TEXT_TRIM_START | GL_TEXT_TRIM_END |
                     GL_TEXT_SKIP);
    tx.max = sizeof(line) - 1;
    while ((rc = gl_text_line(&tx, &s, &n)) == 0) {
        for (size_t i = 0; i < n && rc == 0; i++)
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
                rc = gl_err_set(why, GL_EPARSE, tx.line,
                                "a control character (byte 0x%02x)", (unsigned char)s[i]);
        if (rc != 0)
            goto out;
        memcpy(line, s, n);
        line[n] = 0;
        if ((rc = text_line(t, cfg, line, tx.line, seen, why)) != 0) {
            if (why != NULL)
                why->line = tx.line;
            goto out;
        }
    }
    if (rc == GL_ETOOBIG)
        rc = gl_err_set(why, rc, tx.line, "line longer than %zu bytes", tx.max);
    else
        rc = 0;
out:
    free(seen);
    return rc;
}

static int listed(const char *const *names, const char *name)
{
    for (; *names != NULL; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

static int same(const struct gl_opt *o, const void *a, const void *b)
{
    const char *fa = (const char *)a + o->off, *fb = (const char *)b + o->off;

    if (o->kind == GL_OPT_KIND_STR)
        return strcmp(fa, fb) == 0;
    return memcmp(fa, fb, o->size) == 0;
}

/* Appends "<sep>name" to why (*len bytes used so far, may pass why_len:
 * then only counted). */
static void add_name(char *why, size_t why_len, size_t *len, const char *sep,
                     const char *name)
{
    size_t at = *len < why_len ? *len : why_len;

    *len += (size_t)snprintf(why + at, why_len - at, "%s%s", sep, name);
}

int gl_opts_reload_check(const struct gl_opts *t, const void *cur, const void *next,
                         const char *const *reloadable, char *why, size_t why_len)
{
    size_t n = 0, len = 0;

    for (size_t i = 0; i < t->n; i++) {
        const struct gl_opt *o = &t->v[i];
        if (!listed(reloadable, o->name) && !same(o, cur, next))
            add_name(why, why_len, &len, n++ ? ", " : "", o->name);
    }
    if (n == 0)
        return 0;
    add_name(why, why_len, &len, " changed: only a restart applies ",
             n > 1 ? "them" : "it");
    return GL_ESTATE;
}

static int read_file(const struct gl_opts *t, void *cfg, const char *path)
{
    char msg[2048];
    struct gl_err why;
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, GL_OPTS_FILE_MAX);
    if ((rc = gl_file_read(path, &b)) != 0) {
        fprintf(stderr, "%s: cannot read config file %s: %s\n", t->prog, path,
                rc == GL_ETOOBIG ? "too large" : strerror(errno));
        gl_buf_release(&b);
        return -1;
    }
    rc = gl_opts_text(t, b.data != NULL ? (const char *)b.data : "", b.len, cfg, &why);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", t->prog, gl_err_format(&why, path, msg, sizeof(msg)));
    gl_buf_release(&b);
    return rc != 0 ? -1 : 0;
}

/* A flag's value, reported on stderr when refused. */
static int set_flag(const struct gl_opts *t, void *cfg, const struct gl_opt *o,
                    const char *value)
{
    struct gl_err why;

    if (set(cfg, o, value, &why) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", t->prog, why.reason);
    return -1;
}

/* Refuses a flag given a second time (given[i]: setting i was). */
static int once(const struct gl_opts *t, const struct gl_opt *o, unsigned char *given)
{
    size_t i = (size_t)(o - t->v);

    if (!given[i]) {
        given[i] = 1;
        return 0;
    }
    fprintf(stderr, "%s: --%s given twice\n", t->prog, o->name);
    return -1;
}

/* The file named by a --config at argv[*i] ("--config FILE", *i then
 * moved to FILE, or "--config=FILE"): "" if FILE is missing; NULL if
 * argv[*i] is not --config. */
static const char *config_file(int argc, char **argv, int *i)
{
    const char *f = NULL;

    if (gl_str_prefix(argv[*i], "--config="))
        return argv[*i] + strlen("--config=");
    if (strcmp(argv[*i], "--config") != 0)
        return NULL;
    if (*i + 1 < argc)
        f = argv[++*i];
    return f != NULL ? f : "";
}

/* gl_opts_parse with the flags given so far in given. */
static int parse_args(const struct gl_opts *t, int argc, char **argv, void *cfg,
                      unsigned char *given)
{
    const char *file = NULL, *f;

    set_defaults(t, cfg);
    for (int i = 1; i < argc; i++) { /* --config first, so flags win */
        if ((f = config_file(argc, argv, &i)) == NULL)
            continue;
        if (*f == 0) {
            fprintf(stderr, "%s: --config needs a file\n", t->prog);
            return -1;
        }
        if (file != NULL) {
            fprintf(stderr, "%s: --config given twice\n", t->prog);
            return -1;
        }
        file = f;
    }
    if (file != NULL && read_file(t, cfg, file) != 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq;
        const struct gl_opt *o;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            gl_opts_usage(t, stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", t->prog, t->version);
            return 1;
        }
        if (config_file(argc, argv, &i) != NULL)
            continue;
        if (!gl_str_prefix(a, "--")) {
            fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n", t->prog, a);
            return -1;
        }
        eq = strchr(a + 2, '=');
        if ((o = find(t, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2))) == NULL) {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", t->prog, a);
            return -1;
        }
        if (once(t, o, given) != 0 || set_flag(t, cfg, o,
                                               eq                            ? eq + 1
                                               : o->kind == GL_OPT_KIND_FLAG ? NULL
                                               : i + 1 < argc                ? argv[++i]
                                                                             : NULL) != 0)
            return -1;
    }
    return 0;
}

int gl_opts_parse(const struct gl_opts *t, int argc, char **argv, void *cfg)
{
    unsigned char *given = calloc(t->n + 1, 1);
    int rc;

    if (given == NULL) {
        fprintf(stderr, "%s: out of memory\n", t->prog);
        return -1;
    }
    rc = parse_args(t, argc, argv, cfg, given);
    free(given);
    return rc;
}
