/*
 * opsignal: the operator's signals of both daemons, SIGHUP (reload) and
 * SIGUSR1 (glasslogd's backup), whose default action is to terminate the
 * process. A daemon holds them (blocked) from the start of main, before
 * any thread exists, so every thread it makes inherits the block: one
 * that arrives during a slow start (opening the state, a restore, the tree
 * check) stays pending instead of killing it. Once its libuv signal
 * handlers are in place it releases them on the loop thread, which then
 * receives what arrived meanwhile; every other thread keeps them blocked.
 * When the handlers are closed at shutdown (libuv then restores the
 * default action) it ignores them, so one that arrives while the state
 * closes does not kill it either (a death by SIGHUP counts as a clean
 * stop for systemd's Restart=on-failure).
 */
#ifndef GL_NET_OPSIGNAL_H
#define GL_NET_OPSIGNAL_H

/* Blocks SIGHUP and SIGUSR1 in the calling thread (threads made later
 * inherit the mask). Nothing to free. */
void gl_opsignal_hold(void);
/* Unblocks them in the calling thread: a pending one is delivered now.
 * The first call also keeps libuv's handlers of both installed for the
 * process's life (a private loop's handles), so closing the daemon's own
 * handles never restores the default action. */
void gl_opsignal_release(void);
/* Ignores them process-wide from now on (sets SIG_IGN; call it right after
 * closing the libuv handles of these signals). */
void gl_opsignal_ignore(void);

#endif
