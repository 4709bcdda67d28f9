/*
 * timeshift: an LD_PRELOAD shim that moves time() by GL_TIME_SHIFT
 * seconds (signed), so a test can run a daemon whose wall clock is ahead
 * or behind (the witness dates its cosignatures with time()). Only time()
 * is moved: the monotonic clock every timer reads is left alone.
 * Test-only.
 *
 * Environment: GL_TIME_SHIFT, seconds to add. Without it, time() is passed
 * through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

time_t time(time_t *out)
{
    time_t (*real)(time_t *);
    const char *shift = getenv("GL_TIME_SHIFT");
    struct timespec ts;
    time_t t;

    *(void **)&real = dlsym(RTLD_NEXT, "time");
    if (real != NULL)
        t = real(NULL);
    else
        t = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : (time_t)-1;
    if (t != (time_t)-1 && shift != NULL)
        t += (time_t)strtoll(shift, NULL, 10);
    if (out != NULL)
        *out = t;
    return t;
}
