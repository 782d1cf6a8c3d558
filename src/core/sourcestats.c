/* Sample store and weighted regression for one source (see sourcestats.h).
 *
 * Model: offset(t) = a + b (t - t_ref), fitted by weighted least squares
 * (the estimator of RFC 5905's clock filter replaced by a regression, as in
 * chrony's sourcestats). A sample whose round trip took longer than the
 * shortest one in the window may be off by up to half the extra delay
 * (queueing on one leg only), so its variance is taken as
 *     sigma0^2 + ((delay - min_delay) / 2)^2 + w^2 age^3 / 3
 * and its weight as the inverse: the bound on asymmetric queueing (this
 * is the delay-based filtering: a sample delayed by queues hardly counts),
 * plus what the clock's wander w can have added to the phase since the
 * sample was taken (a random walk of frequency integrates to a phase
 * variance of w^2 age^3 / 3), which makes old samples fade as the clock's
 * frequency moves on. Where the samples show that the delays tell
 * little about a sample's error (jitter normal on both legs, rather than
 * queueing), the delay term is scaled down (fit_model()). The window is
 * the longest run of the newest samples (at most SOURCESTATS_MAX_SAMPLES)
 * whose residuals pass a runs test (a straight line should leave residual
 * signs randomly mixed); older samples are dropped, so the window shrinks
 * when the source or our clock changes behaviour and grows again while it
 * is steady. Where the jitter falls
 * steadily on one leg, each offset is first corrected to what the quickest
 * round trip would have measured (update_asymmetry()). A sample far off
 * the last fit (a server whose clock jumped) is left out of the fit until
 * the jump has lasted a quarter of an hour (mark_gross_errors()). */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sourcestats.h"
#include "ntp/ntp-packet.h"
#include "shared/macro.h"

/* The noise model is chosen from this many samples on (see fit_model());
 * before, the delays are trusted in full. With default polling the
 * eighth sample comes four minutes after the burst, and until then one
 * quick sample that was far off on a path with normal jitter held the
 * frequency 3 to 5 ppm off (on the real kernel's relay path, against
 * chronyd's 1 to 2). */
#define NOISE_MODEL_MIN_SAMPLES 5
static_assert(NOISE_MODEL_MIN_SAMPLES > 2, "a line and its noise need three samples");
/* How much likelier (log-likelihood) another model must make the samples
 * than full delay weighting to be chosen instead: a prior for queueing,
 * under which the quickest samples are the best. At 2, a path with normal
 * jitter kept full share through its first minutes and a quick burst
 * sample far off held the frequency (replays of twelve real relay runs:
 * 8 % more RMS error summed than at 1.25); at 1, fixed polls of 2^13 s
 * (ten samples of queueing-like jitter) ended above chrony's RMS. */
#define NOISE_MODEL_PENALTY 1.25
/* The smallest median excess delay taken as real (seconds). */
#define MIN_EXCESS 4e-7
/* Jitter asymmetry (see update_asymmetry()): the slope of offset against
 * excess delay is at most 1/2 (all of the excess on one leg); from
 * ASYMMETRY_MIN on, and ASYMMETRY_LIKELY_SIGMAS of its standard errors
 * clear of ASYMMETRY_FLOOR, seen with one sign in ASYMMETRY_MIN_RUN fits
 * in a row, it is taken as a property of the path and corrected for.
 * Fits of fewer than ASYMMETRY_MIN_SAMPLES samples say nothing about it,
 * unless it is clear: ASYMMETRY_CLEAR_SIGMAS standard errors clear of
 * ASYMMETRY_FLOOR, in a fit of ASYMMETRY_CLEAR_SAMPLES or more. */
#define ASYMMETRY_MAX 0.5
#define ASYMMETRY_MIN 0.46
#define ASYMMETRY_MIN_RUN 8
#define ASYMMETRY_FLOOR 0.25
#define ASYMMETRY_LIKELY_SIGMAS 2.0
#define ASYMMETRY_CLEAR_SIGMAS 5.0
#define ASYMMETRY_CLEAR_SAMPLES 6
/* A slope this steep is no jitter: an outlier or a step is in the fit. */
#define ASYMMETRY_IMPOSSIBLE 1.0
#define ASYMMETRY_MAX_RUN 1000
/* A slope is jitter on one leg only if the offsets keep to it. With
 * independent jitter of variances vx and vy on the legs, the slope is
 * c = (vx - vy) / (2 (vx + vy)) and the offsets scatter about it with
 * variance vx vy / (vx + vy) = (1 - 4 c^2) / 4 times the excess delays'
 * variance: 0.038 at the slope of ASYMMETRY_MIN, 0.25 with the legs
 * alike. Above this ratio (a slope of 0.4) the slope is chance: a path
 * with 300 us of normal jitter each way showed -0.5 with two standard
 * errors clear of ASYMMETRY_FLOOR for a dozen fits in a row at a ratio of
 * 0.10 to 0.17, and its correction then held the clock 600 us off. */
#define ASYMMETRY_MAX_SCATTER 0.09
#define ASYMMETRY_MIN_SAMPLES 8
/* Before ASYMMETRY_CLEAR_SAMPLES, from ONE_LEG_MIN_SAMPLES on, jitter on
 * one leg only is taken where a line through the offsets corrected for
 * it is this much likelier (log) than a line through them as measured
 * (see one_leg_asymmetry()): its residuals' sum of squares e^5 = 148
 * times smaller at four samples, e^(10/3) = 28 at five, e^2.5 = 12 at
 * six. With 970 us of exponential jitter on the requests' leg and 30 us
 * on the replies', the first samples at a 64 s poll are mostly held a
 * millisecond or more; the line through them took its slope from the one
 * quick sample among them and held the clock over a millisecond off past
 * 210 s on 20 seeds of 300 of the simulator's asymmetric-jitter-47.
 * Corrected, such samples lie on a line within tens of microseconds, and
 * the two lines' residuals differ by tens to hundreds of times. With
 * symmetric jitter the correction leaves the other leg's jitter whole,
 * twice the variance of the offsets as measured, and seldom wins: with
 * normal jitter of 300 us each way on no seed of 300; with exponential
 * jitter of 500 us each way, where the first few samples may all have
 * been held longer on one leg, in 11 draws of 300 at one of their first
 * seven samples (5 by the slope's fit alone), at little cost, since the
 * delay weights lean on the quickest of those samples either way. At
 * e^4 that was 30 draws, and the median of ten seeds of fixed polls of
 * 2^13 s (1 us of jitter, ten samples in all) went past chrony's RMS. */
#define ONE_LEG_MIN_SAMPLES 4
#define ONE_LEG_LOG_LIKELIHOOD 5.0
#define ASYMMETRY_QUANTILE 0.75
/* The skew's floor rests on the spread of the delays rather than the
 * whole round trip from this many samples on (see skew_floor()). */
#define SKEW_FLOOR_SAMPLES 8
#define SKEW_FLOOR_EXCESS 2.0
/* Before that, from this many samples, at most this many times the
 * spread of their round trips. */
#define STEADY_PATH_SAMPLES 4
#define STEADY_PATH_RANGES 4.0
/* Gross errors (see mark_gross_errors()): looked for from this many
 * samples on, at this many standard deviations of the last fit beyond
 * what the sample's excess delay allows, and never below GROSS_MIN_ERROR;
 * a jump is followed once this many samples over this long (seconds) show
 * it. */
#define GROSS_MIN_SAMPLES 5
#define GROSS_SCALES 20.0
#define GROSS_SKEWS 3.0
#define GROSS_MIN_ERROR 0.1
#define GROSS_FOLLOW_SAMPLES 4
#define GROSS_FOLLOW_SPAN 900.0
/* A quiet clock (see sourcestats_quiet_wander()): from this many samples,
 * a grid of WANDER_GRID_MAX wanders WANDER_GRID_STEP decades apart;
 * noise scales of WANDER_SCALE_STEP decades, WANDER_SCALE_STEPS either
 * way; the deviance (twice the negative log-likelihood) by which the
 * estimate is ruled out, and within which a wander is not; and how far
 * below the prior the wanders not ruled out must all lie. */
