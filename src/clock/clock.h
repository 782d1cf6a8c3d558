/* The clock backend interface: the one place tempus reads and adjusts the
 * clock it disciplines. Backends:
 *   system  clock_adjtime() on CLOCK_REALTIME, kernel sync status (needs
 *           CAP_SYS_TIME);
 *   none    reads CLOCK_REALTIME, never changes anything ([Clock] Control=no);
 *   sim     a simulated clock for tests (test/sim).
 * All functions return 0 or a negative errno. */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "shared/time-util.h"

typedef struct Clock Clock;

/* A leap second the kernel is to apply at the next UTC midnight (its
 * STA_INS and STA_DEL). A property of the clock, kept apart from the NTP
 * leap indicator: the wire's "unsynchronised" value has no meaning here,
 * and the clock layer stays below the wire format. The engine maps one to
 * the other. */
typedef enum ClockLeap {
        CLOCK_LEAP_NONE,
        CLOCK_LEAP_INSERT,
        CLOCK_LEAP_DELETE,
} ClockLeap;

typedef struct ClockSyncStatus {
        bool synchronized;      /* clears the kernel's STA_UNSYNC */
        double max_error;       /* seconds; kernel maxerror */
        double est_error;       /* seconds; kernel esterror */
        ClockLeap leap;         /* STA_INS / STA_DEL when a leap is pending */
        bool rtc_sync;          /* [Clock] RTCSync= */
        bool local_rtc;         /* the RTC keeps local time (/etc/adjtime): keep
                                 * the kernel's 11-minute RTC mode off */
        int tai_offset;         /* TAI - UTC in seconds, 0 if unknown */
} ClockSyncStatus;

typedef struct ClockOps {
        const char *name;
        /* Reads the disciplined clock (raw, before any pending correction). */
        int (*read)(Clock *c, nsec_t *ret);
        /* Sets the total frequency offset of the clock, in ppm; positive
         * makes it run faster. Backends accept at least +/-100000 ppm. */
        int (*set_frequency)(Clock *c, double ppm);
        /* Reads the frequency offset currently in effect (ppm). */
        int (*get_frequency)(Clock *c, double *ppm);
        /* Adds offset seconds to the clock at once. */
        int (*step)(Clock *c, double offset);
        int (*set_sync_status)(Clock *c, const ClockSyncStatus *s);
        /* Optional: where this clock stands against CLOCK_REALTIME at the
         * CLOCK_REALTIME reading `realtime`: its offset (this clock minus
         * CLOCK_REALTIME, seconds) and the frequency it runs at against it
         * (ppm, positive: it gains). NULL means it is CLOCK_REALTIME (0, 0). */
        int (*offset_from_system)(Clock *c, nsec_t realtime, double *ret_offset, double *ret_frequency_ppm);
        /* Optional: converts a CLOCK_REALTIME reading (e.g. a kernel packet
         * timestamp) into this clock's timescale. NULL means identity. */
        nsec_t (*from_system)(Clock *c, nsec_t realtime);
        /* Optional: CLOCK_REALTIME - CLOCK_MONOTONIC of the system clock
         * underneath, seconds. Frequency changes move both clocks alike,
         * so this changes only when the wall clock is stepped (by us, by
         * someone else's settimeofday() or date -s, by a leap second, or
         * by a resume from suspend, which stops CLOCK_MONOTONIC): a change
         * between two readings is a step. NULL: steps cannot be seen. */
        int (*read_wall_offset)(Clock *c, double *ret);
        void (*free)(Clock *c);
} ClockOps;

struct Clock {
        const ClockOps *ops;
        /* Whether the backend really changes a clock (false for "none"). */
        bool controls;
        /* The largest |total frequency offset| (ppm) set_frequency()
         * accepts: for the kernel, its tick (+/-10%) plus ADJ_FREQUENCY. */
        double max_frequency_ppm;
};

/* Our clock's precision: reading CLOCK_REALTIME takes some tens of
 * nanoseconds, taken as 100 ns in every sample's dispersion, and
 * announced in NTP's precision field as 2^-23 s (119 ns). */
#define CLOCK_PRECISION 1e-7
#define CLOCK_PRECISION_LOG2 (-23)

/* The Linux kernel's frequency range with a 10000 us tick: the tick moves
 * by at most 10% (ADJ_TICK), ADJ_FREQUENCY adds at most 500 ppm. */
#define CLOCK_KERNEL_MAX_FREQUENCY_PPM 100000.0

int clock_new_system(Clock **ret);
int clock_new_none(Clock **ret);

/* ClockOps.offset_from_system; either output may be NULL. */
int clock_offset_from_system(Clock *c, nsec_t realtime, double *ret_offset, double *ret_frequency_ppm);

static inline int clock_read(Clock *c, nsec_t *ret) { return c->ops->read(c, ret); }
static inline int clock_set_frequency(Clock *c, double ppm) { return c->ops->set_frequency(c, ppm); }
static inline int clock_get_frequency(Clock *c, double *ppm) { return c->ops->get_frequency(c, ppm); }
static inline int clock_step(Clock *c, double offset) { return c->ops->step(c, offset); }
static inline int clock_set_sync_status(Clock *c, const ClockSyncStatus *s) { return c->ops->set_sync_status(c, s); }
static inline nsec_t clock_from_system(Clock *c, nsec_t realtime) {
        return c->ops->from_system ? c->ops->from_system(c, realtime) : realtime;
}

/* Reads CLOCK_REALTIME - CLOCK_MONOTONIC (see ClockOps.read_wall_offset):
 * -EOPNOTSUPP where the backend cannot tell. */
static inline int clock_read_wall_offset(Clock *c, double *ret) {
        return c->ops->read_wall_offset ? c->ops->read_wall_offset(c, ret) : -EOPNOTSUPP;
}
/* ClockOps.read_wall_offset for the backends on CLOCK_REALTIME itself
 * (system, none). */
int clock_read_system_wall_offset(Clock *c, double *ret);
Clock *clock_free(Clock *c);
static inline void clock_freep(Clock **c) { if (*c) clock_free(*c); }
