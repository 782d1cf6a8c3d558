/* Per-source sample statistics: the last measurements of one NTP source and
 * a weighted linear regression of their offsets against local time, which
 * gives the source's offset now, the rate at which it drifts from our clock
 * (residual frequency), and how sure we are of both.
 *
 * Samples are kept in the timescale of the disciplined clock as it is now:
 * whenever the clock's frequency or phase is changed, every stored sample is
 * corrected as if the change had always been in force
 * (sourcestats_apply_clock_change), so the regression always describes the
 * source relative to the clock as it runs now. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/time-util.h"

/* Samples kept: enough to average the network's noise, few enough that the
 * line need not span much of the clock's wander. */
#define SOURCESTATS_MAX_SAMPLES 64
#define SOURCESTATS_MIN_REGRESSION 3
/* Frequency wander assumed for the local clock until the samples show
 * otherwise (s/s per sqrt(s)): a good crystal oscillator's random walk of
 * frequency. The estimate stays within SOURCESTATS_MIN_WANDER (a clock so
 * steady that a day's samples weigh alike) .. SOURCESTATS_MAX_WANDER. */
#define SOURCESTATS_WANDER 2e-9
#define SOURCESTATS_MIN_WANDER 1e-14
#define SOURCESTATS_MAX_WANDER 1e-7
/* Frequency uncertainty assumed before the regression can tell (s/s). */
#define SOURCESTATS_UNKNOWN_SKEW 2000e-6

typedef struct SourceSample {
        nsec_t time;            /* local (disciplined) time the offset applies to */
        double offset;          /* server - local, seconds */
        double delay;           /* round-trip delay, seconds */
        double dispersion;      /* peer dispersion of the measurement, seconds */
        double root_delay;      /* server's root delay, seconds */
        double root_dispersion; /* server's root dispersion, seconds */
} SourceSample;

/* What the regression says about a source at a given time. */
typedef struct SourceEstimate {
        nsec_t time;            /* the time the estimate is for */
        double offset;          /* estimated offset at time, seconds */
        double offset_sd;       /* its standard deviation, seconds */
        double bounded_sd;      /* the same, but beyond the samples' span the
                                 * frequency's error is taken at its skew, the
                                 * bound the round trips set (fit_skew()) */
        double frequency;       /* rate of change of the offset, s/s; positive:
                                 * our clock runs slow against the source */
        double skew;            /* standard error of frequency, s/s */
        double std_dev;         /* spread of samples around the fit, seconds */
        double min_delay;       /* smallest delay in the window, seconds */
        double root_delay;      /* source root delay + our delay to it */
        double root_dispersion; /* accumulated dispersion to the reference */
        double last_offset;     /* offset of the newest sample, as measured */
        nsec_t last_time;       /* time of the newest sample */
        unsigned n_samples;     /* samples in the regression */
        unsigned n_runs;        /* runs of residual signs */
        double span;            /* newest - oldest sample time, seconds */
} SourceEstimate;

typedef struct SourceStats {
        SourceSample samples[SOURCESTATS_MAX_SAMPLES];
        size_t first;           /* index of the oldest sample in the ring */
        size_t n;               /* samples stored */
        /* Result of the last regression, in the newest sample's terms. */
        bool fitted;
        nsec_t ref_time;        /* regression reference time (newest sample) */
        double a, b;            /* offset(t) = a + b * (t - ref_time) */
        double var_a_ref;       /* variance of a at ref_time */
        double mean_x;          /* weighted mean of (t - ref_time), seconds */
        double var_b;           /* variance of b */
        double std_dev;
        /* How the fit's weights carry a bound common to the samples'
         * errors into its slope, 1/s, and the samples' own round trips,
         * s/s (see skew_floor()). */
        double slope_spread;
        double round_trip_spread;
        unsigned n_used, n_runs;
        /* The clock's wander as seen through this source (s/s per
         * sqrt(s)): it weighs old samples down (see sourcestats.c). */
        double wander;
        /* The wander the window supports, for the weights only, at most
         * the estimate (INFINITY: none; see sourcestats_window_wander()). */
        double wander_cap;
        /* Slope of offset against excess delay taken off each sample
         * (0: none), and how many fits in a row showed it (signed). */
        double asymmetry;
        int asymmetry_run;
} SourceStats;

void sourcestats_init(SourceStats *s);
void sourcestats_reset(SourceStats *s);

/* Adds a sample (times must not go backwards by more than a second; older
 * samples are discarded otherwise) and refits. Returns false when the fit
 * leaves the sample out as a gross error: a jump of the server's clock
 * that has not lasted long enough to be followed (see sourcestats.c). */
bool sourcestats_add(SourceStats *s, const SourceSample *sample);

/* Corrects stored samples for a change of the disciplined clock made at time
 * `when`: its frequency was raised by dfreq (s/s, positive = runs faster) and
 * its reading jumped forward by doffset seconds. */
void sourcestats_apply_clock_change(SourceStats *s, nsec_t when, double dfreq, double doffset);

/* Fills *ret with the estimate at time `now`. Returns false when there are
 * no samples. */
bool sourcestats_estimate(const SourceStats *s, nsec_t now, SourceEstimate *ret);

/* The standard deviation of a sample's offset to expect from its delay
 * alone (the measurement noise, without the clock's wander), judged
 * against the samples held. */
double sourcestats_sample_noise(const SourceStats *s, const SourceSample *x);

/* The same for a sample of median delay: the window's typical noise. */
double sourcestats_typical_noise(const SourceStats *s);

/* A lower wander estimate where the window shows a clock far quieter than
 * the prior (see sourcestats.c); else the estimate itself. */
double sourcestats_quiet_wander(const SourceStats *s);

/* Sets the wander estimate (clamped to SOURCESTATS_MIN_WANDER ..
 * SOURCESTATS_MAX_WANDER) and refits. */
void sourcestats_set_wander(SourceStats *s, double wander);

/* The wander the window supports where it rules the estimate out (the
 * root of the mean w^2 over the wanders below the estimate, each weighed
 * by its likelihood), or INFINITY (see sourcestats.c). */
double sourcestats_window_wander(const SourceStats *s);

/* Bounds the wander the fit's weights use (INFINITY: none), and refits
 * if that changed. */
void sourcestats_set_wander_cap(SourceStats *s, double cap);

/* Lowers the wander estimate where the window shows a quiet clock
 * (sourcestats_quiet_wander()), and sets the weights' cap to what the
 * window then supports (sourcestats_window_wander()). */
void sourcestats_settle_wander(SourceStats *s);

/* The newest sample, or NULL. */
const SourceSample *sourcestats_last(const SourceStats *s);
size_t sourcestats_count(const SourceStats *s);

/* Lowest number of runs of residual signs that n residuals (n_pos positive)
 * may show before the fit is judged not to be a straight line (one-sided
 * Wald-Wolfowitz runs test, about 5%). Exposed for tests. */
double sourcestats_min_runs(unsigned n_pos, unsigned n_neg);
