/*
 * fuzz_mirror: lib/mirror.c's parsers of the C2SP tlog-mirror wire
 * formats, fed the same bytes: the add-entries header and the packages of
 * its canonical sequence that follow, a mirror-info body, and a ticket
 * (opened under a fixed key). Nothing may crash; every view must lie
 * inside the input; whatever parses must encode back to exactly the bytes
 * it was parsed from; every refusal must say why (fuzz_check_why). The
 * input also seeds a ticket that must open to its fields and stop opening
 * once any byte of it is changed.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "glasslog/mirror.h"

#define MAX_PACKAGES 64 /* packages tried after a header */

static const uint8_t tkey[GL_MIRROR_TICKET_KEY] = "fuzz_mirror ticket key 32 bytes";
static const uint8_t toh[GL_HASH_LEN] = "fuzz_mirror origin hash 32 bytes";

static int inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
    const uint8_t *b = p;
    return n == 0 || (b >= data && b <= data + size && n <= (size_t)(data + size - b));
}

/* The header, then the packages after it. */
static void fuzz_upload(const uint8_t *data, size_t size)
{
    struct gl_mirror_upload u;
    struct gl_mirror_package *p;
    struct gl_err why;
    struct gl_buf b;
    size_t at = 0, used = 0;
    int rc;

    memset(&why, 0, sizeof why);
    if ((rc = gl_mirror_upload_parse(data, size, &u, &at, &why)) != 0) {
        fuzz_check_why(rc, &why, data, size);
        return;
    }
    if (at > size || !inside(u.origin, u.origin_len, data, size) ||
        !inside(u.ticket, u.ticket_len, data, size) || u.start > u.end ||
        u.ticket_len > GL_MIRROR_TICKET_MAX)
        abort();
    gl_buf_init(&b, GL_MIRROR_PACKAGE_MAX);
    if (gl_mirror_upload_encode(u.origin, u.origin_len, u.start, u.end, u.ticket,
                                u.ticket_len, &b) != 0 ||
        b.len != at || memcmp(b.data, data, at) != 0)
        abort();
    if ((p = malloc(sizeof *p)) == NULL)
        goto out;
    uint64_t np = gl_mirror_npackages(u.start, u.end);
    for (uint64_t i = 0; i < np && i < MAX_PACKAGES; i++) {
        if (gl_mirror_package_bounds(u.start, u.end, i, p) != 0 ||
            p->subtree_start % GL_MIRROR_PACKAGE != 0 || p->start < u.start ||
            p->end > u.end || p->start >= p->end ||
            p->end - p->subtree_start > GL_MIRROR_PACKAGE)
            abort();
        memset(&why, 0, sizeof why);
        if ((rc = gl_mirror_package_parse(data + at, size - at, p, &used, &why)) != 0) {
            fuzz_check_why(rc, &why, data, size);
            break;
        }
        size_t n = (size_t)(p->end - p->start);
        if (used > size - at || p->nproof > GL_MIRROR_MAX_HASHES)
            abort();
        for (size_t k = 0; k < n; k++)
            if (!inside(p->entries[k].data, p->entries[k].len, data + at, used))
                abort();
        gl_buf_reset(&b);
        if (gl_mirror_package_encode(p->entries, n,
                                     (const uint8_t(*)[GL_HASH_LEN])p->proof, p->nproof,
                                     &b) != 0 ||
            b.len != used || memcmp(b.data, data + at, used) != 0)
            abort();
        at += used;
    }
    free(p);
out:
    gl_buf_release(&b);
}

