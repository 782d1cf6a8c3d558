/* Per-client response rate limiting ([Server] RateLimit=, chrony's
 * `ratelimit interval N burst B kod K`): each client address has a token
 * bucket refilled with one token every 2^interval seconds and holding at
 * most `burst`; a reply costs a token. Over the limit, replies are dropped,
 * but one in RATELIMIT_LEAK is still answered so that a legitimate client
 * that burst too fast (or whose address an attacker spoofs) is not cut off
 * entirely.
 *
 * Kiss-o'-Death: with kod=K (1 to RATELIMIT_KOD_MAX), one in 2^K of the
 * dropped requests is answered with a KoD RATE instead of nothing. K is
 * never below 1, so at most half of the drops get a KoD: a client over its
 * limit has at most 1/4 + 3/4 * 1/2 = 5/8 of its requests answered in any
 * way, each with a 48-byte packet that is never larger than the request.
 * Neither the bytes nor the packets are amplified.
 *
 * Memory is bounded: records live in a fixed set-associative table indexed
 * by SipHash-2-4 of the address under a random key drawn at start, so an
 * outsider cannot choose addresses that share a client's set. A new client
 * replaces the record that carries least (an empty one, else the one whose
 * bucket is, or will soonest be, full again). When that record was still
 * paying off a burst, its debt is kept in a small per-set list of evicted
 * debts, and the client gets it back when it returns: being pushed out of
 * the table never refills a bucket. Pure: time and key are arguments.
 *
 * The same table is the server's client log for interleaved mode (see
 * ntp-server.h): each record also keeps the receive timestamp of the last
 * reply to that client, as sent, and the transmit timestamp of that reply,
 * which the kernel's timestamp replaces once it is read back. Its size is
 * [Server] ClientLogLimit= (bytes, as chrony's clientloglimit); the table
 * exists whenever tempus serves, and counts tokens only with RateLimit=. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ntp/ntp-packet.h"
#include "server/siphash.h"
#include "shared/macro.h"
#include "shared/time-util.h"

#define RATELIMIT_LEAK 4
#define RATELIMIT_WAYS 4
#define RATELIMIT_KOD_MAX 4

typedef struct RateLimit RateLimit;

/* One tracked client, as ratelimit_lookup() shows it. */
typedef struct RateLimitRecord {
        uint8_t address[16];
        uint8_t family;                 /* 0: empty */
        uint64_t tag;                   /* keyed hash of family and address */
        double tokens;
        nsec_t last;
        uint64_t requests;
        uint64_t drops;                 /* not answered with time (KoDs included) */
        uint64_t kods;
        unsigned limited_in_row;
        NtpTimestamp xleave_rx;         /* receive timestamp of the last reply; 0: none */
        NtpTimestamp xleave_tx;         /* its transmit timestamp */
} RateLimitRecord;

/* Bytes one client takes in the table (its record and its debt slot). */
size_t ratelimit_bytes_per_client(void);

typedef enum RateLimitVerdict {
        RATELIMIT_ANSWER,               /* within the limit, or leaked */
        RATELIMIT_DROP,
        RATELIMIT_KOD,                  /* over the limit: send a KoD RATE */
} RateLimitVerdict;

typedef struct RateLimitStats {
        size_t clients;                 /* records in use */
        uint64_t drops;
        uint64_t kods;
} RateLimitStats;

/* A table for about max_clients addresses, keyed from getrandom().
 * Returns 0, -ENOMEM, or getrandom()'s error. */
int ratelimit_new(int interval_log2, unsigned burst, size_t max_clients, RateLimit **ret);
/* The same with a given key (tests, and anyone who must reproduce it). */
int ratelimit_new_keyed(int interval_log2, unsigned burst, size_t max_clients,
                        const uint8_t key[static SIPHASH_KEY_SIZE], RateLimit **ret);
RateLimit *ratelimit_free(RateLimit *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(RateLimit *, ratelimit_free);

/* What to do with a request from client at monotonic time now, with KoD
 * share kod (0: never; else one in 2^kod drops, kod capped at
 * RATELIMIT_KOD_MAX). */
RateLimitVerdict ratelimit_check(RateLimit *r, const struct sockaddr *client, nsec_t now, unsigned kod);

/* The record of a client, created if it is new (taking the place of the
 * one that loses least, as ratelimit_check() does); NULL for an address
 * that is not IP. Valid until the next call that may insert. */
RateLimitRecord *ratelimit_record(RateLimit *r, const struct sockaddr *client, nsec_t now);
/* As ratelimit_check(), for a record ratelimit_record() returned. */
RateLimitVerdict ratelimit_check_record(RateLimit *r, RateLimitRecord *x, nsec_t now, unsigned kod);

/* Interleaved mode. True, with the transmit timestamp of the reply it
 * names, if a request's origin timestamp is the receive timestamp of the
 * last reply to this client. */
bool ratelimit_xleave_match(const RateLimitRecord *x, NtpTimestamp origin, NtpTimestamp *ret_tx);
/* Remembers the receive and transmit timestamps of the reply just built. */
void ratelimit_xleave_save(RateLimitRecord *x, NtpTimestamp rx, NtpTimestamp tx);
/* The kernel's transmit timestamp of the reply to client that carried
 * receive timestamp rx: replaces the one saved, if that reply is still the
 * last. Returns true if it did. */
bool ratelimit_xleave_update_tx(RateLimit *r, const struct sockaddr *client, NtpTimestamp rx, NtpTimestamp tx);

/* The record of a client, or NULL if it is not (or no longer) tracked. */
const RateLimitRecord *ratelimit_lookup(const RateLimit *r, const struct sockaddr *client);
/* The set a client's record lives in (for tests that model collisions). */
size_t ratelimit_set_index(const RateLimit *r, const struct sockaddr *client);
void ratelimit_stats(const RateLimit *r, RateLimitStats *ret);
