/* tempusctl's chronyc-compatible views: number formats, rows, headers,
 * legends, tracking, activity, status and JSON. Expected rows are taken from
 * real `chronyc` 4.3 output for the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ctl/ctl-format.h"

/* Captures what a view writes. */
typedef struct Capture {
        FILE *f;
        char *buf;
        size_t size;
} Capture;

static void capture_begin(Capture *c) {
        *c = (Capture) {};
        c->f = open_memstream(&c->buf, &c->size);
        assert_non_null(c->f);
}

static const char *capture_end(Capture *c) {
        assert_int_equal(fclose(c->f), 0);
        return c->buf;
}

/* Returns line n (0-based) of text, in a static buffer. */
static const char *line_of(const char *text, int n) {
        static char line[512];
        const char *p = text;

        for (int i = 0; i < n; i++) {
                p = strchr(p, '\n');
                assert_non_null(p);
                p++;
        }
        size_t len = strcspn(p, "\n");
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        return line;
}

static CtlSourceInfo source(const char *name, const char *address, const char *state) {
        return (CtlSourceInfo) {
                .name = (char *) name, .address = (char *) address,
                .mode = (char *) "server", .state = (char *) state,
        };
}

/* ---- number formats ---- */

static void test_age_uses_chronyc_units(void **state) {
        static const struct { uint64_t s; const char *text; } cases[] = {
                { 0, "   0" }, { 57, "  57" }, { 1199, "1199" }, { 1200, " 20m" },
                { 35999, "599m" }, { 36000, " 10h" }, { 345599, " 95h" },
                { 345600, "  4d" }, { 86400ULL * 999, "999d" }, { 86400ULL * 1000, "  2y" },
                { UINT64_MAX, "   -" },
        };
        char buf[32];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_string_equal(ctl_format_age(buf, sizeof buf, cases[i].s), cases[i].text);
}

static void test_signed_duration_keeps_four_digits_and_width_seven(void **state) {
        static const struct { double s; const char *text; } cases[] = {
                { -430e-9, " -430ns" }, { -1208e-9, "-1208ns" }, { 0.0, "   +0ns" },
                { 278e-6, " +278us" }, { 0.013, "  +13ms" }, { 9999.4e-9, "+9999ns" },
                { 9999.6e-9, "  +10us" }, { -1.5, "-1500ms" }, { -15.5, " -15.5s" }, { 999.4, "+999.4s" },
                { 1234.0, " +1234s" }, { -200000.0, " -3333m" }, { 7200000.0, " +2000h" },
        };
        char buf[32];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_string_equal(ctl_format_signed_duration(buf, sizeof buf, cases[i].s), cases[i].text);
                assert_int_equal(strlen(buf), 7);
        }
}

static void test_unsigned_duration_has_width_six(void **state) {
        static const struct { double s; const char *text; } cases[] = {
                { 0.0, "   0ns" }, { 5225e-9, "5225ns" }, { 3718e-6, "3718us" },
                { 4.0, "4000ms" }, { 12.34, " 12.3s" }, { 100000.0, " 1667m" },
        };
        char buf[32];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_string_equal(ctl_format_duration(buf, sizeof buf, cases[i].s), cases[i].text);
                assert_int_equal(strlen(buf), 6);
        }
}

static void test_negative_error_prints_magnitude(void **state) {
        char buf[32];

        assert_string_equal(ctl_format_duration(buf, sizeof buf, -734e-9), " 734ns");
}

static void test_ppm_three_decimals_then_whole(void **state) {
        char buf[32];

        assert_string_equal(ctl_format_ppm(buf, sizeof buf, -0.010, true), "    -0.010");
        assert_string_equal(ctl_format_ppm(buf, sizeof buf, 0.0, true), "    +0.000");
        assert_string_equal(ctl_format_ppm(buf, sizeof buf, 2000.0, false), "  2000.000");
        assert_string_equal(ctl_format_ppm(buf, sizeof buf, 123456.0, false), "    123456");
        assert_string_equal(ctl_format_ppm(buf, sizeof buf, -123456.0, true), "   -123456");
}

