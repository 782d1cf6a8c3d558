/* Tests for src/clock: the simulated clock, the no-control clock, and the
 * pure parts of the system clock. Nothing here writes the real clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/timex.h>

#include "clock/clock-sim.h"
#include "clock/clock-system.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)

static void the_sim_clock_drifts_by_its_frequency_error(void **state) {
        SimClockParams p = { .start = T0, .initial_offset = 0.001, .frequency_ppm = 50, .seed = 1 };
        Clock *c;
        nsec_t t;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        sim_clock_advance(c, 100);
        assert_near(sim_clock_time_error(c), (0.001 + 50e-6 * 100), 1e-12);
        assert_int_equal(clock_read(c, &t), 0);
        assert_int_equal(t - sim_clock_true_time(c), seconds_to_nsec(sim_clock_time_error(c)));
        /* Correcting the frequency stops the drift. The errors multiply,
         * as in the kernel: 50 ppm fast needs 1 / (1 + 50e-6) - 1, and
         * what is left is the kernel's 2^-16 ppm rounding. */
        assert_int_equal(clock_set_frequency(c, (1.0 / (1.0 + 50e-6) - 1.0) * 1e6), 0);
        double before = sim_clock_time_error(c);
        sim_clock_advance(c, 1000);
        assert_near(sim_clock_time_error(c), before, 1e-8);
        assert_near(sim_clock_frequency_error(c), 0, 1e-5);
        /* A plain -50 ppm leaves the product of the two. */
        assert_int_equal(clock_set_frequency(c, -50), 0);
        assert_near(sim_clock_frequency_error(c), (-50e-6 * 50e-6 * 1e6), 1e-5);
        clock_free(c);
}

/* The oscillator's rate jumps once, at its moment, even within one
 * advance. */
static void the_sim_clock_frequency_jumps_once(void **state) {
        SimClockParams p = { .start = T0, .frequency_ppm = 10, .jump_at = 100, .jump_ppm = 20, .seed = 1 };
        Clock *c;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        sim_clock_advance(c, 60);
        assert_near(sim_clock_frequency_error(c), 10, 1e-9);
        sim_clock_advance(c, 90);
        assert_near(sim_clock_time_error(c), 10e-6 * 100 + 30e-6 * 50, 1e-12);
        assert_near(sim_clock_frequency_error(c), 30, 1e-9);
        sim_clock_advance(c, 1000);
        assert_near(sim_clock_frequency_error(c), 30, 1e-9);
        clock_free(c);
}

static void the_sim_clock_has_the_kernels_limits(void **state) {
        SimClockParams p = { .start = T0, .seed = 1 };
        Clock *c;
        double ppm;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        assert_true(c->max_frequency_ppm == CLOCK_KERNEL_MAX_FREQUENCY_PPM);
        /* Beyond 500 ppm the tick carries it, in whole microseconds. */
        assert_int_equal(clock_set_frequency(c, 50000.3), 0);
        assert_near(sim_clock_applied_ppm(c), 50000.3, 1e-4);
        assert_int_equal(clock_set_frequency(c, -100000), 0);
        assert_near(sim_clock_applied_ppm(c) + 100000, 0, 1e-4);
        /* Beyond the tick's 10 %: refused, nothing changed. */
        assert_int_equal(clock_set_frequency(c, 150000), -EINVAL);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_near(ppm + 100000, 0, 1e-4);
        clock_free(c);
}

static void the_wall_offset_moves_only_with_steps(void **state) {
        SimClockParams p = { .start = T0, .frequency_ppm = 300, .seed = 1 };
        Clock *c;
        double w0, w1, w2;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        assert_int_equal(clock_read_wall_offset(c, &w0), 0);
        sim_clock_advance(c, 1000);
        assert_int_equal(clock_read_wall_offset(c, &w1), 0);
        assert_true(w1 == w0);
        sim_clock_external_step(c, 100);
        assert_int_equal(clock_step(c, -0.5), 0);
        assert_int_equal(clock_read_wall_offset(c, &w2), 0);
        assert_near(w2 - w1 - 99.5, 0, 1e-9);
        clock_free(c);
}

