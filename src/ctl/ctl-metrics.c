/* Implementation of ctl-metrics.h: one table per object (tracking, source)
 * of families read from struct fields, the server counters, the state
 * families (one 0/1 series per possible value) and build info. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ctl/ctl-json.h"
#include "ctl/ctl-metrics.h"
#include "shared/macro.h"

typedef enum MetricType {
        METRIC_GAUGE,
        METRIC_COUNTER,
        METRIC_INFO,
} MetricType;

/* A metric family as OpenMetrics names it: counters without _total, info
 * families without _info. */
typedef struct Family {
        const char *name;
        MetricType type;
        const char *unit;       /* OpenMetrics UNIT, or NULL */
        const char *help;
} Family;

/* How a struct field becomes a value in base units. */
typedef enum ValueKind {
        VALUE_DOUBLE,           /* double, as is */
        VALUE_PPM,              /* double in ppm, as a ratio */
        VALUE_BOOL,
        VALUE_U8,
        VALUE_LOG2_SECONDS,     /* int32_t power of two */
        VALUE_USEC,             /* uint64_t microseconds, as seconds */
        VALUE_AGE_USEC,         /* as VALUE_USEC; CTL_AGE_NEVER: none */
} ValueKind;

typedef struct FieldMetric {
        Family family;
        ValueKind kind;
        size_t offset;
        bool needs_reply;       /* sources: only once a reply arrived */
} FieldMetric;

#define TRACKING(name, unit, kind, member, help) \
        { { name, METRIC_GAUGE, unit, help }, kind, offsetof(CtlTracking, member), false }
#define SOURCE(name, unit, kind, member, needs_reply, help) \
        { { name, METRIC_GAUGE, unit, help }, kind, offsetof(CtlSourceInfo, member), needs_reply }

static const FieldMetric tracking_metrics[] = {
        TRACKING("tempus_synchronized", NULL, VALUE_BOOL, synchronized,
                 "Whether tempusd is synchronised to a source (1) or not (0)."),
        TRACKING("tempus_stratum", NULL, VALUE_U8, stratum,
                 "Stratum served: the selected source's plus one, LocalStratum while unsynchronised, 0 otherwise."),
        TRACKING("tempus_system_time_offset_seconds", "seconds", VALUE_DOUBLE, system_time_offset,
                 "Correction still being slewed; positive: the system clock is ahead of true time."),
        TRACKING("tempus_last_offset_seconds", "seconds", VALUE_DOUBLE, last_offset,
                 "Offset estimated at the last clock update; positive: the local clock was ahead."),
        TRACKING("tempus_rms_offset_seconds", "seconds", VALUE_DOUBLE, rms_offset,
                 "Root mean square of recent offsets."),
        TRACKING("tempus_frequency_ratio", "ratio", VALUE_PPM, frequency,
                 "Rate error of the system clock that tempusd corrects (1e-06 is 1 ppm); positive: the clock on its own runs fast."),
        TRACKING("tempus_residual_frequency_ratio", "ratio", VALUE_PPM, residual_frequency,
                 "Residual frequency of the selected source against the clock as corrected (1e-06 is 1 ppm)."),
        TRACKING("tempus_skew_ratio", "ratio", VALUE_PPM, skew,
                 "Error bound of the frequency (1e-06 is 1 ppm)."),
        TRACKING("tempus_root_delay_seconds", "seconds", VALUE_DOUBLE, root_delay,
                 "Total round-trip delay to the stratum-1 reference."),
        TRACKING("tempus_root_dispersion_seconds", "seconds", VALUE_DOUBLE, root_dispersion,
                 "Total dispersion to the stratum-1 reference."),
        TRACKING("tempus_update_interval_seconds", "seconds", VALUE_DOUBLE, update_interval,
                 "Time between the last two clock updates."),
        TRACKING("tempus_last_update_timestamp_seconds", "seconds", VALUE_USEC, reference_time_usec,
                 "When the clock was last updated, in seconds since the Unix epoch; 0: never."),
};

static const FieldMetric source_metrics[] = {
        SOURCE("tempus_source_offset_seconds", "seconds", VALUE_DOUBLE, offset, true,
               "Offset of the source's last sample, adjusted for clock corrections since; positive: the local clock is ahead."),
        SOURCE("tempus_source_delay_seconds", "seconds", VALUE_DOUBLE, delay, true,
               "Round-trip delay of the source's last sample."),
        SOURCE("tempus_source_jitter_seconds", "seconds", VALUE_DOUBLE, std_dev, true,
               "Standard deviation of the source's samples around their regression."),
        SOURCE("tempus_source_error_bound_seconds", "seconds", VALUE_DOUBLE, error, true,
               "Error bound of the source's last sample: half its delay plus its dispersion."),
        SOURCE("tempus_source_last_reply_age_seconds", "seconds", VALUE_AGE_USEC, last_rx_age_usec, true,
               "Time since the source's last valid reply."),
        SOURCE("tempus_source_reach", NULL, VALUE_U8, reach, false,
               "Reachability register: one bit per request, the newest lowest (255: the last eight were answered)."),
        SOURCE("tempus_source_poll_interval_seconds", "seconds", VALUE_LOG2_SECONDS, poll, false,
               "Interval between requests to the source."),
        SOURCE("tempus_source_stratum", NULL, VALUE_U8, stratum, false,
               "Stratum from the source's last reply; 16 before any."),
};

