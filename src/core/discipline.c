/* Clock discipline (see discipline.h).
 *
 * The estimates come from a regression over samples that are re-expressed
 * after every correction (sourcestats.c), so each update measures what is
 * left of the clock's errors, with standard errors, rather than raw
 * offsets. The two loops are therefore not a PLL/FLL cascade as in RFC 5905
 * section 11.3, but two independent corrections:
 *
 *  - frequency: a weighted blend of the base correction so far (variance
 *    skew_old^2) and the residual frequency just measured (variance
 *    skew_new^2): f += f_res * skew_old^2 / (skew_old^2 + skew_new^2), the
 *    minimum-variance combination of the two (a one-dimensional Kalman
 *    update);
 *
 *  - phase: the offset is taken into the correction at once (cooked time
 *    moves), and the raw clock is slewed to it over correction_ratio poll
 *    intervals, or faster in proportion when the offset is many standard
 *    errors large (see slew_duration()). */
#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "core/discipline.h"
#include "shared/log.h"
#include "shared/macro.h"

/* Shortest slew, seconds: below this, timer latency would dominate. */
#define MIN_SLEW_DURATION 1.0
/* Offsets beyond this many standard errors are corrected faster. */
#define SLEW_NOISE_SIGMAS 2.0
/* A slew's rate is a frequency error to whatever times intervals on the
 * clock, and chrony's tests hold a synchronised clock within 500 ppm of
 * true frequency, and within 100 ppm where only every 20th request is
 * answered (its 014 test). An offset that GENTLE_SLEW_PPM corrects within
 * GENTLE_SLEW_SECONDS (up to 4 ms) is slewed no faster, and one that
 * QUIET_SLEW_PPM corrects within QUIET_SLEW_SECONDS and within a quarter
 * of the time since the previous update no faster than that: after a gap
 * (replies lost, or rare) the few samples leave the clock a millisecond
 * or two off with small standard errors, and 818 us slewed at 111 ppm
 * made one run of chrony's every-20th test in forty late; the clock took
 * far longer than the slower slew to drift so far. At the start, updates
 * seconds apart, milliseconds still go at up to 400 ppm (at 90 for all,
 * 1 ms +/- 300 us polled every 16 s synchronised at 31 s instead of 25;
 * within the whole time since the previous update, at 26). Larger offsets
 * (the start's, steps) are slewed as their standard errors allow. 400 and
 * 90 rather than 500 and 100 ppm leave room for the base frequency's own
 * error. */
#define GENTLE_SLEW_PPM 400.0
#define GENTLE_SLEW_SECONDS 10.0
#define QUIET_SLEW_PPM 90.0
#define QUIET_SLEW_SECONDS 45.0
/* Residual of a finished slew small enough to forget, seconds. */
#define SLEW_DONE_EPSILON 1e-6
/* A residual frequency this many standard errors beyond the old and new
 * estimates' together is an even bet that the old one is wrong. Not 5:
 * the regressions right after an external step (four samples 2 s apart)
 * claim less skew than they have, residuals of 4 to 5 of their standard
 * errors are common there, and with 5 they moved the frequency enough to
 * cost 3 % RMS in external-step-repeated. */
#define FREQUENCY_CONSISTENT_SIGMAS 6.0
/* How fast the frequency of a typical crystal wanders (ppm per sqrt(s)),
 * for how quickly an old frequency estimate loses certainty. */
#define FREQUENCY_WANDER_PPM 2e-3

void discipline_params_init(DisciplineParams *p) {
        *p = (DisciplineParams) {
                .makestep_threshold = 0,
                .makestep_limit = 0,
                .correction_ratio = 1.5,
                .max_slew_ppm = DISCIPLINE_MAX_SLEW_PPM,
                .initial_skew_ppm = DISCIPLINE_UNKNOWN_SKEW_PPM,
        };
}

static void notify_change(Discipline *d, nsec_t when, double dfreq, double doffset) {
        if (d->on_change)
                d->on_change(when, dfreq, doffset, d->userdata);
}

/* The clock's range, ppm: what the backend accepts. */
static double max_total_ppm(const Discipline *d) {
        return d->clock->max_frequency_ppm > 0 ? d->clock->max_frequency_ppm : DISCIPLINE_MAX_FREQUENCY_PPM;
}