static void test_state_and_mode_codes(void **state) {
        static const struct { const char *state; char c; } cases[] = {
                { "selected", '*' }, { "combined", '+' }, { "not-combined", '-' },
                { "falseticker", 'x' }, { "jittery", '~' }, { "unusable", '?' },
                { "something-new", '?' }, { NULL, '?' },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(ctl_state_char(cases[i].state), cases[i].c);
        assert_int_equal(ctl_mode_char("server"), '^');
        assert_int_equal(ctl_mode_char("peer"), '=');
        assert_int_equal(ctl_mode_char("local"), '#');
}

/* ---- sources ---- */

static CtlSourceInfo chrony_selected(void) {
        CtlSourceInfo s = source("localhost", "127.0.0.1", "selected");
        s.stratum = 10;
        s.poll = 0;
        s.reach = 0377;
        s.last_rx_age_usec = 2600000;
        s.offset = -430e-9;
        s.measured_offset = -1208e-9;
        s.error = 5225e-9;
        s.samples = 10;
        s.runs = 8;
        s.span = 8.2;
        s.frequency = -0.010;
        s.frequency_skew = 0.451;
        s.std_dev = 734e-9;
        return s;
}

static CtlSourceInfo chrony_unreachable(void) {
        CtlSourceInfo s = source("", "127.0.0.2", "unusable");
        s.poll = 7;
        s.last_rx_age_usec = CTL_AGE_NEVER;
        s.frequency_skew = 2000.0;
        s.std_dev = 4.0;
        return s;
}

static void test_sources_rows_match_chronyc(void **state) {
        CtlSourceInfo s[3] = { chrony_selected(), chrony_unreachable(),
                               source("192.168.2.100", "192.168.2.100", "selected") };
        s[2].stratum = 11;
        s[2].poll = 6;
        s[2].reach = 0377;
        s[2].last_rx_age_usec = 57000000;
        s[2].offset = 0.013;
        s[2].measured_offset = 278e-6;
        s[2].error = 3718e-6;
        Capture c;

        capture_begin(&c);
        ctl_print_sources(c.f, s, 3, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0),
                "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ");
        assert_string_equal(line_of(out, 1),
                "===============================================================================");
        assert_string_equal(line_of(out, 2),
                "^* localhost                    10   0   377     2   -430ns[-1208ns] +/- 5225ns");
        assert_string_equal(line_of(out, 3),
                "^? 127.0.0.2                     0   7     0     -     +0ns[   +0ns] +/-    0ns");
        assert_string_equal(line_of(out, 4),
                "^* 192.168.2.100                11   6   377    57    +13ms[ +278us] +/- 3718us");
        free(c.buf);
}

static void test_sources_numeric_shows_addresses(void **state) {
        CtlSourceInfo s = chrony_selected();
        Capture c;

        capture_begin(&c);
        ctl_print_sources(c.f, &s, 1, &(CtlViewFlags) { .numeric = true });
        const char *out = capture_end(&c);
        assert_memory_equal(line_of(out, 2), "^* 127.0.0.1 ", 13);
        free(c.buf);
}

