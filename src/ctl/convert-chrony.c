/* Implementation of convert-chrony.h: a table of chrony directives, each
 * with the tempus key it becomes or the reason it cannot. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "ctl/convert-chrony.h"
#include "ctl/ctl-i18n.h"
#include "ctl/ctl-json.h"
#include "shared/alloc-util.h"
#include "shared/macro.h"

#define MAX_WORDS 64

typedef enum Section {
        SECTION_SOURCES,
        SECTION_CLOCK,
        SECTION_SERVER,
        SECTION_AUTH,
        SECTION_LOG,
        _SECTION_MAX,
} Section;

static const char *const section_names[_SECTION_MAX] = {
        [SECTION_SOURCES] = "Sources",
        [SECTION_CLOCK]   = "Clock",
        [SECTION_SERVER]  = "Server",
        [SECTION_AUTH]    = "Auth",
        [SECTION_LOG]     = "Log",
};

typedef struct Converter {
        FILE *out[_SECTION_MAX];
        char *text[_SECTION_MAX];
        size_t size[_SECTION_MAX];
        ConvertNote *notes;
        size_t n_notes, n_notes_allocated;
        unsigned line;
        const char *directive;
        bool hw_timestamp;      /* a hwtimestamp line was converted */
        int error;              /* first allocation failure */
} Converter;

typedef struct Directive Directive;
typedef void (*DirectiveHandler)(Converter *c, const Directive *d, char **args, size_t n);

struct Directive {
        const char *name;
        DirectiveHandler handler;
        Section section;        /* for handlers that write one key */
        const char *key;
        const char *reason;     /* for directives tempus has no key for */
};

/* ---- output helpers ---- */

static void emit(Converter *c, Section s, const char *fmt, ...) _printf_(3, 4);
static void emit(Converter *c, Section s, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(c->out[s], fmt, ap);
        va_end(ap);
        fputc('\n', c->out[s]);
}

static void note(Converter *c, const char *fmt, ...) _printf_(2, 3);
static void note(Converter *c, const char *fmt, ...) {
        char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        int r = vasprintf(&reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                c->error = -ENOMEM;
                return;
        }
        if (GREEDY_REALLOC(c->notes, c->n_notes_allocated, c->n_notes + 1) < 0) {
                free(reason);
                c->error = -ENOMEM;
                return;
        }
        c->notes[c->n_notes++] = (ConvertNote) {
                .line = c->line, .directive = strdup(c->directive), .reason = reason,
        };
        if (!c->notes[c->n_notes - 1].directive)
                c->error = -ENOMEM;
}

/* Writes args[0..n) joined by spaces. */
static void emit_joined(Converter *c, Section s, const char *key, char **args, size_t n) {
        fprintf(c->out[s], "%s=", key);
        for (size_t i = 0; i < n; i++)
                fprintf(c->out[s], "%s%s", i > 0 ? " " : "", args[i]);
        fputc('\n', c->out[s]);
}

/* ---- source options ---- */

typedef struct SourceOption {
        const char *name;
        bool has_value;
        bool supported;
        bool pool_only;
} SourceOption;

static const SourceOption source_options[] = {
        { "iburst",           false, true,  false },
        { "prefer",           false, true,  false },
        { "noselect",         false, true,  false },
        { "minpoll",          true,  true,  false },
        { "maxpoll",          true,  true,  false },
        { "key",              true,  true,  false },
        { "port",             true,  true,  false },
        { "nts",              false, true,  false },
        { "ntsport",          true,  true,  false },
        { "maxsources",       true,  true,  true  },
        { "burst",            false, false, false },
        { "offline",          false, false, false },
        { "auto_offline",     false, false, false },
        { "trust",            false, false, false },
        { "require",          false, false, false },
        { "xleave",           false, true,  false },
        { "copy",             false, false, false },
        { "maxdelay",         true,  false, false },
        { "maxdelayratio",    true,  false, false },
        { "maxdelaydevratio", true,  false, false },
        { "maxdelayquant",    true,  false, false },
        { "mindelay",         true,  false, false },
        { "asymmetry",        true,  false, false },
        { "offset",           true,  false, false },
        { "minsamples",       true,  false, false },
        { "maxsamples",       true,  false, false },
        { "filter",           true,  false, false },
        { "polltarget",       true,  false, false },
        { "version",          true,  false, false },
        { "presend",          true,  false, false },
        { "minstratum",       true,  false, false },
        { "certset",          true,  false, false },
        { "extfield",         true,  false, false },
};

