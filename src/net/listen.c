/* Socket activation (see listen.h). */
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "net/listen.h"
#include "net/udp.h"
#include "shared/log.h"

int listen_fds_collect(UdpTimestamping ts, int **ret_fds, size_t *ret_n, int **ret_stream, size_t *ret_n_stream) {
        int n = sd_listen_fds(true);
        int *fds = NULL, *stream = NULL;
        size_t k = 0, ks = 0;

        if (n < 0)
                return n;
        if (n > 0 && (!(fds = calloc((size_t) n, sizeof(int))) || !(stream = calloc((size_t) n, sizeof(int))))) {
                free(fds);
                return -ENOMEM;
        }
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (ret_stream && sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
                        stream[ks++] = fd;
                        continue;
                }
                if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) <= 0) {
                        log_warning("Ignoring descriptor %d passed by systemd: not a datagram socket.", fd);
                        continue;
                }
                int r = udp_setup_server_fd(fd, ts);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up socket %d passed by systemd: %m", fd);
                fds[k++] = fd;
        }
        *ret_fds = fds;
        *ret_n = k;
        if (ret_stream) {
                *ret_stream = stream;
                *ret_n_stream = ks;
        } else
                free(stream);
        return 0;
}
