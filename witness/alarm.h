/*
 * alarm: what happens when a split view is proven: one ERROR log line
 * starting "ALARM", and, if the operator gave --on-evidence CMD, the
 * command run as `/bin/sh -c CMD glasslog-witness-alarm PATH` (so CMD sees
 * the evidence file's path as "$1") with the environment variables
 * GLASSLOG_EVIDENCE (the path), GLASSLOG_EVIDENCE_ID (its hex ID) and
 * GLASSLOG_ORIGIN (the log) added. Each command is started by
 * alarm_raise and runs in the background (lib/net/hook.h; a detached
 * thread waits for it and logs its exit status), so a slow or hanging
 * command never delays the witness.
 *
 * Bounds: a command past its time limit (--on-evidence-timeout) is
 * stopped with its whole process group (hook.h) and logged as timed out;
 * at most ALARM_MAX_RUNNING commands (so threads) run at once. An alarm
 * raised while that many run, or whose command or thread cannot start
 * (the shell's exec failing included), gets its
 * ALARM line and a line saying its command was not run yet, and
 * alarm_raise says so: the caller raises it again later (the engine keeps
 * the evidence unannounced and retries it, engine.h), so no queue here
 * (the engine's list of unannounced evidence is one, bounded and with
 * each evidence once). Thread-safe; called from the committer thread.
 */
#ifndef GL_WITNESS_ALARM_H
#define GL_WITNESS_ALARM_H

#define ALARM_MAX_RUNNING 4

/* Raises the alarm for evidence id of origin stored at path (borrowed
 * strings, copied as needed); cmd may be NULL (log line only), and runs
 * at most timeout_s seconds (0: no limit). 0 once the alarm is raised
 * (the command started, or none); GL_ESTATE if ALARM_MAX_RUNNING
 * commands still run, GL_ENOMEM or GL_EIO if the command (/bin/sh) or its
 * waiting thread could not start: the command does not run (one started
 * without its thread is killed), and the caller raises the alarm again
 * later. */
int alarm_raise(const char *cmd, unsigned timeout_s, const char *id, const char *origin,
                const char *path);

/* How many commands are running now (for tests). */
unsigned alarm_running(void);

#endif
