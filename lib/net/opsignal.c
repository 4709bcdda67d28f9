/*
 * opsignal: see opsignal.h. pthread_sigmask fails only for an unknown
 * `how`, and sigaction only for an invalid signal: neither can happen here.
 */
#include "opsignal.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <uv.h>

static void mask(int how)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    (void)pthread_sigmask(how, &set, NULL);
}

void gl_opsignal_hold(void)
{
    mask(SIG_BLOCK);
}

/* A private loop, never run, holding a started handle of each signal for
 * the process's life. libuv keeps its handler installed while any handle
 * of a signal exists, in any loop, and restores the default action when
 * the last one closes; with these the daemons' own handles can close at
 * shutdown without a moment in which a SIGHUP from another thread's
 * point of view kills the process. What the handler writes to this
 * loop's pipe is never read: libuv drops it once the pipe is full. */
static uv_loop_t sink_loop;
static uv_signal_t sink[2];
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static void sink_cb(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
}

static void sink_start(void)
{
    if (uv_loop_init(&sink_loop) != 0)
        return; /* then gl_opsignal_ignore alone, as before */
    if (uv_signal_init(&sink_loop, &sink[0]) == 0)
        (void)uv_signal_start(&sink[0], sink_cb, SIGHUP);
    if (uv_signal_init(&sink_loop, &sink[1]) == 0)
        (void)uv_signal_start(&sink[1], sink_cb, SIGUSR1);
}

void gl_opsignal_release(void)
{
    pthread_once(&sink_once, sink_start);
    mask(SIG_UNBLOCK);
}

void gl_opsignal_ignore(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGHUP, &sa, NULL);
    (void)sigaction(SIGUSR1, &sa, NULL);
}
