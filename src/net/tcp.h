/* Listening TCP sockets (the NTS-KE server's). */
#pragma once

#include <stdint.h>

/* A non-blocking listening socket bound to address (NULL: any) and port;
 * IPv6 sockets take IPv6 only. */
int tcp_server_socket(int family, const char *bind_address, uint16_t port, int backlog, int *ret_fd);
