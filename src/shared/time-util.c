/* Implementation of time-util.h. */
#include <math.h>
#include <string.h>
#include <stdio.h>

#include "shared/time-util.h"

nsec_t now_realtime(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return timespec_to_nsec(&ts);
}

nsec_t now_monotonic(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return timespec_to_nsec(&ts);
}

/* A pair of reads further apart than this is taken again. */
#define WALL_OFFSET_MAX_SPREAD (20 * NSEC_PER_USEC)
#define WALL_OFFSET_TRIES 5

double now_wall_offset(void) {
        nsec_t m1 = 0, r = 0, m2 = 0;

        for (int i = 0; i < WALL_OFFSET_TRIES; i++) {
                m1 = now_monotonic();
                r = now_realtime();
                m2 = now_monotonic();
                if (m2 - m1 <= WALL_OFFSET_MAX_SPREAD)
                        break;
        }
        return nsec_diff(r, m1 + (m2 - m1) / 2);
}

char *format_offset(char *buf, size_t size, double seconds, int width) {
        static const struct { const char *unit; double scale; } units[] = {
                { "ns", 1e9 }, { "us", 1e6 }, { "ms", 1e3 }, { "s", 1.0 },
        };
        double a = fabs(seconds);
        size_t i;

        /* Pick the smallest unit in which the value fits in 4 digits. */
        for (i = 0; i < sizeof units / sizeof units[0] - 1; i++)
                if (a * units[i].scale < 9999.5)
                        break;
        snprintf(buf, size, "%+*.0f%s", width > 2 ? width - (int) strlen(units[i].unit) : 0,
                 seconds * units[i].scale, units[i].unit);
        return buf;
}
