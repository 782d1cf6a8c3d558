/* Tests for src/core/engine, end to end on the simulated clock: simulated
 * servers answer the engine's requests, and the clock converges on true
 * time. */
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
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
#define MAX_SERVERS 5
#define DELAY 100e-6

typedef struct World {
        Clock *clock;
        Engine *engine;
        Source *sources[MAX_SERVERS];
        double server_error[MAX_SERVERS];       /* server clock - true time */
        double next_poll[MAX_SERVERS];          /* seconds since start, true time */
        size_t n;
        double now;                             /* seconds since start, true time */
        uint64_t cookie;
        NtpLeap leap;                           /* leap bits the servers send */
} World;

static void world_init_full(World *w, nsec_t start, double offset, double ppm, const double *errors, size_t n,
                            int makestep_limit, EngineLeapMode leap_mode) {
        SimClockParams p = { .start = start, .initial_offset = offset, .frequency_ppm = ppm, .seed = 7 };
        EngineParams ep;

        *w = (World) { .n = n, .cookie = 1 };
        assert_int_equal(clock_new_sim(&p, &w->clock), 0);
        engine_params_init(&ep);
        ep.discipline.makestep_threshold = 1.0;
        ep.discipline.makestep_limit = makestep_limit;
        ep.leap_mode = leap_mode;
        assert_int_equal(engine_new(w->clock, &ep, &w->engine), 0);
        for (size_t i = 0; i < n; i++) {
                char name[32];
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123),
                                         .sin_addr.s_addr = htonl(0x0a000001 + (uint32_t) i) };
                SourceSpec spec = { .kind = SOURCE_KIND_SERVER, .host = name, .port = 123, .iburst = true,
                                    .minpoll = 4, .maxpoll = 6 };
                snprintf(name, sizeof name, "10.0.0.%zu", i + 1);
                assert_int_equal(engine_add_source(w->engine, &spec, name, (struct sockaddr *) &a, sizeof a,
                                                   &w->sources[i]), 0);
                w->server_error[i] = errors[i];
                w->next_poll[i] = 0.1 * (double) i;
        }
}

static void world_init(World *w, double offset, double ppm, const double *errors, size_t n, int makestep_limit) {
        world_init_full(w, T0, offset, ppm, errors, n, makestep_limit, ENGINE_LEAP_KERNEL);
}

static void world_done(World *w) {
        engine_free(w->engine);
        clock_free(w->clock);
}

static void advance_to(World *w, double t) {
        /* Honour slew timers on the way. */
        for (;;) {
                double delay = engine_timer_delay(w->engine);
                if (delay < 0 || w->now + delay >= t)
                        break;
                sim_clock_advance(w->clock, delay + 1e-6);
                w->now += delay + 1e-6;
                assert_int_equal(engine_on_timer(w->engine), 0);
        }
        sim_clock_advance(w->clock, t - w->now);
        w->now = t;
}

/* One request/reply exchange with server i at the current time. */
static void exchange(World *w, size_t i) {
        Source *s = w->sources[i];
        NtpPacket req, rep;
        nsec_t t1, t4;

        assert_int_equal(engine_now(w->engine, &t1), 0);
        source_build_request(s, t1, ++w->cookie, &req);
        source_request_sent(s, t1);
        nsec_t true_rx = sim_clock_true_time(w->clock) + seconds_to_nsec(DELAY);
        nsec_t t2 = true_rx + seconds_to_nsec(w->server_error[i]);
        rep = (NtpPacket) {
                .leap = w->leap, .version = 4, .mode = NTP_MODE_SERVER, .stratum = 1, .poll = 4,
                .precision = -20, .reference_id = ntp_refid_from_ascii("GPS"), .origin_ts = req.transmit_ts,
                .receive_ts = ntp_timestamp_from_nsec(t2),
                .transmit_ts = ntp_timestamp_from_nsec(t2 + 10 * NSEC_PER_USEC),
        };
        advance_to(w, w->now + 2 * DELAY + 10e-6);
        assert_int_equal(engine_now(w->engine, &t4), 0);
        assert_int_equal(engine_process_reply(w->engine, s, &rep, t4), SOURCE_REPLY_OK);
}

