/* Listening TCP sockets (see tcp.h). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/socket-util.h"
#include "net/tcp.h"
#include "shared/macro.h"

int tcp_server_socket(int family, const char *bind_address, uint16_t port, int backlog, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;

        int r = socket_bound(family, SOCK_STREAM, IPPROTO_TCP, bind_address, port, &fd);
        if (r < 0)
                return r;
        if (listen(fd, backlog) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
