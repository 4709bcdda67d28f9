/*
 * sdnotify: see sdnotify.h. One datagram per call on a fresh socket
 * (close-on-exec), so nothing stays open between calls and a forked child
 * cannot inherit it. The address is checked to fit sun_path before it is
 * copied; an abstract name ("@x") becomes "\0x" and its length is exact
 * (no trailing NUL, as the protocol requires).
 */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "glasslog/error.h"

int gl_sdnotify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    size_t plen, mlen = strlen(msg);
    socklen_t salen;
    ssize_t sent;
    int fd, saved;

    if (path == NULL || path[0] == 0)
        return 0;
    plen = strlen(path);
    if (mlen > GL_SDNOTIFY_MAX || plen >= sizeof(sa.sun_path) ||
        (path[0] != '/' && path[0] != '@') || plen < 2)
        return GL_EINVAL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, plen);
    if (path[0] == '@')
        sa.sun_path[0] = 0;
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return GL_EIO;
    do
        sent = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    while (sent < 0 && errno == EINTR);
    saved = errno;
    close(fd);
    errno = saved;
    return sent == (ssize_t)mlen ? 0 : GL_EIO;
}
