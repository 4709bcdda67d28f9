/*
 * tile: tlog-tiles v0.1.0 arithmetic, paths and entry bundles (height 8).
 *
 * Invariants. A tile span always stays inside one tile: a node at Merkle
 * level l = 8L + k (k < 8) covers 2^k consecutive level-8L hashes starting
 * at a multiple of 2^k, and 2^k divides 256. Node ids are checked to fit a
 * tree of at most 2^64 - 1 leaves before any shift, so nothing overflows.
 *
 * Paths are parsed strictly by construction: the parser walks the grammar
 * byte by byte (no strtoul, no sscanf), then re-formats what it read and
 * compares with the input, so only the formatter's own output is accepted.
 *
 * The bundle decoder never copies: entries point into the caller's data.
 *
 * Partial tiles that are gone: tlog-tiles lets a log (or a copy of it)
 * stop serving tile/L/N.p/W once tile/L/N is full, and its readers fall
 * back to the full tile. gl_tile_fetch is the one place glasslog does
 * that: a 404 (GL_ENOTFOUND from the getter, nothing else) on a partial
 * path, and only then, asks for the full tile, which must be a whole full
 * tile (256 hashes, exactly 8192 bytes, or a bundle of exactly 256
 * entries) before its first W hashes or entries are kept. A short or
 * malformed full tile is refused, never padded. The kept prefix is then
 * checked by the caller exactly as a partial tile would be (against the
 * signed root), so a full tile that lies is caught all the same.
 */
#include "glasslog/tile.h"

#include <assert.h>
#include <string.h>

#include "glasslog/error.h"

#define HLEN GL_HASH_LEN
#define N_GROUPS_MAX 7 /* 3-digit groups in a uint64 (20 digits) */

/* ---- arithmetic ---------------------------------------------------------- */

int gl_tile_locate(const struct gl_node_id *id, struct gl_tile_span *out)
{
    uint32_t k;
    uint64_t first;

    if (id->level > 63 || id->index >= (UINT64_MAX >> id->level))
        return GL_ERANGE;
    k = id->level % GL_TILE_HEIGHT;
    first = id->index << k; /* index at level 8L; < 2^(64 - 8L) */
    out->level = id->level / GL_TILE_HEIGHT;
    out->index = first / GL_TILE_WIDTH;
    out->start = (uint32_t)(first % GL_TILE_WIDTH);
    out->count = (uint32_t)1 << k;
    /* a span stays inside one tile */
    assert(out->start % out->count == 0 && out->start + out->count <= GL_TILE_WIDTH);
    return 0;
}

int gl_tile_width(uint32_t level, uint64_t index, uint64_t size, uint32_t *width)
{
    uint64_t hashes, full;

    if (level >= 64 / GL_TILE_HEIGHT)
        return GL_ERANGE; /* 256^8 = 2^64 leaves: never reached */
    hashes = size >> (GL_TILE_HEIGHT * level);
    full = hashes / GL_TILE_WIDTH;
    if (index < full) {
        *width = GL_TILE_WIDTH;
        return 0;
    }
    if (index == full && hashes % GL_TILE_WIDTH != 0) {
        *width = (uint32_t)(hashes % GL_TILE_WIDTH);
        assert(*width > 0 && *width < GL_TILE_WIDTH);
        return 0;
    }
    return GL_ERANGE;
}

static int tile_seen(const struct gl_tile *tiles, size_t n, const struct gl_tile_span *s)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (tiles[i].level == s->level && tiles[i].index == s->index)
            return 1;
    return 0;
}

int gl_tile_list_for_nodes(uint64_t size, const struct gl_node_id *ids, size_t n,
                           struct gl_tile *tiles, size_t cap, size_t *ntiles)
{
    struct gl_tile_span s;
    uint32_t width;
    size_t i, nt = 0;
    int err;

