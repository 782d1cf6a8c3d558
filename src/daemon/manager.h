/* The Manager owns everything tempusd runs: the configuration, the clock
 * backend, the synchronisation engine, the sd-event loop and every event
 * source in it (poll timers, sockets, signals, the slew timer), the server
 * sockets, log files and the drift file. */
#pragma once

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "clock/clock.h"
#include "config/config.h"
#include "core/engine.h"
#include "daemon/manager-api.h"
#include "net/udp.h"
#include "ntp/ntp-packet.h"

typedef struct Peer Peer;
typedef struct SourceGroup SourceGroup;
typedef struct Responder Responder;
typedef struct NtsServer NtsServer;
typedef struct RateLimit RateLimit;
typedef struct LogFiles LogFiles;
typedef struct Hashmap Hashmap;
typedef struct NmWatch NmWatch;
typedef struct HwClocks HwClocks;

typedef struct Manager {
        sd_event *event;
        char *config_path;              /* --config, or NULL for the system paths */
        Config config;

        Clock *clock;
        Engine *engine;

        Peer **peers;                   /* in order of source id */
        size_t n_peers, n_peers_allocated;
        SourceGroup **groups;           /* one per Server=/Pool= line */
        size_t n_groups, n_groups_allocated;
        Hashmap *groups_by_host;        /* SourceSpec.host -> SourceGroup */
        Hashmap *peers_by_address;      /* Source.address -> Peer */
        unsigned source_slots;          /* of MANAGER_MAX_SOURCES, taken by the lines */
        char **runtime_servers;         /* as last set by manager_set_runtime_servers() */
        char *netif_dir;                /* $TEMPUS_NETIF_LINKS, or NULL: networkd's */
        sd_event_source *netif_watch;   /* inotify on it, or on its parent until it exists */
        bool netif_watching_parent;
        NmWatch *nm;                    /* NetworkManager on the bus (manager-nm.c), or NULL */
        size_t n_runtime_servers;
        sd_event_source *pool_check;    /* deferred manager_check_pools() */

        /* Hardware timestamping (HWTimestamp=), and what every socket asks
         * the kernel for: both fixed at start. */
        HwClocks *hwclocks;
        UdpTimestamping timestamping;

        Responder *responder;
        NtsServer *nts_server;          /* with NTSServerCertFile= only */
        int *ntske_fds;                 /* listening TCP sockets systemd passed */
        size_t n_ntske_fds;
        RateLimit *ratelimit;
        AccessList access;              /* live rules (config + runtime changes) */

        /* The trusted CAs of NTS-KE clients, made at the first use. */
        gnutls_certificate_credentials_t nts_creds;

        LogFiles *logs;
        ManagerListener listener;       /* the D-Bus API, if attached */

        sd_event_source *discipline_timer;
        sd_event_source *housekeeping_timer;
        sd_event_source *watchdog_timer;
        sd_event_source *status_defer;
        sd_event_source *sigterm, *sigint, *sighup;

        ManagerCounters counters;
        unsigned housekeeping_runs;
        unsigned logged_updates;        /* discipline updates already logged */
        bool was_synchronized;
        bool logged_first_sync;
        bool logged_no_majority;
        unsigned logged_steps;          /* discipline steps already logged */
        Source *last_selected;
        char *last_status;
        bool local_rtc;                 /* /etc/adjtime says the RTC keeps local time */
        char *adjtime_path;             /* $TEMPUS_ADJTIME, else /etc/adjtime */
        sd_event_source *adjtime_watch;
        bool sent_ready;
} Manager;

/* The time a datagram arrived and its kind: its hardware timestamp when its
 * interface's clock converts it, else what udp_receive() chose. */
TimestampKind manager_receive_time(Manager *m, const UdpMessage *msg, nsec_t *ret_time);
/* A transmit timestamp read from an error queue, chosen the same way;
 * TIMESTAMP_DAEMON when it has none that can be used. */
TimestampKind manager_transmit_time(Manager *m, const PacketTimestamps *ts, nsec_t *ret_time);

/* Takes ownership of *config in every case: it is moved into the manager
 * (and freed with it, or at once on failure) and *config is left empty. */
int manager_new(const char *config_path, Config *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Opens sockets and starts polling; then runs until SIGTERM/SIGINT. */
int manager_start(Manager *m);
int manager_run(Manager *m);

/* Reads /etc/adjtime and follows its changes (manager-status.c). */
int manager_watch_adjtime(Manager *m);

/* manager_schedule_status() (manager-api.h) refreshes the status line,
 * kernel state and notifications once the current event is done,
 * coalescing bursts of changes. */

/* Parses a datagram from a socket of ours into *ret; a malformed or
 * truncated one is counted (counters.dropped) and refused (false). */
bool manager_parse_datagram(Manager *m, const UdpMessage *msg, NtpPacket *ret);
/* Looks for a step of the system clock by someone else; after one, every
 * source is asked again at once. Called first on every wakeup that reads
 * the clock (polls, replies, timers), so that no measurement spans a step
 * unnoticed. */
void manager_check_clock_step(Manager *m);
/* Re-arms the discipline's slew timer. */
void manager_arm_discipline_timer(Manager *m);

/* Makes nts_creds from the system store and NTSTrustedCerts= if not yet
 * made. Returns 0 or a negative errno (logged). */
int manager_nts_credentials(Manager *m);

/* Writes the drift file, if configured. */
int manager_save_drift(Manager *m);

/* Peers (manager-sources.c). */
int manager_sources_init(Manager *m);
/* Removes every source and frees what manager_sources_init() made. */
void manager_sources_done(Manager *m);
void manager_add_configured_sources(Manager *m);
/* Adds a line from the configuration; logs why one is ignored. */
void manager_add_configured_source(Manager *m, const SourceSpec *spec);
/* The peer whose source has this id, or NULL: O(log n). */
Peer *manager_find_peer_by_id(Manager *m, unsigned id);
/* Replaces the pool members that peer_should_be_replaced(); runs from the
 * manager's own callbacks only (housekeeping, the deferred check). */
void manager_check_pools(Manager *m);
/* Runs manager_check_pools() once the current callback has returned: what
 * a Peer calls, since the check may free it. */
void manager_schedule_pool_check(Manager *m);
