/* Implementation of ctl-plot.h: log parsing, axes with round ticks, and
 * the SVG itself. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl-i18n.h"
#include "ctl/ctl-plot.h"
#include "shared/alloc-util.h"
#include "shared/macro.h"

#define MAX_COLUMNS 24
#define MAX_LINE 512
#define MAX_SOURCES 8           /* sources drawn; colours below */
#define MARKER_LIMIT 60         /* series this short also get a dot per point */

/* Layout, in pixels. */
#define SVG_WIDTH 960
#define SVG_HEIGHT 620
#define PLOT_LEFT 84
#define PLOT_WIDTH 676
#define LEGEND_LEFT (PLOT_LEFT + PLOT_WIDTH + 16)
#define LEGEND_CHARS 24

static const char *const source_colours[MAX_SOURCES] = {
        "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
};
#define COLOUR_OFFSET "#1f77b4"
#define COLOUR_ERROR "#999999"
#define COLOUR_FREQUENCY "#d62728"

void ctl_plot_data_done(CtlPlotData *d) {
        free(d->tracking);
        free(d->statistics);
        *d = (CtlPlotData) {};
}

/* ---- reading the logs ---- */

static size_t split_words(char *line, char **words) {
        char *save = NULL;
        size_t n = 0;

        for (char *w = strtok_r(line, " \t\r", &save); w && n < MAX_COLUMNS; w = strtok_r(NULL, " \t\r", &save))
                words[n++] = w;
        return n;
}

static bool parse_number(const char *s, double *ret) {
        char *end;

        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(v))
                return false;
        *ret = v;
        return true;
}

/* "2026-11-25" "09:29:47" (UTC) as Unix seconds. */
static bool parse_log_time(const char *date, const char *clock, double *ret) {
        struct tm tm = {};
        char tail;

        if (sscanf(date, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) != 3 ||
            sscanf(clock, "%2d:%2d:%2d%c", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail) != 3)
                return false;
        if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
                return false;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ret = (double) timegm(&tm);
        return true;
}

/* Not a banner ("====="), a column header or a blank line. */
static bool is_data_line(const char *line) {
        line += strspn(line, " \t\r");
        return *line && *line != '=' && !strstr(line, "Date (UTC)");
}

/* Adds one row; returns 1 if added, 0 if the words do not parse, or
 * -ENOMEM. */
typedef int (*RowAdder)(CtlPlotData *d, char **w, size_t n, double time);

static int add_tracking_row(CtlPlotData *d, char **w, size_t n, double time) {
        CtlPlotTracking row = { .time = time };

        /* Date Time IP St Freq Skew Offset L Co OffsetSD RemCorr RootDelay RootDisp MaxError */
        if (n < 14 || !parse_number(w[4], &row.frequency) || !parse_number(w[6], &row.offset) ||
            !parse_number(w[13], &row.max_error))
                return 0;
        if (GREEDY_REALLOC(d->tracking, d->n_tracking_allocated, d->n_tracking + 1) < 0)
                return -ENOMEM;
        d->tracking[d->n_tracking++] = row;
        return 1;
}

static int add_statistics_row(CtlPlotData *d, char **w, size_t n, double time) {
        CtlPlotStatistic row = { .time = time };

        /* Date Time IP StdDev EstOffset OffsetSD DiffFreq EstSkew Stress Ns Bs Nr [Asym] */
        if (n < 12 || strlen(w[2]) >= sizeof row.address || !parse_number(w[4], &row.offset))
                return 0;
        strcpy(row.address, w[2]);
        if (GREEDY_REALLOC(d->statistics, d->n_statistics_allocated, d->n_statistics + 1) < 0)
                return -ENOMEM;
        d->statistics[d->n_statistics++] = row;
        return 1;
}

static int read_rows(CtlPlotData *d, const char *text, double since, size_t *skipped, RowAdder add) {
        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                char line[MAX_LINE], *w[MAX_COLUMNS];
                double time;

                memcpy(line, p, MIN(len, sizeof line - 1));
                line[MIN(len, sizeof line - 1)] = '\0';
                p += len + (p[len] == '\n');
                if (!is_data_line(line))
                        continue;
                size_t n = split_words(line, w);
                if (len >= sizeof line || n < 2 || !parse_log_time(w[0], w[1], &time)) {
                        (*skipped)++;
                        continue;
                }
                if (time < since)
                        continue;
                int r = add(d, w, n, time);
                if (r < 0)
                        return r;
                *skipped += r == 0;
        }
        return 0;
}

