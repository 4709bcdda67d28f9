/*
 * monitor: the engine of `glasslog monitor` (cmd_monitor.c holds the
 * options and the polling loop). One cycle:
 *
 *   1. fetch /checkpoint; verify it under the policy (log signature and
 *      witness quorum);
 *   2. finish the target checkpoint of an interrupted run, if any (the
 *      progress file, state.h);
 *   3. compare the new checkpoint with the stored one: same size needs the
 *      same root; a larger one needs a consistency proof, computed here
 *      from the log's hash tiles (tiles.h) and verified against both signed
 *      roots; a smaller one must be proven a prefix of the stored one the
 *      same way. Failure is a fork alarm (alarm.h): the two checkpoints and
 *      what the tiles gave are saved as evidence;
 *   4. catch up to the new checkpoint entry bundle by bundle: every entry's
 *      leaf hash against the log's level-0 tile, statement syntax, submitter
 *      signature (policy submitters and watched keys; parallel, pool.h);
 *      statements by watched submitters not in the expected-releases file
 *      are alarms; the leaf hashes extend a compact range whose root must
 *      equal the checkpoint's root at the end, which authenticates every
 *      entry (and tile) checked; then the checkpoint is stored. Verified
 *      v2 statements also go through the chain checks (chainwatch.h),
 *      whose pending audit checks run at the end of the cycle; an entry
 *      whose chain checks could not ask the log stops the catch-up
 *      before it (progress saved up to there), so that no check is
 *      skipped: the next cycle resumes at that entry. While it is
 *      stalled, step 3 (against the stored checkpoint, or the target
 *      when none is stored) and the due audit checks still run. A cycle
 *      records at most ENTRY_ALARMS_MAX new alarms about entries in its
 *      catch-up and as many in its due checks, chain alarms included
 *      (monitor.c: the catch-up stops at the one that reaches it, the due
 *      checks left wait for the next cycle).
 *
 * Memory is fixed: two bundle buffers (the next bundle downloads while the
 * workers check the current one), one compact range, a 64-tile cache;
 * the chain checks add one lookup page at a time and the statements about
 * one source signed by policy submitters (chainwatch.c).
 * Progress (entries checked, their compact range, the target checkpoint)
 * is saved atomically after every bundle, so a killed monitor resumes at
 * the next bundle.
 */
#ifndef GL_CLIENT_MONITOR_H
#define GL_CLIENT_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "glasslog/key.h"

#define MONITOR_MAX_WATCH 64

struct monitor_opts {
    struct fetch_opts net; /* --log (the log, then its mirrors), --timeout */
    const char *policy, *state, *expect, *on_alarm;
    const char *watch[MONITOR_MAX_WATCH]; /* verifier key arguments */
    size_t nwatch;
    size_t threads;              /* 0 = one per core */
    int progress;                /* 1: progress bar on stderr (a terminal) */
    uint64_t audit_within;       /* seconds; 0: no unaudited-source alarm */
    unsigned on_alarm_timeout_s; /* --on-alarm's time limit; 0: none */
    uint64_t max_age;            /* seconds; 0: the checkpoint's age is not checked */
};

struct monitor;

/* Loads the policy, the watched keys and the expected releases, starts the
 * workers. Problems are reported on stderr. 0 or a GL_E* code. */
int monitor_new(const struct monitor_opts *o, struct monitor **out);
void monitor_free(struct monitor *m);

/* Re-reads the expected-releases file (between cycles); on error the old
 * list stays and the error is reported. */
int monitor_reload_expect(struct monitor *m);

/* Runs one cycle. Returns a CLI_* code: CLI_OK, CLI_VERIFY (an alarm, or a
 * checkpoint that does not verify), CLI_USAGE (I/O or network trouble). */
int monitor_cycle(struct monitor *m);
/* 1 if the last cycle could not open or lock the state directory (polling
 * again will not help). */
int monitor_fatal(const struct monitor *m);

#endif
