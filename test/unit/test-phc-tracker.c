/* Tests for src/clock/phc-tracker: converting hardware timestamps to system
 * time from samplings of a simulated PTP hardware clock whose oscillator
 * is off by a known frequency and whose readings are bracketed by system
 * clock readings of varying width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>

#include "clock/phc-tracker.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
/* The PHC runs on TAI-ish time: 37 s ahead of the system clock, and 20 ppm
 * fast. */
#define PHC_OFFSET (INT64_C(37) * NSEC_PER_SEC)
#define PHC_PPM 20.0

static nsec_t phc_at(nsec_t sys) {
        return sys + PHC_OFFSET + (nsec_t) llround(nsec_diff(sys, T0) * PHC_PPM * 1e3);
}

/* One sampling at system time sys: n readings, bracket i wide i+1 times
 * `width` ns, the PHC read at `skew` of the way through (0.5: the middle). */
static void sample(PhcTracker *t, nsec_t sys, size_t n, nsec_t width, double skew) {
        PhcReading r[PHC_TRACKER_MAX_READINGS];

        for (size_t i = 0; i < n; i++) {
                nsec_t w = width * (nsec_t) (n - i), at = sys + (nsec_t) i * 10000;
                nsec_t read = at + (nsec_t) llround((double) w * skew);
                r[i] = (PhcReading) { .sys_before = at, .phc = phc_at(read), .sys_after = at + w };
        }
        assert_true(phc_tracker_add(t, r, n) >= 0);
}

static void nothing_converts_before_two_samplings(void **state) {
        PhcTracker t;
        nsec_t sys;

        phc_tracker_init(&t);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0), &sys, NULL), -EAGAIN);
        sample(&t, T0, 5, 1000, 0.5);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0), &sys, NULL), -EAGAIN);
        sample(&t, T0 + NSEC_PER_SEC, 5, 1000, 0.5);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0), &sys, NULL), 0);
}

static void conversion_follows_offset_and_frequency(void **state) {
        PhcTracker t;
        nsec_t sys;
        double error;

        phc_tracker_init(&t);
        for (int i = 0; i < 20; i++)
                sample(&t, T0 + i * 2 * NSEC_PER_SEC, 5, 800, 0.5);
        assert_near(phc_tracker_frequency_ppm(&t), -PHC_PPM / (1 + PHC_PPM * 1e-6), 1e-3);
        /* A hardware timestamp between samplings, and one a little after. */
        for (int k = 0; k < 2; k++) {
                nsec_t truth = T0 + 25 * NSEC_PER_SEC + k * 20 * NSEC_PER_SEC + 123456;
                assert_int_equal(phc_tracker_convert(&t, phc_at(truth), &sys, &error), 0);
                assert_true(llabs(sys - truth) <= 2);
                assert_true(error >= 0 && error < 1e-6);
        }
}

/* The narrowest bracket wins: a reading read late within a wide bracket
 * would pull the offset by half its width. */
static void the_narrowest_bracket_is_used(void **state) {
        PhcTracker t;
        PhcReading r[2];
        nsec_t sys;

        phc_tracker_init(&t);
        for (int i = 0; i < 4; i++) {
                nsec_t at = T0 + i * NSEC_PER_SEC;
                r[0] = (PhcReading) { at, phc_at(at + 9000), at + 10000 };     /* wide, read late */
                r[1] = (PhcReading) { at + 20000, phc_at(at + 20050), at + 20100 };
                assert_int_equal(phc_tracker_add(&t, r, 2), 0);
        }
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0 + 2 * NSEC_PER_SEC), &sys, NULL), 0);
        assert_true(llabs(sys - (T0 + 2 * NSEC_PER_SEC)) <= 2);
}

/* PTP_SYS_OFFSET_PRECISE: one reading, no bracket. */
static void precise_readings_have_no_error_of_their_own(void **state) {
        PhcTracker t;
        nsec_t sys;
        double error;

        phc_tracker_init(&t);
        for (int i = 0; i < 8; i++)
                sample(&t, T0 + i * NSEC_PER_SEC, 1, 0, 0);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0 + 3 * NSEC_PER_SEC + 5), &sys, &error), 0);
        assert_true(llabs(sys - (T0 + 3 * NSEC_PER_SEC + 5)) <= 1);
        assert_true(error < 1e-8);
}

static void a_step_restarts_the_window(void **state) {
        PhcTracker t;
        PhcReading r;
        nsec_t sys;

        phc_tracker_init(&t);
        for (int i = 0; i < 6; i++)
                sample(&t, T0 + i * NSEC_PER_SEC, 3, 500, 0.5);
        /* Someone sets the PHC 10 ms forward. */
        nsec_t at = T0 + 6 * NSEC_PER_SEC;
        r = (PhcReading) { at, phc_at(at + 250) + 10 * NSEC_PER_MSEC, at + 500 };
        assert_int_equal(phc_tracker_add(&t, &r, 1), 1);
        assert_int_equal(t.resets, 1);
        assert_int_equal(phc_tracker_convert(&t, r.phc, &sys, NULL), -EAGAIN);
        /* And backwards: the PHC going back is a step too. */
        r.sys_before += NSEC_PER_SEC, r.sys_after += NSEC_PER_SEC, r.phc -= NSEC_PER_SEC;
        assert_int_equal(phc_tracker_add(&t, &r, 1), 1);
        assert_int_equal(t.resets, 2);
}

static void far_timestamps_and_bad_readings_are_refused(void **state) {
        PhcTracker t;
        PhcReading bad = { T0 + 10, phc_at(T0), T0 };  /* after before before */
        nsec_t sys;

        phc_tracker_init(&t);
        assert_int_equal(phc_tracker_add(&t, &bad, 1), -EINVAL);
        assert_int_equal(phc_tracker_add(&t, &bad, 0), -EINVAL);
        for (int i = 0; i < 4; i++)
                sample(&t, T0 + i * NSEC_PER_SEC, 3, 500, 0.5);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0 + 3600 * NSEC_PER_SEC), &sys, NULL), -ERANGE);
        assert_int_equal(phc_tracker_convert(&t, phc_at(T0 - 3600 * NSEC_PER_SEC), &sys, NULL), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(nothing_converts_before_two_samplings),
                cmocka_unit_test(conversion_follows_offset_and_frequency),
                cmocka_unit_test(the_narrowest_bracket_is_used),
                cmocka_unit_test(precise_readings_have_no_error_of_their_own),
                cmocka_unit_test(a_step_restarts_the_window),
                cmocka_unit_test(far_timestamps_and_bad_readings_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
