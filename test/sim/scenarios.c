/* The scenarios of the 'sim' test suite, and the limits each must meet.
 *
 * "defaults" is the scenario of chrony's own simulation tests (initial
 * offset 0.1 s, frequency error 100 ppm, one-way delay 100 us plus
 * exponential jitter of mean 100 us each way, wander 1e-9, default
 * polling, 10,000 s, errors from 210 s on) with limits that beat chrony's
 * figures there. Every other scenario changes one thing; its limits follow
 * from what it changes (a tenfold jitter allows tenfold errors, a known
 * frequency allows a sync from the first sample, ...), never from what the
 * code happened to reach. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "scenarios.h"

/* 2016-12-31 18:00 UTC, six hours before the last inserted leap second,
 * and 2030-06-30 18:00 UTC for a (so far hypothetical) deleted one. */
#define INSERT_DAY_START (INT64_C(1483207200) * NSEC_PER_SEC)
#define INSERT_MIDNIGHT (INT64_C(1483228800) * NSEC_PER_SEC)
#define DELETE_DAY_START (INT64_C(1909072800) * NSEC_PER_SEC)
#define DELETE_MIDNIGHT (INT64_C(1909094400) * NSEC_PER_SEC)
#define LEAP_RUN_AFTER 7200.0
#define TZFILE "/usr/share/zoneinfo/right/UTC"

#define DEFAULT_LIMITS { .sync_time = 130, .max_error = 150e-6, .rms_error = 50e-6, \
                         .rms_freq_error = 0.15, .poll_grows = true }

static void copy_server(SimParams *p, size_t n) {
        for (size_t i = 1; i < n; i++)
                p->servers[i] = p->servers[0];
        p->n_servers = n;
}

static void setup_defaults(SimParams *p) {
        sim_params_defaults(p);
}

static void setup_iburst(SimParams *p) {
        sim_params_defaults(p);
        p->name = "iburst";
        p->servers[0].options = "iburst";
}

static void setup_freq_plus(SimParams *p) {
        sim_params_defaults(p);
        p->clock.frequency_ppm = 500;
}

static void setup_freq_minus(SimParams *p) {
        sim_params_defaults(p);
        p->clock.frequency_ppm = -500;
}

static void setup_offset_step(SimParams *p) {
        sim_params_defaults(p);
        p->clock.initial_offset = -3 * 3600.0;
        p->engine.discipline.makestep_threshold = 1.0;
        p->engine.discipline.makestep_limit = 3;
}

static void setup_offset_slew(SimParams *p) {
        /* One hour at the 83333 ppm slew limit takes 43,200 s. */
        sim_params_defaults(p);
        p->clock.initial_offset = 3600.0;
        p->duration = 60000;
        p->measure_from = 45000;
}

static void setup_jitter(SimParams *p) {
        sim_params_defaults(p);
        p->servers[0].net.jitter_exp = 1e-3;
}

static void setup_wander(SimParams *p) {
        sim_params_defaults(p);
        p->clock.wander = 1e-8;
}

static void setup_asymmetric(SimParams *p) {
        sim_params_defaults(p);
        p->servers[0].net.jitter_exp = 100e-6;
        p->servers[0].net.jitter_exp_reply = 400e-6;
}

static void setup_loss(SimParams *p) {
        sim_params_defaults(p);
        p->servers[0].net.loss = 0.3;
}

static void setup_intermittent(SimParams *p) {
        /* Dark for the last 2,000 s of every 5,000 s. */
        sim_params_defaults(p);
        p->servers[0].net.outage_period = 5000;
        p->servers[0].net.outage_length = 2000;
        p->duration = 20000;
}

static void setup_falsetickers(SimParams *p) {
        sim_params_defaults(p);
        copy_server(p, 5);
        /* One lies by a constant 0.3 s, one drifts from 0.1 s to 1 s. */
        p->servers[3].offset = 0.3;
        p->servers[4].offset = 0.1;
        p->servers[4].drift = 0.9 / 10000;
}

