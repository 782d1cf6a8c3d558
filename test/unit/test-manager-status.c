/* Tests for src/daemon/manager-status: the tracking figures tempusd reports
 * (tempusctl tracking, D-Bus, the tracking log) are about the system clock,
 * also under Control=no, where tempusd disciplines a virtual clock on top
 * of it, and carry chrony's signs. Nothing here writes the real clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "clock/clock-sim.h"
#include "daemon/manager-status.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)

typedef struct Fixture {
        Clock *clock;
        Engine *engine;
} Fixture;

static void fixture_init(Fixture *f, Clock *clock, double drift_ppm) {
        EngineParams p;

        engine_params_init(&p);
        p.discipline.use_initial_frequency = drift_ppm != 0;
        p.discipline.initial_frequency_ppm = -drift_ppm;
        f->clock = clock;
        assert_int_equal(engine_new(clock, &p, &f->engine), 0);
}

static void fixture_done(Fixture *f) {
        engine_free(f->engine);
        clock_free(f->clock);
}

static Clock *none_clock(void) {
        Clock *c;
        assert_int_equal(clock_new_none(&c), 0);
        return c;
}

/* tempusd has learnt that true time is 5 ms ahead of the system clock and
 * moved its virtual clock there; 2 ms more are still being slewed. */
static void under_control_no_system_time_is_the_full_estimate(void **state) {
        Fixture f;
        Tracking engine, shown;

        fixture_init(&f, none_clock(), 0);
        clock_step(f.clock, 0.005);
        assert_int_equal(discipline_leap(&f.engine->discipline, 0.002), 0);

        engine_tracking(f.engine, &engine);
        status_tracking(f.engine, &shown);
        assert_true(fabs(engine.system_time_offset + 0.002) < 1e-6);
        /* positive: fast; the system clock is 7 ms slow. */
        assert_true(fabs(shown.system_time_offset + 0.007) < 1e-6);
        fixture_done(&f);
}

static void a_finished_slew_leaves_the_estimate_unchanged(void **state) {
        Fixture f;
        Tracking before, after;

        fixture_init(&f, none_clock(), 0);
        clock_step(f.clock, -0.003);
        assert_int_equal(discipline_leap(&f.engine->discipline, 0.001), 0);
        status_tracking(f.engine, &before);
        /* MakeStep() moves what is left of the slew into the virtual clock
         * at once: nothing is pending any more, the estimate stays. */
        assert_int_equal(engine_make_step(f.engine), 0);
        status_tracking(f.engine, &after);
        assert_true(fabs(before.system_time_offset - 0.002) < 1e-6);
        assert_true(fabs(after.system_time_offset - 0.002) < 1e-6);
        fixture_done(&f);
}

static void frequency_is_the_system_clocks_own_rate_error(void **state) {
        Fixture f;
        Tracking t;
        double virtual_ppm;

        /* A system clock that gains 12 ppm: the virtual clock runs 12 ppm
         * slower than it, and tracking says "12 ppm fast" as chronyc does. */
        fixture_init(&f, none_clock(), 12);
        status_tracking(f.engine, &t);
        assert_int_equal(clock_offset_from_system(f.clock, now_realtime(), NULL, &virtual_ppm), 0);
        assert_true(fabs(virtual_ppm + 12) < 1e-6);
        assert_true(fabs(t.frequency_ppm - 12) < 1e-6);
        fixture_done(&f);
}

static void with_clock_control_nothing_changes(void **state) {
        SimClockParams p = { .start = T0, .initial_offset = 0.25, .frequency_ppm = 30 };
        Fixture f;
        Clock *c;
        Tracking engine, shown;

        assert_int_equal(clock_new_sim(&p, &c), 0);
        fixture_init(&f, c, 30);
        assert_int_equal(discipline_leap(&f.engine->discipline, 0.004), 0);
        engine_tracking(f.engine, &engine);
        status_tracking(f.engine, &shown);
        assert_true(engine.system_time_offset == -0.004);
        assert_true(shown.system_time_offset == engine.system_time_offset);
        assert_true(shown.frequency_ppm == engine.frequency_ppm);
        fixture_done(&f);
}

static void the_tracking_log_has_chronys_signs(void **state) {
        /* The system clock 7 ms slow, the last update found it 1 ms behind
         * (true - local = +1 ms), and it runs 3 ppm fast. */
        Tracking t = { .system_time_offset = -0.007, .last_offset = 0.001, .frequency_ppm = 3,
                       .reference_name = "192.0.2.1" };
        LogTracking row;

        status_tracking_log_row(&t, &row);
        assert_true(row.remaining_correction == 0.007);        /* positive: slow */
        assert_true(row.offset == -0.001);                      /* local - true */
        assert_true(row.frequency_ppm == 3);                    /* positive: fast */
        assert_string_equal(row.address, "192.0.2.1");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(under_control_no_system_time_is_the_full_estimate),
                cmocka_unit_test(a_finished_slew_leaves_the_estimate_unchanged),
                cmocka_unit_test(frequency_is_the_system_clocks_own_rate_error),
                cmocka_unit_test(with_clock_control_nothing_changes),
                cmocka_unit_test(the_tracking_log_has_chronys_signs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
