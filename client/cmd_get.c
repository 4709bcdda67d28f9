/*
 * cmd_get: `glasslog get`, for people looking around a log. Prints what
 * the log serves, in readable form, checking only what needs no policy
 * (an entry's leaf hash, a tile's size, a bundle's framing); with
 * --policy, `get checkpoint` also verifies the checkpoint (stderr).
 *
 *   get checkpoint                     the signed checkpoint note, verbatim
 *   get entry N                        index, leaf hash, the statement
 *   get proof inclusion (--index I | --leaf-hash HEX) [--tree-size N]
 *   get proof consistency --first M --second N
 *                                      the proof's hashes, hex, one a line
 *   get tile PATH                      tile/<L>/<N>[.p/<W>]: "i hash" lines;
 *                                      tile/entries/<N>[.p/<W>]: the entries
 *
 * Everything printed comes from the log and is untrusted. When stdout is
 * a terminal, the text copied from the log (the checkpoint note, a
 * statement, bundle entries) goes through put_text, which shows control
 * bytes (C0 but newline and tab, DEL, and C1 as UTF-8 encodes them) and
 * bytes of invalid UTF-8 as \xHH: a log cannot send escape sequences to
 * the user's terminal (set its title, write its clipboard). Into a pipe or
 * file the bytes go verbatim, so a checkpoint or a bundle's entries can
 * be saved and used as served. Nothing else the log sent is echoed
 * unchecked: a leaf hash is shown once decoded as hex.
 *
 * Exit 0, 1 when the log has no such thing (404), 2 when what it sent
 * does not check out (also an entry answer for another index than N),
 * 3 usage, I/O or network errors.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd.h"
#include "fetch.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/note.h"
#include "glasslog/tile.h"
#include "text.h"
#include "trust.h"
#include "utf8.h"
#include "util.h"

#define JSON_MAX ((size_t)1 << 20)

static const char get_usage[] =
    "usage: glasslog get checkpoint --log URL [--policy FILE]\n"
    "       glasslog get entry N --log URL\n"
    "       glasslog get proof inclusion (--index I | --leaf-hash HEX)\n"
    "                 [--tree-size N] --log URL\n"
    "       glasslog get proof consistency --first M --second N --log URL\n"
    "       glasslog get tile PATH --log URL\n"
    "\n"
    "Prints what the log serves; PATH is a tile path such as tile/0/000 or\n"
    "tile/entries/x001/234.p/7. Exit: 0 ok, 1 the log has no such thing,\n"
    "2 the answer does not check out, 3 usage, I/O or network error.\n"
    "--log may be repeated (or a comma-separated list): the log, then its\n"
    "mirrors (<witness URL>/mirror/<sha256 of the origin>), tried in order\n"
    "when one does not answer.\n";

struct get_opts {
    struct fetch_opts net; /* --log, --timeout */
    const char *policy, *index, *leaf, *tree_size, *first, *second;
    char **args; /* positional words after "get" */
    int nargs;
};

/* Takes one option of get (a cli_take_fn; ctx: the get_opts). */
static int get_take(void *ctx, int c, const char *arg)
{
    struct get_opts *o = ctx;

    switch (c) {
    case 'p':
        o->policy = arg;
        break;
    case 'i':
        o->index = arg;
        break;
    case 'L':
        o->leaf = arg;
        break;
    case 'n':
        o->tree_size = arg;
        break;
    case 'f':
        o->first = arg;
        break;
    case 's':
        o->second = arg;
        break;
    default:
        return fetch_opts_take(&o->net, c, arg);
    }
    return 0;
}

static int get_parse(int argc, char **argv, struct get_opts *o)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'},
        {"policy", required_argument, NULL, 'p'},
        {"index", required_argument, NULL, 'i'},
        {"leaf-hash", required_argument, NULL, 'L'},
        {"tree-size", required_argument, NULL, 'n'},
        {"first", required_argument, NULL, 'f'},
        {"second", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = cli_parse_opts(argc, argv, opts, get_usage, get_take, o)) != 0)
        return rc;
    o->args = argv + optind;
    o->nargs = argc - optind;
    if (fetch_opts_log(&o->net) == NULL || o->nargs < 1) {
        cli_error("get needs what to get and --log URL");
        fputs(get_usage, stderr);
        return -1;
    }
    return 0;
}

