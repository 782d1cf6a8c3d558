/* org.tempus.Tempus1.Source at /org/tempus/Tempus1/source/N: one object
 * per source (N is the source's stable ID), with what chronyc sources and
 * sourcestats show about it. Read-only. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus/bus-properties.h"

#define BUS_SOURCE_PREFIX "/org/tempus/Tempus1/source"
#define BUS_SOURCE_INTERFACE "org.tempus.Tempus1.Source"

typedef struct Source Source;
typedef struct KeyTable KeyTable;

/* A source's property values in bus types. Offsets follow chronyc:
 * positive means the local clock is ahead of the source; Frequency is the
 * source's residual frequency (ppm, positive: the local clock runs slow
 * against it). */
typedef struct BusSourceProps {
        unsigned id;
        char name[256];
        char address[64];
        char mode[16];
        char state[16];
        char link[16];                  /* the network link it was learned from, or "" */
        uint8_t stratum;
        int32_t poll;
        uint8_t reach;
        uint64_t last_rx_age_usec;      /* UINT64_MAX: nothing received yet */
        int64_t last_rx;                /* stands for LastRxAgeUSec when comparing */
        double offset;
        double measured_offset;
        double error;
        double delay;
        uint32_t samples;
        uint32_t runs;
        double span;
        double frequency;
        double frequency_skew;
        double std_dev;
        int prefer;
        int iburst;
        char authentication[16];        /* none, symmetric, nts */
        uint32_t key_id;
        char key_type[16];              /* MD5 ... AES256; "" without a key */
        uint32_t key_length;            /* bits */
        uint32_t auth_failures;
        uint32_t nts_cookies;
        uint32_t nts_cookie_length;     /* bytes */
        uint32_t nts_ke_failures;
        uint32_t nts_ke_attempts;       /* failed since the last that worked */
        uint32_t nts_naks;
        uint64_t nts_last_ke_usec;      /* CLOCK_REALTIME; 0: never */
        /* ntpdata: the last valid reply and how it was measured. */
        char local_address[64];
        uint16_t remote_port;
        uint8_t ntp_version;
        char ntp_mode[24];              /* server, symmetric-active, symmetric-passive */
        char leap[16];                  /* normal, insert, delete, unsynchronized */
        int32_t precision;
        double root_delay;
        double root_dispersion;
        uint32_t reference_id;
        uint64_t reference_time_usec;
        double dispersion;
        int xleave;                     /* xleave configured */
        int interleaved;                /* the last reply was interleaved */
        int authenticated;
        char tx_timestamping[16];       /* hardware, kernel, daemon; "" before the first sample */
        char rx_timestamping[16];
        uint64_t total_tx, total_rx, total_valid_rx;
        uint64_t hardware_tx_samples, kernel_tx_samples, daemon_tx_samples, interleaved_replies;
} BusSourceProps;

extern const sd_bus_vtable bus_source_vtable[];
extern const BusPropertyField bus_source_fields[];
extern const size_t bus_source_n_fields;

/* Fills *p from source s at cooked time now; keys (may be NULL) gives the
 * type of the source's key, link the network link s was learned from
 * (manager_source_link()), or NULL. */
void bus_source_props_fill(BusSourceProps *p, const Source *s, const KeyTable *keys, const char *link,
                           int64_t now);

/* "/org/tempus/Tempus1/source/N" into buf. Returns buf. */
char *bus_source_path(unsigned id, char *buf, size_t size);
/* Parses a source object path. Returns the ID, or -EINVAL. */
int bus_source_path_parse(const char *path, unsigned *ret);
