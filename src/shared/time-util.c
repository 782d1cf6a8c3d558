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
