/* NTP client access rules ([Server] Allow= / Deny=): an ordered list of
 * subnets; the most specific subnet that contains an address decides, a
 * later rule for the same subnet replaces an earlier one, and an address no
 * rule covers is denied (as chrony: serve nobody by default). "all" is the
 * zero-length prefix of both IPv4 and IPv6. IPv4-mapped IPv6 addresses are
 * matched as IPv4. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct AccessRule {
        int family;                 /* AF_INET, AF_INET6, or AF_UNSPEC for "all" */
        struct in6_addr address;    /* IPv4 in the first 4 bytes */
        unsigned prefixlen;
        bool allow;
} AccessRule;

typedef struct AccessList {
        AccessRule *rules;
        size_t n_rules, n_allocated;
} AccessList;

/* Parses "192.168.2.0/24", "10.1", "fe80::/10", "2001:db8::1", "all" (and
 * "" with allow_empty... no: empty is rejected). A bare address is a host
 * rule (/32 or /128); chrony's short forms "192.168" (= /16) are accepted.
 * Returns 0, or -EINVAL with *reason set to a static explanation. */
int access_rule_parse(const char *s, bool allow, AccessRule *ret, const char **reason);
/* Formats "192.168.2.0/24" or "all". buf of at least 64 bytes. */
char *access_rule_format(const AccessRule *r, char *buf, size_t size);

/* Adds (or replaces the rule for the same subnet). Returns 0 or -ENOMEM. */
int access_list_add(AccessList *l, const AccessRule *r);
void access_list_clear(AccessList *l);
int access_list_copy(AccessList *dst, const AccessList *src);
/* True if the most specific matching rule allows addr. */
bool access_list_check(const AccessList *l, const struct sockaddr *addr);
