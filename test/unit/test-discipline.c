/* Tests for src/core/discipline on the simulated clock: frequency blending,
 * slews, steps, cooked time and change notifications. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "clock/clock-sim.h"
#include "core/discipline.h"
#include "shared/macro.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)

typedef struct Change {
        nsec_t when;
        double dfreq, doffset;
} Change;

static Change changes[16];
static unsigned n_changes;

static void record(nsec_t when, double dfreq, double doffset, void *userdata) {
        if (n_changes < 16)
                changes[n_changes] = (Change) { when, dfreq, doffset };
        n_changes++;
}

static Clock *sim(double offset, double ppm) {
        SimClockParams p = { .start = T0, .initial_offset = offset, .frequency_ppm = ppm, .seed = 1 };
        Clock *c;
        assert_int_equal(clock_new_sim(&p, &c), 0);
        return c;
}

static void setup_discipline(Discipline *d, Clock *c, double threshold, int limit) {
        DisciplineParams p;
        discipline_params_init(&p);
        p.makestep_threshold = threshold;
        p.makestep_limit = limit;
        n_changes = 0;
        assert_int_equal(discipline_init(d, c, &p, record, NULL), 0);
}

static void a_slew_stays_within_the_kernels_range(void **state) {
        /* The clock is 8 % slow: the base correction is +8.7 %, and the
         * tick leaves room for only about 1.2 % more. A 10 s offset must
         * be slewed within that room, and cooked time must stay true to
         * the slew the kernel really carries out. */
        Clock *c = sim(-10, -80000);
        Discipline d;
        nsec_t raw;

        setup_discipline(&d, c, 0, 0);
        d.frequency_ppm = (1.0 / 0.92 - 1.0) * 1e6;
        DisciplineInput in = { .offset = 10, .skew = 1.0 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_true(fabs(sim_clock_applied_ppm(c)) <= CLOCK_KERNEL_MAX_FREQUENCY_PPM + 1e-3);
        assert_true(d.slew_rate > 0.01 && d.slew_rate < 0.02);
        sim_clock_advance(c, 100);
        assert_int_equal(clock_read(c, &raw), 0);
        /* cooked - true stays what it was (zero) while raw catches up. */
        double cooked_error = sim_clock_time_error(c) + discipline_remaining(&d, raw);
        assert_near(cooked_error, 0, 1e-6);
        clock_free(c);
}

static void makestep_0_steps_every_update(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;

        setup_discipline(&d, c, 0, -1);
        for (int i = 0; i < 3; i++) {
                DisciplineInput in = { .offset = 1e-4, .skew = 1.0 };
                DisciplineUpdate u;
                assert_int_equal(discipline_update(&d, &in, &u), 0);
                assert_true(u.stepped);
        }
        assert_int_equal(sim_clock_steps(c), 3);
        clock_free(c);
}

static void an_offset_is_slewed_and_cooked_time_moves_at_once(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        nsec_t raw, cooked;

        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0.01, .skew = 1.0 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_true(d.slewing);
        assert_int_equal(clock_read(c, &raw), 0);
        assert_int_equal(discipline_cook(&d, raw), raw + 10 * NSEC_PER_MSEC);
        /* One change: cooked time jumped forward by the offset. */
        assert_int_equal(n_changes, 1);
        assert_true(changes[0].doffset == 0.01 && changes[0].dfreq == 0);

        /* The clock runs fast while slewing, at amount / duration. */
        double ppm;
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_near(ppm, d.slew_rate * 1e6, 1e-9);
        assert_true(ppm > 0);

        /* Run until the slew is due and finish it: the clock has gained the
         * offset and runs at the base frequency again. */
        sim_clock_advance(c, discipline_timer_delay(&d, raw) + 1e-9);
        assert_int_equal(discipline_on_timer(&d), 0);
        assert_false(d.slewing);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_near(ppm, 0, 1e-9);
        assert_near(sim_clock_time_error(c), 0.01, 1e-8);
        assert_int_equal(discipline_now(&d, &cooked), 0);
        assert_int_equal(clock_read(c, &raw), 0);
        assert_true(llabs(cooked - raw) <= 10);
        clock_free(c);
}

/* The rate of the slew started by an update of offset, with a standard
 * error of sd, at a poll interval of 64 s; gap > 0: gap seconds after a
 * first update (of no offset), else as the first. */
