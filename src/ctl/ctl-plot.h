/* tempusctl plot: a picture of the clock's offset, its error bound and its
 * frequency over time, drawn as SVG from the tracking and statistics logs
 * that tempusd writes with [Log] Log=tracking statistics (chrony's columns,
 * see src/daemon/logfile.c).
 *
 * Pure: parses log text handed in as strings and writes SVG to a FILE*.
 * The SVG has two panels sharing the time axis (UTC): the offset of each
 * clock update with the ± maximum-error envelope and each source's
 * estimated offset, then the frequency. Every panel carries its scales as
 * data-* attributes (data-t-min, data-t-max in Unix seconds; data-y-min,
 * data-y-max in the axis unit, data-y-scale axis units per log unit), so
 * that a reader can turn the polylines' points back into values. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* One row of tracking.log: the time of a clock update (Unix seconds), the
 * offset estimated then (s, positive: the local clock was ahead), the
 * bound on the clock's error (s) and the frequency correction (ppm). */
typedef struct CtlPlotTracking {
        double time;
        double offset;
        double max_error;
        double frequency;
} CtlPlotTracking;

/* One row of statistics.log: a source's estimated offset (s). */
typedef struct CtlPlotStatistic {
        double time;
        double offset;
        char address[64];
} CtlPlotStatistic;

typedef struct CtlPlotData {
        CtlPlotTracking *tracking;
        size_t n_tracking, n_tracking_allocated;
        CtlPlotStatistic *statistics;
        size_t n_statistics, n_statistics_allocated;
} CtlPlotData;

void ctl_plot_data_done(CtlPlotData *d);

/* Adds the rows of a tracking.log or statistics.log text made at or after
 * since (Unix seconds; -INFINITY for all). Banners, headers and blank
 * lines are skipped; lines that do not parse are counted in *skipped.
 * Returns 0 or -ENOMEM. */
int ctl_plot_read_tracking(CtlPlotData *d, const char *text, double since, size_t *skipped);
int ctl_plot_read_statistics(CtlPlotData *d, const char *text, double since, size_t *skipped);

/* Writes the SVG. Returns 0, or -ENODATA when there is no tracking row. */
int ctl_plot_write_svg(FILE *f, const CtlPlotData *d);

/* A duration such as "90", "90s", "15min", "2h", "1d12h" or "1w", in
 * seconds. Returns 0 or -EINVAL. */
int ctl_parse_duration(const char *s, double *ret);
