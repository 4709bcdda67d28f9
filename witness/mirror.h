/*
 * mirror: the C2SP tlog-mirror role of glasslog-witness (specs/mirror.md).
 *
 * Each log of the logs list with a "mirror" line gets a copy kept in the
 * log's own storage code (log/store.h, RocksDB, in DATA/mirror/<origin
 * hash>/) and grown with the log's tile code (log/tree.h), so the tiles
 * served are computed exactly as glasslogd computes them. Per log:
 *
 *   - the pending checkpoint is the witness's: add-checkpoint goes to the
 *     witness engine (which checks consistency and persists it); the
 *     mirror remembers the last MIRROR_PENDING_KEEP of them it saw
 *     (mirror_observe) so that uploads against a slightly older one
 *     still work;
 *   - next entry: the entries stored, always a prefix [0, next) (packages
 *     are committed in order); each package is authenticated by its
 *     subtree consistency proof against the pending checkpoint of size
 *     upload_end before anything of it is written;
 *   - the mirror checkpoint: the log's signed checkpoint of some size
 *     S <= next with the witness cosignatures kept for it and the
 *     mirror's cosignature, stored with the tree state
 *     (store_batch_put_state) and served; it only grows.
 *
 * Kept notes: a pending or mirror checkpoint is held in one form, the
 * "kept note": the checkpoint text, the log's signature lines (from the
 * witness's record, which the engine verified), then at most one
 * cosignature per witness line of the log in the logs list (logs.h), the
 * newest by timestamp of those that verify over the text, in the list's
 * order: this process's own witness cosignature (in the record) when its
 * witness key is listed, the others' from the notes offered; every other
 * line is dropped, so nothing unverified is ever served.
 * Lines arrive with the same text later (mirror_offer: the notes of
 * add-checkpoint requests, the log's checkpoint pulled) and are merged,
 * never lost; the served mirror checkpoint is its kept note plus the
 * mirror's cosignature line, and a new mirror checkpoint of the same text
 * keeps the old one's witness lines. Lines are copied byte for byte
 * (tlog-cosignature signs the timestamp).
 *
 * Durability: a package's entries and tiles are committed (fsync) before
 * the reply that counts them; the mirror checkpoint is committed before
 * its cosignature is returned. Invariant: every entry stored is proven
 * consistent with a checkpoint the witness engine accepted, and all such
 * checkpoints are consistent with each other, so the copy never forks.
 *
 * Threads: mirror_add_entries runs on worker threads (one writer per log
 * at a time, under the log's lock); the read functions run on any thread
 * and only take the published state's lock briefly.
 *
 * Reload (reload.h): the mirror keeps indices into the caller's logs list
 * and a pointer to the engine, so a new list is switched to in three
 * steps. mirror_pause closes the gate (add-entries and mirror_refresh
 * answer 503 / GL_ESTATE) and mirror_busy counts the calls still inside;
 * once none is, and no other thread calls into the mirror,
 * mirror_prepare(next) opens the copies of the logs newly mirrored (a
 * failure leaves everything as it was; mirror_unstage drops what was
 * staged), the caller replaces its list's contents by next, and
 * mirror_switch installs the new set: a log mirrored in both lists (same
 * origin) keeps its copy and its state in memory (pending checkpoints,
 * mirror checkpoint, tile cache: its bound set to the new set's share)
 * under its new index; a log no longer mirrored has its store closed and
 * its endpoints answer 404, its copy staying on disk (DATA/mirror/<origin
 * hash>/) for a later list that mirrors it again. mirror_resume opens the
 * gate.
 *
 * Bounds: every copy is a RocksDB database of its own, so the process's
 * descriptors and memory would grow with the logs mirrored. The
 * mirror is opened for at most max_logs mirrored logs (mirror_config;
 * fixed until mirror_free): each copy keeps at most MIRROR_OPEN_FILES
 * table files open (RocksDB's table cache opens and closes the others
 * as reads need them), so all copies hold at most mirror_max_logs(m) *
 * MIRROR_COPY_FDS descriptors, which the caller sets aside before sizing
 * its connection limit; all copies share one block cache of cfg.cache_mb
 * MiB (a single copy has all of it); and each copy's write buffers are
 * MIRROR_WRITE_BUFFER_MB, so a copy holds at most 48 MiB of them. The bound is on the
 * copies open at once, and during a reload the copies in use stay open until the switch
 * beside the new ones (mirror_copies): a list mirroring more than
 * max_logs logs, or a switch that would hold more open, is refused
 * (mirror_open, mirror_prepare: GL_ERANGE, logged; one check,
 * mirror_check_copies, with one reason). Mirroring more
 * takes a restart with a larger bound; replacing logs near the bound, a
 * reload that drops the old ones first, then one that adds the others.
 */
