/* The simulated clock backend (see clock-sim.h). */
#include <math.h>
#include <stdlib.h>

#include "clock/clock-sim.h"
#include "shared/macro.h"

typedef struct ClockSim {
        Clock clock;
        nsec_t true_time;
        double error;                   /* reading - true, seconds */
        double natural;                 /* s/s */
        double wander_state;            /* s/s */
        double wander;
        double applied;                 /* s/s */
        unsigned steps;
        SimRandom random;
} ClockSim;

void sim_random_seed(SimRandom *r, uint64_t seed) {
        r->state = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
        if (r->state == 0)
                r->state = 1;
}

uint64_t sim_random_next(SimRandom *r) {
        /* xorshift64* */
        uint64_t x = r->state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r->state = x;
        return x * 0x2545F4914F6CDD1Dull;
}

double sim_random_uniform(SimRandom *r) {
        return (double) (sim_random_next(r) >> 11) / 9007199254740992.0;
}

double sim_random_normal(SimRandom *r) {
        /* Box-Muller; 1 - u keeps the logarithm finite. */
        double u = 1.0 - sim_random_uniform(r), v = sim_random_uniform(r);
        return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double sim_random_exponential(SimRandom *r, double mean) {
        return -mean * log(1.0 - sim_random_uniform(r));
}

static ClockSim *to_sim(Clock *c) {
        return (ClockSim *) c;
}

void sim_clock_advance(Clock *c, double dt) {
        ClockSim *s = to_sim(c);

        if (dt <= 0)
                return;
        s->error += (s->natural + s->wander_state + s->applied) * dt;
        if (s->wander > 0)
                s->wander_state += s->wander * sqrt(dt) * sim_random_normal(&s->random);
        s->true_time += seconds_to_nsec(dt);
}

nsec_t sim_clock_true_time(Clock *c) {
        return to_sim(c)->true_time;
}

double sim_clock_time_error(Clock *c) {
        return to_sim(c)->error;
}

double sim_clock_frequency_error(Clock *c) {
        ClockSim *s = to_sim(c);
        return (s->natural + s->wander_state + s->applied) * 1e6;
}

unsigned sim_clock_steps(Clock *c) {
        return to_sim(c)->steps;
}

static int sim_read(Clock *c, nsec_t *ret) {
        ClockSim *s = to_sim(c);
        *ret = s->true_time + seconds_to_nsec(s->error);
        return 0;
}

static int sim_set_frequency(Clock *c, double ppm) {
        to_sim(c)->applied = ppm * 1e-6;
        return 0;
}

static int sim_get_frequency(Clock *c, double *ppm) {
        *ppm = to_sim(c)->applied * 1e6;
        return 0;
}

static int sim_step(Clock *c, double offset) {
        to_sim(c)->error += offset;
        to_sim(c)->steps++;
        return 0;
}

static int sim_set_sync_status(Clock *c, const ClockSyncStatus *st) {
        return 0;
}

static void sim_free(Clock *c) {
        free(c);
}

static const ClockOps sim_ops = {
        .name = "sim",
        .read = sim_read,
        .set_frequency = sim_set_frequency,
        .get_frequency = sim_get_frequency,
        .step = sim_step,
        .set_sync_status = sim_set_sync_status,
        .free = sim_free,
};

int clock_new_sim(const SimClockParams *p, Clock **ret) {
        ClockSim *s = calloc(1, sizeof(ClockSim));
        if (!s)
                return -ENOMEM;
        s->clock = (Clock) { .ops = &sim_ops, .controls = true };
        s->true_time = p->start;
        s->error = p->initial_offset;
        s->natural = p->frequency_ppm * 1e-6;
        s->wander = p->wander;
        sim_random_seed(&s->random, p->seed);
        *ret = &s->clock;
        return 0;
}
