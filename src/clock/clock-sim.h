/* A simulated clock for tests and the simulator: its reading drifts from a
 * true time that the test advances explicitly.
 *
 *   error' = natural_frequency + wander(t) + applied_frequency
 *
 * where wander is a random walk of the frequency whose steps have standard
 * deviation `wander * sqrt(dt)` (fraction per sqrt-second), as in chrony's
 * simulations. Deterministic for a seed. */
#pragma once

#include <stdint.h>

#include "clock/clock.h"

typedef struct SimClockParams {
        nsec_t start;                   /* true time at creation */
        double initial_offset;          /* reading - true time, seconds */
        double frequency_ppm;           /* natural rate error; positive: fast */
        double wander;                  /* random-walk step, fraction per sqrt(s) */
        uint64_t seed;
} SimClockParams;

int clock_new_sim(const SimClockParams *p, Clock **ret);

/* Moves true time forward by dt seconds (dt >= 0). */
void sim_clock_advance(Clock *c, double dt);
nsec_t sim_clock_true_time(Clock *c);
/* Reading - true time, seconds. */
double sim_clock_time_error(Clock *c);
/* The clock's total rate error now (natural + wander + applied), ppm. */
double sim_clock_frequency_error(Clock *c);
/* Number of steps applied. */
unsigned sim_clock_steps(Clock *c);

/* The deterministic generator behind it, for simulated networks too. */
typedef struct SimRandom {
        uint64_t state;
} SimRandom;

void sim_random_seed(SimRandom *r, uint64_t seed);
uint64_t sim_random_next(SimRandom *r);
double sim_random_uniform(SimRandom *r);        /* [0, 1) */
double sim_random_normal(SimRandom *r);         /* mean 0, sd 1 */
double sim_random_exponential(SimRandom *r, double mean);
