/* The simulated clock backend (see clock-sim.h). */
#include <math.h>
#include <stdlib.h>

#include "clock/clock-sim.h"
#include "clock/clock-system.h"
#include "shared/macro.h"

/* The kernel's nominal tick with HZ=100 (USER_HZ), microseconds. */
#define SIM_TICK_NOMINAL 10000L
#define SIM_MAX_FREQ_SCALED (500L * 65536L)

typedef struct ClockSim {
        Clock clock;
        nsec_t true_time;
        double error;                   /* reading - true, seconds */
        double natural;                 /* s/s */
        double wander_state;            /* s/s */
        double wander;
        nsec_t jump_at;                 /* true time of the jump (0: none) */
        double jump;                    /* s/s */
        double applied;                 /* s/s, what the kernel holds */
        double wall_offset;             /* reading - monotonic, seconds */
        unsigned steps;
        SimRandom random;

        /* The scheduled leap of true UTC (0: none). */
        nsec_t leap_midnight;
        int leap_sign;
        /* Kernel leap state: the last status, and whether a leap was
         * applied since STA_INS/STA_DEL were last cleared. */
        ClockSyncStatus status;
        bool leap_armed_done;
        int leaps_applied;
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

nsec_t sim_clock_utc_at(Clock *c, nsec_t t) {
        ClockSim *s = to_sim(c);

        if (s->leap_sign > 0 && t >= s->leap_midnight)
                return t - NSEC_PER_SEC;
        if (s->leap_sign < 0 && t >= s->leap_midnight - NSEC_PER_SEC)
                return t + NSEC_PER_SEC;
        return t;
}

nsec_t sim_clock_true_utc(Clock *c) {
        return sim_clock_utc_at(c, to_sim(c)->true_time);
}

void sim_clock_schedule_leap(Clock *c, nsec_t midnight, int sign) {
        to_sim(c)->leap_midnight = midnight;
        to_sim(c)->leap_sign = sign > 0 ? 1 : sign < 0 ? -1 : 0;
}

int sim_clock_leaps_applied(Clock *c) {
        return to_sim(c)->leaps_applied;
}

const ClockSyncStatus *sim_clock_sync_status(Clock *c) {
        return &to_sim(c)->status;
}

static nsec_t reading(const ClockSim *s) {
        return s->true_time + seconds_to_nsec(s->error);
}

/* The kernel's leap state machine (kernel/time/ntp.c, second_overflow()):
 * with STA_INS, when the reading reaches midnight UTC it is set back one
 * second; with STA_DEL, reaching 23:59:59 sets it forward to midnight. */
static void apply_kernel_leap(ClockSim *s, nsec_t before, nsec_t after) {
        const nsec_t day = 86400 * NSEC_PER_SEC;

        if (s->leap_armed_done || (s->status.leap != CLOCK_LEAP_INSERT && s->status.leap != CLOCK_LEAP_DELETE))
                return;
        nsec_t edge = (before / day + 1) * day;
        if (s->status.leap == CLOCK_LEAP_DELETE)
                edge -= NSEC_PER_SEC;
        if (after < edge || before >= edge)
                return;
        double leap = s->status.leap == CLOCK_LEAP_INSERT ? -1.0 : 1.0;
        s->error += leap;
        s->wall_offset += leap;
        s->leaps_applied += s->status.leap == CLOCK_LEAP_INSERT ? 1 : -1;
        s->leap_armed_done = true;
}

/* Reading - true time grows at this rate (s/s). */
static double rate_error(const ClockSim *s) {
        return (1.0 + s->natural + s->wander_state) * (1.0 + s->applied) - 1.0;
}

static void advance_by(ClockSim *s, double dt) {
        nsec_t before = reading(s);
        s->error += rate_error(s) * dt;
        if (s->wander > 0)
                s->wander_state += s->wander * sqrt(dt) * sim_random_normal(&s->random);
        s->true_time += seconds_to_nsec(dt);
        apply_kernel_leap(s, before, reading(s));
}

void sim_clock_advance(Clock *c, double dt) {
        ClockSim *s = to_sim(c);

        if (dt <= 0)
                return;
        /* The oscillator's jump, once, at its moment. */
        if (s->jump_at > 0 && nsec_diff(s->jump_at, s->true_time) < dt) {
                double before_jump = MAX(nsec_diff(s->jump_at, s->true_time), 0);
                if (before_jump > 0)
                        advance_by(s, before_jump);
                s->true_time = s->jump_at;
                s->natural += s->jump;
                s->jump_at = 0;
                dt -= before_jump;
                if (dt <= 0)
                        return;
        }
        advance_by(s, dt);
}

nsec_t sim_clock_true_time(Clock *c) {
        return to_sim(c)->true_time;
}

double sim_clock_time_error(Clock *c) {
        ClockSim *s = to_sim(c);
        return s->error + nsec_diff(s->true_time, sim_clock_true_utc(c));
}

double sim_clock_frequency_error(Clock *c) {
        return rate_error(to_sim(c)) * 1e6;
}

double sim_clock_applied_ppm(Clock *c) {
        return to_sim(c)->applied * 1e6;
}

void sim_clock_external_step(Clock *c, double offset) {
        ClockSim *s = to_sim(c);
        s->error += offset;
        s->wall_offset += offset;
}

unsigned sim_clock_steps(Clock *c) {
        return to_sim(c)->steps;
}

static int sim_read(Clock *c, nsec_t *ret) {
        ClockSim *s = to_sim(c);
        *ret = s->true_time + seconds_to_nsec(s->error);
        return 0;
}

/* adjtimex(ADJ_TICK | ADJ_FREQUENCY): the tick must stay within 10 % of
 * nominal (else EINVAL, nothing changed); the frequency is clamped to
 * +/-500 ppm and kept in 2^-16 ppm units. */
static int sim_set_frequency(Clock *c, double ppm) {
        long tick, freq;

        if (clock_system_split_frequency(ppm, SIM_TICK_NOMINAL, &tick, &freq) < 0 ||
            labs(tick - SIM_TICK_NOMINAL) > SIM_TICK_NOMINAL / 10)
                return -EINVAL;
        freq = CLAMP(freq, -SIM_MAX_FREQ_SCALED, SIM_MAX_FREQ_SCALED);
        to_sim(c)->applied = clock_system_join_frequency(tick, freq, SIM_TICK_NOMINAL) * 1e-6;
        return 0;
}

static int sim_get_frequency(Clock *c, double *ppm) {
        *ppm = to_sim(c)->applied * 1e6;
        return 0;
}

static int sim_step(Clock *c, double offset) {
        ClockSim *s = to_sim(c);
        s->error += offset;
        s->wall_offset += offset;
        s->steps++;
        return 0;
}

static int sim_read_wall_offset(Clock *c, double *ret) {
        *ret = to_sim(c)->wall_offset;
        return 0;
}

static int sim_set_sync_status(Clock *c, const ClockSyncStatus *st) {
        ClockSim *s = to_sim(c);

        /* Clearing STA_INS/STA_DEL re-arms the leap state machine. */
        if (st->leap != CLOCK_LEAP_INSERT && st->leap != CLOCK_LEAP_DELETE)
                s->leap_armed_done = false;
        s->status = *st;
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
        .read_wall_offset = sim_read_wall_offset,
        .free = sim_free,
};

int clock_new_sim(const SimClockParams *p, Clock **ret) {
        ClockSim *s = calloc(1, sizeof(ClockSim));
        if (!s)
                return -ENOMEM;
        s->clock = (Clock) { .ops = &sim_ops, .controls = true,
                             .max_frequency_ppm = CLOCK_KERNEL_MAX_FREQUENCY_PPM };
        s->true_time = p->start;
        s->error = p->initial_offset;
        s->natural = p->frequency_ppm * 1e-6;
        s->wander = p->wander;
        if (p->jump_at > 0) {
                s->jump_at = p->start + seconds_to_nsec(p->jump_at);
                s->jump = p->jump_ppm * 1e-6;
        }
        sim_random_seed(&s->random, p->seed);
        *ret = &s->clock;
        return 0;
}
