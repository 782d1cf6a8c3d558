/* The clock backend interface: the one place tempus reads and adjusts the
 * clock it disciplines. Backends:
 *   system  clock_adjtime() on CLOCK_REALTIME, kernel sync status (needs
 *           CAP_SYS_TIME);
 *   none    reads CLOCK_REALTIME, never changes anything ([Clock] Control=no);
 *   sim     a simulated clock for tests (test/sim).
 * All functions return 0 or a negative errno. */
#pragma once

#include <stdbool.h>

#include "ntp/ntp-packet.h"
#include "shared/time-util.h"

typedef struct Clock Clock;

typedef struct ClockSyncStatus {
        bool synchronized;      /* clears the kernel's STA_UNSYNC */
        double max_error;       /* seconds; kernel maxerror */
        double est_error;       /* seconds; kernel esterror */
        NtpLeap leap;           /* STA_INS / STA_DEL when a leap is pending */
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
        void (*free)(Clock *c);
} ClockOps;

struct Clock {
        const ClockOps *ops;
        /* Whether the backend really changes a clock (false for "none"). */
        bool controls;
};

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

Clock *clock_free(Clock *c);
static inline void clock_freep(Clock **c) { if (*c) clock_free(*c); }