int ctl_plot_read_tracking(CtlPlotData *d, const char *text, double since, size_t *skipped) {
        return read_rows(d, text, since, skipped, add_tracking_row);
}

int ctl_plot_read_statistics(CtlPlotData *d, const char *text, double since, size_t *skipped) {
        return read_rows(d, text, since, skipped, add_statistics_row);
}

int ctl_parse_duration(const char *s, double *ret) {
        static const struct { const char *suffix; double seconds; } units[] = {
                { "min", 60 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 604800 },
        };
        double total = 0;

        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                char *end;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                double v = strtod(s, &end);
                size_t i = 0;
                while (i < ELEMENTSOF(units) && strncmp(end, units[i].suffix, strlen(units[i].suffix)) != 0)
                        i++;
                if (i == ELEMENTSOF(units) && *end)
                        return -EINVAL;
                total += v * (i < ELEMENTSOF(units) ? units[i].seconds : 1);
                s = end + (i < ELEMENTSOF(units) ? strlen(units[i].suffix) : 0);
        }
        if (!isfinite(total))
                return -EINVAL;
        *ret = total;
        return 0;
}

/* ---- axes ---- */

/* An axis in display units: value * scale. */
typedef struct Axis {
        double min, max;
        double step;            /* between ticks */
        double scale;
        const char *unit;
} Axis;

/* 1, 2 or 5 times a power of ten, at least raw. */
static double round_step(double raw) {
        double mag = pow(10, floor(log10(raw)));
        double f = raw / mag;

        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* An axis over [lo, hi] (log units) with about five round ticks; its ends
 * are ticks. */
static Axis value_axis(double lo, double hi, double scale, const char *unit) {
        Axis a = { .scale = scale, .unit = unit };

        lo *= scale;
        hi *= scale;
        if (hi - lo < 1e-9 * MAX(fabs(lo), fabs(hi)) || hi - lo <= 0) {
                double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
                lo -= pad;
                hi += pad;
        }
        a.step = round_step((hi - lo) / 5);
        a.min = floor(lo / a.step) * a.step;
        a.max = ceil(hi / a.step) * a.step;
        return a;
}

/* Offsets in s, ms, µs or ns, whichever keeps the numbers short. */
static Axis offset_axis(double lo, double hi) {
        double m = MAX(fabs(lo), fabs(hi));

        if (m >= 1)
                return value_axis(lo, hi, 1, "s");
        if (m >= 1e-3)
                return value_axis(lo, hi, 1e3, "ms");
        if (m >= 1e-6)
                return value_axis(lo, hi, 1e6, "µs");
        return value_axis(lo, hi, 1e9, "ns");
}

/* Time in Unix seconds; ticks at round UTC times, at most about eight. */
static Axis time_axis(double lo, double hi) {
        static const double steps[] = {
                1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
                172800, 604800,
        };
        Axis a = { .min = lo, .max = hi, .scale = 1, .unit = "UTC" };

        if (hi - lo < 1) {
                a.min -= 30;
                a.max += 30;
        }
        a.step = round_step((a.max - a.min) / 8 / 86400) * 86400;
        for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                if ((a.max - a.min) / steps[i] <= 8) {
                        a.step = steps[i];
                        break;
                }
        return a;
}

typedef struct Panel {
        double x, y, width, height;
        Axis time, value;
} Panel;

static double panel_x(const Panel *p, double t) {
        return p->x + (t - p->time.min) / (p->time.max - p->time.min) * p->width;
}

static double panel_y(const Panel *p, double v) {
        return p->y + p->height - (v * p->value.scale - p->value.min) / (p->value.max - p->value.min) * p->height;
}

/* ---- SVG text ---- */

static void write_escaped(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                default: fputc(*s, f);
                }
}

static void write_text(FILE *f, double x, double y, const char *attrs, const char *text) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, *attrs ? " " : "", attrs);
        write_escaped(f, text);
        fputs("</text>\n", f);
}

/* How a time is written: on the time axis, or in full. */
typedef enum TimeFormat {
        TIME_SECONDS,           /* 09:29:47 */
        TIME_MINUTES,           /* 09:29 */
        TIME_DAY_MINUTES,       /* 11-25 09:29 */
        TIME_DATE,              /* 2026-11-25 */
        TIME_FULL,              /* 2026-11-25 09:29:47 */
} TimeFormat;

