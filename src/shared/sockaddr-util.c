/* Socket address comparison and hashing (see sockaddr-util.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "shared/hashmap.h"
#include "shared/sockaddr-util.h"

socklen_t sockaddr_len(const struct sockaddr *a) {
        switch (a->sa_family) {
        case AF_INET:
                return sizeof(struct sockaddr_in);
        case AF_INET6:
                return sizeof(struct sockaddr_in6);
        default:
                return 0;
        }
}

char *sockaddr_format(const struct sockaddr *a, char *buf, size_t size) {
        const void *addr = a->sa_family == AF_INET6 ? (const void *) &((const struct sockaddr_in6 *) a)->sin6_addr
                                                    : (const void *) &((const struct sockaddr_in *) a)->sin_addr;
        if (sockaddr_len(a) == 0 || !inet_ntop(a->sa_family, addr, buf, size))
                snprintf(buf, size, "?");
        return buf;
}

uint16_t sockaddr_port(const struct sockaddr *a) {
        if (a->sa_family == AF_INET)
                return ntohs(((const struct sockaddr_in *) a)->sin_port);
        if (a->sa_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) a)->sin6_port);
        return 0;
}

void sockaddr_set_port(struct sockaddr *a, uint16_t port) {
        if (a->sa_family == AF_INET)
                ((struct sockaddr_in *) a)->sin_port = htons(port);
        else if (a->sa_family == AF_INET6)
                ((struct sockaddr_in6 *) a)->sin6_port = htons(port);
}

bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b) {
        if (a->sa_family != b->sa_family)
                return false;
        if (a->sa_family == AF_INET) {
                const struct sockaddr_in *x = (const struct sockaddr_in *) a, *y = (const struct sockaddr_in *) b;
                return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
        }
        if (a->sa_family == AF_INET6) {
                const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a, *y = (const struct sockaddr_in6 *) b;
                return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
                       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
        }
        return false;
}

uint64_t sockaddr_hash(const struct sockaddr *a, uint64_t seed) {
        uint64_t h = hash_bytes(&a->sa_family, sizeof a->sa_family, seed);

        if (a->sa_family == AF_INET) {
                const struct sockaddr_in *x = (const struct sockaddr_in *) a;
                h = hash_bytes(&x->sin_port, sizeof x->sin_port, h);
                return hash_bytes(&x->sin_addr, sizeof x->sin_addr, h);
        }
        if (a->sa_family == AF_INET6) {
                const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a;
                h = hash_bytes(&x->sin6_port, sizeof x->sin6_port, h);
                h = hash_bytes(&x->sin6_scope_id, sizeof x->sin6_scope_id, h);
                return hash_bytes(&x->sin6_addr, sizeof x->sin6_addr, h);
        }
        return h;
}

static uint64_t sockaddr_key_hash(const void *key, uint64_t seed) {
        return sockaddr_hash(key, seed);
}

static bool sockaddr_key_equal(const void *a, const void *b) {
        return sockaddr_equal(a, b);
}

const HashmapOps sockaddr_hash_ops = { sockaddr_key_hash, sockaddr_key_equal };

int sockaddr_make(int family, const char *address, uint16_t port, struct sockaddr_storage *ret,
                  socklen_t *ret_len) {
        memset(ret, 0, sizeof *ret);
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *) ret;
                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                if (address && inet_pton(AF_INET, address, &a->sin_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof *a;
                return 0;
        }
        if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) ret;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                if (address && inet_pton(AF_INET6, address, &a->sin6_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof *a;
                return 0;
        }
        return -EAFNOSUPPORT;
}