    for (i = 0; i < n; i++) {
        if ((err = gl_tile_locate(&ids[i], &s)) != 0 ||
            (err = gl_tile_width(s.level, s.index, size, &width)) != 0)
            return err;
        if (s.start + s.count > width)
            return GL_ERANGE;
        if (tile_seen(tiles, nt, &s))
            continue;
        if (nt == cap)
            return GL_ETOOBIG;
        tiles[nt].level = s.level;
        tiles[nt].index = s.index;
        tiles[nt].width = width;
        nt++;
    }
    *ntiles = nt;
    return 0;
}

/* ---- hashing tiles ----------------------------------------------------------- */

/* Root of n hashes, n a power of two (a complete subtree). */
static int hash_run(const uint8_t (*h)[HLEN], uint32_t n, uint8_t out[HLEN])
{
    struct gl_merkle_range r;
    uint32_t i;
    int err = 0;

    gl_merkle_range_init(&r);
    for (i = 0; i < n && err == 0; i++)
        err = gl_merkle_range_append(&r, h[i], NULL, NULL);
    if (err == 0)
        err = gl_merkle_range_root(&r, out);
    return err;
}

int gl_tile_span_hash(const uint8_t (*hashes)[GL_HASH_LEN], uint32_t width,
                      const struct gl_tile_span *span, uint8_t out[GL_HASH_LEN])
{
    uint32_t c = span->count;

    if (c == 0 || (c & (c - 1)) != 0 || c > GL_TILE_WIDTH / 2 || span->start % c != 0 ||
        width > GL_TILE_WIDTH || span->start + c > width)
        return GL_ERANGE;
    return hash_run(hashes + span->start, c, out);
}

int gl_tile_hash(const uint8_t (*hashes)[GL_HASH_LEN], uint8_t out[GL_HASH_LEN])
{
    return hash_run(hashes, GL_TILE_WIDTH, out);
}

/* ---- paths ------------------------------------------------------------------- */

/* Appends the decimal v at p, returns the new end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Appends N as x-prefixed 3-digit groups. */
static char *put_index(char *p, uint64_t v)
{
    char digits[N_GROUPS_MAX * 3];
    size_t n = sizeof(digits), i;

    memset(digits, '0', sizeof(digits));
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    n -= n % 3; /* start of the first (zero-padded) group */
    for (i = n; i < sizeof(digits); i += 3) {
        if (i + 3 < sizeof(digits))
            *p++ = 'x';
        memcpy(p, digits + i, 3);
        p += 3;
        if (i + 3 < sizeof(digits))
            *p++ = '/';
    }
    return p;
}

int gl_tile_path_format(const struct gl_tile *t, int entries, char *out, size_t *len)
{
    char *p = out;

    if (t->level > GL_TILE_MAX_LEVEL || t->width == 0 || t->width > GL_TILE_WIDTH ||
        (entries && t->level != 0))
        return GL_EINVAL;
    memcpy(p, "tile/", 5);
    p += 5;
    if (entries) {
        memcpy(p, "entries/", 8);
        p += 8;
    } else {
        p = put_u64(p, t->level);
        *p++ = '/';
    }
    p = put_index(p, t->index);
    if (t->width < GL_TILE_WIDTH) {
        memcpy(p, ".p/", 3);
        p = put_u64(p + 3, t->width);
    }
    *p = 0;
    if (len != NULL)
        *len = (size_t)(p - out);
    return 0;
}

/* A cursor over the path being parsed. */
struct cursor {
    const char *s;
    size_t len, at;
};

static int cur_lit(struct cursor *c, const char *lit)
{
    size_t n = strlen(lit);

    if (c->len - c->at < n || memcmp(c->s + c->at, lit, n) != 0)
        return 0;
    c->at += n;
    return 1;
}

static int cur_digit(const struct cursor *c, size_t off)
{
    return c->at + off < c->len && c->s[c->at + off] >= '0' && c->s[c->at + off] <= '9';
}

/* A decimal of 1..maxdigits digits, no leading zero, at most max. */
static int cur_small(struct cursor *c, size_t maxdigits, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    size_t n = 0;

    while (n < maxdigits && cur_digit(c, n))
        v = v * 10 + (uint32_t)(c->s[c->at + n++] - '0');
    if (n == 0 || cur_digit(c, n) || (n > 1 && c->s[c->at] == '0') || v > max)
        return GL_EPARSE;
    c->at += n;
    *out = v;
    return 0;
}