static const SourceOption *source_option_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(source_options); i++)
                if (strcasecmp(source_options[i].name, name) == 0)
                        return &source_options[i];
        return NULL;
}

/* Appends word (and its value) to the dropped list. */
static void drop_option(FILE *dropped, bool *any, char *const *words, size_t i, bool with_value) {
        fprintf(dropped, "%s%s", *any ? " " : "", words[i]);
        if (with_value)
                fprintf(dropped, " %s", words[i + 1]);
        *any = true;
}

/* Index of the first option that needs a value but ends the list, or n. */
static size_t find_missing_value(char *const *words, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const SourceOption *o = source_option_find(words[i]);
                if (o && o->has_value) {
                        if (i + 1 >= n)
                                return i;
                        i++;
                }
        }
        return n;
}

int convert_source_options(char *const *words, size_t n, bool pool, FILE *out, char **ret_dropped) {
        _cleanup_free_ char *dropped_text = NULL;
        size_t dropped_size = 0, missing = find_missing_value(words, n);
        bool any = false;

        if (missing < n) {
                *ret_dropped = strdup(words[missing]);
                return *ret_dropped ? -EINVAL : -ENOMEM;
        }
        FILE *dropped = open_memstream(&dropped_text, &dropped_size);
        if (!dropped)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const SourceOption *o = source_option_find(words[i]);
                bool with_value = o && o->has_value;

                if (!o || !o->supported || (o->pool_only && !pool))
                        drop_option(dropped, &any, words, i, with_value);
                else if (with_value)
                        fprintf(out, " %s=%s", o->name, words[i + 1]);
                else
                        fprintf(out, " %s", o->name);
                i += with_value;
        }
        if (fclose(dropped) != 0)
                return -ENOMEM;
        *ret_dropped = any ? TAKE_PTR(dropped_text) : NULL;
        return 0;
}

/* ---- directive handlers ---- */

static bool has_word(char *const *words, size_t n, const char *word) {
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(words[i], word) == 0)
                        return true;
        return false;
}

static void handle_source(Converter *c, const Directive *d, char **args, size_t n) {
        _cleanup_free_ char *dropped = NULL;
        bool pool = streq(d->key, "Pool");
        FILE *out = c->out[SECTION_SOURCES];

        if (n < 1) {
                note(c, _("a host name or address is missing"));
                return;
        }
        /* A value can only be missing after the last option: drop that one. */
        size_t n_options = n - 1, missing = find_missing_value(args + 1, n_options);
        if (missing < n_options) {
                note(c, _("option '%s' lacks its value and was dropped"), args[1 + missing]);
                n_options = missing;
        }
        fprintf(out, "%s=%s", d->key, args[0]);
        int r = convert_source_options(args + 1, n_options, pool, out, &dropped);
        fputc('\n', out);
        if (r < 0)
                c->error = -ENOMEM;
        else if (dropped)
                note(c, _("options tempus does not support were dropped: %s"), dropped);
        if (streq(d->key, "Peer") && !has_word(args + 1, n_options, "key"))
                note(c, _("a Peer= without key= is accepted only with an explicit Allow= for it"));
}

/* authselectmode: the same four modes, under the same names. */
static void handle_auth_select_mode(Converter *c, const Directive *d, char **args, size_t n) {
        static const char *const modes[] = { "require", "prefer", "mix", "ignore" };

        for (size_t i = 0; n == 1 && i < ELEMENTSOF(modes); i++)
                if (strcasecmp(args[0], modes[i]) == 0) {
                        emit(c, d->section, "%s=%s", d->key, modes[i]);
                        return;
                }
        note(c, _("expected require, prefer, mix or ignore"));
}

/* Directives with one argument that becomes one key. */
static void handle_value(Converter *c, const Directive *d, char **args, size_t n) {
        if (n != 1) {
                note(c, _("expected exactly one value"));
                return;
        }
        emit(c, d->section, "%s=%s", d->key, args[0]);
}

static void handle_flag(Converter *c, const Directive *d, char **args, size_t n) {
        emit(c, d->section, "%s=yes", d->key);
}

static void handle_makestep(Converter *c, const Directive *d, char **args, size_t n) {
        if (n != 2) {
                note(c, _("expected a threshold and a limit"));
                return;
        }
        emit(c, SECTION_CLOCK, "MakeStep=%s %s", args[0], args[1]);
}

