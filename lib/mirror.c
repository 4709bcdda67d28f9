/*
 * mirror: C2SP tlog-mirror wire formats (include/glasslog/mirror.h).
 *
 * Everything is a bounded read of big-endian fields from the caller's
 * bytes; nothing is allocated except by the encoders (into gl_buf).
 * Invariants: package bounds always satisfy subtree_start <= start < end
 * <= subtree_start + 256 with subtree_start a multiple of 256, so each
 * package's subtree is valid (subtree.h).
 */
#include "glasslog/mirror.h"

#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "glasslog/codec.h"

#define PKG GL_MIRROR_PACKAGE

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static int put_be(struct gl_buf *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return gl_buf_append(b, t, n);
}

int gl_mirror_upload_parse(const uint8_t *body, size_t n, struct gl_mirror_upload *u,
                           size_t *used, struct gl_err *why)
{
    size_t at = 0;
    if (body == NULL || u == NULL || used == NULL)
        return GL_EINVAL;
    if (n < 2)
        return gl_err_set(why, GL_EPARSE, 0, "truncated header: no origin length");
    size_t ol = (size_t)get_be(body, 2);
    at = 2;
    if (n - at < ol + 16 + 2)
        return gl_err_set(why, GL_EPARSE, 0, "truncated header");
    u->origin = (const char *)body + at;
    u->origin_len = ol;
    at += ol;
    u->start = get_be(body + at, 8);
    u->end = get_be(body + at + 8, 8);
    at += 16;
    size_t tl = (size_t)get_be(body + at, 2);
    at += 2;
    if (tl > GL_MIRROR_TICKET_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "ticket of %zu bytes (at most %d)", tl,
                          GL_MIRROR_TICKET_MAX);
    if (n - at < tl)
        return gl_err_set(why, GL_EPARSE, 0, "truncated header: ticket");
    u->ticket = body + at;
    u->ticket_len = tl;
    at += tl;
    if (u->start > u->end)
        return gl_err_set(why, GL_EPARSE, 0, "upload_start %llu is above upload_end %llu",
                          (unsigned long long)u->start, (unsigned long long)u->end);
    *used = at;
    return 0;
}

int gl_mirror_upload_encode(const char *origin, size_t origin_len, uint64_t start,
                            uint64_t end, const uint8_t *ticket, size_t ticket_len,
                            struct gl_buf *out)
{
    if (origin == NULL || out == NULL || start > end ||
        origin_len > GL_MIRROR_ORIGIN_MAX || ticket_len > GL_MIRROR_PEER_TICKET_MAX ||
        (ticket == NULL && ticket_len != 0))
        return GL_EINVAL;
    size_t mark = out->len;
    int rc = put_be(out, origin_len, 2);
    if (rc == 0)
        rc = gl_buf_append(out, origin, origin_len);
    if (rc == 0)
        rc = put_be(out, start, 8);
    if (rc == 0)
        rc = put_be(out, end, 8);
    if (rc == 0)
        rc = put_be(out, ticket_len, 2);
    if (rc == 0 && ticket_len > 0)
        rc = gl_buf_append(out, ticket, ticket_len);
    if (rc != 0)
        gl_buf_truncate(out, mark);
    return rc;
}

int gl_mirror_body_room(size_t len, uint64_t n, uint64_t max)
{
    return n == 0 || (n < max && len < GL_MIRROR_BODY_SOFT);
}

uint64_t gl_mirror_npackages(uint64_t start, uint64_t end)
{
    if (start >= end)
        return 0;
    uint64_t rs = start / PKG, re = end / PKG + (end % PKG != 0);
    return re - rs;
}

int gl_mirror_package_bounds(uint64_t upload_start, uint64_t upload_end, uint64_t i,
                             struct gl_mirror_package *p)
{
    if (p == NULL)
        return GL_EINVAL;
    if (i >= gl_mirror_npackages(upload_start, upload_end))
        return GL_ERANGE;
    uint64_t base = (upload_start / PKG + i) * PKG;
    p->subtree_start = base;
    p->start = upload_start > base ? upload_start : base;
    p->end = upload_end - base < PKG ? upload_end : base + PKG;
    p->nproof = 0;
    assert(p->subtree_start <= p->start && p->start < p->end &&
           p->end - p->subtree_start <= PKG);
    return 0;
}