/* One 3-digit group into *v (v = v * 1000 + group), overflow-checked. */
static int cur_group(struct cursor *c, uint64_t *v)
{
    uint64_t g;

    if (!cur_digit(c, 0) || !cur_digit(c, 1) || !cur_digit(c, 2))
        return GL_EPARSE;
    g = (uint64_t)(c->s[c->at] - '0') * 100 + (uint64_t)(c->s[c->at + 1] - '0') * 10 +
        (uint64_t)(c->s[c->at + 2] - '0');
    if (*v > (UINT64_MAX - g) / 1000)
        return GL_EPARSE;
    *v = *v * 1000 + g;
    c->at += 3;
    return 0;
}

/* N: ("x" group "/")* group, the first x-group non-zero. */
static int cur_index(struct cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    size_t groups = 0;
    int err;

    while (cur_lit(c, "x")) {
        if ((err = cur_group(c, &v)) != 0)
            return err;
        if ((groups == 0 && v == 0) || !cur_lit(c, "/"))
            return GL_EPARSE;
        groups++;
    }
    if (groups + 1 > N_GROUPS_MAX || cur_group(c, &v) != 0)
        return GL_EPARSE;
    *out = v;
    return 0;
}

static int parse_path(struct cursor *c, struct gl_tile *t, int *entries,
                      struct gl_err *why)
{
    if (!cur_lit(c, "tile/"))
        return gl_err_set(why, GL_EPARSE, 0, "a tile path starts with tile/");
    t->level = 0;
    *entries = cur_lit(c, "entries/");
    if (!*entries &&
        (cur_small(c, 2, GL_TILE_MAX_LEVEL, &t->level) != 0 || !cur_lit(c, "/")))
        return gl_err_set(why, GL_EPARSE, 0,
                          "want tile/<level>/ (level 0 to %d, no leading zeros) or "
                          "tile/entries/",
                          GL_TILE_MAX_LEVEL);
    if (cur_index(c, &t->index) != 0)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the tile index is not 3-digit groups, all but the last "
                          "x-prefixed (x001/234)");
    t->width = GL_TILE_WIDTH;
    if (cur_lit(c, ".p/") && cur_small(c, 3, GL_TILE_WIDTH - 1, &t->width) != 0)
        return gl_err_set(why, GL_EPARSE, 0,
                          "the partial width after .p/ is not 1 to %d without leading "
                          "zeros",
                          GL_TILE_WIDTH - 1);
    if (t->width == 0)
        return gl_err_set(why, GL_EPARSE, 0, "a partial tile has width 1 to %d",
                          GL_TILE_WIDTH - 1);
    if (c->at != c->len)
        return gl_err_set(why, GL_EPARSE, 0, "unexpected bytes after the tile path");
    return 0;
}

int gl_tile_path_parse(const char *path, size_t len, struct gl_tile *t, int *entries,
                       struct gl_err *why)
{
    struct cursor c = {path, len, 0};
    struct gl_tile got;
    char again[GL_TILE_PATH_MAX];
    size_t n;
    int ent = 0, err;

    if (len >= GL_TILE_PATH_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "tile path longer than %d bytes",
                          GL_TILE_PATH_MAX - 1);
    if ((err = parse_path(&c, &got, &ent, why)) != 0)
        return err;
    if (gl_tile_path_format(&got, ent, again, &n) != 0 || n != len ||
        memcmp(again, path, len) != 0)
        return gl_err_set(why, GL_EPARSE, 0, "not the canonical form of a tile path");
    *t = got;
    *entries = ent;
    return 0;
}

/* ---- entry bundles ----------------------------------------------------------- */