static void handle_hwtimestamp(Converter *c, const Directive *d, char **args, size_t n) {
        if (n < 1) {
                note(c, _("an interface name (or *) is missing"));
                return;
        }
        /* chrony takes a line per interface; tempus one interface, or all. */
        if (c->hw_timestamp) {
                note(c, _("tempus timestamps in hardware on one interface or on all (HWTimestamp=*), so only "
                          "the first hwtimestamp line is converted"));
                return;
        }
        c->hw_timestamp = true;
        emit(c, SECTION_CLOCK, "HWTimestamp=%s", args[0]);
        if (n > 1)
                note(c, _("only the interface is converted; tempus chooses the timestamping options"));
}

/* allow/deny: no subnet means everyone, as in chrony. */
static void handle_access(Converter *c, const Directive *d, char **args, size_t n) {
        if (n == 0) {
                emit(c, SECTION_SERVER, "%s=all", d->key);
                return;
        }
        if (n > 1 && strcasecmp(args[0], "all") == 0) {
                emit(c, SECTION_SERVER, "%s=%s", d->key, args[1]);
                note(c, _("'all' (overriding earlier rules) has no equivalent; converted as a plain rule"));
                return;
        }
        emit(c, SECTION_SERVER, "%s=%s", d->key, strcasecmp(args[0], "all") == 0 ? "all" : args[0]);
        if (n > 1)
                note(c, _("only one subnet per line is converted"));
}

static void handle_local(Converter *c, const Directive *d, char **args, size_t n) {
        const char *stratum = "10";     /* chrony's default for a bare "local" */
        bool dropped = false;

        for (size_t i = 0; i < n; i++) {
                if (strcasecmp(args[i], "stratum") == 0 && i + 1 < n)
                        stratum = args[++i];
                else {
                        dropped = true;
                        if (strcasecmp(args[i], "orphan") != 0 && i + 1 < n)
                                i++;
                }
        }
        emit(c, SECTION_SERVER, "LocalStratum=%s", stratum);
        if (dropped)
                note(c, _("only the stratum is converted; orphan, distance and the other options are not supported"));
}

static void handle_ratelimit(Converter *c, const Directive *d, char **args, size_t n) {
        const char *interval = "3", *burst = "8";       /* chrony's defaults */
        bool dropped = false;

        for (size_t i = 0; i + 1 < n; i += 2) {
                if (strcasecmp(args[i], "interval") == 0)
                        interval = args[i + 1];
                else if (strcasecmp(args[i], "burst") == 0)
                        burst = args[i + 1];
                else
                        dropped = true;
        }
        emit(c, SECTION_SERVER, "RateLimit=interval=%s burst=%s", interval, burst);
        if (dropped || n % 2)
                note(c, _("only interval and burst are converted"));
}

static void handle_log(Converter *c, const Directive *d, char **args, size_t n) {
        static const char *const kept[] = { "measurements", "statistics", "tracking" };
        char *keep[MAX_WORDS];
        size_t k = 0;
        bool dropped = false;

        for (size_t i = 0; i < n; i++) {
                bool known = false;
                for (size_t j = 0; j < ELEMENTSOF(kept); j++)
                        known = known || strcasecmp(args[i], kept[j]) == 0;
                if (known)
                        keep[k++] = args[i];
                else
                        dropped = true;
        }
        if (k > 0)
                emit_joined(c, SECTION_LOG, "Log", keep, k);
        if (dropped)
                note(c, _("tempus writes only the measurements, statistics and tracking logs"));
}

static void handle_unsupported(Converter *c, const Directive *d, char **args, size_t n) {
        note(c, "%s", _(d->reason));
}

static const char reason_cmd[] =
        N_("tempusctl talks to tempusd over D-Bus; there is no command port to configure");
static const char reason_systemd[] =
        N_("systemd takes care of this for tempusd (see tempusd.service)");
static const char reason_include[] =
        N_("not followed: convert the files it names separately, as drop-ins in /etc/tempus/tempus.conf.d/");
static const char reason_rtc[] =
        N_("tempus does not track the RTC itself; use RTCSync=yes and timedatectl");

