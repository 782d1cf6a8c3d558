/* tempusctl metrics: the OpenMetrics and Prometheus 0.0.4 texts written
 * from fixed tracking and source structs, and the HTTP request handling
 * of metrics --http (parsing, routing, content negotiation, headers). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl-http.h"
#include "ctl/ctl-metrics.h"
#include "shared/macro.h"

static char *render(CtlMetricsFormat format, const CtlTracking *t, const CtlSourceInfo *s, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        ctl_metrics_write(f, format, t, s, n);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static bool has_line(const char *text, const char *line) {
        size_t len = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[len] == '\n')
                        return true;
        return false;
}

static size_t count_lines_starting(const char *text, const char *prefix) {
        size_t n = 0;

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += strncmp(p, prefix, strlen(prefix)) == 0;
        return n;
}

static CtlTracking tracking(void) {
        return (CtlTracking) {
                .synchronized = true,
                .stratum = 3,
                .reference_time_usec = 1764063000500000,
                .system_time_offset = -0.000012,
                .last_offset = 0.25,
                .rms_offset = 0.125,
                .frequency = -12.5,
                .residual_frequency = 0.5,
                .skew = 2,
                .root_delay = 0.0625,
                .root_dispersion = 0.001,
                .update_interval = 64,
                .leap_status = (char *) "normal",
                .server_requests = 10,
                .server_replies = 7,
                .server_denied = 1,
                .server_rate_limited = 2,
                .malformed_packets = 3,
        };
}

static CtlSourceInfo source(const char *name, const char *address, const char *state) {
        return (CtlSourceInfo) {
                .name = (char *) name, .address = (char *) address, .mode = (char *) "server",
                .state = (char *) state, .stratum = 2, .poll = 6, .reach = 0377,
                .last_rx_age_usec = 5000000, .offset = -0.0005, .delay = 0.004, .std_dev = 0.0001,
                .error = 0.0021,
        };
}

/* ---- the metrics text ---- */

static void test_tracking_in_base_units(void **state) {
        CtlTracking t = tracking();
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, NULL, 0);

        assert_true(has_line(text, "tempus_synchronized 1"));
        assert_true(has_line(text, "tempus_stratum 3"));
        assert_true(has_line(text, "tempus_last_offset_seconds 0.25"));
        assert_true(has_line(text, "tempus_system_time_offset_seconds -1.2e-05"));
        /* ppm as a ratio */
        assert_true(has_line(text, "tempus_frequency_ratio -1.25e-05"));
        assert_true(has_line(text, "tempus_skew_ratio 2e-06"));
        assert_true(has_line(text, "tempus_root_delay_seconds 0.0625"));
        assert_true(has_line(text, "tempus_last_update_timestamp_seconds 1764063000.5"));
        assert_true(has_line(text, "tempus_leap_status{status=\"normal\"} 1"));
        assert_true(has_line(text, "tempus_leap_status{status=\"unsynchronized\"} 0"));
}

static void test_openmetrics_metadata_and_eof(void **state) {
        CtlTracking t = tracking();
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, NULL, 0);

        /* Counters: the family without _total, samples with it. */
        assert_true(has_line(text, "# TYPE tempus_server_requests counter"));
        assert_true(has_line(text, "tempus_server_requests_total 10"));
        assert_true(has_line(text, "# HELP tempus_server_requests Datagrams received on the NTP server sockets, "
                                   "whatever became of them."));
        assert_true(has_line(text, "# UNIT tempus_root_delay_seconds seconds"));
        assert_true(has_line(text, "# UNIT tempus_frequency_ratio ratio"));
        assert_true(has_line(text, "# TYPE tempus_build info"));
        assert_true(has_line(text, "tempus_build_info{version=\"" PACKAGE_VERSION "\"} 1"));
        size_t len = strlen(text);
        assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
        assert_int_equal(count_lines_starting(text, "# EOF"), 1);
        /* Every family has exactly one HELP and one TYPE. */
        assert_int_equal(count_lines_starting(text, "# HELP "), count_lines_starting(text, "# TYPE "));
}

