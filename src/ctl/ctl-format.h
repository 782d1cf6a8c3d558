/* Text and JSON views of tempusd's state for tempusctl.
 *
 * Everything here is pure: the views take plain structs (filled from D-Bus
 * by ctl-bus.c, or by hand in tests) and write to a FILE*. The text views
 * print the same columns and number formats as chronyc's `sources`,
 * `sourcestats`, `tracking` and `activity`, so that eyes and scripts used to
 * chronyc carry over. Column headers and data lines are never translated;
 * the -v legends and human summaries are. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* LastRxAgeUSec value meaning "no reply received yet". */
#define CTL_AGE_NEVER UINT64_MAX

/* A counter the daemon did not report (an older tempusd). */
#define CTL_COUNTER_UNKNOWN UINT64_MAX

/* One org.tempus.Tempus1.Source object (DESIGN.md "D-Bus API"). Strings are
 * owned by the struct and released by ctl_source_info_done(). */
typedef struct CtlSourceInfo {
        char *name;
        char *address;
        char *mode;             /* "server", "peer", "local" */
        char *state;            /* selected, combined, not-combined, falseticker, jittery, unusable */
        uint8_t stratum;
        int32_t poll;           /* log2 seconds */
        uint8_t reach;          /* reachability register */
        uint64_t last_rx_age_usec;
        double offset;          /* adjusted offset of the last sample, seconds */
        double measured_offset; /* offset as measured, seconds */
        double error;           /* estimated error bound, seconds */
        double delay;           /* round-trip delay of the last sample; NaN: not reported */
        uint32_t samples;
        uint32_t runs;
        double span;            /* seconds covered by the samples */
        double frequency;       /* residual frequency, ppm */
        double frequency_skew;  /* ppm */
        double std_dev;         /* seconds */
        bool prefer;
        bool iburst;
        char *authentication;   /* none, symmetric, nts; NULL: not reported */
        uint32_t key_id;
        char *key_type;         /* MD5 ... AES256; "" or NULL: none */
        uint32_t key_length;    /* bits */
        uint32_t auth_failures;
        uint32_t nts_cookies;
        uint32_t nts_cookie_length;
        uint32_t nts_ke_attempts;
        uint64_t nts_last_ke_usec;      /* CLOCK_REALTIME; 0: never */
        char *link;             /* network link it was learned from; NULL or "": none */
        /* ntpdata */
        char *local_address;
        uint16_t remote_port;
        uint8_t ntp_version;
        char *ntp_mode;         /* server, symmetric-active, symmetric-passive */
        char *leap;             /* normal, insert, delete, unsynchronized */
        int32_t precision;
        double root_delay;
        double root_dispersion;
        uint32_t reference_id;
        uint64_t reference_time_usec;
        double dispersion;
        bool xleave;
        bool interleaved;
        bool authenticated;
        char *tx_timestamping;  /* kernel, daemon, "" */
        char *rx_timestamping;
        uint64_t total_tx, total_rx, total_valid_rx;
        uint64_t hardware_tx_samples, kernel_tx_samples, daemon_tx_samples, interleaved_replies;
} CtlSourceInfo;

void ctl_source_info_done(CtlSourceInfo *s);
void ctl_source_info_free_array(CtlSourceInfo *s, size_t n);

/* One entry of the Manager's AccessRules property. */
typedef struct CtlAccessRule {
        char *subnet;
        bool allow;
} CtlAccessRule;

/* The Manager's tracking properties and settings. */
typedef struct CtlTracking {
        bool synchronized;
        uint32_t reference_id;
        char *reference_name;
        uint8_t stratum;
        uint64_t reference_time_usec;   /* realtime, µs since the epoch; 0 never */
        double system_time_offset;      /* positive: system clock ahead of NTP time */
        double last_offset;
        double rms_offset;
        double frequency;               /* ppm, positive: the clock runs fast */
        double residual_frequency;      /* ppm */
        double skew;                    /* ppm */
        double root_delay;
        double root_dispersion;
        double update_interval;
        char *leap_status;

        double makestep_threshold;
        int32_t makestep_limit;
        uint32_t min_sources;
        bool clock_control;
        bool local_rtc;
        CtlAccessRule *access_rules;
        size_t n_access_rules, n_access_rules_allocated;

        /* Counters since tempusd started; CTL_COUNTER_UNKNOWN: not reported. */
        uint64_t server_requests;
        uint64_t server_replies;
        uint64_t server_denied;
        uint64_t server_rate_limited;
        uint64_t malformed_packets;
} CtlTracking;

void ctl_tracking_done(CtlTracking *t);

/* Options of the sources/sourcestats views. */
typedef struct CtlViewFlags {
        bool verbose;           /* print the -v legend */
        bool numeric;           /* show addresses instead of names */
} CtlViewFlags;

/* chronyc's number formats, each into buf and returning buf. */
char *ctl_format_age(char *buf, size_t size, uint64_t seconds);           /* 4 wide: "  57", " 20m", "   -" */
char *ctl_format_duration(char *buf, size_t size, double seconds);        /* 6 wide: "3718us" */
char *ctl_format_signed_duration(char *buf, size_t size, double seconds); /* 7 wide: " +278us" */
char *ctl_format_ppm(char *buf, size_t size, double ppm, bool sign);      /* 10 wide: "    -0.010" */

/* Source mode and state as chronyc's one-letter codes ('^', '*', ...). */
char ctl_mode_char(const char *mode);
char ctl_state_char(const char *state);

/* The text views. */
void ctl_print_sources(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags);
void ctl_print_sourcestats(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags);
void ctl_print_tracking(FILE *f, const CtlTracking *t);
/* chronyc authdata: how each source is authenticated. */
void ctl_print_authdata(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags);
/* chronyc ntpdata: one block per source, blank-line separated. */
void ctl_print_ntpdata(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags);

typedef struct CtlActivity {
        unsigned online;
        unsigned offline;
        unsigned burst_online;
        unsigned burst_offline;
        unsigned unknown_address;
} CtlActivity;

/* Counts sources the way chronyc activity reports them: a source without a
 * resolved address is "unknown address"; one that answered lately (reach
 * not zero) is online; the rest are offline. */
void ctl_activity_count(const CtlSourceInfo *s, size_t n, CtlActivity *ret);
void ctl_print_activity(FILE *f, const CtlActivity *a);

/* A short human summary (translated). */
void ctl_print_status(FILE *f, const CtlTracking *t, const CtlSourceInfo *s, size_t n);

/* JSON views: stable key names, the D-Bus property names. */
void ctl_json_sources(FILE *f, const CtlSourceInfo *s, size_t n);
void ctl_json_authdata(FILE *f, const CtlSourceInfo *s, size_t n);
void ctl_json_ntpdata(FILE *f, const CtlSourceInfo *s, size_t n);
void ctl_json_tracking(FILE *f, const CtlTracking *t);
void ctl_json_activity(FILE *f, const CtlActivity *a);
void ctl_json_status(FILE *f, const CtlTracking *t, const CtlSourceInfo *s, size_t n);