static const Directive directives[] = {
        { "server",         handle_source,      SECTION_SOURCES, "Server",       NULL },
        { "pool",           handle_source,      SECTION_SOURCES, "Pool",         NULL },
        { "minsources",     handle_value,       SECTION_SOURCES, "MinSources",   NULL },
        { "maxdistance",    handle_value,       SECTION_SOURCES, "MaxDistance",  NULL },
        { "maxjitter",      handle_value,       SECTION_SOURCES, "MaxJitter",    NULL },
        { "authselectmode", handle_auth_select_mode, SECTION_SOURCES, "AuthSelectMode", NULL },
        { "driftfile",      handle_value,       SECTION_CLOCK,   "DriftFile",    NULL },
        { "makestep",       handle_makestep,    SECTION_CLOCK,   NULL,           NULL },
        { "rtcsync",        handle_flag,        SECTION_CLOCK,   "RTCSync",      NULL },
        { "hwtimestamp",    handle_hwtimestamp, SECTION_CLOCK,   NULL,           NULL },
        { "leapsectz",      handle_value,       SECTION_CLOCK,   "LeapSecTZ",    NULL },
        { "allow",          handle_access,      SECTION_SERVER,  "Allow",        NULL },
        { "deny",           handle_access,      SECTION_SERVER,  "Deny",         NULL },
        { "local",          handle_local,       SECTION_SERVER,  NULL,           NULL },
        { "bindaddress",    handle_value,       SECTION_SERVER,  "BindAddress",  NULL },
        { "port",           handle_value,       SECTION_SERVER,  "Port",         NULL },
        { "ratelimit",      handle_ratelimit,   SECTION_SERVER,  NULL,           NULL },
        { "keyfile",        handle_value,       SECTION_AUTH,    "KeyFile",      NULL },
        { "ntstrustedcerts", handle_value,      SECTION_AUTH,    "NTSTrustedCerts", NULL },
        { "ntsdumpdir",     handle_value,       SECTION_AUTH,    "NTSDumpDir",   NULL },
        { "nocerttimecheck", handle_value,      SECTION_AUTH,    "NoCertTimeCheck", NULL },
        { "ntsservercert",  handle_value,       SECTION_SERVER,  "NTSServerCertFile", NULL },
        { "ntsserverkey",   handle_value,       SECTION_SERVER,  "NTSServerKeyFile", NULL },
        { "ntsport",        handle_value,       SECTION_SERVER,  "NTSPort",      NULL },
        { "maxntsconnections", handle_value,    SECTION_SERVER,  "NTSMaxConnections", NULL },
        { "ntsrotate",      handle_value,       SECTION_SERVER,  "NTSRotate",    NULL },
        { "logdir",         handle_value,       SECTION_LOG,     "Dir",          NULL },
        { "log",            handle_log,         SECTION_LOG,     NULL,           NULL },
        { "peer",           handle_source,      SECTION_SOURCES, "Peer",         NULL },
        { "clientloglimit", handle_value,       SECTION_SERVER,  "ClientLogLimit", NULL },
        { "refclock",       handle_unsupported, 0, NULL, N_("reference clocks are not supported") },
        { "cmdport",        handle_unsupported, 0, NULL, reason_cmd },
        { "bindcmdaddress", handle_unsupported, 0, NULL, reason_cmd },
        { "cmdallow",       handle_unsupported, 0, NULL, N_("reading over D-Bus is open to all local users; changes need root") },
        { "cmddeny",        handle_unsupported, 0, NULL, N_("reading over D-Bus is open to all local users; changes need root") },
        { "cmdratelimit",   handle_unsupported, 0, NULL, reason_cmd },
        { "user",           handle_unsupported, 0, NULL, N_("tempusd runs as the tempus user created by sysusers.d") },
        { "pidfile",        handle_unsupported, 0, NULL, reason_systemd },
        { "lock_all",       handle_unsupported, 0, NULL, reason_systemd },
        { "sched_priority", handle_unsupported, 0, NULL, reason_systemd },
        { "include",        handle_unsupported, 0, NULL, reason_include },
        { "confdir",        handle_unsupported, 0, NULL, reason_include },
        { "sourcedir",      handle_unsupported, 0, NULL, reason_include },
        { "rtcfile",        handle_unsupported, 0, NULL, reason_rtc },
        { "rtcautotrim",    handle_unsupported, 0, NULL, reason_rtc },
        { "rtconutc",       handle_unsupported, 0, NULL, N_("tempus reads the RTC's time scale from /etc/adjtime (timedatectl set-local-rtc)") },
        { "rtcdevice",      handle_unsupported, 0, NULL, reason_rtc },
        { "dumpdir",        handle_unsupported, 0, NULL, N_("tempus keeps no measurement dumps; the drift file is enough to restart") },
        { "dumponexit",     handle_unsupported, 0, NULL, N_("tempus keeps no measurement dumps; the drift file is enough to restart") },
};