static void the_sim_clock_steps(void **state) {
        SimClockParams p = { .start = T0, .initial_offset = -2.5 };
        Clock *c;

        clock_new_sim(&p, &c);
        assert_int_equal(clock_step(c, 2.5), 0);
        assert_near(sim_clock_time_error(c), 0, 1e-12);
        assert_int_equal(sim_clock_steps(c), 1);
        clock_free(c);
}

static void the_sim_clock_is_deterministic_for_a_seed(void **state) {
        SimClockParams p = { .start = T0, .wander = 1e-9, .seed = 42 };
        Clock *a, *b;

        clock_new_sim(&p, &a);
        clock_new_sim(&p, &b);
        for (int i = 0; i < 1000; i++) {
                sim_clock_advance(a, 1);
                sim_clock_advance(b, 1);
        }
        assert_true(sim_clock_time_error(a) == sim_clock_time_error(b));
        assert_true(sim_clock_time_error(a) != 0);
        clock_free(a);
        clock_free(b);
}

static void wander_is_a_random_walk_of_the_right_size(void **state) {
        /* After N steps of 1 s the frequency has moved by wander * sqrt(N)
         * in standard deviation: check the spread over many clocks. */
        double sum2 = 0;
        const int clocks = 200, steps = 400;
        for (int k = 0; k < clocks; k++) {
                SimClockParams p = { .start = T0, .wander = 1e-9, .seed = (uint64_t) k + 1 };
                Clock *c;
                clock_new_sim(&p, &c);
                for (int i = 0; i < steps; i++)
                        sim_clock_advance(c, 1);
                double f = sim_clock_frequency_error(c) * 1e-6;
                sum2 += f * f;
                clock_free(c);
        }
        double sd = sqrt(sum2 / clocks), expect = 1e-9 * sqrt(steps);
        assert_true(sd > 0.7 * expect && sd < 1.3 * expect);
}

static void the_none_clock_applies_corrections_virtually(void **state) {
        Clock *c;
        double ppm;
        nsec_t before, after;

        assert_int_equal(clock_new_none(&c), 0);
        assert_false(c->controls);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_true(ppm == 0);
        assert_int_equal(clock_step(c, 10.0), 0);
        assert_int_equal(clock_read(c, &after), 0);
        before = now_realtime();
        assert_true(nsec_diff(after, before) > 9.9 && nsec_diff(after, before) < 10.1);
        /* Kernel timestamps convert into the same virtual timescale. */
        nsec_t real = now_realtime();
        assert_near(nsec_diff(clock_from_system(c, real), real), 10.0, 0.01);
        assert_int_equal(clock_set_frequency(c, 100), 0);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_true(ppm == 100);
        ClockSyncStatus st = { .synchronized = true };
        assert_int_equal(clock_set_sync_status(c, &st), 0);
        clock_free(c);
}

static void the_none_clock_tells_where_it_stands_against_the_system_clock(void **state) {
        Clock *c;
        double offset, ppm;

        assert_int_equal(clock_new_none(&c), 0);
        nsec_t real = now_realtime();
        assert_int_equal(clock_offset_from_system(c, real, &offset, &ppm), 0);
        assert_true(fabs(offset) < 1e-9 && ppm == 0);
        clock_step(c, -0.25);
        clock_set_frequency(c, 200);
        real = now_realtime();
        assert_int_equal(clock_offset_from_system(c, real, &offset, &ppm), 0);
        assert_true(fabs(offset + 0.25) < 1e-6);
        assert_true(ppm == 200);
        /* 10 s later it has gained 200 ppm of them. */
        double later;
        assert_int_equal(clock_offset_from_system(c, real + 10 * NSEC_PER_SEC, &later, NULL), 0);
        assert_true(fabs(later - offset - 2e-3) < 1e-9);
        /* The same timescale that packet timestamps are converted into. */
        assert_true(fabs(nsec_diff(clock_from_system(c, real), real) - offset) < 2e-9);
        clock_free(c);
}

