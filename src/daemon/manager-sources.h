/* Configured sources: each Server= or Pool= line is a SourceGroup that
 * resolves its host name (without blocking the event loop) into one source
 * (Server=) or up to maxsources sources (Pool=), retries when resolution
 * fails, and replaces pool members that stay unreachable.
 *
 * Lifetimes: a Peer is freed only from the manager's own callbacks (the
 * deferred pool check, housekeeping, D-Bus methods, reload), never from a
 * callback of that Peer; a SourceGroup is freed only from D-Bus methods and
 * reload, never from a callback of its own query or retry timer. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "config/config.h"
#include "shared/macro.h"
#include "shared/time-util.h"

typedef struct Manager Manager;
typedef struct Peer Peer;
typedef struct ResolveQuery ResolveQuery;
typedef struct sd_event_source sd_event_source;

/* A pool member is replaced once this many polls in a row have found its
 * reachability register empty: after its last reply, the register takes 8
 * polls to empty, so a member that answered every poll before it stopped
 * is replaced at the 15th unanswered one; one that never answered, at the
 * 8th. */
#define SOURCE_GROUP_REPLACE_POLLS 8
/* Seconds between attempts to resolve a name that did not resolve. */
#define SOURCE_GROUP_RETRY_SECONDS 60
/* A replaced member's address is not used again by its pool for
 * SOURCE_GROUP_REPLACE_POLLS poll intervals (the time it was given), twice
 * that after a second drop, and so on up to this many seconds. Addresses
 * the name newly gives are used at once. */
#define SOURCE_GROUP_BACKOFF_MAX_SECONDS (24 * 3600)
/* Dropped addresses a pool remembers (the oldest back-off is forgotten). */
#define SOURCE_GROUP_MAX_DROPPED 16

/* Sources tempusd runs at most, configured and added over D-Bus together; a
 * Pool= line counts as its maxsources. Each source holds at most one
 * socket (its request in flight) and each line a pipe while its name
 * resolves: units/tempusd.service sizes LimitNOFILE= for this. */
typedef struct DroppedAddress {
        struct sockaddr_storage address;
        usec_t until;           /* CLOCK_MONOTONIC; not used again before */
        usec_t backoff;         /* doubled at the next drop */
} DroppedAddress;

typedef struct SourceGroup {
        Manager *manager;
        SourceSpec spec;
        ResolveQuery *query;
        sd_event_source *retry_timer;
        size_t n_members;               /* peers from this line */
        bool runtime;                   /* from SetRuntimeNTPServers(): kept across reloads */
        char *link;                     /* learned from this network link (manager-links.c) */
        DroppedAddress *dropped;        /* pools only */
        size_t n_dropped, n_dropped_allocated;
} SourceGroup;

SourceGroup *source_group_free(SourceGroup *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(SourceGroup *, source_group_free);

/* How many of MANAGER_MAX_SOURCES a line takes. */
unsigned source_spec_slots(const SourceSpec *spec);

/* Whether a peer is a pool member that has been unreachable long enough to
 * be replaced (by manager_check_pools()). */
bool peer_should_be_replaced(const Peer *p);

/* The Peer= source at this address and port, or NULL: symmetric packets
 * from it go to it rather than to the stateless responder. */
Peer *manager_find_symmetric_peer(Manager *m, const struct sockaddr *a);