#define WANDER_QUIET_MIN_SAMPLES 3
#define WANDER_GRID_STEP 0.5
#define WANDER_GRID_MAX 20
#define WANDER_SCALE_STEP 0.25
#define WANDER_SCALE_STEPS 8
#define WANDER_REJECT 9.0
#define WANDER_ACCEPT 4.0
#define WANDER_QUIET 40.0
/* The wander term weighs samples from this many on (see
 * sample_weight_at()). */
#define WANDER_MIN_SAMPLES 4
/* Residuals smaller than this (seconds) carry no sign worth testing. */
#define RESIDUAL_EPSILON 1e-10

void sourcestats_init(SourceStats *s) {
        *s = (SourceStats) { .wander = SOURCESTATS_WANDER, .wander_cap = INFINITY };
}

void sourcestats_reset(SourceStats *s) {
        double wander = s->wander;
        sourcestats_init(s);
        s->wander = MAX(wander, SOURCESTATS_MIN_WANDER);
}

size_t sourcestats_count(const SourceStats *s) {
        return s->n;
}

static SourceSample *sample_at(SourceStats *s, size_t i) {
        return &s->samples[(s->first + i) % SOURCESTATS_MAX_SAMPLES];
}

static const SourceSample *sample_at_const(const SourceStats *s, size_t i) {
        return &s->samples[(s->first + i) % SOURCESTATS_MAX_SAMPLES];
}

const SourceSample *sourcestats_last(const SourceStats *s) {
        return s->n > 0 ? sample_at_const(s, s->n - 1) : NULL;
}

static void drop_oldest(SourceStats *s, size_t k) {
        assert(k <= s->n);
        s->first = (s->first + k) % SOURCESTATS_MAX_SAMPLES;
        s->n -= k;
}

double sourcestats_min_runs(unsigned n_pos, unsigned n_neg) {
        /* Runs of signs among n = n1 + n2 residuals, if random:
         *   mean = 2 n1 n2 / n + 1
         *   var  = 2 n1 n2 (2 n1 n2 - n) / (n^2 (n - 1))
         * Too few runs means the residuals curve: not a line. */
        double n1 = n_pos, n2 = n_neg, n = n1 + n2;

        if (n1 == 0 || n2 == 0 || n < 2)
                return 1;
        double mean = 2 * n1 * n2 / n + 1;
        double var = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n * n * (n - 1));
        return mean - 1.645 * sqrt(MAX(var, 0));
}

static double min_delay_from(const SourceStats *s, size_t start) {
        double d = INFINITY;
        for (size_t i = start; i < s->n; i++)
                d = MIN(d, sample_at_const(s, i)->delay);
        return d;
}

/* Sorts a few dozen values (insertion sort is fine for that). */
static void sort_values(double *v, size_t m) {
        for (size_t i = 1; i < m; i++)
                for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
                        double t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
}

/* The excess delays of the samples [start, n) over min_delay, sorted.
 * Returns their count. */
static size_t sorted_excess(const SourceStats *s, size_t start, double min_delay,
                            double excess[static SOURCESTATS_MAX_SAMPLES]) {
        size_t m = 0;

        for (size_t i = start; i < s->n; i++)
                excess[m++] = sample_at_const(s, i)->delay - min_delay;
        sort_values(excess, m);
        return m;
}

/* How far a sample lies from the last fit, and how far it may. */
static double off_last_fit(const SourceStats *s, const SourceSample *x) {
        return x->offset - (s->a + s->b * nsec_diff(x->time, s->ref_time));
}

static double gross_limit(const SourceStats *s, const SourceSample *x, double min_delay, double skew) {
        double ahead = fabs(nsec_diff(x->time, s->ref_time)) * GROSS_SKEWS * skew;
        return MAX((x->delay - min_delay) / 2 + GROSS_SCALES * MAX(s->std_dev, MIN_EXCESS) + ahead, GROSS_MIN_ERROR);
}

/* A server whose clock jumps for a while (by seconds, say) leaves samples
 * that the line through the others does not come near. Weighed down by
 * their delays or their age, such samples can still pull the fit by
 * milliseconds while its spread stays below MaxJitter, so they are judged
 * against the last fit instead: a sample is a gross error when it lies
 * further from it than half its excess delay (what queueing can explain)
 * plus GROSS_SCALES times its spread, plus GROSS_SKEWS times what the
 * fit's frequency may be off by (its skew) over the time since the fit,
 * and than GROSS_MIN_ERROR, which no change of a real clock's frequency
 * brings about between two polls. Without the skew's part, four samples
 * on a path with 100 ms of jitter that agreed within milliseconds by
 * chance judged every later one of a clock 100 ppm off, not yet
 * corrected, a gross error for eight polls, and the clock drifted half a
 * second (seed 205 of 300 of jitter-100ms).
 *
 * A jump that lasts is followed: once the newest GROSS_FOLLOW_SAMPLES
 * samples or more, over GROSS_FOLLOW_SPAN or more, all lie off the last
 * fit and on one level, the samples before them are what is left out, and
 * the next fit is theirs. */
static double fit_skew(const SourceStats *s);

/* Marks the samples beyond gross_limit() of the last fit; returns how
 * many. */
static size_t mark_beyond_limit(const SourceStats *s, double min_delay, double skew,
                                bool gross[static SOURCESTATS_MAX_SAMPLES]) {
        size_t found = 0;

        for (size_t i = 0; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                gross[i] = fabs(off_last_fit(s, x)) > gross_limit(s, x, min_delay, skew);
                found += gross[i];
        }
        return found;
}

static void mark_gross_errors(const SourceStats *s, bool gross[static SOURCESTATS_MAX_SAMPLES]) {
        size_t n = s->n, run = n;

        memset(gross, 0, SOURCESTATS_MAX_SAMPLES * sizeof(bool));
        if (!s->fitted || n < GROSS_MIN_SAMPLES)
                return;
        /* The skew's part only widens the limit: where no sample lies
         * beyond it without that part, none does with it, and the skew
         * (a sort of the delays) need not be computed. */
        double min_delay = min_delay_from(s, 0), skew = 0;
        size_t found = mark_beyond_limit(s, min_delay, skew, gross);
        if (found == 0)
                return;
        skew = fit_skew(s);
        found = mark_beyond_limit(s, min_delay, skew, gross);
        const SourceSample *newest = sample_at_const(s, n - 1);
        while (run > 0 && gross[run - 1] &&
               fabs(off_last_fit(s, sample_at_const(s, run - 1)) - off_last_fit(s, newest)) <=
                       gross_limit(s, sample_at_const(s, run - 1), min_delay, skew))
                run--;
        if (n - run >= GROSS_FOLLOW_SAMPLES &&
            nsec_diff(newest->time, sample_at_const(s, run)->time) >= GROSS_FOLLOW_SPAN) {
                for (size_t i = 0; i < n; i++)
                        gross[i] = i < run;
                return;
        }
        /* Too few left to fit: no sample is judged. */
        if (n - found < SOURCESTATS_MIN_REGRESSION)
                memset(gross, 0, SOURCESTATS_MAX_SAMPLES * sizeof(bool));
}

/* *view: s without its gross errors (see above), its samples in order
 * from index 0; map takes each of them to its index in s. */
