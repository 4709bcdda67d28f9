/*
 * store: glasslogd's durable state behind one contract, whatever holds it.
 * Backends are separate files chosen at run time by store_open:
 *   rocksdb     (store_rocksdb.c) an embedded RocksDB in a data directory,
 *               used by one process (RocksDB locks the directory);
 *   mem         (store_mem.c) in memory, for tests; nothing survives close;
 *   postgresql  (store_pg.c) a PostgreSQL database, which several glasslogd
 *               processes may share.
 *
 * What is stored: the entries (index -> statement bytes), the hash tiles
 * ((level, index) -> 32 * width bytes; a partial tile is a prefix of the
 * full one, so one record serves every width), the leaf-hash index (leaf
 * hash -> index), the secondary indexes (enum store_index: (kind, key) ->
 * indices), the tree state (size and the log-signed checkpoint of that
 * size) and the log's verifier key.
 *
 * THE CONTRACT. Every backend guarantees, and every caller may rely on:
 *  1. Atomicity. A batch (its entries, tiles, indexes and the state with
 *     its checkpoint) is committed all or nothing, also across a crash or
 *     a lost connection: no reader, now or after a restart, ever sees a
 *     checkpoint without every record of its tree, or records of a batch
 *     without its state.
 *  2. Durability before return. store_batch_commit returns 0 only once the
 *     batch is durable (RocksDB: WAL fsync'd; PostgreSQL: COMMIT returned,
 *     durable as the server's synchronous_commit makes it). Nothing built
 *     from a batch (a reply, a released checkpoint) may leave the process
 *     before that return.
 *  3. Compare-and-set. A commit names the state it extends (struct
 *     store_expect: its size, and the sequencer epoch of shared backends).
 *     If the stored state is no longer that one, nothing is written and
 *     the commit returns GL_ESTATE: another sequencer published (or this
 *     one lost its lease). The caller must stop sequencing; it never
 *     retries a lost race.
 *  4. Unknown outcome. GL_EIO from a commit means the batch may or may not
 *     be durable (a disk error, a connection lost during COMMIT). The
 *     caller re-reads the state (store_reopen, then store_get_state) and
 *     builds on what is there; it never assumes either way.
 *  5. Concurrent readers. Reads may run on any thread, while a commit, a
 *     backup or a store_reopen runs on another (or in another process). A reader sees
 * only committed data; after store_get_state returned size N, every record of the tree of
 * size N is readable. Records of a larger tree may be visible too (tiles then hold more
 * hashes than the reader's tree needs: take the prefix). Within a process, a read after a
 * commit returned sees that commit.
 *  6. One writer. Only the sequencer commits, from one thread at a time.
 *     Shared backends let several processes try; the compare-and-set (3)
 *     keeps their trees from ever diverging.
 *  7. Never two histories. store_open with create makes a new, empty log
 *     only where there is none (missing or empty directory, empty
 *     database schema); without create it refuses a missing or empty one.
 *     Records are only added (tiles grow as prefixes), never changed or
 *     removed, except by repair and test tools (store_batch_delete_tile).
 * Errors: GL_ENOTFOUND for an absent record, GL_EPARSE for a corrupt one
 * (logged), GL_EIO for I/O failures (logged), GL_ENOMEM, GL_EINVAL for bad
 * arguments.
 */
#ifndef GL_LOG_STORE_H
#define GL_LOG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "glasslog/buf.h"
#include "glasslog/sha256.h"
#include "glasslog/statement.h"
#include "glasslog/tile.h"

#define STORE_TILE_MAX 8192 /* 256 hashes */
/* Bytes of a secondary-index key: the longest is a SUBJECT_VERSION key of
 * a statement with the longest subject and version (513). */
#define STORE_INDEX_KEY_MAX (GL_STATEMENT_SUBJECT_MAX + 1 + GL_STATEMENT_VERSION_MAX)

struct store;
struct kv_cache; /* lib/net/kv.h */
struct store_batch;

/* The secondary indexes: what a key of each kind is. Every backend
 * serves every kind. */