#ifndef GL_WITNESS_MIRROR_H
#define GL_WITNESS_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "glasslog/buf.h"
#include "glasslog/key.h"
#include "glasslog/mirror.h"
#include "kv.h"
#include "logs.h"

#define MIRROR_PENDING_KEEP 8
#define MIRROR_COMMIT_PACKAGES 32 /* packages per storage commit */
/* An upload carrying packages may start at most this many entries below
 * the start of the next entry's package (else 409): one package. */
#define MIRROR_BELOW_MAX GL_MIRROR_PACKAGE
/* An add-entries that would store the mirror checkpoint stored already
 * (an empty upload at its size, no new witness line) is answered with the
 * stored mirror cosignature while that is younger than this (seconds),
 * nothing signed or written; an older one is signed afresh, so a
 * repeated empty upload costs at most one signature and one synced
 * commit a log per period, and the mirror's cosignature on a log that no
 * longer grows is still at most this old plus the time to the next
 * upload (quorums with a --max-age count it). */
#define MIRROR_COSIG_REUSE_S 60
/* Table files a copy keeps open at most (store_options.max_open_files), and so the
 * descriptors a copy holds at most. */
#define MIRROR_OPEN_FILES 64u
#define MIRROR_COPY_FDS KV_FD_RESERVE_FOR(MIRROR_OPEN_FILES)
/* Each family's write buffer in a copy, MiB: a busy copy holds at most
 * two per family (six), 48 MiB, where the log's own store has 16. */
#define MIRROR_WRITE_BUFFER_MB 4
/* mirror_open's bound: the logs mirrored at open plus this many. */
#define MIRROR_LOGS_SPARE 4
/* mirror_check_copies' reason, in bytes with its NUL, at most. */
#define MIRROR_WHY_MAX 320

struct mirror;
struct store; /* log/store.h */

struct mirror_config {
    const char *data;             /* the witness's data directory */
    const struct logs_list *logs; /* must outlive the mirror; its contents
                                   * change only as mirror_switch says */
    struct engine *engine;        /* the pending checkpoints (mirror_switch
                                   * replaces it) */
    const struct gl_signer *key;  /* the mirror's cosigning key; copied */
    const char *witness_name;     /* the witness key's name (logged when a
                                   * log lists it among its witnesses) */
    size_t cache_mb;              /* RocksDB block cache all the copies
                                   * share, MiB (0: 16; see Bounds) */
    size_t max_logs;              /* the most logs mirrored at once (see
                                   * Bounds; 0: the logs mirrored at open
                                   * plus MIRROR_LOGS_SPARE; at most
                                   * LOGS_MAX) */
};

