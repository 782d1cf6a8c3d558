/* Implementation of ctl-format.h: chronyc-compatible text views, their
 * legends, the status summary and the JSON views. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl/ctl-format.h"
#include "ctl/ctl-i18n.h"
#include "ctl/ctl-json.h"
#include "shared/macro.h"

#define SOURCES_NAME_WIDTH 27
#define SOURCESTATS_NAME_WIDTH 25

/* Column headers: identical to chronyc's, never translated. */
static const char sources_header[] =
        "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ";
static const char sourcestats_header[] =
        "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev";

/* The -v legends. The art (dots, bars and slashes) points at the columns
 * below it, exactly where chronyc's legend points. */
static const char sources_legend[] = N_(
        "  .-- Mode of source: '^' server, '=' peer, '#' local reference clock.\n"
        " / .- State of source: '*' followed now, '+' combined, '-' not combined,\n"
        "| /   'x' likely wrong (falseticker), '~' jitter too high, '?' unusable.\n"
        "||                                                 .- xxxx [ yyyy ] +/- zzzz\n"
        "||    Replies to last 8 polls (octal) -.           |  xxxx = corrected offset,\n"
        "||      Poll interval (log2 s) --.      |          |  yyyy = offset as measured,\n"
        "||                                \\     |          |  zzzz = bound on the error.\n"
        "||                                 |    |           \\\n");

static const char sourcestats_legend[] = N_(
        "                             .- Samples held for the source.\n"
        "                            /    .- Runs of residuals that share a sign.\n"
        "                           |    /    .- Time covered by the samples.\n"
        "                           |   |    /      .- Estimated frequency error (ppm).\n"
        "                           |   |   |      /           .- Bound on that error (ppm).\n"
        "                           |   |   |     |           /         .- Estimated offset.\n"
        "                           |   |   |     |          |          |   Jitter -.\n"
        "                           |   |   |     |          |          |   std dev  \\\n"
        "                           |   |   |     |          |          |             |\n");

void ctl_source_info_done(CtlSourceInfo *s) {
        free(s->name);
        free(s->address);
        free(s->mode);
        free(s->state);
        free(s->authentication);
        free(s->link);
        free(s->key_type);
        free(s->local_address);
        free(s->ntp_mode);
        free(s->leap);
        free(s->tx_timestamping);
        free(s->rx_timestamping);
        *s = (CtlSourceInfo) {};
}

void ctl_source_info_free_array(CtlSourceInfo *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                ctl_source_info_done(&s[i]);
        free(s);
}

void ctl_tracking_done(CtlTracking *t) {
        free(t->reference_name);
        free(t->leap_status);
        for (size_t i = 0; i < t->n_access_rules; i++)
                free(t->access_rules[i].subnet);
        free(t->access_rules);
        *t = (CtlTracking) {};
}

/* ---- number formats ---- */

char *ctl_format_age(char *buf, size_t size, uint64_t s) {
        if (s == UINT64_MAX)
                snprintf(buf, size, "   -");
        else if (s < 1200)
                snprintf(buf, size, "%4" PRIu64, s);
        else if (s < 36000)
                snprintf(buf, size, "%3" PRIu64 "m", s / 60);
        else if (s < 345600)
                snprintf(buf, size, "%3" PRIu64 "h", s / 3600);
        else if (s / 86400 <= 999)
                snprintf(buf, size, "%3" PRIu64 "d", s / 86400);
        else
                snprintf(buf, size, "%3" PRIu64 "y", s / 86400 / 365);
        return buf;
}

/* Picks the unit for a duration of magnitude a (seconds): four digits of
 * ns, us or ms, then seconds with one decimal, then whole seconds, minutes,
 * hours, days and years. */
typedef struct DurationUnit {
        double limit;           /* use this unit while a < limit */
        double scale;           /* value = seconds * scale */
        int decimals;
        const char *suffix;
} DurationUnit;

static const DurationUnit duration_units[] = {
        { 9999.5e-9,                   1e9,                      0, "ns" },
        { 9999.5e-6,                   1e6,                      0, "us" },
        { 9999.5e-3,                   1e3,                      0, "ms" },
        { 999.5,                       1.0,                      1, "s" },
        { 99999.5,                     1.0,                      0, "s" },
        { 99999.5 * 60,                1.0 / 60,                 0, "m" },
        { 99999.5 * 3600,              1.0 / 3600,               0, "h" },
        { 99999.5 * 86400,             1.0 / 86400,              0, "d" },
        { INFINITY,                    1.0 / (86400.0 * 365),    0, "y" },
};