enum store_index {
    STORE_INDEX_ARTIFACT = 1,        /* artifact SHA-256 (32 bytes) */
    STORE_INDEX_SUBJECT = 2,         /* subject (its bytes) */
    STORE_INDEX_SUBJECT_VERSION = 3, /* subject, a 0 byte, version */
    STORE_INDEX_SOURCE = 4,          /* a source snapshot's SHA-256 (32 bytes) */
    STORE_INDEX_NKINDS = 5           /* one past the last kind */
};

struct store_options {
    /* Where the store is: "mem:" (in memory), a PostgreSQL connection
     * string ("postgresql://..." or "postgres://..."), or NULL to use dir. */
    const char *url;
    const char *dir;         /* RocksDB data directory (when url is NULL) */
    int create;              /* make a new log where there is none */
    size_t cache_mb;         /* RocksDB block cache, MiB (0 = 64) */
    int readonly;            /* rocksdb: open read-only, writing nothing in dir
                              * (fsck); commits fail. Other backends ignore it. */
    unsigned max_open_files; /* rocksdb: table files open at once (0: the
                              * default; kv_options.max_open_files), for a
                              * process holding many stores (the witness's
                              * mirror copies). Others ignore it. */
    struct kv_cache *cache;  /* rocksdb: a block cache shared with other
                              * stores (lib/net/kv.h; cache_mb then unused),
                              * or NULL. Others ignore it. */
    size_t write_buffer_mb;  /* rocksdb: each family's write buffer, MiB
                              * (0 = 16; two at most per family, six
                              * families). Others ignore it. */
};

/* The state a commit extends (the compare-and-set of rule 3). */
struct store_expect {
    uint64_t size;  /* the stored tree size the batch was built on */
    uint64_t epoch; /* the sequencer's epoch (shared backends; else 0) */
};

/* Opens (or, with create, makes) the store o describes. Refuses
 * (GL_ENOTFOUND) a missing or empty store without create, (GL_EEXIST)
 * one with data with create, and (GL_EINVAL) a data directory whose name
 * ends in STORE_BACKUP_PARTIAL (an interrupted backup). *why gets a static one-line
 * reason on error. Caller frees with store_close. */
int store_open(const struct store_options *o, struct store **out, const char **why);
void store_close(struct store *s);
/* The backend's name: "rocksdb", "mem" or "postgresql". */
const char *store_backend(const struct store *s);
/* After a failed commit: reconnects or reopens the store as a restart
 * would, so that what reached the disk becomes the records (rule 4). If it
 * cannot be written any more it stays readable and GL_EIO is returned
 * (logged). Other threads may use s meanwhile: the reopen waits for the
 * operations in progress (reads, a commit, a backup) to end, and
 * operations that start meanwhile wait for the reopen (but those a thread
 * starts inside another of its own, a scan's fn reading again, which pass
 * a waiting reopen), so none sees a half-swapped store. The bound thread
 * (store_bound_thread) waits at most its bound for the operations in
 * progress: if they have not ended by then, GL_EIO (logged), nothing
 * changed, and the caller tries again later; its whole store_reopen, the
 * wait and a PostgreSQL reconnect after it, takes at most that one bound.
 * Other threads wait as long as it takes. Never call it from a store callback (a scan's
 * fn) or with a batch of s being committed on the same thread: it would wait for itself
 * (the bound thread: fail). A batch built before a reopen may still be committed after it
 * (the compare-and-set decides). */
int store_reopen(struct store *s);

/* Online backup: a consistent snapshot of the store as of one instant
 * (every committed batch all or none) into the new directory dir, which
 * then opens as a data directory of its own (--data), marked as a copy
 * (store_get_copy; the mark is in the snapshot before it appears under
 * dir). Runs while the log serves and commits. GL_EEXIST if dir exists, GL_ESTATE if the
 * backend has none (mem; PostgreSQL is backed up with pg_basebackup or PITR), GL_EIO
 * (logged). */
int store_backup(struct store *s, const char *dir);
/* The suffix of the directory a backup is made in before it is complete
 * (dir + this, renamed to dir once the snapshot carries the copy mark). A
 * failed backup removes its own; backup.c sweeps those a crash left; and
 * store_open refuses a data directory so named (a snapshot without the
 * mark would start as the original, with no guard against a rollback). */
#define STORE_BACKUP_PARTIAL ".incomplete"
/* RocksDB builds its checkpoint of dir in dir + this and renames it to
 * dir at the end: a crash before leaves dir.incomplete.tmp, which holds a
 * CURRENT file and opens as a store, so it counts as partial too. */
