/* Backend-independent parts of the clock interface (see clock.h). */
#include "clock/clock.h"

Clock *clock_free(Clock *c) {
        if (c)
                c->ops->free(c);
        return NULL;
}
