/*
 * store_pg: the PostgreSQL backend of store.h (libpq), for logs that
 * outlive a machine: the database is replicated by PostgreSQL, and
 * several glasslogd processes may share it.
 *
 * The schema (version 4; created by store_open with create, in one
 * transaction; specs/log.md describes it for operators):
 *   glasslog_meta    (k text PK, v bytea)   "schema_version" = "4",
 *                                           "vkey", "indexver" (4, BE),
 *                                           "served" (size, 8 BE, + note)
 *   glasslog_state   (id = 1 PK, size, epoch, checkpoint,  one row
 *                     durable, durable_ck, durable_epoch)  the durable mark
 *   glasslog_entries (idx PK, data)
 *   glasslog_tiles   ((level, idx) PK, data)  32 * width bytes, prefix rule
 *   glasslog_leaves  (hash PK, idx, origin) origin: the queue id of the
 *                                           copy that created the entry
 *                                           (0: the sequencer's own)
 *   glasslog_index   ((kind, key, idx) PK)     a set per (kind, key)
 *   glasslog_lease   (id = 1 PK, holder, epoch, expires)  the sequencer's
 *   glasslog_queue   (id bigserial PK, meta, data)  appends taken by any
 *                                           front-end, not yet sequenced
 *   glasslog_buckets (name text PK, level, at_ms)  UNLOGGED: the token
 *                                           buckets of store_bucket_take
 * Version 1 (without glasslog_buckets and the mark), version 2 (without
 * the mark) and version 3 (without origin) are migrated at open, a
 * transaction a step, each locking
 * glasslog_meta first, so front-ends opening together migrate once. A database holding
 * another schema_version is refused: this code only reads the layouts it knows.
 *
 * Token buckets: a take is ONE statement (TAKE_SQL) that locks the
 * bucket's row, refills it by the milliseconds of the server's clock
 * since at_ms (exact integer nanotokens, computed in numeric so nothing
 * overflows), cuts it to the burst and takes a token only if a whole one
 * is there, answering whether it took and the level. The row lock
 * serialises concurrent takes of every front-end, so none is lost and
 * none takes a token another took. The table is UNLOGGED (no WAL, no
 * fsync per take): a rate limit needs no durability, and a crash or
 * failover merely fills the buckets again.
 *
 * The contract: a batch is ONE transaction (rules 1, 2: COMMIT returned
 * means committed, as durable as the server's synchronous_commit makes
 * it). Its first statement is the compare-and-set (rule 3):
 *   UPDATE glasslog_state SET size = new, checkpoint = new
 *    WHERE id = 1 AND size = expected AND epoch = expected
 * 0 rows means another sequencer published (or took over: it raised the
 * epoch), and the transaction is rolled back: GL_ESTATE. The row lock the
 * UPDATE takes serialises concurrent commits, so two sequencers can never
 * both extend the same state. Then the records go in with one INSERT per
 * table from binary arrays (unnest), tiles as upserts (they grow), the
 * rest insert-only (ON CONFLICT DO NOTHING: an index is a set, a leaf
 * keeps its first index). A lost connection during COMMIT is GL_EIO, an
 * unknown outcome (rule 4); store_reopen drops every connection so the
 * next ones go wherever the connection string leads (a promoted standby
 * with target_session_attrs=read-write).
 *
 * Many front-ends, one sequencer: the lease row names the sequencer, with
 * an epoch raised at every takeover in the same transaction as the state
 * row's epoch, which every commit compares (the fencing token: a paused
 * former sequencer's commit fails). Expiry uses the server's clock only.
 * Front-ends queue verified appends in glasslog_queue (the INSERT returns
 * their ids); the sequencer takes them and deletes them in the
 * transaction that logs them, recording with each leaf it creates the
 * queue id of the copy that created it (origin), so each front-end can
 * tell whether its copy was the first. A
 * commit that changes the state sends NOTIFY glasslog_state.
 *
 * A session left idle inside a transaction for PG_IDLE_TX_MS is ended by
 * the server (idle_in_transaction_session_timeout), so a paused
 * sequencer's open transaction cannot hold the state row, and with it a
 * takeover, for longer. (The server runs that timer only until the first
 * message of the next statement has arrived, a small Parse: every
 * statement goes through PQexecParams, so a large Bind is not timed:
 * a sequencer paused while sending one keeps the row locked, so a
 * takeover first ends, with pg_terminate_backend, the expired holder's
 * transactions on the state (pg_end_stale), found by the tag that ends
 * the application_name of every session of a process ("NAME TAG": the
 * operator's name, or glasslogd) and its name in the lease row.)
 * Sessions pin statement_timeout (and transaction_timeout) to 0. A
 * WARNING during COMMIT (a wait for a synchronous standby cancelled: the
 * transaction is committed locally but maybe not replicated) is never an
 * acknowledgement: the commit returns only once a later writing
 * transaction's wait completed (commit_durable), or GL_EIO.
 * The durable mark: the state's commit becomes visible to every
 * front-end before its durability is known, so followers act on the
 * mark (store_get_durable), which the sequencer writes in a transaction
 * of its own once commit_durable returned 0 (mark_durable), under its
 * epoch; a mark of an earlier epoch is not read, except that a takeover
 * (pg_lease) carries the current mark, if it is within the stored size,
 * over to the new epoch. A state no batch of the epoch marked (an idle
 * log after a takeover, a mark that failed or was lost) is made durable
 * and marked by the sequencer itself (pg_mark_durable: a commit that
 * writes, whose wait covers the state's commit, then the mark), so the
 * followers of an idle log need not wait for an append.
 *
 * Threads: a pool of at most PG_CONNS connections (a libpq connection is
 * used by one thread at a time), taken per query and given back before a
 * scan's callback runs, so callbacks may read too. A caller waits for a
 * free one, so a read the database holds up holds a connection up too:
 * store_read_capacity is half the pool, which concurrent readers keep
 * within, so the other half stays for the event loop's calls (the
 * lease) and the commit. Reads are plain READ
 * COMMITTED statements: the state is one row (size and checkpoint
 * together), and records are never removed, so rule 5 holds. The pool's
 * slots (conns, busy) change under mu, but a busy slot's conns[] is its
 * taker's alone until pg_put (others read it under mu only after
 * busy). mu is never held across a libpq call that
 * talks to a server (a connection is closed, PQfinish, after its slot
 * is emptied and mu released: struct taken).
 *
 * Every new connection asks for a server that takes writes
 * (target_session_attrs=read-write, a default the connection string may
 * override: pg_connect), so a follower whose string lists a hot standby
 * first never reads the standby's state, which may lag behind the tree it
 * served (seq.c would take that for released data lost).
 * A reopen's check asks, in one round trip, whether the server takes
 * writes (a demoted primary still answers): a read-only answer fails it
 * as a broken connection does, so the next connection follows the
 * connection string's target_session_attrs (reopen_check). A statement
 * the server refuses as it takes no writes (SQLSTATE 25006) closes its
 * connection too (pg_put), so the calls of a follower, which never
 * reopens, and the lease's connect afresh as well.
 *
 * Bounded calls: the event loop's calls must not stall it on a database
 * that stops answering (stopped, or cut off where the kernel still
 * acknowledges: no TCP option notices that). store_bound_thread names
 * that thread and its bound_ms; each call it makes has that long in all:
 * pg_get waits for a free connection until then, and pg_run sends each
 * statement and reads its results with libpq's asynchronous calls,
 * polling the socket for the time left. That thread never connects: a
 * host name's look-up blocks inside libpq, and connecting step by step
 * (PQconnectPoll) ignores connect_timeout, so with several hosts a first
 * one that accepts but never answers would take every call's whole
 * bound. When no open connection is free but a slot of the pool is
 * empty, it asks the connector (connector_main, a thread of the store
 * started with the bound thread) and waits on the pool's condition
 * variable until its time is up (fails at once if the connector's
 * attempt failed); with every slot in use it only waits. The connector
 * makes the connection with blocking PQconnectdbParams, where connect_timeout
 * holds for each host and a look-up blocks that thread only, gives the
 * session's settings PG_SETUP_MS (a server may let a session in and then
 * stop answering: connect_timeout is over by then), and puts it in the
 * pool, for this call or the next. Every other
 * thread connects itself the same way (its calls are not bounded, so
 * it gains nothing by waiting for another thread; a connector busy for
 * the loop would hold it up). A reopen drops the pool, and the
 * connection the connector has under way is not pooled; a reopen that
 * follows a failed one keeps the connections made since (the loop
 * retries a failed reopen, and would otherwise drop each connection the
 * connector made for it), but a check that fails on one closes the
 * others to its server too (take_server). The LISTEN connection (pg_watch_fd) is made
 * before the loop serves; when it broke (a server restart, a fail-over),
 * the loop's next pg_watch_fd starts a thread of its own (watch_main)
 * that makes a new one (LISTENing within PG_SETUP_MS of its session),
 * and takes it at a later call: the loop never connects, and the
 * connector stays the bound thread's alone. A call out of time returns GL_EIO, what
 * a lost connection returns, so every caller already handles it, and
 * leaves its connection with the statement under way, which pg_put
 * closes: a late result is never read as the next statement's. No cancel
 * is sent (PQcancel waits for the server without a bound); the server
 * finishes the statement alone, so a timed-out write (a lease renewal or
 * takeover, a bucket take, the served note) may still be done, as after
 * a lost connection. For bound_ms after a timeout that thread's calls
 * fail at once, so a database that does not answer takes at most half of
 * the loop's time. The commit path (pg_commit, pg_mark_durable, the
 * writer thread's) and every other thread's calls (the off-loop reads)
 * have no bound: they wait as long as the server makes them (pg_exec: a
 * COMMIT waiting for a synchronous standby that is down), but only while
 * the server is alive. A statement that hears nothing for PG_SILENT_MS
 * opens a new connection to the same server (server_alive); one on which
 * the server says nothing, nor refuses it, within PG_PROBE_MS (a paused
 * server, whose kernel still acknowledges, so no TCP timer notices; one
 * slow to authenticate has said something by then) gives the statement
 * up as a lost connection (GL_EIO; for a COMMIT an unknown outcome), so
 * a paused old primary cannot hold a pooled connection's user, and the
 * appends behind it, for ever. Connections are made with connect_timeout and
 * tcp_user_timeout defaults (pg_connect).
 */
#include "store_impl.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <libpq-fe.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "clock.h"
#include "ratelimit.h"

#define PG_CONNS 8
#define PG_SCHEMA_VERSION "4"
#define PG_SCAN_CHUNK 256                                   /* rows per query of a scan */
#define PG_ARRAY_MAX (STORE_BATCH_MAX + ((size_t)64 << 20)) /* data + lengths */
#define PG_PARAMS 5 /* the most any query takes (pg_find_index) */
/* A transaction left open this long (its process paused or cut off) is
 * ended by the server, which frees the state row it locked: a takeover
 * must not wait for a paused sequencer. Our transactions send their
 * statements back to back. */
#define PG_IDLE_TX_MS "1000"
/* A session's application_name (63 bytes at most, the server's limit):
 * the operator's (the connection string's, else PGAPPNAME, else
 * "glasslogd"), cut to APP_BASE_MAX printable ASCII bytes, a space and
 * the process's tag */
#define APP_BASE_MAX 46
/* A server that vanished (its machine off, its link cut) is noticed by
 * TCP keepalives after 10 s idle and three unanswered probes 5 s apart,
 * not the kernel's two hours: the commit path, which waits as long as the
 * server makes it, waits then at most about 25 s for a dead one. */
#define PG_KEEPALIVE_IDLE_S "10"
/* Data sent to a server that vanished is given up after this long
 * unacknowledged (TCP_USER_TIMEOUT; keepalives only probe an idle
 * connection), and a connection's making (each host of a list) after
 * connect_timeout: a server that accepts TCP connections but never
 * answers (paused) no longer holds a thread that connects for ever.
 * Neither notices a paused server on an open connection (its kernel
 * acknowledges): PG_SILENT_MS does. */
#define PG_TCP_USER_TIMEOUT_MS "25000"
#define PG_CONNECT_TIMEOUT_S "10"
#define TAG_LEN 16
#define TAG_LEN_SQL "16" /* TAG_LEN, in pg_end_stale's SQL */
#define APP_MAX (APP_BASE_MAX + 1 + TAG_LEN)
#define PG_LEASE_NAME_MAX 600 /* a holder's name in the lease row (lease_name) */

/* Type OIDs (pg_type.h; stable across versions). */
#define OID_INT4 23
#define OID_INT8 20
#define OID_BYTEA 17
#define OID_TEXT 25
#define OID_INT4_ARRAY 1007
#define OID_INT8_ARRAY 1016
#define OID_BYTEA_ARRAY 1001

struct pg {
    struct store base;
    char *conninfo;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    PGconn *conns[PG_CONNS];
    int busy[PG_CONNS];
    PGconn *watch;  /* LISTENs; used by the loop thread only */
    int watch_made; /* the loop thread's: a LISTEN connection was made once */
    /* the thread making the next LISTEN connection (watch_main), started
     * and joined by the loop thread (pg_watch_fd, pg_close); under mu:
     * watch_done (it finished) and watch_ready (what it made, or NULL) */
    pthread_t watch_thread;
    int watch_started, watch_done;
    PGconn *watch_ready;
    /* the bound thread's (store_bound_thread; store_bound_ms says which
     * thread, and its bound) alone: after a timeout its calls fail at once
     * until quiet_until (gl_clock_mono_ms), the lease's only if
     * quiet_lease (a lease call timed out: the database does not answer
     * the call that matters most); lease_call: the call under way is the
     * lease's */
    uint64_t quiet_until;
    int quiet_lease, lease_call;
    /* the connector (connector_main), started with the bound thread;
     * all under mu. connecting: an attempt is asked for or under way;
     * done: attempts finished, failed: the number of the last that
     * failed; gen: raised by a reopen that drops the pool, so a
     * connection begun before it is not pooled; recovering: the last
     * reopen failed (the pool holds only connections made since) */
    pthread_t connector;
    pthread_cond_t connector_cv;
    int connector_started, connector_stop, connecting, recovering;
    uint64_t done, failed, gen;
    /* this process's tag (TAG_LEN random hex digits), which ends its
     * sessions' application_name (app) and its lease holder's name
     * (lease_name) */
    char tag[TAG_LEN + 1];
    char app[APP_MAX + 1];
};

