/*
 * cli: shared helpers for glasslog subcommands; see cli.h. Every failure is
 * reported once, here, with the file or argument that caused it.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "glasslog/error.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("glasslog: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_read_file(const char *path, struct gl_buf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[8192];
    size_t got;
    int err = 0;

    if (f == NULL) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return GL_EIO;
    }
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if ((err = gl_buf_append(out, chunk, got)) != 0) {
            cli_error("%s: %s (limit %zu bytes)", path, gl_strerror(err), out->max);
            goto out;
        }
    }
    if (ferror(f)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        err = GL_EIO;
    }
out:
    if (f != stdin)
        fclose(f);
    return err;
}

int cli_write_new_file(const char *path, const void *data, size_t n, int mode)
{
    const char *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

    if (fd < 0) {
        cli_error("cannot create %s: %s", path, strerror(errno));
        return errno == EEXIST ? GL_EEXIST : GL_EIO;
    }
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    cli_error("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
    return GL_EIO;
}

int cli_load_signer(const char *path, struct gl_signer *out)
{
    struct gl_buf b;
    int err;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    if ((err = cli_read_file(path, &b)) != 0)
        goto out;
    if ((err = gl_signer_parse((const char *)b.data, b.len, out)) != 0)
        cli_error("%s: not a valid private key (%s)", path, gl_strerror(err));
out:
    gl_buf_release(&b);
    return err;
}

int cli_load_verifier(const char *arg, struct gl_verifier *out)
{
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
    if ((err = gl_verifier_parse(text, n, out)) != 0)
        cli_error("%s: not a valid verifier key (%s)", arg, gl_strerror(err));
out:
    gl_buf_release(&b);
    return err;
}
