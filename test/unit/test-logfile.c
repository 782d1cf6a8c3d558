/* Tests for src/daemon/logfile: chrony's columns, exactly, and the files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "config/config.h"
#include "daemon/logfile.h"
#include "test-util.h"

/* 2026-11-24 04:00:18 UTC */
#define WHEN (INT64_C(1795492818) * NSEC_PER_SEC + 250000000)

static void tracking_lines_have_chronys_columns(void **state) {
        LogTracking t = {
                .time = WHEN, .address = "127.0.0.1", .stratum = 9, .frequency_ppm = -16.551, .skew_ppm = 9.952,
                .offset = -8.075e-05, .leap = NTP_LEAP_NONE, .combined = 1, .offset_sd = 3.743e-05,
                .remaining_correction = -5.516e-05, .root_delay = 1e-07, .root_dispersion = 4.485e-05,
                .max_error = 1.257e-04,
        };
        char line[256];

        logfile_format_tracking(line, sizeof line, &t);
        assert_string_equal(line, "2026-11-24 04:00:18 127.0.0.1        9    -16.551      9.952 -8.075e-05 N  1 "
                                  " 3.743e-05 -5.516e-05  1.000e-07  4.485e-05  1.257e-04");
}

static void measurement_lines_have_chronys_columns(void **state) {
        LogMeasurement m = {
                .time = WHEN, .address = "192.168.2.100", .leap = NTP_LEAP_INSERT, .stratum = 2, .poll_local = 6,
                .poll_remote = 6, .offset = -4.966e-03, .peer_delay = 2.296e-01, .peer_dispersion = 1.577e-05,
                .root_delay = 1.615e-01, .root_dispersion = 7.446e-03, .refid = 0xCB00717B,
                .mode = NTP_MODE_SERVER, .tx_kind = TIMESTAMP_DAEMON, .rx_kind = TIMESTAMP_KERNEL,
        };
        char line[256];

        logfile_format_measurement(line, sizeof line, &m);
        assert_string_equal(line, "2026-11-24 04:00:18 192.168.2.100   +  2 111 111 1111   6  6 0.00 -4.966e-03 "
                                  " 2.296e-01  1.577e-05  1.615e-01  7.446e-03 CB00717B 4B D K");
}

/* MTxRx says what the sample was made of, as chronyd's does. */
static void the_mtxrx_column_names_the_mode_and_timestamp_kinds(void **state) {
        LogMeasurement m = { .time = WHEN, .address = "10.0.0.1", .mode = NTP_MODE_SERVER, .interleaved = true,
                             .tx_kind = TIMESTAMP_HARDWARE, .rx_kind = TIMESTAMP_HARDWARE };
        char line[256];

        logfile_format_measurement(line, sizeof line, &m);
        assert_non_null(strstr(line, " 00000000 4I H H"));
        m = (LogMeasurement) { .time = WHEN, .address = "10.0.0.1", .mode = NTP_MODE_SYMMETRIC_PASSIVE,
                               .tx_kind = TIMESTAMP_KERNEL, .rx_kind = TIMESTAMP_DAEMON };
        logfile_format_measurement(line, sizeof line, &m);
        assert_non_null(strstr(line, " 00000000 2B K D"));
}

static void statistics_lines_have_chronys_columns(void **state) {
        LogStatistics s = {
                .time = WHEN, .address = "10.0.0.1", .std_dev = 6.261e-03, .est_offset = -3.247e-03,
                .offset_sd = 2.220e-03, .diff_freq = 1.874e-06, .est_skew = 1.080e-06, .stress = 7.8e-02,
                .n_samples = 16, .n_runs = 8,
        };
        char line[256];

        logfile_format_statistics(line, sizeof line, &s);
        assert_string_equal(line, "2026-11-24 04:00:18 10.0.0.1         6.261e-03 -3.247e-03  2.220e-03  1.874e-06 "
                                  " 1.080e-06 7.8e-02  16   0   8  0.00");
        /* The jitter asymmetry corrected for, in chrony's last column. */
        s.asymmetry = -0.48;
        logfile_format_statistics(line, sizeof line, &s);
        assert_non_null(strstr(line, "  16   0   8 -0.48"));
}

static void files_get_a_banner_and_lines_as_written(void **state) {
        char dir[PATH_MAX], path[PATH_MAX + 32], buf[16384];
        LogTracking t = { .time = WHEN, .address = "127.0.0.1", .stratum = 2 };
        LogFiles *l;

        assert_int_equal(tmpdir_new(dir, sizeof dir), 0);
        assert_int_equal(logfiles_new(dir, LOG_FLAG_TRACKING, &l), 0);
        for (int i = 0; i < LOGFILE_BANNER_LINES + 1; i++)
                logfiles_write_tracking(l, &t);
        /* Not asked for: no measurements file. */
        snprintf(path, sizeof path, "%s/measurements.log", dir);
        assert_null(fopen(path, "r"));

        snprintf(path, sizeof path, "%s/tracking.log", dir);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        unsigned headers = 0;
        for (char *p = buf; (p = strstr(p, "Date (UTC)")); p++)
                headers++;
        assert_int_equal(headers, 2);
        assert_non_null(strstr(buf, "=====\n   Date (UTC) Time     IP Address   St   Freq ppm"));
        logfiles_free(l);
        tmpdir_remove(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tracking_lines_have_chronys_columns),
                cmocka_unit_test(measurement_lines_have_chronys_columns),
                cmocka_unit_test(the_mtxrx_column_names_the_mode_and_timestamp_kinds),
                cmocka_unit_test(statistics_lines_have_chronys_columns),
                cmocka_unit_test(files_get_a_banner_and_lines_as_written),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
