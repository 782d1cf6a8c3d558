/* Clock discipline: turns combined estimates of our clock's offset and
 * frequency error into adjustments of a Clock backend.
 *
 * Frequency and phase are controlled independently:
 *  - frequency: the base frequency correction is moved by the measured
 *    residual frequency, weighted by how sure the old and new estimates are;
 *  - phase: an offset is either stepped (MakeStep) or slewed, by running the
 *    clock faster or slower for a while on top of the base frequency.
 *
 * While a slew is in progress the clock's reading ("raw") lags the time we
 * already consider correct ("cooked" = raw + remaining correction). All
 * measurements use cooked time, so they never see a half-finished slew.
 * Every change of the cooked timescale (base frequency moved, offset taken
 * into the correction, or a step) is reported through a ClockChangeHandler,
 * so that source statistics can be re-expressed in it. */
#pragma once

#include <stdbool.h>

#include "clock/clock.h"
#include "shared/time-util.h"

/* The base correction may use the clock's whole range (a clock 5 % off
 * needs 50,000 ppm); the backend's max_frequency_ppm bounds it and the
 * slew on top of it together. */
#define DISCIPLINE_MAX_FREQUENCY_PPM 100000.0
#define DISCIPLINE_MAX_SLEW_PPM 83333.0
#define DISCIPLINE_UNKNOWN_SKEW_PPM 2000.0
/* A frequency measurement less certain than this (its standard error,
 * ppm) is not acted on: a line through two samples two seconds apart over
 * a jittery path can be hundreds of ppm off. The phase is still corrected. */
#define DISCIPLINE_MAX_UPDATE_SKEW_PPM 100.0
/* An external step smaller than this (seconds) is not told apart from the
 * noise of reading two clocks. */
#define DISCIPLINE_STEP_DETECT 1e-3

typedef struct DisciplineParams {
        double makestep_threshold;      /* seconds; offsets beyond it are stepped */
        int makestep_limit;             /* first N updates may step; < 0: any; 0: never */
        double correction_ratio;        /* slew duration / poll interval (default 1.5) */
        double max_slew_ppm;
        double initial_frequency_ppm;   /* from the drift file */
        double initial_skew_ppm;        /* DISCIPLINE_UNKNOWN_SKEW_PPM: none */
        bool use_initial_frequency;     /* else start from the clock's own */
} DisciplineParams;

void discipline_params_init(DisciplineParams *p);

/* when: cooked time of the change; dfreq: s/s added to the clock's rate;
 * doffset: seconds the cooked reading jumped forward. */
typedef void (*ClockChangeHandler)(nsec_t when, double dfreq, double doffset, void *userdata);

/* The estimate handed to discipline_update(). */
typedef struct DisciplineInput {
        double offset;          /* true - cooked, seconds, at the update time */
        double frequency;       /* residual frequency, s/s (positive: we are slow) */
        double skew;            /* its standard error, s/s */
        double offset_sd;       /* standard error of offset, seconds; 0: unknown */
        double interval;        /* the sources' poll interval, seconds: the time
                                 * base of phase corrections; 0: the time since
                                 * the last update */
} DisciplineInput;

typedef struct DisciplineUpdate {
        bool stepped;
        double offset;          /* the offset acted on */
        double frequency_change_ppm;
} DisciplineUpdate;

typedef struct Discipline {
        Clock *clock;
        DisciplineParams params;
        ClockChangeHandler on_change;
        void *userdata;

        /* Base correction, ppm; positive: clock sped up. The clock runs at
         * (1 + own error) * (1 + frequency_ppm 1e-6): corrections compose
         * by multiplication, as they do in the kernel. */
        double frequency_ppm;
        double skew_ppm;
        bool frequency_known;

        /* Slew in progress: remaining(raw) = slew_amount - slew_rate / (1 + slew_rate) * (raw - slew_start). */
        bool slewing;
        nsec_t slew_start;
        double slew_amount;
        double slew_rate;       /* s/s */
        nsec_t slew_end;

        unsigned n_updates;
        nsec_t last_update;     /* cooked */
        double update_interval;
        double last_offset;
        double rms_offset;
        double offset_sd;       /* of the last update's offset; 0: unknown */
        double correction_interval;     /* time base of the last update's slew */
        unsigned n_steps;
        /* The wall offset (clock_read_wall_offset) after the last step we
         * know of: a change means someone else stepped the clock. */
        bool wall_known;
        double wall_offset;
        unsigned n_external_steps;
} Discipline;

int discipline_init(Discipline *d, Clock *clock, const DisciplineParams *p,
                    ClockChangeHandler on_change, void *userdata);

/* Reads the clock and returns cooked time. */
int discipline_now(Discipline *d, nsec_t *ret);
/* Cooked time of a raw reading (e.g. a kernel timestamp converted with
 * clock_from_system()). */
nsec_t discipline_cook(const Discipline *d, nsec_t raw);
/* Remaining correction at a raw time: positive means the clock still has to
 * move forward (it is behind). */
double discipline_remaining(const Discipline *d, nsec_t raw);

/* Applies a combined estimate measured at cooked time `now`. */
int discipline_update(Discipline *d, const DisciplineInput *in, DisciplineUpdate *ret);

/* Steps away the remaining slew (and an extra offset) at once: the D-Bus
 * MakeStep() call. */
int discipline_step_now(Discipline *d, double extra_offset);

/* A leap second: moves cooked time by offset seconds (-1 for an inserted
 * second) and slews the clock after it at the maximum rate. The reference
 * moved by the same amount, so no ClockChangeHandler is called. */
int discipline_leap(Discipline *d, double offset);

/* Checks whether someone else stepped the clock since the last check (a
 * jump of CLOCK_REALTIME against CLOCK_MONOTONIC). Returns the step in
 * seconds, 0 for none. The slew in progress and the time of the last
 * update move with the clock, so the discipline's state stays valid; what
 * was measured before the step is for the caller to drop. */
double discipline_check_step(Discipline *d);
/* Whether the next update would step an offset this large (MakeStep). */
bool discipline_would_step(const Discipline *d, double offset);
/* Changes MakeStep settings at run time. */
void discipline_set_makestep(Discipline *d, double threshold, int limit);

/* Raw time at which discipline_on_timer() should run next, or INT64_MAX. */
nsec_t discipline_next_timer(const Discipline *d);
/* Seconds of real time from raw time `raw` until that timer, or < 0 for
 * none: what the daemon arms its monotonic timer with. */
double discipline_timer_delay(const Discipline *d, nsec_t raw);
/* Ends (or re-aims) a slew whose time is up. */
int discipline_on_timer(Discipline *d);
