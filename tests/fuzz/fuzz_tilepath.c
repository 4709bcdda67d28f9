/*
 * fuzz_tilepath: the input as a tile path (a success must format back to
 * exactly the input and describe a possible tile), as an entry bundle
 * (a success must account for every byte and re-encode to the input), and
 * as a full tile cut to a partial width by gl_tile_trim (a success keeps a
 * prefix of the input of exactly that many hashes or entries; a refusal
 * leaves it whole and says why). Any inconsistency aborts, and so does a
 * path refused without a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "glasslog/buf.h"
#include "glasslog/tile.h"

static void fuzz_path(const char *s, size_t n)
{
    struct gl_tile t;
    char out[GL_TILE_PATH_MAX];
    struct gl_err why;
    size_t len;
    int entries, rc;

    memset(&why, 0, sizeof(why));
    if ((rc = gl_tile_path_parse(s, n, &t, &entries, &why)) != 0) {
        fuzz_check_why(rc, &why, (const uint8_t *)s, n);
        return;
    }
    if (t.level > GL_TILE_MAX_LEVEL || t.width == 0 || t.width > GL_TILE_WIDTH ||
        (entries && t.level != 0))
        abort();
    if (gl_tile_path_format(&t, entries, out, &len) != 0 || len != n ||
        memcmp(out, s, n) != 0 || out[len] != 0)
        abort();
}

static void fuzz_bundle(const uint8_t *data, size_t n, size_t want)
{
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct gl_buf b;
    size_t count, i, total = 0;

    if (gl_tile_bundle_decode(data, n, want, e, &count) != 0)
        return;
    if (count == 0 || count > GL_TILE_WIDTH || (want != 0 && count != want))
        abort();
    for (i = 0; i < count; i++) {
        if (e[i].data < data || e[i].len > GL_TILE_ENTRY_MAX ||
            (size_t)(e[i].data - data) + e[i].len > n)
            abort();
        total += 2 + e[i].len;
    }
    if (total != n)
        abort();
    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    if (gl_tile_bundle_encode(e, count, &b) != 0 || b.len != n ||
        memcmp(b.data, data, n) != 0)
        abort();
    gl_buf_release(&b);
}

static void fuzz_trim(const uint8_t *data, size_t n, int entries, unsigned width)
{
    struct gl_tile t = {0, 0, width};
    struct gl_tile_entry e[GL_TILE_WIDTH];
    struct gl_err why;
    struct gl_buf b;
    size_t count;
    int rc;

    gl_buf_init(&b, GL_TILE_BUNDLE_MAX);
    if (gl_buf_append(&b, data, n) != 0)
        goto out;
    memset(&why, 0, sizeof(why));
    if ((rc = gl_tile_trim(&t, entries, &b, &why)) != 0) {
        fuzz_check_why(rc, &why, data, n);
        if (b.len != n)
            abort();
        goto out;
    }
    if (b.len > n || memcmp(b.data, data, b.len) != 0)
        abort();
    if (entries ? gl_tile_bundle_decode(b.data, b.len, width, e, &count) != 0
                : b.len != (size_t)width * GL_HASH_LEN)
        abort();
out:
    gl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_path((const char *)data, size);
    fuzz_bundle(data, size, 0);
    /* the first byte as an expected width, the rest as the bundle */
    if (size > 0) {
        fuzz_bundle(data + 1, size - 1, (size_t)data[0] + 1);
        fuzz_trim(data + 1, size - 1, data[0] & 1, (unsigned)(data[0] >> 1) + 1);
    }
    return 0;
}