static void test_long_names_are_cut_with_marker(void **state) {
        CtlSourceInfo s = chrony_selected();
        s.name = (char *) "a-very-long-host-name.example.com";
        Capture c;

        capture_begin(&c);
        ctl_print_sources(c.f, &s, 1, &(CtlViewFlags) {});
        ctl_print_sourcestats(c.f, &s, 1, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_memory_equal(line_of(out, 2), "^* a-very-long-host-name.exam>  10", 34);
        assert_memory_equal(line_of(out, 5), "a-very-long-host-name.ex>  10", 29);
        free(c.buf);
}

static void test_sources_without_sources_prints_header_only(void **state) {
        Capture c;

        capture_begin(&c);
        ctl_print_sources(c.f, NULL, 0, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_int_equal(strlen(out), 2 * 80);
        free(c.buf);
}

/* Columns at which chronyc's legend draws its pointers ('.', '|', '/',
 * '\'), line by line; ours must point at the same places. */
static void assert_art_columns(const char *line, const int *cols, size_t n) {
        size_t k = 0;

        for (size_t i = 0; line[i]; i++) {
                char ch = line[i];
                bool art = ch == '|' || ch == '/' || ch == '\\' ||
                        (ch == '.' && (line[i + 1] == ' ' || line[i + 1] == '-') &&
                         (i == 0 || line[i - 1] == ' ' || line[i - 1] == '-'));
                if (!art)
                        continue;
                assert_true(k < n);
                assert_int_equal((int) i, cols[k]);
                k++;
        }
        assert_int_equal(k, n);
}

static void test_sources_legend_points_where_chronyc_does(void **state) {
        static const int cols[8][5] = {
                { 2 }, { 1, 3 }, { 0, 2 }, { 0, 1, 51, 69 }, { 0, 1, 39, 51 },
                { 0, 1, 33, 40, 51 }, { 0, 1, 34, 40, 51 }, { 0, 1, 35, 40, 52 },
        };
        static const size_t n_cols[8] = { 1, 2, 2, 4, 4, 5, 5, 5 };
        Capture c;

        capture_begin(&c);
        ctl_print_sources(c.f, NULL, 0, &(CtlViewFlags) { .verbose = true });
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0), "");
        for (int i = 0; i < 8; i++)
                assert_art_columns(line_of(out, i + 1), cols[i], n_cols[i]);
        assert_memory_equal(line_of(out, 9), "MS Name/IP address", 18);
        assert_true(strstr(out, "'*'") && strstr(out, "'x'") && strstr(out, "'~'") && strstr(out, "'?'"));
        free(c.buf);
}

/* ---- sourcestats ---- */

static void test_sourcestats_rows_match_chronyc(void **state) {
        CtlSourceInfo s[2] = { chrony_selected(), chrony_unreachable() };
        s[0].offset = -17e-9;
        Capture c;

        capture_begin(&c);
        ctl_print_sourcestats(c.f, s, 2, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0),
                "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev");
        assert_string_equal(line_of(out, 1),
                "==============================================================================");
        assert_string_equal(line_of(out, 2),
                "localhost                  10   8     8     -0.010      0.451    -17ns   734ns");
        assert_string_equal(line_of(out, 3),
                "127.0.0.2                   0   0     0     +0.000   2000.000     +0ns  4000ms");
        free(c.buf);
}

static void test_sourcestats_span_in_minutes(void **state) {
        CtlSourceInfo s = chrony_selected();
        s.name = (char *) "prod-ntp-5.ntp4.ps5.canonical.com";
        s.samples = 15;
        s.runs = 6;
        s.span = 223 * 60 + 10;
        s.frequency = -0.001;
        s.frequency_skew = 0.018;
        s.offset = -329e-6;
        s.std_dev = 96e-6;
        Capture c;

        capture_begin(&c);
        ctl_print_sourcestats(c.f, &s, 1, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 2),
                "prod-ntp-5.ntp4.ps5.cano>  15   6  223m     -0.001      0.018   -329us    96us");
        free(c.buf);
}

static void test_sourcestats_legend_points_where_chronyc_does(void **state) {
        static const int cols[9][7] = {
                { 29 }, { 28, 33 }, { 27, 32, 37 }, { 27, 31, 36, 43 },
                { 27, 31, 35, 42, 54 }, { 27, 31, 35, 41, 53, 63 },
                { 27, 31, 35, 41, 52, 63 }, { 27, 31, 35, 41, 52, 63, 76 },
                { 27, 31, 35, 41, 52, 63, 77 },
        };
        static const size_t n_cols[9] = { 1, 2, 3, 4, 5, 6, 6, 7, 7 };
        Capture c;

        capture_begin(&c);
        ctl_print_sourcestats(c.f, NULL, 0, &(CtlViewFlags) { .verbose = true });
        const char *out = capture_end(&c);
        for (int i = 0; i < 9; i++)
                assert_art_columns(line_of(out, i), cols[i], n_cols[i]);
        assert_memory_equal(line_of(out, 9), "Name/IP Address", 15);
        free(c.buf);
}

