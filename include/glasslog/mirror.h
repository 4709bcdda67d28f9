/*
 * mirror: C2SP tlog-mirror wire formats.
 *
 * add-entries request body:
 *   u16 origin length || origin || u64 upload_start || u64 upload_end ||
 *   u16 ticket length || ticket || entry packages
 * (big-endian). [upload_start, upload_end) is cut into the canonical
 * sequence of packages aligned at multiples of 256: package i covers
 *   start = max(upload_start, rounded_start + 256 i)
 *   end   = min(upload_end,   rounded_start + 256 (i + 1))
 * and is (u16 length || entry) for each entry of [start, end), then
 * u8 num_hashes (at most 63) and num_hashes hashes: the subtree
 * consistency proof (subtree.h) of [rounded_start + 256 i, end) into the
 * tree of size upload_end.
 *
 * Mirror info (409 and 202 replies, text/x.tlog.mirror-info): three lines,
 * each ending "\n": a pending tree size, the next entry (decimal), and a
 * ticket in base64 (possibly empty).
 *
 * Two ticket caps. A client sends a ticket back in the u16 field above, so
 * any mirror's ticket may be up to GL_MIRROR_PEER_TICKET_MAX (65535)
 * bytes: what glasslogd's push takes from a mirror and echoes (its info
 * body then up to GL_MIRROR_PEER_INFO_MAX bytes, the ticket in base64).
 * This mirror issues and accepts only its own tickets, at most
 * GL_MIRROR_TICKET_MAX (2048) bytes (seal, open, the upload header it
 * parses, the info it formats, in GL_MIRROR_INFO_MAX bytes).
 *
 * Ticket (opaque to clients; this mirror's own format):
 *   u8 version (1) || u64 size || root[32] || u16 note length || note ||
 *   mac[32]
 * a pending checkpoint (its size, root hash and the log's signed note)
 * sealed by mac = HMAC-SHA256(key, "glasslog mirror ticket v1\n" ||
 * SHA-256(origin) || every byte before mac). The key is the mirror's
 * secret, so a ticket that opens is one this mirror issued for this
 * origin; the MAC is compared in constant time before any field is used.
 *
 * Parsers only point into the caller's bytes; every field has a cap
 * (origin GL_MIRROR_ORIGIN_MAX, ticket GL_MIRROR_TICKET_MAX in an upload
 * header and up to GL_MIRROR_PEER_TICKET_MAX in mirror info, 256 entries
 * of at most 65535 bytes, 63 hashes).
 * Functions return 0 or a negative GL_E* code; why (may be NULL) says
 * what was refused.
 */
#ifndef GLASSLOG_MIRROR_H
#define GLASSLOG_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/merkle.h"
#include "glasslog/tile.h"

#define GL_MIRROR_PACKAGE 256           /* entries in a full package */
#define GL_MIRROR_MAX_HASHES 63         /* hashes in a package's proof */
#define GL_MIRROR_ORIGIN_MAX 65535      /* u16 */
#define GL_MIRROR_TICKET_MAX 2048       /* tickets this mirror issues and accepts */
#define GL_MIRROR_INFO_MAX 4096         /* bytes of a mirror-info body it formats */
#define GL_MIRROR_PEER_TICKET_MAX 65535 /* u16: any mirror's ticket, echoed */
/* The longest mirror-info body of any mirror: two decimal u64 (at most 20
 * digits) and a base64 ticket of GL_MIRROR_PEER_TICKET_MAX bytes (87380
 * characters), each and a "\n": 87423 bytes. */
#define GL_MIRROR_PEER_INFO_MAX                                                          \
    (2 * (20 + 1) + (GL_MIRROR_PEER_TICKET_MAX + 2) / 3 * 4 + 1)
_Static_assert(GL_MIRROR_INFO_MAX >=
                   2 * (20 + 1) + (GL_MIRROR_TICKET_MAX + 2) / 3 * 4 + 1,
               "the info this mirror formats fits GL_MIRROR_INFO_MAX");
#define GL_MIRROR_TICKET_KEY 32 /* bytes of a ticket key */
/* A ticket's bytes around its note: version, size, root, note length, mac. */
#define GL_MIRROR_TICKET_OVERHEAD (1 + 8 + GL_HASH_LEN + 2 + 32)
/* The longest note a ticket can carry. */
#define GL_MIRROR_TICKET_NOTE_MAX (GL_MIRROR_TICKET_MAX - GL_MIRROR_TICKET_OVERHEAD)
/* Largest encoded package: 256 entries of 65535 bytes and 63 hashes. */
#define GL_MIRROR_PACKAGE_MAX                                                            \
    ((size_t)GL_MIRROR_PACKAGE * (2 + 65535) + 1 +                                       \
     (size_t)GL_MIRROR_MAX_HASHES * GL_HASH_LEN)

/* The request header (pointers into the parsed body). */
struct gl_mirror_upload {
    const char *origin;
    size_t origin_len;
    uint64_t start, end;
    const uint8_t *ticket;
    size_t ticket_len;
};

/* One package (pointers into the parsed body). */
struct gl_mirror_package {
    uint64_t subtree_start; /* rounded_start + 256 i */
    uint64_t start, end;    /* the entries it carries */
    struct gl_tile_entry entries[GL_MIRROR_PACKAGE];
    uint8_t proof[GL_MIRROR_MAX_HASHES][GL_HASH_LEN];
    size_t nproof;
};

