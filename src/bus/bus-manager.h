/* org.tempus.Tempus1.Manager at /org/tempus/Tempus1: tracking properties
 * (what chronyc tracking shows), settings, and the methods that change
 * them. Reading is open to everyone; every method requires root or
 * polkit's org.tempus.tempus1.manage (bus-polkit.h). */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus/bus-properties.h"
#include "core/engine.h"

#define BUS_NAME "org.tempus.Tempus1"
#define BUS_MANAGER_PATH "/org/tempus/Tempus1"
#define BUS_MANAGER_INTERFACE "org.tempus.Tempus1.Manager"

typedef struct Manager Manager;
typedef struct BusPolkit BusPolkit;

/* The Manager object's property values, in bus types. Offsets and
 * frequencies follow chronyc: positive means the local clock is ahead
 * (offsets) or runs fast (Frequency). */
typedef struct BusManagerProps {
        Manager *manager;
        BusPolkit *polkit;              /* who may call the methods; set by the finder */
        int synchronized;
        uint32_t reference_id;
        char reference_name[64];
        uint8_t stratum;
        uint64_t reference_time_usec;
        double system_time_offset;
        double last_offset;
        double rms_offset;
        double frequency;
        double residual_frequency;
        double skew;
        double root_delay;
        double root_dispersion;
        double update_interval;
        char leap_status[16];
        double makestep_threshold;
        int32_t makestep_limit;
        uint32_t min_sources;
        char auth_select_mode[16];
        uint64_t access_rules_hash;     /* stands for AccessRules when comparing */
        int clock_control;
        int local_rtc;
        /* Counters: read on request, never signalled (they change with
         * every packet). */
        uint64_t server_requests;
        uint64_t server_replies;
        uint64_t server_denied;
        uint64_t server_rate_limited;
        uint64_t server_authenticated;
        uint64_t server_crypto_naks;
        uint64_t nts_ke_connections;
        uint64_t nts_ke_handshakes;
        uint64_t nts_ke_failures;
        uint64_t server_nts_authenticated;
        uint64_t server_nts_naks;
        uint64_t server_interleaved;
        uint64_t server_tx_timestamps;
        uint64_t malformed_packets;
} BusManagerProps;

extern const sd_bus_vtable bus_manager_vtable[];
extern const BusPropertyField bus_manager_fields[];
extern const size_t bus_manager_n_fields;

/* Refreshes *p from the manager's live state. */
void bus_manager_props_fill(BusManagerProps *p, Manager *m, const Tracking *t);