static void without_gross_errors(const SourceStats *s, SourceStats *view, size_t map[static SOURCESTATS_MAX_SAMPLES]) {
        bool gross[SOURCESTATS_MAX_SAMPLES];

        mark_gross_errors(s, gross);
        *view = *s;
        view->first = 0;
        view->n = 0;
        for (size_t i = 0; i < s->n; i++) {
                if (gross[i])
                        continue;
                map[view->n] = i;
                view->samples[view->n++] = *sample_at_const(s, i);
        }
}

/* The excess delay below which a share q of all samples lies. */
static double excess_quantile(const SourceStats *s, double min_delay, double q) {
        double excess[SOURCESTATS_MAX_SAMPLES];
        size_t m = sorted_excess(s, 0, min_delay, excess);

        assert(m > 0);
        return excess[MIN((size_t) (q * (double) m), m - 1)];
}

/* The median excess delay of the samples [start, n), with a floor. */
static double median_excess(const SourceStats *s, size_t start, double min_delay) {
        double excess[SOURCESTATS_MAX_SAMPLES];
        size_t m = sorted_excess(s, start, min_delay, excess);

        /* The sample of least delay has no excess by definition: the
         * median is of the others (with three samples, one zero would
         * otherwise claim the whole path is quiet). */
        if (m < 2)
                return MIN_EXCESS;
        size_t k = m - 1;
        double median = k % 2 ? excess[1 + k / 2] : (excess[k / 2] + excess[1 + k / 2]) / 2;
        return MAX(median, MIN_EXCESS);
}

/* The noise of a sample with no excess delay, as a share of the median
 * excess. As a measurement noise (predictions, poll adaptation) it is a
 * quarter; in the weights an eighth, which leans the fit on the quietest
 * samples: with exponential jitter that halves both the spread of the
 * estimate and the bias that jitter heavier on one leg leaves in it. */
static double base_sigma(const SourceStats *s, size_t start, double min_delay) {
        return median_excess(s, start, min_delay) / 4;
}

static double weight_sigma(const SourceStats *s, size_t start, double min_delay) {
        return median_excess(s, start, min_delay) / 8;
}

typedef struct Fit {
        double a, b, mean_x, sxx, sw, var_a_ref, var_b, std_dev;
        double swwxx;           /* sum of w_i^2 (t_i - mean)^2 */
        double swwxxdd;         /* the same, each term times delay_i^2 */
        double min_delay;       /* least delay in the window */
        double swr2;            /* sum of w_i r_i^2 (weighted squared residuals) */
        double slw;             /* sum of log w_i */
        unsigned runs;
} Fit;

/* A sample's variance as a measurement of the offset now (at ref): its
 * delay-based noise, plus what the clock's random-walk frequency noise
 * (wander w, s/s per sqrt(s)) can have added since it was taken: a random
 * walk of frequency integrates to a phase error of variance w^2 age^3 / 3
 * (Allan's random-walk FM). Old samples thus count less, and the line's
 * end, where the clock is corrected, follows a wandering frequency instead
 * of averaging it over the whole window. */
double sourcestats_typical_noise(const SourceStats *s) {
        if (s->n == 0)
                return 0;
        /* A sample with the median excess delay E = 4 sigma0: variance
         * sigma0^2 + E^2 / 12. */
        double sigma0 = base_sigma(s, 0, min_delay_from(s, 0));
        return sigma0 * sqrt(1 + 16.0 / 12);
}

/* Given its excess delay E, a sample's error is spread evenly over
 * +/- E/2 (the excess split between the legs at random): variance
 * E^2 / 12, on top of the base noise sigma0. */
static double delay_noise_variance(double sigma0, double excess) {
        return sigma0 * sigma0 + excess * excess / 12;
}

double sourcestats_sample_noise(const SourceStats *s, const SourceSample *x) {
        if (s->n == 0)
                return x->delay / 2;
        double min_delay = MIN(min_delay_from(s, 0), x->delay);
        return sqrt(delay_noise_variance(base_sigma(s, 0, min_delay), x->delay - min_delay));
}

/* How a sample's error depends on its delay: variance
 *     sigma0^2 + share * ((delay - min_delay) / 2)^2
 * share 1 where jitter is exponential-like (the quietest samples are the
 * best), 0 where it is normal on both legs (a short round trip then says
 * nothing about the split, and every sample is as good as another). */
typedef struct NoiseModel {
        double sigma0, share;
} NoiseModel;

/* A sample's weight: the inverse of its variance under the noise model,
 * plus the wander's (see sourcestats_typical_noise()). Three samples
 * cannot tell wander from noise (a line through them leaves a single
 * residual), and the prior wander alone would decide: 2e-9 gives a
 * sample 512 s old a phase error of 13 us, which against 1 us of jitter
 * weighs the oldest of three samples polled every 256 s to nothing, so
 * that the line rests on the newest two, and a step made from it (see
 * the engine's first update) takes their frequency. The wander term
 * therefore starts at WANDER_MIN_SAMPLES. */
static double sample_weight_at(const SourceStats *s, const SourceSample *x, double min_delay,
                               const NoiseModel *m, nsec_t ref) {
        double excess = (x->delay - min_delay) / 2;
        double age = MAX(nsec_diff(ref, x->time), 0);
        double w = s->n < WANDER_MIN_SAMPLES ? 0 : MIN(s->wander, s->wander_cap);
        double wander = w * w * age * age * age / 3;
        return 1.0 / (m->sigma0 * m->sigma0 + m->share * excess * excess + wander);
}

/* A sample's offset as if its round trip had taken min_delay: with jitter
 * heavier on one leg, the part of the excess delay spent on that leg
 * (asymmetry, see update_asymmetry()) is taken off. */
static double corrected_offset(const SourceStats *s, const SourceSample *x, double min_delay) {
        return x->offset - s->asymmetry * (x->delay - min_delay);
}

/* Weighted least squares over samples [start, n), x measured from ref;
 * min_delay is the least delay among them. */
static void fit_window(const SourceStats *s, size_t start, nsec_t ref, double min_delay, const NoiseModel *m,
                       Fit *f) {
        double sw = 0, swx = 0, swy = 0, sxx = 0, sxy = 0, swr2 = 0, slw = 0, swwxx = 0, swwxxdd = 0;
        size_t n = s->n - start;

        for (size_t i = start; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                double w = sample_weight_at(s, x, min_delay, m, ref);
                sw += w;
                slw += log(w);
                swx += w * nsec_diff(x->time, ref);
                swy += w * corrected_offset(s, x, min_delay);
        }
        double mx = swx / sw, my = swy / sw;
        for (size_t i = start; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                double w = sample_weight_at(s, x, min_delay, m, ref), dx = nsec_diff(x->time, ref) - mx;
                sxx += w * dx * dx;
                swwxx += w * w * dx * dx;
                swwxxdd += w * w * dx * dx * x->delay * x->delay;
                sxy += w * dx * (corrected_offset(s, x, min_delay) - my);
        }
        f->b = sxx > 0 ? sxy / sxx : 0;
        f->a = my - f->b * mx;
        f->mean_x = mx;
        f->min_delay = min_delay;
        f->sxx = sxx;
        f->swwxx = swwxx;
        f->swwxxdd = swwxxdd;
        f->sw = sw;

        /* Residual signs and weighted residual variance. Residuals below
         * RESIDUAL_EPSILON are rounding, not signal: they continue the run. */
        unsigned runs = 0;
        int last_sign = 0;
        for (size_t i = start; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                double r = corrected_offset(s, x, min_delay) - (f->a + f->b * nsec_diff(x->time, ref));
                int sign = fabs(r) < RESIDUAL_EPSILON ? (last_sign ?: 1) : r >= 0 ? 1 : -1;
                if (sign != last_sign)
                        runs++;
                last_sign = sign;
                swr2 += sample_weight_at(s, x, min_delay, m, ref) * r * r;
        }
        f->runs = runs;
        f->swr2 = swr2;
        f->slw = slw;

        /* With weights w = 1/var, the residual variance of a unit-weight
         * sample is swr2 / (n - 2); the sample spread reported to users is
         * the unweighted-equivalent sqrt(n * that / sw). */
        double unit_var = n > 2 ? swr2 / (n - 2) : 1.0;
        unit_var = MAX(unit_var, 1.0);   /* never claim better than the weights say */
        if (n <= 2)
                unit_var = 1.0;
        f->var_b = sxx > 0 ? unit_var / sxx : SOURCESTATS_UNKNOWN_SKEW * SOURCESTATS_UNKNOWN_SKEW;
        f->var_a_ref = unit_var / sw + mx * mx * (sxx > 0 ? unit_var / sxx : 0);
        f->std_dev = sqrt(unit_var * n / sw);
}

