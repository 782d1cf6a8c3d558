/* The "none" clock backend ([Clock] Control=no, chronyd -x): the system
 * clock is never touched. Corrections are applied to a virtual clock kept
 * on top of CLOCK_REALTIME instead, so tempus still tracks and serves the
 * time it believes true:
 *
 *   reading(r) = r + offset_at_anchor + (r - anchor) * frequency
 *
 * where r is CLOCK_REALTIME. The offset and frequency of that virtual clock
 * are what tempus has learnt about the system clock: tracking reports the
 * system clock's offset through clock_offset_from_system(). */
#include <stdlib.h>

#include "clock/clock.h"
#include "shared/macro.h"

typedef struct ClockNone {
        Clock clock;
        nsec_t anchor;          /* CLOCK_REALTIME at the last change */
        double offset;          /* virtual - real at the anchor, seconds */
        double frequency_ppm;
        ClockSyncStatus status;
} ClockNone;

static ClockNone *to_none(Clock *c) {
        return (ClockNone *) c;
}

static double virtual_offset(const ClockNone *n, nsec_t real) {
        return n->offset + nsec_diff(real, n->anchor) * n->frequency_ppm * 1e-6;
}

static nsec_t none_from_system(Clock *c, nsec_t real) {
        return real + seconds_to_nsec(virtual_offset(to_none(c), real));
}

static int none_offset_from_system(Clock *c, nsec_t real, double *ret_offset, double *ret_frequency_ppm) {
        *ret_offset = virtual_offset(to_none(c), real);
        *ret_frequency_ppm = to_none(c)->frequency_ppm;
        return 0;
}

static int none_read(Clock *c, nsec_t *ret) {
        *ret = none_from_system(c, now_realtime());
        return 0;
}

static void reanchor(ClockNone *n) {
        nsec_t real = now_realtime();
        n->offset = virtual_offset(n, real);
        n->anchor = real;
}

static int none_set_frequency(Clock *c, double ppm) {
        ClockNone *n = to_none(c);
        reanchor(n);
        n->frequency_ppm = ppm;
        return 0;
}

static int none_get_frequency(Clock *c, double *ppm) {
        *ppm = to_none(c)->frequency_ppm;
        return 0;
}

static int none_step(Clock *c, double offset) {
        ClockNone *n = to_none(c);
        reanchor(n);
        n->offset += offset;
        return 0;
}

static int none_set_sync_status(Clock *c, const ClockSyncStatus *s) {
        to_none(c)->status = *s;
        return 0;
}

static void none_free(Clock *c) {
        free(c);
}

static const ClockOps none_ops = {
        .name = "none",
        .read = none_read,
        .set_frequency = none_set_frequency,
        .get_frequency = none_get_frequency,
        .step = none_step,
        .set_sync_status = none_set_sync_status,
        .offset_from_system = none_offset_from_system,
        .from_system = none_from_system,
        .read_wall_offset = clock_read_system_wall_offset,
        .free = none_free,
};

int clock_new_none(Clock **ret) {
        ClockNone *n = calloc(1, sizeof(ClockNone));
        if (!n)
                return -ENOMEM;
        n->clock = (Clock) { .ops = &none_ops, .controls = false,
                           .max_frequency_ppm = CLOCK_KERNEL_MAX_FREQUENCY_PPM };
        n->anchor = now_realtime();
        *ret = &n->clock;
        return 0;
}
