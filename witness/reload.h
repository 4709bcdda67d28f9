/*
 * reload: glasslog-witness's SIGHUP. The logs file and the peers file are
 * read and parsed in full first; if either does not parse (or cannot be
 * read) the reload is refused with a log line and the lists in use stay.
 * Otherwise the witness switches to them without closing a connection or
 * losing state:
 *  1. the API pauses: new add-checkpoints get 503 with Retry-After: 1,
 *     and the reload waits (a loop timer) for the outstanding ones to be
 *     answered (at most RELOAD_WAIT_MS, else it gives up and resumes);
 *  2. the feeder stops (at most one HTTP timeout) and the engine drains
 *     and stops: everything it acknowledged is durable;
 *  3. the lists are replaced in place (every component keeps its pointer
 *     to them), the rate buckets move by origin, a new engine loads the
 *     durable state for the new list, the feeder starts again;
 *  4. the API resumes.
 * After a failed storage write (the engine's fail-stop) a reload is
 * refused: only a restart reopens the store and reads what reached the
 * disk. What a witness cosigned is on disk, keyed by origin: a log dropped and
 * re-added later finds its record again. If the new engine cannot start
 * the witness cannot go on safely and stops itself (SIGTERM). Loop thread
 * only.
 */
#ifndef GL_WITNESS_RELOAD_H
#define GL_WITNESS_RELOAD_H

#include <uv.h>

#include "api.h"
#include "engine.h"
#include "feeder.h"
#include "logs.h"
#include "peers.h"

#define RELOAD_WAIT_MS 30000

struct reload {
    uv_loop_t *loop;
    const char *logs_path, *peers_path; /* peers_path may be NULL */
    struct logs_list *logs;             /* the lists in use (the caller's) */
    struct peers_list *peers;
    struct api *api;
    struct engine **engine;
    struct feeder **feeder;
    struct engine_config *ec; /* ec->logs == logs */
    struct feeder_config *fc; /* fc->logs == logs, fc->peers == peers */
    /* internal */
    uv_timer_t timer;
    int timer_ready, pending;
    uint64_t started_ms;
    struct logs_list next_logs;
    struct peers_list next_peers;
};

/* Sets up the timer (fields above the internal ones filled by the
 * caller). */
void reload_init(struct reload *r);
/* SIGHUP: starts a reload (logged); ignored while one runs. */
void reload_request(struct reload *r);
/* Closes the timer (shutdown); a pending reload is dropped. */
void reload_close(struct reload *r);

#endif
