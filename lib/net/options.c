/*
 * options: see options.h. Values are checked with the core's parsers
 * (gl_parse_u64: canonical decimal, no sign, no spaces, no suffix), so
 * "10x", "-1", " 5" and "" are refused. A config file is read whole
 * (OPTS_FILE_MAX bytes) and cut with lib/text.h; a line longer than
 * OPTS_LINE_MAX - 1 bytes is refused.
 *
 * Invariant: a string field always holds a NUL-terminated value shorter
 * than its buffer (checked before copying).
 */
#include "options.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "file.h"
#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "text.h"

#define OPTS_FILE_MAX (1 << 20)
#define OPTS_LINE_MAX 2048

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
static int set(const struct gl_opts *t, void *cfg, const struct gl_opt *o, const char *value)
{
    char *field = (char *)cfg + o->off;
    uint64_t v;

    if (o->kind == GL_OPT_KIND_FLAG) {
        if (value != NULL && strcmp(value, "true") != 0 && strcmp(value, "1") != 0) {
            fprintf(stderr, "%s: %s takes no value (or \"true\")\n", t->prog, o->name);
            return -1;
        }
        *(int *)field = 1;
        return 0;
    }
    if (value == NULL) {
        fprintf(stderr, "%s: --%s needs a value\n", t->prog, o->name);
        return -1;
    }
    if (o->kind == GL_OPT_KIND_STR) {
        if (strlen(value) >= o->size || value[0] == 0) {
            fprintf(stderr, "%s: %s: empty or longer than %zu bytes\n", t->prog, o->name,
                    o->size - 1);
            return -1;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    }
    if (gl_parse_u64(value, strlen(value), &v) != 0 || v < o->min || v > o->max) {
        fprintf(stderr, "%s: %s must be a whole number from %u to %u, not \"%s\"\n", t->prog,
                o->name, o->min, o->max, value);
        return -1;
    }
    *(unsigned *)field = (unsigned)v;
    return 0;
}

/* One "key value" line (NUL-terminated, trimmed, not blank) of a config
 * file. */
static int file_line(const struct gl_opts *t, void *cfg, char *p, const char *path,
                     size_t lineno)
{
    const struct gl_opt *o;
    char *key = p, *val;

    p += strcspn(p, " \t=");
    val = p;
    if (*p != 0) {
        *p++ = 0;
        val = p + strspn(p, " \t=");
    }
    if ((o = find(t, key, strlen(key))) == NULL) {
        fprintf(stderr, "%s: %s:%zu: unknown setting \"%s\"\n", t->prog, path, lineno, key);
        return -1;
    }
    if (set(t, cfg, o, *val ? val : NULL) != 0) {
        fprintf(stderr, "%s: (in %s:%zu)\n", t->prog, path, lineno);
        return -1;
    }
    return 0;
}

static int read_file(const struct gl_opts *t, void *cfg, const char *path)
{
    char line[OPTS_LINE_MAX];
    struct gl_text tx;
    struct gl_buf b;
    const char *s;
    size_t n;
    int rc;

    gl_buf_init(&b, OPTS_FILE_MAX);
    if ((rc = gl_file_read(path, &b)) != 0) {
        fprintf(stderr, "%s: cannot read config file %s: %s\n", t->prog, path,
                rc == GL_ETOOBIG ? "larger than 1 MiB" : strerror(errno));
        gl_buf_release(&b);
        return -1;
    }
    gl_text_init(&tx, (const char *)b.data, b.len,
                 GL_TEXT_OPEN_END | GL_TEXT_CR | GL_TEXT_TRIM_START | GL_TEXT_TRIM_END |
                     GL_TEXT_SKIP);
    tx.max = sizeof(line) - 1;
    while ((rc = gl_text_line(&tx, &s, &n)) == 0) {
        if (memchr(s, 0, n) != NULL) {
            fprintf(stderr, "%s: %s:%zu: not text (a NUL byte)\n", t->prog, path, tx.line);
            break;
        }
        memcpy(line, s, n);
        line[n] = 0;
        if (file_line(t, cfg, line, path, tx.line) != 0)
            break;
    }
    if (rc == GL_ETOOBIG)
        fprintf(stderr, "%s: %s:%zu: line longer than %zu bytes\n", t->prog, path, tx.line,
                tx.max);
    gl_buf_release(&b);
    return rc == GL_ENOTFOUND ? 0 : -1;
}

int gl_opts_parse(const struct gl_opts *t, int argc, char **argv, void *cfg)
{
    set_defaults(t, cfg);
    for (int i = 1; i < argc; i++) /* --config first, so flags win */
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: --config needs a file\n", t->prog);
                return -1;
            }
            if (read_file(t, cfg, argv[++i]) != 0)
                return -1;
        }
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
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n", t->prog, a);
            return -1;
        }
        eq = strchr(a + 2, '=');
        if ((o = find(t, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2))) == NULL) {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", t->prog, a);
            return -1;
        }
        if (set(t, cfg, o,
                eq                          ? eq + 1
                : o->kind == GL_OPT_KIND_FLAG ? NULL
                : i + 1 < argc              ? argv[++i]
                                            : NULL) != 0)
            return -1;
    }
    return 0;
}