static unsigned count_positive(const SourceStats *s, size_t start, nsec_t ref, double min_delay, const Fit *f) {
        unsigned c = 0;
        int last_sign = 1;
        for (size_t i = start; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                double r = corrected_offset(s, x, min_delay) - (f->a + f->b * nsec_diff(x->time, ref));
                int sign = fabs(r) < RESIDUAL_EPSILON ? last_sign : r >= 0 ? 1 : -1;
                c += sign > 0;
                last_sign = sign;
        }
        return c;
}

/* The log-likelihood of n > 2 samples under the noise model of their fit
 * f (made with that model's weights w_i), the scale of the variances left
 * free (profiled out), and restricted to what the line leaves (REML): the
 * line's two parameters are fitted, so the residuals r_i are smaller than
 * the samples' errors, and by most where the weights rest on a few samples
 * (a line through two heavy samples leaves them no residual at all). The
 * plain likelihood thus favours the models that weigh few samples; the
 * likelihood of the residuals alone, with variances c / w_i, does not:
 *     log L = 1/2 sum(log w_i) - 1/2 log det(X' W X)
 *             - (n - 2)/2 log(sum(w_i r_i^2) / (n - 2)) + const,
 * where det(X' W X) = sw sxx for a line, the likeliest c being
 * sum(w_i r_i^2) / (n - 2); the constant is the same for every model, and
 * scaling all the weights alike changes nothing. On a lossy relay path
 * with normal jitter, the plain likelihood kept the delays at full share
 * through ten samples whose two quickest were far off, and the estimate
 * 220 us off; this one lets them go at the tenth. */
static double model_log_likelihood(const Fit *f, size_t n) {
        double dof = (double) n - 2;

        assert(n > 2);
        if (!(f->sw > 0 && f->sxx > 0))         /* all at one time: no line */
                return -INFINITY;
        return 0.5 * f->slw - 0.5 * log(f->sw * f->sxx) - 0.5 * dof * log(MAX(f->swr2 / dof, 1e-30));
}

/* How much the delays tell, chosen by the samples: each model (the delay
 * term at full share, a quarter, a sixteenth, a sixty-fourth, none) is
 * fitted with its own weights and scored by how likely it makes the
 * samples; another model than full share must win by NOISE_MODEL_PENALTY.
 * Each model is judged by its own fit: scoring them all on the residuals
 * of the delay-weighted fit confirms the delay weights, since that fit
 * passes near its quickest samples whatever their errors, so their
 * residuals look small and the others' large. With queueing-like
 * (exponential) jitter full share wins: the quickest samples are the
 * best. With normal jitter on both legs the delay says nothing about the
 * split and a small share wins, so that a few samples that were quick by
 * chance do not carry the fit; the late packets of such a path keep part
 * of their delay term and weigh less. Fewer than NOISE_MODEL_MIN_SAMPLES
 * samples cannot tell, and keep full share. */
static void fit_model(const SourceStats *s, size_t start, nsec_t ref, Fit *f) {
        static const double shares[] = { 1, 1.0 / 4, 1.0 / 16, 1.0 / 64, 0 };
        double min_delay = min_delay_from(s, start);
        double sigma0 = weight_sigma(s, start, min_delay);
        size_t n = s->n - start;

        /* Until the samples can choose, offsets corrected for jitter on
         * one leg keep little of it: the delay term has no share. (Later
         * the models choose; starting them from none raised the RMS
         * frequency error of 100 us out and 400 back from 0.34 to 0.40
         * ppm.) */
        double share = s->asymmetry != 0 && n < NOISE_MODEL_MIN_SAMPLES ? 0 : shares[0];
        fit_window(s, start, ref, min_delay, &(NoiseModel) { .sigma0 = sigma0, .share = share }, f);
        if (n < NOISE_MODEL_MIN_SAMPLES)
                return;
        double best = model_log_likelihood(f, n);
        for (size_t k = 1; k < ELEMENTSOF(shares); k++) {
                NoiseModel m = { .sigma0 = sigma0, .share = shares[k] };
                Fit candidate;

                fit_window(s, start, ref, min_delay, &m, &candidate);
                double score = model_log_likelihood(&candidate, n) - NOISE_MODEL_PENALTY;
                if (score > best) {
                        best = score;
                        *f = candidate;
                }
        }
}

/* The longest window of newest samples of s that passes the runs test:
 * returns where it starts, and its fit in *f. */
static size_t fit_longest_window(const SourceStats *s, nsec_t ref, Fit *f) {
        size_t start = 0;

        for (;;) {
                fit_model(s, start, ref, f);
                size_t used = s->n - start;
                if (used <= SOURCESTATS_MIN_REGRESSION)
                        return start;
                unsigned pos = count_positive(s, start, ref, f->min_delay, f);
                if (f->runs >= sourcestats_min_runs(pos, used - pos))
                        return start;
                /* Drop a quarter of the window (at least one) and try again. */
                start += MAX(used / 4, (size_t) 1);
                if (s->n - start < SOURCESTATS_MIN_REGRESSION)
                        start = s->n - SOURCESTATS_MIN_REGRESSION;
        }
}

/* Fits clean (s without its gross errors, map as without_gross_errors()
 * gives it), drops the samples of s older than the window chosen, and
 * stores the fit. Returns whether the newest sample of s is in it. */
static bool refit_clean(SourceStats *s, const SourceStats *clean, const size_t map[static SOURCESTATS_MAX_SAMPLES]) {
        nsec_t ref = sample_at(s, s->n - 1)->time;
        bool newest_kept = clean->n > 0 && map[clean->n - 1] == s->n - 1;
        Fit f = {};

        size_t start = fit_longest_window(clean, ref, &f);
        drop_oldest(s, map[start]);

        s->fitted = true;
        s->ref_time = ref;
        s->a = f.a;
        s->b = f.b;
        s->mean_x = f.mean_x;
        s->var_a_ref = f.var_a_ref;
        s->var_b = f.var_b;
        s->std_dev = f.std_dev;
        s->slope_spread = f.sxx > 0 ? sqrt(f.swwxx) / (2 * f.sxx) : INFINITY;
        s->round_trip_spread = f.sxx > 0 ? sqrt(f.swwxxdd) / (2 * f.sxx) : INFINITY;
        s->n_used = clean->n - start;
        s->n_runs = f.runs;
        return newest_kept;
}

static void refit(SourceStats *s) {
        size_t map[SOURCESTATS_MAX_SAMPLES];
        SourceStats clean;

        without_gross_errors(s, &clean, map);
        (void) refit_clean(s, &clean, map);
}

/* Centred sums of the samples whose excess delay is at most cut: times t
 * (from the newest sample), excess delays e and offsets y, each less its
 * mean over those samples. */
typedef struct DelaySums {
        double n, stt, ste, see, sty, sey, syy;
} DelaySums;