static const char *check_falsetickers(const SimParams *p, const SimResult *r) {
        if (r->states[3] != SELECT_FALSETICKER || r->states[4] != SELECT_FALSETICKER)
                return "the lying servers were not marked falsetickers";
        for (size_t i = 0; i < 3; i++)
                if (r->states[i] == SELECT_FALSETICKER || r->states[i] == SELECT_UNUSABLE)
                        return "an honest server was rejected";
        return NULL;
}

static void setup_minsources_unmet(SimParams *p) {
        sim_params_defaults(p);
        copy_server(p, 2);
        p->engine.select.min_sources = 3;
}

static const char *check_never_synced(const SimParams *p, const SimResult *r) {
        if (r->synchronized || isfinite(r->sync_time))
                return "synchronised with fewer sources than MinSources";
        for (size_t i = 0; i < p->n_servers; i++)
                if (r->states[i] == SELECT_SELECTED)
                        return "a source was selected with fewer sources than MinSources";
        return NULL;
}

static void setup_minsources_met(SimParams *p) {
        sim_params_defaults(p);
        copy_server(p, 3);
        p->engine.select.min_sources = 3;
}

static const char *check_synced(const SimParams *p, const SimResult *r) {
        return r->synchronized ? NULL : "not synchronised at the end";
}

static void setup_prefer(SimParams *p) {
        /* The preferred server is the noisier one: it must still be the
         * one followed. */
        sim_params_defaults(p);
        copy_server(p, 3);
        p->servers[2].options = "prefer";
        p->servers[2].net.jitter_exp = 200e-6;
}

static const char *check_prefer(const SimParams *p, const SimResult *r) {
        return r->states[2] == SELECT_SELECTED ? NULL : "the preferred server is not selected";
}

static void setup_poll_range(SimParams *p) {
        sim_params_defaults(p);
        p->servers[0].options = "minpoll=4 maxpoll=8";
}

static const char *check_poll_range(const SimParams *p, const SimResult *r) {
        if (r->max_poll > 8)
                return "polled beyond maxpoll";
        if (r->final_poll < 4 || r->final_poll > 8)
                return "poll outside minpoll..maxpoll";
        return NULL;
}

static void setup_drift_file(SimParams *p) {
        /* The drift file says what the clock's error is (to 0.05 ppm). */
        sim_params_defaults(p);
        p->engine.discipline.use_initial_frequency = true;
        p->engine.discipline.initial_frequency_ppm = -p->clock.frequency_ppm;
        p->engine.discipline.initial_skew_ppm = 0.05;
}

static const char *check_drift_file(const SimParams *p, const SimResult *r) {
        /* A cold start spends its first minute 100 ppm off and then learns
         * the frequency to a few ppm; with the drift file the frequency is
         * right from the first seconds. */
        return r->rms_freq_error_early < 1.0 ? NULL : "frequency re-learned (RMS >= 1 ppm before 210 s)";
}

static void setup_silent(SimParams *p) {
        sim_params_defaults(p);
        copy_server(p, 2);
        p->servers[1].net.jitter_exp = 150e-6;
        p->servers[0].silent_from = 4000;
        p->servers[0].silent_until = INFINITY;
}

static const char *check_second_selected(const SimParams *p, const SimResult *r) {
        return r->states[1] == SELECT_SELECTED ? NULL : "did not switch to the remaining server";
}

static void setup_stratum_change(SimParams *p) {
        sim_params_defaults(p);
        copy_server(p, 2);
        p->servers[1].net.jitter_exp = 150e-6;
        p->servers[1].stratum = 2;
        p->servers[0].stratum_change_at = 4000;
        p->servers[0].stratum_after = 16;
}

