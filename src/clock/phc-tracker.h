/* Converting a NIC's hardware timestamps to system time ([Clock]
 * HWTimestamp=). A hardware timestamp is read on the NIC's PTP hardware
 * clock (PHC), which runs on its own oscillator; the daemon samples the
 * PHC against the system clock (PTP_SYS_OFFSET_PRECISE, _EXTENDED or the
 * basic PTP_SYS_OFFSET, whichever the driver offers) and feeds each
 * sampling here as readings: (system time before, PHC time, system time
 * after), equal before and after for the precise kind, which the hardware
 * takes at one instant.
 *
 * Of each sampling the reading with the shortest bracket counts (its
 * system time is the bracket's middle, its error half the bracket), as
 * chrony's HCL does. A least-squares line through the last
 * PHC_TRACKER_WINDOW such points gives offset(t) = system - PHC as a
 * function of PHC time, and so the frequency of the PHC against the system
 * clock. A point far off the line (the PHC or the system clock was
 * stepped) restarts the window. Conversions are refused until
 * PHC_TRACKER_MIN_POINTS points are in, and for timestamps too far outside
 * the span they cover. Pure: times are arguments, no ioctl here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/time-util.h"

#define PHC_TRACKER_WINDOW 16
#define PHC_TRACKER_MIN_POINTS 2
/* Readings of one sampling at most (PTP_MAX_SAMPLES is 25). */
#define PHC_TRACKER_MAX_READINGS 25
/* A point this far off the line, beyond the errors of both, is a step. */
#define PHC_TRACKER_STEP_SECONDS 1e-3
/* Extrapolating further than this beyond the newest point is refused. */
#define PHC_TRACKER_MAX_EXTRAPOLATION 64.0

typedef struct PhcReading {
        nsec_t sys_before;
        nsec_t phc;
        nsec_t sys_after;
} PhcReading;

typedef struct PhcPoint {
        nsec_t phc;
        double offset;                  /* system - PHC, seconds */
        double error;                   /* half the bracket, seconds */
} PhcPoint;

typedef struct PhcTracker {
        PhcPoint points[PHC_TRACKER_WINDOW];
        size_t n, first;                /* a ring: n points from first */
        unsigned resets;
        /* The fitted line: offset(t) = offset + slope * (t - ref). */
        nsec_t ref;
        double offset, slope, residual;  /* residual: RMS, seconds */
} PhcTracker;

void phc_tracker_init(PhcTracker *t);

/* Adds one sampling of n readings. Returns 0, or -EINVAL when no reading
 * is usable (system time after before, or n out of range). A point that
 * shows a step empties the window first (counted in resets) and returns
 * 1. */
int phc_tracker_add(PhcTracker *t, const PhcReading *readings, size_t n);

/* System time of PHC time phc, and its error estimate (seconds). Returns
 * 0, -EAGAIN with too few points, -ERANGE when phc lies too far from the
 * points. */
int phc_tracker_convert(const PhcTracker *t, nsec_t phc, nsec_t *ret_sys, double *ret_error);

/* The PHC's frequency against the system clock, in parts per million
 * (positive: the PHC runs slow, the offset grows). 0 before a line. */
double phc_tracker_frequency_ppm(const PhcTracker *t);