static DelaySums delay_sums(const SourceStats *s, double min_delay, double cut) {
        double mt = 0, me = 0, my = 0;
        nsec_t ref = sourcestats_last(s)->time;
        DelaySums d = {};

        for (size_t i = 0; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                if (x->delay - min_delay > cut)
                        continue;
                d.n++;
                mt += nsec_diff(x->time, ref);
                me += x->delay - min_delay;
                my += x->offset;
        }
        mt /= d.n, me /= d.n, my /= d.n;
        for (size_t i = 0; i < s->n; i++) {
                const SourceSample *x = sample_at_const(s, i);
                if (x->delay - min_delay > cut)
                        continue;
                double t = nsec_diff(x->time, ref) - mt, e = x->delay - min_delay - me, y = x->offset - my;
                d.stt += t * t;
                d.ste += t * e;
                d.see += e * e;
                d.sty += t * y;
                d.sey += e * y;
                d.syy += y * y;
        }
        return d;
}

/* The slope of offset against excess delay, from an unweighted least
 * squares fit of offset = a + b t + c (delay - min_delay) over the samples
 * held. A sample whose request was held x longer and whose reply y longer
 * than the quickest round trip measures an offset off by (x - y) / 2 and a
 * delay longer by x + y; with the jitter on one leg only, c is +1/2 or
 * -1/2, with both legs alike 0. Returns NAN when the samples cannot
 * tell, and c's standard error in *ret_se: the residuals' variance
 * (sum of squares over n - 3) times the (c, c) element of the inverse
 * normal matrix, stt / det; INFINITY below ASYMMETRY_CLEAR_SAMPLES. In
 * *ret_scatter: the residuals' variance over the excess delays' (see
 * ASYMMETRY_MAX_SCATTER). */
static double fit_asymmetry(const SourceStats *s, double *ret_se, double *ret_scatter) {
        double min_delay = min_delay_from(s, 0);
        DelaySums d = delay_sums(s, min_delay, excess_quantile(s, min_delay, ASYMMETRY_QUANTILE));

        double det = d.stt * d.see - d.ste * d.ste;
        if (!(det > 0) || d.see <= 0)
                return NAN;
        double b = (d.see * d.sty - d.ste * d.sey) / det, c = (d.stt * d.sey - d.ste * d.sty) / det;
        /* The residual sum of squares of a centred fit: syy - b sty - c sey. */
        double rss = MAX(d.syy - b * d.sty - c * d.sey, 0);
        double var_c = d.n > 3 ? rss / (d.n - 3) * d.stt / det : INFINITY;
        *ret_se = d.n >= ASYMMETRY_CLEAR_SAMPLES ? sqrt(var_c) : INFINITY;
        /* Over the excess delays' variance about the times' line, det / stt / n. */
        *ret_scatter = var_c * d.n;
        return c;
}

/* The residual sum of squares of a line through the offsets of d, each
 * corrected by c times its excess delay. */
static double line_rss(const DelaySums *d, double c) {
        double szz = d->syy - 2 * c * d->sey + c * c * d->see, stz = d->sty - c * d->ste;

        return MAX(szz - stz * stz / d->stt, 0);
}

/* Jitter on one leg only, judged from fewer samples than the slope's own
 * fit needs (see ONE_LEG_LOG_LIKELIHOOD): +1/2 or -1/2 where a line
 * through the offsets corrected by it is that much likelier than one
 * through the offsets as measured, else 0. Two lines of as many
 * parameters, each with its variance profiled out and restricted to its
 * residuals, differ in log-likelihood by (n - 2) / 2 log(rss / rss_c). */
static double one_leg_asymmetry(const SourceStats *s) {
        if (s->n < ONE_LEG_MIN_SAMPLES)
                return 0;
        DelaySums d = delay_sums(s, min_delay_from(s, 0), INFINITY);
        if (!(d.stt > 0))
                return 0;
        double rss = line_rss(&d, 0), needed = exp(ONE_LEG_LOG_LIKELIHOOD * 2 / (d.n - 2));
        for (int sign = -1; sign <= 1; sign += 2)
                if (line_rss(&d, sign * ASYMMETRY_MAX) * needed < rss)
                        return sign * ASYMMETRY_MAX;
        return 0;
}

/* Jitter that falls mostly on one leg biases every delayed sample the same
 * way, and the delay weights only lessen that. Once the samples show the
 * slope steadily (see ASYMMETRY_MIN), each offset is corrected by it to
 * what the quickest round trip would have measured, which takes most of
 * that leg's jitter out of the samples. A change of sign starts over.
 *
 * Symmetric jitter gives a slope near 0, but eight fits in a row share
 * most of their samples: with exponential jitter of 500 us on both legs,
 * 7 draws of 300 (64 samples each) showed a slope of 0.46 or more in
 * eight in a row. Only fits whose slope stands ASYMMETRY_LIKELY_SIGMAS
 * standard errors clear of ASYMMETRY_FLOOR count now. A slope that is
 * clear (ASYMMETRY_CLEAR_SIGMAS) is corrected for at once: with 970 us of
 * exponential jitter on one leg and 30 us on the other, the first eight
 * samples at a 64 s poll can all be held a millisecond or more, and the
 * steady rule waits until the fifteenth, 15 minutes in, while those
 * samples hold the clock a millisecond off. Both rules together took
 * symmetric jitter for asymmetry in 4 draws of the 300.
 *
 * Before eight samples, where the slope is not clear, one_leg_asymmetry()
 * judges, unless the slope's fit (from six samples) makes one-leg jitter
 * impossible: on a path with 100 us of jitter out and 400 us back, the
 * early test took the replies' leg for the whole jitter, and a request
 * held 665 us was then read as a 330 us move of the clock, a swing of
 * 14 ppm. From eight samples on, a correction in force is kept while the
 * fits find it likely: dropped at the eighth sample until the run of
 * fits had grown, the same path swung 3 ppm. */
static void update_asymmetry(SourceStats *s, const SourceStats *clean) {
        double se, scatter = INFINITY;

        if (clean->n < ASYMMETRY_CLEAR_SAMPLES) {
                s->asymmetry = one_leg_asymmetry(clean);
                return;
        }
        double c = fit_asymmetry(clean, &se, &scatter);
        bool possible = fabs(c) >= ASYMMETRY_MIN && fabs(c) <= ASYMMETRY_IMPOSSIBLE &&
                        scatter <= ASYMMETRY_MAX_SCATTER;
        bool likely = possible && fabs(c) - ASYMMETRY_LIKELY_SIGMAS * se >= ASYMMETRY_FLOOR;
        bool clear = possible && fabs(c) - ASYMMETRY_CLEAR_SIGMAS * se >= ASYMMETRY_FLOOR;
        if (clean->n < ASYMMETRY_MIN_SAMPLES) {
                s->asymmetry = clear      ? CLAMP(c, -ASYMMETRY_MAX, ASYMMETRY_MAX) :
                               possible ? one_leg_asymmetry(clean) : 0;
                return;
        }
        if (!(fabs(c) <= ASYMMETRY_IMPOSSIBLE) || c * s->asymmetry_run < 0) {
                s->asymmetry = 0;
                s->asymmetry_run = 0;
                return;
        }
        if (likely && c < 0 && s->asymmetry_run > -ASYMMETRY_MAX_RUN)
                s->asymmetry_run--;
        else if (likely && c > 0 && s->asymmetry_run < ASYMMETRY_MAX_RUN)
                s->asymmetry_run++;
        bool steady = abs(s->asymmetry_run) >= ASYMMETRY_MIN_RUN;
        bool kept = likely && c * s->asymmetry > 0;
        s->asymmetry = steady || clear || kept ? CLAMP(c, -ASYMMETRY_MAX, ASYMMETRY_MAX) : 0;
}

