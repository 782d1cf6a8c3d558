/* Time representations used across tempus.
 *
 * Points in time on the system's real-time clock are nsec_t: nanoseconds
 * since the Unix epoch (good until 2262). Intervals and offsets that feed the
 * maths are double seconds. Conversions live here so that no module rolls its
 * own. */
#pragma once

#include <stdint.h>
#include <time.h>

typedef int64_t nsec_t;
typedef uint64_t usec_t;

#define NSEC_PER_SEC  INT64_C(1000000000)
#define NSEC_PER_MSEC INT64_C(1000000)
#define NSEC_PER_USEC INT64_C(1000)
#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

static inline double nsec_to_seconds(nsec_t t) {
        return (double) t / 1e9;
}

static inline nsec_t seconds_to_nsec(double s) {
        return (nsec_t) (s * 1e9 + (s >= 0 ? 0.5 : -0.5));
}

/* Difference a - b in seconds, exact in integer arithmetic before rounding. */
static inline double nsec_diff(nsec_t a, nsec_t b) {
        return nsec_to_seconds(a - b);
}

static inline nsec_t timespec_to_nsec(const struct timespec *ts) {
        return (nsec_t) ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static inline struct timespec nsec_to_timespec(nsec_t t) {
        struct timespec ts;
        ts.tv_sec = t / NSEC_PER_SEC;
        ts.tv_nsec = t % NSEC_PER_SEC;
        if (ts.tv_nsec < 0) {
                ts.tv_nsec += NSEC_PER_SEC;
                ts.tv_sec--;
        }
        return ts;
}

/* Reads CLOCK_REALTIME / CLOCK_MONOTONIC. Only the daemon's I/O layers call
 * these; pure code takes times as arguments. */
nsec_t now_realtime(void);
nsec_t now_monotonic(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC in seconds, read between two monotonic
 * readings close together (an interrupt between the reads would otherwise
 * show up as a jump). */
double now_wall_offset(void);

/* Formats an offset in seconds the way chronyc does: "+13ms", "-278us",
 * "+3718ns", with the unit chosen to keep 4 significant digits at most. */
char *format_offset(char *buf, size_t size, double seconds, int width);
