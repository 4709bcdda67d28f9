/*
 * alarm: what happens when a split view is proven: one ERROR log line
 * starting "ALARM", and, if the operator gave --on-evidence CMD, the
 * command run as `/bin/sh -c CMD glasslog-witness-alarm PATH` (so CMD sees
 * the evidence file's path as "$1") with the environment variables
 * GLASSLOG_EVIDENCE (the path), GLASSLOG_EVIDENCE_ID (its hex ID) and
 * GLASSLOG_ORIGIN (the log) added. Each command runs in the background
 * (lib/net/hook.h, from a detached thread that waits for it and logs its exit
 * status), so a slow or hanging command never delays the witness.
 * Thread-safe; called from the committer thread.
 */
#ifndef GL_WITNESS_ALARM_H
#define GL_WITNESS_ALARM_H

/* Raises the alarm for evidence id of origin stored at path; cmd may be
 * NULL (log line only). */
void alarm_raise(const char *cmd, const char *id, const char *origin, const char *path);

#endif