bool sourcestats_add(SourceStats *s, const SourceSample *sample) {
        const SourceSample *last = sourcestats_last(s);

        assert(isfinite(sample->offset) && sample->delay > 0);
        /* A sample from before the newest one by more than a second means
         * the clock went backwards: start over. */
        if (last && sample->time < last->time - NSEC_PER_SEC)
                sourcestats_reset(s);
        if (s->n == SOURCESTATS_MAX_SAMPLES)
                drop_oldest(s, 1);
        *sample_at(s, s->n) = *sample;
        s->n++;

        /* One view without the gross errors serves both; it then takes on
         * the asymmetry just learned, which the fit corrects by. */
        size_t map[SOURCESTATS_MAX_SAMPLES];
        SourceStats clean;
        without_gross_errors(s, &clean, map);
        update_asymmetry(s, &clean);
        clean.asymmetry = s->asymmetry;
        clean.asymmetry_run = s->asymmetry_run;
        return refit_clean(s, &clean, map);
}

/* The window as the wander tests see it: each sample's time (minus its
 * age), its offset, and its noise variance from its delay. */
typedef struct WindowPoints {
        size_t n;
        double t[SOURCESTATS_MAX_SAMPLES], y[SOURCESTATS_MAX_SAMPLES];
        double noise[SOURCESTATS_MAX_SAMPLES];
} WindowPoints;

/* The newest n_used samples without gross errors: the fit's window. */
static void window_points(const SourceStats *s, WindowPoints *p) {
        size_t map[SOURCESTATS_MAX_SAMPLES];
        SourceStats clean;

        without_gross_errors(s, &clean, map);
        size_t start = clean.n - MIN((size_t) s->n_used, clean.n);
        double min_delay = min_delay_from(&clean, start);
        double base = base_sigma(&clean, start, min_delay);
        nsec_t ref = sourcestats_last(&clean)->time;

        p->n = 0;
        for (size_t i = start; i < clean.n; i++, p->n++) {
                const SourceSample *x = sample_at_const(&clean, i);
                double age = MAX(nsec_diff(ref, x->time), 0);
                p->t[p->n] = -age;
                p->y[p->n] = corrected_offset(&clean, x, min_delay);
                p->noise[p->n] = delay_noise_variance(base, x->delay - min_delay);
        }
}

/* Twice the negative log-likelihood of the window's offsets if the clock's
 * frequency were a random walk of wander w and each offset's noise scale
 * times its delay-based variance: the innovations of a two-state Kalman
 * filter (phase, frequency), exact for that model. The first two samples
 * set the state: phase y1 (variance r1) and frequency (y1 - y0) / g. The
 * latter's error is (n1 - n0) / g plus the difference between the gap's
 * mean frequency and its last (variance w^2 g / 3): variance
 * (r0 + r1) / g^2 + w^2 g / 3, covariance r1 / g with the phase's error
 * n1. Each later sample, g after, is
 * predicted with the state moved by F = [1 g; 0 1] and the walk's
 * Q = w^2 [g^3/3 g^2/2; g^2/2 g]; its error e, of variance S, adds
 * e^2 / S + log S. The line's two parameters are free (what the first two
 * samples say is not scored), so only the way the offsets stray from a
 * line can speak for a wander. */
static double points_deviance(const WindowPoints *p, double wander, double scale) {
        double w2 = wander * wander, g = p->t[1] - p->t[0];
        double r0 = scale * p->noise[0], r1 = scale * p->noise[1];
        double x0 = p->y[1], x1 = (p->y[1] - p->y[0]) / g;
        double p00 = r1, p01 = r1 / g, p11 = (r0 + r1) / (g * g) + w2 * g / 3;
        double dev = 0;

        for (size_t i = 2; i < p->n; i++) {
                g = p->t[i] - p->t[i - 1];
                x0 += g * x1;
                p00 += 2 * g * p01 + g * g * p11 + w2 * g * g * g / 3;
                p01 += g * p11 + w2 * g * g / 2;
                p11 += w2 * g;
                double e = p->y[i] - x0, S = p00 + scale * p->noise[i];
                dev += e * e / S + log(S);
                double k0 = p00 / S, k1 = p01 / S;
                x0 += k0 * e;
                x1 += k1 * e;
                p11 -= k1 * p01;
                p01 -= k1 * p00;
                p00 -= k0 * p00;
        }
        return dev;
}

/* The same at the noise scale that suits the samples best: the delays
 * tell the noise's shape, not its size, so only how the spread grows with
 * age can speak for or against a wander. */
static double profile_deviance(const WindowPoints *p, double wander) {
        double best = INFINITY;

        for (int k = -WANDER_SCALE_STEPS; k <= WANDER_SCALE_STEPS; k++)
                best = MIN(best, points_deviance(p, wander, exp10(k * WANDER_SCALE_STEP)));
        return best;
}

/* Each wander's deviance on a grid of WANDER_GRID_STEP decades from top
 * down, and the least of them. */
typedef struct WanderGrid {
        size_t m;
        double wander[WANDER_GRID_MAX], dev[WANDER_GRID_MAX], best;
} WanderGrid;

/* The window as the wander tests see it, the least noise variance in it,
 * and the grid of deviances from the wander estimate down, computed once
 * for both tests where they ask for it (m == 0: not yet). */
typedef struct WanderWindow {
        WindowPoints p;
        double noise_min;
        WanderGrid grid;
} WanderWindow;

/* Fills *w; false where the window cannot be judged (too few samples, or
 * two at one time). */
static bool wander_window(const SourceStats *s, WanderWindow *w) {
        WindowPoints *p = &w->p;

        if (!s->fitted || s->n_used < WANDER_QUIET_MIN_SAMPLES)
                return false;
        window_points(s, p);
        if (p->n < WANDER_QUIET_MIN_SAMPLES)
                return false;
        w->noise_min = INFINITY;
        w->grid.m = 0;
        for (size_t i = 0; i < p->n; i++) {
                if (i > 0 && !(p->t[i] > p->t[i - 1]))
                        return false;
                w->noise_min = MIN(w->noise_min, p->noise[i]);
        }
        return true;
}

/* The largest wander of the grid within WANDER_ACCEPT of the best. */
static double grid_upper(const WanderGrid *g) {
        size_t upper = 0;

        while (g->dev[upper] - g->best > WANDER_ACCEPT)
                upper++;
        return g->wander[upper];
}

/* The root of the mean w^2 over the grid, each wander weighed by its
 * likelihood relative to the best, exp(-(dev - best) / 2). */
static double grid_mean_wander(const WanderGrid *g) {
        double sum_l = 0, sum_lw2 = 0;

        for (size_t k = 0; k < g->m; k++) {
                double l = exp(-(g->dev[k] - g->best) / 2);
                sum_l += l;
                sum_lw2 += l * g->wander[k] * g->wander[k];
        }
        return sqrt(sum_lw2 / sum_l);
}

static void wander_grid(const WindowPoints *p, double top, WanderGrid *g) {
        g->m = 0;
        g->best = INFINITY;
        for (double w = top; g->m < WANDER_GRID_MAX;
             w *= exp10(-WANDER_GRID_STEP), g->m++) {
                g->wander[g->m] = w;
                g->dev[g->m] = profile_deviance(p, w);
                g->best = MIN(g->best, g->dev[g->m]);
        }
}

/* Whether the window rules the wander estimate out by more than margin
 * units of deviance, with the grid in w->grid. Only where the estimate
 * adds more phase than the least noise variance over the age of the
 * oldest sample (or, with over_gap, over the window's mean gap) can the
 * window tell. */
static bool window_rules_out_wander(const SourceStats *s, WanderWindow *w, bool over_gap, double margin) {
        const WindowPoints *p = &w->p;
        double span = over_gap ? (p->t[p->n - 1] - p->t[0]) / (double) (p->n - 1) : -p->t[0];

        if (s->wander * s->wander * span * span * span / 3 < w->noise_min)
                return false;
        if (w->grid.m == 0)
                wander_grid(p, s->wander, &w->grid);
        return w->grid.dev[0] - w->grid.best > margin;
}

