/* NTP client access rules (see access.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/access.h"
#include "shared/alloc-util.h"
#include "shared/macro.h"

static void clear_host_bits(struct in6_addr *a, unsigned prefixlen, unsigned bits) {
        for (unsigned i = prefixlen; i < bits; i++)
                a->s6_addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* chrony's short IPv4 forms: "192.168" is 192.168.0.0/16. */
static int parse_short_ipv4(const char *s, struct in6_addr *ret, unsigned *ret_bits) {
        unsigned parts[4], n = 0;
        const char *p = s;

        while (*p && n < 4) {
                char *end;
                unsigned long v = strtoul(p, &end, 10);
                if (end == p || v > 255)
                        return -EINVAL;
                parts[n++] = (unsigned) v;
                if (*end == 0)
                        break;
                if (*end != '.' || end[1] == 0)
                        return -EINVAL;
                p = end + 1;
        }
        if (n == 0 || *p == 0 || strchr(p, '.'))
                return -EINVAL;
        memset(ret, 0, sizeof *ret);
        for (unsigned i = 0; i < n; i++)
                ret->s6_addr[i] = (uint8_t) parts[i];
        *ret_bits = 8 * n;
        return 0;
}

static int parse_address(const char *s, int *ret_family, struct in6_addr *ret, unsigned *ret_default_prefix) {
        struct in_addr a4;

        if (inet_pton(AF_INET, s, &a4) == 1) {
                memset(ret, 0, sizeof *ret);
                memcpy(ret->s6_addr, &a4, 4);
                *ret_family = AF_INET;
                *ret_default_prefix = 32;
                return 0;
        }
        if (inet_pton(AF_INET6, s, ret) == 1) {
                *ret_family = AF_INET6;
                *ret_default_prefix = 128;
                return 0;
        }
        if (parse_short_ipv4(s, ret, ret_default_prefix) == 0) {
                *ret_family = AF_INET;
                return 0;
        }
        return -EINVAL;
}

static int parse_prefixlen(const char *s, unsigned max, unsigned *ret) {
        char *end;
        if (!*s)
                return -EINVAL;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > max || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int access_rule_parse(const char *s, bool allow, AccessRule *ret, const char **reason) {
        char buf[INET6_ADDRSTRLEN + 8];
        unsigned def, bits;
        int family;

        *ret = (AccessRule) { .allow = allow };
        if (streq(s, "all")) {
                ret->family = AF_UNSPEC;
                return 0;
        }
        if (strlen(s) >= sizeof buf) {
                *reason = "subnet too long";
                return -EINVAL;
        }
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = 0;
        if (parse_address(buf, &family, &ret->address, &def) < 0) {
                *reason = "not an IPv4 or IPv6 address";
                return -EINVAL;
        }
        bits = family == AF_INET ? 32 : 128;
        ret->prefixlen = def;
        if (slash && parse_prefixlen(slash + 1, bits, &ret->prefixlen) < 0) {
                *reason = family == AF_INET ? "prefix length must be 0..32" : "prefix length must be 0..128";
                return -EINVAL;
        }
        ret->family = family;
        clear_host_bits(&ret->address, ret->prefixlen, bits);
        return 0;
}

char *access_rule_format(const AccessRule *r, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];

        if (r->family == AF_UNSPEC) {
                snprintf(buf, size, "all");
                return buf;
        }
        inet_ntop(r->family, r->family == AF_INET ? (const void *) r->address.s6_addr : (const void *) &r->address,
                  a, sizeof a);
        snprintf(buf, size, "%s/%u", a, r->prefixlen);
        return buf;
}

static bool same_subnet(const AccessRule *a, const AccessRule *b) {
        return a->family == b->family && a->prefixlen == b->prefixlen &&
               memcmp(&a->address, &b->address, sizeof a->address) == 0;
}

int access_list_add(AccessList *l, const AccessRule *r) {
        for (size_t i = 0; i < l->n_rules; i++)
                if (same_subnet(&l->rules[i], r)) {
                        l->rules[i].allow = r->allow;
                        return 0;
                }
        if (GREEDY_REALLOC(l->rules, l->n_allocated, l->n_rules + 1) < 0)
                return -ENOMEM;
        l->rules[l->n_rules++] = *r;
        return 0;
}

void access_list_clear(AccessList *l) {
        l->rules = mfree(l->rules);
        l->n_rules = l->n_allocated = 0;
}

int access_list_copy(AccessList *dst, const AccessList *src) {
        *dst = (AccessList) {};
        if (src->n_rules == 0)
                return 0;
        dst->rules = malloc(src->n_rules * sizeof(AccessRule));
        if (!dst->rules)
                return -ENOMEM;
        memcpy(dst->rules, src->rules, src->n_rules * sizeof(AccessRule));
        dst->n_rules = dst->n_allocated = src->n_rules;
        return 0;
}

static bool prefix_matches(const uint8_t *a, const uint8_t *net, unsigned prefixlen) {
        unsigned full = prefixlen / 8, rest = prefixlen % 8;
        if (memcmp(a, net, full) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t) (0xff << (8 - rest));
        return (a[full] & mask) == (net[full] & mask);
}

/* The address as (family, 16 bytes), IPv4-mapped IPv6 folded to IPv4. */
static int normalize(const struct sockaddr *sa, uint8_t out[16]) {
        memset(out, 0, 16);
        if (sa->sa_family == AF_INET) {
                memcpy(out, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return AF_INET;
        }
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(a)) {
                        memcpy(out, a->s6_addr + 12, 4);
                        return AF_INET;
                }
                memcpy(out, a->s6_addr, 16);
                return AF_INET6;
        }
        return AF_UNSPEC;
}

bool access_list_check(const AccessList *l, const struct sockaddr *addr) {
        uint8_t a[16];
        int family = normalize(addr, a);
        int best_len = -1;
        bool allow = false;

        if (family == AF_UNSPEC)
                return false;
        for (size_t i = 0; i < l->n_rules; i++) {
                const AccessRule *r = &l->rules[i];
                int len = r->family == AF_UNSPEC ? 0 : (int) r->prefixlen;
                if (r->family != AF_UNSPEC && (r->family != family || !prefix_matches(a, r->address.s6_addr, r->prefixlen)))
                        continue;
                /* Most specific wins; "all" (length 0) loses to a /0 of the
                 * family only by order, which is fine. */
                if (len > best_len || (len == best_len && r->family != AF_UNSPEC)) {
                        best_len = len;
                        allow = r->allow;
                }
        }
        return allow;
}
