/* tempusd's state as metrics for Prometheus (tempusctl metrics).
 *
 * Pure: takes the structs ctl-bus.c fills and writes text. Two formats
 * share one table of metric families: OpenMetrics 1.0 (the default, with
 * UNIT lines, counter families named without their _total suffix, an info
 * family and the closing "# EOF"), and the older Prometheus text format
 * 0.0.4 (TYPE lines naming the sample, build info as a gauge), which is
 * what `promtool check metrics` and scrapers that do not ask for
 * OpenMetrics read. Names follow Prometheus's conventions: the tempus_
 * prefix, base units (seconds; frequencies as ratios, 1e-6 = 1 ppm),
 * _total on counters. */
#pragma once

#include <stdio.h>

#include "ctl/ctl-format.h"

typedef enum CtlMetricsFormat {
        CTL_METRICS_OPENMETRICS,
        CTL_METRICS_PROMETHEUS,
} CtlMetricsFormat;

/* "openmetrics" or "prometheus"; -EINVAL for anything else. */
int ctl_metrics_format_from_string(const char *s, CtlMetricsFormat *ret);

/* The HTTP Content-Type of a format. */
const char *ctl_metrics_content_type(CtlMetricsFormat format);

/* Writes every family: tracking, server counters (those the daemon
 * reported), one series per source and family (a source without a reply
 * yet has no offset, delay or jitter), and build info. Sources whose
 * (name, address) pair repeats are left out, since a scrape with duplicate
 * series is rejected whole. */
void ctl_metrics_write(FILE *f, CtlMetricsFormat format, const CtlTracking *t, const CtlSourceInfo *s, size_t n);