/* The outcome of one add-entries request. */
struct mirror_result {
    int status;         /* 200, 202, 400, 404, 409, 422, 500 or 503 (also
                         * while paused for a reload) */
    uint64_t info_size; /* 202/409: mirror-info lines */
    uint64_t info_next;
    char line[512]; /* 200: the mirror's cosignature line */
    size_t line_len;
    char why[160];     /* otherwise: a one-line reason */
    uint64_t packages; /* packages authenticated in this request */
    uint64_t stored;   /* entries newly stored */
    /* 202/409: the ticket sealing the checkpoint of size info_size (may
     * be empty) */
    uint8_t ticket[GL_MIRROR_TICKET_MAX];
    size_t ticket_len;
    int ticket_used; /* upload_end was taken from the request's ticket */
};

/* Opens (creating when missing) the store of every mirrored log and loads
 * its state, for at most cfg->max_logs mirrored logs (see Bounds). Caller
 * frees with mirror_free. GL_EINVAL if no log is mirrored or the key is
 * not a cosigning key, GL_ERANGE (logged) if more than max_logs are. */
int mirror_open(const struct mirror_config *cfg, struct mirror **out);
void mirror_free(struct mirror *m);
/* The most logs m mirrors at once (its bound: see Bounds); 0 for NULL.
 * The copies hold at most mirror_max_logs(m) * MIRROR_COPY_FDS
 * descriptors. */
size_t mirror_max_logs(const struct mirror *m);
/* The bound mirror_open fixes for a config with these logs and max_logs
 * (mirror_config): max_logs, or for 0 the logs of `logs` with a mirror
 * line plus MIRROR_LOGS_SPARE; at most LOGS_MAX. For a caller that sizes
 * the descriptors before the mirror opens: mirror_max_logs of the mirror
 * mirror_open then makes. */
size_t mirror_bound(const struct logs_list *logs, size_t max_logs);

/* Reload (see the top). Loop thread; between mirror_pause and
 * mirror_resume. mirror_prepare: 0, GL_ENOMEM or a storage error (the
 * copy of a log newly mirrored does not open). mirror_switch: after the
 * caller's list holds next; engine (may be NULL: nothing is observed)
 * replaces the configured one. mirror_prepare refuses (GL_ERANGE, logged,
 * nothing opened) a list whose switch would hold more than
 * mirror_max_logs(m) copies open at once (mirror_copies' peak). */
int mirror_prepare(struct mirror *m, const struct logs_list *next);
/* The copies of a switch to next: *after, the logs next mirrors; *peak,
 * the copies open at once until mirror_switch (those and the ones in use
 * that next drops). Loop thread; not between mirror_prepare and
 * mirror_switch or mirror_unstage. */
void mirror_copies(const struct mirror *m, const struct logs_list *next, size_t *after,
                   size_t *peak);
/* The bound on a switch to next, the one check of it (mirror_prepare and
 * a reload's early refusal): 0 if mirror_copies' peak is at most
 * mirror_max_logs(m), else GL_ERANGE and a one-line reason in why (len
 * bytes; MIRROR_WHY_MAX holds it) naming the copies, the bound and what
 * to do, for the caller to log. As mirror_copies. */
int mirror_check_copies(const struct mirror *m, const struct logs_list *next, char *why,
                        size_t len);
void mirror_unstage(struct mirror *m);
void mirror_switch(struct mirror *m, struct engine *engine);
/* The gate: while paused, add-entries answers 503 and mirror_refresh
 * GL_ESTATE; mirror_busy counts the calls still inside. Any thread. */
void mirror_pause(struct mirror *m);
void mirror_resume(struct mirror *m);
size_t mirror_busy(struct mirror *m);

/* Number of mirrored logs. */
size_t mirror_count(const struct mirror *m);
/* The tile cache (mirror_tile): the bounds of all the logs' caches added
 * up (at most 64 MiB whatever the number of logs) and the bytes they hold
 * now. Not during mirror_switch. */
void mirror_tile_cache(struct mirror *m, size_t *limit, size_t *held);
/* Remembers the witness's current checkpoint of logs entry `log` as a
 * pending checkpoint (no-op if the log is not mirrored). Any thread. */