static struct pg *pg(struct store *s)
{
    return (struct pg *)s;
}

/* The durable mark (version 3): the largest state known durable, its
 * checkpoint, and the epoch of the sequencer that marked it. */
#define DURABLE_COLUMNS                                                                  \
    " durable bigint NOT NULL DEFAULT 0, durable_ck bytea NOT NULL DEFAULT '',"          \
    " durable_epoch bigint NOT NULL DEFAULT -1"

/* Version 4: which queued copy created each entry (the queue id; 0: none,
 * a submission of the sequencer's own, or an entry older than version 4),
 * so that of the copies of one statement taken by several front-ends
 * only the one that created the entry answers it as the first. */
#define ORIGIN_COLUMN " origin bigint NOT NULL DEFAULT 0"

#define BUCKETS_TABLE                                                                    \
    " glasslog_buckets (name text PRIMARY KEY, level bigint NOT NULL,"                   \
    " at_ms bigint NOT NULL);"

static const char *const schema_sql =
    "CREATE TABLE glasslog_meta (k text PRIMARY KEY, v bytea NOT NULL);"
    "CREATE TABLE glasslog_state (id int PRIMARY KEY CHECK (id = 1), size bigint NOT "
    "NULL,"
    " epoch bigint NOT NULL, checkpoint bytea NOT NULL," DURABLE_COLUMNS ");"
    "CREATE TABLE glasslog_entries (idx bigint PRIMARY KEY, data bytea NOT NULL);"
    "CREATE TABLE glasslog_tiles (level int NOT NULL, idx bigint NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY (level, idx));"
    "CREATE TABLE glasslog_leaves (hash bytea PRIMARY KEY, idx bigint NOT "
    "NULL," ORIGIN_COLUMN ");"
    "CREATE TABLE glasslog_index (kind int NOT NULL, key bytea NOT NULL, idx bigint NOT "
    "NULL,"
    " PRIMARY KEY (kind, key, idx));"
    "CREATE TABLE glasslog_lease (id int PRIMARY KEY CHECK (id = 1), holder text NOT "
    "NULL,"
    " epoch bigint NOT NULL, expires timestamptz NOT NULL);"
    "CREATE TABLE glasslog_queue (id bigserial PRIMARY KEY, meta bytea NOT NULL,"
    " data bytea NOT NULL);"
    "CREATE UNLOGGED TABLE" BUCKETS_TABLE
    "INSERT INTO glasslog_state (id, size, epoch, checkpoint) VALUES (1, 0, 0, '');"
    "INSERT INTO glasslog_lease VALUES (1, '', 0, '-infinity');"
    "INSERT INTO glasslog_meta VALUES ('schema_version', '" PG_SCHEMA_VERSION "');";

/* Version 1 to 2: the token buckets. Idempotent; glasslog_meta's lock
 * serialises front-ends migrating at once. */
static const char *const migrate_1_sql =
    "BEGIN;"
    "LOCK TABLE glasslog_meta IN SHARE ROW EXCLUSIVE MODE;"
    "CREATE UNLOGGED TABLE IF NOT EXISTS" BUCKETS_TABLE
    "UPDATE glasslog_meta SET v = '2' WHERE k = 'schema_version' AND v = '1';"
    "COMMIT;";

/* Version 2 to 3: the durable mark. The state there is marked durable
 * (glasslogd of version 2 served it as such). Idempotent, serialised as
 * migrate_1_sql. */
static const char *const migrate_2_sql =
    "BEGIN;"
    "LOCK TABLE glasslog_meta IN SHARE ROW EXCLUSIVE MODE;"
    "ALTER TABLE glasslog_state"
    " ADD COLUMN IF NOT EXISTS durable bigint NOT NULL DEFAULT 0,"
    " ADD COLUMN IF NOT EXISTS durable_ck bytea NOT NULL DEFAULT '',"
    " ADD COLUMN IF NOT EXISTS durable_epoch bigint NOT NULL DEFAULT -1;"
    "UPDATE glasslog_state SET durable = size, durable_ck = checkpoint,"
    " durable_epoch = epoch WHERE id = 1 AND durable_epoch = -1"
    " AND (SELECT v FROM glasslog_meta WHERE k = 'schema_version') = '2';"
    "UPDATE glasslog_meta SET v = '3' WHERE k = 'schema_version' AND v = '2';"
    "COMMIT;";

/* Version 3 to 4: the leaves' origin (0 for every entry there: none of
 * them is answered as a queued copy's any more). Adding a column with a
 * constant default rewrites no rows. Idempotent, serialised as
 * migrate_1_sql. */
static const char *const migrate_3_sql =
    "BEGIN;"
    "LOCK TABLE glasslog_meta IN SHARE ROW EXCLUSIVE MODE;"
    "ALTER TABLE glasslog_leaves ADD COLUMN IF NOT EXISTS" ORIGIN_COLUMN ";"
    "UPDATE glasslog_meta SET v = '4' WHERE k = 'schema_version' AND v = '3';"
    "COMMIT;";

/* --- connections ------------------------------------------------------------------- */