static void setup_leap(SimParams *p, bool insert, EngineLeapMode mode, bool tz) {
        sim_params_defaults(p);
        copy_server(p, 3);
        p->start = insert ? INSERT_DAY_START : DELETE_DAY_START;
        p->leap_midnight = insert ? INSERT_MIDNIGHT : DELETE_MIDNIGHT;
        p->leap_sign = insert ? 1 : -1;
        p->duration = nsec_diff(p->leap_midnight, p->start) + LEAP_RUN_AFTER;
        p->engine.leap_mode = mode;
        if (tz)
                p->tzfile = TZFILE;
        else
                for (size_t i = 0; i < p->n_servers; i++) {
                        p->servers[i].leap = insert ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
                        p->servers[i].leap_until = nsec_diff(p->leap_midnight, p->start);
                }
}

static void setup_leap_insert_kernel(SimParams *p) { setup_leap(p, true, ENGINE_LEAP_KERNEL, false); }
static void setup_leap_insert_slew(SimParams *p) { setup_leap(p, true, ENGINE_LEAP_SLEW, false); }
static void setup_leap_delete_kernel(SimParams *p) { setup_leap(p, false, ENGINE_LEAP_KERNEL, false); }
static void setup_leap_delete_slew(SimParams *p) { setup_leap(p, false, ENGINE_LEAP_SLEW, false); }
static void setup_leap_tz_kernel(SimParams *p) { setup_leap(p, true, ENGINE_LEAP_KERNEL, true); }
static void setup_leap_tz_slew(SimParams *p) { setup_leap(p, true, ENGINE_LEAP_SLEW, true); }

static const char *check_leap_common(const SimParams *p, const SimResult *r) {
        if (r->leap_announced != (p->leap_sign > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE))
                return "the leap was not announced to our clients";
        if (r->max_error_after_leap >= SIM_SYNC_THRESHOLD)
                return "not synchronised again 30 s after the leap";
        if (p->tzfile && r->tai_offset != 37)
                return "TAI - UTC from the tz database is not 37 s after 2016";
        return NULL;
}

static const char *check_leap_kernel(const SimParams *p, const SimResult *r) {
        if (r->kernel_leaps != p->leap_sign)
                return "the kernel did not apply the leap";
        return check_leap_common(p, r);
}

static const char *check_leap_slew(const SimParams *p, const SimResult *r) {
        /* Slewed, not stepped: the clock was about a second off right
         * after the leap, and the kernel was never asked. */
        if (r->kernel_leaps != 0)
                return "the kernel applied the leap in slew mode";
        if (r->max_error_in_leap < 0.5)
                return "the leap second was not slewed";
        return check_leap_common(p, r);
}