void mirror_observe(struct mirror *m, size_t log);

/* Offers the lines of a signed note (len bytes, borrowed) that came with
 * the checkpoint of logs entry `log`: for each pending checkpoint with the
 * same text, the witness cosignatures that verify by the log's witness
 * lines are merged into its kept note. Returns 1 when the pending
 * checkpoint at the mirror checkpoint's size gained a line (mirror_refresh
 * then serves it), else 0; a note that does not parse or matches nothing
 * is ignored. Any thread (signature checks under a short lock). */
int mirror_offer(struct mirror *m, size_t log, const char *note, size_t len);
/* Rebuilds the mirror checkpoint of logs entry `log` at its size from the
 * pending checkpoint of that size (merging their witness lines, a new
 * mirror cosignature) and commits it. No-op when there is no mirror
 * checkpoint or that pending checkpoint is no longer remembered. Blocks
 * on the log's writer lock and a synced commit: not on the event loop.
 * 0, GL_ENOTFOUND if not mirrored, GL_EIO if the commit failed, GL_ESTATE
 * while paused. */
int mirror_refresh(struct mirror *m, size_t log);

/* The newest pending checkpoint of logs entry `log`: its size (*pending;
 * 0 when there is none yet) and a ticket sealing it (ticket:
 * GL_MIRROR_TICKET_MAX bytes; *ticket_len 0 when its note is too long for
 * one), so that an upload up to that size is taken however far the
 * pending checkpoints move on meanwhile. 0, or GL_ENOTFOUND if not
 * mirrored. Any thread; never waits for an upload. */
int mirror_pending_ticket(struct mirror *m, size_t log, uint64_t *pending,
                          uint8_t *ticket, size_t *ticket_len);

/* Where the log's copy stands: the newest pending size, the next entry
 * committed and the mirror checkpoint's size. GL_ENOTFOUND if not
 * mirrored. Any thread (the event loop's /metrics): takes only the
 * published state's lock, never waits for an upload. */
int mirror_progress(struct mirror *m, size_t log, uint64_t *pending, uint64_t *next,
                    uint64_t *size);

/* Processes one add-entries body (len bytes, borrowed; the plain bytes,
 * already decompressed) into *r. Worker threads. */
void mirror_add_entries(struct mirror *m, const uint8_t *body, size_t len,
                        struct mirror_result *r);

/* Counts one add-entries body received gzipped (gzip != 0) or not, and
 * reads the counts (metrics). Any thread. */
void mirror_count_upload(struct mirror *m, int gzip);
void mirror_uploads(struct mirror *m, uint64_t *identity, uint64_t *gzip);

/* The mirror checkpoint of the log whose origin hashes to oh, appended to
 * out. GL_ENOTFOUND if not mirrored or nothing is mirrored yet. */
int mirror_checkpoint(struct mirror *m, const uint8_t oh[32], struct gl_buf *out);
/* The copy of the log whose origin hashes to oh as the JSON read API
 * serves it: its store (*s, borrowed until mirror_free; read only), the
 * mirror checkpoint's size and note (appended to note). Every entry below
 * *size is stored with its tiles, leaf hash and lookup indexes. Any
 * thread. GL_ENOTFOUND if not mirrored or nothing is mirrored yet. */
int mirror_view(struct mirror *m, const uint8_t oh[32], struct store **s, uint64_t *size,
                struct gl_buf *note);
/* Tile (level, index, width) of the mirror's tree at its checkpoint's
 * size, appended to out: the hashes (or, with entries, the entry bundle),
 * byte for byte what the log serves. GL_ENOTFOUND if not mirrored or
 * beyond the mirror checkpoint. Full tiles and bundles are kept in a
 * bounded in-memory cache once served. Any thread. */
int mirror_tile(struct mirror *m, const uint8_t oh[32], uint32_t level, uint64_t index,
                uint32_t width, int entries, struct gl_buf *out);

#endif
