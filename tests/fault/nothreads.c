/*
 * nothreads: an LD_PRELOAD shim that makes pthread_create fail with
 * EAGAIN while a control file exists, so a test can make a daemon's
 * thread start fail at a moment it chooses (a witness reload, say).
 * Test-only.
 *
 * Environment: GL_NOTHREADS, the control file's path. Without it, or
 * while the file does not exist, every call is passed through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    const char *ctl = getenv("GL_NOTHREADS");

    if (ctl != NULL && access(ctl, F_OK) == 0)
        return EAGAIN;
    *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
    return real == NULL ? ENOSYS : real(t, a, fn, arg);
}