/* Writes the n bytes of s (from the log) to stdout: verbatim into a pipe
 * or file; on a terminal with each unprintable byte but "\n" and "\t"
 * as \xHH (gl_utf8_escape: C0, DEL, a C1 control's UTF-8 encoding
 * \xc2\x80-\xc2\x9f, any byte of invalid UTF-8). */
static void put_text(const uint8_t *s, size_t n)
{
    static int tty = -1;
    char chunk[4096];

    if (tty < 0)
        tty = isatty(STDOUT_FILENO);
    if (!tty) {
        fwrite(s, 1, n, stdout);
        return;
    }
    for (size_t i = 0; i < n;) {
        i += gl_utf8_escape((const char *)s + i, n - i, "\n\t", chunk, sizeof(chunk));
        fputs(chunk, stdout);
    }
}

/* Maps a fetch failure to an exit code, reporting it. */
static int fetch_failed(const struct fetch *f, int rc)
{
    cli_error("%s", f->error);
    if (rc == GL_EPARSE) /* a full tile read for a missing partial one */
        return CLI_VERIFY;
    return rc == GL_ENOTFOUND ? CLI_NOTFOUND : CLI_USAGE;
}

/* Checks a decimal option value. */
static int dec_arg(const char *name, const char *v)
{
    uint64_t x;

    if (v != NULL && util_parse_u64(v, 0, GL_MERKLE_MAX_SIZE, &x) == 0)
        return 0;
    cli_error("%s takes a decimal number", name);
    return -1;
}

/* --- checkpoint -------------------------------------------------------------------- */

static int get_checkpoint(struct fetch *f, const struct get_opts *o)
{
    struct gl_policy *p = NULL;
    struct trust_checkpoint *tc = malloc(sizeof(*tc));
    struct gl_buf body, d;
    char why[TRUST_WHY_MAX];
    int rc, vrc;

    gl_buf_init(&body, GL_NOTE_MAX_SIZE);
    gl_buf_init(&d, 1 << 16);
    if (tc == NULL || (o->policy != NULL && trust_load_policy(o->policy, 1, &p) != 0)) {
        rc = CLI_USAGE;
        goto out;
    }
    if ((rc = fetch_get(f, "checkpoint", GL_NOTE_MAX_SIZE, &body)) != 0) {
        rc = fetch_failed(f, rc);
        goto out;
    }
    put_text(body.data, body.len);
    if (p == NULL)
        goto out;
    vrc = trust_checkpoint_open(p, (const char *)body.data, body.len,
                                (uint64_t)time(NULL), tc, why);
    if (vrc == 0 || vrc == GL_EQUORUM)
        trust_describe_cosigners(p, tc, &d);
    if (vrc == 0)
        cli_error("verified: log %s, tree size %llu; cosigned by %s", tc->cp.origin,
                  (unsigned long long)tc->cp.size, (const char *)d.data);
    else
        cli_error("verification failed: %s%s%s", why, d.len ? "; cosigned by " : "",
                  d.len ? (const char *)d.data : "");
    rc = vrc == 0 ? CLI_OK : CLI_VERIFY;
out:
    free(tc);
    gl_policy_free(p);
    gl_buf_release(&body);
    gl_buf_release(&d);
    return rc;
}

/* --- JSON answers ------------------------------------------------------------------ */

static int get_json(struct fetch *f, const char *path, cJSON **out)
{
    struct gl_buf body;
    int rc;

    gl_buf_init(&body, JSON_MAX);
    rc = fetch_get(f, path, JSON_MAX, &body);
    if (rc != 0) {
        rc = fetch_failed(f, rc);
    } else if ((*out = cJSON_ParseWithLength((const char *)body.data, body.len)) ==
               NULL) {
        cli_error("%s: the answer is not JSON", path);
        rc = CLI_VERIFY;
    }
    gl_buf_release(&body);
    return rc;
}

