/* Socket addresses compared by what names an endpoint: the family, the
 * address, the port and, for IPv6, the scope (interface) id. Padding and
 * fields that do not name the endpoint (sin_zero, sin6_flowinfo) never take
 * part, so the same server found twice is recognised as one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shared/hashmap.h"

/* The length of an AF_INET or AF_INET6 address, 0 for any other family. */
socklen_t sockaddr_len(const struct sockaddr *a);

/* The address (without port) as text: "192.0.2.1", "2001:db8::1"; "?"
 * for another family. Returns buf. */
char *sockaddr_format(const struct sockaddr *a, char *buf, size_t size);

/* The port of an AF_INET or AF_INET6 address (host order), 0 otherwise;
 * and setting it. */
uint16_t sockaddr_port(const struct sockaddr *a);
void sockaddr_set_port(struct sockaddr *a, uint16_t port);

/* Makes the address of family with the text address (NULL: any) and
 * port: 0, -EINVAL for text that is no such address, -EAFNOSUPPORT. */
int sockaddr_make(int family, const char *address, uint16_t port, struct sockaddr_storage *ret, socklen_t *ret_len);

/* True when a and b name the same endpoint; false for other families. */
bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* A hash over exactly the fields sockaddr_equal() compares, keyed by
 * seed: equal addresses hash equally whatever their padding holds. */
uint64_t sockaddr_hash(const struct sockaddr *a, uint64_t seed);

/* Hashmap keys that are socket addresses, compared as sockaddr_equal() does. */
extern const HashmapOps sockaddr_hash_ops;