static const DurationUnit *duration_unit(double seconds) {
        double a = fabs(seconds);

        for (size_t i = 0; i < ELEMENTSOF(duration_units) - 1; i++)
                if (a < duration_units[i].limit)
                        return &duration_units[i];
        return &duration_units[ELEMENTSOF(duration_units) - 1];
}

/* Total width: 6 unsigned, 7 signed, whatever the unit. */
static char *format_duration(char *buf, size_t size, double seconds, bool sign) {
        const DurationUnit *u = duration_unit(seconds);
        int width = (sign ? 7 : 6) - (int) strlen(u->suffix);

        if (isnan(seconds))
                seconds = 0;
        if (sign)
                snprintf(buf, size, "%+*.*f%s", width, u->decimals, seconds * u->scale, u->suffix);
        else
                snprintf(buf, size, "%*.*f%s", width, u->decimals, fabs(seconds) * u->scale, u->suffix);
        return buf;
}

char *ctl_format_duration(char *buf, size_t size, double seconds) {
        return format_duration(buf, size, seconds, false);
}

char *ctl_format_signed_duration(char *buf, size_t size, double seconds) {
        return format_duration(buf, size, seconds, true);
}

char *ctl_format_ppm(char *buf, size_t size, double ppm, bool sign) {
        int decimals = fabs(ppm) < 99999.5 ? 3 : 0;

        if (sign)
                snprintf(buf, size, "%+10.*f", decimals, ppm);
        else
                snprintf(buf, size, "%10.*f", decimals, ppm);
        return buf;
}

/* ---- codes ---- */

char ctl_mode_char(const char *mode) {
        if (streq_ptr(mode, "peer"))
                return '=';
        if (streq_ptr(mode, "local") || streq_ptr(mode, "refclock"))
                return '#';
        return '^';
}

char ctl_state_char(const char *state) {
        static const struct { const char *name; char c; } states[] = {
                { "selected",     '*' },
                { "combined",     '+' },
                { "not-combined", '-' },
                { "falseticker",  'x' },
                { "jittery",      '~' },
                { "unusable",     '?' },
        };

        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                if (streq_ptr(state, states[i].name))
                        return states[i].c;
        return '?';
}

/* The name column: the host name (or, numeric, the address), with
 * "%LINK" for a server learned from a network link (as a scoped address
 * names its link), cut to width with a '>' marking the cut, as chronyc
 * does. buf has room for width + 1 bytes. */
static const char *source_label(char *buf, size_t width, const CtlSourceInfo *s, bool numeric) {
        const char *a = numeric ? s->address : s->name;
        const char *b = numeric ? s->name : s->address;
        const char *label = a && *a ? a : b ? b : "";
        char full[512];

        if (s->link && *s->link) {
                snprintf(full, sizeof full, "%s%%%s", label, s->link);
                label = full;
        }
        size_t len = strlen(label);
        if (len <= width) {
                memcpy(buf, label, len + 1);
                return buf;
        }
        memcpy(buf, label, width - 1);
        buf[width - 1] = '>';
        buf[width] = '\0';
        return buf;
}

/* ---- sources ---- */

static void print_header(FILE *f, const char *header) {
        fprintf(f, "%s\n", header);
        for (size_t i = strlen(header); i > 0; i--)
                fputc('=', f);
        fputc('\n', f);
}

static void print_source_row(FILE *f, const CtlSourceInfo *s, bool numeric) {
        char name[SOURCES_NAME_WIDTH + 1], age[16], off[16], meas[16], err[16];
        uint64_t age_s = s->last_rx_age_usec == CTL_AGE_NEVER ? UINT64_MAX : s->last_rx_age_usec / 1000000;

        fprintf(f, "%c%c %-27s  %2u  %2d   %3o  %s  %s[%s] +/- %s\n",
                ctl_mode_char(s->mode), ctl_state_char(s->state),
                source_label(name, SOURCES_NAME_WIDTH, s, numeric),
                s->stratum, (int) s->poll, s->reach,
                ctl_format_age(age, sizeof age, age_s),
                ctl_format_signed_duration(off, sizeof off, s->offset),
                ctl_format_signed_duration(meas, sizeof meas, s->measured_offset),
                ctl_format_duration(err, sizeof err, s->error));
}

void ctl_print_sources(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags) {
        if (flags->verbose)
                fprintf(f, "\n%s", _(sources_legend));
        print_header(f, sources_header);
        for (size_t i = 0; i < n; i++)
                print_source_row(f, &s[i], flags->numeric);
}