#define STORE_BACKUP_STAGING ".tmp"
/* 1 if dir, a path or a directory entry's name (trailing slashes
 * ignored), ends in STORE_BACKUP_PARTIAL, or in it and
 * STORE_BACKUP_STAGING: an interrupted backup's, else 0. The one test of
 * that name, for store_open and backup.c's sweep. */
int store_backup_partial(const char *dir);

/* The copy mark: a store made by store_backup or by a restore (restore.h)
 * is a copy that may be stale (the log went on after it was made). It
 * carries a mark, which store_get_copy reads (*copy = 1 if marked, else
 * 0, also on error) and store_set_copy(s, 0) removes once the copy was
 * shown to be current (glasslogd, main.c); store_set_copy(s, 1) sets it
 * (a restore). Each backend keeps the mark in the store itself, beside
 * the log's records: rocksdb under the key "copy" (its backups and
 * restores mark themselves), PostgreSQL as the meta row "copy" (a
 * database restored by pg_basebackup or point-in-time recovery is
 * marked by the operator, README "Backup"). store_set_copy is
 * idempotent, writes nothing but the mark, and returns 0 only once the
 * change is durable (as a commit, rule 2); GL_EIO may leave it done or
 * not (rule 4). The mem backend is never a copy: *copy is 0 and
 * store_set_copy returns GL_ESTATE, writing nothing. */
int store_get_copy(struct store *s, int *copy);
int store_set_copy(struct store *s, int copy);

/* --- reads (any thread; rule 5) ------------------------------------------- */

/* The tree size and checkpoint last committed (size 0 and nothing appended
 * for a new store). checkpoint: appended to the caller's buffer. */
int store_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint);
/* The largest state known durable, and its checkpoint (appended to the
 * caller's buffer): what a follower of a shared store may serve and
 * acknowledge. On PostgreSQL the stored state may be committed on the
 * primary only (a COMMIT whose wait for a synchronous standby was cut
 * short warns, and a fail-over loses it): the sequencer marks a state
 * durable, in a later transaction, only once its commit's wait completed
 * (store_pg.c). GL_ENOTFOUND when the current sequencer (epoch) marked
 * none yet. Other backends: store_get_state (a commit returns once
 * durable). */
int store_get_durable(struct store *s, uint64_t *size, struct gl_buf *checkpoint);
/* The sequencer of a shared store, holding the lease under epoch: makes
 * the stored state known durable and marks it so (store_get_durable), as
 * a batch's commit does, for a state no batch of this epoch marked (just
 * after taking the lease on an idle log, or a mark that failed or was
 * lost). PostgreSQL: a transaction that reads the state under epoch and
 * writes (a row updated to itself) is committed as durable as
 * synchronous_commit makes it (its wait covers the state's commit), then
 * the mark is written. *size and checkpoint (appended to) get the state.
 * Blocks while the commit waits (a synchronous standby that is down): call
 * it from the writer thread. GL_ESTATE if epoch is no longer the stored
 * state's (nothing written), GL_EIO (logged). Other backends:
 * store_get_state (a commit returns once durable). */
int store_mark_durable(struct store *s, uint64_t epoch, uint64_t *size,
                       struct gl_buf *checkpoint);
/* The verifier key the store was made with (GL_ENOTFOUND if none yet). */
int store_get_vkey(struct store *s, struct gl_buf *out);
/* Appends entry `index` to out. GL_ENOTFOUND if absent. */
int store_get_entry(struct store *s, uint64_t index, struct gl_buf *out);
/* Calls fn for entries [start, start + n) in order; stops at the first
 * missing one (GL_ENOTFOUND) or fn's non-zero return (returned). data is
 * valid during the call. */
int store_scan_entries(struct store *s, uint64_t start, uint64_t n,
                       int (*fn)(void *ctx, uint64_t index, const uint8_t *data,
                                 size_t len),
                       void *ctx);
/* Entries read in one piece (an entry bundle's or a mirror package's):
 * e[0..n) point into raw, which holds their bytes back to back. */