/* ---- tracking ---- */

static void test_tracking_matches_chronyc(void **state) {
        CtlTracking t = {
                .synchronized = true,
                .reference_id = 0x7F000001,
                .reference_name = (char *) "localhost",
                .stratum = 11,
                .reference_time_usec = UINT64_C(1795598987) * 1000000 + 123456,
                .system_time_offset = 3.898e-6,
                .last_offset = -0.778e-6,
                .rms_offset = 1.870e-6,
                .frequency = 0.144,
                .residual_frequency = -0.010,
                .skew = 0.517,
                .root_delay = 10.331e-6,
                .root_dispersion = 3.876e-6,
                .update_interval = 1.04,
                .leap_status = (char *) "normal",
        };
        Capture c;

        capture_begin(&c);
        ctl_print_tracking(c.f, &t);
        assert_string_equal(capture_end(&c),
                "Reference ID    : 7F000001 (localhost)\n"
                "Stratum         : 11\n"
                "Ref time (UTC)  : Wed Nov 25 09:29:47 2026\n"
                "System time     : 0.000003898 seconds fast of NTP time\n"
                "Last offset     : -0.000000778 seconds\n"
                "RMS offset      : 0.000001870 seconds\n"
                "Frequency       : 0.144 ppm fast\n"
                "Residual freq   : -0.010 ppm\n"
                "Skew            : 0.517 ppm\n"
                "Root delay      : 0.000010331 seconds\n"
                "Root dispersion : 0.000003876 seconds\n"
                "Update interval : 1.0 seconds\n"
                "Leap status     : Normal\n");
        free(c.buf);
}

static void test_tracking_unsynchronised_and_slow(void **state) {
        CtlTracking t = {
                .system_time_offset = -0.25,
                .frequency = -12.5,
                .leap_status = (char *) "unsynchronized",
        };
        Capture c;

        capture_begin(&c);
        ctl_print_tracking(c.f, &t);
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0), "Reference ID    : 00000000 ()");
        assert_string_equal(line_of(out, 2), "Ref time (UTC)  : Thu Jan 01 00:00:00 1970");
        assert_string_equal(line_of(out, 3), "System time     : 0.250000000 seconds slow of NTP time");
        assert_string_equal(line_of(out, 6), "Frequency       : 12.500 ppm slow");
        assert_string_equal(line_of(out, 12), "Leap status     : Not synchronised");
        free(c.buf);
}

