/* Listening TCP sockets (see tcp.h). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/tcp.h"
#include "shared/macro.h"
#include "shared/sockaddr-util.h"

static int set_int_option(int fd, int level, int name, int value) {
        return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

int tcp_server_socket(int family, const char *bind_address, uint16_t port, int backlog, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage a;
        socklen_t len;

        int r = sockaddr_make(family, bind_address, port, &a, &len);
        if (r < 0)
                return r;
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
        if (fd < 0)
                return -errno;
        r = set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (r >= 0 && family == AF_INET6)
                r = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        if (r < 0)
                return r;
        if (bind(fd, (struct sockaddr *) &a, len) < 0 || listen(fd, backlog) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