int gl_mirror_package_parse(const uint8_t *b, size_t n, struct gl_mirror_package *p,
                            size_t *used, struct gl_err *why)
{
    if (b == NULL || p == NULL || used == NULL || p->start >= p->end ||
        p->end - p->start > PKG)
        return GL_EINVAL;
    size_t at = 0, count = (size_t)(p->end - p->start);
    for (size_t i = 0; i < count; i++) {
        if (n - at < 2)
            return gl_err_set(why, GL_EPARSE, 0, "truncated package: entry %zu of %zu", i,
                              count);
        size_t len = (size_t)get_be(b + at, 2);
        at += 2;
        if (n - at < len)
            return gl_err_set(why, GL_EPARSE, 0, "truncated package: entry %zu of %zu", i,
                              count);
        p->entries[i].data = b + at;
        p->entries[i].len = len;
        at += len;
    }
    if (n - at < 1)
        return gl_err_set(why, GL_EPARSE, 0, "truncated package: no proof length");
    size_t nh = b[at++];
    if (nh > GL_MIRROR_MAX_HASHES)
        return gl_err_set(why, GL_ERANGE, 0, "package proof of %zu hashes (at most %d)",
                          nh, GL_MIRROR_MAX_HASHES);
    if ((n - at) / GL_HASH_LEN < nh)
        return gl_err_set(why, GL_EPARSE, 0, "truncated package: proof");
    memcpy(p->proof, b + at, nh * GL_HASH_LEN);
    p->nproof = nh;
    at += nh * GL_HASH_LEN;
    *used = at;
    return 0;
}

int gl_mirror_package_encode(const struct gl_tile_entry *e, size_t n,
                             const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                             struct gl_buf *out)
{
    if (e == NULL || out == NULL || n == 0 || n > PKG || nproof > GL_MIRROR_MAX_HASHES ||
        (proof == NULL && nproof != 0))
        return GL_EINVAL;
    size_t mark = out->len;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (e[i].len > GL_TILE_ENTRY_MAX)
            rc = GL_ETOOBIG;
        if (rc == 0)
            rc = put_be(out, e[i].len, 2);
        if (rc == 0 && e[i].len > 0)
            rc = gl_buf_append(out, e[i].data, e[i].len);
    }
    if (rc == 0)
        rc = gl_buf_putc(out, (uint8_t)nproof);
    if (rc == 0 && nproof > 0)
        rc = gl_buf_append(out, proof, nproof * GL_HASH_LEN);
    if (rc != 0)
        gl_buf_truncate(out, mark);
    return rc;
}

int gl_mirror_info_format(uint64_t size, uint64_t next, const uint8_t *ticket,
                          size_t ticket_len, struct gl_buf *out)
{
    char b64[2 * GL_MIRROR_TICKET_MAX];
    if (out == NULL || ticket_len > GL_MIRROR_TICKET_MAX ||
        (ticket == NULL && ticket_len))
        return GL_EINVAL;
    b64[0] = 0;
    if (ticket_len > 0) {
        int rc = gl_base64_encode(ticket, ticket_len, b64, sizeof b64);
        if (rc != 0)
            return rc;
    }
    return gl_buf_printf(out, "%llu\n%llu\n%s\n", (unsigned long long)size,
                         (unsigned long long)next, b64);
}

int gl_mirror_info_parse(const char *s, size_t n, uint64_t *size, uint64_t *next,
                         uint8_t *ticket, size_t ticket_max, size_t *ticket_len,
                         struct gl_err *why)
{
    uint64_t sz, nx;
    if (s == NULL || size == NULL || next == NULL ||
        ticket_max > GL_MIRROR_PEER_TICKET_MAX)
        return GL_EINVAL;
    if (n > GL_MIRROR_PEER_INFO_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "mirror info of %zu bytes (at most %d)", n,
                          GL_MIRROR_PEER_INFO_MAX);
    const char *line[3];
    size_t len[3], at = 0;
    for (int i = 0; i < 3; i++) {
        const char *nl = at < n ? memchr(s + at, '\n', n - at) : NULL;
        if (nl == NULL)
            return gl_err_set(why, GL_EPARSE, (size_t)i + 1, "missing line %d", i + 1);
        line[i] = s + at;
        len[i] = (size_t)(nl - line[i]);
        at += len[i] + 1;
    }
    if (at != n)
        return gl_err_set(why, GL_EPARSE, 4, "trailing bytes after three lines");
    if (gl_parse_u64(line[0], len[0], &sz) != 0)
        return gl_err_set(why, GL_EPARSE, 1, "tree size is not a decimal number");
    if (gl_parse_u64(line[1], len[1], &nx) != 0)
        return gl_err_set(why, GL_EPARSE, 2, "next entry is not a decimal number");
    /* checked and counted first, so that nothing is written on failure */
    size_t tl = 0;
    int canonical = 1;
    if (len[2] > 0 &&
        (gl_base64_decode_lax(line[2], len[2], NULL, 0, &tl, &canonical) != 0 ||
         !canonical))
        return gl_err_set(why, GL_EPARSE, 3, "ticket is not base64");
    if (tl > ticket_max)
        return gl_err_set(why, GL_ETOOBIG, 3, "ticket of %zu bytes (at most %zu)", tl,
                          ticket_max);
    if (ticket != NULL && tl > 0 &&
        gl_base64_decode(line[2], len[2], ticket, ticket_max, &tl) != 0)
        return gl_err_set(why, GL_EPARSE, 3, "ticket is not base64");
    *size = sz;
    *next = nx;
    if (ticket_len != NULL)
        *ticket_len = tl;
    return 0;
}

