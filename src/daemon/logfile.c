/* chrony-compatible log files (see logfile.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "daemon/logfile.h"
#include "shared/macro.h"

const char logfile_measurements_header[] =
        "   Date (UTC) Time     IP Address   L St 123 567 ABCD  LP RP Score    Offset  Peer del. Peer disp.  Root del. Root disp. Refid     MTxRx";
const char logfile_statistics_header[] =
        "   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew  Stress  Ns  Bs  Nr  Asym";
const char logfile_tracking_header[] =
        "   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd Rem. corr. Root delay Root disp. Max. error";

typedef struct LogFile {
        const char *name;
        const char *header;
        FILE *f;
        unsigned lines;
} LogFile;

struct LogFiles {
        char *dir;
        unsigned flags;
        LogFile files[3];               /* measurements, statistics, tracking */
};

static char leap_char(NtpLeap leap) {
        return "N+-?"[leap & 3];
}

static char *format_date(char buf[static 20], nsec_t t) {
        struct tm tm;
        time_t s = (time_t) (t / NSEC_PER_SEC);
        gmtime_r(&s, &tm);
        strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
        return buf;
}

/* chrony's letters for the kinds of timestamp: D, K, H. */
static char timestamp_kind_char(TimestampKind k) {
        return k == TIMESTAMP_HARDWARE ? 'H' : k == TIMESTAMP_KERNEL ? 'K' : 'D';
}

int logfile_format_measurement(char *buf, size_t size, const LogMeasurement *m) {
        char date[20];
        return snprintf(buf, size, "%s %-15s %c %2u 111 111 1111 %3d %2d %4.2f %10.3e %10.3e %10.3e %10.3e %10.3e %08X "
                        "%u%c %c %c",
                        format_date(date, m->time), m->address, leap_char(m->leap), m->stratum, m->poll_local,
                        m->poll_remote, m->score, m->offset, m->peer_delay, m->peer_dispersion, m->root_delay,
                        m->root_dispersion, m->refid, (unsigned) m->mode, m->interleaved ? 'I' : 'B',
                        timestamp_kind_char(m->tx_kind), timestamp_kind_char(m->rx_kind));
}

int logfile_format_statistics(char *buf, size_t size, const LogStatistics *s) {
        char date[20];
        return snprintf(buf, size, "%s %-15s %10.3e %10.3e %10.3e %10.3e %10.3e %7.1e %3u %3u %3u %5.2f",
                        format_date(date, s->time), s->address, s->std_dev, s->est_offset, s->offset_sd,
                        s->diff_freq, s->est_skew, s->stress, s->n_samples, 0u, s->n_runs, s->asymmetry);
}

int logfile_format_tracking(char *buf, size_t size, const LogTracking *t) {
        char date[20];
        return snprintf(buf, size, "%s %-15s %2u %10.3f %10.3f %10.3e %c %2u %10.3e %10.3e %10.3e %10.3e %10.3e",
                        format_date(date, t->time), t->address, t->stratum, t->frequency_ppm, t->skew_ppm, t->offset,
                        leap_char(t->leap), t->combined, t->offset_sd, t->remaining_correction, t->root_delay,
                        t->root_dispersion, t->max_error);
}

static void close_all(LogFiles *l) {
        for (size_t i = 0; i < ELEMENTSOF(l->files); i++)
                if (l->files[i].f) {
                        fclose(l->files[i].f);
                        l->files[i].f = NULL;
                }
}

static int logfiles_open(LogFiles *l) {
        static const unsigned flag_of[] = { LOG_FLAG_MEASUREMENTS, LOG_FLAG_STATISTICS, LOG_FLAG_TRACKING };

        (void) mkdir(l->dir, 0755);
        for (size_t i = 0; i < ELEMENTSOF(l->files); i++) {
                if (!(l->flags & flag_of[i]))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", l->dir, l->files[i].name) < 0)
                        return -ENOMEM;
                l->files[i].f = fopen(path, "ae");
                if (!l->files[i].f) {
                        int r = -errno;
                        close_all(l);
                        return r;
                }
                setvbuf(l->files[i].f, NULL, _IOLBF, 0);
                l->files[i].lines = 0;
        }
        return 0;
}

LogFiles *logfiles_free(LogFiles *l) {
        if (!l)
                return NULL;
        close_all(l);
        free(l->dir);
        free(l);
        return NULL;
}

int logfiles_new(const char *dir, unsigned flags, LogFiles **ret) {
        _cleanup_(logfiles_freep) LogFiles *l = calloc(1, sizeof(LogFiles));
        int r;

        if (!l)
                return -ENOMEM;
        l->dir = strdup(dir);
        if (!l->dir)
                return -ENOMEM;
        l->flags = flags;
        l->files[0] = (LogFile) { "measurements.log", logfile_measurements_header };
        l->files[1] = (LogFile) { "statistics.log", logfile_statistics_header };
        l->files[2] = (LogFile) { "tracking.log", logfile_tracking_header };
        r = logfiles_open(l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static void write_line(LogFile *f, const char *line) {
        if (!f->f)
                return;
        if (f->lines % LOGFILE_BANNER_LINES == 0) {
                char rule[160];
                size_t n = MIN(strlen(f->header), sizeof rule - 1);
                memset(rule, '=', n);
                rule[n] = 0;
                fprintf(f->f, "%s\n%s\n%s\n", rule, f->header, rule);
        }
        fprintf(f->f, "%s\n", line);
        f->lines++;
}

void logfiles_write_measurement(LogFiles *l, const LogMeasurement *m) {
        char line[256];
        logfile_format_measurement(line, sizeof line, m);
        write_line(&l->files[0], line);
}

void logfiles_write_statistics(LogFiles *l, const LogStatistics *s) {
        char line[256];
        logfile_format_statistics(line, sizeof line, s);
        write_line(&l->files[1], line);
}

void logfiles_write_tracking(LogFiles *l, const LogTracking *t) {
        char line[256];
        logfile_format_tracking(line, sizeof line, t);
        write_line(&l->files[2], line);
}