static void pg_notice(void *arg, const char *msg)
{
    (void)arg;
    gl_log(GL_LOG_DEBUG, "postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

static void log_result(const char *what, PGconn *c, const PGresult *r);

/* Every session's settings: the idle-in-transaction limit, and no
 * statement_timeout or (PostgreSQL 17 on) transaction_timeout a role or
 * database may set, so none cuts glasslogd's statements short: a batch's
 * INSERT over a slow link, a wait for a synchronous standby. A COMMIT
 * whose wait for the standby is cancelled still returns success
 * (commit_notice). */
static const char *const session_sql[] = {
    ("SET idle_in_transaction_session_timeout = " PG_IDLE_TX_MS),
    "SET statement_timeout = 0",
    "SET transaction_timeout = 0",
};
#define PG_TX_TIMEOUT_SQL 2 /* session_sql's transaction_timeout */
#define PG_SETUP_MS 5000    /* pg_connect's bound on session_sql */

/* --- bounded calls (store_bound_thread) ------------------------------------------ */

struct params;
static int pg_run(struct pg *p, PGconn *c, const char *sql, const struct params *pa,
                  PGresult **out, uint64_t end);
static int run_by(PGconn *c, const char *sql, const struct params *pa, PGresult **out,
                  uint64_t end);

/* A call of the bound thread ran out of its time (what: the step or the
 * statement; ms: the time it had). Logged; that thread's calls fail at
 * once (pg_get) for a bound, so a database that does not answer holds
 * it up at most half of its time. The lease's calls are spared unless
 * this was one: one slow statement (a served note, a poll) must not cost
 * the sequencer its lease, whose renewal then comes too late. capped: a
 * reopen's cap (what its wait at the store's gate left of the bound), not
 * the server, ended the call: only logged, no quiet time (the server may
 * be well). GL_EIO, what a lost connection returns, so every caller
 * already handles it. */
static int timed_out(struct pg *p, const char *what, uint64_t ms, int capped)
{
    unsigned bound = store_bound_ms(&p->base);

    if (capped) {
        gl_log(GL_LOG_ERROR,
               "store: no time left in the bound for the reconnect check (%.60s): it "
               "had %llu ms of %u after the wait at the store's gate; nothing is "
               "changed",
               what, (unsigned long long)ms, bound);
        return GL_EIO;
    }
    gl_log(GL_LOG_ERROR,
           "store: no answer from PostgreSQL within %llu ms (%.60s); the connection is "
           "closed, and the event loop's store calls fail at once for %u ms",
           (unsigned long long)ms, what, bound);
    p->quiet_until = gl_clock_mono_ms() + bound;
    p->quiet_lease = p->lease_call;
    return GL_EIO;
}

/* Waits until c's socket has one of events or end (gl_clock_mono_ms)
 * passes: 0 when it has, 1 when end passed, GL_EIO if it cannot wait. */
static int wait_socket(PGconn *c, short events, uint64_t end)
{
    struct pollfd fd = {PQsocket(c), events, 0};

    if (fd.fd < 0)
        return GL_EIO;
    for (;;) {
        uint64_t now = gl_clock_mono_ms();
        int n;

        if (now >= end)
            return 1;
        n = poll(&fd, 1, end - now > INT_MAX ? INT_MAX : (int)(end - now));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return GL_EIO;
    }
}

/* Logs why a connection could not be made (c: NULL when libpq had no
 * memory): libpq's message, a line for each host it tried (with several
 * hosts, the first may be a standby skipped as read-only and the last the
 * real failure), joined into one log line of at most PG_CONNECT_LOG_MAX
 * bytes. */
#define PG_CONNECT_LOG_MAX 1024
static void log_connect_error(const PGconn *c)
{
    const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";
    char line[PG_CONNECT_LOG_MAX];
    size_t n = 0;

    while (*m != 0 && n + 1 < sizeof(line)) {
        size_t len = strcspn(m, "\n");
        if (len > 0) {
            if (n > 0 && n + 3 < sizeof(line)) {
                memcpy(line + n, " | ", 3);
                n += 3;
            }
            if (len > sizeof(line) - 1 - n)
                len = sizeof(line) - 1 - n;
            memcpy(line + n, m, len);
            n += len;
        }
        m += strcspn(m, "\n");
        if (*m == '\n')
            m++;
    }
    line[n] = 0;
    gl_log(GL_LOG_ERROR, "store: cannot connect to PostgreSQL: %s", line);
}

/* A new connection with the session's settings, made with blocking
 * PQconnectdbParams (libpq honours connect_timeout there, for each host),
 * to a server that takes writes: target_session_attrs=read-write is the
 * default (libpq skips a host in recovery or read-only and tries the
 * next), so no call of the log, a follower's reads included, runs on a
 * standby that may lag behind what this process served. A connection
 * string that sets target_session_attrs itself (or PGTARGETSESSIONATTRS)
 * keeps its value (the operator's choice; pg_reopen's check and
 * pg_put's closing of a connection refused as read-only still apply); NULL
 * if it cannot be made (logged). Never called by the bound thread. The
 * settings take at most PG_SETUP_MS in all: connect_timeout ends once
 * the server has let the session in, and a server that stops answering
 * then must not hold the connector (the loop's one source of
 * connections) or a shutdown that waits for it. */
static PGconn *pg_connect(struct pg *p)
{
    /* target_session_attrs=read-write, the keepalive settings,
     * tcp_user_timeout and connect_timeout come before the connection
     * string (expanded as dbname: later keywords win), so they are
     * defaults that values the string sets itself replace; with
     * PGTARGETSESSIONATTRS set, target_session_attrs is left out, so libpq
     * takes the environment's value. application_name comes after it: the
     * operator's with this process's tag (name_sessions), by which a
     * takeover finds an expired holder's sessions (pg_end_stale). */
    const char *const keywords[] = {"target_session_attrs",
                                    "keepalives_idle",
                                    "keepalives_interval",
                                    "keepalives_count",
                                    "tcp_user_timeout",
                                    "connect_timeout",
                                    "dbname",
                                    "application_name",
                                    NULL};
    const char *const values[] = {
        "read-write",         PG_KEEPALIVE_IDLE_S, "5",    "3", PG_TCP_USER_TIMEOUT_MS,
        PG_CONNECT_TIMEOUT_S, p->conninfo,         p->app, NULL};
    int skip = getenv("PGTARGETSESSIONATTRS") != NULL;
    PGconn *c = PQconnectdbParams(keywords + skip, values + skip, 1);
    uint64_t end = gl_clock_mono_ms() + PG_SETUP_MS;

    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        log_connect_error(c);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, pg_notice, NULL);
    for (size_t i = 0; i < sizeof(session_sql) / sizeof(session_sql[0]); i++) {
        int rc;
        if (i == PG_TX_TIMEOUT_SQL && PQserverVersion(c) < 170000)
            continue; /* transaction_timeout came with PostgreSQL 17 */
        if ((rc = run_by(c, session_sql[i], NULL, NULL, end)) != 0) {
            if (rc > 0)
                gl_log(GL_LOG_ERROR,
                       "store: PostgreSQL let a new session in but did not answer its "
                       "settings within %d ms; it is closed",
                       PG_SETUP_MS);
            PQfinish(c);
            return NULL;
        }
    }
    return c;
}

/* A slot of the pool not in use, with a connection (open 1) or without
 * one (open 0); -1 if there is none. Under mu. */
static int free_slot(const struct pg *p, int open)
{
    for (int i = 0; i < PG_CONNS; i++)
        if (!p->busy[i] && (p->conns[i] != NULL) == open)
            return i;
    return -1;
}

/* A connection that LISTENs to the change notices, its LISTENs done by
 * end (0: no bound); NULL on failure (logged). */
static PGconn *watch_connect(struct pg *p, uint64_t end)
{
    static const char *const listen[] = {"LISTEN glasslog_state",
                                         "LISTEN glasslog_queue"};
    PGconn *c = pg_connect(p);
    PGresult *r = NULL;

    for (size_t i = 0; c != NULL && i < sizeof(listen) / sizeof(listen[0]); i++) {
        int rc = run_by(c, listen[i], NULL, &r, end);
        PQclear(r);
        r = NULL;
        if (rc != 0) {
            if (rc > 0)
                gl_log(GL_LOG_WARN, "store: no answer to %s within %d ms", listen[i],
                       PG_SETUP_MS);
            PQfinish(c);
            c = NULL;
        }
    }
    if (c != NULL)
        PQsetnonblocking(c, 1);
    return c;
}

/* The connector: makes a connection whenever the bound thread asks
 * (ask_connector), one at a time, and puts it in a free slot of the
 * pool, where the bound thread (or any other) takes it, now or at its
 * next call if its wait ended first. A connection begun before a reopen
 * dropped the pool, or with no free slot left, is closed. Runs until
 * pg_close; a connection under way then is finished first. */
static void *connector_main(void *arg)
{
    struct pg *p = arg;
    PGconn *c;
    uint64_t gen;
    int i;

    pthread_mutex_lock(&p->mu);
    while (!p->connector_stop) {
        if (!p->connecting) {
            pthread_cond_wait(&p->connector_cv, &p->mu);
            continue;
        }
        gen = p->gen;
        pthread_mutex_unlock(&p->mu);
        c = pg_connect(p);
        pthread_mutex_lock(&p->mu);
        p->done++;
        p->connecting = 0;
        if (c == NULL)
            p->failed = p->done;
        else if (gen == p->gen && (i = free_slot(p, 0)) >= 0) {
            p->conns[i] = c;
            c = NULL;
        }
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        PQfinish(c); /* not pooled (NULL: nothing) */
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Asks the connector for a connection, unless an attempt is under way
 * already; the number of the attempt that answers (p->done reaches it).
 * Under mu. */
static uint64_t ask_connector(struct pg *p)
{
    assert(p->connector_started);
    if (!p->connecting) {
        p->connecting = 1;
        pthread_cond_signal(&p->connector_cv);
    }
    return p->done + 1;
}

/* Whether a statement of this thread was refused, since its last pg_get,
 * by a server that takes no writes (SQLSTATE 25006,
 * read_only_sql_transaction; set by take_result): pg_put then closes the
 * slot's connection, so the next connection follows
 * target_session_attrs. A thread holds one slot at a time and runs its
 * statements on that slot's connection, so the flag is about that one;
 * pg_get clears it once it hands a slot out and pg_put once it read it.
 * (A flag scoped so, not the refused connection's address: a connection
 * closed elsewhere may leave its address to a new, healthy one.) */
static _Thread_local int read_only_refused;
/* Whether the last statement that failed on this thread was cancelled
 * (SQLSTATE 57014, query_canceled; set by take_result): commit_durable
 * tries such a statement again, and no other. */
static _Thread_local int query_canceled;

/* 1 if c can take a statement: open, and none under way (a statement
 * given up, run_by or pg_exec, leaves one: every later statement on c
 * would fail at once, and a switch back to blocking mode could make
 * closing it wait for a paused server). */
static int conn_usable(PGconn *c)
{
    return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_ACTIVE;
}

/* Takes a connection from the pool, waiting while none is free. *slot
 * gets its place for pg_put. end: NULL for a call never bounded (the
 * commit's); else *end gets the time (gl_clock_mono_ms) by which the
 * call is to be done: 0 (none) on every thread but the bound one. Other
 * threads connect themselves (pg_connect) in a free slot without a
 * connection. The bound thread never connects: it asks the connector
 * and waits for a connection until the end of its call (a free one, or
 * the connector's), then fails as any timeout does (timed_out), or at
 * once if the connector's attempt failed; during the quiet time after a
 * timeout its calls get GL_EIO at once (lease: a call of the lease,
 * spared unless a lease call timed out). cap: 0, or a time the bound
 * thread's call is to be done by if that comes before its bound (a
 * reopen's, whose wait for the store's gate took part of the bound); a
 * wait the cap ends is no timeout of the server's (timed_out's capped). */
static int pg_get(struct pg *p, int *slot, uint64_t *end, int lease, uint64_t cap)
{
    unsigned ms = end != NULL ? store_bound_ms(&p->base) : 0;
    uint64_t now = 0, by = 0, ticket = 0;
    PGconn *c;
    int i, capped = 0;

    pthread_mutex_lock(&p->mu);
    if (ms != 0) {
        now = gl_clock_mono_ms();
        if (now < p->quiet_until && (!lease || p->quiet_lease)) {
            pthread_mutex_unlock(&p->mu);
            return GL_EIO;
        }
        by = now + ms;
        if ((capped = cap != 0 && cap < by))
            by = cap;
        p->lease_call = lease;
    }
    for (;;) {
        if ((i = free_slot(p, 1)) >= 0 || ((i = free_slot(p, 0)) >= 0 && by == 0))
            break;
        if (i >= 0 && ticket != 0 && p->done >= ticket && p->failed >= ticket) {
            pthread_mutex_unlock(&p->mu);
            return GL_EIO; /* the connector could not connect (logged) */
        }
        if (i >= 0 && (ticket == 0 || p->done >= ticket))
            ticket = ask_connector(p);
        if (by == 0) {
            pthread_cond_wait(&p->cv, &p->mu);
        } else if (gl_clock_wait_until(&p->cv, &p->mu, by)) {
            pthread_mutex_unlock(&p->mu);
            return timed_out(p,
                             ticket != 0 ? "waiting for a new connection"
                                         : "waiting for a free connection of the pool",
                             by - now, capped);
        }
    }
    p->busy[i] = 1;
    c = p->conns[i];
    pthread_mutex_unlock(&p->mu);
    if (c == NULL && (c = pg_connect(p)) == NULL) {
        pthread_mutex_lock(&p->mu);
        p->busy[i] = 0;
        pthread_cond_broadcast(&p->cv); /* the bound thread takes no empty slot */
        pthread_mutex_unlock(&p->mu);
        return GL_EIO;
    }
    p->conns[i] = c;
    *slot = i;
    if (end != NULL)
        *end = by;
    read_only_refused = 0;
    return 0;
}

/* Gives a connection back (the slot's; NULL: its user closed it); one
 * that broke, is left inside a transaction, still runs a statement
 * (PQTRANS_ACTIVE: a bounded call ran out of time, pg_run) or had a
 * statement refused as its server takes no writes (read_only_refused) is
 * closed, so the next user connects again, a late result is never read
 * as another statement's, and a demoted primary's connection does not
 * fail every call that takes it (a follower never reopens). */
static void pg_put(struct pg *p, int slot)
{
    PGconn *c = p->conns[slot];
    int read_only = read_only_refused;

    read_only_refused = 0;
    if (c != NULL && (read_only || PQstatus(c) != CONNECTION_OK ||
                      PQtransactionStatus(c) != PQTRANS_IDLE)) {
        PQfinish(c);
        c = NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->conns[slot] = c;
    p->busy[slot] = 0;
    pthread_cond_broadcast(&p->cv); /* the bound thread takes no empty slot */
    pthread_mutex_unlock(&p->mu);
}

/* --- statements ------------------------------------------------------------------- */

/* Parameters of one statement, all in binary format. */
struct params {
    int n;
    Oid types[PG_PARAMS];
    const char *vals[PG_PARAMS];
    int lens[PG_PARAMS], fmts[PG_PARAMS];
    uint8_t ints[PG_PARAMS][8];
};

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void p_add(struct params *p, Oid type, const void *v, size_t len)
{
    assert(p->n < PG_PARAMS && len <= STORE_BATCH_MAX + ((size_t)64 << 20));
    p->types[p->n] = type;
    p->vals[p->n] = len > 0 ? v : ""; /* NULL would be SQL NULL */
    p->lens[p->n] = (int)len;
    p->fmts[p->n] = 1;
    p->n++;
}

/* A bigint parameter. Indices and sizes above INT64_MAX are clamped:
 * PostgreSQL's bigint is signed, and no log holds 2^63 entries. */
static void p_i64(struct params *p, uint64_t v)
{
    put_be64(p->ints[p->n], v > INT64_MAX ? INT64_MAX : v);
    p_add(p, OID_INT8, p->ints[p->n], 8);
}

static void p_i32(struct params *p, uint32_t v)
{
    put_be32(p->ints[p->n], v);
    p_add(p, OID_INT4, p->ints[p->n], 4);
}

static void p_bytes(struct params *p, const void *v, size_t len)
{
    p_add(p, OID_BYTEA, v, len);
}

static void log_result(const char *what, PGconn *c, const PGresult *r)
{
    const char *m = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c);

    if (m == NULL || *m == 0)
        m = PQerrorMessage(c);
    gl_log(GL_LOG_ERROR, "store: %s: %.*s", what, (int)strcspn(m, "\n"), m);
}

/* Whether r (NULL: none came) says its statement succeeded. */
static int result_ok(const PGresult *r)
{
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* r, the result of sql on c (NULL: none came): 0 and *out = r (if out
 * is not NULL, else r is freed) if it succeeded; else GL_EIO, logged, r
 * freed (read_only_refused set if the server refused it as it takes no
 * writes; query_canceled tells whether it was cancelled). */
static int take_result(PGconn *c, const char *sql, PGresult *r, PGresult **out)
{
    const char *state;

    if (!result_ok(r)) {
        log_result(sql, c, r);
        state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (state != NULL && strcmp(state, "25006") == 0)
            read_only_refused = 1;
        query_canceled = state != NULL && strcmp(state, "57014") == 0;
        PQclear(r);
        return GL_EIO;
    }
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/* A statement of a call without a bound (end 0: the commit path, every
 * thread's calls but the bound one's) waits as long as the server makes
 * it (a synchronous standby's wait, a lock, a slow link), but only while
 * the server is alive: after PG_SILENT_MS without a byte to or from it,
 * server_alive opens a new connection to the same server, on which the
 * server process must say something (its first byte), or the connection
 * be refused, within PG_PROBE_MS. The session itself need not be made: a
 * live server whose authentication is slow (LDAP, RADIUS, PAM, a slow
 * pooler) is still alive. A server paused (SIGSTOP, a frozen machine: its
 * kernel still completes the handshake and acknowledges, so no TCP timer,
 * keepalive or tcp_user_timeout, notices) never sends that byte, so the
 * probe times out, and the statement is given up: GL_EIO, what a lost
 * connection returns, the connection left with the statement under way
 * (pg_put closes it). So such a statement waits at most PG_SILENT_MS +
 * PG_PROBE_MS for a paused server once it is sent; while it is sent
 * (await_results) there is no probe, and a server that stops reading is
 * tcp_user_timeout's. */
#define PG_SILENT_MS 5000
#define PG_PROBE_MS 3000

/* Whether c's server answers a new connection (server_alive's probe):
 * its options (PQconninfo) with the server c is connected to (host,
 * hostaddr, port: no name look-up, no other host of a list), any session
 * (target_session_attrs=any), made step by step (PQconnectPoll) until the
 * server's first byte, within PG_PROBE_MS. Every way to connect makes the
 * server send one at once, before any slow authentication: the answer to
 * an SSLRequest or GSSENCRequest (one byte, S, G or N; sslmode prefer or
 * require, gssencmode with credentials), a direct TLS handshake's
 * ServerHello, else (sslmode disable, a Unix socket) the answer to the
 * startup packet: an authentication request (password, LDAP, RADIUS,
 * PAM, SCRAM, GSSAPI), AuthenticationOk (trust, peer) or an error (out of
 * sessions, starting up). Only with sslmode disable can a slow step come
 * first: ident authentication over TCP, a pooler that asks its own server.
 * It hears the first hop: a pooler answers for a paused server behind it.
 * So the first time the probe waits to read and its socket becomes
 * readable (a byte, or the server closed it), the server process is
 * alive: the probe stops there (PQfinish). 1 if so, or if the connection
 * is refused (the host answered: a refused TCP connection is a server
 * gone, which breaks c by itself), or if no probe can be made (out of
 * memory: c is waited for, as without a probe); 0 if the time ran out. */
static int server_alive(PGconn *c)
{
    static const char *const replaced[] = {"host",
                                           "hostaddr",
                                           "port",
                                           "target_session_attrs",
                                           "connect_timeout",
                                           "load_balance_hosts"};
    PQconninfoOption *opts = PQconninfo(c), *o;
    const char **kw = NULL, **val = NULL;
    const char *addr = PQhostaddr(c);
    uint64_t end = gl_clock_mono_ms() + PG_PROBE_MS;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    PGconn *pc = NULL;
    size_t n = 0, i;
    int alive = 1, w;

    if (opts == NULL)
        goto out;
    for (o = opts; o->keyword != NULL; o++)
        n++;
    if ((kw = calloc(n + 6, sizeof(*kw))) == NULL ||
        (val = calloc(n + 6, sizeof(*val))) == NULL)
        goto out;
    n = 0;
    for (o = opts; o->keyword != NULL; o++) {
        for (i = 0; i < sizeof(replaced) / sizeof(replaced[0]); i++)
            if (strcmp(o->keyword, replaced[i]) == 0)
                break;
        if (i == sizeof(replaced) / sizeof(replaced[0]) && o->val != NULL) {
            kw[n] = o->keyword;
            val[n++] = o->val;
        }
    }
    kw[n] = "host";
    val[n++] = PQhost(c);
    if (addr != NULL && *addr != 0) {
        kw[n] = "hostaddr";
        val[n++] = addr;
    }
    kw[n] = "port";
    val[n++] = PQport(c);
    kw[n] = "target_session_attrs";
    val[n++] = "any";
    if ((pc = PQconnectStartParams(kw, val, 0)) == NULL || PQstatus(pc) == CONNECTION_BAD)
        goto out;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        short ev = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        if ((w = wait_socket(pc, ev, end)) != 0) {
            alive = w < 0; /* 1: the time ran out */
            break;
        }
        if (ev == POLLIN)
            break; /* the server said something: alive */
        st = PQconnectPoll(pc);
    }
out:
    PQfinish(pc);
    free(kw);
    free(val);
    PQconninfoFree(opts);
    return alive;
}

/* Waits until c's socket has one of events, as wait_socket does by end;
 * with end 0 as long as c's server is alive (PG_SILENT_MS, server_alive):
 * 1 then once it is not. */
static int wait_server(PGconn *c, short events, uint64_t end)
{
    int w;

    if (end != 0)
        return wait_socket(c, events, end);
    while ((w = wait_socket(c, events, gl_clock_mono_ms() + PG_SILENT_MS)) > 0)
        if (!server_alive(c))
            return 1;
    return w;
}

/* Sends c's statement out (nonblocking: it may not fit the socket's
 * buffer at once), then reads until its results are in (PQisBusy false),
 * waiting on the socket for the time left before end (wait_server; end
 * 0: while the server is alive). 0, 1 if end passed (end 0: the server
 * stopped answering), GL_EIO if the connection broke. */
static int await_results(PGconn *c, uint64_t end)
{
    int f, w;

    /* sending: no probe (a large batch over a slow link may take longer
     * than PG_SILENT_MS to drain, and a probe would queue behind it);
     * a server that stops reading is bounded by tcp_user_timeout */
    while ((f = PQflush(c)) == 1) {
        if ((w = wait_socket(c, POLLIN | POLLOUT, end != 0 ? end : UINT64_MAX)) != 0)
            return w;
        if (!PQconsumeInput(c))
            return GL_EIO;
    }
    if (f < 0)
        return GL_EIO;
    while (PQisBusy(c)) {
        if ((w = wait_server(c, POLLIN, end)) != 0)
            return w;
        if (!PQconsumeInput(c))
            return GL_EIO;
    }
    return 0;
}

/* c's statement sql with params pa (may be NULL), binary results, by
 * end (gl_clock_mono_ms; 0: while the server is alive, wait_server),
 * never blocking longer: it is sent and its result read with libpq's
 * asynchronous calls, waiting on the socket (poll). 0 and *out (if not
 * NULL; else freed) the result, freed by the caller with PQclear; 1 if
 * end passed or the server stopped answering (nothing sent if end had
 * passed already; else the connection is left with the statement under
 * way, PQTRANS_ACTIVE, and nonblocking, so closing it never blocks: pg_put
 * or the caller closes it); GL_EIO on an error (logged; take_result).
 * There is no cancel request: PQcancel connects to the server and waits
 * for it without a bound, the very wait this avoids; the server finishes
 * the statement alone, as after a lost connection. */
static int exec_async(PGconn *c, const char *sql, const struct params *pa, PGresult **out,
                      uint64_t end)
{
    PGresult *r = NULL, *next;
    int rc;

    query_canceled = 0; /* this statement's, not an earlier one's */
    if (end != 0 && gl_clock_mono_ms() >= end)
        return 1;
    if (!conn_usable(c)) { /* nothing sent, and c left as it is */
        log_result(sql, c, NULL);
        return GL_EIO;
    }
    if (PQsetnonblocking(c, 1) != 0 ||
        !PQsendQueryParams(c, sql, pa ? pa->n : 0, pa ? pa->types : NULL,
                           pa ? pa->vals : NULL, pa ? pa->lens : NULL,
                           pa ? pa->fmts : NULL, 1)) {
        log_result(sql, c, NULL);
        PQsetnonblocking(c, 0);
        return GL_EIO;
    }
    /* every result of the statement, as PQexec takes them: the last, or
     * the first error */
    while ((rc = await_results(c, end)) == 0 && (next = PQgetResult(c)) != NULL) {
        if (r != NULL && !result_ok(r)) {
            PQclear(next);
        } else {
            PQclear(r);
            r = next;
        }
    }
    if (rc > 0) {
        PQclear(r);
        return 1;
    }
    PQsetnonblocking(c, 0);
    if (rc < 0) {
        PQclear(r);
        log_result(sql, c, NULL);
        return GL_EIO;
    }
    return take_result(c, sql, r, out);
}

/* Runs sql with params p (may be NULL) without a bound but while the
 * server is alive (exec_async, end 0); binary results. *out (if not NULL)
 * gets the result, freed by the caller with PQclear. GL_EIO on any error
 * (logged), a server that stopped answering included (the connection
 * left with the statement under way: pg_put closes it; for a COMMIT an
 * unknown outcome, as a lost connection's). */
static int pg_exec(PGconn *c, const char *sql, const struct params *p, PGresult **out)
{
    int rc = exec_async(c, sql, p, out, 0);

    if (rc > 0) {
        gl_log(GL_LOG_ERROR,
               "store: PostgreSQL at %s:%s stopped answering (nothing for %d ms, and "
               "nothing on a new connection within %d ms); the statement is given up "
               "and its connection closed: %.60s",
               PQhost(c), PQport(c), PG_SILENT_MS, PG_PROBE_MS, sql);
        rc = GL_EIO;
    }
    return rc;
}

/* c's statement sql by end (gl_clock_mono_ms), never blocking longer
 * (end 0: no bound, pg_exec itself, which waits while the server is
 * alive; the one place that tells the two apart): exec_async. 0 and
 * *out as pg_exec; 1 if end passed (the connection left as exec_async
 * says); GL_EIO on an error (logged). */
static int run_by(PGconn *c, const char *sql, const struct params *pa, PGresult **out,
                  uint64_t end)
{
    return end == 0 ? pg_exec(c, sql, pa, out) : exec_async(c, sql, pa, out, end);
}

/* run_by (end 0: no bound), and a call out of time is the bound
 * thread's timeout (timed_out), GL_EIO. */
static int pg_run(struct pg *p, PGconn *c, const char *sql, const struct params *pa,
                  PGresult **out, uint64_t end)
{
    int rc = run_by(c, sql, pa, out, end);

    return rc > 0 ? timed_out(p, sql, store_bound_ms(&p->base), 0) : rc;
}

/* One query on a pooled connection, bounded on the bound thread (pg_get;
 * lease: a call of the lease; cap: pg_get's); the connection is back in
 * the pool when this returns. */
static int pg_query_as(struct pg *p, const char *sql, const struct params *pa,
                       PGresult **out, int lease, uint64_t cap)
{
    uint64_t end;
    int slot = -1, rc;

    if ((rc = pg_get(p, &slot, &end, lease, cap)) != 0)
        return rc;
    assert(slot >= 0 && slot < PG_CONNS); /* pg_get's 0 names a slot */
    rc = pg_run(p, p->conns[slot], sql, pa, out, end);
    pg_put(p, slot);
    return rc;
}

static int pg_query(struct pg *p, const char *sql, const struct params *pa,
                    PGresult **out)
{
    return pg_query_as(p, sql, pa, out, 0, 0);
}

/* The NOTIFY that follows a committed write on the same connection gets
 * a bound of its own (end 0: none), so the write's round trip does not
 * leave it without time. */
static int pg_notify(struct pg *p, int slot, const char *sql, uint64_t end)
{
    if (end != 0)
        end = gl_clock_mono_ms() + store_bound_ms(&p->base);
    return pg_run(p, p->conns[slot], sql, NULL, NULL, end);
}

/* Column col of row 0 as a bigint (binary). */
static int col_i64(const PGresult *r, int row, int col, uint64_t *v)
{
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8) {
        gl_log(GL_LOG_ERROR, "store: a bigint column of %s is corrupt", PQfname(r, col));
        return GL_EPARSE;
    }
    *v = get_be64((const uint8_t *)PQgetvalue(r, row, col));
    return 0;
}

/* --- reads ----------------------------------------------------------------------- */

static int pg_get_state(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    PGresult *r;
    int rc;

    if ((rc = pg_query(pg(s), "SELECT size, checkpoint FROM glasslog_state WHERE id = 1",
                       NULL, &r)) != 0)
        return rc;
    if (PQntuples(r) != 1) {
        gl_log(GL_LOG_ERROR, "store: the glasslog_state row is missing");
        rc = GL_EPARSE;
    } else if ((rc = col_i64(r, 0, 0, size)) == 0) {
        rc = gl_buf_append(checkpoint, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

/* The durable mark, if the current sequencer (epoch) made it and it does
 * not pass the stored size; else GL_ENOTFOUND. */
static int pg_get_durable(struct store *s, uint64_t *size, struct gl_buf *checkpoint)
{
    PGresult *r;
    int rc;

    if ((rc = pg_query(pg(s),
                       "SELECT durable, durable_ck FROM glasslog_state WHERE id = 1"
                       " AND durable_epoch = epoch AND durable <= size",
                       NULL, &r)) != 0)
        return rc;
    if (PQntuples(r) != 1)
        rc = GL_ENOTFOUND;
    else if ((rc = col_i64(r, 0, 0, size)) == 0)
        rc = gl_buf_append(checkpoint, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
    PQclear(r);
    return rc;
}

/* The meta value under key k into out; GL_ENOTFOUND if absent. */
static int get_meta(struct store *s, const char *k, struct gl_buf *out)
{
    struct params pa = {0};
    PGresult *r;
    int rc;

    p_add(&pa, OID_TEXT, k, strlen(k));
    pa.fmts[0] = 0; /* text */
    if ((rc = pg_query(pg(s), "SELECT v FROM glasslog_meta WHERE k = $1", &pa, &r)) != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = GL_ENOTFOUND;
    else
        rc = gl_buf_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return rc;
}

/* The copy mark (store_get_copy): the meta row "copy" (any value). A
 * database restored from pg_basebackup or point-in-time recovery gets it
 * from the operator (README, "Backup"); removing it is one committed
 * statement. */
static int pg_get_copy(struct store *s, int *copy)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 16);
    rc = get_meta(s, "copy", &b);
    gl_buf_release(&b);
    *copy = rc == 0;
    return rc == GL_ENOTFOUND ? 0 : rc;
}

static int pg_set_copy(struct store *s, int copy)
{
    PGresult *r = NULL;
    int rc = pg_query(pg(s),
                      copy ? "INSERT INTO glasslog_meta (k, v) VALUES ('copy', '1')"
                             " ON CONFLICT (k) DO NOTHING"
                           : "DELETE FROM glasslog_meta WHERE k = 'copy'",
                      NULL, &r);

    PQclear(r);
    return rc;
}

static int pg_get_vkey(struct store *s, struct gl_buf *out)
{
    return get_meta(s, "vkey", out);
}

static int pg_get_index_version(struct store *s, uint32_t *version)
{
    struct gl_buf b;
    int rc;

    gl_buf_init(&b, 4);
    rc = get_meta(s, "indexver", &b);
    if (rc == GL_ENOTFOUND) {
        *version = 0;
        rc = 0;
    } else if (rc == GL_ETOOBIG || (rc == 0 && b.len != 4)) {
        gl_log(GL_LOG_ERROR, "store: the index version record is corrupt");
        rc = GL_EPARSE;
    } else if (rc == 0) {
        *version = get_be32(b.data);
    }
    gl_buf_release(&b);
    return rc;
}

static int pg_get_entry(struct store *s, uint64_t index, struct gl_buf *out)
{
    struct params pa = {0};
    PGresult *r;
    int rc;

    p_i64(&pa, index);
    if ((rc = pg_query(pg(s), "SELECT data FROM glasslog_entries WHERE idx = $1", &pa,
                       &r)) != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = GL_ENOTFOUND;
    else
        rc = gl_buf_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
    PQclear(r);
    return rc;
}

/* 0 if len is a tile record's length (whole hashes, at most
 * STORE_TILE_MAX bytes); else GL_EPARSE, logged. */
static int tile_check(int len)
{
    if (len > 0 && (size_t)len <= STORE_TILE_MAX && len % 32 == 0)
        return 0;
    gl_log(GL_LOG_ERROR, "store: corrupt tile record (%d bytes)", len);
    return GL_EPARSE;
}

/* One query of a scan: sql with pa, whose rows (idx bigint, data bytea)
 * come in idx order, each given to fn in turn until it returns non-zero.
 * A row's data is first checked as a tile record (tiles: tile_check);
 * else its idx is to be *next (another is a gap: GL_ENOTFOUND). *next
 * gets the index past the last row given to fn, *rows the rows. 0, fn's
 * non-zero answer, or an error. */
static int scan_chunk(struct pg *p, const char *sql, const struct params *pa, int tiles,
                      uint64_t *next, int *rows, store_scan_fn fn, void *ctx)
{
    PGresult *r;
    uint64_t idx;
    int rc;

    if ((rc = pg_query(p, sql, pa, &r)) != 0)
        return rc;
    *rows = PQntuples(r);
    for (int i = 0; rc == 0 && i < *rows; i++) {
        if ((rc = col_i64(r, i, 0, &idx)) != 0 ||
            (tiles && (rc = tile_check(PQgetlength(r, i, 1))) != 0))
            break;
        if (!tiles && idx != *next) {
            rc = GL_ENOTFOUND;
            break;
        }
        rc = fn(ctx, idx, (const uint8_t *)PQgetvalue(r, i, 1),
                (size_t)PQgetlength(r, i, 1));
        *next = idx + 1;
    }
    PQclear(r);
    return rc;
}

/* Entries [start, start + n) in chunks; stops at a gap (GL_ENOTFOUND). */
static int pg_scan_entries(struct store *s, uint64_t start, uint64_t n, store_scan_fn fn,
                           void *ctx)
{
    uint64_t next = start, end = start + n;

    while (next < end) {
        uint64_t upto = end - next > PG_SCAN_CHUNK ? next + PG_SCAN_CHUNK : end;
        struct params pa = {0};
        int rc, rows;

        p_i64(&pa, next);
        p_i64(&pa, upto);
        if ((rc = scan_chunk(pg(s),
                             "SELECT idx, data FROM glasslog_entries"
                             " WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                             &pa, 0, &next, &rows, fn, ctx)) != 0)
            return rc;
        if (next != upto)
            return GL_ENOTFOUND;
    }
    return 0;
}

static int pg_get_tile(struct store *s, uint32_t level, uint64_t index, uint8_t *out,
                       size_t *len)
{
    struct params pa = {0};
    PGresult *r;
    int rc;

    p_i32(&pa, level);
    p_i64(&pa, index);
    if ((rc = pg_query(pg(s),
                       "SELECT data FROM glasslog_tiles WHERE level = $1 AND idx = $2",
                       &pa, &r)) != 0)
        return rc;
    if (PQntuples(r) == 0) {
        rc = GL_ENOTFOUND;
    } else if ((rc = tile_check(PQgetlength(r, 0, 0))) == 0) {
        *len = (size_t)PQgetlength(r, 0, 0);
        memcpy(out, PQgetvalue(r, 0, 0), *len);
    }
    PQclear(r);
    return rc;
}

/* The level's tiles from start on, PG_SCAN_CHUNK a query, until fn
 * returns non-zero or the level ends. */
static int pg_scan_tiles(struct store *s, uint32_t level, uint64_t start,
                         store_scan_fn fn, void *ctx)
{
    for (;;) {
        struct params pa = {0};
        int rc, rows;

        p_i32(&pa, level);
        p_i64(&pa, start);
        if ((rc = scan_chunk(pg(s),
                             "SELECT idx, data FROM glasslog_tiles"
                             " WHERE level = $1 AND idx >= $2 ORDER BY idx LIMIT 256",
                             &pa, 1, &start, &rows, fn, ctx)) != 0)
            return rc < 0 ? rc : 0;
        if (rows < 256)
            return 0;
    }
}

static int pg_find_leaf(struct store *s, const uint8_t hash[32], uint64_t *index)
{
    struct params pa = {0};
    PGresult *r;
    int rc;

    p_bytes(&pa, hash, 32);
    if ((rc = pg_query(pg(s), "SELECT idx FROM glasslog_leaves WHERE hash = $1", &pa,
                       &r)) != 0)
        return rc;
    rc = PQntuples(r) == 0 ? GL_ENOTFOUND : col_i64(r, 0, 0, index);
    PQclear(r);
    return rc;
}

static int pg_find_index(struct store *s, enum store_index kind, const void *key,
                         size_t klen, uint64_t from, uint64_t below, uint64_t *indices,
                         size_t max, size_t *n)
{
    struct params pa = {0};
    PGresult *r;
    int rc;

    p_i32(&pa, (uint32_t)kind);
    p_bytes(&pa, key, klen);
    p_i64(&pa, from);
    p_i64(&pa, below);
    p_i64(&pa, max);
    if ((rc = pg_query(pg(s),
                       "SELECT idx FROM glasslog_index WHERE kind = $1 AND key = $2"
                       " AND idx >= $3 AND idx < $4 ORDER BY idx LIMIT $5",
                       &pa, &r)) != 0)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r) && *n < max; i++)
        if ((rc = col_i64(r, i, 0, &indices[*n])) == 0)
            (*n)++;
    PQclear(r);
    return rc;
}

/* --- commit ----------------------------------------------------------------------- */

/* A one-dimensional array in PostgreSQL's binary format (array_recv):
 * ndim, has-nulls, element type, then length and lower bound, then each
 * element as its length and bytes. */
struct array {
    struct gl_buf b;
    uint32_t n;
};

static void arr_init(struct array *a, Oid elem)
{
    uint8_t h[20];

    gl_buf_init(&a->b, PG_ARRAY_MAX);
    a->n = 0;
    put_be32(h, 1);
    put_be32(h + 4, 0);
    put_be32(h + 8, elem);
    put_be32(h + 12, 0); /* the length, set as elements come */
    put_be32(h + 16, 1);
    if (gl_buf_append(&a->b, h, sizeof(h)) != 0)
        a->n = UINT32_MAX; /* failed: arr_error says so */
}

static void arr_add(struct array *a, const void *data, size_t len)
{
    uint8_t l[4];

    if (a->n == UINT32_MAX)
        return;
    put_be32(l, (uint32_t)len);
    if (gl_buf_append(&a->b, l, 4) != 0 || gl_buf_append(&a->b, data, len) != 0) {
        a->n = UINT32_MAX;
        return;
    }
    a->n++;
    put_be32(a->b.data + 12, a->n);
}

static void arr_i64(struct array *a, uint64_t v)
{
    uint8_t b[8];

    put_be64(b, v > INT64_MAX ? INT64_MAX : v);
    arr_add(a, b, 8);
}

static void arr_i32(struct array *a, uint32_t v)
{
    uint8_t b[4];

    put_be32(b, v);
    arr_add(a, b, 4);
}

static void arr_reset(struct array *a)
{
    if (a->n == UINT32_MAX)
        return;
    a->b.len = 20;
    a->n = 0;
    put_be32(a->b.data + 12, 0);
}

/* What a batch inserts, column by column: entries, leaves, secondary
 * indexes, and the current run of tiles (without repeats). */
enum {
    E_IDX,
    E_DATA,
    L_HASH,
    L_IDX,
    L_ORIGIN,
    X_KIND,
    X_KEY,
    X_IDX,
    T_LEVEL,
    T_IDX,
    T_DATA,
    NARRAYS
};

struct rows {
    struct array a[NARRAYS];
    struct array queued; /* queue ids to delete */
};

static int rows_init(struct rows *r)
{
    static const Oid elems[NARRAYS] = {OID_INT8, OID_BYTEA, OID_BYTEA, OID_INT8,
                                       OID_INT8, OID_INT4,  OID_BYTEA, OID_INT8,
                                       OID_INT4, OID_INT8,  OID_BYTEA};
    int bad = 0;

    for (int i = 0; i < NARRAYS; i++) {
        arr_init(&r->a[i], elems[i]);
        bad |= r->a[i].n == UINT32_MAX;
    }
    arr_init(&r->queued, OID_INT8);
    bad |= r->queued.n == UINT32_MAX;
    return bad ? GL_ENOMEM : 0;
}

static void rows_release(struct rows *r)
{
    for (int i = 0; i < NARRAYS; i++)
        gl_buf_release(&r->a[i].b);
    gl_buf_release(&r->queued.b);
}

/* GL_ETOOBIG if a column could not take its rows. */
static int rows_failed(const struct rows *r)
{
    for (int i = 0; i < NARRAYS; i++)
        if (r->a[i].n == UINT32_MAX)
            return GL_ETOOBIG;
    return r->queued.n == UINT32_MAX ? GL_ETOOBIG : 0;
}

static Oid array_type(Oid elem)
{
    return elem == OID_INT4   ? OID_INT4_ARRAY
           : elem == OID_INT8 ? OID_INT8_ARRAY
                              : OID_BYTEA_ARRAY;
}

/* Runs an INSERT from arrays a[0..n) (skipped when they are empty). */
static int exec_arrays(PGconn *c, const char *sql, struct array *a, int n)
{
    struct params pa = {0};

    if (a[0].n == 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (a[i].n == UINT32_MAX)
            return GL_ETOOBIG;
        p_add(&pa, array_type(get_be32(a[i].b.data + 8)), a[i].b.data, a[i].b.len);
    }
    return pg_exec(c, sql, &pa, NULL);
}

static int flush_tiles(PGconn *c, struct rows *r)
{
    int rc = exec_arrays(c,
                         "INSERT INTO glasslog_tiles (level, idx, data)"
                         " SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])"
                         " ON CONFLICT (level, idx) DO UPDATE SET data = EXCLUDED.data",
                         &r->a[T_LEVEL], 3);

    arr_reset(&r->a[T_LEVEL]);
    arr_reset(&r->a[T_IDX]);
    arr_reset(&r->a[T_DATA]);
    return rc;
}

/* Whether tile (level, index) is in the run of tiles not yet written (an
 * upsert may not touch one row twice). */
static int tile_pending(const struct rows *r, uint32_t level, uint64_t index)
{
    const uint8_t *lv = r->a[T_LEVEL].b.data + 20, *ix = r->a[T_IDX].b.data + 20;

    for (uint32_t i = 0; i < r->a[T_LEVEL].n && r->a[T_LEVEL].n != UINT32_MAX; i++)
        if (get_be32(lv + 8 * (size_t)i + 4) == level &&
            get_be64(ix + 12 * (size_t)i + 4) == index)
            return 1;
    return 0;
}

static int put_meta(PGconn *c, const char *k, const void *v, size_t len)
{
    struct params pa = {0};

    p_add(&pa, OID_TEXT, k, strlen(k));
    pa.fmts[0] = 0;
    p_bytes(&pa, v, len);
    return pg_exec(c,
                   "INSERT INTO glasslog_meta (k, v) VALUES ($1, $2)"
                   " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                   &pa, NULL);
}

/* Runs sql, which must touch one row: 0, GL_ESTATE (none: a lost race),
 * or pg_exec's error. */
static int exec_one_row(PGconn *c, const char *sql, const struct params *pa)
{
    PGresult *r;
    int rc = pg_exec(c, sql, pa, &r);

    if (rc != 0)
        return rc;
    if (strcmp(PQcmdTuples(r), "1") != 0)
        rc = GL_ESTATE;
    PQclear(r);
    return rc;
}

/* The log's key, written once: over a different stored key (another
 * glasslogd created the log with its own key at the same time: both
 * creations expect the untouched size-0 state, so the compare-and-set
 * alone lets the second through) GL_ESTATE, a lost race. The same key
 * again changes nothing. */
static int put_vkey(PGconn *c, const void *v, size_t len)
{
    struct params pa = {0};

    p_bytes(&pa, v, len);
    return exec_one_row(c,
                        "INSERT INTO glasslog_meta (k, v) VALUES ('vkey', $1)"
                        " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
                        " WHERE glasslog_meta.v = EXCLUDED.v",
                        &pa);
}

/* Writes one put that is not a row of the arrays (tiles run in order
 * with deletes, so a delete first writes the tiles before it). */
static int put_one(PGconn *c, const struct store_batch *b, const struct store_put *p,
                   struct rows *r)
{
    const uint8_t *key = store_put_key(b, p), *val = store_put_val(b, p);
    struct params pa = {0};
    uint8_t v[8];
    int rc;

    switch (p->kind) {
    case STORE_PUT_ENTRY:
        arr_i64(&r->a[E_IDX], p->n);
        arr_add(&r->a[E_DATA], val, p->vlen);
        return 0;
    case STORE_PUT_LEAF:
        arr_add(&r->a[L_HASH], key, 32);
        arr_i64(&r->a[L_IDX], p->n);
        arr_i64(&r->a[L_ORIGIN], p->vlen == 8 ? get_be64(val) : 0);
        return 0;
    case STORE_PUT_INDEX:
        arr_i32(&r->a[X_KIND], p->a);
        arr_add(&r->a[X_KEY], key, p->klen);
        arr_i64(&r->a[X_IDX], p->n);
        return 0;
    case STORE_PUT_TILE:
        if (tile_pending(r, p->a, p->n) && (rc = flush_tiles(c, r)) != 0)
            return rc;
        arr_i32(&r->a[T_LEVEL], p->a);
        arr_i64(&r->a[T_IDX], p->n);
        arr_add(&r->a[T_DATA], val, p->vlen);
        return 0;
    case STORE_DELETE_TILE:
        if ((rc = flush_tiles(c, r)) != 0)
            return rc;
        p_i32(&pa, p->a);
        p_i64(&pa, p->n);
        return pg_exec(c, "DELETE FROM glasslog_tiles WHERE level = $1 AND idx = $2", &pa,
                       NULL);
    case STORE_PUT_VKEY:
        return put_vkey(c, val, p->vlen);
    case STORE_PUT_INDEX_VERSION:
        put_be32(v, (uint32_t)p->n);
        return put_meta(c, "indexver", v, 4);
    case STORE_PUT_STATE:
        return 0; /* the compare-and-set wrote it */
    case STORE_DELETE_QUEUED:
        arr_i64(&r->queued, p->n);
        return 0;
    }
    return GL_EINVAL;
}

static int flush_rows(PGconn *c, struct rows *r)
{
    int rc;

    if ((rc = flush_tiles(c, r)) != 0 ||
        (rc = exec_arrays(c,
                          "INSERT INTO glasslog_entries (idx, data)"
                          " SELECT * FROM unnest($1::bigint[], $2::bytea[])"
                          " ON CONFLICT (idx) DO NOTHING",
                          &r->a[E_IDX], 2)) != 0 ||
        (rc = exec_arrays(c,
                          "INSERT INTO glasslog_leaves (hash, idx, origin)"
                          " SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bigint[])"
                          " ON CONFLICT (hash) DO NOTHING",
                          &r->a[L_HASH], 3)) != 0)
        return rc;
    if ((rc = exec_arrays(c,
                          "INSERT INTO glasslog_index (kind, key, idx)"
                          " SELECT * FROM unnest($1::int[], $2::bytea[], $3::bigint[])"
                          " ON CONFLICT DO NOTHING",
                          &r->a[X_KIND], 3)) != 0)
        return rc;
    return exec_arrays(c, "DELETE FROM glasslog_queue WHERE id = ANY($1::bigint[])",
                       &r->queued, 1);
}

/* The compare-and-set, the transaction's first statement: the state row
 * gets the batch's state (its last, if several) only if it still holds
 * expect. 0 rows: GL_ESTATE. */
static int compare_and_set(PGconn *c, const struct store_batch *b,
                           const struct store_expect *expect)
{
    const struct store_put *st = NULL;
    struct params pa = {0};

    for (size_t i = 0; i < b->n; i++)
        if (b->puts[i].kind == STORE_PUT_STATE)
            st = &b->puts[i];
    if (st == NULL && expect == NULL)
        return 0;
    if (st != NULL) {
        p_i64(&pa, st->n);
        p_bytes(&pa, store_put_val(b, st), st->vlen);
    }
    if (expect != NULL) {
        p_i64(&pa, expect->size);
        p_i64(&pa, expect->epoch);
    }
    return exec_one_row(c,
                        st == NULL ? "UPDATE glasslog_state SET size = size"
                                     " WHERE id = 1 AND size = $1 AND epoch = $2"
                        : expect == NULL
                            ? "UPDATE glasslog_state SET size = $1, checkpoint = $2"
                              " WHERE id = 1"
                            : "UPDATE glasslog_state SET size = $1, checkpoint = $2"
                              " WHERE id = 1 AND size = $3 AND epoch = $4",
                        &pa);
}

static int has_state(const struct store_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->puts[i].kind == STORE_PUT_STATE)
            return 1;
    return 0;
}

/* The notice receiver during a COMMIT; *arg (an int) is set by a
 * WARNING. The one a COMMIT gets is a synchronous standby's wait cut
 * short (cancelled by an administrator or a timeout): the transaction
 * committed locally but may not be on the standby, so a fail-over can
 * lose it. Severity is matched untranslated (lc_messages may translate
 * the text). Other notices go to pg_notice. */
static void commit_notice(void *arg, const PGresult *res)
{
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

    if (sev == NULL) /* servers before 9.6 */
        sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
    if (sev == NULL || strcmp(sev, "WARNING") != 0) {
        pg_notice(NULL, PQresultErrorMessage(res));
        return;
    }
    *(int *)arg = 1;
    gl_log(GL_LOG_ERROR,
           "store: COMMIT warned (committed on the primary only; nothing is acknowledged "
           "until a later commit's wait completes): %.*s %.*s",
           m ? (int)strcspn(m, "\n") : 0, m ? m : "", d ? (int)strcspn(d, "\n") : 0,
           d ? d : "");
}

/* COMMIT on c; *warned tells whether the server warned (commit_notice).
 * The default receiver (which hands notices to pg_notice) takes no
 * argument. */
static int commit_warned(PGconn *c, int *warned)
{
    PQnoticeReceiver prev;
    int rc;

    *warned = 0;
    prev = PQsetNoticeReceiver(c, commit_notice, warned);
    rc = pg_exec(c, "COMMIT", NULL, NULL);
    PQsetNoticeReceiver(c, prev, NULL);
    return rc;
}

/* Commits c's transaction: 0 once it is as durable as synchronous_commit
 * asks. A failed COMMIT (a lost connection) has an unknown outcome:
 * GL_EIO. A COMMIT the server warned about is on the primary only; it
 * is durable once a later commit's wait completes, as that wait covers
 * all earlier WAL. So a transaction that writes WAL (a commit that wrote
 * none does not wait) is committed again, once a second, until one's
 * wait completes (0). A statement of it that was cancelled (SQLSTATE
 * 57014, query_canceled) is rolled back and tried again; any other
 * failure (a lost connection, a server that takes no writes, a refused
 * statement) ends the wait with GL_EIO (rolled back if the connection
 * lives), an unknown outcome, so a batch never waits on an error that
 * does not pass. Nothing built from the batch leaves the process
 * meanwhile: the writer waits as it does for a standby that is down. The
 * warned commit ended by GL_EIO, with the primary still up: the state
 * then re-read holds the batch, and the sequencer takes it only through
 * pg_mark_durable, whose own commit's wait covers it. */
static int commit_durable(PGconn *c)
{
    const struct timespec pause = {1, 0};
    int warned, again = 0, rc = commit_warned(c, &warned);

    while (rc == 0 && warned) {
        again = 1;
        nanosleep(&pause, NULL);
        if ((rc = pg_exec(c, "BEGIN", NULL, NULL)) == 0 &&
            (rc = pg_exec(c, "UPDATE glasslog_meta SET v = v WHERE k = 'vkey'", NULL,
                          NULL)) == 0) {
            rc = commit_warned(c, &warned);
        } else if (conn_usable(c)) {
            int cancelled = query_canceled; /* before the ROLLBACK's result */
            pg_exec(c, "ROLLBACK", NULL, NULL);
            if (cancelled)
                rc = 0; /* again */
        }
    }
    if (rc == 0 && again)
        gl_log(GL_LOG_INFO, "store: a commit's wait completed after a warned COMMIT: "
                            "the batch is durable");
    return rc;
}

/* Writes the durable mark (size, its checkpoint ck, under epoch) in a
 * transaction of its own, with synchronous_commit off (no flush, no
 * standby wait: the state it names is durable already, and a mark a crash
 * or fail-over loses only holds the followers back, never forward, until
 * the next one; they judge lost data by the stored size, not by the
 * mark), and tells the followers. Only under that epoch and never past
 * the stored size; a mark already there at that size or above stays.
 * 0 or GL_EIO (the transaction rolled back if the connection lives). */
static int mark_state(PGconn *c, uint64_t size, const uint8_t *ck, size_t cklen,
                      uint64_t epoch)
{
    struct params pa = {0};
    int rc;

    p_i64(&pa, size);
    p_bytes(&pa, ck, cklen);
    p_i64(&pa, epoch);
    if ((rc = pg_exec(c, "BEGIN", NULL, NULL)) == 0 &&
        (rc = pg_exec(c, "SET LOCAL synchronous_commit = off", NULL, NULL)) == 0 &&
        (rc = pg_exec(c,
                      "UPDATE glasslog_state SET durable = $1, durable_ck = $2,"
                      " durable_epoch = $3 WHERE id = 1 AND epoch = $3 AND size >= $1"
                      " AND (durable_epoch <> $3 OR durable < $1)",
                      &pa, NULL)) == 0 &&
        (rc = pg_exec(c, "NOTIFY glasslog_state", NULL, NULL)) == 0)
        rc = pg_exec(c, "COMMIT", NULL, NULL);
    if (rc != 0 && conn_usable(c))
        pg_exec(c, "ROLLBACK", NULL, NULL);
    return rc;
}

/* Marks the state a commit just made durable (commit_durable returned 0)
 * as such, for the followers (store_get_durable; mark_state). A failure
 * is logged, not returned: the batch is durable; the sequencer finds the
 * mark missing at its next lease renewal and marks again
 * (pg_mark_durable). */
static void mark_durable(PGconn *c, const struct store_batch *b,
                         const struct store_expect *expect)
{
    const struct store_put *st = NULL;

    for (size_t i = 0; i < b->n; i++)
        if (b->puts[i].kind == STORE_PUT_STATE)
            st = &b->puts[i];
    if (st == NULL || expect == NULL)
        return;
    if (mark_state(c, st->n, store_put_val(b, st), st->vlen, expect->epoch) != 0)
        gl_log(GL_LOG_WARN,
               "store: cannot mark size %llu durable for the followers; the sequencer "
               "marks it again",
               (unsigned long long)st->n);
}

/* store_mark_durable: the stored state, read under the sequencer's epoch
 * in a transaction that then writes (a row updated to itself) and is
 * committed by commit_durable, whose wait for a synchronous standby
 * covers all earlier WAL and so the state's own commit; then marked
 * (mark_state). A state the epoch no longer owns: GL_ESTATE, nothing
 * written. */
static int pg_mark_durable(struct store *s, uint64_t epoch, uint64_t *size,
                           struct gl_buf *checkpoint)
{
    struct pg *p = pg(s);
    struct params pa = {0};
    PGresult *r = NULL;
    size_t off = checkpoint->len;
    PGconn *c;
    int slot, rc;

    if ((rc = pg_get(p, &slot, NULL, 0, 0)) != 0)
        return rc;
    c = p->conns[slot];
    p_i64(&pa, epoch);
    if ((rc = pg_exec(c, "BEGIN", NULL, NULL)) != 0)
        goto out;
    if ((rc = pg_exec(c,
                      "SELECT size, checkpoint FROM glasslog_state WHERE id = 1"
                      " AND epoch = $1",
                      &pa, &r)) != 0)
        goto rollback;
    if (PQntuples(r) != 1) {
        rc = GL_ESTATE;
        goto rollback;
    }
    if ((rc = col_i64(r, 0, 0, size)) != 0 ||
        (rc = gl_buf_append(checkpoint, PQgetvalue(r, 0, 1),
                            (size_t)PQgetlength(r, 0, 1))) != 0 ||
        (rc = pg_exec(c, "UPDATE glasslog_meta SET v = v WHERE k = 'vkey'", NULL,
                      NULL)) != 0)
        goto rollback;
    if ((rc = commit_durable(c)) == 0)
        rc = mark_state(c, *size, checkpoint->data + off, checkpoint->len - off, epoch);
    goto out;
rollback:
    if (conn_usable(c))
        pg_exec(c, "ROLLBACK", NULL, NULL);
out:
    PQclear(r);
    pg_put(p, slot);
    return rc;
}

static int pg_commit(struct store *s, const struct store_batch *b,
                     const struct store_expect *expect)
{
    struct pg *p = pg(s);
    struct rows r;
    PGconn *c;
    int slot, rc;

    if ((rc = rows_init(&r)) != 0)
        goto out_rows;
    if ((rc = pg_get(p, &slot, NULL, 0, 0)) != 0)
        goto out_rows;
    c = p->conns[slot];
    if ((rc = pg_exec(c, "BEGIN", NULL, NULL)) != 0)
        goto out;
    if ((rc = compare_and_set(c, b, expect)) != 0)
        goto rollback;
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = put_one(c, b, &b->puts[i], &r);
    if (rc != 0 || (rc = rows_failed(&r)) != 0 || (rc = flush_rows(c, &r)) != 0 ||
        (has_state(b) && (rc = pg_exec(c, "NOTIFY glasslog_state", NULL, NULL)) != 0))
        goto rollback;
    if ((rc = commit_durable(c)) == 0)
        mark_durable(c, b, expect);
    goto out;
rollback:
    if (conn_usable(c))
        pg_exec(c, "ROLLBACK", NULL, NULL);
out:
    pg_put(p, slot);
out_rows:
    rows_release(&r);
    return rc;
}

/* All the hashes in one query; the rows found are matched back to the
 * hashes (few: a batch's duplicates). origins may be NULL. */
static int pg_find_leaves_origin(struct store *s, size_t n, const uint8_t *const *hashes,
                                 uint64_t *indices, uint64_t *origins, uint8_t *found)
{
    struct params pa = {0};
    struct array a;
    PGresult *r = NULL;
    int rc;

    arr_init(&a, OID_BYTEA);
    for (size_t i = 0; i < n; i++) {
        arr_add(&a, hashes[i], 32);
        found[i] = 0;
    }
    if (a.n == UINT32_MAX) {
        rc = GL_ENOMEM;
        goto out;
    }
    p_add(&pa, OID_BYTEA_ARRAY, a.b.data, a.b.len);
    /* each row names its hash by its place in the array (1-based), so
     * matching is linear however many are asked */
    if ((rc = pg_query(
             pg(s),
             "SELECT u.i, l.idx, l.origin FROM unnest($1::bytea[])"
             " WITH ORDINALITY AS u(h, i) JOIN glasslog_leaves l ON l.hash = u.h",
             &pa, &r)) != 0)
        goto out;
    for (int row = 0; rc == 0 && row < PQntuples(r); row++) {
        uint64_t i, idx, origin;
        if ((rc = col_i64(r, row, 0, &i)) != 0 || (rc = col_i64(r, row, 1, &idx)) != 0 ||
            (rc = col_i64(r, row, 2, &origin)) != 0)
            break;
        if (i < 1 || i > n) {
            gl_log(GL_LOG_ERROR, "store: a leaf look-up answered for no hash asked");
            rc = GL_EPARSE;
            break;
        }
        indices[i - 1] = idx;
        if (origins != NULL)
            origins[i - 1] = origin;
        found[i - 1] = 1;
    }
out:
    PQclear(r);
    gl_buf_release(&a.b);
    return rc;
}

static int pg_find_leaves(struct store *s, size_t n, const uint8_t *const *hashes,
                          uint64_t *indices, uint8_t *found)
{
    return pg_find_leaves_origin(s, n, hashes, indices, NULL, found);
}

/* --- the lease and the queue ---------------------------------------------------- */

/* The name the lease row holds for holder: holder, a space and this
 * process's session tag (p->tag), so that a takeover can find
 * the holder's sessions (pg_end_stale). GL_EINVAL if it does not fit. */
static int lease_name(const struct pg *p, const char *holder, char *out, size_t cap)
{
    size_t n = strlen(holder);

    if (n > cap - TAG_LEN - 2)
        return GL_EINVAL;
    memcpy(out, holder, n + 1);
    out[n] = ' '; /* its NUL: the tag follows */
    memcpy(out + n + 1, p->tag, TAG_LEN + 1);
    return 0;
}

/* Before a takeover: ends the transactions an expired (not given up)
 * holder's sessions have open on the state (found by the tag that ends
 * their application_name and its lease name). Such a transaction
 * holds the state row locked (its process paused or its machine gone
 * while it sent a statement, which no idle-in-transaction timeout
 * covers), and the takeover would wait for it without end; its process
 * lost the lease and must not commit anyway. Needs the right to signal
 * those sessions (the same role, or pg_signal_backend); a failure is
 * logged and the takeover is tried all the same. */
static void pg_end_stale(struct pg *p, const char *name)
{
    struct params pa = {0};
    PGresult *r;
    uint64_t n = 0;

    p_add(&pa, OID_TEXT, name, strlen(name));
    pa.fmts[0] = 0;
    if (pg_query_as(p,
                    "SELECT count(pg_terminate_backend(a.pid))"
                    " FROM glasslog_lease l, pg_stat_activity a"
                    " WHERE l.id = 1 AND l.holder <> $1"
                    "  AND l.expires < clock_timestamp() AND l.expires > '-infinity'"
                    "  AND right(a.application_name, " TAG_LEN_SQL " + 1)"
                    "   = ' ' || right(l.holder, " TAG_LEN_SQL ")"
                    "  AND a.datname = current_database() AND a.pid <> pg_backend_pid()"
                    "  AND a.backend_xid IS NOT NULL"
                    "  AND EXISTS (SELECT 1 FROM pg_locks k WHERE k.pid = a.pid"
                    "   AND k.relation = 'glasslog_state'::regclass AND k.granted)",
                    &pa, &r, 1, 0) != 0) {
        gl_log(GL_LOG_WARN, "store: cannot end an expired lease holder's transactions");
        return;
    }
    if (PQntuples(r) == 1 && col_i64(r, 0, 0, &n) == 0 && n > 0)
        gl_log(GL_LOG_WARN,
               "store: ended %llu session(s) of the expired lease holder that held the "
               "state locked",
               (unsigned long long)n);
    PQclear(r);
}

/* Takes or renews the lease; taking raises the lease's and the state's
 * epoch in one statement (so in one transaction). A taking call (have 0)
 * first ends an expired holder's transactions on the state
 * (pg_end_stale). */
static int pg_lease(struct store *s, const char *holder, unsigned ms, uint64_t have,
                    uint64_t *epoch)
{
    struct params pa = {0};
    char name[PG_LEASE_NAME_MAX];
    PGresult *r;
    int rc;

    if ((rc = lease_name(pg(s), holder, name, sizeof(name))) != 0)
        return rc;
    if (have == 0)
        pg_end_stale(pg(s), name);
    p_add(&pa, OID_TEXT, name, strlen(name));
    pa.fmts[0] = 0;
    p_i64(&pa, ms);
    p_i64(&pa, have);
    if ((rc = pg_query_as(
             pg(s),
             "WITH l AS (UPDATE glasslog_lease SET"
             "  epoch = CASE WHEN holder = $1 AND epoch = $3 THEN epoch"
             "          ELSE epoch + 1 END,"
             "  holder = $1, expires = clock_timestamp() + $2 * interval '1 ms'"
             " WHERE id = 1 AND ((holder = $1 AND epoch = $3)"
             "  OR expires < clock_timestamp()) RETURNING epoch),"
             " st AS (UPDATE glasslog_state SET epoch = (SELECT epoch FROM l),"
             "  durable_epoch = CASE WHEN durable_epoch = epoch AND durable <= size"
             "   THEN (SELECT epoch FROM l) ELSE durable_epoch END"
             "  WHERE id = 1 AND epoch <> (SELECT epoch FROM l) RETURNING 1)"
             " SELECT epoch FROM l",
             &pa, &r, 1, 0)) != 0)
        return rc;
    rc = PQntuples(r) == 1 ? col_i64(r, 0, 0, epoch) : GL_ESTATE;
    PQclear(r);
    return rc;
}

static int pg_lease_release(struct store *s, const char *holder, uint64_t epoch)
{
    struct params pa = {0};
    char name[PG_LEASE_NAME_MAX];
    int rc;

    if ((rc = lease_name(pg(s), holder, name, sizeof(name))) != 0)
        return rc;
    p_add(&pa, OID_TEXT, name, strlen(name));
    pa.fmts[0] = 0;
    p_i64(&pa, epoch);
    return pg_query_as(pg(s),
                       "UPDATE glasslog_lease SET expires = '-infinity'"
                       " WHERE id = 1 AND holder = $1 AND epoch = $2",
                       &pa, NULL, 1, 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* One INSERT of every row, returning their ids. The rows reach the insert
 * in the arrays' order (ORDER BY the ordinality), and each takes its id
 * from the sequence then: one session's nextval values only grow, so the
 * ids sorted are the rows' in order, whatever other sessions insert. */
static int pg_queue_put(struct store *s, const struct store_queued *q, size_t n,
                        uint64_t *ids)
{
    struct params pa = {0};
    struct array a[2];
    PGresult *r = NULL;
    uint64_t end;
    int slot, rc;

    arr_init(&a[0], OID_BYTEA);
    arr_init(&a[1], OID_BYTEA);
    for (size_t i = 0; i < n; i++) {
        arr_add(&a[0], q[i].meta, q[i].mlen);
        arr_add(&a[1], q[i].data, q[i].len);
    }
    if (a[0].n == UINT32_MAX || a[1].n == UINT32_MAX) {
        rc = GL_ETOOBIG;
        goto out;
    }
    p_add(&pa, OID_BYTEA_ARRAY, a[0].b.data, a[0].b.len);
    p_add(&pa, OID_BYTEA_ARRAY, a[1].b.data, a[1].b.len);
    if ((rc = pg_get(pg(s), &slot, &end, 0, 0)) != 0)
        goto out;
    rc = pg_run(pg(s), pg(s)->conns[slot],
                "INSERT INTO glasslog_queue (meta, data)"
                " SELECT m, d FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY"
                " AS u(m, d, o) ORDER BY o RETURNING id",
                &pa, &r, end);
    if (rc == 0) /* a wake-up for the sequencer; the rows are committed */
        pg_notify(pg(s), slot, "NOTIFY glasslog_queue", end);
    pg_put(pg(s), slot);
    if (rc != 0 || ids == NULL)
        goto out;
    if ((size_t)PQntuples(r) != n) {
        gl_log(GL_LOG_ERROR, "store: queued %zu submissions, %d ids returned", n,
               PQntuples(r));
        rc = GL_EPARSE;
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = col_i64(r, (int)i, 0, &ids[i]);
    if (rc == 0)
        qsort(ids, n, sizeof(*ids), cmp_u64);
out:
    PQclear(r);
    gl_buf_release(&a[0].b);
    gl_buf_release(&a[1].b);
    return rc;
}

static int pg_queue_scan(struct store *s, size_t max,
                         int (*fn)(void *ctx, uint64_t id, const struct store_queued *q),
                         void *ctx)
{
    struct params pa = {0};
    PGresult *r;
    uint64_t id;
    int rc;

    p_i64(&pa, max);
    if ((rc = pg_query(pg(s),
                       "SELECT id, meta, data FROM glasslog_queue ORDER BY id LIMIT $1",
                       &pa, &r)) != 0)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct store_queued q = {
            (const uint8_t *)PQgetvalue(r, i, 2), (const uint8_t *)PQgetvalue(r, i, 1),
            (size_t)PQgetlength(r, i, 2), (size_t)PQgetlength(r, i, 1)};
        if ((rc = col_i64(r, i, 0, &id)) == 0)
            rc = fn(ctx, id, &q);
    }
    PQclear(r);
    return rc < 0 ? rc : 0;
}

/* --- change notices: LISTEN on a connection of its own ------------------------- */

static void pg_watch_close(struct store *s)
{
    PQfinish(pg(s)->watch);
    pg(s)->watch = NULL;
}

/* Makes the next LISTEN connection off the loop (pg_watch_fd). */
static void *watch_main(void *arg)
{
    struct pg *p = arg;
    PGconn *c = watch_connect(p, gl_clock_mono_ms() + PG_SETUP_MS);

    pthread_mutex_lock(&p->mu);
    p->watch_ready = c;
    p->watch_done = 1;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Joins the watch thread if it finished (or, wait, whatever it does);
 * the connection it made, or NULL. Loop thread. */
static PGconn *watch_join(struct pg *p, int wait)
{
    PGconn *c;
    int done;

    if (!p->watch_started)
        return NULL;
    pthread_mutex_lock(&p->mu);
    done = p->watch_done;
    pthread_mutex_unlock(&p->mu);
    if (!done && !wait)
        return NULL;
    pthread_join(p->watch_thread, NULL);
    p->watch_started = 0;
    p->watch_done = 0;
    c = p->watch_ready;
    p->watch_ready = NULL;
    return c;
}

/* The first time (before the loop serves) the LISTEN connection is made
 * here; after it broke, a thread of its own makes the next one
 * (GL_ESTATE until it did: ask again later). */
static int pg_watch_fd(struct store *s, int *fd)
{
    struct pg *p = pg(s);

    if (p->watch == NULL && !p->watch_made) {
        if ((p->watch = watch_connect(p, 0)) == NULL)
            return GL_EIO;
        p->watch_made = 1;
    } else if (p->watch == NULL && (p->watch = watch_join(p, 0)) == NULL) {
        if (!p->watch_started &&
            pthread_create(&p->watch_thread, NULL, watch_main, p) == 0)
            p->watch_started = 1;
        return GL_ESTATE;
    }
    *fd = PQsocket(p->watch);
    return *fd >= 0 ? 0 : GL_EIO;
}

static int pg_watch_drain(struct store *s)
{
    struct pg *p = pg(s);
    PGnotify *n;
    int count = 0;

    if (p->watch == NULL)
        return GL_EIO;
    if (!PQconsumeInput(p->watch) || PQstatus(p->watch) != CONNECTION_OK) {
        const char *m = PQerrorMessage(p->watch);
        gl_log(GL_LOG_WARN, "store: the LISTEN connection broke: %.*s",
               (int)strcspn(m, "\n"), m);
        return GL_EIO;
    }
    while ((n = PQnotifies(p->watch)) != NULL) {
        count++;
        PQfreemem(n);
    }
    return count;
}

/* --- lifecycle ------------------------------------------------------------------- */

/* Connections taken out of the pool under mu (take_all, take_server)
 * and closed after mu is released (close_taken): PQfinish sends a
 * Terminate message on the socket and may block, and mu is never held
 * across a call that talks to a server. A slot is empty (NULL) once its
 * connection is taken, so no other thread can take it meanwhile. */
struct taken {
    PGconn *c[PG_CONNS];
    int n;
};

/* Takes every pooled connection out of the pool into t (empty before),
 * under mu. None is in use: store.c runs pg_reopen only while no other
 * operation runs, and pg_close after all ended (the connector takes no
 * slot until its connection is made). */
static void take_all(struct pg *p, struct taken *t)
{
    for (int i = 0; i < PG_CONNS; i++) {
        assert(!p->busy[i]);
        if (p->conns[i] != NULL)
            t->c[t->n++] = p->conns[i];
        p->conns[i] = NULL;
    }
}

/* Whether o and c reach the same server (host and port). */
static int same_server(const PGconn *o, const PGconn *c)
{
    const char *host = PQhost(c), *port = PQport(c);

    return host != NULL && port != NULL && PQhost(o) != NULL && PQport(o) != NULL &&
           strcmp(PQhost(o), host) == 0 && strcmp(PQport(o), port) == 0;
}

/* Takes the pooled connections not in use (pg_reopen runs alone: none
 * is but its own, c) to the server c reaches out of the pool into t
 * (empty before), under mu: once c failed the reopen's check, they are
 * as stale as c. */
static void take_server(struct pg *p, const PGconn *c, struct taken *t)
{
    for (int i = 0; i < PG_CONNS; i++) {
        if (p->busy[i] || p->conns[i] == NULL || !same_server(p->conns[i], c))
            continue;
        t->c[t->n++] = p->conns[i];
        p->conns[i] = NULL;
    }
}

/* Closes the connections of t; not under mu. */
static void close_taken(struct taken *t)
{
    for (int i = 0; i < t->n; i++)
        PQfinish(t->c[i]);
    t->n = 0;
}

/* The least a reopen's reconnect check is to have left of the bound
 * after the wait at the store's gate: a tenth of the bound, at least
 * PG_CHECK_MIN_MS. With less, a server that is well could miss the
 * time, and its check would be taken for a failed server's. */
#define PG_CHECK_MIN_MS 10

static uint64_t check_min_ms(struct pg *p)
{
    unsigned ms = store_bound_ms(&p->base) / 10;

    return ms > PG_CHECK_MIN_MS ? ms : PG_CHECK_MIN_MS;
}

/* The reopen's check, one statement (one round trip): the server
 * answers, and takes writes. A server that answers but is read-only (a
 * demoted primary, now a standby; default_transaction_read_only set)
 * fails it, so the next connection follows target_session_attrs (a
 * promoted standby with read-write) instead of the next commit failing
 * there. Binary result: a bool, 1 when the server takes writes. */
#define PG_CHECK_SQL "SELECT pg_catalog.current_setting('transaction_read_only') = 'off'"
#define PG_CHECK_WHAT "the reconnect check's query" /* its name in the log */

/* The reopen's check (PG_CHECK_SQL) on c by by (0: no bound; pg_get's),
 * which began at start; end: the reopen's cap (0: none). 0 or GL_EIO;
 * *stale: the check found c's server gone (the connection broke:
 * CONNECTION_BAD, or no answer in a whole bound: timed_out) or taking
 * no writes or giving a malformed answer (logged), not cut short by the cap nor refused
 * by a server that answers with an error. */
static int reopen_check(struct pg *p, PGconn *c, uint64_t start, uint64_t by,
                        uint64_t end, int *stale)
{
    unsigned ms = store_bound_ms(&p->base);
    PGresult *r;
    int rc, malformed;

    *stale = 0;
    if ((rc = run_by(c, PG_CHECK_SQL, NULL, &r, by)) < 0) {
        *stale = PQstatus(c) == CONNECTION_BAD;
        return rc;
    }
    if (rc == 0) {
        malformed = PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 1;
        *stale = malformed || PQgetvalue(r, 0, 0)[0] != 1;
        PQclear(r);
        if (!*stale)
            return 0;
        if (malformed)
            gl_log(GL_LOG_ERROR,
                   "store: not reopened: PostgreSQL at %s:%s gives a malformed answer to "
                   "the reconnect check; its connections are closed, so the next reopen "
                   "connects afresh",
                   PQhost(c), PQport(c));
        else
            gl_log(GL_LOG_ERROR,
                   "store: not reopened: PostgreSQL at %s:%s answers the reconnect check "
                   "but takes no writes (transaction_read_only is on: a standby, or a "
                   "server set read-only); its connections are closed, so the next "
                   "reopen connects afresh (a URL with target_session_attrs=read-write "
                   "would go on to the next host)",
                   PQhost(c), PQport(c));
        return GL_EIO;
    }
    if (end != 0 && end < start + ms)
        return timed_out(p, PG_CHECK_WHAT, by - start, 1); /* the cap ended it */
    *stale = 1;
    return timed_out(p, PG_CHECK_WHAT, ms, 0);
}

/* Connects afresh (the old server may be gone: a standby promoted) and
 * checks the connection works and takes writes (reopen_check). The pool
 * is dropped, and a connection
 * the connector has under way is not pooled (gen), unless the reopen
 * before failed: the pool then holds only connections made since, and a
 * bound caller retrying the reopen may need the one the connector
 * finished after its last wait ended. (glasslogd retries a failed reopen
 * before anything else is written: seq_recover.) A check that finds the
 * server gone (a broken connection, or no answer in a whole bound) or
 * read-only closes the checked connection and the pool's other
 * connections to that server too (take_server;
 * matched by host and port): should the primary change again before a
 * reopen succeeds, the connections made since are stale, and each would
 * cost a retry (a whole bound, for a server that stopped answering). On
 * the bound thread it is done by end, what its bound left after the wait
 * at the store's gate (store_impl.h), so the whole store_reopen takes one
 * bound. With less than check_min_ms left it changes nothing; a check
 * the cap cuts short (or a wait for the connector) is no failure of the
 * server's: GL_EIO, no quiet time, no connection closed but the checked
 * one if its check was under way (a late answer must not be read as
 * another statement's). Connections are closed after mu is released
 * (struct taken). */
static int pg_reopen(struct store *s, uint64_t end)
{
    struct pg *p = pg(s);
    struct taken t = {.n = 0};
    uint64_t start = gl_clock_mono_ms(), by;
    int slot, rc, stale;
    PGconn *c;

    if (end != 0 && (start >= end || end - start < check_min_ms(p))) {
        gl_log(GL_LOG_ERROR,
               "store: not reopened: the wait at the store's gate left %llu ms of the "
               "bound, too little for the reconnect check; the reopen is tried again "
               "later",
               (unsigned long long)(start >= end ? 0 : end - start));
        return GL_EIO;
    }
    pthread_mutex_lock(&p->mu);
    if (!p->recovering) {
        p->gen++;
        take_all(p, &t);
    }
    p->recovering = 1;
    pthread_mutex_unlock(&p->mu);
    close_taken(&t);
    if ((rc = pg_get(p, &slot, &by, 0, end)) != 0)
        return rc;
    c = p->conns[slot];
    rc = reopen_check(p, c, start, by, end, &stale);
    pthread_mutex_lock(&p->mu);
    if (stale)
        take_server(p, c, &t);
    else if (rc == 0)
        p->recovering = 0;
    pthread_mutex_unlock(&p->mu);
    if (stale) {
        t.c[t.n++] = c; /* its own slot, not in take_server's */
        p->conns[slot] = NULL;
    }
    pg_put(p, slot);
    close_taken(&t);
    return rc;
}

/* Stops the connector (after the connection it has under way, if any). */
static void connector_stop(struct pg *p)
{
    pthread_mutex_lock(&p->mu);
    p->connector_stop = 1;
    pthread_cond_signal(&p->connector_cv);
    pthread_mutex_unlock(&p->mu);
    if (p->connector_started)
        pthread_join(p->connector, NULL);
    p->connector_started = 0;
}

static void pg_close(struct store *s)
{
    struct pg *p = pg(s);
    struct taken t = {.n = 0};

    connector_stop(p);
    pthread_mutex_lock(&p->mu);
    take_all(p, &t);
    pthread_mutex_unlock(&p->mu);
    close_taken(&t);
    pg_watch_close(s);
    PQfinish(watch_join(p, 1)); /* a LISTEN connection under way: finished first */
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->connector_cv);
    free(p->conninfo);
    free(p);
}

/* The served checkpoint is the meta row "served": the size (8 bytes, big
 * endian, so bytea order is numeric order) then the note. */
static int pg_put_served(struct store *s, uint64_t size, const uint8_t *note, size_t len)
{
    struct params pa = {0};
    uint8_t be[8];
    struct gl_buf v;
    uint64_t end;
    int slot, rc;

    put_be64(be, size);
    gl_buf_init(&v, len + 8);
    if ((rc = gl_buf_append(&v, be, 8)) != 0 || (rc = gl_buf_append(&v, note, len)) != 0)
        goto out;
    p_bytes(&pa, v.data, v.len);
    if ((rc = pg_get(pg(s), &slot, &end, 0, 0)) != 0)
        goto out;
    rc = pg_run(pg(s), pg(s)->conns[slot],
                "INSERT INTO glasslog_meta (k, v) VALUES ('served', $1)"
                " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
                " WHERE substring(glasslog_meta.v from 1 for 8)"
                " <= substring(EXCLUDED.v from 1 for 8)",
                &pa, NULL, end);
    if (rc == 0) /* a wake-up for the followers; the row is committed */
        pg_notify(pg(s), slot, "NOTIFY glasslog_state", end);
    pg_put(pg(s), slot);
out:
    gl_buf_release(&v);
    return rc;
}

static int pg_get_served(struct store *s, uint64_t *size, struct gl_buf *note)
{
    struct gl_buf v;
    int rc;

    gl_buf_init(&v, STORE_BATCH_MAX);
    if ((rc = get_meta(s, "served", &v)) == 0) {
        if (v.len <= 8) {
            gl_log(GL_LOG_ERROR, "store: the served checkpoint record is corrupt");
            rc = GL_EPARSE;
        } else {
            *size = get_be64(v.data);
            rc = gl_buf_append(note, v.data + 8, v.len - 8);
        }
    }
    gl_buf_release(&v);
    return rc;
}

/* --- token buckets -------------------------------------------------------------- */

/* The server's clock in whole milliseconds, and a bucket's level refilled
 * to it (numeric: rate * dt may exceed a bigint) and cut to the burst. */
#define NOW_MS "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#define TOKEN_SQL "1000000000"
_Static_assert(RATELIMIT_TOKEN == 1000000000LL, "TOKEN_SQL is RATELIMIT_TOKEN");

/* The conditional take (store.h), ONE statement: cur reads the row
 * refilled to the server's clock read once (now), locking it (FOR UPDATE
 * waits for a concurrent take and reads the row it left); upd takes a
 * token only if cur holds a whole one; a missing row is a full bucket,
 * inserted with one token taken. The answer is one row (took, level). No
 * row: another front-end inserted the bucket meanwhile (the insert did
 * nothing), so the caller runs it again. */
#define TAKE_SQL                                                                         \
    "WITH now AS (SELECT " NOW_MS " AS ms),"                                             \
    " cur AS (SELECT LEAST($3::numeric, b.level + $2::numeric *"                         \
    "   GREATEST(now.ms - b.at_ms, 0)) AS lv, GREATEST(b.at_ms, now.ms) AS at"           \
    "   FROM glasslog_buckets AS b, now WHERE b.name = $1 FOR UPDATE OF b),"             \
    " upd AS (UPDATE glasslog_buckets AS b SET level = (cur.lv - " TOKEN_SQL             \
    ")::bigint, at_ms = cur.at FROM cur WHERE b.name = $1 AND cur.lv >= " TOKEN_SQL ")," \
    " ins AS (INSERT INTO glasslog_buckets (name, level, at_ms)"                         \
    "   SELECT $1, $3 - " TOKEN_SQL ", now.ms FROM now"                                  \
    "   WHERE NOT EXISTS (SELECT 1 FROM cur)"                                            \
    "   ON CONFLICT (name) DO NOTHING RETURNING level)"                                  \
    " SELECT 1::bigint, level FROM ins"                                                  \
    " UNION ALL SELECT (CASE WHEN lv >= " TOKEN_SQL " THEN 1 ELSE 0 END)::bigint,"       \
    "  (CASE WHEN lv >= " TOKEN_SQL " THEN lv - " TOKEN_SQL " ELSE lv END)::bigint"      \
    "  FROM cur"
#define READ_SQL                                                                         \
    "SELECT 0::bigint, COALESCE((SELECT LEAST($3::numeric, level + $2::numeric *"        \
    "  GREATEST(" NOW_MS " - at_ms, 0))::bigint"                                         \
    "  FROM glasslog_buckets WHERE name = $1), $3)"

static int pg_bucket_take(struct store *s, const char *name, uint64_t rate_u,
                          uint64_t burst, int take, int64_t *level, int *took)
{
    struct params pa = {0};
    PGresult *r;
    uint64_t t, v;
    int rc, n = 0;

    p_add(&pa, OID_TEXT, name, strlen(name));
    pa.fmts[0] = 0;
    p_i64(&pa, rate_u);
    p_i64(&pa, burst * (uint64_t)RATELIMIT_TOKEN);      /* <= 10^15 */
    for (int tries = 0; tries < 2 && n == 0; tries++) { /* see TAKE_SQL */
        if ((rc = pg_query(pg(s), take ? TAKE_SQL : READ_SQL, &pa, &r)) != 0)
            return rc;
        if ((n = PQntuples(r)) == 0)
            PQclear(r);
    }
    if (n != 1) {
        if (n != 0)
            PQclear(r);
        gl_log(GL_LOG_ERROR, "store: a bucket take answered %d rows", n);
        return GL_EIO;
    }
    if ((rc = col_i64(r, 0, 0, &t)) == 0)
        rc = col_i64(r, 0, 1, &v);
    PQclear(r);
    if (rc == 0) {
        *took = t == 1;
        *level = (int64_t)v;
    }
    return rc;
}

/* store_bound_thread: the calling thread's calls are bounded from now on
 * (pg_get, pg_run, by store_bound_ms, which store.c sets once this
 * returned 0), and its connections are made by the connector, started
 * here (once). */
static int pg_bound_thread(struct store *s)
{
    struct pg *p = pg(s);

    pthread_mutex_lock(&p->mu);
    if (!p->connector_started) {
        if (pthread_create(&p->connector, NULL, connector_main, p) != 0) {
            pthread_mutex_unlock(&p->mu);
            gl_log(GL_LOG_ERROR, "store: cannot start the connector thread");
            return GL_EIO;
        }
        p->connector_started = 1;
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static const struct store_ops pg_ops = {
    "postgresql",     pg_close,
    pg_reopen,        pg_get_state,
    pg_get_vkey,      pg_get_entry,
    pg_scan_entries,  pg_get_tile,
    pg_scan_tiles,    pg_find_leaf,
    pg_find_index,    pg_get_index_version,
    pg_commit,        pg_lease,
    pg_lease_release, pg_queue_put,
    pg_queue_scan,    pg_find_leaves,
    pg_watch_fd,      pg_watch_drain,
    pg_watch_close,   pg_put_served,
    pg_get_served,    pg_bucket_take,
    pg_get_durable,   pg_find_leaves_origin,
    pg_mark_durable,  PG_CONNS / 2, /* read_capacity: half the pool (store.h) */
    pg_bound_thread,  pg_get_copy,
    pg_set_copy,      NULL, /* no online backup: pg_basebackup or PITR (store.h) */
};

/* Whether the log is empty: size 0 and no record of any kind (as an
 * empty directory is for RocksDB). */
static int is_empty(struct store *s, int *empty)
{
    PGresult *r;
    int rc;

    if ((rc = pg_query(
             pg(s),
             "SELECT size = 0"
             " AND NOT EXISTS (SELECT 1 FROM glasslog_meta WHERE k <> 'schema_version')"
             " AND NOT EXISTS (SELECT 1 FROM glasslog_entries)"
             " AND NOT EXISTS (SELECT 1 FROM glasslog_tiles)"
             " AND NOT EXISTS (SELECT 1 FROM glasslog_leaves)"
             " AND NOT EXISTS (SELECT 1 FROM glasslog_index)"
             " FROM glasslog_state WHERE id = 1",
             NULL, &r)) != 0)
        return rc;
    if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 1) {
        gl_log(GL_LOG_ERROR, "store: the glasslog_state row is missing");
        rc = GL_EPARSE;
    } else {
        *empty = PQgetvalue(r, 0, 0)[0] == 1;
    }
    PQclear(r);
    return rc;
}

/* Runs migrate_<from>_sql (from = 1, 2 or 3). */
static int migrate(struct pg *p, int from)
{
    PGresult *r;
    int slot, rc;

    if ((rc = pg_get(p, &slot, NULL, 0, 0)) != 0)
        return rc;
    r = PQexec(p->conns[slot], from == 1   ? migrate_1_sql
                               : from == 2 ? migrate_2_sql
                                           : migrate_3_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_result("migrating the schema to version " PG_SCHEMA_VERSION, p->conns[slot],
                   r);
        rc = GL_EIO;
    }
    PQclear(r);
    pg_put(p, slot);
    if (rc == 0)
        gl_log(GL_LOG_INFO, "store: the glasslog schema is version %d now", from + 1);
    return rc;
}

/* Makes the schema where there is none, or checks the one there: its
 * version, and the create rules (rule 7). */
static int check_schema(struct pg *p, int create, const char **why)
{
    struct gl_buf v;
    PGresult *r;
    int rc, have, empty = 0;

    if ((rc = pg_query(p, "SELECT to_regclass('glasslog_meta') IS NOT NULL", NULL, &r)) !=
        0) {
        *why = "cannot read the database (see the error above)";
        return rc;
    }
    have = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 1 && PQgetvalue(r, 0, 0)[0] == 1;
    PQclear(r);
    if (!have && !create) {
        *why = "the database holds no glasslog log (use --create to make a new log)";
        return GL_ENOTFOUND;
    }
    if (!have) {
        int slot;
        if ((rc = pg_get(p, &slot, NULL, 0, 0)) != 0) {
            *why = "cannot connect to PostgreSQL (see the error above)";
            return rc;
        }
        r = PQexec(p->conns[slot], schema_sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            log_result("creating the schema", p->conns[slot], r);
            *why = "cannot create the glasslog schema (see the error above)";
            rc = GL_EIO;
        }
        PQclear(r);
        pg_put(p, slot);
        if (rc == 0)
            gl_log(GL_LOG_INFO, "store: created the glasslog schema (version %s)",
                   PG_SCHEMA_VERSION);
        return rc;
    }
    gl_buf_init(&v, 64);
    rc = get_meta(&p->base, "schema_version", &v);
    for (int from = 1; from <= 3; from++) {
        char have_v[2] = {(char)('0' + from), 0};
        if (rc != 0 || strcmp((const char *)v.data, have_v) != 0)
            continue;
        if ((rc = migrate(p, from)) != 0) {
            gl_buf_release(&v);
            *why = "cannot migrate the glasslog schema to version " PG_SCHEMA_VERSION
                   " (see the error above)";
            return rc;
        }
        gl_buf_reset(&v);
        rc = get_meta(&p->base, "schema_version", &v);
    }
    if (rc == 0 && strcmp((const char *)v.data, PG_SCHEMA_VERSION) != 0) {
        gl_log(GL_LOG_ERROR,
               "store: the database's glasslog schema is version %.20s; this "
               "glasslogd reads version %s only",
               (const char *)v.data, PG_SCHEMA_VERSION);
        *why = "unknown glasslog schema version (see the error above)";
        rc = GL_EINVAL;
    } else if (rc != 0) {
        *why = "the glasslog schema has no readable schema_version";
        rc = rc == GL_EIO ? GL_EIO : GL_EPARSE;
    }
    gl_buf_release(&v);
    if (rc != 0)
        return rc;
    if ((rc = is_empty(&p->base, &empty)) != 0) {
        *why = "cannot read the store's state";
        return rc;
    }
    if (empty && !create) {
        *why = "the database's glasslog log is empty (use --create to make a new log)";
        return GL_ENOTFOUND;
    }
    if (!empty && create) {
        *why = "--create needs a database without a glasslog log; this one has one";
        return GL_EEXIST;
    }
    return 0;
}

/* The operator's application_name for the sessions into base
 * (APP_BASE_MAX + 1 bytes): the connection string's, else PGAPPNAME's,
 * else "glasslogd", cut to APP_BASE_MAX bytes, every byte that is not
 * printable ASCII replaced by '?' (as the server would). */
static void app_base(const char *conninfo, char *base)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *v = NULL;
    size_t n = 0;

    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, "application_name") == 0 && o->val != NULL && *o->val)
            v = o->val;
    if (v == NULL && ((v = getenv("PGAPPNAME")) == NULL || *v == 0))
        v = "glasslogd";
    for (; n < APP_BASE_MAX && v[n] != 0; n++)
        base[n] = v[n] >= 0x20 && v[n] < 0x7f ? v[n] : '?';
    base[n] = 0;
    PQconninfoFree(opts);
}

/* The process's tag (TAG_LEN random hex digits, getrandom: unique among
 * the front-ends of a log) and its sessions' application_name: the
 * operator's (app_base), a space and the tag. */
static int name_sessions(struct pg *p)
{
    uint8_t r[TAG_LEN / 2];
    char base[APP_BASE_MAX + 1];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        gl_log(GL_LOG_ERROR, "store: getrandom failed for the session tag");
        return GL_EIO;
    }
    gl_hex_encode(r, sizeof(r), p->tag, sizeof(p->tag)); /* fits: TAG_LEN + 1 */
    app_base(p->conninfo, base);
    snprintf(p->app, sizeof(p->app), "%s %s", base, p->tag); /* fits: APP_MAX */
    return 0;
}

int store_pg_open(const struct store_options *o, struct store **out, const char **why)
{
    struct pg *p = calloc(1, sizeof(*p));
    int rc;

    if (p == NULL || (p->conninfo = strdup(o->url)) == NULL) {
        free(p);
        return GL_ENOMEM;
    }
    p->base.ops = &pg_ops;
    if ((rc = name_sessions(p)) != 0) {
        free(p->conninfo);
        free(p);
        return rc;
    }
    pthread_mutex_init(&p->mu, NULL);
    gl_clock_cond_init(&p->cv); /* pg_get's bounded waits are on CLOCK_MONOTONIC */
    pthread_cond_init(&p->connector_cv, NULL);
    if ((rc = check_schema(p, o->create, why)) != 0) {
        pg_close(&p->base);
        return rc;
    }
    *out = &p->base;
    return 0;
}