/* The frequency to program for the base correction b with a slew at rate
 * s on top: (1 + b) (1 + s) - 1, so that the clock runs exactly s faster
 * than true time whatever b is (adding s to b would make it s (1 + b)). */
static double total_ppm(double base_ppm, double slew_rate) {
        return ((1.0 + base_ppm * 1e-6) * (1.0 + slew_rate) - 1.0) * 1e6;
}

static int apply_frequency(Discipline *d) {
        double total = total_ppm(d->frequency_ppm, d->slewing ? d->slew_rate : 0);
        double max = max_total_ppm(d);
        return clock_set_frequency(d->clock, CLAMP(total, -max, max));
}

/* The fastest slew (s/s) in the direction of sign that keeps the total
 * within the clock's range and within max_slew_ppm. */
static double max_slew_rate(const Discipline *d, double sign) {
        double base = 1.0 + d->frequency_ppm * 1e-6, max = max_total_ppm(d) * 1e-6;
        double room = sign > 0 ? (1.0 + max) / base - 1.0 : 1.0 - (1.0 - max) / base;
        return MAX(MIN(room, d->params.max_slew_ppm * 1e-6), 0);
}

/* A step of the raw timescale by offset: the slew is defined on it, and
 * the time of the last update on cooked time, which jumped with it. */
static void shift_timescale(Discipline *d, double offset) {
        nsec_t shift = seconds_to_nsec(offset);

        d->slew_start += shift;
        d->slew_end += shift;
        if (d->n_updates > 0)
                d->last_update += shift;
}

/* After our own step (or at the start): the wall offset as it now is, so
 * that discipline_check_step() does not take our step for someone else's. */
static void remember_wall_offset(Discipline *d) {
        d->wall_known = clock_read_wall_offset(d->clock, &d->wall_offset) >= 0;
}

int discipline_init(Discipline *d, Clock *clock, const DisciplineParams *p,
                    ClockChangeHandler on_change, void *userdata) {
        *d = (Discipline) {
                .clock = clock,
                .params = *p,
                .on_change = on_change,
                .userdata = userdata,
                .skew_ppm = p->initial_skew_ppm,
        };
        remember_wall_offset(d);

        if (p->use_initial_frequency) {
                d->frequency_ppm = CLAMP(p->initial_frequency_ppm, -max_total_ppm(d), max_total_ppm(d));
                d->frequency_known = p->initial_skew_ppm < DISCIPLINE_UNKNOWN_SKEW_PPM;
        } else {
                /* No drift file: start from whatever the clock runs at. */
                int r = clock_get_frequency(clock, &d->frequency_ppm);
                if (r < 0)
                        d->frequency_ppm = 0;
                d->skew_ppm = DISCIPLINE_UNKNOWN_SKEW_PPM;
        }
        return apply_frequency(d);
}

double discipline_remaining(const Discipline *d, nsec_t raw) {
        if (!d->slewing)
                return 0;
        /* Running fast by slew_rate, the clock gains slew_rate per second of
         * real time, which is slew_rate / (1 + slew_rate) per second of its
         * own reading. */
        return d->slew_amount - d->slew_rate / (1.0 + d->slew_rate) * nsec_diff(raw, d->slew_start);
}

nsec_t discipline_cook(const Discipline *d, nsec_t raw) {
        return raw + seconds_to_nsec(discipline_remaining(d, raw));
}

int discipline_now(Discipline *d, nsec_t *ret) {
        nsec_t raw;
        int r = clock_read(d->clock, &raw);
        if (r < 0)
                return r;
        *ret = discipline_cook(d, raw);
        return 0;
}

static int read_raw(Discipline *d, nsec_t *ret) {
        return clock_read(d->clock, ret);
}

/* Starts slewing `amount` seconds from raw time `now`, replacing any slew in
 * progress (whose remainder the caller has folded into amount). The slew
 * takes correction_ratio update intervals, or longer when the rate would
 * exceed max_slew_ppm. */