/* ---- sourcestats ---- */

static void print_sourcestats_row(FILE *f, const CtlSourceInfo *s, bool numeric) {
        char name[SOURCESTATS_NAME_WIDTH + 1], span[16], freq[24], skew[24], off[16], sd[16];

        fprintf(f, "%-25s %3u %3u  %s %s %s  %s  %s\n",
                source_label(name, SOURCESTATS_NAME_WIDTH, s, numeric),
                s->samples, s->runs,
                ctl_format_age(span, sizeof span, s->span > 0 ? (uint64_t) (s->span + 0.5) : 0),
                ctl_format_ppm(freq, sizeof freq, s->frequency, true),
                ctl_format_ppm(skew, sizeof skew, s->frequency_skew, false),
                ctl_format_signed_duration(off, sizeof off, s->offset),
                ctl_format_duration(sd, sizeof sd, s->std_dev));
}

void ctl_print_sourcestats(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags) {
        if (flags->verbose)
                fputs(_(sourcestats_legend), f);
        print_header(f, sourcestats_header);
        for (size_t i = 0; i < n; i++)
                print_sourcestats_row(f, &s[i], flags->numeric);
}

/* ---- authdata ---- */

static const char authdata_header[] =
        "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen";

static const char authdata_legend[] = N_(
        "Mode: SK a symmetric key from the key file, NTS Network Time Security, - no authentication.\n"
        "Type: 1 MD5, 2 SHA1, 3 SHA256, 4 SHA384, 5 SHA512, 13 AES128, 14 AES256 (chronyc's numbers).\n"
        "KLen: key length in bits.  NAK: replies that failed authentication (no MAC, a wrong\n"
        "MAC, a crypto-NAK or an NTS NAK).  NTS: Last, time since the last NTS-KE; Atmp, NTS-KE\n"
        "failures since the last that worked; Cook, cookies held; CLen, cookie length.\n\n");

/* chronyc's numbers for the hashes and ciphers (its hash.h and cmac.h). */
static unsigned authdata_type_number(const char *type) {
        static const struct { const char *name; unsigned number; } types[] = {
                { "MD5", 1 }, { "SHA1", 2 }, { "SHA256", 3 }, { "SHA384", 4 }, { "SHA512", 5 },
                { "AES128", 13 }, { "AES256", 14 },
        };
        for (size_t i = 0; type && i < ELEMENTSOF(types); i++)
                if (streq(type, types[i].name))
                        return types[i].number;
        return 0;
}

static const char *authdata_mode(const CtlSourceInfo *s) {
        if (streq_ptr(s->authentication, "symmetric"))
                return "SK";
        if (streq_ptr(s->authentication, "nts"))
                return "NTS";
        return "-";
}

/* Seconds since the last NTS-KE, as chronyc's Last column: "-" never. */
static char *authdata_last(char *buf, size_t size, const CtlSourceInfo *s) {
        uint64_t now = (uint64_t) time(NULL) * 1000000;

        if (s->nts_last_ke_usec == 0)
                return snprintf(buf, size, "-"), buf;
        return ctl_format_age(buf, size, now > s->nts_last_ke_usec ? (now - s->nts_last_ke_usec) / 1000000 : 0);
}

static void print_authdata_row(FILE *f, const CtlSourceInfo *s, bool numeric) {
        char name[SOURCES_NAME_WIDTH + 1], last[16];

        fprintf(f, "%-27s %4s %5" PRIu32 " %4u %4" PRIu32 " %4s %4" PRIu32 " %4" PRIu32 " %4" PRIu32 " %4" PRIu32 "\n",
                source_label(name, SOURCES_NAME_WIDTH, s, numeric), authdata_mode(s), s->key_id,
                authdata_type_number(s->key_type), s->key_length, authdata_last(last, sizeof last, s),
                s->nts_ke_attempts, s->auth_failures, s->nts_cookies, s->nts_cookie_length);
}

void ctl_print_authdata(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags) {
        if (flags->verbose)
                fputs(_(authdata_legend), f);
        print_header(f, authdata_header);
        for (size_t i = 0; i < n; i++)
                print_authdata_row(f, &s[i], flags->numeric);
}

/* ---- tracking ---- */

/* "Wed Nov 25 09:29:47 2026" in UTC with English names whatever the locale,
 * as chronyc prints it. */
