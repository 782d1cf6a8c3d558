/* Tests for src/core/engine, end to end on the simulated clock: the
 * simulator of test/sim, run a step at a time, carries the engine's requests
 * to simulated servers and their replies back, and the tests look at the
 * engine and the clock on the way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock/clock-sim.h"
#include "core/engine.h"
#include "sim.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
#define DELAY 100e-6
#define LONGEST_RUN 4000.0     /* seconds: what the world is built for */

/* The simulator of test/sim, run a step at a time: servers with fixed
 * errors across a quiet path, so that what the tests see is the engine. */
typedef struct World {
        Sim *sim;
        SimResult result;
        Engine *engine;
        Clock *clock;
} World;

static void world_init_full(World *w, nsec_t start, double offset, double ppm, const double *errors, size_t n,
                            int makestep_limit, EngineLeapMode leap_mode, NtpLeap leap) {
        SimParams p = {
                .name = "test-engine",
                .clock = { .initial_offset = offset, .frequency_ppm = ppm },
                .n_servers = n,
                .duration = LONGEST_RUN,
                .start = start,
        };

        assert_true(n <= SIM_MAX_SERVERS);
        engine_params_init(&p.engine);
        p.engine.discipline.makestep_threshold = 1.0;
        p.engine.discipline.makestep_limit = makestep_limit;
        p.engine.leap_mode = leap_mode;
        for (size_t i = 0; i < n; i++)
                p.servers[i] = (SimServer) {
                        .options = "iburst minpoll=4 maxpoll=6",
                        .net = { .delay = DELAY },
                        .offset = errors[i],
                        .precision = -20,
                        .processing = 10e-6,
                        .leap = leap,
                        .leap_until = leap != NTP_LEAP_NONE ? INFINITY : 0,
                };
        *w = (World) {};
        assert_int_equal(sim_new(&p, 7, false, &w->result, &w->sim), 0);
        w->engine = sim_engine(w->sim);
        w->clock = sim_clock(w->sim);
}

static void world_init(World *w, double offset, double ppm, const double *errors, size_t n, int makestep_limit) {
        world_init_full(w, T0, offset, ppm, errors, n, makestep_limit, ENGINE_LEAP_KERNEL, NTP_LEAP_NONE);
}

static void world_done(World *w) {
        sim_free(w->sim);
}

static void run_until(World *w, double end) {
        assert_true(end <= LONGEST_RUN);
        assert_int_equal(sim_run_until(w->sim, end), 0);
}

/* Runs until the first server's source holds n samples. */
static void run_until_samples(World *w, size_t n) {
        while (sourcestats_count(&sim_source(w->sim, 0)->stats) < n)
                run_until(w, sim_now(w->sim) + 0.1);
}

static void one_server_brings_the_clock_to_true_time(void **state) {
        const double errors[] = { 0 };
        World w;
        Tracking t;

        world_init(&w, 0.05, 20, errors, 1, 0);
        run_until(&w, 3000);
        engine_tracking(w.engine, &t);
        print_message("time error %.3g s, frequency error %.3g ppm\n", sim_clock_time_error(w.clock),
                      sim_clock_frequency_error(w.clock));
        assert_true(t.synchronized);
        assert_string_equal(t.reference_name, "10.0.0.1");
        assert_int_equal(t.stratum, 2);
        assert_near(sim_clock_time_error(w.clock), 0, 100e-6);
        assert_near(sim_clock_frequency_error(w.clock), 0, 1.0);
        /* chrony's sign: the clock runs 20 ppm fast on its own. */
        assert_near(t.frequency_ppm, 20, 1.0);
        world_done(&w);
}

static void makestep_removes_a_large_offset_at_once(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, -30.0, 0, errors, 1, 3);
        run_until(&w, 10);
        assert_int_equal(sim_clock_steps(w.clock), 1);
        assert_near(sim_clock_time_error(w.clock), 0, 0.01);
        world_done(&w);
}