/* --- tickets ---------------------------------------------------------------------- */

static const char ticket_domain[] = "glasslog mirror ticket v1\n";
#define TICKET_VERSION 1
#define DOMAIN_LEN (sizeof(ticket_domain) - 1)

/* mac = HMAC-SHA256(key, domain || origin_hash || b[0..n)), n at most
 * GL_MIRROR_TICKET_MAX. */
static int ticket_mac(const uint8_t key[GL_MIRROR_TICKET_KEY],
                      const uint8_t origin_hash[GL_HASH_LEN], const uint8_t *b, size_t n,
                      uint8_t mac[32])
{
    uint8_t msg[DOMAIN_LEN + GL_HASH_LEN + GL_MIRROR_TICKET_MAX];
    unsigned int ml = 0;
    assert(n <= GL_MIRROR_TICKET_MAX);
    memcpy(msg, ticket_domain, DOMAIN_LEN);
    memcpy(msg + DOMAIN_LEN, origin_hash, GL_HASH_LEN);
    if (n > 0)
        memcpy(msg + DOMAIN_LEN + GL_HASH_LEN, b, n);
    int ok = HMAC(EVP_sha256(), key, GL_MIRROR_TICKET_KEY, msg,
                  DOMAIN_LEN + GL_HASH_LEN + n, mac, &ml) != NULL &&
             ml == 32;
    OPENSSL_cleanse(msg, sizeof msg);
    return ok ? 0 : GL_ECRYPTO;
}

int gl_mirror_ticket_seal(const uint8_t key[GL_MIRROR_TICKET_KEY],
                          const uint8_t origin_hash[GL_HASH_LEN], uint64_t size,
                          const uint8_t root[GL_HASH_LEN], const char *note,
                          size_t note_len, struct gl_buf *out)
{
    uint8_t t[GL_MIRROR_TICKET_MAX];
    size_t at = 0;
    if (key == NULL || origin_hash == NULL || root == NULL || out == NULL ||
        (note == NULL && note_len != 0))
        return GL_EINVAL;
    if (note_len > GL_MIRROR_TICKET_NOTE_MAX)
        return GL_ETOOBIG;
    t[at++] = TICKET_VERSION;
    for (int i = 7; i >= 0; i--)
        t[at++] = (uint8_t)(size >> (8 * i));
    memcpy(t + at, root, GL_HASH_LEN);
    at += GL_HASH_LEN;
    t[at++] = (uint8_t)(note_len >> 8);
    t[at++] = (uint8_t)note_len;
    if (note_len > 0)
        memcpy(t + at, note, note_len);
    at += note_len;
    int rc = ticket_mac(key, origin_hash, t, at, t + at);
    at += 32;
    assert(at == GL_MIRROR_TICKET_OVERHEAD + note_len && at <= sizeof t);
    return rc == 0 ? gl_buf_append(out, t, at) : rc;
}

int gl_mirror_ticket_open(const uint8_t key[GL_MIRROR_TICKET_KEY],
                          const uint8_t origin_hash[GL_HASH_LEN], const uint8_t *t,
                          size_t n, struct gl_mirror_ticket *out, struct gl_err *why)
{
    uint8_t mac[32];
    if (key == NULL || origin_hash == NULL || (t == NULL && n != 0) || out == NULL)
        return GL_EINVAL;
    if (n > GL_MIRROR_TICKET_MAX)
        return gl_err_set(why, GL_ETOOBIG, 0, "ticket of %zu bytes (at most %d)", n,
                          GL_MIRROR_TICKET_MAX);
    if (n < GL_MIRROR_TICKET_OVERHEAD)
        return gl_err_set(why, GL_EPARSE, 0, "ticket of %zu bytes (at least %d)", n,
                          GL_MIRROR_TICKET_OVERHEAD);
    if (t[0] != TICKET_VERSION)
        return gl_err_set(why, GL_EPARSE, 0, "ticket version %u (want %d)", t[0],
                          TICKET_VERSION);
    if (ticket_mac(key, origin_hash, t, n - 32, mac) != 0)
        return gl_err_set(why, GL_ECRYPTO, 0, "cannot compute the ticket's MAC");
    if (CRYPTO_memcmp(mac, t + n - 32, 32) != 0)
        return gl_err_set(why, GL_EVERIFY, 0, "the ticket's MAC does not verify");
    size_t nl = (size_t)get_be(t + 1 + 8 + GL_HASH_LEN, 2);
    if (nl != n - GL_MIRROR_TICKET_OVERHEAD)
        return gl_err_set(why, GL_EPARSE, 0, "ticket note of %zu bytes in %zu", nl, n);
    out->size = get_be(t + 1, 8);
    memcpy(out->root, t + 1 + 8, GL_HASH_LEN);
    out->note = (const char *)t + 1 + 8 + GL_HASH_LEN + 2;
    out->note_len = nl;
    return 0;
}
