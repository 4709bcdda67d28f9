/*
 * options: one table of settings per daemon, from which come its command
 * line flags, its config file (--config FILE, "key value" lines, "#"
 * comments; flags win) and its --help, with every default written once,
 * in the table. Each entry names a field of the program's settings struct
 * (offsetof): a char buffer (string), an unsigned (whole number in a
 * range) or an int (flag). Anything unknown, out of range or too long is
 * an error naming the setting (and the file and line), printed on stderr
 * as "PROG: ...".
 *
 * Adding a setting is one line in the program's table, e.g.
 *     GL_OPT_UINT("batch-ms", struct config, batch_ms, 0, 10000, 5, "MS",
 *                 "cut a batch this many ms after its first entry"),
 * plus the field in the struct; checks across settings stay in the
 * program.
 */
#ifndef GL_NET_OPTIONS_H
#define GL_NET_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "glasslog/error.h"

#define GL_OPTS_FILE_MAX (64u << 10) /* bytes of a config file */
#define GL_OPTS_LINE_MAX 2048u       /* bytes of one of its lines */

enum gl_opt_kind { GL_OPT_KIND_STR, GL_OPT_KIND_UINT, GL_OPT_KIND_FLAG };

struct gl_opt {
    const char *name; /* "batch-ms": flag --batch-ms, file key batch-ms */
    enum gl_opt_kind kind;
    size_t off, size;    /* the field; size: a string buffer's bytes */
    unsigned min, max;   /* whole numbers: the range */
    unsigned def_uint;   /* whole numbers: the default */
    const char *def_str; /* strings: the default, or NULL (empty) */
    const char *arg;     /* the value's name in --help, e.g. "DIR" */
    const char *help;    /* one line, without the default */
};

/* A string setting: field is a char array of type T. def may be NULL. */
#define GL_OPT_STR(name, T, field, def, arg, help)                                       \
    {                                                                                    \
        name, GL_OPT_KIND_STR, offsetof(T, field), sizeof(((T *)0)->field), 0, 0, 0,     \
            def, arg, help                                                               \
    }
/* A whole number in [lo, hi] with default def: field is unsigned. */
#define GL_OPT_UINT(name, T, field, lo, hi, def, arg, help)                              \
    {                                                                                    \
        name, GL_OPT_KIND_UINT, offsetof(T, field), sizeof(unsigned), lo, hi, def, NULL, \
            arg, help                                                                    \
    }
/* A flag (no value; "true" or "1" in a file): field is an int, default 0. */
#define GL_OPT_FLAG(name, T, field, help)                                                \
    {                                                                                    \
        name, GL_OPT_KIND_FLAG, offsetof(T, field), sizeof(int), 0, 0, 0, NULL, NULL,    \
            help                                                                         \
    }

/* A program's table. */
struct gl_opts {
    const char *prog;    /* "glasslogd", for messages and --version */
    const char *version; /* printed by --version */
    const char *usage;   /* the --help text before the options */
    const struct gl_opt *v;
    size_t n;
};

/* Fills cfg (the struct the table describes): defaults, then the file of
 * --config FILE (or --config=FILE; at most one), then the flags ("--name value",
 * "--name=value"). 0 to run; 1 after answering --help/-h or --version on stdout; -1 after
 * printing the error on stderr. */
int gl_opts_parse(const struct gl_opts *t, int argc, char **argv, void *cfg);

/* Applies a config file's text (len bytes, at most GL_OPTS_FILE_MAX) over
 * what *cfg holds: "key value" lines ("=" may separate), "#" comments,
 * blank lines. 0, or a negative code with *why (if not NULL) naming the
 * line and what was wrong; cfg may then be partly updated. */
int gl_opts_text(const struct gl_opts *t, const char *text, size_t len, void *cfg,
                 struct gl_err *why);
/* A reload (SIGHUP) reads the settings again as the start did (the
 * config file with the command line, which wins) into next and compares
 * them with cur, the settings in use: a setting named in reloadable (a
 * NULL-terminated list of the settings the program's reload applies, and
 * of the start-up actions, like --create, that it ignores) may differ;
 * any other needs a restart. 0 if none other differs; else GL_ESTATE with
 * why (NUL-terminated, cut to why_len) naming every one that does, e.g.
 * "listen, data changed: only a restart applies them". */
int gl_opts_reload_check(const struct gl_opts *t, const void *cur, const void *next,
                         const char *const *reloadable, char *why, size_t why_len);
/* Prints the usage text and one line per setting ("--name ARG  help
 * (default X)"), then --config and --help. */
void gl_opts_usage(const struct gl_opts *t, FILE *f);

#endif
