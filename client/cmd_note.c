/*
 * cmd_note: `glasslog note sign` and `glasslog note verify`, the signed-note
 * tools, interchangeable with Go's sumdb/note. verify prints exactly the
 * note text on stdout and only diagnostics on stderr; it exits 0 when the
 * note verified and 1 otherwise (usage errors included), so scripts can
 * test it with a plain if.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "glasslog/error.h"
#include "glasslog/note.h"

#define NOTE_MAX_VKEYS 64

static const char note_usage[] =
    "usage: glasslog note sign --key FILE [IN]\n"
    "       glasslog note verify --vkey VKEY [--vkey VKEY...] [IN]\n"
    "\n"
    "sign: signs the note text read from IN (default stdin; it must end\n"
    "  with a newline) with the note key in FILE; writes the note to stdout.\n"
    "verify: checks the signed note read from IN (default stdin) against\n"
    "  the given verifier keys (key string or @FILE). Signatures by other\n"
    "  keys are ignored; a bad signature by a given key fails. On success\n"
    "  prints the note text to stdout and exits 0; otherwise exits 1.\n";

/* Takes --key FILE (a cli_take_fn; ctx: where the file name goes). */
static int sign_take(void *ctx, int c, const char *arg)
{
    (void)c;
    *(const char **)ctx = arg;
    return 0;
}

static int note_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *keyfile = NULL, *in = "-";
    struct gl_signer k;
    struct gl_buf text, out;
    struct gl_err why;
    int err, rc = cli_parse_opts(argc, argv, opts, note_usage, sign_take, &keyfile);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = CLI_USAGE;
    if (keyfile == NULL || argc - optind > 1) {
        cli_error("note sign needs --key FILE and at most one input file");
        return CLI_USAGE;
    }
    if (optind < argc)
        in = argv[optind];
    if (cli_load_signer(keyfile, &k) != 0)
        return CLI_USAGE;
    gl_buf_init(&text, GL_NOTE_MAX_SIZE);
    gl_buf_init(&out, 2 * GL_NOTE_MAX_SIZE);
    if (k.type != GL_KEY_NOTE) {
        cli_error("%s is a witness cosigning key; it cannot sign notes", keyfile);
        goto out;
    }
    if (cli_read_file(in, &text) != 0)
        goto out;
    if (gl_note_text_check((char *)text.data, text.len, &why) != 0) {
        gl_err_wrap(&why, GL_EPARSE, 0, "not note text");
        cli_err(in, &why);
        goto out;
    }
    if ((err = gl_note_sign((char *)text.data, text.len, &k, 1, &out)) != 0) {
        cli_error("signing failed: %s", gl_strerror(err));
        goto out;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        cli_error("cannot write the note to stdout");
        goto out;
    }
    rc = CLI_OK;
out:
    gl_signer_wipe(&k);
    gl_buf_release(&text);
    gl_buf_release(&out);
    return rc;
}

/* Explains why verification of a parsed note failed; flags as set by
 * gl_note_verify. */
static void note_explain(const struct gl_note *n, const uint8_t *flags, size_t nkeys,
                         int err)
{
    if (err == GL_ENOKEY) {
        cli_error("not verified: no signature by any of the %zu given key(s) "
                  "(the note has %zu signature(s))",
                  nkeys, n->nsigs);
        return;
    }
    for (size_t i = 0; i < n->nsigs; i++) {
        if (flags[i] == 2) {
            cli_error("not verified: bad signature by %.*s", (int)n->sigs[i].name_len,
                      n->sigs[i].name);
            return;
        }
    }
    cli_error("not verified: %s", gl_strerror(err));
}

/* The --vkey keys of note verify. */
struct vkeys {
    struct gl_verifier *v; /* NOTE_MAX_VKEYS of them */
    size_t n;
};

/* Takes --vkey VKEY (a cli_take_fn; ctx: the vkeys). */
static int verify_take(void *ctx, int c, const char *arg)
{
    struct vkeys *k = ctx;

    (void)c;
    if (k->n == NOTE_MAX_VKEYS) {
        cli_error("too many --vkey options (at most %d)", NOTE_MAX_VKEYS);
        return GL_ETOOBIG;
    }
    if (cli_load_verifier(arg, &k->v[k->n]) != 0)
        return GL_EINVAL;
    if (k->v[k->n].type != GL_KEY_NOTE)
        cli_error("warning: %s is a cosignature key; it never verifies notes",
                  k->v[k->n].name);
    k->n++;
    return 0;
}

static int note_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vkey", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gl_verifier keys[NOTE_MAX_VKEYS];
    uint8_t flags[GL_NOTE_MAX_SIGS];
    const char *in = "-";
    struct gl_note *n = NULL;
    struct gl_err why;
    struct gl_buf msg;
    struct vkeys vk = {keys, 0};
    int err, rc = cli_parse_opts(argc, argv, opts, note_usage, verify_take, &vk);

    if (rc != 0)
        return rc > 0 ? CLI_OK : 1;
    rc = 1;
    if (vk.n == 0 || argc - optind > 1) {
        cli_error("note verify needs at least one --vkey and at most one input file");
        return 1;
    }
    if (optind < argc)
        in = argv[optind];
    gl_buf_init(&msg, GL_NOTE_MAX_SIZE);
    if (cli_read_file(in, &msg) != 0)
        goto out;
    if ((err = gl_note_parse((char *)msg.data, msg.len, &n, &why)) != 0) {
        gl_err_wrap(&why, err, 0, "not a valid signed note");
        cli_err(in, &why);
        goto out;
    }
    if ((err = gl_note_verify(n, keys, vk.n, flags)) != 0) {
        note_explain(n, flags, vk.n, err);
        goto out;
    }
    if (fwrite(n->text, 1, n->text_len, stdout) != n->text_len || fflush(stdout) != 0) {
        cli_error("cannot write the text to stdout");
        goto out;
    }
    rc = CLI_OK;
out:
    gl_note_free(n);
    gl_buf_release(&msg);
    return rc;
}

int cmd_note_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sign") == 0)
        return note_sign(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return note_verify(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(note_usage, stdout);
        return CLI_OK;
    }
    cli_error("note needs a subcommand: sign or verify");
    fputs(note_usage, stderr);
    return CLI_USAGE;
}