static void test_tracking_leap_wording(void **state) {
        static const struct { const char *api; const char *text; } cases[] = {
                { "insert", "Insert second" }, { "delete", "Delete second" },
                { "Normal", "Normal" }, { "", "Not synchronised" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                CtlTracking t = { .leap_status = (char *) cases[i].api };
                char expected[64];
                Capture c;

                capture_begin(&c);
                ctl_print_tracking(c.f, &t);
                const char *out = capture_end(&c);
                snprintf(expected, sizeof expected, "Leap status     : %s", cases[i].text);
                assert_string_equal(line_of(out, 12), expected);
                free(c.buf);
        }
}

/* ---- activity and status ---- */

static void test_activity_counts_reach_and_addresses(void **state) {
        CtlSourceInfo s[4] = {
                chrony_selected(), chrony_unreachable(),
                source("pool.example.org", "", "unusable"),
                source("b", "10.0.0.2", "combined"),
        };
        s[3].reach = 1;
        CtlActivity a;
        Capture c;

        ctl_activity_count(s, 4, &a);
        assert_int_equal(a.online, 2);
        assert_int_equal(a.offline, 1);
        assert_int_equal(a.unknown_address, 1);

        capture_begin(&c);
        ctl_print_activity(c.f, &a);
        assert_string_equal(capture_end(&c),
                "2 sources online\n"
                "1 sources offline\n"
                "0 sources doing burst (return to online)\n"
                "0 sources doing burst (return to offline)\n"
                "1 sources with unknown address\n");
        free(c.buf);
}

static void test_status_summarises_sync_and_settings(void **state) {
        CtlSourceInfo s[2] = { chrony_selected(), chrony_unreachable() };
        CtlAccessRule rules[1] = { { (char *) "192.168.2.0/24", true } };
        CtlTracking t = {
                .synchronized = true, .reference_name = (char *) "localhost", .stratum = 11,
                .last_offset = -778e-9, .clock_control = true, .min_sources = 1,
                .makestep_threshold = 1.0, .makestep_limit = 3,
                .access_rules = rules, .n_access_rules = 1,
        };
        Capture c;

        capture_begin(&c);
        ctl_print_status(c.f, &t, s, 2);
        assert_string_equal(capture_end(&c),
                "Synchronized to localhost (stratum 10), last offset -778ns.\n"
                "2 sources: 1 selected, 0 combined, 1 reachable.\n"
                "Clock control: yes. RTC in local time: no. Minimum sources: 1.\n"
                "Clock steps: when off by more than 1 s, in the first 3 updates.\n"
                "NTP client access: allow 192.168.2.0/24\n");
        free(c.buf);
}

static void test_status_unsynchronised_local_stratum(void **state) {
        CtlTracking t = { .stratum = 10 };
        Capture c;

        capture_begin(&c);
        ctl_print_status(c.f, &t, NULL, 0);
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0), "Not synchronized; serving the local clock at stratum 10.");
        assert_string_equal(line_of(out, 3), "Clock steps: never (offsets are slewed).");
        assert_string_equal(line_of(out, 4), "NTP clients served: none.");
        free(c.buf);
}

/* ---- JSON ---- */

static void test_json_sources_uses_property_names(void **state) {
        CtlSourceInfo s[2] = { chrony_selected(), chrony_unreachable() };
        s[0].prefer = true;
        Capture c;

        capture_begin(&c);
        ctl_json_sources(c.f, s, 2);
        assert_string_equal(capture_end(&c),
                "[{\"Name\":\"localhost\",\"Address\":\"127.0.0.1\",\"Mode\":\"server\","
                "\"State\":\"selected\",\"Stratum\":10,\"Poll\":0,\"Reach\":255,"
                "\"LastRxAgeUSec\":2600000,\"Offset\":-4.3e-07,\"MeasuredOffset\":-1.208e-06,"
                "\"Error\":5.225e-06,\"Samples\":10,\"Runs\":8,\"Span\":8.2,\"Frequency\":-0.01,"
                "\"FrequencySkew\":0.451,\"StdDev\":7.34e-07,\"Prefer\":true,\"IBurst\":false},"
                "{\"Name\":\"\",\"Address\":\"127.0.0.2\",\"Mode\":\"server\","
                "\"State\":\"unusable\",\"Stratum\":0,\"Poll\":7,\"Reach\":0,"
                "\"LastRxAgeUSec\":null,\"Offset\":0,\"MeasuredOffset\":0,"
                "\"Error\":0,\"Samples\":0,\"Runs\":0,\"Span\":0,\"Frequency\":0,"
                "\"FrequencySkew\":2000,\"StdDev\":4,\"Prefer\":false,\"IBurst\":false}]\n");
        free(c.buf);
}

/* chronyc authdata's columns, from its manual's example. */
static void test_authdata_nts_row_shows_cookies(void **state) {
        CtlSourceInfo s = source("nts.example.net", "192.0.2.4", "selected");
        s.authentication = (char *) "nts";
        s.nts_cookies = 7;
        s.nts_cookie_length = 100;
        s.nts_ke_attempts = 1;
        s.auth_failures = 3;
        s.nts_last_ke_usec = (uint64_t) (time(NULL) - 125) * 1000000;
        Capture c;

        capture_begin(&c);
        ctl_print_authdata(c.f, &s, 1, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 2),
                "nts.example.net              NTS     0    0    0  125    1    3    7  100");
        free(c.buf);
}