/* A step is final: two samples would carry all of the newer one's error
 * into it, so the first update that steps waits for a third. */
static void a_step_waits_for_a_third_sample(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, -30.0, 0, errors, 1, 3);
        run_until_samples(&w, 2);
        assert_int_equal(sim_clock_steps(w.clock), 0);
        assert_false(w.engine->synchronized);
        assert_string_equal(w.engine->unsync_reason, "waiting for a third sample to step");
        run_until_samples(&w, 3);
        assert_int_equal(sim_clock_steps(w.clock), 1);
        assert_true(w.engine->synchronized);
        assert_near(sim_clock_time_error(w.clock), 0, 1e-3);
        world_done(&w);
}

/* A slew goes ahead from two samples: the next ones correct it. */
static void a_slew_goes_ahead_from_two_samples(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, 0.05, 0, errors, 1, 3);
        run_until_samples(&w, 2);
        assert_int_equal(sim_clock_steps(w.clock), 0);
        assert_true(w.engine->synchronized);
        assert_int_equal(w.engine->discipline.n_updates, 1);
        world_done(&w);
}

static void an_external_step_is_noticed_and_undone(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, 0.01, 30, errors, 1, -1);
        run_until(&w, 600);
        assert_true(w.engine->synchronized);
        double frequency = w.engine->discipline.frequency_ppm;

        /* Someone runs date -s: the clock jumps 100 s ahead. */
        sim_clock_external_step(w.clock, 100);
        assert_near(sim_check_clock_step(w.sim), 100, 1e-6);
        assert_false(w.engine->synchronized);
        assert_int_equal(sourcestats_count(&sim_source(w.sim, 0)->stats), 0);
        /* Noticed once; the learned frequency is kept. */
        assert_true(engine_check_clock_step(w.engine) == 0);
        assert_true(w.engine->discipline.frequency_ppm == frequency);
        /* A burst is due, and the first sample steps the clock back. */
        assert_true(source_poll_interval(sim_source(w.sim, 0)) <= SOURCE_BURST_INTERVAL);
        run_until(&w, sim_now(w.sim) + 10);
        assert_true(w.engine->synchronized);
        assert_near(sim_clock_time_error(w.clock), 0, 1e-3);
        world_done(&w);
}

static void our_own_steps_are_not_external(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, -30.0, 0, errors, 1, 3);
        run_until(&w, 10);
        assert_int_equal(sim_clock_steps(w.clock), 1);
        assert_true(engine_check_clock_step(w.engine) == 0);
        assert_true(w.engine->synchronized);
        world_done(&w);
}

static void a_large_frequency_error_is_corrected(void **state) {
        /* 5 % fast: more than the kernel's 500 ppm of ADJ_FREQUENCY, well
         * within its tick. The correction is -4.76 %, not -5 %. */
        const double errors[] = { 0 };
        World w;

        world_init(&w, 0, 50000, errors, 1, 0);
        run_until(&w, 600);
        print_message("time error %.3g s, frequency error %.3g ppm\n", sim_clock_time_error(w.clock),
                      sim_clock_frequency_error(w.clock));
        assert_true(w.engine->synchronized);
        assert_near(sim_clock_time_error(w.clock), 0, 100e-6);
        assert_near(sim_clock_frequency_error(w.clock), 0, 1.0);
        assert_near(sim_clock_applied_ppm(w.clock), (1.0 / 1.05 - 1.0) * 1e6, 1.0);
        world_done(&w);
}

static void liars_are_outvoted(void **state) {
        const double errors[] = { 0, 0.8, 0, -0.3, 0 };
        World w;

        world_init(&w, 0.01, -10, errors, 5, 0);
        run_until(&w, 2000);
        assert_true(w.engine->synchronized);
        assert_int_equal(sim_source(w.sim, 1)->state, SELECT_FALSETICKER);
        assert_int_equal(sim_source(w.sim, 3)->state, SELECT_FALSETICKER);
        assert_near(sim_clock_time_error(w.clock), 0, 200e-6);
        world_done(&w);
}

