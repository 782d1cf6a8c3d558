/* Sockets passed by systemd (socket activation, sd_listen_fds(3)). */
#pragma once

#include <stddef.h>

/* Collects the UDP sockets systemd passed, set up for serving NTP. Other
 * descriptors are left alone. *ret_fds is NULL and *ret_n 0 when there are
 * none (started by hand). */
int listen_fds_collect(int **ret_fds, size_t *ret_n);
