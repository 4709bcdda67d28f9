/*
 * fsck: see fsck.h. One pass over the entries in index order
 * (store_scan_entries), holding one level-0 tile at a time: O(size) time,
 * O(1) memory. The upper levels and the root are tree_check's (tree.c),
 * so start-up and fsck agree on what a good tree is.
 */
#include "fsck.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entryindex.h"
#include "file.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"
#include "store.h"
#include "tree.h"

struct fsck {
    struct store *s;
    uint64_t size, next, problems;
    uint64_t read;               /* entries read and checked */
    uint64_t gap_start, gap_end; /* a run of missing entries not reported yet
                                  * (gap_end == gap_start: none) */
    int tile_bad;                /* the loaded level-0 tile cannot be read */
    const char *unreadable;      /* what of the head cannot be read (exit 3) */
    int other_log;               /* the store's log key is not --vkey (exit 1) */
    uint32_t ixver;              /* the store's index version (entryindex.h) */
    uint8_t tile[STORE_TILE_MAX];
    size_t tile_len;
    uint64_t tile_index; /* UINT64_MAX: none loaded */
    int progress;        /* stderr is a terminal: \r lines */
    uint64_t shown;
};

static void problem(struct fsck *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct fsck *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (f->problems++ < FSCK_REPORT_MAX) {
        fputs("  problem: ", stdout);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
        vprintf(fmt, ap);
        fputc('\n', stdout);
    }
    va_end(ap);
}

static void show_progress(struct fsck *f, uint64_t done)
{
    uint64_t pct = f->size ? done * 100 / f->size : 100;

    if (done != f->size && pct < f->shown + 10 && !(f->progress && done % 4096 == 0))
        return;
    f->shown = pct;
    fprintf(stderr, "%sfsck: entries %" PRIu64 "/%" PRIu64 " (%" PRIu64 "%%)%s",
            f->progress ? "\r" : "", done, f->size, pct,
            f->progress && done != f->size ? "" : "\n");
}

/* 1 if index is among the entries listed under (kind, key). */
static int listed(struct fsck *f, enum store_index kind, const void *key, size_t klen,
                  uint64_t index)
{
    uint64_t ix;
    size_t n = 0;

    return store_find_index(f->s, kind, key, klen, index, index + 1, &ix, 1, &n) == 0 &&
           n == 1 && ix == index;
}

static void check_indexes(struct fsck *f, uint64_t index, const uint8_t *data, size_t len)
{
    struct gl_statement st;
    struct entryindex ix;
    uint8_t key[STORE_INDEX_KEY_MAX];
    size_t klen;

    if (gl_statement_parse((const char *)data, len, &st, NULL) != 0) {
        problem(f, "entry %" PRIu64 " is not a statement", index);
        return;
    }
    entryindex_of(&st, data, &ix);
    if (!listed(f, STORE_INDEX_ARTIFACT, ix.sha256, 32, index))
        problem(f, "entry %" PRIu64 " is missing from the artifact index", index);
    if (!listed(f, STORE_INDEX_SUBJECT, data + ix.subject_off, ix.subject_len, index))
        problem(f, "entry %" PRIu64 " is missing from the subject index", index);
    if (entryindex_subject_version((const char *)data + ix.subject_off, ix.subject_len,
                                   (const char *)data + ix.version_off, ix.version_len,
                                   key, &klen) == 0 &&
        !listed(f, STORE_INDEX_SUBJECT_VERSION, key, klen, index))
        problem(f, "entry %" PRIu64 " is missing from the subject+version index", index);
    /* a store below ENTRYINDEX_VERSION has no source index yet: glasslogd
     * builds it at start (entryindex_update) */
    for (uint32_t i = 0; f->ixver >= ENTRYINDEX_VERSION && i < ix.nsources; i++)
        if (!listed(f, STORE_INDEX_SOURCE, ix.sources[i], 32, index))
            problem(f, "entry %" PRIu64 " is missing from the source index (source %u)",
                    index, (unsigned)i);
}

/* Reports the run of missing entries noted so far, if any. */
static void gap_report(struct fsck *f)
{
    if (f->gap_end == f->gap_start)
        return;
    if (f->gap_end - f->gap_start == 1)
        problem(f, "entry %" PRIu64 " is missing", f->gap_start);
    else
        problem(f, "entries %" PRIu64 " to %" PRIu64 " are missing (%" PRIu64 ")",
                f->gap_start, f->gap_end - 1, f->gap_end - f->gap_start);
    f->gap_start = f->gap_end = 0;
}

