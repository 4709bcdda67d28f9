/*
 * log: stderr logger. The line is formatted into a stack buffer and written
 * with one fputs so concurrent threads never interleave within a line;
 * over-long messages are truncated, and newlines in messages are replaced
 * by spaces so one event is always one line. Other unprintable bytes (C0
 * and C1 controls, DEL, invalid UTF-8: text from other parties, such as
 * key names or a server's reason) are written as \xHH (gl_utf8_escape),
 * so no escape sequence reaches an operator's terminal.
 * When stderr is the journal's stream (JOURNAL_STREAM names its device and
 * inode, as systemd sets it), each line starts with its syslog priority
 * ("<3>" error, "<4>" warn, "<6>" info, "<7>" debug) instead of the time,
 * which the journal records itself: `journalctl -p err` then finds errors.
 * The level is an atomic: a reload sets it on one thread while others log.
 */
#include "glasslog/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "glasslog/error.h"
#include "utf8.h"

static atomic_int log_min = GL_LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};
static const int log_priority[] = {7, 6, 4, 3}; /* syslog's, by level */

/* 1 if stderr is the stream JOURNAL_STREAM ("<device>:<inode>") names. */
static int to_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    uintmax_t dev, ino;
    struct stat st;

    return js != NULL && sscanf(js, "%ju:%ju", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
           (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void gl_log_set_level(enum gl_log_level level)
{
    atomic_store_explicit(&log_min, (int)level, memory_order_relaxed);
}

int gl_log_parse_level(const char *s, enum gl_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (enum gl_log_level)i;
            return 0;
        }
    }
    return GL_EINVAL;
}

void gl_log(enum gl_log_level level, const char *fmt, ...)
{
    char line[1024], msg[1024];
    struct tm tm;
    time_t now;
    size_t n, i;
    va_list ap;
    int k;

    if ((int)level < atomic_load_explicit(&log_min, memory_order_relaxed) ||
        level > GL_LOG_ERROR)
        return;
    if (to_journal()) {
        k = snprintf(line, sizeof(line), "<%d>", log_priority[level]);
        n = k > 0 ? (size_t)k : 0;
    } else {
        now = time(NULL);
        gmtime_r(&now, &tm);
        n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    k = snprintf(line + n, sizeof(line) - n, "%s ", log_names[level]);
    n += k > 0 ? (size_t)k : 0;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): a false positive */
    k = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    k = k < 0 ? 0 : (size_t)k < sizeof(msg) ? k : (int)sizeof(msg) - 1;
    for (i = 0; i < (size_t)k; i++)
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    gl_utf8_escape(msg, (size_t)k, "\t", line + n, sizeof(line) - n - 1);
    n += strlen(line + n);
    line[n++] = '\n';
    line[n] = 0;
    fputs(line, stderr);
}

void gl_log_err(enum gl_log_level level, const char *where, const struct gl_err *e)
{
    char msg[GL_ERR_REASON_MAX + 1024];

    gl_log(level, "%s", gl_err_format(e, where, msg, sizeof(msg)));
}
