/* Socket set-up shared by the UDP and TCP server sockets. Functions return
 * 0 or a negative errno. */
#pragma once

#include <stdint.h>

int socket_set_int(int fd, int level, int name, int value);
/* A non-blocking, close-on-exec socket of the given type, with
 * SO_REUSEADDR (and IPV6_V6ONLY for IPv6), bound to bind_address (NULL:
 * any) and port. */
int socket_bound(int family, int type, int protocol, const char *bind_address, uint16_t port, int *ret_fd);
