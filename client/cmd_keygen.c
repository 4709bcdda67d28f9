/*
 * cmd_keygen: `glasslog keygen --name NAME --out FILE [--cosigner]`.
 * Writes FILE (mode 0600: the signer key and "\n") and FILE.pub (the
 * verifier key and "\n"). Refuses to overwrite either: both paths are
 * created with O_EXCL, and FILE is removed again if FILE.pub cannot be made.
 */
#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "glasslog/error.h"

static const char keygen_usage[] =
    "usage: glasslog keygen --name NAME --out FILE [--cosigner]\n"
    "\n"
    "Generates an Ed25519 key pair. FILE gets the private key\n"
    "(PRIVATE+KEY+NAME+ID+..., mode 0600), FILE.pub the verifier key.\n"
    "Existing files are never overwritten.\n"
    "  --name NAME   key name: for a log, its origin (e.g. example.com/log)\n"
    "  --out FILE    where to write the private key\n"
    "  --cosigner    a witness cosigning key (tlog-cosignature, type 0x04)\n"
    "                instead of a note signing key (type 0x01)\n";

/* Formats k's signer and verifier strings (each with "\n") into sk, vk. */
static int keygen_format(const struct gl_signer *k, struct gl_buf *sk, struct gl_buf *vk)
{
    struct gl_verifier v;
    int err;

    gl_signer_verifier(k, &v);
    if ((err = gl_signer_format(k, sk)) != 0 || (err = gl_buf_putc(sk, '\n')) != 0 ||
        (err = gl_verifier_format(&v, vk)) != 0 || (err = gl_buf_putc(vk, '\n')) != 0)
        cli_error("cannot format key: %s", gl_strerror(err));
    return err;
}

static int keygen_write(const char *out, const struct gl_buf *sk, const struct gl_buf *vk)
{
    struct gl_buf pub;
    int err;

    gl_buf_init(&pub, 4096);
    if ((err = gl_buf_printf(&pub, "%s.pub", out)) != 0) {
        cli_error("--out path too long");
        goto out;
    }
    if (access(out, F_OK) == 0 || access((char *)pub.data, F_OK) == 0) {
        cli_error("refusing to overwrite %s or %s", out, (char *)pub.data);
        err = GL_EEXIST;
        goto out;
    }
    if ((err = cli_write_new_file(out, sk->data, sk->len, 0600)) != 0)
        goto out;
    if ((err = cli_write_new_file((char *)pub.data, vk->data, vk->len, 0644)) != 0)
        unlink(out);
out:
    gl_buf_release(&pub);
    return err;
}

/* keygen's options (the strings point into argv). */
struct keygen_opts {
    const char *name, *out;
    uint8_t type; /* GL_KEY_NOTE, or GL_KEY_COSIG with --cosigner */
};

/* Takes one option of keygen (a cli_take_fn; ctx: the keygen_opts). */
static int keygen_take(void *ctx, int c, const char *arg)
{
    struct keygen_opts *o = ctx;

    if (c == 'n')
        o->name = arg;
    else if (c == 'o')
        o->out = arg;
    else {
        assert(c == 'c');
        o->type = GL_KEY_COSIG;
    }
    return 0;
}

int cmd_keygen_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"cosigner", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct keygen_opts o = {NULL, NULL, GL_KEY_NOTE};
    const char *name, *out;
    struct gl_signer k;
    struct gl_buf sk, vk;
    int rc = cli_parse_opts(argc, argv, opts, keygen_usage, keygen_take, &o);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = CLI_USAGE;
    name = o.name;
    out = o.out;
    if (name == NULL || out == NULL || optind != argc) {
        cli_error("keygen needs --name and --out, and no other arguments");
        fputs(keygen_usage, stderr);
        return CLI_USAGE;
    }
    if (!gl_key_name_valid(name, strlen(name))) {
        struct gl_err why; /* quotes the name without its control bytes */
        gl_err_set(&why, GL_EINVAL, 0,
                   "invalid key name '%s': it must be non-empty, at most %d bytes, "
                   "UTF-8, with no spaces, no '+' and no control characters",
                   name, GL_KEY_NAME_MAX);
        cli_err(NULL, &why);
        return CLI_USAGE;
    }
    gl_buf_init(&sk, GL_KEY_TEXT_MAX);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    if (gl_signer_generate(name, o.type, &k) != 0) {
        cli_error("key generation failed");
        goto out;
    }
    if (keygen_format(&k, &sk, &vk) == 0 && keygen_write(out, &sk, &vk) == 0) {
        fputs((char *)vk.data, stdout);
        rc = CLI_OK;
    }
out:
    gl_signer_wipe(&k);
    gl_buf_release(&sk);
    gl_buf_release(&vk);
    return rc;
}