static void test_prometheus_text_names_samples_in_metadata(void **state) {
        CtlTracking t = tracking();
        _cleanup_free_ char *text = render(CTL_METRICS_PROMETHEUS, &t, NULL, 0);

        assert_true(has_line(text, "# TYPE tempus_server_requests_total counter"));
        assert_true(has_line(text, "tempus_server_requests_total 10"));
        assert_true(has_line(text, "# TYPE tempus_build_info gauge"));
        assert_int_equal(count_lines_starting(text, "# UNIT"), 0);
        assert_null(strstr(text, "# EOF"));
        assert_null(strstr(text, " info\n"));
}

static void test_every_counter_is_written(void **state) {
        CtlTracking t = tracking();
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, NULL, 0);

        assert_true(has_line(text, "tempus_server_replies_total 7"));
        assert_true(has_line(text, "tempus_server_denied_total 1"));
        assert_true(has_line(text, "tempus_server_rate_limited_total 2"));
        assert_true(has_line(text, "tempus_malformed_packets_total 3"));
}

static void test_unreported_counters_are_left_out(void **state) {
        CtlTracking t = tracking();
        t.server_requests = CTL_COUNTER_UNKNOWN;
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, NULL, 0);

        assert_null(strstr(text, "tempus_server_requests"));
        assert_true(has_line(text, "tempus_server_replies_total 7"));
}

static void test_source_series_carry_name_and_address(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("ntp.example.org", "192.0.2.1", "selected") };
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

#define LABELS "{source=\"ntp.example.org\",address=\"192.0.2.1\"}"
        assert_true(has_line(text, "tempus_source_offset_seconds" LABELS " -0.0005"));
        assert_true(has_line(text, "tempus_source_delay_seconds" LABELS " 0.004"));
        assert_true(has_line(text, "tempus_source_jitter_seconds" LABELS " 0.0001"));
        assert_true(has_line(text, "tempus_source_error_bound_seconds" LABELS " 0.0021"));
        assert_true(has_line(text, "tempus_source_last_reply_age_seconds" LABELS " 5"));
        assert_true(has_line(text, "tempus_source_reach" LABELS " 255"));
        assert_true(has_line(text, "tempus_source_poll_interval_seconds" LABELS " 64"));
        assert_true(has_line(text, "tempus_source_stratum" LABELS " 2"));
#undef LABELS
}

static void test_source_state_is_one_series_per_state(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a", "192.0.2.1", "falseticker") };
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_int_equal(count_lines_starting(text, "tempus_source_state{"), 6);
        assert_true(has_line(text, "tempus_source_state{source=\"a\",address=\"192.0.2.1\",state=\"falseticker\"} 1"));
        assert_true(has_line(text, "tempus_source_state{source=\"a\",address=\"192.0.2.1\",state=\"selected\"} 0"));
        /* Authentication: "none" until the daemon reports otherwise. */
        assert_true(has_line(text,
                             "tempus_source_authentication{source=\"a\",address=\"192.0.2.1\",authentication=\"none\"} 1"));
        assert_true(has_line(text,
                             "tempus_source_authentication{source=\"a\",address=\"192.0.2.1\",authentication=\"nts\"} 0"));
}

static void test_reported_authentication_is_used(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a", "192.0.2.1", "selected") };
        s[0].authentication = (char *) "nts";
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_true(has_line(text,
                             "tempus_source_authentication{source=\"a\",address=\"192.0.2.1\",authentication=\"nts\"} 1"));
        assert_true(has_line(text,
                             "tempus_source_authentication{source=\"a\",address=\"192.0.2.1\",authentication=\"none\"} 0"));
}

static void test_unknown_state_gets_its_own_series(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a", "192.0.2.1", "dazed") };
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_int_equal(count_lines_starting(text, "tempus_source_state{"), 7);
        assert_true(has_line(text, "tempus_source_state{source=\"a\",address=\"192.0.2.1\",state=\"dazed\"} 1"));
}

