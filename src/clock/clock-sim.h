/* A simulated clock for tests and the simulator: its reading drifts from a
 * true time that the test advances explicitly, and it is adjusted the way
 * the Linux kernel adjusts CLOCK_REALTIME:
 *
 *   rate = (1 + natural_frequency + wander(t)) * (1 + applied)
 *   applied = (tick - 10000) / 10000 + freq
 *
 * The oscillator's error and the kernel's correction multiply: a clock
 * 5 % fast needs a correction of -4.76 %, not -5 %. The correction is what
 * adjtimex() can hold: a tick of whole microseconds within +/-10 % of
 * 10000 us and a frequency within +/-500 ppm in steps of 2^-16 ppm; a
 * request beyond that fails with -EINVAL, as the kernel's does. wander is a
 * random walk of the frequency whose steps have standard deviation
 * `wander * sqrt(dt)` (fraction per sqrt-second), as in chrony's
 * simulations; natural_frequency (frequency_ppm) may also jump once, by
 * jump_ppm at jump_at (a virtual machine moved to other hardware).
 * Deterministic for a seed.
 *
 * A monotonic clock runs beside it at the same rate; steps (ours, someone
 * else's, a kernel leap second) move only the reading, so the wall offset
 * (reading - monotonic) changes exactly by the steps.
 *
 * Leap seconds: true time runs without leaps; true UTC is true time minus
 * the leap seconds inserted so far (plus those deleted). A leap is scheduled
 * with sim_clock_schedule_leap(). The clock then behaves like the Linux
 * kernel: when the last sync status asked for STA_INS, the reading repeats
 * the second before midnight UTC (it steps back by one second when it
 * reaches midnight); with STA_DEL it jumps from 23:59:59 to midnight. It
 * does so once, and again only after the status was cleared. */
#pragma once

#include <stdint.h>

#include "clock/clock.h"

typedef struct SimClockParams {
        nsec_t start;                   /* true time at creation */
        double initial_offset;          /* reading - true time, seconds */
        double frequency_ppm;           /* natural rate error; positive: fast */
        double wander;                  /* random-walk step, fraction per sqrt(s) */
        double jump_at;                 /* > 0: seconds after start when ... */
        double jump_ppm;                /* ... the natural rate changes by this */
        uint64_t seed;
} SimClockParams;

int clock_new_sim(const SimClockParams *p, Clock **ret);

/* Moves true time forward by dt seconds (dt >= 0). */
void sim_clock_advance(Clock *c, double dt);
/* True time, which runs without leap seconds. */
nsec_t sim_clock_true_time(Clock *c);
/* Reading - true UTC, seconds. */
double sim_clock_time_error(Clock *c);

/* Declares a leap second of true UTC at `midnight` (a UTC midnight, as Unix
 * time): sign +1 inserts 23:59:60, -1 deletes 23:59:59. One at a time: a
 * new call replaces the previous one. */
void sim_clock_schedule_leap(Clock *c, nsec_t midnight, int sign);
/* True UTC at true time t (Unix nanoseconds; the inserted second repeats
 * the one before midnight, as the kernel shows it). */
nsec_t sim_clock_utc_at(Clock *c, nsec_t true_time);
/* True UTC now. */
nsec_t sim_clock_true_utc(Clock *c);
/* Leap seconds the clock itself applied (kernel-style), signed. */
int sim_clock_leaps_applied(Clock *c);
/* The last status passed to clock_set_sync_status(). */
const ClockSyncStatus *sim_clock_sync_status(Clock *c);
/* The clock's total rate error now (natural + wander + applied), ppm. */
double sim_clock_frequency_error(Clock *c);
/* Number of steps applied through the clock interface. */
unsigned sim_clock_steps(Clock *c);
/* Someone else steps the clock (date -s, a VM resume): the reading jumps
 * by offset seconds; the monotonic clock does not. */
void sim_clock_external_step(Clock *c, double offset);
/* The correction the kernel holds, ppm (after its rounding and limits). */
double sim_clock_applied_ppm(Clock *c);

/* The deterministic generator behind it, for simulated networks too. */
typedef struct SimRandom {
        uint64_t state;
} SimRandom;

void sim_random_seed(SimRandom *r, uint64_t seed);
uint64_t sim_random_next(SimRandom *r);
double sim_random_uniform(SimRandom *r);        /* [0, 1) */
double sim_random_normal(SimRandom *r);         /* mean 0, sd 1 */
double sim_random_exponential(SimRandom *r, double mean);