static void run_until(World *w, double end) {
        while (w->now < end) {
                size_t next = 0;
                for (size_t i = 1; i < w->n; i++)
                        if (w->next_poll[i] < w->next_poll[next])
                                next = i;
                advance_to(w, MAX(w->next_poll[next], w->now));
                exchange(w, next);
                w->next_poll[next] = w->now + source_poll_interval(w->sources[next]);
        }
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

static void an_external_step_is_noticed_and_undone(void **state) {
        const double errors[] = { 0 };
        World w;

        world_init(&w, 0.01, 30, errors, 1, -1);
        run_until(&w, 600);
        assert_true(w.engine->synchronized);
        double frequency = w.engine->discipline.frequency_ppm;

        /* Someone runs date -s: the clock jumps 100 s ahead. */
        sim_clock_external_step(w.clock, 100);
        assert_near(engine_check_clock_step(w.engine), 100, 1e-6);
        assert_false(w.engine->synchronized);
        assert_int_equal(sourcestats_count(&w.sources[0]->stats), 0);
        /* Noticed once; the learned frequency is kept. */
        assert_true(engine_check_clock_step(w.engine) == 0);
        assert_true(w.engine->discipline.frequency_ppm == frequency);
        /* A burst is due, and the first sample steps the clock back. */
        assert_true(source_poll_interval(w.sources[0]) <= SOURCE_BURST_INTERVAL);
        w.next_poll[0] = w.now;
        run_until(&w, w.now + 10);
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
        assert_int_equal(w.sources[1]->state, SELECT_FALSETICKER);
        assert_int_equal(w.sources[3]->state, SELECT_FALSETICKER);
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

        world_init_full(&w, LEAP_DAY_NOON, 0.001, 10, errors, 3, 0, ENGINE_LEAP_KERNEL);
        w.leap = NTP_LEAP_INSERT;
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

        world_init_full(&w, LEAP_DAY_NOON - DAY, 0.001, 10, errors, 3, 0, ENGINE_LEAP_KERNEL);
        w.leap = NTP_LEAP_INSERT;
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
        world_init_full(&w, LEAP_DAY_NOON, 0.001, 10, errors, 1, 0, ENGINE_LEAP_KERNEL);
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
        world_init_full(&w, LEAP_MIDNIGHT - 20 * 60 * NSEC_PER_SEC, 0.001, 10, errors, 3, 0, ENGINE_LEAP_SLEW);
        w.leap = NTP_LEAP_INSERT;
        run_until(&w, 600);
        engine_tracking(w.engine, &t);
        assert_int_equal(t.leap, NTP_LEAP_INSERT);      /* announced to our clients */
        engine_sync_status(w.engine, &t, &st);
        assert_int_equal(st.leap, CLOCK_LEAP_NONE);       /* but not to the kernel */

        /* The engine's timer is due no later than midnight; at midnight
         * the second goes into the correction, slewed at the limit. */
        double delay = engine_timer_delay(w.engine);
        assert_true(delay >= 0 && delay <= 600);
        advance_to(&w, 1200 + 0.5);
        assert_int_equal(engine_on_timer(w.engine), 0);
        assert_int_equal(clock_read(w.clock, &raw), 0);
        assert_near(discipline_remaining(&w.engine->discipline, raw) + 1.0, 0, 0.1);
        assert_true(w.engine->discipline.slew_rate < -0.05);
        assert_true(w.engine->leap_done_midnight == LEAP_MIDNIGHT);
        engine_tracking(w.engine, &t);
        assert_int_equal(t.leap, NTP_LEAP_NONE);
        world_done(&w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(one_server_brings_the_clock_to_true_time),
                cmocka_unit_test(makestep_removes_a_large_offset_at_once),
                cmocka_unit_test(an_external_step_is_noticed_and_undone),
                cmocka_unit_test(our_own_steps_are_not_external),
                cmocka_unit_test(a_large_frequency_error_is_corrected),
                cmocka_unit_test(liars_are_outvoted),
                cmocka_unit_test(unsynchronised_without_sources_and_serving_local_stratum),
                cmocka_unit_test(servers_announcing_a_leap_on_its_day_set_the_kernel_leap),
                cmocka_unit_test(a_leap_announced_on_another_day_is_ignored),
                cmocka_unit_test(the_leap_table_gives_the_leap_and_tai_offset),
                cmocka_unit_test(in_slew_mode_the_kernel_is_not_told_and_we_slew_at_midnight),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