struct store_entries {
    struct gl_tile_entry e[GL_TILE_WIDTH];
    size_t n;
    struct gl_buf raw; /* owned */
};
/* Reads entries [start, start + n), n at most GL_TILE_WIDTH, into *out
 * (initialised here; the caller releases it with store_entries_release
 * whatever the outcome). GL_ENOTFOUND if one is missing, GL_EINVAL for n
 * over GL_TILE_WIDTH; else as store_scan_entries. */
int store_read_entries(struct store *s, uint64_t start, uint64_t n,
                       struct store_entries *out);
/* Copies from's entries into *to, which is released first (an
 * initialised or zeroed struct; the caller releases it whatever the
 * outcome): 0, or GL_ENOMEM / GL_ETOOBIG from the copy of raw. */
int store_entries_copy(struct store_entries *to, const struct store_entries *from);
void store_entries_release(struct store_entries *x);
/* Reads tile (level, index) into out (STORE_TILE_MAX bytes); *len gets the
 * stored length (a multiple of 32). GL_ENOTFOUND if absent. */
int store_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                   size_t *len);
/* Calls fn for each stored tile of `level` from index `start` on, in index
 * order (data: 32 * width bytes, valid during the call), until fn returns
 * non-zero (1 = stop, negative = error, returned) or the level ends. */
int store_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                     int (*fn)(void *ctx, uint64_t index, const uint8_t *data,
                               size_t len),
                     void *ctx);
/* The index of the entry with this leaf hash. GL_ENOTFOUND if none. */
int store_find_leaf(struct store *s, const uint8_t hash[GL_HASH_LEN], uint64_t *index);
/* store_find_leaf for n hashes at once (one query where the backend can):
 * found[i] = 1 and indices[i] for each hash present, found[i] = 0 for
 * the others. */
int store_find_leaves(struct store *s, size_t n, const uint8_t *const *hashes,
                      uint64_t *indices, uint8_t *found);
/* store_find_leaves that also gives, for each hash present, origins[i]:
 * the queue id recorded with its leaf (store_batch_put_leaf_origin), 0
 * if none (the entry came from the sequencer's own pool, or the backend
 * records no origins: rocksdb and mem). Same query, one more column. */
int store_find_leaves_origin(struct store *s, size_t n, const uint8_t *const *hashes,
                             uint64_t *indices, uint64_t *origins, uint8_t *found);
/* Up to max indices of entries under (kind, key) (klen bytes, at most
 * STORE_INDEX_KEY_MAX), ascending, in [from, below) (below: a published
 * size, or UINT64_MAX for no bound: every stored entry from `from` on,
 * also of a tree larger than the caller's, rule 5); *n gets how many.
 * from = i, below = i + 1 asks whether entry i is listed, however many
 * entries share the key. */
int store_find_index(struct store *s, enum store_index kind, const void *key, size_t klen,
                     uint64_t from, uint64_t below, uint64_t *indices, size_t max,
                     size_t *n);
/* The version of the secondary indexes the store holds (0: none yet; see
 * store_batch_put_index_version). */
int store_get_index_version(struct store *s, uint32_t *version);

/* --- the write batch (one writer; rules 1-4) ---------------------------------
 * A batch records its puts in memory (copying their data) and writes them
 * at commit. Caller frees it with store_batch_free, committed or not. The
 * put functions never fail: a batch that could not record a put (out of
 * memory, a key over its cap) fails at commit with that error. */
int store_batch_new(struct store *s, struct store_batch **out);
void store_batch_free(struct store_batch *b);
void store_batch_put_entry(struct store_batch *b, uint64_t index, const void *data,
                           size_t len);
void store_batch_put_leaf(struct store_batch *b, const uint8_t hash[GL_HASH_LEN],
                          uint64_t index);
/* store_batch_put_leaf recording where the entry came from: origin, the
 * id of the queued submission (store_queue_scan) whose copy created the
 * entry, 0 for none. Shared backends keep it with the leaf (so the
 * front-end that queued that copy, and only it, answers it as the first);
 * the others ignore it. */
void store_batch_put_leaf_origin(struct store_batch *b, const uint8_t hash[GL_HASH_LEN],
                                 uint64_t index, uint64_t origin);
void store_batch_put_index(struct store_batch *b, enum store_index kind, const void *key,
                           size_t klen, uint64_t index);