const Scenario scenarios[] = {
        { "defaults", "chrony's simulation defaults, default polling",
          setup_defaults, DEFAULT_LIMITS, NULL },
        { "iburst", "defaults with iburst: synchronised within seconds",
          setup_iburst, { .sync_time = 10, .max_error = 150e-6, .rms_error = 50e-6,
                          .rms_freq_error = 0.15, .poll_grows = true }, NULL },
        { "freq-plus-500", "clock 500 ppm fast",
          setup_freq_plus, { .sync_time = 200, .max_error = 150e-6, .rms_error = 50e-6,
                             .rms_freq_error = 0.15, .poll_grows = true }, NULL },
        { "freq-minus-500", "clock 500 ppm slow",
          setup_freq_minus, { .sync_time = 200, .max_error = 150e-6, .rms_error = 50e-6,
                              .rms_freq_error = 0.15, .poll_grows = true }, NULL },
        { "offset-step", "3 hours behind, MakeStep=1 3",
          setup_offset_step, DEFAULT_LIMITS, NULL },
        { "offset-slew", "1 hour ahead, no MakeStep: slewed at 83333 ppm",
          setup_offset_slew, { .sync_time = 43200 + 200, .max_error = 150e-6, .rms_error = 50e-6,
                               .rms_freq_error = 0.15, .poll_grows = true }, NULL },
        { "large-jitter", "exponential jitter of mean 1 ms each way",
          setup_jitter, { .sync_time = 600, .max_error = 1.5e-3, .rms_error = 500e-6,
                          .rms_freq_error = 1.5, .poll_grows = true }, NULL },
        { "large-wander", "frequency wander 1e-8",
          setup_wander, { .sync_time = 130, .max_error = 300e-6, .rms_error = 100e-6,
                          .rms_freq_error = 0.5, .poll_grows = true }, NULL },
        { "asymmetric-jitter", "jitter of mean 100 us out, 400 us back",
          setup_asymmetric, { .sync_time = 200, .max_error = 400e-6, .rms_error = 150e-6,
                              .rms_freq_error = 0.3, .poll_grows = true }, NULL },
        { "packet-loss", "30% of packets lost each way",
          setup_loss, { .sync_time = 300, .max_error = 225e-6, .rms_error = 75e-6,
                        .rms_freq_error = 0.25, .poll_grows = true }, NULL },
        { "intermittent", "no connectivity 2000 s of every 5000 s",
          setup_intermittent, { .sync_time = 130, .max_error = 400e-6, .rms_error = 100e-6,
                                .rms_freq_error = 0.3, .poll_grows = true }, NULL },
        { "falsetickers", "5 servers, 2 lying by 0.3 s and by 0.1 s drifting to 1 s",
          setup_falsetickers, DEFAULT_LIMITS, check_falsetickers },
        { "minsources-unmet", "2 servers, MinSources=3: never synchronised",
          setup_minsources_unmet, {}, check_never_synced },
        { "minsources-met", "3 servers, MinSources=3",
          setup_minsources_met, DEFAULT_LIMITS, check_synced },
        { "prefer", "3 servers, the noisier one preferred",
          setup_prefer, { .sync_time = 130, .max_error = 300e-6, .rms_error = 100e-6,
                          .rms_freq_error = 0.3, .poll_grows = true }, check_prefer },
        { "poll-range", "minpoll=4 maxpoll=8",
          setup_poll_range, DEFAULT_LIMITS, check_poll_range },
        { "drift-file", "frequency known from the drift file",
          setup_drift_file, { .sync_time = 10, .max_error = 150e-6, .rms_error = 50e-6,
                              .rms_freq_error = 0.15, .poll_grows = true }, check_drift_file },
        { "silent-server", "the selected server goes silent at 4000 s",
          setup_silent, { .sync_time = 130, .max_error = 300e-6, .rms_error = 75e-6,
                          .rms_freq_error = 0.25, .poll_grows = true }, check_second_selected },
        { "stratum-change", "the selected server turns unsynchronised at 4000 s",
          setup_stratum_change, { .sync_time = 130, .max_error = 300e-6, .rms_error = 75e-6,
                                  .rms_freq_error = 0.25, .poll_grows = true }, check_second_selected },
        { "leap-insert-kernel", "servers announce an inserted second; the kernel applies it",
          setup_leap_insert_kernel, DEFAULT_LIMITS, check_leap_kernel },
        { "leap-insert-slew", "servers announce an inserted second; slewed through",
          setup_leap_insert_slew, DEFAULT_LIMITS, check_leap_slew },
        { "leap-delete-kernel", "servers announce a deleted second; the kernel applies it",
          setup_leap_delete_kernel, DEFAULT_LIMITS, check_leap_kernel },
        { "leap-delete-slew", "servers announce a deleted second; slewed through",
          setup_leap_delete_slew, DEFAULT_LIMITS, check_leap_slew },
        { "leap-tz-kernel", "LeapSecTZ=right/UTC, servers silent about it; kernel applies it",
          setup_leap_tz_kernel, DEFAULT_LIMITS, check_leap_kernel },
        { "leap-tz-slew", "LeapSecTZ=right/UTC, servers silent about it; slewed through",
          setup_leap_tz_slew, DEFAULT_LIMITS, check_leap_slew },
};

const size_t n_scenarios = sizeof scenarios / sizeof scenarios[0];

const Scenario *scenario_find(const char *name) {
        for (size_t i = 0; i < n_scenarios; i++)
                if (strcmp(scenarios[i].name, name) == 0)
                        return &scenarios[i];
        return NULL;
}