static void test_source_without_reply_has_no_sample_values(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a", "192.0.2.1", "unusable") };
        s[0].last_rx_age_usec = CTL_AGE_NEVER;
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_null(strstr(text, "tempus_source_offset_seconds{"));
        assert_null(strstr(text, "tempus_source_delay_seconds{"));
        assert_null(strstr(text, "tempus_source_last_reply_age_seconds{"));
        assert_true(has_line(text, "tempus_source_reach{source=\"a\",address=\"192.0.2.1\"} 255"));
}

static void test_unreported_delay_is_left_out(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a", "192.0.2.1", "selected") };
        s[0].delay = NAN;
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_null(strstr(text, "tempus_source_delay_seconds{"));
        assert_non_null(strstr(text, "tempus_source_offset_seconds{"));
}

static void test_repeated_sources_are_written_once(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("pool", "", "unusable"), source("pool", "", "unusable"),
                              source("pool", "192.0.2.7", "selected") };
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 3);

        assert_int_equal(count_lines_starting(text, "tempus_source_reach{"), 2);
        assert_int_equal(count_lines_starting(text, "tempus_source_state{"), 12);
}

static void test_label_values_are_escaped(void **state) {
        CtlTracking t = tracking();
        CtlSourceInfo s[] = { source("a\"b\\c\nd", "192.0.2.1", "selected") };
        _cleanup_free_ char *text = render(CTL_METRICS_OPENMETRICS, &t, s, 1);

        assert_true(has_line(text, "tempus_source_reach{source=\"a\\\"b\\\\c\\nd\",address=\"192.0.2.1\"} 255"));
}