static char *format_ref_time(char *buf, size_t size, uint64_t usec) {
        static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!gmtime_r(&t, &tm)) {
                snprintf(buf, size, "-");
                return buf;
        }
        snprintf(buf, size, "%s %s %02d %02d:%02d:%02d %d", days[tm.tm_wday], months[tm.tm_mon],
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
        return buf;
}

/* chronyc's wording of the leap status, from the API's LeapStatus value
 * (accepting the usual spellings). */
static const char *leap_status_text(const char *s) {
        if (!s || !*s)
                return "Not synchronised";
        if (strcasecmp(s, "normal") == 0 || strcasecmp(s, "none") == 0)
                return "Normal";
        if (strncasecmp(s, "insert", 6) == 0)
                return "Insert second";
        if (strncasecmp(s, "delete", 6) == 0)
                return "Delete second";
        if (strncasecmp(s, "unsync", 6) == 0 || strncasecmp(s, "not", 3) == 0 ||
            strcasecmp(s, "alarm") == 0)
                return "Not synchronised";
        return s;
}

void ctl_print_tracking(FILE *f, const CtlTracking *t) {
        char ref_time[64];

        fprintf(f, "Reference ID    : %08" PRIX32 " (%s)\n", t->reference_id, t->reference_name ?: "");
        fprintf(f, "Stratum         : %u\n", t->stratum);
        fprintf(f, "Ref time (UTC)  : %s\n", format_ref_time(ref_time, sizeof ref_time, t->reference_time_usec));
        fprintf(f, "System time     : %.9f seconds %s of NTP time\n",
                fabs(t->system_time_offset), t->system_time_offset < 0 ? "slow" : "fast");
        fprintf(f, "Last offset     : %+.9f seconds\n", t->last_offset);
        fprintf(f, "RMS offset      : %.9f seconds\n", t->rms_offset);
        fprintf(f, "Frequency       : %.3f ppm %s\n", fabs(t->frequency), t->frequency < 0 ? "slow" : "fast");
        fprintf(f, "Residual freq   : %+.3f ppm\n", t->residual_frequency);
        fprintf(f, "Skew            : %.3f ppm\n", t->skew);
        fprintf(f, "Root delay      : %.9f seconds\n", t->root_delay);
        fprintf(f, "Root dispersion : %.9f seconds\n", t->root_dispersion);
        fprintf(f, "Update interval : %.1f seconds\n", t->update_interval);
        fprintf(f, "Leap status     : %s\n", leap_status_text(t->leap_status));
}

/* ---- activity ---- */

void ctl_activity_count(const CtlSourceInfo *s, size_t n, CtlActivity *ret) {
        *ret = (CtlActivity) {};
        for (size_t i = 0; i < n; i++) {
                if (!s[i].address || !*s[i].address)
                        ret->unknown_address++;
                else if (s[i].reach != 0)
                        ret->online++;
                else
                        ret->offline++;
        }
}

void ctl_print_activity(FILE *f, const CtlActivity *a) {
        fprintf(f, "%u sources online\n", a->online);
        fprintf(f, "%u sources offline\n", a->offline);
        fprintf(f, "%u sources doing burst (return to online)\n", a->burst_online);
        fprintf(f, "%u sources doing burst (return to offline)\n", a->burst_offline);
        fprintf(f, "%u sources with unknown address\n", a->unknown_address);
}

/* ---- ntpdata ---- */

static const char ntpdata_legend[] = N_(
        "Offset is the last sample's, positive when the local clock is ahead.  Jitter is the\n"
        "standard deviation of the samples.  Interleaved: the last reply carried the precise\n"
        "transmit time of the one before (xleave).  TX and RX timestamping: Hardware for the\n"
        "network card's timestamps, Kernel for the kernel's software timestamps, Daemon for\n"
        "the clock read around the system call.\n\n");

/* chronyc's words for the wire values the API gives as names. */
static const char *ntpdata_leap(const char *leap) {
        return streq_ptr(leap, "normal") ? "Normal" : streq_ptr(leap, "insert") ? "Insert second"
               : streq_ptr(leap, "delete") ? "Delete second" : "Not synchronised";
}

static const char *ntpdata_mode(const char *mode) {
        return streq_ptr(mode, "symmetric-active") ? "Symmetric active"
               : streq_ptr(mode, "symmetric-passive") ? "Symmetric passive"
               : streq_ptr(mode, "server") ? "Server" : "-";
}

static const char *ntpdata_timestamping(const char *kind) {
        return streq_ptr(kind, "kernel") ? "Kernel" : streq_ptr(kind, "daemon") ? "Daemon"
               : streq_ptr(kind, "hardware") ? "Hardware" : "-";
}