static void fuzz_info(const uint8_t *data, size_t size)
{
    uint8_t *t = malloc(GL_MIRROR_PEER_TICKET_MAX);
    uint64_t isize, next;
    size_t tl = 0;
    struct gl_err why;
    struct gl_buf b;
    int rc;

    if (t == NULL)
        return;
    memset(&why, 0, sizeof why);
    rc = gl_mirror_info_parse((const char *)data, size, &isize, &next, t,
                              GL_MIRROR_PEER_TICKET_MAX, &tl, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc == 0 && tl > GL_MIRROR_PEER_TICKET_MAX)
        abort();
    if (rc == 0 && tl <= GL_MIRROR_TICKET_MAX) {
        /* the three lines are canonical: they format back byte for byte
         * (the formatter takes this mirror's own tickets only) */
        gl_buf_init(&b, GL_MIRROR_INFO_MAX * 2);
        if (gl_mirror_info_format(isize, next, t, tl, &b) != 0 || b.len != size ||
            memcmp(b.data, data, size) != 0)
            abort();
        gl_buf_release(&b);
    }
    free(t);
}

/* The input as a ticket: it opens only if it is one sealed with tkey
 * (then it seals back to itself). */
static void fuzz_ticket_open(const uint8_t *data, size_t size)
{
    struct gl_mirror_ticket t;
    struct gl_err why;
    struct gl_buf b;

    memset(&why, 0, sizeof why);
    int rc = gl_mirror_ticket_open(tkey, toh, data, size, &t, &why);
    fuzz_check_why(rc, &why, data, size);
    if (rc != 0)
        return;
    if (!inside(t.note, t.note_len, data, size))
        abort();
    gl_buf_init(&b, GL_MIRROR_TICKET_MAX);
    if (gl_mirror_ticket_seal(tkey, toh, t.size, t.root, t.note, t.note_len, &b) != 0 ||
        b.len != size || memcmp(b.data, data, size) != 0)
        abort();
    gl_buf_release(&b);
}

/* A ticket sealed from the input's bytes opens to its fields; changed in
 * one byte (chosen by the input), cut short, or opened for another origin
 * or under another key, it does not. */
static void fuzz_ticket_seal(const uint8_t *data, size_t size)
{
    uint8_t root[GL_HASH_LEN] = {0}, other[GL_HASH_LEN];
    uint64_t tsize = 0;
    struct gl_mirror_ticket t;
    struct gl_buf b;

    for (size_t i = 0; i < 8 && i < size; i++)
        tsize = tsize << 8 | data[i];
    memcpy(root, data + (size < 8 ? size : 8),
           size < 8 ? 0 : (size - 8 < GL_HASH_LEN ? size - 8 : GL_HASH_LEN));
    size_t skip = size < 8 + GL_HASH_LEN ? size : 8 + GL_HASH_LEN;
    const char *note = (const char *)data + skip;
    size_t nl = size - skip;
    gl_buf_init(&b, GL_MIRROR_TICKET_MAX);
    int rc = gl_mirror_ticket_seal(tkey, toh, tsize, root, note, nl, &b);
    if (nl > GL_MIRROR_TICKET_NOTE_MAX) {
        if (rc != GL_ETOOBIG || b.len != 0)
            abort();
        goto out;
    }
    if (rc != 0 || b.len != GL_MIRROR_TICKET_OVERHEAD + nl ||
        gl_mirror_ticket_open(tkey, toh, b.data, b.len, &t, NULL) != 0 ||
        t.size != tsize || memcmp(t.root, root, GL_HASH_LEN) != 0 || t.note_len != nl ||
        memcmp(t.note, note, nl) != 0)
        abort();
    memcpy(other, toh, sizeof other);
    other[size % GL_HASH_LEN] ^= 1;
    if (gl_mirror_ticket_open(tkey, other, b.data, b.len, &t, NULL) == 0 ||
        gl_mirror_ticket_open(toh, toh, b.data, b.len, &t, NULL) == 0 ||
        gl_mirror_ticket_open(tkey, toh, b.data, b.len - 1, &t, NULL) == 0)
        abort();
    size_t at = (size_t)(tsize % b.len);
    b.data[at] ^= (uint8_t)(1u << (size % 8));
    if (gl_mirror_ticket_open(tkey, toh, b.data, b.len, &t, NULL) == 0)
        abort();
out:
    gl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_upload(data, size);
    fuzz_info(data, size);
    fuzz_ticket_open(data, size);
    fuzz_ticket_seal(data, size);
    return 0;
}