static int check_entry(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct fsck *f = ctx;
    uint8_t leaf[GL_HASH_LEN];
    uint64_t t = index / 256, found;
    size_t off = (size_t)(index % 256) * GL_HASH_LEN;
    int rc;

    if (index != f->next)
        return GL_ENOTFOUND;
    gap_report(f); /* the run before this entry, in index order */
    f->next = index + 1;
    f->read++;
    if (gl_merkle_leaf_hash(data, len, leaf) != 0)
        return GL_ECRYPTO;
    if (t != f->tile_index) {
        f->tile_index = t;
        f->tile_len = 0;
        f->tile_bad = 0;
        if ((rc = store_get_tile(f->s, 0, t, f->tile, &f->tile_len)) != 0 &&
            rc != GL_ENOTFOUND) {
            /* one problem for the tile, not one per entry in it */
            problem(f, "tile/0/%" PRIu64 " cannot be read: %s", t, gl_strerror(rc));
            f->tile_bad = 1;
        }
    }
    if (!f->tile_bad && (off + GL_HASH_LEN > f->tile_len ||
                         memcmp(f->tile + off, leaf, GL_HASH_LEN) != 0))
        problem(f,
                "entry %" PRIu64 ": its leaf hash is not the one in tile/0/%" PRIu64
                " (the entry or the tile was altered)",
                index, t);
    rc = store_find_leaf(f->s, leaf, &found);
    if (rc == GL_ENOTFOUND || (rc == 0 && found != index))
        problem(f, "entry %" PRIu64 ": the leaf index maps its hash to %s", index,
                rc == 0 ? "another entry" : "nothing");
    else if (rc != 0)
        problem(f, "entry %" PRIu64 ": the leaf index cannot be read: %s", index,
                gl_strerror(rc));
    check_indexes(f, index, data, len);
    show_progress(f, index + 1);
    return 0;
}

/* Step 4: every entry in [0, size), in index order. A missing entry or
 * one that cannot be read is a problem, and the pass goes on after it
 * (a run of missing entries is one problem); a scan picks up at the next
 * index. */
static void check_entries(struct fsck *f)
{
    uint64_t start = 0;
    int rc;

    while (start < f->size) {
        f->next = start;
        rc = store_scan_entries(f->s, start, f->size - start, check_entry, f);
        if (rc == 0 && f->next == f->size)
            break;
        if (rc == GL_ENOTFOUND || rc == 0) {
            if (f->gap_end != f->next) {
                gap_report(f);
                f->gap_start = f->next;
            }
            f->gap_end = f->next + 1;
        } else {
            gap_report(f);
            problem(f, "reading entry %" PRIu64 " failed: %s", f->next, gl_strerror(rc));
        }
        start = f->next + 1;
    }
    gap_report(f);
}