static double slew_ppm_after(double gap, double offset, double sd) {
        Clock *c = sim(0, 0);
        Discipline d;

        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0, .offset_sd = sd, .skew = 1.0, .interval = 64 };
        if (gap > 0) {
                assert_int_equal(discipline_update(&d, &in, NULL), 0);
                sim_clock_advance(c, gap);
        }
        in.offset = offset;
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_true(d.slewing);
        double ppm = d.slew_rate * 1e6;
        clock_free(c);
        return ppm;
}

static double slew_ppm_for(double offset, double sd) {
        return slew_ppm_after(0, offset, sd);
}

static void a_few_milliseconds_are_slewed_gently(void **state) {
        /* 2 ms with a standard error of 2 us: certainly real, but slewed
         * at no more than 400 ppm, in 5 s; 50 ms (a start) still at once,
         * far beyond. */
        double ppm = slew_ppm_for(2e-3, 2e-6);
        assert_true(ppm <= 400 + 1e-6);
        assert_true(ppm >= 399);
        assert_true(slew_ppm_for(-2e-3, 2e-6) >= -400 - 1e-6);
        assert_true(slew_ppm_for(50e-3, 2e-6) > 10000);
        /* An offset about its own size is spread over 1.5 intervals. */
        assert_near(slew_ppm_for(2e-3, 1e-3), 2e-3 / 96 * 1e6, 1e-6);
}

static void after_a_gap_a_millisecond_is_slewed_quietly(void **state) {
        /* 818 us with a standard error of 2 us, 1300 s after the last
         * update (rare replies): no faster than 90 ppm, in 9 s. */
        double ppm = slew_ppm_after(1300, 818e-6, 2e-6);
        assert_true(ppm <= 90 + 1e-6);
        assert_true(ppm >= 89);
        /* 2 s after it (a burst at the start), the same goes at up to
         * 400 ppm, and so do 2 ms 16 s after it (polled every 16 s). */
        assert_true(slew_ppm_after(2, 818e-6, 2e-6) > 300);
        assert_true(slew_ppm_after(16, 2e-3, 2e-6) > 300);
        /* 10 ms after a gap: as its standard error allows. */
        assert_true(slew_ppm_after(1300, 10e-3, 2e-6) > 1000);
}

static void an_offset_below_a_microsecond_is_slewed_too(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        nsec_t raw;
        double ppm;

        /* With a microsecond of jitter most offsets are smaller than that.
         * Each one is announced as made (the samples are re-expressed by
         * it), so the clock must really make it. */
        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0.4e-6, .skew = 1.0 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_int_equal(n_changes, 1);
        assert_true(changes[0].doffset == 0.4e-6);
        assert_true(d.slewing);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_true(ppm > 0);
        assert_int_equal(clock_read(c, &raw), 0);
        sim_clock_advance(c, discipline_timer_delay(&d, raw) + 1e-9);
        assert_int_equal(discipline_on_timer(&d), 0);
        assert_near(sim_clock_time_error(c), 0.4e-6, 1e-9);
        clock_free(c);
}

/* A clock so slow that the base correction takes the whole of its range
 * upwards: it can be slewed back but not forward. Returns the clock, after
 * an update by offset. */
static Clock *update_at_top_of_range(Discipline *d, double offset) {
        Clock *c = sim(0, -CLOCK_KERNEL_MAX_FREQUENCY_PPM);

        setup_discipline(d, c, 0, 0);
        d->frequency_ppm = CLOCK_KERNEL_MAX_FREQUENCY_PPM;
        DisciplineInput in = { .offset = offset, .skew = 1.0 };
        assert_int_equal(discipline_update(d, &in, NULL), 0);
        return c;
}

static void without_room_to_slew_the_sources_hear_that_nothing_moved(void **state) {
        Discipline d;
        nsec_t raw;

        /* A positive offset cannot be slewed. */
        Clock *c = update_at_top_of_range(&d, 0.001);
        assert_false(d.slewing);
        assert_int_equal(clock_read(c, &raw), 0);
        assert_int_equal(discipline_cook(&d, raw), raw);
        /* The last change announced moved nothing: the offset is still
         * in every sample, to be corrected when there is room. */
        assert_true(n_changes >= 1);
        assert_true(changes[n_changes - 1].doffset == 0);
        clock_free(c);
}

static void an_overshoot_that_cannot_be_slewed_back_is_announced(void **state) {
        Discipline d;
        nsec_t raw;

        /* A negative offset can be slewed, but a late timer's overshoot,
         * which wants the clock faster again, cannot. */
        Clock *c = update_at_top_of_range(&d, -0.001);
        assert_true(d.slewing);
        assert_int_equal(clock_read(c, &raw), 0);
        sim_clock_advance(c, discipline_timer_delay(&d, raw) + 0.5);
        assert_int_equal(clock_read(c, &raw), 0);
        double residual = discipline_remaining(&d, raw);
        assert_true(residual > 0);
        unsigned before = n_changes;
        assert_int_equal(discipline_on_timer(&d), 0);
        assert_false(d.slewing);
        assert_int_equal(n_changes, before + 1);
        assert_near(changes[n_changes - 1].doffset, -residual, 1e-12);
        clock_free(c);
}

