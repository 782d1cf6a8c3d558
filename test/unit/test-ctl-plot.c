/* tempusctl plot: reading chrony-format tracking and statistics logs (as
 * src/daemon/logfile.c writes them), durations, and the SVG: its
 * polylines, read back through the scales each panel carries, give the
 * values of the log. */
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

#include "ctl/ctl-plot.h"
#include "shared/macro.h"

/* Rows as tempusd writes them, with the banner every so many lines. */
static const char tracking_log[] =
        "=============================================================================================================================\n"
        "   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd Rem. corr. Root delay Root disp. Max. error\n"
        "=============================================================================================================================\n"
        "2026-11-25 09:00:00 192.0.2.1        3    -12.500      0.050  1.000e-04 N  1  2.000e-06 -1.000e-04  1.000e-03  2.000e-04  8.000e-04\n"
        "2026-11-25 09:01:04 192.0.2.1        3    -12.250      0.040 -5.000e-05 N  1  2.000e-06  5.000e-05  1.000e-03  2.000e-04  7.500e-04\n"
        "2026-11-25 09:02:08 192.0.2.1        3    -12.000      0.030  2.500e-05 N  1  2.000e-06 -2.500e-05  1.000e-03  2.000e-04  7.250e-04\n";

static const char statistics_log[] =
        "   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew  Stress  Ns  Bs  Nr  Asym\n"
        "2026-11-25 09:00:01 192.0.2.1        1.000e-06  9.000e-05  1.000e-06  1.000e-03  1.000e-02 0.0e+00   8   0   4  0.00\n"
        "2026-11-25 09:00:02 192.0.2.2        1.000e-06  3.000e-04  1.000e-06  1.000e-03  1.000e-02 0.0e+00   8   0   4  0.00\n"
        "2026-11-25 09:01:05 192.0.2.1        1.000e-06 -4.000e-05  1.000e-06  1.000e-03  1.000e-02 0.0e+00   8   0   4  0.00\n";

#define T0 1795597200.0         /* 2026-11-25 09:00:00 UTC */

static void test_tracking_rows_are_read(void **state) {
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_tracking(&d, tracking_log, -INFINITY, &skipped), 0);
        assert_int_equal(skipped, 0);
        assert_int_equal(d.n_tracking, 3);
        assert_true(d.tracking[0].time == T0);
        assert_true(d.tracking[1].time == T0 + 64);
        assert_true(d.tracking[0].offset == 1e-4);
        assert_true(d.tracking[1].offset == -5e-5);
        assert_true(d.tracking[0].frequency == -12.5);
        assert_true(d.tracking[2].max_error == 7.25e-4);
}

static void test_statistics_rows_keep_their_source(void **state) {
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_statistics(&d, statistics_log, -INFINITY, &skipped), 0);
        assert_int_equal(skipped, 0);
        assert_int_equal(d.n_statistics, 3);
        assert_string_equal(d.statistics[1].address, "192.0.2.2");
        assert_true(d.statistics[1].offset == 3e-4);
        assert_true(d.statistics[2].time == T0 + 65);
}

static void test_bad_lines_are_counted_and_skipped(void **state) {
        static const char text[] =
                "2026-11-25 09:00:00 192.0.2.1 3 -12.5 0.05 x N 1 2e-6 0 1e-3 2e-4 8e-4\n"      /* offset */
                "2026-13-25 09:00:00 192.0.2.1 3 -12.5 0.05 1e-4 N 1 2e-6 0 1e-3 2e-4 8e-4\n"   /* month */
                "2026-11-25 09:00:00 192.0.2.1 3 -12.5\n"                                      /* short */
                "garbage\n"
                "\n"
                "2026-11-25 09:00:10 192.0.2.1 3 -12.5 0.05 1e-4 N 1 2e-6 0 1e-3 2e-4 8e-4";    /* no newline */
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_tracking(&d, text, -INFINITY, &skipped), 0);
        assert_int_equal(skipped, 4);
        assert_int_equal(d.n_tracking, 1);
        assert_true(d.tracking[0].time == T0 + 10);
}