static char *format_utc(char *buf, size_t size, double t, TimeFormat format) {
        time_t s = (time_t) floor(t);
        struct tm tm;

        if (!gmtime_r(&s, &tm)) {
                snprintf(buf, size, "?");
                return buf;
        }
        switch (format) {
        case TIME_SECONDS:
                snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
                break;
        case TIME_MINUTES:
                snprintf(buf, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
                break;
        case TIME_DAY_MINUTES:
                snprintf(buf, size, "%02d-%02d %02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
                break;
        case TIME_DATE:
                snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
                break;
        default:
                snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
        }
        return buf;
}

/* A tick label with as many decimals as the step needs, never "-0". */
static char *format_tick(char *buf, size_t size, double v, double step) {
        int decimals = step >= 1 ? 0 : (int) ceil(-log10(step) - 1e-9);

        if (fabs(v) < step * 1e-6)
                v = 0;
        snprintf(buf, size, "%.*f", decimals, v);
        return buf;
}

/* ---- panels ---- */

static void write_value_ticks(FILE *f, const Panel *p) {
        char label[64];

        for (double v = p->value.min; v <= p->value.max + p->value.step * 1e-6; v += p->value.step) {
                double y = p->y + p->height - (v - p->value.min) / (p->value.max - p->value.min) * p->height;
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"%s\"/>\n", p->x, y,
                        p->x + p->width, y, fabs(v) < p->value.step * 1e-6 ? "#888888" : "#e4e4e4");
                write_text(f, p->x - 6, y + 4, "text-anchor=\"end\"",
                           format_tick(label, sizeof label, v, p->value.step));
        }
}

static void write_time_ticks(FILE *f, const Panel *p) {
        const Axis *a = &p->time;
        bool days = floor(a->min / 86400) != floor(a->max / 86400);
        TimeFormat format = a->step >= 86400 ? TIME_DATE : days ? TIME_DAY_MINUTES
                          : a->step < 60 ? TIME_SECONDS : TIME_MINUTES;
        char label[64];

        for (double t = ceil(a->min / a->step) * a->step; t <= a->max; t += a->step) {
                double x = panel_x(p, t);
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", x, p->y, x,
                        p->y + p->height);
                write_text(f, x, p->y + p->height + 16, "text-anchor=\"middle\"",
                           format_utc(label, sizeof label, t, format));
        }
}

/* Opens the panel's group: scales as data-* attributes, grid, ticks,
 * title and axis label. */
static void write_panel_start(FILE *f, const Panel *p, const char *id, const char *title, const char *axis_label) {
        fprintf(f, "<g id=\"%s\" class=\"panel\" data-x=\"%.0f\" data-y=\"%.0f\" data-width=\"%.0f\" "
                "data-height=\"%.0f\" data-t-min=\"%.17g\" data-t-max=\"%.17g\" data-y-min=\"%.17g\" "
                "data-y-max=\"%.17g\" data-y-scale=\"%.17g\">\n",
                id, p->x, p->y, p->width, p->height, p->time.min, p->time.max, p->value.min, p->value.max,
                p->value.scale);
        write_value_ticks(f, p);
        write_time_ticks(f, p);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333333\"/>\n",
                p->x, p->y, p->width, p->height);
        write_text(f, p->x, p->y - 10, "font-size=\"14\" font-weight=\"bold\"", title);
        fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">", p->x - 58,
                p->y + p->height / 2);
        write_escaped(f, axis_label);
        fputs("</text>\n", f);
}

typedef struct Point {
        double t, v;
} Point;

typedef struct Series {
        const char *id;
        const char *colour;
        const char *dash;       /* stroke-dasharray, or NULL */
        const char *label;      /* legend text, or NULL for none */
        const Point *points;
        size_t n;
} Series;

static void write_series(FILE *f, const Panel *p, const Series *s) {
        fprintf(f, "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s%s%s points=\"", s->id,
                s->colour, s->dash ? " stroke-dasharray=\"" : "", s->dash ?: "", s->dash ? "\"" : "");
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "%s%.2f,%.2f", i > 0 ? " " : "", panel_x(p, s->points[i].t), panel_y(p, s->points[i].v));
        fputs("\"/>\n", f);
        if (s->n > MARKER_LIMIT || s->dash)
                return;
        fprintf(f, "<g fill=\"%s\">\n", s->colour);
        for (size_t i = 0; i < s->n; i++)
                fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2\"/>\n", panel_x(p, s->points[i].t),
                        panel_y(p, s->points[i].v));
        fputs("</g>\n", f);
}

