/* Per-client response rate limiting (see ratelimit.h). */
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "server/ratelimit.h"
#include "shared/macro.h"

RateLimit *ratelimit_new(int interval_log2, unsigned burst, size_t max_clients) {
        RateLimit *r = calloc(1, sizeof(RateLimit));
        if (!r)
                return NULL;
        r->refill_seconds = ldexp(1.0, interval_log2);
        r->burst = MAX(burst, 1u);
        r->n_sets = MAX((max_clients + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS, (size_t) 1);
        r->records = calloc(r->n_sets * RATELIMIT_WAYS, sizeof(RateLimitRecord));
        if (!r->records) {
                free(r);
                return NULL;
        }
        return r;
}

RateLimit *ratelimit_free(RateLimit *r) {
        if (r) {
                free(r->records);
                free(r);
        }
        return NULL;
}

/* Family and 16 address bytes; IPv4-mapped IPv6 counts as IPv4. */
static uint8_t client_key(const struct sockaddr *sa, uint8_t key[16]) {
        memset(key, 0, 16);
        if (sa->sa_family == AF_INET) {
                memcpy(key, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return AF_INET;
        }
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(a)) {
                        memcpy(key, a->s6_addr + 12, 4);
                        return AF_INET;
                }
                memcpy(key, a, 16);
                return AF_INET6;
        }
        return 0;
}

static size_t set_of(const RateLimit *r, const uint8_t key[16], uint8_t family) {
        uint64_t h = 14695981039346656037ull ^ family;  /* FNV-1a */
        for (int i = 0; i < 16; i++)
                h = (h ^ key[i]) * 1099511628211ull;
        return (size_t) (h % r->n_sets);
}

static RateLimitRecord *find(const RateLimit *r, const uint8_t key[16], uint8_t family, RateLimitRecord **ret_victim) {
        RateLimitRecord *set = &r->records[set_of(r, key, family) * RATELIMIT_WAYS], *victim = &set[0];

        for (int i = 0; i < RATELIMIT_WAYS; i++) {
                RateLimitRecord *x = &set[i];
                if (x->family == family && memcmp(x->address, key, 16) == 0)
                        return x;
                if (x->family == 0 ? victim->family != 0 : (victim->family != 0 && x->last < victim->last))
                        victim = x;
        }
        if (ret_victim)
                *ret_victim = victim;
        return NULL;
}

const RateLimitRecord *ratelimit_lookup(const RateLimit *r, const struct sockaddr *client) {
        uint8_t key[16];
        uint8_t family = client_key(client, key);
        return family ? find(r, key, family, NULL) : NULL;
}

bool ratelimit_allow(RateLimit *r, const struct sockaddr *client, nsec_t now) {
        uint8_t key[16];
        uint8_t family = client_key(client, key);
        RateLimitRecord *victim = NULL, *x;

        if (family == 0)
                return false;
        x = find(r, key, family, &victim);
        if (!x) {
                x = victim;
                *x = (RateLimitRecord) { .family = family, .tokens = r->burst, .last = now };
                memcpy(x->address, key, 16);
        }
        x->tokens = MIN(x->tokens + MAX(nsec_diff(now, x->last), 0) / r->refill_seconds, (double) r->burst);
        x->last = now;
        x->requests++;
        if (x->tokens >= 1.0) {
                x->tokens -= 1.0;
                x->limited_in_row = 0;
                return true;
        }
        /* Leak one in RATELIMIT_LEAK even while over the limit. */
        if (++x->limited_in_row % RATELIMIT_LEAK == 0)
                return true;
        x->drops++;
        r->total_drops++;
        return false;
}
