/*
 * cmd_evidence: `glasslog evidence verify --log-vkey VKEY FILE`, the
 * independent check of a split-view evidence file (specs/evidence.md)
 * that any witness, monitor or customer can run with the log's public key
 * alone. It prints what the file proves in plain words and exits 0 only
 * when it proves that the log signed two inconsistent trees with one key
 * (one public key verifies both checkpoints: the keys given may be of two
 * logs whose keys share a name, and a name and a 32-bit key ID do not
 * tell keys apart), and names that key; 2 when the
 * file is valid but consistent (nothing proven) or invalid; 3 on usage or
 * I/O errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/evidence.h"

#define EVIDENCE_MAX_VKEYS 16

static const char evidence_usage[] =
    "usage: glasslog evidence verify --log-vkey VKEY [--log-vkey VKEY...] FILE\n"
    "\n"
    "Checks a split-view evidence file (two checkpoints signed by one log and,\n"
    "for different sizes, a consistency proof) with the log's verifier key(s)\n"
    "(key string or @FILE; several during a key rotation) and explains what\n"
    "it proves. Exit 0: it proves the log signed two inconsistent trees (a\n"
    "split view) with one key, which it names. Exit 2: it proves nothing\n"
    "(consistent, invalid, or the two signed by different keys).\n"
    "Exit 3: usage or I/O error. FILE may be - for stdin.\n";

static void print_root(const char *label, uint64_t size, const uint8_t root[GL_HASH_LEN])
{
    char hex[GL_HASH_HEX_LEN + 1];

    gl_hex_encode(root, GL_HASH_LEN, hex, sizeof(hex));
    printf("  %s size %llu, root %s\n", label, (unsigned long long)size, hex);
}

/* Prints what r proves; with proven, names keys[r->key], the key that
 * signed both checkpoints (r->key_id says only which key's signature came
 * first on each). */
static void explain(const char *path, const struct gl_evidence_result *r, int proven,
                    const struct gl_verifier *keys)
{
    char why[GL_ERR_REASON_MAX + 4200];

    if (!proven) {
        printf("%s: %s\n", r->consistent ? "NO SPLIT VIEW" : "INVALID EVIDENCE",
               r->why.line != 0 ? gl_err_format(&r->why, path, why, sizeof(why))
                                : r->why.reason);
        if (r->origin[0] != 0)
            printf("  log %s\n", r->origin);
        return;
    }
    printf("SPLIT VIEW PROVEN: log %s: %s.\n", r->origin, r->why.reason);
    printf("  both signed by the key %s+%08x%s\n", keys[r->key].name,
           (unsigned)keys[r->key].id,
           strcmp(keys[r->key].name, r->origin) != 0 ? " (not the origin's name)" : "");
    print_root("checkpoint 1:", r->size[0], r->root[0]);
    print_root("checkpoint 2:", r->size[1], r->root[1]);
    if (r->kind == GL_EVIDENCE_NOT_PREFIX)
        print_root("the proof shows tree 2's first entries have:", r->size[0],
                   r->implied);
    printf("Both checkpoints carry valid signatures by the log key. An honest log\n"
           "never signs two trees that are not prefixes of one another: it showed\n"
           "different histories to different parties.\n");
}

/* The --log-vkey keys of evidence verify. */
struct log_keys {
    struct gl_verifier *v; /* EVIDENCE_MAX_VKEYS of them */
    size_t n;
};

/* Takes --log-vkey VKEY, a log's (note) key (a cli_take_fn; ctx: the
 * log_keys). */
static int log_key_take(void *ctx, int c, const char *arg)
{
    struct log_keys *k = ctx;

    (void)c;
    if (k->n == EVIDENCE_MAX_VKEYS) {
        cli_error("at most %d --log-vkey options", EVIDENCE_MAX_VKEYS);
        return GL_ETOOBIG;
    }
    if (cli_load_verifier(arg, &k->v[k->n]) != 0)
        return GL_EINVAL;
    if (k->v[k->n++].type != GL_KEY_NOTE) {
        cli_error("%s is a witness key; give the log's (note) key", arg);
        return GL_EINVAL;
    }
    return 0;
}

static int evidence_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log-vkey", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gl_verifier keys[EVIDENCE_MAX_VKEYS];
    struct gl_evidence *e = NULL;
    struct gl_evidence_result r;
    struct gl_err why;
    char msg[GL_ERR_REASON_MAX + 4200];
    struct gl_buf file;
    struct log_keys lk = {keys, 0};
    int err, rc = cli_parse_opts(argc, argv, opts, evidence_usage, log_key_take, &lk);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = CLI_USAGE;
    if (lk.n == 0 || argc - optind != 1) {
        cli_error("evidence verify needs --log-vkey VKEY and one FILE");
        return CLI_USAGE;
    }
    gl_buf_init(&file, GL_EVIDENCE_MAX_SIZE);
    if (cli_read_file(argv[optind], &file) != 0 || (e = calloc(1, sizeof(*e))) == NULL)
        goto out;
    rc = CLI_VERIFY;
    if ((err = gl_evidence_parse((const char *)file.data, file.len, e, &why)) != 0) {
        gl_err_wrap(&why, err, 0, "not a glasslog evidence file");
        printf("INVALID EVIDENCE: %s\n",
               gl_err_format(&why, argv[optind], msg, sizeof(msg)));
        goto out;
    }
    err = gl_evidence_verify(e, keys, lk.n, &r);
    if (err != 0 && err != GL_EVERIFY) {
        cli_error("cannot check the evidence: %s", gl_strerror(err));
        rc = CLI_USAGE;
        goto out;
    }
    if (err == 0 && !r.one_key) {
        /* keys of one name, given together, may be two logs' */
        err =
            gl_err_set(&r.why, GL_EVERIFY, 0,
                       "no one key verifies both checkpoints: the first is signed by "
                       "the key %s+%08x, the second by %s+%08x; nothing shows that "
                       "keys of one name are one log's",
                       r.signer, (unsigned)r.key_id[0], r.signer, (unsigned)r.key_id[1]);
    }
    explain(argv[optind], &r, err == 0, keys);
    rc = err == 0 ? CLI_OK : CLI_VERIFY;
out:
    free(e);
    gl_buf_release(&file);
    return rc;
}

int cmd_evidence_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return evidence_verify(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(evidence_usage, stdout);
        return CLI_OK;
    }
    fputs(evidence_usage, stderr);
    return CLI_USAGE;
}