static void a_late_timer_re_aims_the_slew(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        nsec_t raw;

        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0.001, .skew = 1.0 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_int_equal(clock_read(c, &raw), 0);
        /* Fire 0.5 s late: the clock overshot; the discipline slews back. */
        sim_clock_advance(c, discipline_timer_delay(&d, raw) + 0.5);
        assert_int_equal(discipline_on_timer(&d), 0);
        assert_true(d.slewing);
        assert_true(discipline_remaining(&d, raw + seconds_to_nsec(nsec_diff(d.slew_start, raw))) < 0);
        clock_free(c);
}

static void frequency_follows_the_residual_weighted_by_skew(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        DisciplineUpdate u;

        setup_discipline(&d, c, 0, 0);
        /* Unknown prior: takes nearly all of a well-measured residual. */
        DisciplineInput in = { .offset = 0, .frequency = 10e-6, .skew = 0.1e-6 };
        assert_int_equal(discipline_update(&d, &in, &u), 0);
        assert_near(u.frequency_change_ppm, 10.0, 0.01);
        assert_near(d.frequency_ppm, 10.0, 0.01);
        /* Equal uncertainty on both sides: half (a residual of 1.4
         * standard errors adds 4e-8 of doubt about the old estimate). */
        d.skew_ppm = 1.0;
        in = (DisciplineInput) { .offset = 0, .frequency = 2e-6, .skew = 1e-6 };
        assert_int_equal(discipline_update(&d, &in, &u), 0);
        assert_near(u.frequency_change_ppm, 1.0, 1e-6);
        /* The change was announced with its size. */
        bool seen = false;
        for (unsigned i = 0; i < n_changes && i < 16; i++)
                seen = seen || fabs(changes[i].dfreq - 1e-6) < 1e-12;
        assert_true(seen);
        clock_free(c);
}

static void no_frequency_change_before_the_regression_can_tell(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        DisciplineUpdate u;

        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0, .frequency = 50e-6, .skew = 2000e-6 };
        assert_int_equal(discipline_update(&d, &in, &u), 0);
        assert_true(u.frequency_change_ppm == 0);
        clock_free(c);
}

/* A drift file from another machine: it claims 1 ppm of certainty and is
 * 270 ppm off. The first measurement is too noisy to contradict it (three
 * of its standard errors); the later ones contradict it at many, and the
 * estimate must follow them, not creep towards them by a few percent of
 * the residual at each update. */
