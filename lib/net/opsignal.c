/*
 * opsignal: see opsignal.h. pthread_sigmask fails only for an unknown
 * `how`, and sigaction only for an invalid signal: neither can happen here.
 */
#include "opsignal.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

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

void gl_opsignal_release(void)
{
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
