/* The measurements, statistics and tracking logs of [Log] Dir= and Log=,
 * with the columns, header and number formats of chrony's
 * measurements.log, statistics.log and tracking.log, so existing tools
 * that read those keep working. Lines are flushed as written. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "ntp/ntp-packet.h"
#include "shared/macro.h"
#include "shared/time-util.h"
#include "shared/timestamp-kind.h"

/* The header is repeated after this many lines (chrony's logbanner). */
#define LOGFILE_BANNER_LINES 32

typedef struct LogMeasurement {
        nsec_t time;
        const char *address;
        NtpLeap leap;
        unsigned stratum;
        int poll_local;
        int poll_remote;
        double score;
        double offset;
        double peer_delay;
        double peer_dispersion;
        double root_delay;
        double root_dispersion;
        uint32_t refid;
        /* chrony's MTxRx column: the mode of the reply, whether the sample
         * was interleaved, and where its transmit and receive times came
         * from. */
        NtpMode mode;
        bool interleaved;
        TimestampKind tx_kind, rx_kind;
} LogMeasurement;

typedef struct LogStatistics {
        nsec_t time;
        const char *address;
        double std_dev;
        double est_offset;
        double offset_sd;
        double diff_freq;               /* s/s */
        double est_skew;                /* s/s */
        double stress;
        unsigned n_samples;
        unsigned n_runs;
        double asymmetry;               /* jitter asymmetry, chrony's sign */
} LogStatistics;

typedef struct LogTracking {
        nsec_t time;
        const char *address;
        unsigned stratum;
        double frequency_ppm;
        double skew_ppm;
        double offset;
        NtpLeap leap;
        unsigned combined;
        double offset_sd;
        double remaining_correction;
        double root_delay;
        double root_dispersion;
        double max_error;
} LogTracking;

/* Formatting (pure): one line, no newline. */
int logfile_format_measurement(char *buf, size_t size, const LogMeasurement *m);
int logfile_format_statistics(char *buf, size_t size, const LogStatistics *s);
int logfile_format_tracking(char *buf, size_t size, const LogTracking *t);
extern const char logfile_measurements_header[];
extern const char logfile_statistics_header[];
extern const char logfile_tracking_header[];

typedef struct LogFiles LogFiles;

/* Opens (appending, creating dir if need be) the files that flags ask for;
 * 0 or a negative errno. A reload makes a new set, which is how rotated
 * files are reopened. */
int logfiles_new(const char *dir, unsigned flags, LogFiles **ret);
LogFiles *logfiles_free(LogFiles *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogFiles *, logfiles_free);

void logfiles_write_measurement(LogFiles *l, const LogMeasurement *m);
void logfiles_write_statistics(LogFiles *l, const LogStatistics *s);
void logfiles_write_tracking(LogFiles *l, const LogTracking *t);