static void unsynchronised_without_sources_and_serving_local_stratum(void **state) {
        SimClockParams p = { .start = T0 };
        EngineParams ep;
        Clock *c;
        Engine *e;
        NtpLeap leap;
        uint8_t stratum;
        uint32_t refid;
        nsec_t reftime;
        double rd, rdisp;

        clock_new_sim(&p, &c);
        engine_params_init(&ep);
        engine_new(c, &ep, &e);
        engine_server_header(e, &leap, &stratum, &refid, &reftime, &rd, &rdisp);
        assert_int_equal(leap, NTP_LEAP_UNSYNC);
        assert_int_equal(stratum, 16);
        e->params.local_stratum = 10;
        engine_server_header(e, &leap, &stratum, &refid, &reftime, &rd, &rdisp);
        assert_int_equal(leap, NTP_LEAP_NONE);
        assert_int_equal(stratum, 10);
        assert_int_equal(refid, ntp_refid_from_ascii("LOCL"));
        engine_free(e);
        clock_free(c);
}

/* 2016-12-31 12:00 UTC, twelve hours before the last inserted leap
 * second, and the same time a day earlier. */
#define LEAP_DAY_NOON (INT64_C(1483185600) * NSEC_PER_SEC)
#define LEAP_MIDNIGHT (INT64_C(1483228800) * NSEC_PER_SEC)
#define DAY (INT64_C(86400) * NSEC_PER_SEC)

static void servers_announcing_a_leap_on_its_day_set_the_kernel_leap(void **state) {
        const double errors[] = { 0, 0, 0 };
        ClockSyncStatus st;
        Tracking t;
        World w;

        world_init_full(&w, LEAP_DAY_NOON, 0.001, 10, errors, 3, 0, ENGINE_LEAP_KERNEL, NTP_LEAP_INSERT);
        run_until(&w, 600);
        engine_tracking(w.engine, &t);
        assert_int_equal(t.leap, NTP_LEAP_INSERT);
        engine_sync_status(w.engine, &t, &st);
        assert_true(st.synchronized);
        assert_int_equal(st.leap, CLOCK_LEAP_INSERT);
        assert_int_equal(st.tai_offset, 0);
        world_done(&w);
}

static void a_leap_announced_on_another_day_is_ignored(void **state) {
        const double errors[] = { 0, 0, 0 };
        Tracking t;
        World w;

        world_init_full(&w, LEAP_DAY_NOON - DAY, 0.001, 10, errors, 3, 0, ENGINE_LEAP_KERNEL, NTP_LEAP_INSERT);
        run_until(&w, 600);
        engine_tracking(w.engine, &t);
        assert_true(t.synchronized);
        assert_int_equal(t.leap, NTP_LEAP_NONE);
        world_done(&w);
}

static void the_leap_table_gives_the_leap_and_tai_offset(void **state) {
        const double errors[] = { 0 };
        ClockSyncStatus st;
        LeapTable *table = calloc(1, sizeof(LeapTable));
        Tracking t;
        World w;

        assert_non_null(table);
        table->entries = calloc(1, sizeof(LeapEntry));
        assert_non_null(table->entries);
        table->entries[0] = (LeapEntry) { .midnight = LEAP_MIDNIGHT / NSEC_PER_SEC, .sign = 1, .tai_offset = 37 };
        table->n_entries = 1;

        /* The servers say nothing of the leap; the table does. */
        world_init_full(&w, LEAP_DAY_NOON, 0.001, 10, errors, 1, 0, ENGINE_LEAP_KERNEL, NTP_LEAP_NONE);
        engine_set_leap_table(w.engine, table);
        run_until(&w, 600);
        engine_tracking(w.engine, &t);
        engine_sync_status(w.engine, &t, &st);
        assert_int_equal(st.leap, CLOCK_LEAP_INSERT);
        assert_int_equal(st.tai_offset, 36);
        world_done(&w);
}

