/* org.freedesktop.timesync1.Manager at /org/freedesktop/timesync1: the
 * interface systemd-timesyncd offers and `timedatectl timesync-status` and
 * `timedatectl show-timesync` read, with timesyncd's member names and
 * types, filled from tempus's selected source and tracking. Where tempus
 * has no such value the property holds what timesyncd shows for "none"
 * (empty, zero); org.tempus.Tempus1(5) says which. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus/bus-properties.h"
#include "core/engine.h"
#include "core/source.h"

#define BUS_TIMESYNC_NAME "org.freedesktop.timesync1"
#define BUS_TIMESYNC_PATH "/org/freedesktop/timesync1"
#define BUS_TIMESYNC_INTERFACE "org.freedesktop.timesync1.Manager"

typedef struct Manager Manager;
typedef struct BusPolkit BusPolkit;

/* NTPMessage (uuuuittayttttbtt): the last reply of the selected source.
 * Timestamps are microseconds since the Unix epoch: origin and destination
 * on tempus's corrected timescale, receive and transmit as the server
 * sent them. */
typedef struct BusTimesyncMessage {
        uint32_t leap, version, mode, stratum;
        int32_t precision;
        uint64_t root_delay_usec, root_dispersion_usec;
        uint8_t reference[4];           /* the refid, in wire order */
        uint64_t origin_usec, receive_usec, transmit_usec, destination_usec;
        int spike;                      /* always false: tempus has no spike detector */
        uint64_t packet_count;          /* replies taken from this source */
        uint64_t jitter_usec;           /* the standard deviation of its samples */
} BusTimesyncMessage;

/* ServerAddress (iay): AF_UNSPEC and no bytes when there is no server. */
typedef struct BusTimesyncAddress {
        int32_t family;
        uint32_t size;
        uint8_t bytes[16];
} BusTimesyncAddress;

typedef struct BusTimesyncProps {
        Manager *manager;
        BusPolkit *polkit;              /* set by the finder */
        uint64_t no_servers;            /* stands for FallbackNTPServers, always empty */
        uint64_t link_servers_hash;     /* stands for LinkNTPServers when comparing */
        uint64_t system_servers_hash;   /* stands for SystemNTPServers when comparing */
        uint64_t runtime_servers_hash;
        char server_name[256];
        BusTimesyncAddress server_address;
        uint64_t root_distance_max_usec;
        uint64_t poll_interval_min_usec;
        uint64_t poll_interval_max_usec;
        uint64_t poll_interval_usec;
        BusTimesyncMessage ntp_message;
        int64_t frequency;              /* the kernel's unit: ppm * 65536 */
} BusTimesyncProps;

extern const sd_bus_vtable bus_timesync_vtable[];
extern const BusPropertyField bus_timesync_fields[];
extern const size_t bus_timesync_n_fields;

/* Refreshes *p from the manager's live state; t as in
 * bus_manager_props_fill(). */
void bus_timesync_props_fill(BusTimesyncProps *p, Manager *m, const Tracking *t);
/* The server's part of *p (name, address, poll intervals, NTPMessage) from
 * the selected source s at cooked time now. */
void bus_timesync_server_fill(BusTimesyncProps *p, const Source *s, nsec_t now);
