/* The manager as its front ends see it (the D-Bus API in src/bus): what
 * they may read and the operations they may call, and the listener through
 * which the manager tells them of changes. Nothing else of the daemon is
 * theirs to include. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/engine.h"
#include "core/source-spec.h"
#include "core/source.h"
#include "ntp/ntp-packet.h"
#include "shared/access.h"

typedef struct Manager Manager;
typedef struct KeyTable KeyTable;

/* At most this many sources at a time, taken by Server=/Pool= lines. */
#define MANAGER_MAX_SOURCES 256

typedef struct ManagerCounters {
        uint64_t dropped[_NTP_DROP_MAX];        /* malformed datagrams, by reason */
        uint64_t requests;                      /* client requests received */
        uint64_t served;                        /* replies sent */
        uint64_t denied;                        /* refused by access rules */
        uint64_t rate_limited;
        uint64_t authenticated;                 /* requests answered with a MAC */
        uint64_t auth_failures;                 /* requests answered with a crypto-NAK */
        uint64_t interleaved;                   /* replies sent in interleaved mode */
        uint64_t tx_timestamps;                 /* kernel transmit timestamps of replies read back */
        uint64_t replies_rejected;              /* server replies that failed checks */
        uint64_t nts_ke_connections;            /* NTS-KE connections accepted */
        uint64_t nts_ke_handshakes;             /* NTS-KE exchanges completed */
        uint64_t nts_ke_failures;               /* NTS-KE connections refused, timed out or failed */
        uint64_t nts_authenticated;             /* NTP requests answered with NTS */
        uint64_t nts_naks;                      /* NTP requests answered with an NTS NAK */
} ManagerCounters;

/* Who else follows the manager's state: told of changes, without the
 * manager knowing who listens. Every callback may be NULL. */
typedef struct ManagerListener {
        /* After each coalesced status update, once a burst of changes is
         * in, with the tracking report it made (manager_tracking()). */
        void (*state_changed)(void *userdata, const Tracking *t);
        /* Before a source goes, while the manager still lists it. */
        void (*source_removed)(void *userdata, const Source *s);
        /* When the manager is freed, or another listener takes the place. */
        void (*free)(void *userdata);
        void *userdata;
} ManagerListener;

/* Makes l the listener, freeing the one before, and schedules a status
 * update so that it hears the current state. */
void manager_set_listener(Manager *m, const ManagerListener *l);

/* What front ends read. The engine is read, and changed only through its
 * own setters. */
sd_event *manager_get_event(Manager *m);
Engine *manager_get_engine(Manager *m);
const ManagerCounters *manager_get_counters(const Manager *m);
AccessList *manager_get_access(Manager *m);
bool manager_controls_clock(const Manager *m);
/* The keys of [Auth] KeyFile=, or NULL without one. */
const KeyTable *manager_get_keys(const Manager *m);
bool manager_local_rtc(const Manager *m);
/* How many of MANAGER_MAX_SOURCES the Server=/Pool= lines take. */
unsigned manager_source_slots(const Manager *m);
/* The sources in order of id; the one with this id, or NULL (O(log n)). */
size_t manager_n_sources(const Manager *m);
Source *manager_source_at(Manager *m, size_t i);
Source *manager_find_source(Manager *m, unsigned id);
/* Tracking as reported: under Control=no, the system clock's full offset
 * (manager-status.c). */
void manager_tracking(Manager *m, Tracking *ret);

/* What front ends change; after a change, they schedule a status update
 * (which signals it to every listener). */
void manager_schedule_status(Manager *m);
/* Adds a Server=/Pool= line and starts resolving it. Returns 0, -EEXIST
 * when a line for that host exists, -ENOKEY when its key= is not in the
 * key file, -ENOSPC when it would take more than
 * MANAGER_MAX_SOURCES, or -ENOMEM. Logs nothing. */
int manager_add_source_spec(Manager *m, const SourceSpec *spec);
int manager_remove_source_by_name(Manager *m, const char *name);
/* Makes specs (servers, timesync1's SetRuntimeNTPServers()) the runtime
 * servers: sources that stay across reloads, until the daemon stops or the
 * next call. Runtime servers not in specs go; a host that has a line of
 * its own already is not added twice. Returns -ENOSPC, changing nothing,
 * when the lines would take more than MANAGER_MAX_SOURCES; -ENOMEM. */
int manager_set_runtime_servers(Manager *m, const SourceSpec *specs, size_t n);
/* The runtime server names, as last set. */
size_t manager_n_runtime_servers(const Manager *m);
const char *manager_runtime_server_at(const Manager *m, size_t i);
/* The network link a source was learned from (LinkServers=), or NULL. */
const char *manager_source_link(Manager *m, const Source *s);
/* The servers learned from links, one per source line, in the order of the
 * lines: at most max names into names[]; returns how many there are. */
size_t manager_link_servers(const Manager *m, const char **names, size_t max);
/* The Server=/Pool= lines of the configuration in effect. */
size_t manager_n_config_lines(const Manager *m);
const SourceSpec *manager_config_line_at(const Manager *m, size_t i);
/* Re-reads the configuration; on any error keeps the current one. */
int manager_reload(Manager *m);
/* Starts a burst on every source. */
void manager_burst(Manager *m);
/* Steps the clock by the correction still being slewed (engine_make_step())
 * and re-arms the slew timer. */
int manager_make_step(Manager *m);
/* MakeStep= semantics: limit 0 never steps, -1 at any update. */
void manager_set_makestep(Manager *m, double threshold, int limit);
int manager_add_access_rule(Manager *m, const AccessRule *rule);