void store_batch_put_tile(struct store_batch *b, uint32_t level, uint64_t index,
                          const void *data, size_t len);
void store_batch_put_state(struct store_batch *b, uint64_t size, const void *checkpoint,
                           size_t len);
/* The log's verifier key, written once: on a shared store a batch putting
 * another key than the one stored is a lost race (store_batch_commit:
 * GL_ESTATE, nothing written), as when two glasslogd start with --create
 * at once; the backends one process owns have no such race. */
void store_batch_put_vkey(struct store_batch *b, const char *vkey);
void store_batch_put_index_version(struct store_batch *b, uint32_t version);
/* Deletes a tile (repair and test tools only; glasslogd never deletes). */
void store_batch_delete_tile(struct store_batch *b, uint32_t level, uint64_t index);
/* Records put so far. */
size_t store_batch_count(const struct store_batch *b);
/* Deletes a queued submission (store_queue_scan) with the batch: the
 * sequencer integrates it in the same transaction. */
void store_batch_delete_queued(struct store_batch *b, uint64_t id);
/* Writes the batch atomically and durably (rules 1-4). expect: the state
 * it extends, or NULL (no check: creation and tools). 0, GL_ESTATE (lost
 * race: nothing written), GL_EIO (outcome unknown), or the error a put
 * could not record. */
int store_batch_commit(struct store_batch *b, const struct store_expect *expect);

/* --- shared stores: the sequencer lease and the submission queue ---------------
 * Several glasslogd processes may share a store (postgresql): all serve
 * reads and take appends, one at a time sequences. Backends one process
 * owns (rocksdb, mem) return GL_EINVAL from these; store_shared says 0. */
int store_shared(const struct store *s);
/* How many reads of s a caller may keep waiting at once, each on a thread
 * of its own, without holding up the store's other callers; 0 means no
 * limit. A backend that serves every caller from a fixed pool of
 * connections holds one for each read as long as the database makes it
 * wait (a lock, a stall, a fail-over), and every other call (the event
 * loop's lease renewal, the sequencer's commit) waits for a free one (the
 * loop's, up to its bound: store_bound_thread, then it fails): a
 * caller that runs many reads concurrently (readapi's off-loop reads)
 * keeps at most this many under way, so the rest of the pool stays free
 * for those calls. PostgreSQL: half its pool of connections (4 of 8).
 * rocksdb and mem: 0 (a read waits for nothing but the disk and holds
 * nothing another call needs). Constant for the life of s; any thread. */
size_t store_read_capacity(const struct store *s);
/* Bounds in time every call the calling thread makes on s from now on
 * (glasslogd's event loop thread, whose calls must not stall it). Every
 * backend: its store_reopen waits at most ms for the other threads'
 * operations in progress (then GL_EIO, see store_reopen), the reconnect
 * after the wait included. PostgreSQL: each
 * call waits at most ms in all, for a free connection (or a new one, which
 * another thread of the store makes: this thread never connects) and
 * for the server's answers, then returns GL_EIO (logged), as if the
 * connection were lost, whose outcome is as unknown: a write may still
 * be done by the server. After such a timeout that thread's calls return
 * GL_EIO at once (not logged) for ms more, then try the server again, so
 * a server that does not answer holds the thread up at most half of its
 * time; store_lease and store_lease_release are spared that unless one
 * of them timed out. The commit and store_mark_durable are never bounded (they belong
 * on the writer thread); other threads' calls are not bounded. On the
 * other backends no call waits on a server: only the reopen is bounded.
 * 0, GL_EINVAL for ms 0, or GL_EIO if the store's connector thread cannot
 * be started (store_close then waits for the connection it has under way:
 * set connect_timeout). Call it once, from that thread (again from it:
 * the new bound; from another thread: GL_EINVAL, the bound thread
 * stays). */
int store_bound_thread(struct store *s, unsigned ms);
/* Takes or renews the sequencer lease for `holder` (a name unique to this
 * process) for ms milliseconds, measured by the store's clock. have: the
 * epoch this holder holds (0 if none). 0 and *epoch if holder holds the
 * lease now: the same epoch when renewed; a new, larger one when taken,
 * in which case the stored state's epoch was raised in the same
 * transaction, so every commit built by an earlier holder fails its
 * compare-and-set (rule 3). GL_ESTATE if another holder's lease runs.
 * PostgreSQL: the lease row names holder with the tag of this process's
 * sessions (their application_name), and a taking call first ends the
 * transactions an expired holder's sessions hold on the state (a paused
 * process's, which would hold the takeover up without end). */
