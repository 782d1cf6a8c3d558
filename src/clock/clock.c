/* Backend-independent parts of the clock interface (see clock.h). */
#include "clock/clock.h"

Clock *clock_free(Clock *c) {
        if (c)
                c->ops->free(c);
        return NULL;
}

int clock_offset_from_system(Clock *c, nsec_t realtime, double *ret_offset, double *ret_frequency_ppm) {
        double offset = 0, frequency_ppm = 0;

        if (c->ops->offset_from_system) {
                int r = c->ops->offset_from_system(c, realtime, &offset, &frequency_ppm);
                if (r < 0)
                        return r;
        }
        if (ret_offset)
                *ret_offset = offset;
        if (ret_frequency_ppm)
                *ret_frequency_ppm = frequency_ppm;
        return 0;
}

int clock_read_system_wall_offset(Clock *c, double *ret) {
        *ret = now_wall_offset();
        return 0;
}