static void test_format_names(void **state) {
        CtlMetricsFormat f;

        assert_int_equal(ctl_metrics_format_from_string("openmetrics", &f), 0);
        assert_int_equal(f, CTL_METRICS_OPENMETRICS);
        assert_int_equal(ctl_metrics_format_from_string("prometheus", &f), 0);
        assert_int_equal(f, CTL_METRICS_PROMETHEUS);
        assert_int_equal(ctl_metrics_format_from_string("json", &f), -EINVAL);
        assert_string_equal(ctl_metrics_content_type(CTL_METRICS_OPENMETRICS),
                            "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assert_string_equal(ctl_metrics_content_type(CTL_METRICS_PROMETHEUS), "text/plain; version=0.0.4; charset=utf-8");
}

/* ---- HTTP ---- */

static int parse(const char *head, CtlHttpRequest *r) {
        return ctl_http_parse_request(head, strlen(head), r);
}

static void test_head_length_waits_for_the_blank_line(void **state) {
        static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
        static const char full[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nextra";
        static const char bare[] = "GET /metrics HTTP/1.0\n\n";

        assert_int_equal(ctl_http_head_length(partial, strlen(partial)), 0);
        assert_int_equal(ctl_http_head_length(full, strlen(full)), strlen(full) - strlen("extra"));
        assert_int_equal(ctl_http_head_length(bare, strlen(bare)), strlen(bare));
}

static void test_request_routes(void **state) {
        static const struct { const char *head; int status; } cases[] = {
                { "GET /metrics HTTP/1.1\r\nHost: localhost:9975\r\n\r\n", 200 },
                { "HEAD /metrics HTTP/1.1\r\n\r\n", 200 },
                { "GET /metrics?name[]=x HTTP/1.1\r\n\r\n", 200 },
                { "GET / HTTP/1.1\r\n\r\n", 404 },
                { "GET /metrics/ HTTP/1.1\r\n\r\n", 404 },
                { "GET /metricsx HTTP/1.0\r\n\r\n", 404 },
                { "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405 },
                { "DELETE /metrics HTTP/1.1\r\n\r\n", 405 },
        };
        CtlHttpRequest r;

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_int_equal(parse(cases[i].head, &r), 0);
                assert_int_equal(ctl_http_route(&r), cases[i].status);
        }
}

static void test_malformed_requests_are_refused(void **state) {
        static const char *const heads[] = {
                "\r\n\r\n",
                "GET\r\n\r\n",
                "GET /metrics\r\n\r\n",
                "GET metrics HTTP/1.1\r\n\r\n",
                "GET /metrics HTTP/2\r\n\r\n",
                "GET /metrics FTP/1.1\r\n\r\n",
                "G(T /metrics HTTP/1.1\r\n\r\n",
                "GET /met\x01rics HTTP/1.1\r\n\r\n",
                "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
                "GET /metrics HTTP/1.1\r\n folded: header\r\n\r\n",
                "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        };
        CtlHttpRequest r;

        for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
                assert_int_equal(parse(heads[i], &r), -EINVAL);
}

static void test_long_path_is_refused(void **state) {
        char head[600];
        CtlHttpRequest r;

        snprintf(head, sizeof head, "GET /%0400d HTTP/1.1\r\n\r\n", 0);
        assert_int_equal(parse(head, &r), -EINVAL);
}

static void test_accept_picks_the_format(void **state) {
        static const struct { const char *accept; CtlMetricsFormat format; } cases[] = {
                /* Prometheus 2.42's scrape request */
                { "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", CTL_METRICS_OPENMETRICS },
                { "", CTL_METRICS_PROMETHEUS },
                { "*/*", CTL_METRICS_PROMETHEUS },
                { "text/plain", CTL_METRICS_PROMETHEUS },
                { "Application/OpenMetrics-Text; version=1.0.0", CTL_METRICS_OPENMETRICS },
                { "text/plain;q=0.9, application/openmetrics-text;q=0.5", CTL_METRICS_PROMETHEUS },
                { "text/plain;q=0.5, application/openmetrics-text;q=0.9", CTL_METRICS_OPENMETRICS },
                { "application/openmetrics-text;q=0", CTL_METRICS_PROMETHEUS },
                { "application/openmetrics-text;q=banana", CTL_METRICS_PROMETHEUS },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(ctl_http_negotiate(cases[i].accept), cases[i].format);
}

static void test_accept_header_is_read_from_the_request(void **state) {
        CtlHttpRequest r;

        assert_int_equal(parse("GET /metrics HTTP/1.1\r\naccept: application/openmetrics-text\r\n\r\n", &r), 0);
        assert_int_equal(r.format, CTL_METRICS_OPENMETRICS);
        /* Repeated Accept fields are one list. */
        assert_int_equal(parse("GET /metrics HTTP/1.1\r\nAccept: text/plain;q=0.1\r\n"
                               "Accept: application/openmetrics-text\r\n\r\n", &r), 0);
        assert_int_equal(r.format, CTL_METRICS_OPENMETRICS);
        assert_int_equal(parse("GET /metrics HTTP/1.1\r\nAcceptable: application/openmetrics-text\r\n\r\n", &r), 0);
        assert_int_equal(r.format, CTL_METRICS_PROMETHEUS);
}

static void test_response_head(void **state) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        ctl_http_write_head(f, 405, "text/plain; charset=utf-8", 12);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "HTTP/1.1 405 Method Not Allowed\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: 12\r\n"
                                 "Allow: GET, HEAD\r\n"
                                 "Connection: close\r\n\r\n");
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tracking_in_base_units),
                cmocka_unit_test(test_openmetrics_metadata_and_eof),
                cmocka_unit_test(test_prometheus_text_names_samples_in_metadata),
                cmocka_unit_test(test_every_counter_is_written),
                cmocka_unit_test(test_unreported_counters_are_left_out),
                cmocka_unit_test(test_source_series_carry_name_and_address),
                cmocka_unit_test(test_source_state_is_one_series_per_state),
                cmocka_unit_test(test_reported_authentication_is_used),
                cmocka_unit_test(test_unknown_state_gets_its_own_series),
                cmocka_unit_test(test_source_without_reply_has_no_sample_values),
                cmocka_unit_test(test_unreported_delay_is_left_out),
                cmocka_unit_test(test_repeated_sources_are_written_once),
                cmocka_unit_test(test_label_values_are_escaped),
                cmocka_unit_test(test_format_names),
                cmocka_unit_test(test_head_length_waits_for_the_blank_line),
                cmocka_unit_test(test_request_routes),
                cmocka_unit_test(test_malformed_requests_are_refused),
                cmocka_unit_test(test_long_path_is_refused),
                cmocka_unit_test(test_accept_picks_the_format),
                cmocka_unit_test(test_accept_header_is_read_from_the_request),
                cmocka_unit_test(test_response_head),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
