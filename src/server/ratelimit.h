/* Per-client response rate limiting ([Server] RateLimit=, chrony's
 * `ratelimit interval N burst B`): each client address has a token bucket
 * refilled with one token every 2^interval seconds and holding at most
 * `burst`; a reply costs a token. Over the limit, replies are dropped, but
 * one in RATELIMIT_LEAK is still answered so that a legitimate client that
 * burst too fast is not cut off entirely.
 *
 * Memory is bounded: records live in a fixed set-associative table; a new
 * client replaces the least recently seen one of its set. Pure: time is an
 * argument. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shared/time-util.h"

#define RATELIMIT_LEAK 4
#define RATELIMIT_WAYS 4

typedef struct RateLimitRecord {
        uint8_t address[16];
        uint8_t family;                 /* 0: empty */
        double tokens;
        nsec_t last;
        uint64_t requests;
        uint64_t drops;
        unsigned limited_in_row;
} RateLimitRecord;

typedef struct RateLimit {
        double refill_seconds;          /* 2^interval */
        unsigned burst;
        size_t n_sets;
        RateLimitRecord *records;       /* n_sets * RATELIMIT_WAYS */
        uint64_t total_drops;
} RateLimit;

RateLimit *ratelimit_new(int interval_log2, unsigned burst, size_t max_clients);
RateLimit *ratelimit_free(RateLimit *r);

/* Whether to answer a request from client at monotonic time now. */
bool ratelimit_allow(RateLimit *r, const struct sockaddr *client, nsec_t now);

/* The record of a client, or NULL if it is not (or no longer) tracked. */
const RateLimitRecord *ratelimit_lookup(const RateLimit *r, const struct sockaddr *client);
