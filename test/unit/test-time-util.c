/* Tests for src/shared/time-util: conversions and chronyc-style offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shared/time-util.h"

static void offsets_print_like_chronyc(void **state) {
        static const struct { double s; const char *text; } cases[] = {
                { 0.013, "+13ms" }, { 278e-6, "+278us" }, { -3718e-6, "-3718us" }, { 12e-9, "+12ns" },
                { 1.5, "+1500ms" }, { 25.0, "+25s" }, { 0, "+0ns" },
        };
        char buf[32];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_string_equal(format_offset(buf, sizeof buf, cases[i].s, 0), cases[i].text);
}

static void nanoseconds_and_timespecs_convert_both_ways(void **state) {
        struct timespec ts = nsec_to_timespec(-1);
        assert_int_equal(ts.tv_sec, -1);
        assert_int_equal(ts.tv_nsec, 999999999);
        assert_int_equal(timespec_to_nsec(&ts), -1);
        assert_int_equal(seconds_to_nsec(-0.5), -500000000);
        assert_true(nsec_diff(3 * NSEC_PER_SEC, NSEC_PER_SEC) == 2.0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(offsets_print_like_chronyc),
                cmocka_unit_test(nanoseconds_and_timespecs_convert_both_ways),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