static int start_slew_for(Discipline *d, nsec_t now, double amount, double duration) {
        double max_rate = max_slew_rate(d, amount);

        duration = MAX(duration, MIN_SLEW_DURATION);
        if (max_rate > 0)
                duration = MAX(duration, fabs(amount) / max_rate);
        if (amount == 0 || max_rate <= 0) {
                d->slewing = false;
                return apply_frequency(d);
        }
        d->slewing = true;
        d->slew_start = now;
        d->slew_amount = amount;
        d->slew_rate = amount / duration;
        d->slew_end = now + seconds_to_nsec(duration * (1.0 + d->slew_rate));
        return apply_frequency(d);
}

/* How long to spend on a phase correction. An offset about the size of
 * its own uncertainty may be mostly noise: it is spread over
 * correction_ratio update intervals, so that the next estimates can still
 * take part of it back, and the rate it adds to the clock's frequency stays
 * below offset / interval (a small frequency error, as the measured
 * frequency error counts the slew too). An offset many standard errors
 * large is certainly real: the duration shrinks in proportion, so it is
 * gone within seconds instead of intervals (Mills' hybrid loop makes the
 * same choice by switching to a faster time constant on large offsets,
 * RFC 5905 section 11.3), but never faster than GENTLE_SLEW_PPM where
 * that takes at most GENTLE_SLEW_SECONDS: after 2.4 hours without replies,
 * 2 ms that are 100 standard errors large were slewed at 550 to 840 ppm,
 * outside chrony's limits (seeds 25, 35, 95 and 155 of 200 of
 * intermittent-long); and after a gap, never faster than QUIET_SLEW_PPM
 * (see above). */
static double slew_duration(const Discipline *d, double amount, double offset_sd) {
        double spread = d->params.correction_ratio * d->correction_interval, duration = spread;

        if (offset_sd > 0 && fabs(amount) > SLEW_NOISE_SIGMAS * offset_sd)
                duration *= SLEW_NOISE_SIGMAS * offset_sd / fabs(amount);
        double gentle = fabs(amount) / (GENTLE_SLEW_PPM * 1e-6);
        double quiet = fabs(amount) / (QUIET_SLEW_PPM * 1e-6);
        if (quiet <= MIN(d->update_interval / 4, QUIET_SLEW_SECONDS))
                duration = MAX(duration, quiet);
        else if (gentle <= MIN(spread, GENTLE_SLEW_SECONDS))
                duration = MAX(duration, gentle);
        return duration;
}

static int start_slew(Discipline *d, nsec_t now, double amount) {
        return start_slew_for(d, now, amount, slew_duration(d, amount, d->offset_sd));
}

static int accumulate_offset(Discipline *d, double offset) {
        nsec_t raw;
        int r = read_raw(d, &raw);
        if (r < 0)
                return r;
        double remaining = discipline_remaining(d, raw);
        r = start_slew(d, raw, remaining + offset);
        if (r < 0)
                return r;
        /* Cooked time has moved forward by offset at once, unless the
         * clock had no room left to slew at all (its frequency at the
         * end of its range): then nothing is carried, and cooked time
         * fell back onto raw. The sources are told what really happened,
         * so that their samples still show what is left to correct. */
        notify_change(d, discipline_cook(d, raw), 0, discipline_remaining(d, raw) - remaining);
        return 0;
}

static int step_clock(Discipline *d, double offset) {
        nsec_t raw;
        int r = clock_step(d->clock, offset);
        if (r < 0)
                return r;
        d->n_steps++;
        shift_timescale(d, offset);
        remember_wall_offset(d);
        r = read_raw(d, &raw);
        if (r < 0)
                return r;
        notify_change(d, discipline_cook(d, raw), 0, offset);
        return 0;
}