static void in_slew_mode_the_kernel_is_not_told_and_we_slew_at_midnight(void **state) {
        const double errors[] = { 0, 0, 0 };
        ClockSyncStatus st;
        Tracking t;
        World w;
        nsec_t raw;

        /* Synchronised by 23:50, with the servers announcing the leap. */
        world_init_full(&w, LEAP_MIDNIGHT - 20 * 60 * NSEC_PER_SEC, 0.001, 10, errors, 3, 0, ENGINE_LEAP_SLEW, NTP_LEAP_INSERT);
        run_until(&w, 600);
        engine_tracking(w.engine, &t);
        assert_int_equal(t.leap, NTP_LEAP_INSERT);      /* announced to our clients */
        engine_sync_status(w.engine, &t, &st);
        assert_int_equal(st.leap, CLOCK_LEAP_NONE);       /* but not to the kernel */

        /* The engine's timer is due no later than midnight; at midnight
         * the second goes into the correction, slewed at the limit. */
        double delay = engine_timer_delay(w.engine);
        /* (midnight on our clock, which is a few us off true time) */
        assert_true(delay >= 0 && delay <= 600 + 1e-3);
        run_until(&w, 1200 + 0.5);
        assert_int_equal(clock_read(w.clock, &raw), 0);
        assert_near(discipline_remaining(&w.engine->discipline, raw) + 1.0, 0, 0.1);
        assert_true(w.engine->discipline.slew_rate < -0.05);
        assert_true(w.engine->leap_done_midnight == LEAP_MIDNIGHT);
        engine_tracking(w.engine, &t);
        assert_int_equal(t.leap, NTP_LEAP_NONE);
        world_done(&w);
}

/* Another event handled between midnight and the leap timer (a reply, the
 * housekeeping) rearms the timer: the leap must still be due then, not
 * moved to the next day and lost. */
static void a_leap_timer_rearmed_just_after_midnight_still_slews(void **state) {
        const double errors[] = { 0, 0, 0 };
        World w;
        nsec_t raw;

        world_init_full(&w, LEAP_MIDNIGHT - 20 * 60 * NSEC_PER_SEC, 0.001, 10, errors, 3, 0, ENGINE_LEAP_SLEW, NTP_LEAP_INSERT);
        run_until(&w, 1200 - 0.01);
        assert_true(w.engine->leap_done_midnight != LEAP_MIDNIGHT);
        /* Half a second past midnight, before the timer has run. */
        sim_clock_advance(w.clock, 0.5);
        double delay = engine_timer_delay(w.engine);
        assert_true(delay >= 0 && delay < 0.001);
        assert_int_equal(engine_on_timer(w.engine), 0);
        assert_true(w.engine->leap_done_midnight == LEAP_MIDNIGHT);
        assert_int_equal(clock_read(w.clock, &raw), 0);
        assert_near(discipline_remaining(&w.engine->discipline, raw) + 1.0, 0, 0.1);
        world_done(&w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(one_server_brings_the_clock_to_true_time),
                cmocka_unit_test(makestep_removes_a_large_offset_at_once),
                cmocka_unit_test(a_step_waits_for_a_third_sample),
                cmocka_unit_test(a_slew_goes_ahead_from_two_samples),
                cmocka_unit_test(an_external_step_is_noticed_and_undone),
                cmocka_unit_test(our_own_steps_are_not_external),
                cmocka_unit_test(a_large_frequency_error_is_corrected),
                cmocka_unit_test(liars_are_outvoted),
                cmocka_unit_test(unsynchronised_without_sources_and_serving_local_stratum),
                cmocka_unit_test(servers_announcing_a_leap_on_its_day_set_the_kernel_leap),
                cmocka_unit_test(a_leap_announced_on_another_day_is_ignored),
                cmocka_unit_test(the_leap_table_gives_the_leap_and_tai_offset),
                cmocka_unit_test(in_slew_mode_the_kernel_is_not_told_and_we_slew_at_midnight),
                cmocka_unit_test(a_leap_timer_rearmed_just_after_midnight_still_slews),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