/* The legend, right of the panel: a line and the label of each series;
 * an entry without a colour is a heading in grey. */
static void write_legend(FILE *f, const Panel *p, const Series *s, size_t n) {
        double y = p->y + 8;

        fputs("<g class=\"legend\">\n", f);
        for (size_t i = 0; i < n; i++, y += 18) {
                char label[LEGEND_CHARS * 4 + 8];
                size_t len = strlen(s[i].label);

                snprintf(label, sizeof label, "%.*s%s", LEGEND_CHARS, s[i].label, len > LEGEND_CHARS ? "…" : "");
                if (!s[i].colour) {
                        write_text(f, LEGEND_LEFT, y + 4, "fill=\"#555555\"", label);
                        continue;
                }
                fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n",
                        LEGEND_LEFT, y, LEGEND_LEFT + 20, y, s[i].colour, s[i].dash ? " stroke-dasharray=\"" : "",
                        s[i].dash ?: "", s[i].dash ? "\"" : "");
                write_text(f, LEGEND_LEFT + 26, y + 4, "", label);
        }
        fputs("</g>\n", f);
}

/* ---- the picture ---- */

typedef struct Plot {
        Point *offset, *upper, *lower, *frequency;
        Point *sources[MAX_SOURCES];
        size_t n_source_points[MAX_SOURCES], n_source_allocated[MAX_SOURCES];
        char source_labels[MAX_SOURCES][sizeof(((CtlPlotStatistic *) NULL)->address)];
        size_t n_sources;
        bool sources_left_out;
        double t_min, t_max, offset_min, offset_max, freq_min, freq_max;
} Plot;

static void plot_done(Plot *p) {
        free(p->offset);
        free(p->upper);
        free(p->lower);
        free(p->frequency);
        for (size_t i = 0; i < MAX_SOURCES; i++)
                free(p->sources[i]);
}

static void extend(double *lo, double *hi, double v) {
        *lo = MIN(*lo, v);
        *hi = MAX(*hi, v);
}

static int plot_tracking(Plot *p, const CtlPlotData *d) {
        size_t n = d->n_tracking;

        p->offset = calloc(n, sizeof(Point));
        p->upper = calloc(n, sizeof(Point));
        p->lower = calloc(n, sizeof(Point));
        p->frequency = calloc(n, sizeof(Point));
        if (!p->offset || !p->upper || !p->lower || !p->frequency)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const CtlPlotTracking *r = &d->tracking[i];
                double bound = fabs(r->max_error);

                p->offset[i] = (Point) { r->time, r->offset };
                p->upper[i] = (Point) { r->time, bound };
                p->lower[i] = (Point) { r->time, -bound };
                p->frequency[i] = (Point) { r->time, r->frequency };
                extend(&p->t_min, &p->t_max, r->time);
                extend(&p->offset_min, &p->offset_max, r->offset);
                extend(&p->offset_min, &p->offset_max, bound);
                extend(&p->offset_min, &p->offset_max, -bound);
                extend(&p->freq_min, &p->freq_max, r->frequency);
        }
        return 0;
}

/* The series of a source address, in order of first appearance; -1 when
 * MAX_SOURCES are taken by others. */
static int source_index(Plot *p, const char *address) {
        for (size_t i = 0; i < p->n_sources; i++)
                if (streq(p->source_labels[i], address))
                        return (int) i;
        if (p->n_sources == MAX_SOURCES)
                return -1;
        snprintf(p->source_labels[p->n_sources], sizeof p->source_labels[0], "%s", address);
        return (int) p->n_sources++;
}

static int plot_statistics(Plot *p, const CtlPlotData *d) {
        for (size_t i = 0; i < d->n_statistics; i++) {
                const CtlPlotStatistic *r = &d->statistics[i];
                int k = source_index(p, r->address);

                if (k < 0) {
                        p->sources_left_out = true;
                        continue;
                }
                if (GREEDY_REALLOC(p->sources[k], p->n_source_allocated[k], p->n_source_points[k] + 1) < 0)
                        return -ENOMEM;
                p->sources[k][p->n_source_points[k]++] = (Point) { r->time, r->offset };
                extend(&p->t_min, &p->t_max, r->time);
                extend(&p->offset_min, &p->offset_max, r->offset);
        }
        return 0;
}