static void test_since_drops_older_rows(void **state) {
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_tracking(&d, tracking_log, T0 + 60, &skipped), 0);
        assert_int_equal(d.n_tracking, 2);
        assert_true(d.tracking[0].time == T0 + 64);
}

static void test_durations(void **state) {
        static const struct { const char *text; double seconds; } good[] = {
                { "90", 90 }, { "90s", 90 }, { "15min", 900 }, { "15m", 900 }, { "2h", 7200 },
                { "1d12h", 129600 }, { "1w", 604800 }, { "1.5h", 5400 },
        };
        static const char *const bad[] = { "", "h", "-1h", "2x", "1h-", "s1" };
        double v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(ctl_parse_duration(good[i].text, &v), 0);
                assert_true(v == good[i].seconds);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(ctl_parse_duration(bad[i], &v), -EINVAL);
}

/* ---- the SVG ---- */

static char *render(const CtlPlotData *d) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(ctl_plot_write_svg(f, d), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

/* A numeric attribute of the element that starts at or after p. */
static double attribute(const char *p, const char *name) {
        char key[64];

        snprintf(key, sizeof key, " %s=\"", name);
        const char *a = strstr(p, key);
        assert_non_null(a);
        return strtod(a + strlen(key), NULL);
}

typedef struct Scale {
        double x, y, width, height, t_min, t_max, y_min, y_max, y_scale;
} Scale;

static Scale panel_scale(const char *svg, const char *id) {
        char key[64];

        snprintf(key, sizeof key, "<g id=\"%s\"", id);
        const char *g = strstr(svg, key);
        assert_non_null(g);
        return (Scale) {
                attribute(g, "data-x"), attribute(g, "data-y"), attribute(g, "data-width"),
                attribute(g, "data-height"), attribute(g, "data-t-min"), attribute(g, "data-t-max"),
                attribute(g, "data-y-min"), attribute(g, "data-y-max"), attribute(g, "data-y-scale"),
        };
}

/* The points of polyline id, mapped back to (time, value). */
static size_t polyline_values(const char *svg, const Scale *s, const char *id, double *t, double *v, size_t max) {
        char key[64];
        size_t n = 0;

        snprintf(key, sizeof key, "<polyline id=\"%s\"", id);
        const char *p = strstr(svg, key);
        assert_non_null(p);
        p = strstr(p, " points=\"");
        assert_non_null(p);
        p += strlen(" points=\"");
        while (*p != '"') {
                char *end;
                double px = strtod(p, &end);
                assert_true(*end == ',');
                double py = strtod(end + 1, &end);
                assert_true(n < max);
                t[n] = s->t_min + (px - s->x) / s->width * (s->t_max - s->t_min);
                v[n] = (s->y_min + (s->y + s->height - py) / s->height * (s->y_max - s->y_min)) / s->y_scale;
                n++;
                p = end + (*end == ' ');
        }
        return n;
}

/* Pixels are written with two decimals: a value is good to a two-hundredth
 * of a pixel's worth. */
static void assert_near(double got, double want, double range, double pixels) {
        assert_true(fabs(got - want) <= range / pixels * 0.006);
}

static void test_svg_points_are_the_log_values(void **state) {
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;
        double t[8], v[8];

        assert_int_equal(ctl_plot_read_tracking(&d, tracking_log, -INFINITY, &skipped), 0);
        assert_int_equal(ctl_plot_read_statistics(&d, statistics_log, -INFINITY, &skipped), 0);
        _cleanup_free_ char *svg = render(&d);

        Scale o = panel_scale(svg, "offset-panel");
        assert_true(o.t_min == T0 && o.t_max == T0 + 128);
        assert_int_equal(polyline_values(svg, &o, "offset", t, v, 8), 3);
        for (size_t i = 0; i < 3; i++) {
                assert_near(t[i], d.tracking[i].time, o.t_max - o.t_min, o.width);
                assert_near(v[i], d.tracking[i].offset, (o.y_max - o.y_min) / o.y_scale, o.height);
        }
        assert_int_equal(polyline_values(svg, &o, "max-error-upper", t, v, 8), 3);
        assert_near(v[2], 7.25e-4, (o.y_max - o.y_min) / o.y_scale, o.height);
        assert_int_equal(polyline_values(svg, &o, "max-error-lower", t, v, 8), 3);
        assert_near(v[0], -8e-4, (o.y_max - o.y_min) / o.y_scale, o.height);
        /* One series per source, in order of appearance. */
        assert_int_equal(polyline_values(svg, &o, "source-1", t, v, 8), 2);
        assert_near(v[1], -4e-5, (o.y_max - o.y_min) / o.y_scale, o.height);
        assert_int_equal(polyline_values(svg, &o, "source-2", t, v, 8), 1);
        assert_near(v[0], 3e-4, (o.y_max - o.y_min) / o.y_scale, o.height);
        assert_null(strstr(svg, "id=\"source-3\""));

        Scale fr = panel_scale(svg, "frequency-panel");
        assert_int_equal(polyline_values(svg, &fr, "frequency", t, v, 8), 3);
        for (size_t i = 0; i < 3; i++)
                assert_near(v[i], d.tracking[i].frequency, (fr.y_max - fr.y_min) / fr.y_scale, fr.height);
}

static void test_svg_axes_units_and_legend(void **state) {
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_tracking(&d, tracking_log, -INFINITY, &skipped), 0);
        _cleanup_free_ char *svg = render(&d);

        /* Offsets up to 0.8 ms are drawn in µs, ticks every 500 µs. */
        assert_true(panel_scale(svg, "offset-panel").y_scale == 1e6);
        assert_non_null(strstr(svg, ">Offset (µs)</text>"));
        assert_non_null(strstr(svg, ">-1000</text>"));
        assert_non_null(strstr(svg, ">500</text>"));
        assert_non_null(strstr(svg, ">Frequency (ppm)</text>"));
        assert_non_null(strstr(svg, ">Time (UTC)</text>"));
        assert_non_null(strstr(svg, ">09:01:30</text>"));
        assert_non_null(strstr(svg, ">offset at clock updates</text>"));
        assert_non_null(strstr(svg, ">± maximum error</text>"));
        assert_non_null(strstr(svg, ">frequency correction</text>"));
        assert_null(strstr(svg, "estimated offset of"));
        assert_non_null(strstr(svg, "2026-11-25 09:00:00 to 2026-11-25 09:02:08 UTC, 3 clock updates"));
}