/* Reads VKEY or @FILE into k. */
static int read_vkey(const char *arg, struct gl_verifier *k)
{
    struct gl_buf b;
    struct gl_err why;
    int rc = 0;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 2);
    if (arg[0] == '@')
        rc = gl_file_read(arg + 1, &b);
    else
        rc = gl_buf_append(&b, arg, strlen(arg));
    while (rc == 0 && b.len > 0 &&
           (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.len--;
    if (rc == 0 && (rc = gl_verifier_parse((const char *)b.data, b.len, k, &why)) != 0)
        fprintf(stderr, "glasslogd: --vkey: %s\n", why.reason);
    else if (rc != 0)
        fprintf(stderr, "glasslogd: --vkey: cannot read %s\n", arg + 1);
    gl_buf_release(&b);
    return rc;
}

/* Steps 1-2: the key and the signed checkpoint. 0, or the exit status. */
static int check_head(struct fsck *f, const struct gl_verifier *given,
                      struct gl_checkpoint *c)
{
    struct gl_buf vk, ck;
    struct gl_verifier stored;
    struct gl_err why;
    int rc, status = 0;

    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    gl_buf_init(&ck, 1 << 16);
    if ((rc = store_get_vkey(f->s, &vk)) != 0)
        f->unreadable = "log key";
    else if ((rc = store_get_state(f->s, &f->size, &ck)) != 0)
        f->unreadable = "tree state and checkpoint";
    if (rc != 0) {
        printf("  problem: cannot read the store's %s: %s\n", f->unreadable,
               rc == GL_ENOTFOUND ? "not there" : gl_strerror(rc));
        status = 3;
        goto out;
    }
    if (gl_verifier_parse((const char *)vk.data, vk.len, &stored, NULL) != 0) {
        problem(f, "the stored log key is not a verifier key");
        status = 1;
        goto out;
    }
    if (given != NULL &&
        (given->id != stored.id || strcmp(given->name, stored.name) != 0 ||
         memcmp(given->pub, stored.pub, sizeof(stored.pub)) != 0)) {
        /* another log's store (or the wrong key given): nothing in it can
         * be checked against --vkey */
        problem(f, "the store belongs to log key %s, not the one given", (char *)vk.data);
        f->other_log = 1;
        status = 1;
        goto out;
    }
    printf("log key: %s (%s)\n", (char *)vk.data,
           given != NULL ? "the one given with --vkey"
                         : "as stored; not checked (no --vkey)");
    if (gl_checkpoint_open((const char *)ck.data, ck.len, given ? given : &stored, c,
                           NULL, &why) != 0) {
        problem(f, "the stored checkpoint does not verify: %s", why.reason);
        status = 1;
        goto out;
    }
    if (c->size != f->size)
        problem(f, "the checkpoint signs size %" PRIu64 ", the store's size is %" PRIu64,
                c->size, f->size);
    printf("checkpoint: size %" PRIu64 ", signature valid\n", c->size);
out:
    gl_buf_release(&vk);
    gl_buf_release(&ck);
    return status;
}

static int fsck_run(const char *dir, const struct gl_verifier *given)
{
    /* read-only: fsck writes nothing */
    struct store_options o = {.dir = dir, .cache_mb = 16, .readonly = 1};
    struct fsck *f = calloc(1, sizeof(*f));
    struct tree *t = malloc(sizeof(*t));
    struct gl_checkpoint c;
    const char *why = "";
    char twhy[256];
    int rc, status;

    if (f == NULL || t == NULL) {
        free(f);
        free(t);
        return 3;
    }
    f->tile_index = UINT64_MAX;
    f->progress = isatty(2);
    printf("fsck %s\n", dir);
    if (store_open(&o, &f->s, &why) != 0) {
        printf("  problem: cannot open the store: %s (if a glasslogd runs on it, "
               "check a backup instead)\nfsck: CANNOT CHECK\n",
               why);
        status = 3;
        goto out;
    }
    if ((status = check_head(f, given, &c)) != 0)
        goto report;
    if ((rc = tree_check(t, f->s, f->size, c.root, twhy, sizeof(twhy))) != 0)
        problem(f, "tiles: %s", twhy[0] ? twhy : gl_strerror(rc));
    else
        printf("tiles: every tile of the tree hashes up to the signed root\n");
    if ((rc = store_get_index_version(f->s, &f->ixver)) != 0)
        problem(f, "cannot read the index version: %s", gl_strerror(rc));
    check_entries(f);
    if (f->progress && f->next != f->size)
        fputc('\n', stderr);
    printf("entries: %" PRIu64 " of %" PRIu64
           " read, leaf hashes, leaf index and entry indexes checked",
           f->read, f->size);
    if (f->ixver < ENTRYINDEX_VERSION)
        printf(
            " (index version %u: the source index, made at the next start, not checked)",
            (unsigned)f->ixver);
    printf("\n");
report:
    if (f->problems > FSCK_REPORT_MAX)
        printf("  ... and %" PRIu64 " more problems\n", f->problems - FSCK_REPORT_MAX);
    if (status == 3) {
        printf("fsck: CANNOT CHECK (the store's %s cannot be read)\n", f->unreadable);
    } else if (f->other_log) {
        printf("fsck: NOT THIS LOG (the store belongs to another log key than --vkey; "
               "not checked further)\n");
    } else if (f->problems == 0 && status == 0) {
        printf("fsck: OK (%" PRIu64 " entries)\n", f->size);
    } else {
        printf("fsck: DAMAGED (%" PRIu64 " problem%s)\n", f->problems,
               f->problems == 1 ? "" : "s");
        status = status ? status : 1;
    }
out:
    store_close(f->s);
    free(f);
    free(t);
    return status;
}

int fsck_main(int argc, char **argv)
{
    struct gl_verifier k;
    const char *dir = NULL, *vkey = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fsck") == 0 && i + 1 < argc && dir == NULL)
            dir = argv[++i];
        else if (strcmp(argv[i], "--vkey") == 0 && i + 1 < argc && vkey == NULL)
            vkey = argv[++i];
        else {
            fprintf(stderr,
                    "glasslogd: --fsck takes DIR [--vkey VKEY|@FILE], not \"%s\"\n",
                    argv[i]);
            return 2;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "glasslogd: --fsck needs a data directory\n");
        return 2;
    }
    if (vkey != NULL && read_vkey(vkey, &k) != 0)
        return 2;
    gl_log_set_level(GL_LOG_WARN);
    return fsck_run(dir, vkey != NULL ? &k : NULL);
}