/* Parses the header at the start of body (n bytes; this mirror's side);
 * *used gets its length. GL_EPARSE if truncated or upload_start >
 * upload_end, GL_ETOOBIG for a ticket over GL_MIRROR_TICKET_MAX (not one
 * this mirror issued). */
int gl_mirror_upload_parse(const uint8_t *body, size_t n, struct gl_mirror_upload *u,
                           size_t *used, struct gl_err *why);
/* Appends a header to out (a client's side: ticket_len up to
 * GL_MIRROR_PEER_TICKET_MAX). GL_EINVAL for start > end or fields over
 * their caps. */
int gl_mirror_upload_encode(const char *origin, size_t origin_len, uint64_t start,
                            uint64_t end, const uint8_t *ticket, size_t ticket_len,
                            struct gl_buf *out);

/* Number of packages in the canonical sequence of [start, end). */
uint64_t gl_mirror_npackages(uint64_t start, uint64_t end);
/* An add-entries body being built stops taking packages once it holds
 * this many bytes, so that it stays under what mirrors accept (a
 * glasslog witness's mirror: 34 MiB, gzipped or not): at most
 * GL_MIRROR_BODY_BUILT bytes, since the last package may pass it. */
#define GL_MIRROR_BODY_SOFT ((size_t)16 << 20)
#define GL_MIRROR_BODY_BUILT                                                             \
    (GL_MIRROR_BODY_SOFT + GL_MIRROR_PACKAGE_MAX + 2 + GL_MIRROR_ORIGIN_MAX + 16 + 2 +   \
     GL_MIRROR_PEER_TICKET_MAX)
/* 1 if a body of len bytes holding n packages may take another: always
 * when n is 0 (every body makes progress), else while n < max and len <
 * GL_MIRROR_BODY_SOFT; 0 otherwise. */
int gl_mirror_body_room(size_t len, uint64_t n, uint64_t max);
/* Bounds of package i (< gl_mirror_npackages) into p's subtree_start,
 * start and end. GL_ERANGE if i is out of range. */
int gl_mirror_package_bounds(uint64_t upload_start, uint64_t upload_end, uint64_t i,
                             struct gl_mirror_package *p);

/* Parses one package whose bounds p already holds (from
 * gl_mirror_package_bounds) from b (n bytes); *used gets its length.
 * GL_EPARSE if b ends inside the package (a truncated body: the caller
 * keeps what it had), GL_ERANGE if num_hashes exceeds 63. */
int gl_mirror_package_parse(const uint8_t *b, size_t n, struct gl_mirror_package *p,
                            size_t *used, struct gl_err *why);
/* Appends package entries e[0..n) and proof (nproof hashes) to out.
 * GL_EINVAL for n outside 1..256 or nproof > 63, GL_ETOOBIG for an entry
 * over 65535 bytes or a full buffer. */
int gl_mirror_package_encode(const struct gl_tile_entry *e, size_t n,
                             const uint8_t (*proof)[GL_HASH_LEN], size_t nproof,
                             struct gl_buf *out);

/* Appends a mirror-info body (at most GL_MIRROR_INFO_MAX bytes) to out.
 * GL_EINVAL for a ticket over GL_MIRROR_TICKET_MAX (this mirror's own). */
int gl_mirror_info_format(uint64_t size, uint64_t next, const uint8_t *ticket,
                          size_t ticket_len, struct gl_buf *out);
/* Parses a mirror-info body (n bytes, at most GL_MIRROR_PEER_INFO_MAX).
 * The ticket goes to ticket (caller's, ticket_max bytes, at most
 * GL_MIRROR_PEER_TICKET_MAX) and its length to *ticket_len; ticket may be
 * NULL to only check it (ticket_max still caps it), ticket_len NULL to
 * skip it. GL_ETOOBIG for a body or ticket over its cap, GL_EPARSE for
 * anything malformed, both with why; GL_EINVAL for ticket_max over
 * GL_MIRROR_PEER_TICKET_MAX. On failure nothing is written. */
int gl_mirror_info_parse(const char *s, size_t n, uint64_t *size, uint64_t *next,
                         uint8_t *ticket, size_t ticket_max, size_t *ticket_len,
                         struct gl_err *why);

/* An opened ticket (note points into the ticket's bytes). */
struct gl_mirror_ticket {
    uint64_t size;
    uint8_t root[GL_HASH_LEN];
    const char *note;
    size_t note_len;
};

/* Appends the ticket of pending checkpoint (size, root, note of note_len
 * bytes) for the log whose origin hashes to origin_hash, sealed with key,
 * to out. GL_ETOOBIG if the note is over GL_MIRROR_TICKET_NOTE_MAX
 * (nothing appended), GL_ECRYPTO if HMAC fails. */
int gl_mirror_ticket_seal(const uint8_t key[GL_MIRROR_TICKET_KEY],
                          const uint8_t origin_hash[GL_HASH_LEN], uint64_t size,
                          const uint8_t root[GL_HASH_LEN], const char *note,
                          size_t note_len, struct gl_buf *out);
/* Opens ticket t (n bytes, borrowed: out->note points into it): checks its
 * length (at most GL_MIRROR_TICKET_MAX) and version, then its MAC under
 * key and origin_hash in constant time, then its fields. GL_ETOOBIG,
 * GL_EPARSE (malformed) or GL_EVERIFY (not sealed by key for this
 * origin), with why. */
int gl_mirror_ticket_open(const uint8_t key[GL_MIRROR_TICKET_KEY],
                          const uint8_t origin_hash[GL_HASH_LEN], const uint8_t *t,
                          size_t n, struct gl_mirror_ticket *out, struct gl_err *why);

#endif