/* "C0A80201" for an IPv4 address, as chronyc prints next to it. */
static void print_address_line(FILE *f, const char *label, const char *address) {
        struct in_addr a;

        if (address && inet_pton(AF_INET, address, &a) == 1)
                fprintf(f, "%s: %s (%08" PRIX32 ")\n", label, address, (uint32_t) ntohl(a.s_addr));
        else
                fprintf(f, "%s: %s\n", label, address && *address ? address : "-");
}

/* A reference ID as chronyc shows it beside the hex: the ASCII of a
 * stratum 0 or 1 source ("GPS"), the dotted quad otherwise. */
static char *format_refid(char buf[static 16], uint32_t id, uint8_t stratum) {
        if (stratum <= 1) {
                size_t n = 0;
                for (int shift = 24; shift >= 0; shift -= 8) {
                        unsigned char c = (unsigned char) (id >> shift);
                        if (c == 0)
                                break;
                        buf[n++] = isprint(c) ? (char) c : '?';
                }
                buf[n] = 0;
        } else
                snprintf(buf, 16, "%u.%u.%u.%u", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
        return buf;
}

static void print_ntpdata_header(FILE *f, const CtlSourceInfo *s) {
        char ref_time[64], refid[16];

        print_address_line(f, "Remote address  ", s->address);
        fprintf(f, "Remote port     : %u\n", s->remote_port);
        print_address_line(f, "Local address   ", s->local_address);
        fprintf(f, "Leap status     : %s\n", ntpdata_leap(s->leap));
        fprintf(f, "Version         : %u\n", s->ntp_version);
        fprintf(f, "Mode            : %s\n", ntpdata_mode(s->ntp_mode));
        fprintf(f, "Stratum         : %u\n", s->stratum);
        fprintf(f, "Poll interval   : %d (%g seconds)\n", (int) s->poll, ldexp(1.0, s->poll));
        fprintf(f, "Precision       : %d (%.9f seconds)\n", (int) s->precision, ldexp(1.0, s->precision));
        fprintf(f, "Root delay      : %.6f seconds\n", s->root_delay);
        fprintf(f, "Root dispersion : %.6f seconds\n", s->root_dispersion);
        fprintf(f, "Reference ID    : %08" PRIX32 " (%s)\n", s->reference_id,
                format_refid(refid, s->reference_id, s->stratum));
        fprintf(f, "Reference time  : %s\n", format_ref_time(ref_time, sizeof ref_time, s->reference_time_usec));
}

static void print_ntpdata_block(FILE *f, const CtlSourceInfo *s) {
        print_ntpdata_header(f, s);
        fprintf(f, "Offset          : %+.9f seconds\n", s->measured_offset);
        fprintf(f, "Peer delay      : %.9f seconds\n", isnan(s->delay) ? 0.0 : s->delay);
        fprintf(f, "Peer dispersion : %.9f seconds\n", s->dispersion);
        fprintf(f, "Jitter          : %.9f seconds\n", s->std_dev);
        fprintf(f, "Interleaved     : %s\n", s->interleaved ? "Yes" : "No");
        fprintf(f, "Authenticated   : %s\n", s->authenticated ? "Yes" : "No");
        fprintf(f, "TX timestamping : %s\n", ntpdata_timestamping(s->tx_timestamping));
        fprintf(f, "RX timestamping : %s\n", ntpdata_timestamping(s->rx_timestamping));
        fprintf(f, "Total TX        : %" PRIu64 "\n", s->total_tx);
        fprintf(f, "Total RX        : %" PRIu64 "\n", s->total_rx);
        fprintf(f, "Total valid RX  : %" PRIu64 "\n", s->total_valid_rx);
}

void ctl_print_ntpdata(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags) {
        if (flags->verbose)
                fputs(_(ntpdata_legend), f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc('\n', f);
                print_ntpdata_block(f, &s[i]);
        }
}

/* ---- status ---- */

static unsigned count_state(const CtlSourceInfo *s, size_t n, const char *state) {
        unsigned k = 0;

        for (size_t i = 0; i < n; i++)
                k += streq_ptr(s[i].state, state);
        return k;
}

static const char *yes_no(bool b) {
        return b ? _("yes") : _("no");
}

static void print_sync_line(FILE *f, const CtlTracking *t) {
        char off[16];

        if (t->synchronized) {
                fprintf(f, _("Synchronized to %s (stratum %u), last offset %s.\n"),
                        t->reference_name ?: "", t->stratum > 0 ? t->stratum - 1u : 0u,
                        ctl_format_signed_duration(off, sizeof off, t->last_offset) + strspn(off, " "));
        } else if (t->stratum > 0 && t->stratum < 16)
                fprintf(f, _("Not synchronized; serving the local clock at stratum %u.\n"), t->stratum);
        else
                fputs(_("Not synchronized.\n"), f);
}

static void print_step_line(FILE *f, const CtlTracking *t) {
        if (t->makestep_limit == 0)
                fputs(_("Clock steps: never (offsets are slewed).\n"), f);
        else if (t->makestep_limit < 0)
                fprintf(f, _("Clock steps: when off by more than %g s, at any update.\n"),
                        t->makestep_threshold);
        else
                fprintf(f, ngettext("Clock steps: when off by more than %g s, in the first %d update.\n",
                                    "Clock steps: when off by more than %g s, in the first %d updates.\n",
                                    (unsigned long) t->makestep_limit),
                        t->makestep_threshold, (int) t->makestep_limit);
}

static void print_access_line(FILE *f, const CtlTracking *t) {
        if (t->n_access_rules == 0) {
                fputs(_("NTP clients served: none.\n"), f);
                return;
        }
        fputs(_("NTP client access:"), f);
        for (size_t i = 0; i < t->n_access_rules; i++)
                fprintf(f, " %s %s%s", t->access_rules[i].allow ? _("allow") : _("deny"),
                        t->access_rules[i].subnet ?: "", i + 1 < t->n_access_rules ? "," : "");
        fputc('\n', f);
}

void ctl_print_status(FILE *f, const CtlTracking *t, const CtlSourceInfo *s, size_t n) {
        CtlActivity a;

        ctl_activity_count(s, n, &a);
        print_sync_line(f, t);
        fprintf(f, ngettext("%zu source: %u selected, %u combined, %u reachable.\n",
                            "%zu sources: %u selected, %u combined, %u reachable.\n", n),
                n, count_state(s, n, "selected"), count_state(s, n, "combined"), a.online);
        fprintf(f, _("Clock control: %s. RTC in local time: %s. Minimum sources: %u.\n"),
                yes_no(t->clock_control), yes_no(t->local_rtc), t->min_sources);
        print_step_line(f, t);
        print_access_line(f, t);
}

/* ---- JSON ---- */

static void json_source(FILE *f, const CtlSourceInfo *s) {
        bool first = true;

        fputc('{', f);
        json_write_key(f, &first, "Name");              json_write_string(f, s->name ?: "");
        json_write_key(f, &first, "Address");           json_write_string(f, s->address ?: "");
        json_write_key(f, &first, "Mode");              json_write_string(f, s->mode ?: "");
        json_write_key(f, &first, "State");             json_write_string(f, s->state ?: "");
        json_write_key(f, &first, "Stratum");           fprintf(f, "%u", s->stratum);
        json_write_key(f, &first, "Poll");              fprintf(f, "%d", (int) s->poll);
        json_write_key(f, &first, "Reach");             fprintf(f, "%u", s->reach);
        json_write_key(f, &first, "LastRxAgeUSec");
        if (s->last_rx_age_usec == CTL_AGE_NEVER)
                fputs("null", f);
        else
                fprintf(f, "%" PRIu64, s->last_rx_age_usec);
        json_write_key(f, &first, "Offset");            json_write_double(f, s->offset);
        json_write_key(f, &first, "MeasuredOffset");    json_write_double(f, s->measured_offset);
        json_write_key(f, &first, "Error");             json_write_double(f, s->error);
        json_write_key(f, &first, "Samples");           fprintf(f, "%" PRIu32, s->samples);
        json_write_key(f, &first, "Runs");              fprintf(f, "%" PRIu32, s->runs);
        json_write_key(f, &first, "Span");              json_write_double(f, s->span);
        json_write_key(f, &first, "Frequency");         json_write_double(f, s->frequency);
        json_write_key(f, &first, "FrequencySkew");     json_write_double(f, s->frequency_skew);
        json_write_key(f, &first, "StdDev");            json_write_double(f, s->std_dev);
        json_write_key(f, &first, "Prefer");            json_write_bool(f, s->prefer);
        json_write_key(f, &first, "IBurst");            json_write_bool(f, s->iburst);
        if (s->link) {
                json_write_key(f, &first, "Link");      json_write_string(f, s->link);
        }
        fputc('}', f);
}

/* A JSON array of the sources, each written by write_one. */
static void json_source_array(FILE *f, const CtlSourceInfo *s, size_t n,
                              void (*write_one)(FILE *f, const CtlSourceInfo *s)) {
        fputc('[', f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                write_one(f, &s[i]);
        }
        fputc(']', f);
}

static void json_sources_array(FILE *f, const CtlSourceInfo *s, size_t n) {
        json_source_array(f, s, n, json_source);
}

void ctl_json_sources(FILE *f, const CtlSourceInfo *s, size_t n) {
        json_sources_array(f, s, n);
        fputc('\n', f);
}

static void json_authdata(FILE *f, const CtlSourceInfo *s) {
        bool first = true;

        fputc('{', f);
        json_write_key(f, &first, "Name");              json_write_string(f, s->name ?: "");
        json_write_key(f, &first, "Address");           json_write_string(f, s->address ?: "");
        json_write_key(f, &first, "Authentication");    json_write_string(f, s->authentication ?: "none");
        json_write_key(f, &first, "KeyID");             fprintf(f, "%" PRIu32, s->key_id);
        json_write_key(f, &first, "KeyType");           json_write_string(f, s->key_type ?: "");
        json_write_key(f, &first, "KeyLength");         fprintf(f, "%" PRIu32, s->key_length);
        json_write_key(f, &first, "AuthFailures");      fprintf(f, "%" PRIu32, s->auth_failures);
        json_write_key(f, &first, "NTSCookies");        fprintf(f, "%" PRIu32, s->nts_cookies);
        json_write_key(f, &first, "NTSCookieLength");   fprintf(f, "%" PRIu32, s->nts_cookie_length);
        json_write_key(f, &first, "NTSKEAttempts");     fprintf(f, "%" PRIu32, s->nts_ke_attempts);
        json_write_key(f, &first, "NTSLastKEUSec");     fprintf(f, "%" PRIu64, s->nts_last_ke_usec);
        fputc('}', f);
}

void ctl_json_authdata(FILE *f, const CtlSourceInfo *s, size_t n) {
        json_source_array(f, s, n, json_authdata);
        fputc('\n', f);
}

static void json_ntpdata(FILE *f, const CtlSourceInfo *s) {
        bool first = true;

        fputc('{', f);
        json_write_key(f, &first, "Name");              json_write_string(f, s->name ?: "");
        json_write_key(f, &first, "Address");           json_write_string(f, s->address ?: "");
        json_write_key(f, &first, "RemotePort");        fprintf(f, "%u", s->remote_port);
        json_write_key(f, &first, "LocalAddress");      json_write_string(f, s->local_address ?: "");
        json_write_key(f, &first, "Leap");              json_write_string(f, s->leap ?: "");
        json_write_key(f, &first, "NTPVersion");        fprintf(f, "%u", s->ntp_version);
        json_write_key(f, &first, "NTPMode");           json_write_string(f, s->ntp_mode ?: "");
        json_write_key(f, &first, "Stratum");           fprintf(f, "%u", s->stratum);
        json_write_key(f, &first, "Poll");              fprintf(f, "%d", (int) s->poll);
        json_write_key(f, &first, "Precision");         fprintf(f, "%d", (int) s->precision);
        json_write_key(f, &first, "RootDelay");         json_write_double(f, s->root_delay);
        json_write_key(f, &first, "RootDispersion");    json_write_double(f, s->root_dispersion);
        json_write_key(f, &first, "ReferenceID");       fprintf(f, "%" PRIu32, s->reference_id);
        json_write_key(f, &first, "ReferenceTimeUSec"); fprintf(f, "%" PRIu64, s->reference_time_usec);
        json_write_key(f, &first, "MeasuredOffset");    json_write_double(f, s->measured_offset);
        json_write_key(f, &first, "Delay");             json_write_double(f, s->delay);
        json_write_key(f, &first, "Dispersion");        json_write_double(f, s->dispersion);
        json_write_key(f, &first, "StdDev");            json_write_double(f, s->std_dev);
        json_write_key(f, &first, "XLeave");            json_write_bool(f, s->xleave);
        json_write_key(f, &first, "Interleaved");       json_write_bool(f, s->interleaved);
        json_write_key(f, &first, "Authenticated");     json_write_bool(f, s->authenticated);
        json_write_key(f, &first, "TXTimestamping");    json_write_string(f, s->tx_timestamping ?: "");
        json_write_key(f, &first, "RXTimestamping");    json_write_string(f, s->rx_timestamping ?: "");
        json_write_key(f, &first, "TotalTX");           fprintf(f, "%" PRIu64, s->total_tx);
        json_write_key(f, &first, "TotalRX");           fprintf(f, "%" PRIu64, s->total_rx);
        json_write_key(f, &first, "TotalValidRX");      fprintf(f, "%" PRIu64, s->total_valid_rx);
        json_write_key(f, &first, "HardwareTXSamples"); fprintf(f, "%" PRIu64, s->hardware_tx_samples);
        json_write_key(f, &first, "KernelTXSamples");   fprintf(f, "%" PRIu64, s->kernel_tx_samples);
        json_write_key(f, &first, "DaemonTXSamples");   fprintf(f, "%" PRIu64, s->daemon_tx_samples);
        json_write_key(f, &first, "InterleavedReplies"); fprintf(f, "%" PRIu64, s->interleaved_replies);
        fputc('}', f);
}

void ctl_json_ntpdata(FILE *f, const CtlSourceInfo *s, size_t n) {
        json_source_array(f, s, n, json_ntpdata);
        fputc('\n', f);
}

static void json_tracking_members(FILE *f, bool *first, const CtlTracking *t) {
        json_write_key(f, first, "Synchronized");       json_write_bool(f, t->synchronized);
        json_write_key(f, first, "ReferenceID");        fprintf(f, "%" PRIu32, t->reference_id);
        json_write_key(f, first, "ReferenceName");      json_write_string(f, t->reference_name ?: "");
        json_write_key(f, first, "Stratum");            fprintf(f, "%u", t->stratum);
        json_write_key(f, first, "ReferenceTimeUSec");  fprintf(f, "%" PRIu64, t->reference_time_usec);
        json_write_key(f, first, "SystemTimeOffset");   json_write_double(f, t->system_time_offset);
        json_write_key(f, first, "LastOffset");         json_write_double(f, t->last_offset);
        json_write_key(f, first, "RMSOffset");          json_write_double(f, t->rms_offset);
        json_write_key(f, first, "Frequency");          json_write_double(f, t->frequency);
        json_write_key(f, first, "ResidualFrequency");  json_write_double(f, t->residual_frequency);
        json_write_key(f, first, "Skew");               json_write_double(f, t->skew);
        json_write_key(f, first, "RootDelay");          json_write_double(f, t->root_delay);
        json_write_key(f, first, "RootDispersion");     json_write_double(f, t->root_dispersion);
        json_write_key(f, first, "UpdateInterval");     json_write_double(f, t->update_interval);
        json_write_key(f, first, "LeapStatus");         json_write_string(f, t->leap_status ?: "");
}

static void json_settings_members(FILE *f, bool *first, const CtlTracking *t) {
        json_write_key(f, first, "MakeStepThreshold");  json_write_double(f, t->makestep_threshold);
        json_write_key(f, first, "MakeStepLimit");      fprintf(f, "%d", (int) t->makestep_limit);
        json_write_key(f, first, "MinSources");         fprintf(f, "%" PRIu32, t->min_sources);
        json_write_key(f, first, "AccessRules");
        fputc('[', f);
        for (size_t i = 0; i < t->n_access_rules; i++) {
                bool rule_first = true;

                fputs(i > 0 ? ",{" : "{", f);
                json_write_key(f, &rule_first, "Subnet");
                json_write_string(f, t->access_rules[i].subnet ?: "");
                json_write_key(f, &rule_first, "Allow");
                json_write_bool(f, t->access_rules[i].allow);
                fputc('}', f);
        }
        fputc(']', f);
        json_write_key(f, first, "ClockControl");       json_write_bool(f, t->clock_control);
        json_write_key(f, first, "LocalRTC");           json_write_bool(f, t->local_rtc);
}

void ctl_json_tracking(FILE *f, const CtlTracking *t) {
        bool first = true;

        fputc('{', f);
        json_tracking_members(f, &first, t);
        fputs("}\n", f);
}

void ctl_json_activity(FILE *f, const CtlActivity *a) {
        fprintf(f, "{\"Online\":%u,\"Offline\":%u,\"BurstOnline\":%u,\"BurstOffline\":%u,"
                "\"UnknownAddress\":%u}\n",
                a->online, a->offline, a->burst_online, a->burst_offline, a->unknown_address);
}

void ctl_json_status(FILE *f, const CtlTracking *t, const CtlSourceInfo *s, size_t n) {
        bool first = true;

        fputc('{', f);
        json_tracking_members(f, &first, t);
        json_settings_members(f, &first, t);
        json_write_key(f, &first, "Sources");
        json_sources_array(f, s, n);
        fputs("}\n", f);
}