static void test_authdata_rows_match_chronyc(void **state) {
        CtlSourceInfo s[2] = { source("bar.example.net", "192.0.2.2", "selected"),
                               source("baz.example.net", "192.0.2.3", "selected") };
        s[0].authentication = (char *) "symmetric";
        s[0].key_id = 30;
        s[0].key_type = (char *) "AES128";
        s[0].key_length = 128;
        s[0].auth_failures = 2;
        s[1].authentication = (char *) "none";
        Capture c;

        capture_begin(&c);
        ctl_print_authdata(c.f, s, 2, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0),
                "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen");
        assert_string_equal(line_of(out, 1),
                "=========================================================================");
        assert_string_equal(line_of(out, 2),
                "bar.example.net               SK    30   13  128    -    0    2    0    0");
        assert_string_equal(line_of(out, 3),
                "baz.example.net                -     0    0    0    -    0    0    0    0");
        free(c.buf);

        capture_begin(&c);
        ctl_json_authdata(c.f, s, 1);
        assert_string_equal(capture_end(&c),
                "[{\"Name\":\"bar.example.net\",\"Address\":\"192.0.2.2\",\"Authentication\":\"symmetric\","
                "\"KeyID\":30,\"KeyType\":\"AES128\",\"KeyLength\":128,\"AuthFailures\":2,\"NTSCookies\":0,"
                "\"NTSCookieLength\":0,\"NTSKEAttempts\":0,\"NTSLastKEUSec\":0}]\n");
        free(c.buf);
}

/* chronyc ntpdata's lines, in its order, for one interleaved source. */
static void test_ntpdata_block_matches_chronyc(void **state) {
        CtlSourceInfo s = source("ntp1.example.net", "192.0.2.1", "selected");
        Capture c;

        s.remote_port = 123;
        s.local_address = (char *) "192.0.2.100";
        s.leap = (char *) "normal";
        s.ntp_version = 4;
        s.ntp_mode = (char *) "server";
        s.stratum = 1;
        s.poll = 6;
        s.precision = -24;
        s.reference_id = 0x47505300;
        s.measured_offset = -1.5e-6;
        s.delay = 2.5e-4;
        s.interleaved = true;
        s.tx_timestamping = (char *) "kernel";
        s.rx_timestamping = (char *) "kernel";
        s.total_tx = 10;
        s.total_rx = 9;
        s.total_valid_rx = 8;
        capture_begin(&c);
        ctl_print_ntpdata(c.f, &s, 1, &(CtlViewFlags) {});
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0), "Remote address  : 192.0.2.1 (C0000201)");
        assert_string_equal(line_of(out, 1), "Remote port     : 123");
        assert_string_equal(line_of(out, 2), "Local address   : 192.0.2.100 (C0000264)");
        assert_string_equal(line_of(out, 3), "Leap status     : Normal");
        assert_string_equal(line_of(out, 5), "Mode            : Server");
        assert_string_equal(line_of(out, 7), "Poll interval   : 6 (64 seconds)");
        assert_string_equal(line_of(out, 11), "Reference ID    : 47505300 (GPS)");
        assert_string_equal(line_of(out, 13), "Offset          : -0.000001500 seconds");
        assert_string_equal(line_of(out, 17), "Interleaved     : Yes");
        assert_string_equal(line_of(out, 18), "Authenticated   : No");
        assert_string_equal(line_of(out, 19), "TX timestamping : Kernel");
        assert_string_equal(line_of(out, 20), "RX timestamping : Kernel");
        assert_string_equal(line_of(out, 23), "Total valid RX  : 8");
        free(c.buf);

        capture_begin(&c);
        ctl_json_ntpdata(c.f, &s, 1);
        out = capture_end(&c);
        assert_non_null(strstr(out, "\"Interleaved\":true,\"Authenticated\":false,\"TXTimestamping\":\"kernel\""));
        assert_non_null(strstr(out, "\"TotalTX\":10,\"TotalRX\":9,\"TotalValidRX\":8"));
        free(c.buf);
}

