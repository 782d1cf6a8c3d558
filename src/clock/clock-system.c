/* The "system" clock backend: CLOCK_REALTIME read with clock_gettime() and
 * adjusted with clock_adjtime() (needs CAP_SYS_TIME). tempus runs its own
 * discipline, so the kernel's PLL is kept out of the way and only the
 * frequency, steps and the sync status are set. */
#include <math.h>
#include <stdlib.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock-system.h"
#include "shared/macro.h"

#define KERNEL_FREQ_LIMIT_PPM 500.0
#define FREQ_SCALE 65536.0

typedef struct ClockSystem {
        Clock clock;
        long tick_nominal;      /* us per tick */
} ClockSystem;

int clock_system_split_frequency(double ppm, long tick_nominal, long *ret_tick, long *ret_freq) {
        double ppm_per_tick_us = 1e6 / (double) tick_nominal;
        long delta = 0;

        if (!isfinite(ppm) || fabs(ppm) > 100000.0)
                return -ERANGE;
        if (fabs(ppm) > KERNEL_FREQ_LIMIT_PPM)
                delta = lround(ppm / ppm_per_tick_us);
        *ret_tick = tick_nominal + delta;
        *ret_freq = lround((ppm - (double) delta * ppm_per_tick_us) * FREQ_SCALE);
        return 0;
}

double clock_system_join_frequency(long tick, long freq, long tick_nominal) {
        return (double) (tick - tick_nominal) * 1e6 / (double) tick_nominal + (double) freq / FREQ_SCALE;
}

long clock_system_error_usec(bool synchronized, double seconds) {
        if (!synchronized || !(seconds >= 0))
                return CLOCK_SYSTEM_MAX_ERROR_USEC;
        return (long) MIN(seconds * 1e6, (double) CLOCK_SYSTEM_MAX_ERROR_USEC);
}

int clock_system_status_bits(const ClockSyncStatus *s, int current) {
        int status = current & ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME | STA_INS | STA_DEL |
                                 STA_UNSYNC | STA_FREQHOLD);
        /* A clear STA_UNSYNC also turns on the kernel's 11-minute RTC
         * updates: only with RTCSync=yes and an RTC in UTC. Whether the
         * clock is synchronised is told by maxerror (what timedated reads). */
        if (!s->synchronized || !s->rtc_sync || s->local_rtc)
                status |= STA_UNSYNC;
        if (s->synchronized && s->leap == CLOCK_LEAP_INSERT)
                status |= STA_INS;
        else if (s->synchronized && s->leap == CLOCK_LEAP_DELETE)
                status |= STA_DEL;
        return status;
}

static ClockSystem *to_system(Clock *c) {
        return (ClockSystem *) c;
}

static int system_adjtime(struct timex *tx) {
        return clock_adjtime(CLOCK_REALTIME, tx) < 0 ? -errno : 0;
}

static int system_read(Clock *c, nsec_t *ret) {
        *ret = now_realtime();
        return 0;
}

static int system_set_frequency(Clock *c, double ppm) {
        struct timex tx = { .modes = ADJ_FREQUENCY | ADJ_TICK };
        long tick, freq;
        int r = clock_system_split_frequency(ppm, to_system(c)->tick_nominal, &tick, &freq);
        if (r < 0)
                return r;
        tx.tick = tick;
        tx.freq = freq;
        return system_adjtime(&tx);
}

static int system_get_frequency(Clock *c, double *ppm) {
        struct timex tx = {};
        int r = system_adjtime(&tx);
        if (r < 0)
                return r;
        *ppm = clock_system_join_frequency(tx.tick, tx.freq, to_system(c)->tick_nominal);
        return 0;
}

static int system_step(Clock *c, double offset) {
        struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };
        struct timespec ts = nsec_to_timespec(seconds_to_nsec(offset));
        tx.time.tv_sec = ts.tv_sec;
        tx.time.tv_usec = ts.tv_nsec;   /* nanoseconds with ADJ_NANO */
        return system_adjtime(&tx);
}

static int system_set_sync_status(Clock *c, const ClockSyncStatus *s) {
        struct timex tx = {};
        int r = system_adjtime(&tx);
        if (r < 0)
                return r;
        tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
        tx.status = clock_system_status_bits(s, tx.status);
        tx.maxerror = clock_system_error_usec(s->synchronized, s->max_error);
        tx.esterror = clock_system_error_usec(s->synchronized, s->est_error);
        if (s->tai_offset > 0) {
                tx.modes |= ADJ_TAI;
                tx.constant = s->tai_offset;
        }
        return system_adjtime(&tx);
}

static void system_free(Clock *c) {
        free(c);
}

static const ClockOps system_ops = {
        .name = "system",
        .read = system_read,
        .set_frequency = system_set_frequency,
        .get_frequency = system_get_frequency,
        .step = system_step,
        .set_sync_status = system_set_sync_status,
        .read_wall_offset = clock_read_system_wall_offset,
        .free = system_free,
};

int clock_new_system(Clock **ret) {
        ClockSystem *s = calloc(1, sizeof(ClockSystem));
        long hz = sysconf(_SC_CLK_TCK);

        if (!s)
                return -ENOMEM;
        s->clock = (Clock) { .ops = &system_ops, .controls = true,
                             .max_frequency_ppm = CLOCK_KERNEL_MAX_FREQUENCY_PPM };
        s->tick_nominal = 1000000 / (hz > 0 ? hz : 100);
        *ret = &s->clock;
        return 0;
}