/* A wander far above the true one weighs the old samples down for
 * nothing, and the prediction errors (adapt_wander() in source.c) can
 * hardly say so: each speaks for one gap, and the wander's share in it
 * shrinks with the estimate, while the fit weighs a sample of age a by
 * w^2 a^3 / 3, which grows with the age cubed. Polled every 2^14 s with
 * 1 us of jitter and no wander, the ten samples of a run stayed weighed
 * by the prior 2e-9 (2.4 ms of phase per gap) and the clock followed the
 * newest two of them: 0.70 us RMS, where a fit that weighs them alike
 * gives 0.49.
 *
 * The window speaks for every gap at once. On a grid of WANDER_GRID_STEP
 * decades below the estimate, each wander's deviance is taken at the
 * noise scale that suits it best (points_deviance(), profile_deviance()).
 * The estimate falls only when the window shows a quiet clock:
 *   - the estimate's deviance exceeds the best by WANDER_REJECT, and
 *   - even the largest wander within WANDER_ACCEPT of the best is a
 *     WANDER_QUIET-th of the prior or less.
 * It then falls to the wander of least deviance, which for a clock that
 * does not wander at all is the floor: the upper bound alone stays where
 * the oldest samples still count for little, as ten samples cannot show
 * that a wander is nil. A clock that does wander, at chrony's 1e-9,
 * showed a deviance of 10.8 against the estimate now and then (17 samples
 * polled every 1024 s), with an upper bound of 1.6e-10; falling to its
 * least (0) cost 40 us RMS. With 1 us of jitter a walk of 1e-9 polled
 * every 2^10 s showed upper bounds down to 8e-11 (a twenty-fifth of the
 * prior) in twenty draws, none below a fortieth in 300. A quiet clock's
 * is far lower: polled every 2^14 s with 1 us of jitter, its third sample
 * rules the prior out, and the wander falls by 500 times or more. The
 * cost of the margin is that at polls of 2^7 to 2^9 s ten samples seldom
 * show it. Where the wander adds less than the least noise to even the
 * oldest sample, nothing is computed.
 * Returns the estimate unchanged unless it is to fall. */
static double quiet_wander_in(const SourceStats *s, WanderWindow *w) {
        double current = s->wander;
        const WanderGrid *g = &w->grid;

        /* Where the wander adds little to even the oldest sample's
         * variance, the window cannot tell. */
        if (!window_rules_out_wander(s, w, false, WANDER_REJECT))
                return current;
        /* dev[0] > best, so the least lies below the estimate, and so
         * does every wander within WANDER_ACCEPT of it. */
        size_t ml = 0;
        while (g->dev[ml] > g->best)
                ml++;
        if (grid_upper(g) * WANDER_QUIET > SOURCESTATS_WANDER)
                return current;
        return g->wander[ml];
}

/* Between the quiet test's evidence and none, the window can still speak
 * for the wander: polled every 2^7 to 2^9 s with 1 us of jitter and no
 * wander, the prior 2e-9 adds 1.7 to 13 us of phase over each gap (w^2
 * g^3 / 3), and weighs a sample four polls old down by hundreds of times,
 * so that the clock follows the newest two or three samples: 0.59 to
 * 0.64 us RMS over 100 seeds, where a fit that weighs them alike gives
 * 0.45. Ten samples rarely rule the prior out by WANDER_REJECT there.
 * Where they rule it out by WANDER_ACCEPT, the fit's weights use the
 * wander the window supports in place of the estimate (wander_cap), for
 * this window only: the estimate itself still moves only by the
 * predictions and the quiet test, so that a window that looked quiet by
 * chance does not ratchet it down.
 *
 * What the weights need is the phase variance a wander adds, w^2 a^3 / 3,
 * linear in w^2, so the wander they take is the root of the mean w^2 over
 * the grid, each wander weighed by its likelihood exp(-deviance / 2)
 * (grid_mean_wander(); the grid's WANDER_GRID_MAX wanders, evenly spaced
 * in log over ten decades below the estimate, stand for a prior even in
 * the wander's logarithm). The largest wander within WANDER_ACCEPT of the
 * best, an upper bound at about two standard errors that the weights took
 * before, still weighed the oldest of ten samples 2^8 s apart down by ten
 * times their noise. Over 100 seeds (median RMS): `fixed-poll-7` 0.510 ->
 * 0.499 us, `-8` 0.510 -> 0.468, `-9` 0.496 -> 0.441, `-10` 0.464 ->
 * 0.444, `-13` 0.489 -> 0.476; a clock that does wander, at 1e-9 and
 * polled every 2^10 s (`fixed-poll-wander-1e9`), pays 2 % (mean 76.8 ->
 * 78.6 us), `wander-1e7` and `intermittent-long` less than 1 %. With
 * the grid stopped at SOURCESTATS_MIN_WANDER (six decades below the
 * prior), the mean leaned on the upper wanders: `-9` 0.470, `-13` 0.489.
 * Without the WANDER_ACCEPT condition (the mean taken wherever the window
 * can tell), `-7` went to 0.435 us, but a wrong drift file
 * (`drift-wrong-*`) left one seed of 40 outside its limits and
 * `fixed-poll-wander-1e9` rose by 4.5 %.
 *
 * Only where the estimate adds more phase over the window's mean gap than
 * the least noise variance does the window speak for the wander clearly
 * enough. Without that condition, the bound took effect on chrony's
 * defaults (100 us of jitter, wander 1e-9), falling below the true wander
 * now and then: the median RMS of the 40-seed table rose by 0.9 %
 * (`falsetickers` by 12 %). */
static double window_wander_in(const SourceStats *s, WanderWindow *w) {
        if (!window_rules_out_wander(s, w, true, WANDER_ACCEPT))
                return INFINITY;
        return grid_mean_wander(&w->grid);
}

double sourcestats_quiet_wander(const SourceStats *s) {
        WanderWindow w;

        return wander_window(s, &w) ? quiet_wander_in(s, &w) : s->wander;
}

double sourcestats_window_wander(const SourceStats *s) {
        WanderWindow w;

        return wander_window(s, &w) ? window_wander_in(s, &w) : INFINITY;
}

/* Both from one look at the window, which is taken again only where the
 * estimate fell (its refit can change the window). */
void sourcestats_settle_wander(SourceStats *s) {
        WanderWindow w;

        if (!wander_window(s, &w)) {
                sourcestats_set_wander_cap(s, INFINITY);
                return;
        }
        double quiet = quiet_wander_in(s, &w);
        if (quiet < s->wander) {
                sourcestats_set_wander(s, quiet);
                sourcestats_set_wander_cap(s, sourcestats_window_wander(s));
                return;
        }
        sourcestats_set_wander_cap(s, window_wander_in(s, &w));
}

void sourcestats_set_wander_cap(SourceStats *s, double cap) {
        if (cap == s->wander_cap)
                return;
        s->wander_cap = cap;
        if (s->n > 0)
                refit(s);
}

void sourcestats_set_wander(SourceStats *s, double wander) {
        s->wander = CLAMP(wander, SOURCESTATS_MIN_WANDER, SOURCESTATS_MAX_WANDER);
        if (s->n > 0)
                refit(s);
}