static void test_json_empty_sources_is_empty_array(void **state) {
        Capture c;

        capture_begin(&c);
        ctl_json_sources(c.f, NULL, 0);
        assert_string_equal(capture_end(&c), "[]\n");
        free(c.buf);
}

static void test_json_tracking_and_status(void **state) {
        CtlAccessRule rules[2] = { { (char *) "10.0.0.0/8", true }, { (char *) "10.1.0.0/16", false } };
        CtlTracking t = {
                .synchronized = true, .reference_id = 0x7F000001, .reference_name = (char *) "localhost",
                .stratum = 11, .reference_time_usec = 5, .frequency = 0.144, .leap_status = (char *) "normal",
                .makestep_threshold = 0.5, .makestep_limit = -1, .min_sources = 2,
                .access_rules = rules, .n_access_rules = 2, .local_rtc = true,
        };
        Capture c;

        capture_begin(&c);
        ctl_json_tracking(c.f, &t);
        ctl_json_status(c.f, &t, NULL, 0);
        const char *out = capture_end(&c);
        assert_string_equal(line_of(out, 0),
                "{\"Synchronized\":true,\"ReferenceID\":2130706433,\"ReferenceName\":\"localhost\","
                "\"Stratum\":11,\"ReferenceTimeUSec\":5,\"SystemTimeOffset\":0,\"LastOffset\":0,"
                "\"RMSOffset\":0,\"Frequency\":0.144,\"ResidualFrequency\":0,\"Skew\":0,"
                "\"RootDelay\":0,\"RootDispersion\":0,\"UpdateInterval\":0,\"LeapStatus\":\"normal\"}");
        assert_non_null(strstr(line_of(out, 1),
                "\"MakeStepThreshold\":0.5,\"MakeStepLimit\":-1,\"MinSources\":2,"
                "\"AccessRules\":[{\"Subnet\":\"10.0.0.0/8\",\"Allow\":true},"
                "{\"Subnet\":\"10.1.0.0/16\",\"Allow\":false}],\"ClockControl\":false,"
                "\"LocalRTC\":true,\"Sources\":[]}"));
        free(c.buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_age_uses_chronyc_units),
                cmocka_unit_test(test_signed_duration_keeps_four_digits_and_width_seven),
                cmocka_unit_test(test_unsigned_duration_has_width_six),
                cmocka_unit_test(test_negative_error_prints_magnitude),
                cmocka_unit_test(test_ppm_three_decimals_then_whole),
                cmocka_unit_test(test_state_and_mode_codes),
                cmocka_unit_test(test_sources_rows_match_chronyc),
                cmocka_unit_test(test_sources_numeric_shows_addresses),
                cmocka_unit_test(test_long_names_are_cut_with_marker),
                cmocka_unit_test(test_sources_without_sources_prints_header_only),
                cmocka_unit_test(test_sources_legend_points_where_chronyc_does),
                cmocka_unit_test(test_sourcestats_rows_match_chronyc),
                cmocka_unit_test(test_sourcestats_span_in_minutes),
                cmocka_unit_test(test_sourcestats_legend_points_where_chronyc_does),
                cmocka_unit_test(test_tracking_matches_chronyc),
                cmocka_unit_test(test_tracking_unsynchronised_and_slow),
                cmocka_unit_test(test_tracking_leap_wording),
                cmocka_unit_test(test_activity_counts_reach_and_addresses),
                cmocka_unit_test(test_status_summarises_sync_and_settings),
                cmocka_unit_test(test_status_unsynchronised_local_stratum),
                cmocka_unit_test(test_json_sources_uses_property_names),
                cmocka_unit_test(test_json_empty_sources_is_empty_array),
                cmocka_unit_test(test_authdata_rows_match_chronyc),
                cmocka_unit_test(test_authdata_nts_row_shows_cookies),
                cmocka_unit_test(test_ntpdata_block_matches_chronyc),
                cmocka_unit_test(test_json_tracking_and_status),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