static void test_addresses_are_escaped(void **state) {
        static const char text[] =
                "2026-11-25 09:00:01 a<b&c\"d 1e-06 9e-05 1e-06 1e-03 1e-02 0 8 0 4 0.00\n";
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        size_t skipped = 0;

        assert_int_equal(ctl_plot_read_tracking(&d, tracking_log, -INFINITY, &skipped), 0);
        assert_int_equal(ctl_plot_read_statistics(&d, text, -INFINITY, &skipped), 0);
        _cleanup_free_ char *svg = render(&d);
        assert_non_null(strstr(svg, ">a&lt;b&amp;c&quot;d</text>"));
        assert_null(strstr(svg, "a<b"));
}

static void test_no_tracking_rows_is_an_error(void **state) {
        CtlPlotData d = {};

        assert_int_equal(ctl_plot_write_svg(stdout, &d), -ENODATA);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tracking_rows_are_read),
                cmocka_unit_test(test_statistics_rows_keep_their_source),
                cmocka_unit_test(test_bad_lines_are_counted_and_skipped),
                cmocka_unit_test(test_since_drops_older_rows),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_svg_points_are_the_log_values),
                cmocka_unit_test(test_svg_axes_units_and_legend),
                cmocka_unit_test(test_addresses_are_escaped),
                cmocka_unit_test(test_no_tracking_rows_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