static void handle_line(Converter *c, char *line) {
        char *words[MAX_WORDS], *save = NULL;
        size_t n = 0;

        for (char *w = strtok_r(line, " \t", &save); w && n < MAX_WORDS; w = strtok_r(NULL, " \t", &save))
                words[n++] = w;
        if (n == 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(directives); i++)
                if (strcasecmp(directives[i].name, words[0]) == 0) {
                        directives[i].handler(c, &directives[i], words + 1, n - 1);
                        return;
                }
        note(c, _("tempus has no equivalent for '%s'"), words[0]);
}

/* Strips surrounding blanks and a trailing "  # comment" (which chrony
 * itself would reject, but guides often show); returns NULL for blank and
 * comment lines (chrony's comment characters: # ! ; %). */
static char *directive_text(char *line) {
        line += strspn(line, " \t");
        for (char *p = line; (p = strchr(p, '#')); p++)
                if (p > line && strchr(" \t", p[-1])) {
                        *p = '\0';
                        break;
                }
        size_t len = strlen(line);
        while (len > 0 && strchr(" \t\r", line[len - 1]))
                line[--len] = '\0';
        if (len == 0 || strchr("#!;%", line[0]))
                return NULL;
        return line;
}

static void converter_done(Converter *c) {
        for (int s = 0; s < _SECTION_MAX; s++) {
                if (c->out[s])
                        fclose(c->out[s]);
                free(c->text[s]);
        }
}

static int converter_assemble(Converter *c, ConvertResult *ret) {
        _cleanup_free_ char *config = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&config, &size);

        if (!f)
                return -ENOMEM;
        fputs("# tempus.conf converted from chrony.conf by tempusctl convert-chrony.\n", f);
        for (int s = 0; s < _SECTION_MAX; s++) {
                fclose(c->out[s]);
                c->out[s] = NULL;
                if (c->size[s] > 0)
                        fprintf(f, "\n[%s]\n%s", section_names[s], c->text[s]);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        ret->config = TAKE_PTR(config);
        ret->notes = TAKE_PTR(c->notes);
        ret->n_notes = c->n_notes;
        return 0;
}

int convert_chrony(const char *text, ConvertResult *ret) {
        Converter c = {};
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;
        int r;

        *ret = (ConvertResult) {};
        if (!copy)
                return -ENOMEM;
        for (int s = 0; s < _SECTION_MAX; s++)
                if (!(c.out[s] = open_memstream(&c.text[s], &c.size[s]))) {
                        converter_done(&c);
                        return -ENOMEM;
                }

        /* strsep keeps empty lines, so line numbers stay right. */
        save = copy;
        for (char *line; (line = strsep(&save, "\n")); ) {
                c.line++;
                c.directive = directive_text(line);
                if (!c.directive)
                        continue;
                _cleanup_free_ char *words = strdup(c.directive);
                if (!words) {
                        c.error = -ENOMEM;
                        break;
                }
                handle_line(&c, words);
        }
        r = c.error < 0 ? c.error : converter_assemble(&c, ret);
        if (r < 0) {
                for (size_t i = 0; i < c.n_notes; i++) {
                        free(c.notes[i].directive);
                        free(c.notes[i].reason);
                }
                free(c.notes);
        }
        converter_done(&c);
        return r;
}

void convert_result_done(ConvertResult *r) {
        free(r->config);
        for (size_t i = 0; i < r->n_notes; i++) {
                free(r->notes[i].directive);
                free(r->notes[i].reason);
        }
        free(r->notes);
        *r = (ConvertResult) {};
}

void convert_result_print(FILE *f, const ConvertResult *r) {
        fputs(r->config, f);
        if (r->n_notes == 0)
                return;
        fprintf(f, "\n# %s\n", _("Not converted:"));
        for (size_t i = 0; i < r->n_notes; i++)
                fprintf(f, _("#   line %u: %s\n#     %s\n"), r->notes[i].line, r->notes[i].directive,
                        r->notes[i].reason);
}

void convert_result_print_json(FILE *f, const ConvertResult *r) {
        fputs("{\"Config\":", f);
        json_write_string(f, r->config);
        fputs(",\"NotConverted\":[", f);
        for (size_t i = 0; i < r->n_notes; i++) {
                fprintf(f, "%s{\"Line\":%u,\"Directive\":", i > 0 ? "," : "", r->notes[i].line);
                json_write_string(f, r->notes[i].directive);
                fputs(",\"Reason\":", f);
                json_write_string(f, r->notes[i].reason);
                fputc('}', f);
        }
        fputs("]}\n", f);
}
