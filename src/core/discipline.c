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
#include <math.h>
#include <stdint.h>

#include "core/discipline.h"
#include "shared/log.h"
#include "shared/macro.h"

/* Shortest slew, seconds: below this, timer latency would dominate. */
#define MIN_SLEW_DURATION 1.0
/* Offsets beyond this many standard errors are corrected faster. */
#define SLEW_NOISE_SIGMAS 3.0
/* Residual of a finished slew small enough to forget, seconds. */
#define SLEW_DONE_EPSILON 1e-6

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

static int apply_frequency(Discipline *d) {
        double total = d->frequency_ppm + (d->slewing ? d->slew_rate * 1e6 : 0);
        return clock_set_frequency(d->clock, total);
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

        if (p->use_initial_frequency) {
                d->frequency_ppm = CLAMP(p->initial_frequency_ppm, -DISCIPLINE_MAX_FREQUENCY_PPM,
                                         DISCIPLINE_MAX_FREQUENCY_PPM);
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
        duration = MAX(duration, MIN_SLEW_DURATION);
        duration = MAX(duration, fabs(amount) / (d->params.max_slew_ppm * 1e-6));

        if (fabs(amount) < SLEW_DONE_EPSILON) {
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
 * RFC 5905 section 11.3). */
static double slew_duration(const Discipline *d, double amount, double offset_sd) {
        double duration = d->params.correction_ratio * d->correction_interval;

        if (offset_sd > 0 && fabs(amount) > SLEW_NOISE_SIGMAS * offset_sd)
                duration *= SLEW_NOISE_SIGMAS * offset_sd / fabs(amount);
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
        /* Cooked time has moved forward by offset at once. */
        notify_change(d, discipline_cook(d, raw), 0, offset);
        return 0;
}

static int step_clock(Discipline *d, double offset) {
        nsec_t raw;
        int r = clock_step(d->clock, offset);
        if (r < 0)
                return r;
        d->n_steps++;
        /* The slew is defined on the raw timescale, which just jumped. */
        d->slew_start += seconds_to_nsec(offset);
        d->slew_end += seconds_to_nsec(offset);
        r = read_raw(d, &raw);
        if (r < 0)
                return r;
        notify_change(d, discipline_cook(d, raw), 0, offset);
        return 0;
}

static double update_frequency(Discipline *d, const DisciplineInput *in) {
        /* Bayesian blend of the old base correction (uncertainty skew_old)
         * and the regression's measurement of what is left (skew_new). */
        double old2 = d->skew_ppm * d->skew_ppm;
        double new_skew_ppm = MAX(in->skew * 1e6, 1e-6);
        double new2 = new_skew_ppm * new_skew_ppm;
        /* Until the regression can tell (three samples), leave it alone. */
        if (new_skew_ppm >= DISCIPLINE_UNKNOWN_SKEW_PPM)
                return 0;
        double weight = old2 / (old2 + new2);
        double before = d->frequency_ppm;

        d->frequency_ppm = CLAMP(before + weight * in->frequency * 1e6,
                                 -DISCIPLINE_MAX_FREQUENCY_PPM, DISCIPLINE_MAX_FREQUENCY_PPM);
        d->skew_ppm = new_skew_ppm;
        d->frequency_known = d->skew_ppm < DISCIPLINE_UNKNOWN_SKEW_PPM;
        return d->frequency_ppm - before;
}

static bool may_step(const Discipline *d, double offset) {
        const DisciplineParams *p = &d->params;
        if (p->makestep_threshold <= 0 || p->makestep_limit == 0)
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

        r = discipline_now(d, &now);
        if (r < 0)
                return r;
        u.stepped = may_step(d, in->offset);
        update_tracking(d, now, in->offset);
        d->offset_sd = in->offset_sd;
        d->correction_interval = in->interval > 0 ? in->interval : d->update_interval;

        u.frequency_change_ppm = update_frequency(d, in);
        if (u.frequency_change_ppm != 0) {
                r = apply_frequency(d);
                if (r < 0)
                        return r;
                notify_change(d, now, u.frequency_change_ppm * 1e-6, 0);
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
        return start_slew_for(d, raw, residual, 0);
}