/* Moves the base correction by the measured residual frequency r. If the
 * old estimate is right to within its skew, the blend with the least
 * variance gives the measurement the weight
 *     w = skew_old^2 / (skew_old^2 + skew_new^2)
 * (a one-dimensional Kalman update). But the old estimate may simply be
 * wrong: a drift file from another machine, a virtual machine moved to
 * other hardware, a crystal that changed. With z = r / sqrt(skew_old^2 +
 * skew_new^2), the odds that it is wrong grow as exp(z^2 / 2) (the
 * likelihood ratio of a residual that size against a Gaussian), and prior
 * odds that make a residual of FREQUENCY_CONSISTENT_SIGMAS (k) standard
 * errors an even bet give
 *     p = 1 / (1 + exp((k^2 - z^2) / 2)),
 * and the measurement's weight becomes w + p (1 - w): a residual of four
 * standard errors moves nothing more (p = 5e-5), one of eight replaces the
 * old estimate (p > 0.99999). Without it, after a first measurement too
 * uncertain to contradict a wrong drift file, or after a jump of the
 * clock's frequency, each later measurement would move the estimate by a
 * few percent of r (a file 270 ppm off that claims 1 ppm, against
 * residuals of 270 ppm measured to 15 ppm: 2 %), and the phase
 * corrections would carry the clock milliseconds off for thousands of
 * seconds (drift-file-foreign in the simulator). A measurement itself too
 * uncertain to act on (DISCIPLINE_MAX_UPDATE_SKEW_PPM) changes nothing.
 * The correction composes with the old one by multiplication: running r
 * faster on top of (1 + b) means (1 + b) (1 + w r).
 * Returns the change of the clock's rate, s/s. */
static double update_frequency(Discipline *d, const DisciplineInput *in) {
        /* The old estimate's uncertainty grows as the clock's frequency
         * wanders (a random walk: variance w^2 t). */
        double since = d->n_updates > 1 ? d->update_interval : 0;
        double old2 = d->skew_ppm * d->skew_ppm + FREQUENCY_WANDER_PPM * FREQUENCY_WANDER_PPM * since;
        double new_skew_ppm = MAX(in->skew * 1e6, 1e-6);
        double new2 = new_skew_ppm * new_skew_ppm;
        double residual_ppm = in->frequency * 1e6;

        if (new_skew_ppm >= DISCIPLINE_MAX_UPDATE_SKEW_PPM || !isfinite(residual_ppm))
                return 0;
        double z2 = residual_ppm * residual_ppm / (old2 + new2);
        double wrong = 1.0 / (1.0 + exp((FREQUENCY_CONSISTENT_SIGMAS * FREQUENCY_CONSISTENT_SIGMAS - z2) / 2));
        double weight = old2 / (old2 + new2);
        weight += wrong * (1.0 - weight);
        double max = max_total_ppm(d);
        double before = d->frequency_ppm;
        d->frequency_ppm = CLAMP(total_ppm(before, weight * in->frequency), -max, max);
        /* A measurement that was given little weight leaves the old
         * estimate about as certain as it was: a burst of samples two
         * seconds apart after a reset must not unsettle a frequency that
         * hours of samples established. One that replaced a wrong
         * estimate leaves its own uncertainty. */
        d->skew_ppm = sqrt((1.0 - wrong) * MIN(old2, new2) + wrong * new2);
        d->frequency_known = d->skew_ppm < DISCIPLINE_UNKNOWN_SKEW_PPM;
        /* The rate actually changed by (1 + b') / (1 + b) - 1. */
        return (1.0 + d->frequency_ppm * 1e-6) / (1.0 + before * 1e-6) - 1.0;
}

bool discipline_would_step(const Discipline *d, double offset) {
        const DisciplineParams *p = &d->params;
        if (p->makestep_limit == 0 || p->makestep_threshold < 0)
                return false;
        if (fabs(offset) <= p->makestep_threshold)
                return false;
        return p->makestep_limit < 0 || d->n_updates < (unsigned) p->makestep_limit;
}

static void update_tracking(Discipline *d, nsec_t now, double offset) {
        if (d->n_updates > 0)
                d->update_interval = MAX(nsec_diff(now, d->last_update), 0);
        d->last_update = now;
        d->last_offset = offset;
        /* Exponentially weighted RMS of the offsets acted on. */
        d->rms_offset = d->n_updates == 0 ? fabs(offset)
                        : sqrt(0.9 * d->rms_offset * d->rms_offset + 0.1 * offset * offset);
        d->n_updates++;
}