static void write_header(FILE *f, const Plot *p, size_t n_updates) {
        char from[64], to[64], subtitle[200];

        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n", SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT);
        format_utc(from, sizeof from, p->t_min, TIME_FULL);
        format_utc(to, sizeof to, p->t_max, TIME_FULL);
        snprintf(subtitle, sizeof subtitle, ngettext("%s to %s UTC, %zu clock update",
                                                     "%s to %s UTC, %zu clock updates", n_updates),
                 from, to, n_updates);
        fputs("<title>", f);
        write_escaped(f, _("tempus: clock offset and frequency"));
        fputs("</title>\n", f);
        fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_WIDTH, SVG_HEIGHT);
        write_text(f, PLOT_LEFT, 26, "font-size=\"16\" font-weight=\"bold\"", _("tempus: clock offset and frequency"));
        write_text(f, PLOT_LEFT, 44, "fill=\"#555555\"", subtitle);
}

/* The offset panel: the ± maximum-error envelope, each source's estimated
 * offset, and on top the offset at each clock update. */
static void write_offset_panel(FILE *f, const Plot *p, const CtlPlotData *d) {
        static const char *const ids[MAX_SOURCES] = {
                "source-1", "source-2", "source-3", "source-4", "source-5", "source-6", "source-7", "source-8",
        };
        Panel panel = { PLOT_LEFT, 84, PLOT_WIDTH, 230, time_axis(p->t_min, p->t_max),
                        offset_axis(p->offset_min, p->offset_max) };
        Series upper = { "max-error-upper", COLOUR_ERROR, "5,3", _("± maximum error"), p->upper, d->n_tracking };
        Series lower = { "max-error-lower", COLOUR_ERROR, "5,3", "", p->lower, d->n_tracking };
        Series offset = { "offset", COLOUR_OFFSET, NULL, _("offset at clock updates"), p->offset, d->n_tracking };
        Series legend[4 + MAX_SOURCES] = { offset, upper };
        size_t n_legend = 2;
        char axis_label[64];

        snprintf(axis_label, sizeof axis_label, _("Offset (%s)"), panel.value.unit);
        write_panel_start(f, &panel, "offset-panel", _("Offset: local clock minus true time"), axis_label);
        write_series(f, &panel, &lower);
        write_series(f, &panel, &upper);
        if (p->n_sources > 0)
                legend[n_legend++] = (Series) { .label = _("estimated offset of:") };
        for (size_t i = 0; i < p->n_sources; i++) {
                Series s = { ids[i], source_colours[i], NULL, p->source_labels[i], p->sources[i],
                             p->n_source_points[i] };
                write_series(f, &panel, &s);
                legend[n_legend++] = s;
        }
        if (p->sources_left_out)
                legend[n_legend++] = (Series) { .label = _("(more sources not drawn)") };
        write_series(f, &panel, &offset);
        write_legend(f, &panel, legend, n_legend);
        fputs("</g>\n", f);
}

static void write_frequency_panel(FILE *f, const Plot *p, const CtlPlotData *d) {
        Panel panel = { PLOT_LEFT, 372, PLOT_WIDTH, 190, time_axis(p->t_min, p->t_max),
                        value_axis(p->freq_min, p->freq_max, 1, "ppm") };
        Series s = { "frequency", COLOUR_FREQUENCY, NULL, _("frequency correction"), p->frequency, d->n_tracking };

        write_panel_start(f, &panel, "frequency-panel", _("Frequency: rate error of the clock"), _("Frequency (ppm)"));
        write_series(f, &panel, &s);
        write_legend(f, &panel, &s, 1);
        fputs("</g>\n", f);
        write_text(f, panel.x + panel.width / 2, panel.y + panel.height + 42, "text-anchor=\"middle\"",
                   _("Time (UTC)"));
}

int ctl_plot_write_svg(FILE *f, const CtlPlotData *d) {
        Plot p = {
                .t_min = INFINITY, .t_max = -INFINITY,
                .offset_min = 0, .offset_max = 0,       /* zero stays in view */
                .freq_min = INFINITY, .freq_max = -INFINITY,
        };
        int r;

        if (d->n_tracking == 0)
                return -ENODATA;
        r = plot_tracking(&p, d);
        if (r >= 0)
                r = plot_statistics(&p, d);
        if (r >= 0) {
                write_header(f, &p, d->n_tracking);
                write_offset_panel(f, &p, d);
                write_frequency_panel(f, &p, d);
                fputs("</svg>\n", f);
        }
        plot_done(&p);
        return r;
}
