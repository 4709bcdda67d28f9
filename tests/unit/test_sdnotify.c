/*
 * test_sdnotify: lib/sdnotify.c against a real AF_UNIX datagram socket
 * (what a service manager listens on): the message arrives exactly, at a
 * path and in the abstract namespace; without NOTIFY_SOCKET nothing is
 * sent and 0 returned; a relative, too long or one-character address and
 * an over-long message are GL_EINVAL; a path nobody listens on is GL_EIO.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "glasslog/error.h"
#include "sdnotify.h"

/* A bound datagram socket at name ("@x": abstract); returns its fd. */
static int listen_at(const char *name)
{
    struct sockaddr_un sa;
    size_t n = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, name, n);
    if (name[0] == '@')
        sa.sun_path[0] = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
                     0);
    return fd;
}

static void expect_message(int fd, const char *want)
{
    char buf[8192];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static void test_path(void **state)
{
    char path[108];
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/gl-sdnotify-%ld.sock", (long)getpid());
    unlink(path);
    fd = listen_at(path);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(gl_sdnotify("READY=1\nSTATUS=serving"), 0);
    expect_message(fd, "READY=1\nSTATUS=serving");
    close(fd);
    unlink(path);
    /* Nobody listens any more. */
    assert_int_equal(gl_sdnotify("READY=1"), GL_EIO);
    unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void **state)
{
    char name[64];
    int fd;

    (void)state;
    snprintf(name, sizeof(name), "@gl-sdnotify-test-%ld", (long)getpid());
    fd = listen_at(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(gl_sdnotify("STOPPING=1"), 0);
    expect_message(fd, "STOPPING=1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void test_refusals(void **state)
{
    char big[GL_SDNOTIFY_MAX + 2], longpath[200];

    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(gl_sdnotify("READY=1"), 0); /* not under systemd */
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(gl_sdnotify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(gl_sdnotify("READY=1"), GL_EINVAL);
    setenv("NOTIFY_SOCKET", "@", 1);
    assert_int_equal(gl_sdnotify("READY=1"), GL_EINVAL);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    setenv("NOTIFY_SOCKET", longpath, 1);
    assert_int_equal(gl_sdnotify("READY=1"), GL_EINVAL);
    setenv("NOTIFY_SOCKET", "/tmp/x.sock", 1);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(gl_sdnotify(big), GL_EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_abstract),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
