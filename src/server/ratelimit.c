/* Per-client response rate limiting (see ratelimit.h). */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/ratelimit.h"
#include "shared/macro.h"

/* What an evicted client still owed: its bucket is full again at full_at. */
typedef struct RateLimitDebt {
        uint64_t tag;                   /* 0: empty */
        nsec_t full_at;
} RateLimitDebt;

struct RateLimit {
        double refill_seconds;          /* 2^interval */
        unsigned burst;
        size_t n_sets;
        uint8_t key[SIPHASH_KEY_SIZE];
        RateLimitRecord *records;       /* n_sets * RATELIMIT_WAYS */
        RateLimitDebt *debts;           /* n_sets * RATELIMIT_WAYS */
        uint64_t total_drops;
        uint64_t total_kods;
};

/* The address a record is kept under: family and 16 bytes. */
typedef struct ClientKey {
        uint8_t family;                 /* 0: not an IP address */
        uint8_t address[16];
} ClientKey;

int ratelimit_new_keyed(int interval_log2, unsigned burst, size_t max_clients,
                        const uint8_t key[static SIPHASH_KEY_SIZE], RateLimit **ret) {
        _cleanup_(ratelimit_freep) RateLimit *r = calloc(1, sizeof(RateLimit));

        assert(ret);
        if (!r)
                return -ENOMEM;
        r->refill_seconds = ldexp(1.0, interval_log2);
        r->burst = MAX(burst, 1u);
        r->n_sets = MAX((max_clients + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS, (size_t) 1);
        memcpy(r->key, key, SIPHASH_KEY_SIZE);
        r->records = calloc(r->n_sets * RATELIMIT_WAYS, sizeof(RateLimitRecord));
        r->debts = calloc(r->n_sets * RATELIMIT_WAYS, sizeof(RateLimitDebt));
        if (!r->records || !r->debts)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}

/* A fresh key for each start. Without entropy yet (early boot) an
 * unseeded key is still better than none, so do not block for it. */
static int random_key(uint8_t key[static SIPHASH_KEY_SIZE]) {
        static const unsigned flags[] = {
                GRND_NONBLOCK,
#ifdef GRND_INSECURE
                GRND_INSECURE,
#endif
                0,
        };
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (getrandom(key, SIPHASH_KEY_SIZE, flags[i]) == SIPHASH_KEY_SIZE)
                        return 0;
        return -errno;
}

int ratelimit_new(int interval_log2, unsigned burst, size_t max_clients, RateLimit **ret) {
        uint8_t key[SIPHASH_KEY_SIZE];
        int r = random_key(key);
        if (r < 0)
                return r;
        return ratelimit_new_keyed(interval_log2, burst, max_clients, key, ret);
}

RateLimit *ratelimit_free(RateLimit *r) {
        if (r) {
                free(r->records);
                free(r->debts);
                free(r);
        }
        return NULL;
}

/* IPv4-mapped IPv6 counts as IPv4. */
static ClientKey client_key(const struct sockaddr *sa) {
        ClientKey k = {};
        if (sa->sa_family == AF_INET) {
                memcpy(k.address, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                k.family = AF_INET;
        } else if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                bool mapped = IN6_IS_ADDR_V4MAPPED(a);
                memcpy(k.address, mapped ? a->s6_addr + 12 : a->s6_addr, mapped ? 4 : 16);
                k.family = mapped ? AF_INET : AF_INET6;
        }
        return k;
}

/* Never 0, which marks an empty debt. */
static uint64_t tag_of(const RateLimit *r, const ClientKey *k) {
        return siphash24(k, sizeof(*k), r->key) | 1;
}

static size_t set_of_tag(const RateLimit *r, uint64_t tag) {
        return (size_t) ((tag >> 1) % r->n_sets);
}

static double tokens_at(const RateLimit *r, const RateLimitRecord *x, nsec_t now) {
        return MIN(x->tokens + MAX(nsec_diff(now, x->last), 0) / r->refill_seconds, (double) r->burst);
}

/* When the record's bucket is full again if it sends nothing more. */
static nsec_t full_at(const RateLimit *r, const RateLimitRecord *x) {
        return x->last + seconds_to_nsec((r->burst - x->tokens) * r->refill_seconds);
}

static RateLimitRecord *find(const RateLimit *r, const ClientKey *k, uint64_t tag) {
        RateLimitRecord *set = &r->records[set_of_tag(r, tag) * RATELIMIT_WAYS];
        for (int i = 0; i < RATELIMIT_WAYS; i++)
                if (set[i].family == k->family && memcmp(set[i].address, k->address, 16) == 0)
                        return &set[i];
        return NULL;
}

/* The way to reuse: an empty one, else the record that loses least, the
 * one whose bucket is (or will soonest be) full, as a new client's is. */
static RateLimitRecord *pick_victim(const RateLimit *r, RateLimitRecord *set) {
        RateLimitRecord *victim = NULL;
        for (int i = 0; i < RATELIMIT_WAYS; i++) {
                if (set[i].family == 0)
                        return &set[i];
                if (!victim || full_at(r, &set[i]) < full_at(r, victim))
                        victim = &set[i];
        }
        return victim;
}

/* When a remembered debt is paid off; now for a free slot. */
static nsec_t debt_until(const RateLimitDebt *d, nsec_t now) {
        return d->tag != 0 && d->full_at > now ? d->full_at : now;
}

/* Keeps what an evicted client owes, in a free slot or in place of the
 * debt that is paid off first, if that is smaller. */
static void remember_debt(RateLimit *r, size_t set, uint64_t tag, nsec_t until, nsec_t now) {
        RateLimitDebt *debts = &r->debts[set * RATELIMIT_WAYS], *slot = &debts[0];
        for (int i = 1; i < RATELIMIT_WAYS; i++)
                if (debt_until(&debts[i], now) < debt_until(slot, now))
                        slot = &debts[i];
        if (debt_until(slot, now) < until)
                *slot = (RateLimitDebt) { .tag = tag, .full_at = until };
}

/* The tokens a client starts with: a full bucket, less any debt it left
 * when it was evicted. */
static double take_debt(RateLimit *r, size_t set, uint64_t tag, nsec_t now) {
        RateLimitDebt *debts = &r->debts[set * RATELIMIT_WAYS];
        for (int i = 0; i < RATELIMIT_WAYS; i++)
                if (debts[i].tag == tag) {
                        nsec_t until = debts[i].full_at;
                        debts[i] = (RateLimitDebt) {};
                        return MAX(r->burst - MAX(nsec_diff(until, now), 0) / r->refill_seconds, 0.0);
                }
        return r->burst;
}

static RateLimitRecord *insert(RateLimit *r, const ClientKey *k, uint64_t tag, nsec_t now) {
        size_t set = set_of_tag(r, tag);
        RateLimitRecord *x = pick_victim(r, &r->records[set * RATELIMIT_WAYS]);
        /* Its own debt first: the victim's must not take that slot. */
        double tokens = take_debt(r, set, tag, now);

        if (x->family != 0)
                remember_debt(r, set, x->tag, full_at(r, x), now);
        *x = (RateLimitRecord) { .family = k->family, .tag = tag, .tokens = tokens, .last = now };
        memcpy(x->address, k->address, 16);
        return x;
}

const RateLimitRecord *ratelimit_lookup(const RateLimit *r, const struct sockaddr *client) {
        ClientKey k = client_key(client);
        return k.family ? find(r, &k, tag_of(r, &k)) : NULL;
}

size_t ratelimit_set_index(const RateLimit *r, const struct sockaddr *client) {
        ClientKey k = client_key(client);
        return set_of_tag(r, tag_of(r, &k));
}

/* kod=N: one in 2^N drops, N from 1 to RATELIMIT_KOD_MAX; 0: none. */
static bool kod_due(uint64_t drops, unsigned kod) {
        return kod > 0 && drops % (UINT64_C(1) << MIN(kod, (unsigned) RATELIMIT_KOD_MAX)) == 0;
}

RateLimitRecord *ratelimit_record(RateLimit *r, const struct sockaddr *client, nsec_t now) {
        ClientKey k = client_key(client);

        if (k.family == 0)
                return NULL;
        uint64_t tag = tag_of(r, &k);
        return find(r, &k, tag) ?: insert(r, &k, tag, now);
}

RateLimitVerdict ratelimit_check_record(RateLimit *r, RateLimitRecord *x, nsec_t now, unsigned kod) {
        if (!x)
                return RATELIMIT_DROP;
        x->tokens = tokens_at(r, x, now);
        x->last = MAX(x->last, now);
        x->requests++;
        if (x->tokens >= 1.0) {
                x->tokens -= 1.0;
                x->limited_in_row = 0;
                return RATELIMIT_ANSWER;
        }
        /* Leak one in RATELIMIT_LEAK even while over the limit. */
        if (++x->limited_in_row % RATELIMIT_LEAK == 0)
                return RATELIMIT_ANSWER;
        x->drops++;
        r->total_drops++;
        if (!kod_due(x->drops, kod))
                return RATELIMIT_DROP;
        x->kods++;
        r->total_kods++;
        return RATELIMIT_KOD;
}

RateLimitVerdict ratelimit_check(RateLimit *r, const struct sockaddr *client, nsec_t now, unsigned kod) {
        return ratelimit_check_record(r, ratelimit_record(r, client, now), now, kod);
}

bool ratelimit_xleave_match(const RateLimitRecord *x, NtpTimestamp origin, NtpTimestamp *ret_tx) {
        if (!x || x->xleave_rx == 0 || origin != x->xleave_rx)
                return false;
        *ret_tx = x->xleave_tx;
        return true;
}

void ratelimit_xleave_save(RateLimitRecord *x, NtpTimestamp rx, NtpTimestamp tx) {
        x->xleave_rx = rx;
        x->xleave_tx = tx;
}

bool ratelimit_xleave_update_tx(RateLimit *r, const struct sockaddr *client, NtpTimestamp rx, NtpTimestamp tx) {
        ClientKey k = client_key(client);
        RateLimitRecord *x = k.family ? find(r, &k, tag_of(r, &k)) : NULL;

        if (!x || rx == 0 || x->xleave_rx != rx)
                return false;
        x->xleave_tx = tx;
        return true;
}

size_t ratelimit_bytes_per_client(void) {
        return sizeof(RateLimitRecord) + sizeof(RateLimitDebt);
}

void ratelimit_stats(const RateLimit *r, RateLimitStats *ret) {
        *ret = (RateLimitStats) { .drops = r->total_drops, .kods = r->total_kods };
        for (size_t i = 0; i < r->n_sets * RATELIMIT_WAYS; i++)
                ret->clients += r->records[i].family != 0;
}