void sourcestats_apply_clock_change(SourceStats *s, nsec_t when, double dfreq, double doffset) {
        /* Re-express each sample as if the clock had always run at the new
         * rate and had always been doffset ahead: for a sample at t_i before
         * `when`, offset_i' = offset_i + (when - t_i) * dfreq - doffset.
         * Its round trip, timed by our clock, would have read (1 + dfreq)
         * times as long: at the first update of a clock 5 % off, that
         * is 10 us of a 200 us round trip, which would otherwise count as
         * queueing. (The offset, taken at the round trip's midpoint, is
         * the same at any rate.) */
        for (size_t i = 0; i < s->n; i++) {
                SourceSample *x = sample_at(s, i);
                x->offset += nsec_diff(when, x->time) * dfreq - doffset;
                x->time += seconds_to_nsec(doffset);
                x->delay *= 1 + dfreq;
        }
        /* The last fit, against which gross errors are judged, the same. */
        s->a += nsec_diff(when, s->ref_time) * dfreq - doffset;
        s->b -= dfreq;
        s->ref_time += seconds_to_nsec(doffset);
        if (s->n > 0)
                refit(s);
}

static double root_dispersion_of(const SourceStats *s, const SourceSample *last, double age) {
        /* RFC 5905 section 10: the dispersion to the reference grows with
         * the server's own, our measurement's, the jitter and PHI * age. */
        return last->root_dispersion + last->dispersion + s->std_dev + NTP_PHI * MAX(age, 0);
}

/* With only two samples the fit has no residuals to judge its noise by;
 * each offset is then known to within half its round trip (the reply can
 * have spent anything from none to all of it on one leg), which bounds the
 * slope's error by sqrt((d1/2)^2 + (d2/2)^2) / (t2 - t1). */
static double two_point_skew(const SourceStats *s) {
        if (s->n_used != 2)
                return SOURCESTATS_UNKNOWN_SKEW;
        const SourceSample *x = sample_at_const(s, 0), *y = sample_at_const(s, 1);
        double span = nsec_diff(y->time, x->time);
        if (span <= 0)
                return SOURCESTATS_UNKNOWN_SKEW;
        return MIN(hypot(x->delay, y->delay) / 2 / span, SOURCESTATS_UNKNOWN_SKEW);
}

/* The longest round trip held less the shortest, with a floor. */
static double delay_range(const SourceStats *s, double min_delay) {
        double max = min_delay;

        for (size_t i = 0; i < s->n; i++)
                max = MAX(max, sample_at_const(s, i)->delay);
        return MAX(max - min_delay, MIN_EXCESS);
}

/* However well a few samples seem to agree, each offset is known only to
 * within half the part of its round trip that can differ between them.
 * Errors e_i of up to +/- d/2 move the slope of a weighted fit by
 * sum(w_i (t_i - mean) e_i) / sxx, and taken as independent with a spread
 * like that bound's (sd d / (2 sqrt 3), then times sqrt 3), by
 *     d sqrt(sum(w_i^2 (t_i - mean)^2)) / (2 sxx)
 * (slope_spread, kept with the fit): for n samples weighed alike over a
 * span T, d / T sqrt(3 / n), which averaging brings down as 1 / sqrt(n);
 * where the weights rest on a few quick samples, it is what those few
 * allow (two of them 2 s apart: two_point_skew()'s bound). The floor is
 * the larger of the two, so that weights that lean on the newest samples
 * (the wander term) do not lower it either. This keeps the
 * skew honest: on a jittery path, samples a second or two apart agree by
 * chance more often than their delays would let them. Taken over the
 * whole span instead, three burst samples 2 s apart of which the third
 * was slow claimed 90 ppm where the two that carried the fit allowed 127,
 * and a first frequency 165 ppm off passed the 100 ppm an update may have
 * (seed 104 of 200 of jittery-path-200us).
 *
 * Until the samples are many, d is the whole round trip, and each
 * sample's own: with d_i for d in the sum above (round_trip_spread), a
 * fit that rests on a quick sample and a slower one is bounded by both.
 * Three burst samples with round trips of 235, 439 and 1833 us, the fit
 * resting on the first two, claimed 88 ppm with the quickest round trip
 * taken for all, where the two allowed 124, and a first frequency 125 ppm
 * off was acted on (seed 212 of 250 of jittery-path-200us). From
 * SKEW_FLOOR_SAMPLES on, the delays' spread is known, and d is at most
 * SKEW_FLOOR_EXCESS median excess delays: the constant part of the round
 * trip, however it is split between the legs, moves every offset alike
 * and so leaves the slope alone.
 *
 * Before that, from STEADY_PATH_SAMPLES on, d is at most
 * STEADY_PATH_RANGES times the spread of the round trips seen so far: an
 * asymmetry cannot change by more than the round trip does, unless one leg
 * gains exactly what the other loses. This is what lets a path much
 * longer than its jitter be used: the whole 10 ms to a server 5 ms away
 * held the skew above the 100 ppm a frequency update needs until the
 * sixth poll, the whole 100 ms to one on another continent until the
 * eighth, and a clock 100 ppm off stayed milliseconds off all that while.
 * On a path whose round trips vary by a quarter of their length or more
 * nothing changes. Three samples are too few: three round trips on a
 * jittery path can agree by chance, and a frequency from them can be tens
 * of ppm off. */
static double skew_floor(const SourceStats *s, double min_delay, double span) {
        double d = min_delay;

        if (s->n_used >= SKEW_FLOOR_SAMPLES)
                d = MIN(d, SKEW_FLOOR_EXCESS * median_excess(s, 0, min_delay));
        else if (s->n_used >= STEADY_PATH_SAMPLES)
                d = MIN(d, STEADY_PATH_RANGES * delay_range(s, min_delay));
        else
                return MAX(d * sqrt(3.0 / s->n_used) / span, s->round_trip_spread);
        return d * MAX(sqrt(3.0 / s->n_used) / span, s->slope_spread);
}

/* The standard error of the fit's frequency, no less than its floor. */
static double fit_skew(const SourceStats *s) {
        const SourceSample *last = sourcestats_last(s);
        double skew = s->n_used >= SOURCESTATS_MIN_REGRESSION ? sqrt(s->var_b) : two_point_skew(s);
        double span = nsec_diff(last->time, sample_at_const(s, 0)->time);

        if (span > 0 && s->n_used >= SOURCESTATS_MIN_REGRESSION)
                skew = MAX(skew, skew_floor(s, min_delay_from(s, 0), span));
        return skew;
}

bool sourcestats_estimate(const SourceStats *s, nsec_t now, SourceEstimate *ret) {
        const SourceSample *last = sourcestats_last(s);

        if (!last || !s->fitted)
                return false;

        double x = nsec_diff(now, s->ref_time);
        double dx = x - s->mean_x;
        double offset = s->a + s->b * x;
        /* var(a + b x) = var(a at mean) + (x - mean)^2 var(b), and
         * var(a at mean) = var_a_ref - mean^2 var(b). */
        double var_mean = MAX(s->var_a_ref - s->mean_x * s->mean_x * s->var_b, 0);
        double var = var_mean + dx * dx * s->var_b;
        double min_delay = min_delay_from(s, 0);
        double skew = fit_skew(s);
        double span = nsec_diff(last->time, sample_at_const(s, 0)->time);

        /* The weights are inverse variances in seconds^2, so the fit's
         * variances are already absolute. */
        double offset_sd = sqrt(var);
        if (s->n_used < SOURCESTATS_MIN_REGRESSION)
                offset_sd = MAX(offset_sd, min_delay / 2);

        *ret = (SourceEstimate) {
                .time = now,
                .offset = offset,
                .offset_sd = offset_sd,
                .bounded_sd = hypot(offset_sd, MAX(fabs(dx) - span, 0) * skew),
                .frequency = s->n_used >= 2 ? s->b : 0,
                .skew = skew,
                .std_dev = s->std_dev,
                .min_delay = min_delay,
                .root_delay = last->root_delay + min_delay,
                .root_dispersion = root_dispersion_of(s, last, nsec_diff(now, last->time)) +
                                   fabs(x) * skew,
                .last_offset = last->offset,
                .last_time = last->time,
                .n_samples = s->n_used,
                .n_runs = s->n_runs,
                .span = span,
        };
        return true;
}
