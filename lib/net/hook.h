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
 */
#ifndef GL_NET_HOOK_H
#define GL_NET_HOOK_H

#include <stddef.h>

#define GL_HOOK_MAX_ARGS 8
#define GL_HOOK_MAX_VARS 16

/* One variable added to the command's environment. */
struct gl_hook_var {
    const char *name;  /* e.g. "GLASSLOG_ORIGIN"; no '=' */
    const char *value; /* NULL counts as "" */
};

/* Runs cmd (borrowed strings, copied where needed) with $0 = name and
 * nargs positional arguments, and nvars added variables; waits for it.
 * On 0, *status holds its wait status (WIFEXITED ...). GL_EINVAL (too
 * many arguments or variables, a name with '='), GL_ENOMEM, GL_EIO (it
 * could not be started). */
int gl_hook_run(const char *cmd, const char *name, const char *const *args, size_t nargs,
                const struct gl_hook_var *vars, size_t nvars, int *status);

#endif