int store_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                uint64_t *epoch);
/* Gives the lease up (at shutdown), so another takes over at once. */
int store_lease_release(struct store *s, const char *holder, uint64_t epoch);
/* A submission waiting in the shared queue: the statement and opaque
 * bytes the sequencer needs with it (its index keys). */
struct store_queued {
    const uint8_t *data, *meta;
    size_t len, mlen;
};
/* Queues n submissions durably (one transaction) for the sequencer.
 * ids: NULL, or n slots that get each submission's queue id (the id
 * store_queue_scan reports, unique for the life of the store: never
 * reused, so it names the copy across every front-end). */
int store_queue_put(struct store *s, const struct store_queued *q, size_t n,
                    uint64_t *ids);
/* Calls fn for up to max queued submissions, oldest first (data valid
 * during the call), until fn returns non-zero (returned if negative). */
int store_queue_scan(struct store *s, size_t max,
                     int (*fn)(void *ctx, uint64_t id, const struct store_queued *q),
                     void *ctx);

/* --- token buckets (rate limits; every backend) -------------------------------
 * A bucket, named by the caller (1..STORE_BUCKET_NAME_MAX bytes, e.g. a
 * submitter key's name and ID), is ratelimit.h's: it holds at most burst
 * tokens (1..RATELIMIT_BURST_MAX) and gains rate_u (> 0, at most
 * RATELIMIT_RATE_MAX) millionths of a token a second, that is nanotokens
 * a millisecond; its level is in nanotokens (negative only if an older
 * glasslogd, whose takes allowed a debt, left one).
 * The refill is measured by the store's clock in whole milliseconds, so
 * the arithmetic is exact: on PostgreSQL the server's clock_timestamp(),
 * so that every front-end sharing the database fills and spends the same
 * buckets; on rocksdb and mem a monotonic clock of this process. A bucket
 * never taken from is full. The limit is the caller's at every call (a
 * level above a lowered burst is cut to it).
 * take 0: *level gets the level now; nothing is written; *took 0.
 * take 1: a conditional take: if the level now holds a whole token, takes
 * it (*took 1, *level the level after); otherwise takes nothing (*took 0,
 * *level the level now, below one token). So a bucket never goes below
 * zero through it. Atomic: refill, check and take are one step no
 * concurrent take interleaves with (PostgreSQL: ONE statement, under the
 * bucket's row lock), so of n concurrent takes exactly as many succeed as
 * the bucket holds whole tokens, whatever the front-ends.
 * PostgreSQL keeps buckets in an UNLOGGED table: a server crash or a
 * failover to a standby fills them all again. */
#define STORE_BUCKET_NAME_MAX 300
int store_bucket_take(struct store *s, const char *name, uint64_t rate_u, uint64_t burst,
                      int take, int64_t *level, int *took);

/* Change notices (shared stores): a descriptor that turns readable when
 * another process committed a new state or queued appends (PostgreSQL:
 * a connection that LISTENs). store_watch_drain consumes the notices:
 * how many (0: none), or GL_EIO if the watch broke (then stop polling
 * its descriptor and store_watch_close it). */
int store_watch_fd(struct store *s, int *fd);
int store_watch_drain(struct store *s);
/* Closes the watch (stop polling its descriptor first). */
void store_watch_close(struct store *s);

/* The served checkpoint of a shared store: the note the sequencer serves
 * (with the witnesses' cosignatures), so every front-end serves it. The
 * sequencer puts it whenever it changes; a put never lowers the stored
 * size (a smaller one is ignored), and it notifies the watchers. Not
 * durable before the state it covers: a reader takes it only once its
 * own tree holds that size. GL_ENOTFOUND if none was stored yet;
 * GL_EINVAL on backends one process owns. note: appended to. */
int store_put_served(struct store *s, uint64_t size, const uint8_t *note, size_t len);
int store_get_served(struct store *s, uint64_t *size, struct gl_buf *note);

#endif