typedef struct CounterMetric {
        Family family;
        size_t offset;          /* uint64_t in CtlTracking */
} CounterMetric;

#define COUNTER(name, member, help) { { name, METRIC_COUNTER, NULL, help }, offsetof(CtlTracking, member) }

static const CounterMetric counter_metrics[] = {
        COUNTER("tempus_server_requests", server_requests,
                "Datagrams received on the NTP server sockets, whatever became of them."),
        COUNTER("tempus_server_replies", server_replies,
                "Replies sent to NTP clients, KoD replies included."),
        COUNTER("tempus_server_denied", server_denied,
                "Client requests refused by the access rules."),
        COUNTER("tempus_server_rate_limited", server_rate_limited,
                "Client requests over the rate limit, dropped or answered with a KoD RATE."),
        COUNTER("tempus_malformed_packets", malformed_packets,
                "Datagrams dropped as malformed, from clients and from sources alike."),
};

/* A family with one 0/1 series per possible value, 1 for the current one. */
typedef struct StateFamily {
        Family family;
        const char *label;
        const char *const *values;      /* NULL-terminated */
} StateFamily;

static const char *const source_states[] = {
        "selected", "combined", "not-combined", "falseticker", "jittery", "unusable", NULL,
};
static const char *const authentications[] = { "none", "symmetric", "nts", NULL };
static const char *const leap_statuses[] = { "normal", "insert", "delete", "unsynchronized", NULL };

static const StateFamily source_state_family = {
        { "tempus_source_state", METRIC_GAUGE, NULL,
          "Selection state of the source: 1 for the current one of selected, combined, not-combined, "
          "falseticker, jittery, unusable." },
        "state", source_states,
};
static const StateFamily source_auth_family = {
        { "tempus_source_authentication", METRIC_GAUGE, NULL,
          "How the source's replies are authenticated: 1 for the current one of none, symmetric, nts." },
        "authentication", authentications,
};
static const StateFamily leap_family = {
        { "tempus_leap_status", METRIC_GAUGE, NULL,
          "Leap status: 1 for the current one of normal, insert, delete, unsynchronized." },
        "status", leap_statuses,
};

static const Family build_family = {
        "tempus_build", METRIC_INFO, NULL, "The version of tempus that wrote these metrics.",
};

int ctl_metrics_format_from_string(const char *s, CtlMetricsFormat *ret) {
        if (streq_ptr(s, "openmetrics"))
                *ret = CTL_METRICS_OPENMETRICS;
        else if (streq_ptr(s, "prometheus"))
                *ret = CTL_METRICS_PROMETHEUS;
        else
                return -EINVAL;
        return 0;
}

