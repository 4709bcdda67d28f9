/*
 * sdnotify (I/O adapter): the service manager's readiness protocol, spoken
 * directly (sd_notify(3), "NOTIFY_SOCKET"): one datagram of
 * newline-separated KEY=VALUE assignments to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Without
 * NOTIFY_SOCKET (not started by systemd with Type=notify) every call is a
 * no-op that succeeds.
 */
#ifndef GL_SDNOTIFY_H
#define GL_SDNOTIFY_H

/* Sends msg (e.g. "READY=1\nSTATUS=serving", NUL-terminated, at most
 * GL_SDNOTIFY_MAX bytes) to $NOTIFY_SOCKET. Returns 0 (also when there is
 * no NOTIFY_SOCKET), GL_EINVAL (msg too long, or the variable is not an
 * absolute path or "@name" that fits a socket address) or GL_EIO (the
 * socket or the send failed; errno kept). */
#define GL_SDNOTIFY_MAX 4096
int gl_sdnotify(const char *msg);

#endif