static void a_contradicted_estimate_is_replaced(void **state) {
        Clock *c = sim(0, 0);
        DisciplineParams p;
        Discipline d;
        DisciplineUpdate u;
        const double right_ppm = -70, skews_ppm[] = { 90, 60, 40, 20, 10 };

        discipline_params_init(&p);
        p.use_initial_frequency = true;
        p.initial_frequency_ppm = 200;
        p.initial_skew_ppm = 1;
        assert_int_equal(discipline_init(&d, c, &p, NULL, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(skews_ppm); i++) {
                DisciplineInput in = { .frequency = (right_ppm - d.frequency_ppm) * 1e-6,
                                       .skew = skews_ppm[i] * 1e-6 };
                assert_int_equal(discipline_update(&d, &in, &u), 0);
                if (i == 0)
                        /* Three standard errors: the blend alone, 1/8101. */
                        assert_near(d.frequency_ppm, 200 - 270.0 / 8101, 0.01);
        }
        assert_near(d.frequency_ppm, right_ppm, 5);
        /* It is as certain as the measurements that replaced it. */
        assert_near(d.skew_ppm, 10, 0.5);

        /* An established frequency, and then the clock's own jumps by
         * 20 ppm (a virtual machine moved to other hardware): one
         * measurement of 20 +/- 2 ppm moves it all the way. */
        d.skew_ppm = 0.01;
        DisciplineInput jump = { .frequency = 20e-6, .skew = 2e-6 };
        assert_int_equal(discipline_update(&d, &jump, &u), 0);
        assert_near(u.frequency_change_ppm, 20, 0.01);
        clock_free(c);
}

static void makestep_steps_only_over_the_threshold_in_the_first_updates(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        DisciplineUpdate u;

        setup_discipline(&d, c, 1.0, 2);
        DisciplineInput small = { .offset = 0.5, .skew = 1 }, big = { .offset = 5.0, .skew = 1 };
        assert_int_equal(discipline_update(&d, &small, &u), 0);                      /* update 1: under threshold */
        assert_false(u.stepped);
        assert_int_equal(discipline_update(&d, &big, &u), 0);                        /* update 2: steps */
        assert_true(u.stepped);
        assert_int_equal(sim_clock_steps(c), 1);
        assert_int_equal(discipline_update(&d, &big, &u), 0);                        /* update 3: past the limit */
        assert_false(u.stepped);
        assert_int_equal(sim_clock_steps(c), 1);
        clock_free(c);
}

static void makestep_never_steps_with_limit_zero_and_always_with_minus_one(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;
        DisciplineUpdate u;
        DisciplineInput big = { .offset = 5.0, .skew = 1 };

        setup_discipline(&d, c, 1.0, 0);
        assert_int_equal(discipline_update(&d, &big, &u), 0);
        assert_false(u.stepped);

        setup_discipline(&d, c, 1.0, -1);
        for (int i = 0; i < 5; i++) {
                assert_int_equal(discipline_update(&d, &big, &u), 0);
                assert_true(u.stepped);
        }
        clock_free(c);
}

static void a_step_moves_the_clock_and_announces_it(void **state) {
        Clock *c = sim(-3.0, 0);
        Discipline d;

        setup_discipline(&d, c, 1.0, 1);
        DisciplineInput in = { .offset = 3.0, .skew = 1 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        assert_near(sim_clock_time_error(c), 0, 1e-9);
        assert_true(changes[n_changes - 1].doffset == 3.0);
        clock_free(c);
}

static void step_now_finishes_the_slew_at_once(void **state) {
        Clock *c = sim(0, 0);
        Discipline d;

        setup_discipline(&d, c, 0, 0);
        DisciplineInput in = { .offset = 0.2, .skew = 1 };
        assert_int_equal(discipline_update(&d, &in, NULL), 0);
        nsec_t last_update = d.last_update;
        assert_int_equal(discipline_step_now(&d, 0), 0);
        assert_false(d.slewing);
        /* Cooked time did not move, nor did the time of the last update. */
        assert_true(d.last_update == last_update);
        assert_near(sim_clock_time_error(c), 0.2, 1e-6);
        assert_int_equal(discipline_next_timer(&d), INT64_MAX);
        clock_free(c);
}

static void the_drift_file_frequency_is_applied_at_start(void **state) {
        Clock *c = sim(0, 0);
        DisciplineParams p;
        Discipline d;
        double ppm;

        discipline_params_init(&p);
        p.use_initial_frequency = true;
        p.initial_frequency_ppm = -12.5;
        p.initial_skew_ppm = 0.1;
        assert_int_equal(discipline_init(&d, c, &p, NULL, NULL), 0);
        assert_int_equal(clock_get_frequency(c, &ppm), 0);
        assert_near(ppm + 12.5, 0, 1e-9);
        assert_true(d.frequency_known);
        clock_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(an_offset_is_slewed_and_cooked_time_moves_at_once),
                cmocka_unit_test(a_slew_stays_within_the_kernels_range),
                cmocka_unit_test(makestep_0_steps_every_update),
                cmocka_unit_test(an_offset_below_a_microsecond_is_slewed_too),
                cmocka_unit_test(a_few_milliseconds_are_slewed_gently),
                cmocka_unit_test(after_a_gap_a_millisecond_is_slewed_quietly),
                cmocka_unit_test(without_room_to_slew_the_sources_hear_that_nothing_moved),
                cmocka_unit_test(an_overshoot_that_cannot_be_slewed_back_is_announced),
                cmocka_unit_test(a_late_timer_re_aims_the_slew),
                cmocka_unit_test(frequency_follows_the_residual_weighted_by_skew),
                cmocka_unit_test(no_frequency_change_before_the_regression_can_tell),
                cmocka_unit_test(a_contradicted_estimate_is_replaced),
                cmocka_unit_test(makestep_steps_only_over_the_threshold_in_the_first_updates),
                cmocka_unit_test(makestep_never_steps_with_limit_zero_and_always_with_minus_one),
                cmocka_unit_test(a_step_moves_the_clock_and_announces_it),
                cmocka_unit_test(step_now_finishes_the_slew_at_once),
                cmocka_unit_test(the_drift_file_frequency_is_applied_at_start),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