const char *ctl_metrics_content_type(CtlMetricsFormat format) {
        return format == CTL_METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                 : "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- writing ---- */

/* The name samples carry: counters end in _total, info families in _info. */
static const char *sample_suffix(const Family *fam) {
        return fam->type == METRIC_COUNTER ? "_total" : fam->type == METRIC_INFO ? "_info" : "";
}

static const char *type_name(const Family *fam, CtlMetricsFormat format) {
        if (fam->type == METRIC_COUNTER)
                return "counter";
        if (fam->type == METRIC_INFO && format == CTL_METRICS_OPENMETRICS)
                return "info";
        return "gauge";
}

/* HELP and TYPE (and UNIT): for the family in OpenMetrics, for the sample
 * name in the 0.0.4 format. */
static void write_header(FILE *f, CtlMetricsFormat format, const Family *fam) {
        const char *suffix = format == CTL_METRICS_OPENMETRICS ? "" : sample_suffix(fam);

        fprintf(f, "# HELP %s%s %s\n", fam->name, suffix, fam->help);
        fprintf(f, "# TYPE %s%s %s\n", fam->name, suffix, type_name(fam, format));
        if (fam->unit && format == CTL_METRICS_OPENMETRICS)
                fprintf(f, "# UNIT %s %s\n", fam->name, fam->unit);
}

/* A label value with \, " and newline escaped. */
static void write_label_value(FILE *f, const char *s) {
        for (; s && *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

/* Labels as NULL-terminated name, value pairs. */
static void write_labels(FILE *f, const char *const *labels) {
        if (!labels || !labels[0])
                return;
        fputc('{', f);
        for (size_t i = 0; labels[i]; i += 2) {
                fprintf(f, "%s%s=\"", i > 0 ? "," : "", labels[i]);
                write_label_value(f, labels[i + 1]);
                fputc('"', f);
        }
        fputc('}', f);
}

static void write_value(FILE *f, double v) {
        char buf[40];

        if (isnan(v))
                fputs("NaN", f);
        else if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", f);
        else
                fputs(format_double_exact(buf, sizeof buf, v), f);
}

static void write_sample(FILE *f, const Family *fam, const char *const *labels, double v) {
        fprintf(f, "%s%s", fam->name, sample_suffix(fam));
        write_labels(f, labels);
        fputc(' ', f);
        write_value(f, v);
        fputc('\n', f);
}

/* ---- values ---- */

static double field_value(const void *base, const FieldMetric *m) {
        const uint8_t *p = (const uint8_t *) base + m->offset;

        switch (m->kind) {
        case VALUE_PPM:
                return *(const double *) p / 1e6;
        case VALUE_BOOL:
                return *(const bool *) p;
        case VALUE_U8:
                return *p;
        case VALUE_LOG2_SECONDS:
                return ldexp(1.0, *(const int32_t *) p);
        case VALUE_AGE_USEC:
                return *(const uint64_t *) p == CTL_AGE_NEVER ? NAN : *(const uint64_t *) p / 1e6;
        case VALUE_USEC:
                return *(const uint64_t *) p / 1e6;
        default:
                return *(const double *) p;
        }
}

static bool source_has_reply(const CtlSourceInfo *s) {
        return s->last_rx_age_usec != CTL_AGE_NEVER;
}

/* Whether an earlier source has the same name and address. */
static bool source_repeats(const CtlSourceInfo *s, size_t i) {
        for (size_t j = 0; j < i; j++)
                if (streq(s[j].name ?: "", s[i].name ?: "") && streq(s[j].address ?: "", s[i].address ?: ""))
                        return true;
        return false;
}

/* ---- families ---- */

static void write_tracking(FILE *f, CtlMetricsFormat format, const CtlTracking *t) {
        for (size_t i = 0; i < ELEMENTSOF(tracking_metrics); i++) {
                write_header(f, format, &tracking_metrics[i].family);
                write_sample(f, &tracking_metrics[i].family, NULL, field_value(t, &tracking_metrics[i]));
        }
}

/* The 0/1 series of a state family for one object; a current value
 * outside the known ones gets a series of its own. */
static void write_state_series(FILE *f, const StateFamily *sf, const char *source, const char *address,
                               const char *current) {
        bool known = false;

        for (const char *const *v = sf->values; *v; v++) {
                const char *labels[] = { "source", source, "address", address, sf->label, *v, NULL };
                bool on = streq_ptr(current, *v);

                known = known || on;
                write_sample(f, &sf->family, source ? labels : labels + 4, on);
        }
        if (!known && current) {
                const char *labels[] = { "source", source, "address", address, sf->label, current, NULL };
                write_sample(f, &sf->family, source ? labels : labels + 4, 1);
        }
}

static void write_counters(FILE *f, CtlMetricsFormat format, const CtlTracking *t) {
        for (size_t i = 0; i < ELEMENTSOF(counter_metrics); i++) {
                const CounterMetric *m = &counter_metrics[i];
                uint64_t v = *(const uint64_t *) ((const uint8_t *) t + m->offset);

                if (v == CTL_COUNTER_UNKNOWN)
                        continue;
                write_header(f, format, &m->family);
                fprintf(f, "%s_total %" PRIu64 "\n", m->family.name, v);
        }
}

static void write_source_family(FILE *f, CtlMetricsFormat format, const FieldMetric *m,
                                const CtlSourceInfo *s, size_t n) {
        write_header(f, format, &m->family);
        for (size_t i = 0; i < n; i++) {
                double v = field_value(&s[i], m);

                if (source_repeats(s, i) || (m->needs_reply && !source_has_reply(&s[i])) || isnan(v))
                        continue;
                const char *labels[] = { "source", s[i].name ?: "", "address", s[i].address ?: "", NULL };
                write_sample(f, &m->family, labels, v);
        }
}

static void write_source_states(FILE *f, CtlMetricsFormat format, const StateFamily *sf,
                                const CtlSourceInfo *s, size_t n) {
        write_header(f, format, &sf->family);
        for (size_t i = 0; i < n; i++) {
                if (source_repeats(s, i))
                        continue;
                const char *current = sf == &source_auth_family ? s[i].authentication ?: "none" : s[i].state;
                write_state_series(f, sf, s[i].name ?: "", s[i].address ?: "", current);
        }
}

static void write_build_info(FILE *f, CtlMetricsFormat format) {
        const char *labels[] = { "version", PACKAGE_VERSION, NULL };

        write_header(f, format, &build_family);
        write_sample(f, &build_family, labels, 1);
}

void ctl_metrics_write(FILE *f, CtlMetricsFormat format, const CtlTracking *t, const CtlSourceInfo *s, size_t n) {
        write_tracking(f, format, t);
        write_header(f, format, &leap_family.family);
        write_state_series(f, &leap_family, NULL, NULL, t->leap_status);
        write_counters(f, format, t);
        for (size_t i = 0; i < ELEMENTSOF(source_metrics); i++)
                write_source_family(f, format, &source_metrics[i], s, n);
        write_source_states(f, format, &source_state_family, s, n);
        write_source_states(f, format, &source_auth_family, s, n);
        write_build_info(f, format);
        if (format == CTL_METRICS_OPENMETRICS)
                fputs("# EOF\n", f);
}