static void clocks_that_are_the_system_clock_stand_at_zero_against_it(void **state) {
        SimClockParams p = { .start = T0, .initial_offset = 0.5, .frequency_ppm = 50 };
        Clock *clocks[2];
        double offset = 1, ppm = 1;

        /* The system clock is only read here, never set. */
        assert_int_equal(clock_new_sim(&p, &clocks[0]), 0);
        assert_int_equal(clock_new_system(&clocks[1]), 0);
        clock_set_frequency(clocks[0], 10);
        clock_step(clocks[0], 0.1);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(clock_offset_from_system(clocks[i], now_realtime(), &offset, &ppm), 0);
                assert_true(offset == 0 && ppm == 0);
                clock_free(clocks[i]);
        }
}

typedef struct SplitCase {
        double ppm;
        long tick, freq;
} SplitCase;

static void frequencies_split_into_tick_and_remainder(void **state) {
        static const SplitCase cases[] = {
                { 0, 10000, 0 },
                { 12.5, 10000, 12 * 65536 + 32768 },
                { -500, 10000, -500 * 65536 },
                { 550, 10006, -50 * 65536 },
                { -12345, 9877, -45 * 65536 },
                { 99999, 11000, -1 * 65536 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                long tick, freq;
                assert_int_equal(clock_system_split_frequency(cases[i].ppm, 10000, &tick, &freq), 0);
                assert_int_equal(tick, cases[i].tick);
                assert_int_equal(freq, cases[i].freq);
                assert_near(clock_system_join_frequency(tick, freq, 10000), cases[i].ppm, 1e-4);
        }
        long tick, freq;
        assert_int_equal(clock_system_split_frequency(150000, 10000, &tick, &freq), -ERANGE);
}

static void status_bits_follow_the_sync_state(void **state) {
        ClockSyncStatus s = { .synchronized = true, .rtc_sync = true };
        int keep = STA_NANO;

        /* STA_UNSYNC clear (11-minute RTC mode) only when synchronised,
         * with RTCSync=yes and an RTC in UTC. */
        assert_int_equal(clock_system_status_bits(&s, keep | STA_PLL | STA_UNSYNC), keep);
        s.synchronized = false;
        assert_int_equal(clock_system_status_bits(&s, keep), keep | STA_UNSYNC);
        s = (ClockSyncStatus) { .synchronized = true, .rtc_sync = true, .local_rtc = true };
        assert_int_equal(clock_system_status_bits(&s, keep), keep | STA_UNSYNC);
        s = (ClockSyncStatus) { .synchronized = true, .rtc_sync = false };
        assert_int_equal(clock_system_status_bits(&s, keep), keep | STA_UNSYNC);
        s = (ClockSyncStatus) { .synchronized = true, .rtc_sync = true, .leap = CLOCK_LEAP_INSERT };
        assert_int_equal(clock_system_status_bits(&s, keep | STA_DEL), keep | STA_INS);
        s.leap = CLOCK_LEAP_DELETE;
        assert_int_equal(clock_system_status_bits(&s, keep), keep | STA_DEL);
}

static void maxerror_tells_whether_we_are_synchronised(void **state) {
        assert_int_equal(clock_system_error_usec(true, 0.000250), 250);
        assert_int_equal(clock_system_error_usec(true, 100.0), CLOCK_SYSTEM_MAX_ERROR_USEC);
        assert_int_equal(clock_system_error_usec(false, 0.000250), CLOCK_SYSTEM_MAX_ERROR_USEC);
        assert_int_equal(clock_system_error_usec(true, NAN), CLOCK_SYSTEM_MAX_ERROR_USEC);
}

static void the_system_clock_reads_without_writing(void **state) {
        Clock *c;
        nsec_t t;
        double ppm;

        assert_int_equal(clock_new_system(&c), 0);
        assert_true(c->controls);
        assert_int_equal(clock_read(c, &t), 0);
        assert_true(llabs(t - now_realtime()) < NSEC_PER_SEC);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_near(ppm, 0, 100000);
        clock_free(c);
}

/* 2017-01-01 00:00:00 UTC, after the inserted 2016-12-31 23:59:60. */
#define MIDNIGHT (INT64_C(1483228800) * NSEC_PER_SEC)

static void the_sim_clock_inserts_a_leap_second_like_the_kernel(void **state) {
        SimClockParams p = { .start = MIDNIGHT - 10 * NSEC_PER_SEC };
        ClockSyncStatus st = { .synchronized = true, .leap = CLOCK_LEAP_INSERT };
        Clock *c;
        nsec_t t;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        sim_clock_schedule_leap(c, MIDNIGHT, +1);
        assert_int_equal(clock_set_sync_status(c, &st), 0);
        sim_clock_advance(c, 10.5);
        /* True UTC repeats 23:59:59, and so does the clock. */
        assert_true(sim_clock_true_utc(c) == MIDNIGHT - NSEC_PER_SEC / 2);
        assert_int_equal(clock_read(c, &t), 0);
        assert_true(t == MIDNIGHT - NSEC_PER_SEC / 2);
        assert_near(sim_clock_time_error(c), 0, 1e-12);
        assert_int_equal(sim_clock_leaps_applied(c), 1);
        /* Once only, until STA_INS is cleared. */
        sim_clock_advance(c, 86400);
        assert_int_equal(sim_clock_leaps_applied(c), 1);
        assert_true(sim_clock_sync_status(c)->leap == CLOCK_LEAP_INSERT);
        clock_free(c);
}

static void without_sta_ins_the_clock_runs_a_second_ahead(void **state) {
        SimClockParams p = { .start = MIDNIGHT - 10 * NSEC_PER_SEC };
        Clock *c;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        sim_clock_schedule_leap(c, MIDNIGHT, +1);
        sim_clock_advance(c, 20);
        assert_int_equal(sim_clock_leaps_applied(c), 0);
        assert_near(sim_clock_time_error(c), 1.0, 1e-12);
        clock_free(c);
}

static void the_sim_clock_deletes_a_leap_second_like_the_kernel(void **state) {
        SimClockParams p = { .start = MIDNIGHT - 10 * NSEC_PER_SEC };
        ClockSyncStatus st = { .synchronized = true, .leap = CLOCK_LEAP_DELETE };
        Clock *c;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        sim_clock_schedule_leap(c, MIDNIGHT, -1);
        assert_int_equal(clock_set_sync_status(c, &st), 0);
        sim_clock_advance(c, 9.5);
        /* 23:59:59 never happens: 23:59:58.5 true time is 00:00:00.5 UTC. */
        assert_true(sim_clock_true_utc(c) == MIDNIGHT + NSEC_PER_SEC / 2);
        assert_int_equal(sim_clock_leaps_applied(c), -1);
        assert_near(sim_clock_time_error(c), 0, 1e-12);
        clock_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_sim_clock_drifts_by_its_frequency_error),
                cmocka_unit_test(the_sim_clock_frequency_jumps_once),
                cmocka_unit_test(the_sim_clock_has_the_kernels_limits),
                cmocka_unit_test(the_wall_offset_moves_only_with_steps),
                cmocka_unit_test(the_sim_clock_steps),
                cmocka_unit_test(the_sim_clock_is_deterministic_for_a_seed),
                cmocka_unit_test(the_sim_clock_inserts_a_leap_second_like_the_kernel),
                cmocka_unit_test(without_sta_ins_the_clock_runs_a_second_ahead),
                cmocka_unit_test(the_sim_clock_deletes_a_leap_second_like_the_kernel),
                cmocka_unit_test(wander_is_a_random_walk_of_the_right_size),
                cmocka_unit_test(the_none_clock_applies_corrections_virtually),
                cmocka_unit_test(the_none_clock_tells_where_it_stands_against_the_system_clock),
                cmocka_unit_test(clocks_that_are_the_system_clock_stand_at_zero_against_it),
                cmocka_unit_test(frequencies_split_into_tick_and_remainder),
                cmocka_unit_test(status_bits_follow_the_sync_state),
                cmocka_unit_test(maxerror_tells_whether_we_are_synchronised),
                cmocka_unit_test(the_system_clock_reads_without_writing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
