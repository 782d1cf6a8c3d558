/* The configuration key table and one parser per kind of value. Each row
 * of config_keys[] says where a key lives ([Section] Key=), which parser
 * reads it and which Config field it fills. */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config-internal.h"
#include "shared/macro.h"
#include "shared/alloc-util.h"
#include "shared/parse-util.h"

static int fail(const char **reason, const char *why) {
        *reason = why;
        return -EINVAL;
}

/* ---- [Sources] ---------------------------------------------------------- */

static void config_clear_sources(Config *c) {
        for (size_t i = 0; i < c->n_sources; i++)
                source_spec_done(&c->sources[i]);
        c->sources = mfree(c->sources);
        c->n_sources = c->n_sources_allocated = 0;
}

static int parse_source(Config *c, const char *value, SourceKind kind, const char **reason) {
        SourceSpec s;

        if (!*value) {
                /* Server= or Pool= clears every source so far. */
                config_clear_sources(c);
                return 0;
        }
        int r = source_spec_parse(kind, value, &s, reason);
        if (r < 0)
                return r;
        if (GREEDY_REALLOC(c->sources, c->n_sources_allocated, c->n_sources + 1) < 0) {
                source_spec_done(&s);
                return -ENOMEM;
        }
        c->sources[c->n_sources++] = s;
        return 0;
}

static int parse_server(Config *c, const char *value, void *field, const char **reason) {
        return parse_source(c, value, SOURCE_KIND_SERVER, reason);
}

static int parse_pool(Config *c, const char *value, void *field, const char **reason) {
        return parse_source(c, value, SOURCE_KIND_POOL, reason);
}

static int parse_peer(Config *c, const char *value, void *field, const char **reason) {
        return parse_source(c, value, SOURCE_KIND_PEER, reason);
}

static int parse_min_sources(Config *c, const char *value, void *field, const char **reason) {
        long v = 1;
        if (*value && parse_int_range(value, 1, 64, &v) < 0)
                return fail(reason, "must be an integer from 1 to 64");
        *(unsigned *) field = (unsigned) v;
        return 0;
}

/* MaxDistance=, MaxJitter=: seconds, positive; empty resets the default. */
static int parse_seconds_limit(Config *c, const char *value, void *field, const char **reason) {
        double def = field == &c->max_distance ? 3.0 : 1.0;
        char *end;
        double v = *value ? strtod(value, &end) : def;

        if (*value && (*end || !isfinite(v) || v <= 0 || v > 1e6))
                return fail(reason, "must be a positive number of seconds");
        *(double *) field = v;
        return 0;
}

static int parse_auth_select_mode(Config *c, const char *value, void *field, const char **reason) {
        SelectAuthMode m = *value ? select_auth_mode_from_string(value) : SELECT_AUTH_MIX;
        if (m < 0)
                return fail(reason, "must be require, prefer, mix or ignore");
        c->auth_select_mode = m;
        return 0;
}

static int parse_string(Config *c, const char *value, void *field, const char **reason);

/* Options of a Server= line, for the servers learned from links: checked
 * as they would be on a line of their own. */
static int parse_link_server_options(Config *c, const char *value, void *field, const char **reason) {
        _cleanup_free_ char *line = NULL;
        SourceSpec s;

        if (*value) {
                if (asprintf(&line, "link.invalid %s", value) < 0)
                        return -ENOMEM;
                int r = source_spec_parse(SOURCE_KIND_SERVER, line, &s, reason);
                if (r < 0)
                        return r;
                source_spec_done(&s);
        }
        return parse_string(c, value, field, reason);
}

/* ---- [Clock] ------------------------------------------------------------ */

