/* Sockets passed by systemd (socket activation, sd_listen_fds(3)). */
#pragma once

#include <stddef.h>

#include "net/udp.h"

/* Collects the UDP sockets systemd passed, set up for serving NTP (with the
 * timestamps ts asks for), and
 * the listening TCP sockets (tempusd-ntske.socket's, for NTS-KE) into
 * *ret_stream when it is not NULL. Other descriptors are left alone. The
 * arrays are NULL and the counts 0 when there are none (started by
 * hand). */
int listen_fds_collect(UdpTimestamping ts, int **ret_fds, size_t *ret_n, int **ret_stream, size_t *ret_n_stream);
