/*
 * hook: runs an operator's shell command (the client's --on-alarm, the
 * witness's --on-evidence) as `/bin/sh -c CMD NAME ARG...` through
 * posix_spawn (no fork in a threaded process, no setenv in a child), so
 * CMD sees NAME as "$0" and the ARGs as "$1"...; its environment is the
 * process's, with the given variables added (a variable of the same name
 * in the process's environment is replaced, never duplicated). The
 * command starts with every signal at its default action and none blocked,
 * whatever the caller ignores (SIGPIPE) or blocks. Waits for
 * the command: callers that must not block run it on a thread of their
 * own. Thread-safe (reads environ, changes nothing).
 *
 * Time limit: the command runs in a process group of its own (its pid is
 * the group's ID), so that everything it started can be stopped
 * together. When the limit passes before the command (the shell) exits,
 * the whole group gets SIGTERM; then, as soon as the shell has exited or
 * GL_HOOK_KILL_GRACE_MS later, whichever comes first, SIGKILL, so nothing
 * of the group survives (the shell is collected only after that SIGKILL:
 * until then its unreaped exit keeps the group ID from being reused). A
 * command that exits in time is left alone, with whatever it left
 * running in the background. Being its own group, the command is never in
 * a terminal's foreground group: it does not get the terminal's Ctrl-C.
 * With a limit, the wait polls (waitid with WNOHANG and WNOWAIT, sleeping
 * 1 ms at first, doubling to at most 50 ms), so a quick command costs
 * little more than its own run time; without one, it blocks in waitpid.
 */
#ifndef GL_NET_HOOK_H
#define GL_NET_HOOK_H

#include <stddef.h>
#include <sys/types.h>

#define GL_HOOK_MAX_ARGS 8
#define GL_HOOK_MAX_VARS 16
#define GL_HOOK_KILL_GRACE_MS 2000 /* from SIGTERM to SIGKILL after the limit */

/* One variable added to the command's environment. */
struct gl_hook_var {
    const char *name;  /* e.g. "GLASSLOG_ORIGIN"; no '=' */
    const char *value; /* NULL counts as "" */
};

/* Runs cmd (borrowed strings, copied where needed) with $0 = name and
 * nargs positional arguments, and nvars added variables; waits for it, at
 * most timeout_ms milliseconds (0: no limit) plus the stopping described
 * at the top. On 0, *status holds its wait status (WIFEXITED ...) and
 * *timed_out (may be NULL) is 1 if the limit passed and the command was
 * stopped (*status then usually says which signal ended it), else 0.
 * GL_EINVAL (too many arguments or variables, a name with '='),
 * GL_ENOMEM, GL_EIO (it could not be started or waited for). Nothing to
 * free. */
int gl_hook_run(const char *cmd, const char *name, const char *const *args, size_t nargs,
                const struct gl_hook_var *vars, size_t nvars, unsigned timeout_ms,
                int *status, int *timed_out);

/* The two halves of gl_hook_run, for a caller that must know the command
 * started before it waits elsewhere (on a thread of its own).
 * gl_hook_start starts cmd as gl_hook_run does and hands its pid out in
 * *pid without waiting: GL_EINVAL, GL_ENOMEM, or GL_EIO when it could not
 * be started (the shell's exec failing included, e.g. an argument or the
 * environment too big): then nothing runs. The caller collects a started
 * command exactly once with gl_hook_wait, which waits and stops it as
 * gl_hook_run does (same results). */
int gl_hook_start(const char *cmd, const char *name, const char *const *args,
                  size_t nargs, const struct gl_hook_var *vars, size_t nvars, pid_t *pid);
int gl_hook_wait(pid_t pid, unsigned timeout_ms, int *status, int *timed_out);

#endif