static int get_entry(struct fetch *f, const struct get_opts *o)
{
    char path[64], hex[GL_HASH_HEX_LEN + 1], shex[GL_HASH_HEX_LEN + 1];
    cJSON *j = NULL;
    const cJSON *lh, *st, *ix;
    uint8_t leaf[GL_HASH_LEN], served[GL_HASH_LEN];
    uint64_t want, got;
    int rc;

    if (o->nargs != 2) {
        cli_error("get entry takes one index N");
        return CLI_USAGE;
    }
    if (dec_arg("entry", o->args[1]) != 0 ||
        util_parse_u64(o->args[1], 0, GL_MERKLE_MAX_SIZE, &want) != 0)
        return CLI_USAGE;
    snprintf(path, sizeof(path), "api/v1/entries/%" PRIu64, want);
    if ((rc = get_json(f, path, &j)) != 0)
        return rc;
    lh = cJSON_GetObjectItemCaseSensitive(j, "leaf_hash");
    st = cJSON_GetObjectItemCaseSensitive(j, "statement");
    ix = cJSON_GetObjectItemCaseSensitive(j, "index");
    rc = CLI_VERIFY;
    if (!cJSON_IsString(lh) || !cJSON_IsString(st) || !cJSON_IsNumber(ix) ||
        util_json_index(ix, &got) != 0) {
        cli_error("the answer lacks index, leaf_hash or statement");
        goto out;
    }
    if (got != want) {
        cli_error("the log answered entry %" PRIu64 " for entry %" PRIu64, got, want);
        goto out;
    }
    gl_merkle_leaf_hash(st->valuestring, strlen(st->valuestring), leaf);
    gl_hex_encode(leaf, GL_HASH_LEN, hex, sizeof(hex));
    /* never echoed: an unverified string may carry escape sequences */
    if (gl_hex_decode_exact(lh->valuestring, strlen(lh->valuestring), served, GL_HASH_LEN,
                            1) != 0) {
        cli_error("the log's leaf_hash is not 64 lowercase hex digits (the statement's "
                  "is %s)",
                  hex);
        goto out;
    }
    if (!util_hash_equal(served, leaf)) {
        gl_hex_encode(served, GL_HASH_LEN, shex, sizeof(shex));
        cli_error("the log's leaf_hash %s is not the hash of its statement (%s)", shex,
                  hex);
        goto out;
    }
    printf("index %" PRIu64 "\nleaf_hash %s\n\n", want, hex);
    put_text((const uint8_t *)st->valuestring, strlen(st->valuestring));
    rc = CLI_OK;
out:
    cJSON_Delete(j);
    return rc;
}

static int print_hashes(const cJSON *j)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "hashes"), *h;
    uint8_t tmp[GL_HASH_LEN];

    if (!cJSON_IsArray(arr)) {
        cli_error("the answer has no hashes");
        return CLI_VERIFY;
    }
    cJSON_ArrayForEach(h, arr)
    {
        if (!cJSON_IsString(h) ||
            gl_hex_decode_exact(h->valuestring, strlen(h->valuestring), tmp, GL_HASH_LEN,
                                1) != 0) {
            cli_error("the answer has a malformed hash");
            return CLI_VERIFY;
        }
        printf("%s\n", h->valuestring);
    }
    return CLI_OK;
}

static int get_proof(struct fetch *f, const struct get_opts *o)
{
    char path[256];
    cJSON *j = NULL;
    const cJSON *ix, *ts;
    int rc, n;

    if (o->nargs == 2 && strcmp(o->args[1], "inclusion") == 0) {
        uint8_t h[GL_HASH_LEN];
        if ((o->index == NULL) == (o->leaf == NULL) ||
            (o->index != NULL && dec_arg("--index", o->index) != 0) ||
            (o->leaf != NULL &&
             gl_hex_decode_exact(o->leaf, strlen(o->leaf), h, GL_HASH_LEN, 1) != 0) ||
            (o->tree_size != NULL && dec_arg("--tree-size", o->tree_size) != 0)) {
            cli_error(
                "proof inclusion needs exactly one of --index N or --leaf-hash HEX (64 "
                "lowercase hex digits)");
            return CLI_USAGE;
        }
        n = snprintf(path, sizeof(path), "api/v1/proof/inclusion?%s=%s%s%s",
                     o->index ? "index" : "leaf_hash", o->index ? o->index : o->leaf,
                     o->tree_size ? "&tree_size=" : "", o->tree_size ? o->tree_size : "");
    } else if (o->nargs == 2 && strcmp(o->args[1], "consistency") == 0) {
        if (dec_arg("--first", o->first) != 0 || dec_arg("--second", o->second) != 0)
            return CLI_USAGE;
        n = snprintf(path, sizeof(path), "api/v1/proof/consistency?first=%s&second=%s",
                     o->first, o->second);
    } else {
        cli_error("get proof takes 'inclusion' or 'consistency'");
        return CLI_USAGE;
    }
    if (n <= 0 || n >= (int)sizeof(path))
        return CLI_USAGE;
    if ((rc = get_json(f, path, &j)) != 0)
        return rc;
    ix = cJSON_GetObjectItemCaseSensitive(j, "index");
    ts = cJSON_GetObjectItemCaseSensitive(j, "tree_size");
    if (cJSON_IsNumber(ix) && cJSON_IsNumber(ts))
        printf("index %.0f\ntree_size %.0f\n", ix->valuedouble, ts->valuedouble);
    else if (o->first != NULL)
        printf("first %s\nsecond %s\n", o->first, o->second);
    rc = print_hashes(j);
    cJSON_Delete(j);
    return rc;
}

