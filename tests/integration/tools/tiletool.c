/*
 * tiletool: test helper that damages one hash tile of a STOPPED log's
 * store, through the log's own store module (log/store.c), so tests can
 * show what glasslogd does with a corrupt, short or missing tile.
 *
 *   tiletool DATA get LEVEL INDEX            the stored bytes, on stdout
 *   tiletool DATA flip LEVEL INDEX OFFSET    XOR 0x01 into one byte
 *   tiletool DATA truncate LEVEL INDEX LEN   keep the first LEN bytes
 *   tiletool DATA delete LEVEL INDEX         remove the tile
 *
 * Exit 0, or 1 with a message. Test-only: not part of the product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../log/store.h"
#include "glasslog/codec.h"
#include "glasslog/error.h"

static int number(const char *s, uint64_t *v)
{
    return gl_parse_u64(s, strlen(s), v);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: tiletool DATA get|flip|truncate|delete LEVEL INDEX [OFFSET|LEN]\n");
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
    struct store_options o = {NULL, NULL, 0, 8, 0};
    struct store *s = NULL;
    struct store_batch *b = NULL;
    static uint8_t tile[STORE_TILE_MAX];
    const char *why = "", *cmd;
    uint64_t level, index, arg = 0;
    size_t len = 0;
    int rc = 1, err, need_arg;

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