int discipline_update(Discipline *d, const DisciplineInput *in, DisciplineUpdate *ret) {
        DisciplineUpdate u = { .offset = in->offset };
        nsec_t now;
        int r;

        assert(d && in && isfinite(in->offset));
        r = discipline_now(d, &now);
        if (r < 0)
                return r;
        u.stepped = discipline_would_step(d, in->offset);
        update_tracking(d, now, in->offset);
        d->offset_sd = in->offset_sd;
        d->correction_interval = in->interval > 0 ? in->interval : d->update_interval;

        double dfreq = update_frequency(d, in);
        u.frequency_change_ppm = dfreq * 1e6;
        if (dfreq != 0) {
                r = apply_frequency(d);
                if (r < 0)
                        return r;
                notify_change(d, now, dfreq, 0);
        }

        if (u.stepped)
                r = step_clock(d, in->offset);
        else
                r = accumulate_offset(d, in->offset);
        if (r < 0)
                return r;
        if (ret)
                *ret = u;
        return 0;
}

int discipline_step_now(Discipline *d, double extra_offset) {
        nsec_t raw;
        int r = read_raw(d, &raw);
        if (r < 0)
                return r;
        double remaining = discipline_remaining(d, raw);
        /* The remaining slew is already part of cooked time: stepping it
         * moves raw to cooked without changing cooked. */
        d->slewing = false;
        r = apply_frequency(d);
        if (r < 0)
                return r;
        if (remaining != 0) {
                r = clock_step(d->clock, remaining);
                if (r < 0)
                        return r;
                d->n_steps++;
                /* Cooked time did not move: the last update stays where it was. */
                remember_wall_offset(d);
        }
        if (extra_offset != 0)
                return step_clock(d, extra_offset);
        return 0;
}

int discipline_leap(Discipline *d, double offset) {
        nsec_t raw;
        int r = read_raw(d, &raw);
        if (r < 0)
                return r;
        /* As fast as the slew limit allows. */
        return start_slew_for(d, raw, discipline_remaining(d, raw) + offset, 0);
}

double discipline_check_step(Discipline *d) {
        double wall;

        if (clock_read_wall_offset(d->clock, &wall) < 0)
                return 0;
        if (!d->wall_known) {
                d->wall_known = true;
                d->wall_offset = wall;
                return 0;
        }
        double step = wall - d->wall_offset;
        if (fabs(step) < DISCIPLINE_STEP_DETECT)
                return 0;
        d->wall_offset = wall;
        d->n_external_steps++;
        /* Raw (and so cooked) time jumped by step: what is defined on it
         * moves along, so that the slew keeps its remaining time and the
         * age of the last update stays right. */
        shift_timescale(d, step);
        return step;
}

void discipline_set_makestep(Discipline *d, double threshold, int limit) {
        d->params.makestep_threshold = threshold;
        d->params.makestep_limit = limit;
}

nsec_t discipline_next_timer(const Discipline *d) {
        return d->slewing ? d->slew_end : INT64_MAX;
}

double discipline_timer_delay(const Discipline *d, nsec_t raw) {
        /* The clock runs fast by the slew rate while slewing, so its
         * remaining raw interval passes in slightly less real time. */
        if (!d->slewing)
                return -1;
        return MAX(nsec_diff(d->slew_end, raw), 0) / (1.0 + d->slew_rate);
}

int discipline_on_timer(Discipline *d) {
        nsec_t raw;
        int r;

        if (!d->slewing)
                return 0;
        r = read_raw(d, &raw);
        if (r < 0)
                return r;
        if (raw < d->slew_end)
                return 0;
        /* Timers fire late; whatever was over- or under-done is slewed out
         * again, so cooked time stays exact. */
        double residual = discipline_remaining(d, raw);
        if (fabs(residual) < SLEW_DONE_EPSILON) {
                /* Forget the crumb: cooked time moves back onto raw. */
                d->slewing = false;
                r = apply_frequency(d);
                if (r >= 0 && residual != 0)
                        notify_change(d, raw, 0, -residual);
                return r;
        }
        r = start_slew_for(d, raw, residual, 0);
        /* Without room to slew it back (the clock's frequency at the end
         * of its range), the residual is dropped: cooked time falls back
         * onto raw, and the sources hear of it. */
        if (r >= 0 && !d->slewing)
                notify_change(d, raw, 0, -residual);
        return r;
}
