/*
 * entryindex: see entryindex.h. Re-indexing reads the entries in order,
 * ENTRYINDEX_CHUNK at a time, and commits each chunk's keys as one batch
 * without a state (puts of existing keys are harmless: an index maps a key
 * to a set of indices); the version is recorded only after the last one,
 * so an interrupted run starts over.
 */
#include "entryindex.h"

#include <assert.h>
#include <string.h>

#include "glasslog/error.h"
#include "glasslog/log.h"

#define ENTRYINDEX_CHUNK 4096

void entryindex_of(const struct gl_statement *st, const uint8_t *entry,
                   struct entryindex *out)
{
    const char *base = (const char *)entry;

    assert(st->fields.subject >= base && st->fields.version >= base);
    memcpy(out->sha256, st->fields.sha256, GL_HASH_LEN);
    out->subject_off = (uint32_t)(st->fields.subject - base);
    out->subject_len = (uint32_t)st->fields.subject_len;
    out->version_off = (uint32_t)(st->fields.version - base);
    out->version_len = (uint32_t)st->fields.version_len;
    out->nsources = 0;
    if (st->fields.format != 2)
        return;
    if (st->fields.kind == GL_STATEMENT_SOURCE)
        memcpy(out->sources[out->nsources++], st->fields.sha256, 32);
    else if (gl_statement_has_source(&st->fields))
        memcpy(out->sources[out->nsources++], st->fields.source, 32);
    for (size_t i = 0; i < st->fields.naudited && out->nsources < ENTRYINDEX_SOURCES_MAX;
         i++)
        memcpy(out->sources[out->nsources++], st->fields.audited[i], 32);
}

int entryindex_subject_version(const char *subject, size_t slen, const char *version,
                               size_t vlen, uint8_t *out, size_t *len)
{
    if (slen == 0 || slen + 1 + vlen > STORE_INDEX_KEY_MAX)
        return GL_ETOOBIG;
    memcpy(out, subject, slen);
    out[slen] = 0;
    memcpy(out + slen + 1, version, vlen);
    *len = slen + 1 + vlen;
    return 0;
}

void entryindex_put(const struct entryindex *ix, const uint8_t *entry, uint64_t index,
                    struct store_batch *b)
{
    const char *subject = (const char *)entry + ix->subject_off;
    uint8_t key[STORE_INDEX_KEY_MAX];
    size_t klen;

    store_batch_put_index(b, STORE_INDEX_ARTIFACT, ix->sha256, GL_HASH_LEN, index);
    store_batch_put_index(b, STORE_INDEX_SUBJECT, subject, ix->subject_len, index);
    if (entryindex_subject_version(subject, ix->subject_len,
                                   (const char *)entry + ix->version_off, ix->version_len,
                                   key, &klen) == 0)
        store_batch_put_index(b, STORE_INDEX_SUBJECT_VERSION, key, klen, index);
    for (uint32_t i = 0; i < ix->nsources; i++)
        store_batch_put_index(b, STORE_INDEX_SOURCE, ix->sources[i], 32, index);
}

struct reindex {
    struct store_batch *b;
    uint64_t skipped;
};

static int reindex_one(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct reindex *r = ctx;
    struct gl_statement st;
    struct entryindex ix;

    if (gl_statement_parse((const char *)data, len, &st, NULL) != 0) {
        if (r->skipped++ == 0)
            gl_log(GL_LOG_WARN, "entry %llu is not a statement: not indexed",
                   (unsigned long long)index);
        return 0;
    }
    entryindex_of(&st, data, &ix);
    entryindex_put(&ix, data, index, r->b);
    return 0;
}

int entryindex_update(struct store *s, uint64_t size)
{
    struct reindex r = {NULL, 0};
    uint32_t version;
    int rc;

    if ((rc = store_get_index_version(s, &version)) != 0 || version >= ENTRYINDEX_VERSION)
        return rc;
    if (size > 0)
        gl_log(GL_LOG_INFO, "indexing %llu entries (index version %u -> %u)",
               (unsigned long long)size, version, ENTRYINDEX_VERSION);
    for (uint64_t start = 0; start < size; start += ENTRYINDEX_CHUNK) {
        uint64_t n = size - start < ENTRYINDEX_CHUNK ? size - start : ENTRYINDEX_CHUNK;
        if ((rc = store_batch_new(s, &r.b)) != 0 ||
            (rc = store_scan_entries(s, start, n, reindex_one, &r)) != 0 ||
            (rc = store_batch_commit(r.b, NULL)) != 0)
            goto out;
        store_batch_free(r.b);
        r.b = NULL;
        if ((start / ENTRYINDEX_CHUNK) % 256 == 255)
            gl_log(GL_LOG_INFO, "indexed %llu of %llu entries",
                   (unsigned long long)start + n, (unsigned long long)size);
    }
    if ((rc = store_batch_new(s, &r.b)) != 0)
        goto out;
    store_batch_put_index_version(r.b, ENTRYINDEX_VERSION);
    rc = store_batch_commit(r.b, NULL);
out:
    store_batch_free(r.b);
    if (rc != 0)
        gl_log(GL_LOG_ERROR, "indexing the entries failed: %s", gl_strerror(rc));
    return rc;
}
