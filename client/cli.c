/*
 * cli: shared helpers for glasslog subcommands; see cli.h. Every failure is
 * reported once, here, with the file or argument that caused it.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "glasslog/error.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("glasslog: ", stderr);
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_err(const char *where, const struct gl_err *e)
{
    char msg[GL_ERR_REASON_MAX + 4200];

    cli_error("%s", gl_err_format(e, where, msg, sizeof(msg)));
}

int cli_parse_opts(int argc, char **argv, const struct option *opts, const char *usage,
                   cli_take_fn take_opt, void *ctx)
{
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        if (c == '?') {
            fputs(usage, stderr);
            return -1;
        }
        if (take_opt(ctx, c, optarg) != 0)
            return -1;
    }
    return 0;
}

int cli_read_file(const char *path, struct gl_buf *out)
{
    int err = gl_file_read(path, out);

    if (err == GL_ETOOBIG)
        cli_error("%s: %s (limit %zu bytes)", path, gl_strerror(err), out->max);
    else if (err != 0)
        cli_error("cannot read %s: %s", path, strerror(errno));
    return err;
}

int cli_write_new_file(const char *path, const void *data, size_t n, int mode)
{
    int err = gl_file_publish_new(path, data, n, mode);

    if (err != 0)
        cli_error("cannot create %s: %s", path,
                  err == GL_EEXIST ? "it exists" : strerror(errno));
    return err;
}

int cli_load_signer(const char *path, struct gl_signer *out)
{
    struct gl_err why;
    struct gl_buf b;
    int err;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    if ((err = cli_read_file(path, &b)) != 0)
        goto out;
    if ((err = gl_signer_parse((const char *)b.data, b.len, out, &why)) != 0) {
        gl_err_wrap(&why, err, 0, "not a valid private key");
        cli_err(path, &why);
    } else if (gl_file_exposed(path)) {
        cli_error("warning: the private key %s can be read by other users (group or "
                  "others have access): chmod 600 it",
                  path);
    }
out:
    gl_buf_release(&b);
    return err;
}

int cli_load_verifier(const char *arg, struct gl_verifier *out)
{
    struct gl_err why;
    struct gl_buf b;
    const char *text = arg;
    size_t n = strlen(arg);
    int err = 0;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    if (arg[0] == '@') {
        if ((err = cli_read_file(arg + 1, &b)) != 0)
            goto out;
        text = (const char *)b.data;
        n = b.len;
    }
    if ((err = gl_verifier_parse(text, n, out, &why)) != 0) {
        struct stat sb;
        /* the likeliest slip: a key file's name without its "@" */
        gl_err_wrap(
            &why, err, 0,
            arg[0] != '@' && stat(arg, &sb) == 0
                ? "not a valid verifier key (a file: give @FILE for the key in it)"
                : "not a valid verifier key");
        /* never echo a private key given by mistake */
        cli_err(strncmp(arg, "PRIVATE+KEY+", 12) == 0 ? "a private key (not shown)" : arg,
                &why);
    }
out:
    gl_buf_release(&b);
    return err;
}
