/*
 * entryindex: the secondary-index keys of a log entry (a statement), and
 * bringing a store's indexes up to date. The sequencer puts an entry's
 * keys in the batch that appends it; a store made by an older glasslogd
 * (index version below ENTRYINDEX_VERSION) is re-indexed at start.
 *
 * Keys (store.h enum store_index): ARTIFACT = the statement's sha256;
 * SUBJECT = its subject; SUBJECT_VERSION = subject, a 0 byte, version;
 * SOURCE = every source digest the statement is about (v2): a source
 * statement's own sha256, the source of a build, rule-update or rebuild,
 * each audited digest of an audit-report. So one SOURCE lookup finds a
 * source snapshot with everything built from and said about it.
 * A struct entryindex is a compact view: offsets into the entry's own
 * bytes, so it can travel with the entry at no copying cost.
 */
#ifndef GL_LOG_ENTRYINDEX_H
#define GL_LOG_ENTRYINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/statement.h"
#include "store.h"

/* Bump when the kinds or the keys change: stores below it are re-indexed. */
#define ENTRYINDEX_VERSION 2
#define ENTRYINDEX_SOURCES_MAX GL_STATEMENT_AUDITED_MAX

struct entryindex {
    uint8_t sha256[GL_HASH_LEN];
    uint32_t subject_off, subject_len; /* into the entry's bytes */
    uint32_t version_off, version_len;
    uint32_t nsources; /* 0..ENTRYINDEX_SOURCES_MAX */
    uint8_t sources[ENTRYINDEX_SOURCES_MAX][32];
};

/* The keys of statement st, parsed from the bytes at entry (st points into
 * them). */
void entryindex_of(const struct gl_statement *st, const uint8_t *entry,
                   struct entryindex *out);
/* Puts the keys of the entry at `index` (its bytes: entry) into b. */
void entryindex_put(const struct entryindex *ix, const uint8_t *entry, uint64_t index,
                    struct store_batch *b);
/* The SUBJECT_VERSION key of (subject, version) into out (at least
 * STORE_INDEX_KEY_MAX bytes); *len gets its length. GL_ETOOBIG if it
 * does not fit. */
int entryindex_subject_version(const char *subject, size_t slen, const char *version,
                               size_t vlen, uint8_t *out, size_t *len);
/* Re-indexes entries [0, size) if the store's index version is below
 * ENTRYINDEX_VERSION (logged, with progress), then records the version.
 * Only before the sequencer starts (it commits). An entry that is not a
 * statement is skipped with a warning. */
int entryindex_update(struct store *s, uint64_t size);

#endif
