/* Socket set-up shared by the UDP and TCP server sockets (see socket-util.h). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/socket-util.h"
#include "shared/macro.h"
#include "shared/sockaddr-util.h"

int socket_set_int(int fd, int level, int name, int value) {
        return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int socket_bound(int family, int type, int protocol, const char *bind_address, uint16_t port, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage a;
        socklen_t len;

        int r = sockaddr_make(family, bind_address, port, &a, &len);
        if (r < 0)
                return r;
        fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
        if (fd < 0)
                return -errno;
        r = socket_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (r >= 0 && family == AF_INET6)
                r = socket_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        if (r < 0)
                return r;
        if (bind(fd, (struct sockaddr *) &a, len) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