int gl_tile_bundle_encode(const struct gl_tile_entry *e, size_t n, struct gl_buf *out)
{
    size_t i, old = out->len;
    uint8_t hdr[2];
    int err = 0;

    if (n == 0 || n > GL_TILE_WIDTH)
        return GL_EINVAL;
    for (i = 0; i < n; i++)
        if (e[i].len > GL_TILE_ENTRY_MAX)
            return GL_ETOOBIG;
    for (i = 0; i < n && err == 0; i++) {
        hdr[0] = (uint8_t)(e[i].len >> 8);
        hdr[1] = (uint8_t)e[i].len;
        err = gl_buf_append(out, hdr, 2);
        if (err == 0)
            err = gl_buf_append(out, e[i].data, e[i].len);
    }
    if (err != 0)
        gl_buf_truncate(out, old);
    return err;
}

int gl_tile_bundle_decode(const uint8_t *data, size_t len, size_t want,
                          struct gl_tile_entry *out, size_t *n)
{
    size_t at = 0, count = 0, max = want != 0 ? want : GL_TILE_WIDTH, elen;

    if (want > GL_TILE_WIDTH)
        return GL_EINVAL;
    if (len > GL_TILE_BUNDLE_MAX)
        return GL_ETOOBIG;
    while (at < len) {
        if (count == max || len - at < 2)
            return GL_EPARSE; /* trailing bytes or a truncated length */
        elen = (size_t)data[at] << 8 | data[at + 1];
        at += 2;
        if (len - at < elen)
            return GL_EPARSE; /* truncated entry */
        out[count].data = data + at;
        out[count].len = elen;
        count++;
        at += elen;
    }
    if (count == 0 || (want != 0 && count != want))
        return GL_EPARSE;
    *n = count;
    return 0;
}

/* ---- reading tiles from a copy that dropped its partial tiles ------------- */

int gl_tile_trim(const struct gl_tile *t, int entries, struct gl_buf *body,
                 struct gl_err *why)
{
    struct gl_tile_entry e[GL_TILE_WIDTH];
    size_t n;

    if (t->width < 1 || t->width > GL_TILE_WIDTH)
        return GL_EINVAL;
    if (!entries) {
        if (body->len != (size_t)GL_TILE_WIDTH * HLEN)
            return gl_err_set(why, GL_EPARSE, 0,
                              "%zu bytes, not a full tile of %d hashes", body->len,
                              GL_TILE_WIDTH);
        gl_buf_truncate(body, (size_t)t->width * HLEN);
        return 0;
    }
    if (gl_tile_bundle_decode(body->data, body->len, GL_TILE_WIDTH, e, &n) != 0)
        return gl_err_set(why, GL_EPARSE, 0, "%zu bytes, not a bundle of %d entries",
                          body->len, GL_TILE_WIDTH);
    gl_buf_truncate(body,
                    (size_t)(e[t->width - 1].data + e[t->width - 1].len - body->data));
    return 0;
}

int gl_tile_fetch(const struct gl_tile *t, int entries, gl_tile_get_fn get, void *ctx,
                  struct gl_buf *body, struct gl_err *why)
{
    struct gl_tile full = *t;
    char path[GL_TILE_PATH_MAX], fpath[GL_TILE_PATH_MAX];
    size_t max = entries ? GL_TILE_BUNDLE_MAX : (size_t)t->width * HLEN;
    int rc;

    if ((rc = gl_tile_path_format(t, entries, path, NULL)) != 0)
        return gl_err_set(why, rc, 0, "not a tile");
    rc = get(ctx, path, max, body);
    if (rc != GL_ENOTFOUND || t->width == GL_TILE_WIDTH)
        return rc;
    full.width = GL_TILE_WIDTH;
    gl_tile_path_format(&full, entries, fpath, NULL);
    max = entries ? GL_TILE_BUNDLE_MAX : (size_t)GL_TILE_WIDTH * HLEN;
    if ((rc = get(ctx, fpath, max, body)) != 0)
        return rc;
    if ((rc = gl_tile_trim(t, entries, body, why)) != 0)
        gl_err_wrap(why, rc, 0, fpath);
    return rc;
}
