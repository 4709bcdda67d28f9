/*
 * tiletool: test helper that damages one hash tile of a STOPPED log's
 * store, through the log's own store module (log/store.c), so tests can
 * show what glasslogd does with a corrupt, short or missing tile.
 *
 *   tiletool DATA get LEVEL INDEX            the stored bytes, on stdout
 *   tiletool DATA flip LEVEL INDEX OFFSET    XOR 0x01 into one byte
 *   tiletool DATA truncate LEVEL INDEX LEN   keep the first LEN bytes
 *   tiletool DATA delete LEVEL INDEX         remove the tile
 *   tiletool DATA delete-entry INDEX         remove an entry (RocksDB, raw)
 *   tiletool DATA delete-meta KEY            remove a record of the default
 *                                            family ("vkey", "state", ...)
 *   tiletool DATA cut LEVEL INDEX LEN        keep the first LEN bytes of
 *                                            the tile, any LEN (raw: a
 *                                            malformed record)
 *
 * The raw commands write the RocksDB records directly (lib/net/kv.h),
 * with the column family list of log/store_rocksdb.c, as the store's own
 * checks refuse such records.
 * Exit 0, or 1 with a message. Test-only: not part of the product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../log/store.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "kv.h"

static const char *const raw_cfs[] = {"default", "entries",  "tiles",
                                      "leaves",  "subjects", "index"};
enum { RAW_ENTRIES = 1, RAW_TILES = 2 };

/* delete-entry INDEX, delete-meta KEY, cut LEVEL INDEX LEN: 0, or 1 with
 * a message. */
static int raw(const char *dir, const char *cmd, const char *meta, uint64_t level,
               uint64_t index, uint64_t len)
{
    struct kv_options ko = {
        .dir = dir, .cfs = raw_cfs, .ncfs = 6, .cache_mb = 8, .write_buffer_mb = 8};
    struct kv *kv = NULL;
    struct kv_batch *b = NULL;
    struct gl_buf v;
    uint8_t key[9];
    int rc = 1;

    gl_buf_init(&v, STORE_TILE_MAX);
    if (kv_open(&ko, &kv) != 0 || kv_batch_new(kv, &b) != 0)
        goto out;
    if (strcmp(cmd, "delete-meta") == 0) {
        kv_batch_delete(b, 0, meta, strlen(meta));
    } else if (strcmp(cmd, "delete-entry") == 0) {
        kv_put_be64(key, index);
        kv_batch_delete(b, RAW_ENTRIES, key, 8);
    } else {
        key[0] = (uint8_t)level;
        kv_put_be64(key + 1, index);
        if (kv_get(kv, RAW_TILES, key, 9, &v) != 0 || len >= v.len) {
            fprintf(stderr, "tiletool: no tile longer than %llu bytes\n",
                    (unsigned long long)len);
            goto out;
        }
        kv_batch_put(b, RAW_TILES, key, 9, v.data, (size_t)len);
    }
    rc = kv_batch_commit(b) == 0 ? 0 : 1;
out:
    kv_batch_free(b);
    kv_close(kv);
    gl_buf_release(&v);
    return rc;
}

static int number(const char *s, uint64_t *v)
{
    return gl_parse_u64(s, strlen(s), v);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: tiletool DATA get|flip|truncate|delete LEVEL INDEX [OFFSET|LEN]\n"
            "       tiletool DATA delete-entry INDEX | delete-meta KEY | cut LEVEL INDEX "
            "LEN\n");
    return 1;
}

/* Applies the edit to the tile (data, *len); 0, or 1 with a message. */
static int edit(const char *cmd, uint64_t arg, uint8_t *data, size_t *len)
{
    if (strcmp(cmd, "flip") == 0) {
        if (arg >= *len) {
            fprintf(stderr, "tiletool: offset %llu is beyond the tile (%zu bytes)\n",
                    (unsigned long long)arg, *len);
            return 1;
        }
        data[arg] ^= 0x01;
        return 0;
    }
    if (arg >= *len) {
        fprintf(stderr, "tiletool: the tile has %zu bytes, not more than %llu\n", *len,
                (unsigned long long)arg);
        return 1;
    }
    *len = (size_t)arg;
    return 0;
}

int main(int argc, char **argv)
{
    struct store_options o = {.cache_mb = 8};
    struct store *s = NULL;
    struct store_batch *b = NULL;
    static uint8_t tile[STORE_TILE_MAX];
    const char *why = "", *cmd;
    uint64_t level, index, arg = 0;
    size_t len = 0;
    int rc = 1, err, need_arg;

    if (argc == 4 && strcmp(argv[2], "delete-entry") == 0)
        return number(argv[3], &index) != 0 ? usage()
                                            : raw(argv[1], argv[2], NULL, 0, index, 0);
    if (argc == 4 && strcmp(argv[2], "delete-meta") == 0)
        return raw(argv[1], argv[2], argv[3], 0, 0, 0);
    if (argc == 6 && strcmp(argv[2], "cut") == 0)
        return number(argv[3], &level) != 0 || level > 7 ||
                       number(argv[4], &index) != 0 || number(argv[5], &arg) != 0
                   ? usage()
                   : raw(argv[1], argv[2], NULL, level, index, arg);
    if (argc < 5)
        return usage();
    cmd = argv[2];
    need_arg = strcmp(cmd, "flip") == 0 || strcmp(cmd, "truncate") == 0;
    if ((!need_arg && strcmp(cmd, "get") != 0 && strcmp(cmd, "delete") != 0) ||
        argc != 5 + need_arg || number(argv[3], &level) != 0 || level > 7 ||
        number(argv[4], &index) != 0 || (need_arg && number(argv[5], &arg) != 0))
        return usage();
    o.dir = argv[1];
    if ((err = store_open(&o, &s, &why)) != 0) {
        fprintf(stderr, "tiletool: %s: %s\n", argv[1], why);
        return 1;
    }
    if (strcmp(cmd, "delete") != 0 &&
        (err = store_get_tile(s, (uint32_t)level, index, tile, &len)) != 0) {
        fprintf(stderr, "tiletool: tile %llu/%llu: %s\n", (unsigned long long)level,
                (unsigned long long)index, gl_strerror(err));
        goto out;
    }
    if (strcmp(cmd, "get") == 0) {
        rc = fwrite(tile, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
        goto out;
    }
    if (need_arg && edit(cmd, arg, tile, &len) != 0)
        goto out;
    if ((err = store_batch_new(s, &b)) != 0)
        goto fail;
    if (need_arg)
        store_batch_put_tile(b, (uint32_t)level, index, tile, len);
    else
        store_batch_delete_tile(b, (uint32_t)level, index);
    if ((err = store_batch_commit(b, NULL)) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "tiletool: cannot write the store: %s\n", gl_strerror(err));
out:
    store_batch_free(b);
    store_close(s);
    return rc;
}
