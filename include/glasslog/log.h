/*
 * log: one line per event on stderr: "<ISO-8601 UTC time> <level> <msg>",
 * or "<N><level> <msg>" (N: the syslog priority) when stderr is the
 * systemd journal's stream (JOURNAL_STREAM).
 * Thread-safe (one fprintf per line). Messages below the set level are
 * dropped. The core library itself logs nothing (and does no I/O): this
 * logger lives in the I/O archive (lib/net/log.c, libglasslog-net.a),
 * for the daemons and the CLI.
 */
#ifndef GLASSLOG_LOG_H
#define GLASSLOG_LOG_H

enum gl_log_level { GL_LOG_DEBUG = 0, GL_LOG_INFO, GL_LOG_WARN, GL_LOG_ERROR };

void gl_log_set_level(enum gl_log_level level);
/* Parses "debug", "info", "warn", "error"; GL_EINVAL otherwise. */
int gl_log_parse_level(const char *s, enum gl_log_level *out);
void gl_log(enum gl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs why a parser refused the file `where`, the one way the daemons
 * report it: "WHERE:LINE: reason", or "WHERE: reason" for line 0. */
struct gl_err;
void gl_log_err(enum gl_log_level level, const char *where, const struct gl_err *e);

#endif