static int parse_string(Config *c, const char *value, void *field, const char **reason) {
        char **s = field;
        free(*s);
        *s = NULL;
        if (*value && !(*s = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* A zone name under /usr/share/zoneinfo, such as "right/UTC". */
static int parse_leapsectz(Config *c, const char *value, void *field, const char **reason) {
        if (*value && (value[0] == '/' || strstr(value, "..") ||
                       strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
                               strlen(value)))
                return fail(reason, "must be a time zone name such as right/UTC");
        return parse_string(c, value, field, reason);
}

static int parse_leap_mode(Config *c, const char *value, void *field, const char **reason) {
        if (!*value || streq(value, "kernel") || streq(value, "system"))
                c->leap_slew = false;
        else if (streq(value, "slew"))
                c->leap_slew = true;
        else
                return fail(reason, "must be kernel (the kernel inserts or deletes the second) or slew");
        return 0;
}

static int parse_hw_timestamp(Config *c, const char *value, void *field, const char **reason) {
        if (*value && !streq(value, "*") && !ifname_is_valid(value))
                return fail(reason, "must be * or an interface name (up to 15 letters, digits, '-', '_' or '.')");
        return parse_string(c, value, field, reason);
}

/* kernel: the kernel's transmit timestamps from the error queue (and the
 * card's, with HWTimestamp=); daemon: the clock read before sending. */
static int parse_tx_timestamps(Config *c, const char *value, void *field, const char **reason) {
        if (!*value || streq(value, "kernel"))
                c->kernel_tx_timestamps = true;
        else if (streq(value, "daemon"))
                c->kernel_tx_timestamps = false;
        else
                return fail(reason, "must be kernel (transmit timestamps from the kernel) or daemon (the clock "
                            "read before sending)");
        return 0;
}

static int parse_path(Config *c, const char *value, void *field, const char **reason) {
        if (*value && strchr(value, ' '))
                return fail(reason, "path must not contain spaces");
        return parse_string(c, value, field, reason);
}

static int parse_bool(Config *c, const char *value, void *field, const char **reason) {
        /* Empty resets to the default: Control= and LinkServers= default to yes. */
        bool def = field == &c->control || field == &c->link_servers;
        int b = *value ? parse_boolean(value) : def;
        if (b < 0)
                return fail(reason, "must be a boolean (yes/no, true/false, on/off, 1/0)");
        *(bool *) field = b;
        return 0;
}

static int parse_makestep(Config *c, const char *value, void *field, const char **reason) {
        char threshold[64], extra;
        long limit;

        if (!*value) {
                c->makestep_threshold = 0;
                c->makestep_limit = 0;
                return 0;
        }
        char limit_text[32] = "";
        int n = sscanf(value, "%63s %31s %c", threshold, limit_text, &extra);
        if (n != 2)
                return fail(reason, "expected a threshold in seconds and a limit of updates, as \"1.0 3\"");
        char *end;
        double t = strtod(threshold, &end);
        /* 0 with a limit steps at every such update, as chrony's
         * "makestep 0 -1" does. */
        if (*end || !isfinite(t) || t < 0)
                return fail(reason, "threshold must be a number of seconds, 0 or more");
        if (parse_int_range(limit_text, -1, 1000000, &limit) < 0)
                return fail(reason, "limit must be an integer (-1: any update)");
        c->makestep_threshold = t;
        c->makestep_limit = (int) limit;
        return 0;
}

/* ---- [Server] ----------------------------------------------------------- */

static int parse_access(Config *c, const char *value, bool allow, const char **reason) {
        AccessRule rule;

        if (!*value) {
                access_list_clear(&c->access);
                return 0;
        }
        if (access_rule_parse(value, allow, &rule, reason) < 0)
                return -EINVAL;
        return access_list_add(&c->access, &rule);
}

static int parse_allow(Config *c, const char *value, void *field, const char **reason) {
        return parse_access(c, value, true, reason);
}

static int parse_deny(Config *c, const char *value, void *field, const char **reason) {
        return parse_access(c, value, false, reason);
}

static int parse_local_stratum(Config *c, const char *value, void *field, const char **reason) {
        long v = 0;
        if (*value && parse_int_range(value, 1, 15, &v) < 0)
                return fail(reason, "must be an integer from 1 to 15");
        c->local_stratum = (int) v;
        return 0;
}

static void config_clear_bind_addresses(Config *c) {
        for (char **a = c->bind_addresses; a && *a; a++)
                free(*a);
        c->bind_addresses = mfree(c->bind_addresses);
        c->n_bind_allocated = 0;
}

static int parse_bind_address(Config *c, const char *value, void *field, const char **reason) {
        struct in6_addr a;
        size_t n = 0;

        if (!*value) {
                config_clear_bind_addresses(c);
                return 0;
        }
        if (inet_pton(AF_INET, value, &a) != 1 && inet_pton(AF_INET6, value, &a) != 1)
                return fail(reason, "not an IPv4 or IPv6 address");
        while (c->bind_addresses && c->bind_addresses[n])
                n++;
        if (GREEDY_REALLOC(c->bind_addresses, c->n_bind_allocated, n + 2) < 0)
                return -ENOMEM;
        char **v = c->bind_addresses;
        v[n] = strdup(value);
        v[n + 1] = NULL;
        return v[n] ? 0 : -ENOMEM;
}

static int parse_port(Config *c, const char *value, void *field, const char **reason) {
        long v = 123;
        if (*value && parse_int_range(value, 0, 65535, &v) < 0)
                return fail(reason, "must be a port number from 0 to 65535 (0: do not serve)");
        c->port = (uint16_t) v;
        return 0;
}

static int parse_ratelimit(Config *c, const char *value, void *field, const char **reason) {
        _cleanup_free_ char *copy = strdup(value);
        int interval = 3;
        unsigned burst = 8, kod = 0;
        char *save = NULL;
        long v;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                if (strncmp(tok, "interval=", 9) == 0 && parse_int_range(tok + 9, -4, 12, &v) == 0)
                        interval = (int) v;
                else if (strncmp(tok, "burst=", 6) == 0 && parse_int_range(tok + 6, 1, 255, &v) == 0)
                        burst = (unsigned) v;
                else if (strncmp(tok, "kod=", 4) == 0 && parse_int_range(tok + 4, 0, 4, &v) == 0)
                        kod = (unsigned) v;     /* 0..RATELIMIT_KOD_MAX */
                else
                        return fail(reason, "expected interval=N (-4..12), burst=N (1..255) and kod=N (0..4)");
        }
        c->ratelimit = *value != 0;
        c->ratelimit_interval = interval;
        c->ratelimit_burst = burst;
        c->ratelimit_kod = kod;
        return 0;
}

/* NTSServerCertFile=, NTSServerKeyFile=, NTSTrustedCerts=: lists of paths. */
static int parse_path_list(Config *c, const char *value, void *field, const char **reason) {
        PathList *l = field;

        if (!*value) {
                path_list_clear(l);
                return 0;
        }
        if (strchr(value, ' '))
                return fail(reason, "path must not contain spaces");
        if (GREEDY_REALLOC(l->paths, l->n_allocated, l->n + 1) < 0)
                return -ENOMEM;
        l->paths[l->n] = strdup(value);
        return l->paths[l->n] ? (l->n++, 0) : -ENOMEM;
}

static int parse_nts_port(Config *c, const char *value, void *field, const char **reason) {
        long v = 4460;
        if (*value && parse_int_range(value, 1, 65535, &v) < 0)
                return fail(reason, "must be a port number from 1 to 65535");
        c->nts_port = (uint16_t) v;
        return 0;
}

static int parse_nts_max_connections(Config *c, const char *value, void *field, const char **reason) {
        long v = 100;
        if (*value && parse_int_range(value, 1, 10000, &v) < 0)
                return fail(reason, "must be an integer from 1 to 10000");
        c->nts_max_connections = (unsigned) v;
        return 0;
}

static int parse_nts_rotate(Config *c, const char *value, void *field, const char **reason) {
        char *end;
        double v = *value ? strtod(value, &end) : 604800;
        if (*value && (*end || !isfinite(v) || v < 0 || (v > 0 && v < 60) || v > 1e9))
                return fail(reason, "must be seconds, 60 or more (0: never rotate)");
        c->nts_rotate = v;
        return 0;
}

static int parse_no_cert_time_check(Config *c, const char *value, void *field, const char **reason) {
        long v = 1;
        if (*value && parse_int_range(value, 0, 1000000, &v) < 0)
                return fail(reason, "must be a number of clock updates, 0 or more");
        c->no_cert_time_check = (unsigned) v;
        return 0;
}

static int parse_client_log_limit(Config *c, const char *value, void *field, const char **reason) {
        long v = CONFIG_DEFAULT_CLIENT_LOG_LIMIT;
        if (*value && parse_int_range(value, 0, (long) CONFIG_MAX_CLIENT_LOG_LIMIT, &v) < 0)
                return fail(reason, "must be a number of bytes from 0 to 1073741824 (0: no client log)");
        c->client_log_limit = (uint64_t) v;
        return 0;
}

/* ---- [Log] -------------------------------------------------------------- */

static int parse_log(Config *c, const char *value, void *field, const char **reason) {
        static const struct { const char *name; LogFlags flag; } names[] = {
                { "measurements", LOG_FLAG_MEASUREMENTS },
                { "statistics", LOG_FLAG_STATISTICS },
                { "tracking", LOG_FLAG_TRACKING },
        };
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        unsigned flags = 0;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                size_t i;
                for (i = 0; i < ELEMENTSOF(names) && !streq(tok, names[i].name); i++)
                        ;
                if (i == ELEMENTSOF(names))
                        return fail(reason, "expected any of: measurements statistics tracking");
                flags |= names[i].flag;
        }
        c->log_flags = *value ? c->log_flags | flags : 0;
        return 0;
}

/* ---- The table ---------------------------------------------------------- */

#define FIELD(f) offsetof(Config, f)

const ConfigKey config_keys[] = {
        { "Sources", "Server",       parse_server,        0,                          CONFIG_KEY_LIST,   NULL },
        { "Sources", "Pool",         parse_pool,          0,                          CONFIG_KEY_LIST,   NULL },
        { "Sources", "Peer",         parse_peer,          0,                          CONFIG_KEY_LIST,   NULL },
        { "Sources", "MinSources",   parse_min_sources,   FIELD(min_sources),         CONFIG_KEY_SINGLE, "1" },
        { "Sources", "MaxDistance",  parse_seconds_limit, FIELD(max_distance),        CONFIG_KEY_SINGLE, "3" },
        { "Sources", "MaxJitter",    parse_seconds_limit, FIELD(max_jitter),          CONFIG_KEY_SINGLE, "1" },
        { "Sources", "LinkServers",  parse_bool,          FIELD(link_servers),        CONFIG_KEY_SINGLE, "yes" },
        { "Sources", "LinkServerOptions", parse_link_server_options, FIELD(link_server_options), CONFIG_KEY_SINGLE,
          NULL },
        { "Sources", "AuthSelectMode", parse_auth_select_mode, 0,                      CONFIG_KEY_SINGLE, "mix" },
        { "Clock",   "DriftFile",    parse_path,          FIELD(drift_file),          CONFIG_KEY_SINGLE, NULL },
        { "Clock",   "MakeStep",     parse_makestep,      0,                          CONFIG_KEY_SINGLE, NULL },
        { "Clock",   "RTCSync",      parse_bool,          FIELD(rtc_sync),            CONFIG_KEY_SINGLE, "no" },
        { "Clock",   "HWTimestamp",  parse_hw_timestamp,  FIELD(hw_timestamp),        CONFIG_KEY_SINGLE, NULL },
        { "Clock",   "TXTimestamps", parse_tx_timestamps, 0,                          CONFIG_KEY_SINGLE, "kernel" },
        { "Clock",   "LeapSecTZ",    parse_leapsectz,     FIELD(leapsectz),           CONFIG_KEY_SINGLE, NULL },
        { "Clock",   "LeapSecMode",  parse_leap_mode,     0,                          CONFIG_KEY_SINGLE, "kernel" },
        { "Clock",   "Control",      parse_bool,          FIELD(control),             CONFIG_KEY_SINGLE, "yes" },
        { "Server",  "Allow",        parse_allow,         0,                          CONFIG_KEY_LIST,   NULL },
        { "Server",  "Deny",         parse_deny,          0,                          CONFIG_KEY_LIST,   NULL },
        { "Server",  "LocalStratum", parse_local_stratum, 0,                          CONFIG_KEY_SINGLE, NULL },
        { "Server",  "BindAddress",  parse_bind_address,  0,                          CONFIG_KEY_LIST,   NULL },
        { "Server",  "Port",         parse_port,          0,                          CONFIG_KEY_SINGLE, "123" },
        { "Server",  "RateLimit",    parse_ratelimit,     0,                          CONFIG_KEY_SINGLE, NULL },
        { "Server",  "NTSServerCertFile", parse_path_list, FIELD(nts_server_certs),   CONFIG_KEY_LIST,   NULL },
        { "Server",  "NTSServerKeyFile", parse_path_list, FIELD(nts_server_keys),     CONFIG_KEY_LIST,   NULL },
        { "Server",  "NTSPort",      parse_nts_port,      0,                          CONFIG_KEY_SINGLE, "4460" },
        { "Server",  "NTSMaxConnections", parse_nts_max_connections, 0,               CONFIG_KEY_SINGLE, "100" },
        { "Server",  "NTSRotate",    parse_nts_rotate,    0,                          CONFIG_KEY_SINGLE, "604800" },
        { "Server",  "ClientLogLimit", parse_client_log_limit, 0,                     CONFIG_KEY_SINGLE, "524288" },
        { "Auth",    "KeyFile",      parse_path,          FIELD(key_file),            CONFIG_KEY_SINGLE, NULL },
        { "Auth",    "NTSTrustedCerts", parse_path_list,  FIELD(nts_trusted_certs),   CONFIG_KEY_LIST,   NULL },
        { "Auth",    "NTSDumpDir",   parse_path,          FIELD(nts_dump_dir),        CONFIG_KEY_SINGLE, NTS_DEFAULT_DUMP_DIR },
        { "Auth",    "NoCertTimeCheck", parse_no_cert_time_check, 0,                  CONFIG_KEY_SINGLE, "1" },
        { "Log",     "Dir",          parse_path,          FIELD(log_dir),             CONFIG_KEY_SINGLE, NULL },
        { "Log",     "Log",          parse_log,           0,                          CONFIG_KEY_LIST,   NULL },
};
const size_t config_keys_count = ELEMENTSOF(config_keys);

int config_key_find(const char *section, const char *key) {
        for (size_t i = 0; i < config_keys_count; i++)
                if (streq(config_keys[i].section, section) && streq(config_keys[i].key, key))
                        return (int) i;
        return -ENOENT;
}

unsigned config_edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned row[64];

        if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
                return UINT32_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned diag = row[0];
                row[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j];
                        unsigned cost = tolower((unsigned char) a[i - 1]) != tolower((unsigned char) b[j - 1]);
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
                        diag = up;
                }
        }
        return row[lb];
}

const char *config_key_suggest(const char *section, const char *key, char *buf, size_t size) {
        unsigned best = UINT32_MAX;
        int best_i = -1;

        for (size_t i = 0; i < config_keys_count; i++) {
                unsigned d = config_edit_distance(key, config_keys[i].key);
                /* A key in the wrong section counts as a little further. */
                if (section && !streq(section, config_keys[i].section))
                        d += d == 0 ? 0 : 1;
                if (d < best) {
                        best = d;
                        best_i = (int) i;
                }
        }
        if (best_i < 0 || best > MAX(strlen(key) / 3, (size_t) 2))
                return NULL;
        snprintf(buf, size, "%s.%s", config_keys[best_i].section, config_keys[best_i].key);
        return buf;
}
