/* Tests for reading /etc/adjtime: which clock the RTC keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/adjtime.h"

static void test_local_rtc_is_detected(void **state) {
        assert_true(adjtime_parse_local("0.0 0 0.0\n0\nLOCAL\n"));
        assert_true(adjtime_parse_local("0.0 0 0.0\n0\nLOCAL"));
}

static void test_utc_and_short_files_mean_utc(void **state) {
        const char *utc[] = { "0.0 0 0.0\n0\nUTC\n", "0.0 0 0.0\n0\n", "0.0 0 0.0\n", "", "0.0 0 0.0\n0\nLOCALX\n",
                              "LOCAL\n0\nUTC\n" };
        for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++)
                assert_false(adjtime_parse_local(utc[i]));
}

static void test_missing_file_means_utc(void **state) {
        assert_false(adjtime_read_local("/nonexistent/adjtime"));
}

static void test_file_is_read(void **state) {
        char path[] = "/tmp/test-adjtime-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fputs("0.000000 1700000000 0.000000\n1700000000\nLOCAL\n", f);
        fclose(f);
        assert_true(adjtime_read_local(path));
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_local_rtc_is_detected),
                cmocka_unit_test(test_utc_and_short_files_mean_utc),
                cmocka_unit_test(test_missing_file_means_utc),
                cmocka_unit_test(test_file_is_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