/* --- tiles ------------------------------------------------------------------------- */

static int print_bundle(const struct gl_buf *b, const struct gl_tile *t)
{
    struct gl_tile_entry *e = calloc(GL_TILE_WIDTH, sizeof(*e));
    size_t n = 0;
    int rc = CLI_VERIFY;

    if (e == NULL)
        return CLI_USAGE;
    if (gl_tile_bundle_decode(b->data, b->len, t->width, e, &n) != 0) {
        cli_error("the entry bundle is malformed or does not hold %u entries", t->width);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        printf("# entry %llu (%zu bytes)\n", (unsigned long long)t->index * 256 + i,
               e[i].len);
        put_text(e[i].data, e[i].len);
        if (e[i].len == 0 || e[i].data[e[i].len - 1] != '\n')
            putchar('\n');
    }
    rc = CLI_OK;
out:
    free(e);
    return rc;
}

static int get_tile(struct fetch *f, const struct get_opts *o)
{
    const char *arg = o->nargs == 2 ? o->args[1] : "";
    char path[GL_TILE_PATH_MAX + 8], hex[GL_HASH_HEX_LEN + 1];
    struct gl_tile t;
    struct gl_err why;
    struct gl_buf body;
    int entries, rc;

    if (!gl_str_prefix(arg, "tile/"))
        snprintf(path, sizeof(path), "tile/%s", arg);
    else
        snprintf(path, sizeof(path), "%s", arg);
    if (o->nargs != 2) {
        cli_error(
            "get tile takes a tile path such as tile/0/000 or tile/entries/x001/234.p/7");
        return CLI_USAGE;
    }
    if ((rc = gl_tile_path_parse(path, strlen(path), &t, &entries, &why)) != 0) {
        gl_err_wrap(&why, rc, 0,
                    "not a tile path such as tile/0/000 or tile/entries/x001/234.p/7");
        cli_err(path, &why);
        return CLI_USAGE;
    }
    gl_buf_init(&body, entries ? GL_TILE_BUNDLE_MAX : (size_t)t.width * GL_HASH_LEN);
    if ((rc = fetch_tile(f, &t, entries, &body)) != 0) {
        rc = fetch_failed(f, rc);
    } else if (entries) {
        rc = print_bundle(&body, &t);
    } else if (body.len != (size_t)t.width * GL_HASH_LEN) {
        cli_error("the tile has %zu bytes, want %u", body.len, t.width * GL_HASH_LEN);
        rc = CLI_VERIFY;
    } else {
        for (uint32_t i = 0; i < t.width; i++) {
            gl_hex_encode(body.data + (size_t)i * GL_HASH_LEN, GL_HASH_LEN, hex,
                          sizeof(hex));
            printf("%u %s\n", i, hex);
        }
    }
    gl_buf_release(&body);
    return rc;
}

int cmd_get_main(int argc, char **argv)
{
    struct get_opts o;
    struct fetch f;
    int rc = get_parse(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    if (fetch_open(&f, &o.net) != 0) {
        fetch_release(&f);
        return CLI_USAGE;
    }
    if (strcmp(o.args[0], "checkpoint") == 0 && o.nargs == 1)
        rc = get_checkpoint(&f, &o);
    else if (strcmp(o.args[0], "entry") == 0)
        rc = get_entry(&f, &o);
    else if (strcmp(o.args[0], "proof") == 0)
        rc = get_proof(&f, &o);
    else if (strcmp(o.args[0], "tile") == 0)
        rc = get_tile(&f, &o);
    else {
        cli_error(
            "get takes checkpoint, entry N, proof inclusion|consistency or tile PATH");
        rc = CLI_USAGE;
    }
    fetch_release(&f);
    return rc;
}
