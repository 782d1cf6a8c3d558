/* Implementation of ctl-bus.h: table-driven property reading with sd-bus. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl-bus.h"
#include "ctl/ctl-i18n.h"
#include "shared/alloc-util.h"
#include "shared/macro.h"

/* One property: its name, D-Bus type and where it goes in the struct.
 * 'R' stands for AccessRules, a(sb). */
typedef struct PropertyField {
        const char *name;
        char type;
        size_t offset;
} PropertyField;

#define SOURCE_FIELD(name, type, member) { name, type, offsetof(CtlSourceInfo, member) }
#define TRACKING_FIELD(name, type, member) { name, type, offsetof(CtlTracking, member) }

static const PropertyField source_fields[] = {
        SOURCE_FIELD("Name",           's', name),
        SOURCE_FIELD("Address",        's', address),
        SOURCE_FIELD("Mode",           's', mode),
        SOURCE_FIELD("State",          's', state),
        SOURCE_FIELD("Stratum",        'y', stratum),
        SOURCE_FIELD("Poll",           'i', poll),
        SOURCE_FIELD("Reach",          'y', reach),
        SOURCE_FIELD("LastRxAgeUSec",  't', last_rx_age_usec),
        SOURCE_FIELD("Offset",         'd', offset),
        SOURCE_FIELD("MeasuredOffset", 'd', measured_offset),
        SOURCE_FIELD("Error",          'd', error),
        SOURCE_FIELD("Delay",          'd', delay),
        SOURCE_FIELD("Samples",        'u', samples),
        SOURCE_FIELD("Runs",           'u', runs),
        SOURCE_FIELD("Span",           'd', span),
        SOURCE_FIELD("Frequency",      'd', frequency),
        SOURCE_FIELD("FrequencySkew",  'd', frequency_skew),
        SOURCE_FIELD("StdDev",         'd', std_dev),
        SOURCE_FIELD("Prefer",         'b', prefer),
        SOURCE_FIELD("IBurst",         'b', iburst),
        SOURCE_FIELD("Authentication", 's', authentication),
        SOURCE_FIELD("KeyID",          'u', key_id),
        SOURCE_FIELD("KeyType",        's', key_type),
        SOURCE_FIELD("KeyLength",      'u', key_length),
        SOURCE_FIELD("AuthFailures",   'u', auth_failures),
        SOURCE_FIELD("NTSCookies",     'u', nts_cookies),
        SOURCE_FIELD("NTSCookieLength", 'u', nts_cookie_length),
        SOURCE_FIELD("NTSKEAttempts",  'u', nts_ke_attempts),
        SOURCE_FIELD("NTSLastKEUSec",  't', nts_last_ke_usec),
        SOURCE_FIELD("LocalAddress",   's', local_address),
        SOURCE_FIELD("RemotePort",     'q', remote_port),
        SOURCE_FIELD("NTPVersion",     'y', ntp_version),
        SOURCE_FIELD("NTPMode",        's', ntp_mode),
        SOURCE_FIELD("Leap",           's', leap),
        SOURCE_FIELD("Precision",      'i', precision),
        SOURCE_FIELD("RootDelay",      'd', root_delay),
        SOURCE_FIELD("RootDispersion", 'd', root_dispersion),
        SOURCE_FIELD("ReferenceID",    'u', reference_id),
        SOURCE_FIELD("ReferenceTimeUSec", 't', reference_time_usec),
        SOURCE_FIELD("Dispersion",     'd', dispersion),
        SOURCE_FIELD("XLeave",         'b', xleave),
        SOURCE_FIELD("Interleaved",    'b', interleaved),
        SOURCE_FIELD("Authenticated",  'b', authenticated),
        SOURCE_FIELD("TXTimestamping", 's', tx_timestamping),
        SOURCE_FIELD("RXTimestamping", 's', rx_timestamping),
        SOURCE_FIELD("TotalTX",        't', total_tx),
        SOURCE_FIELD("TotalRX",        't', total_rx),
        SOURCE_FIELD("TotalValidRX",   't', total_valid_rx),
        SOURCE_FIELD("HardwareTXSamples", 't', hardware_tx_samples),
        SOURCE_FIELD("KernelTXSamples", 't', kernel_tx_samples),
        SOURCE_FIELD("DaemonTXSamples", 't', daemon_tx_samples),
        SOURCE_FIELD("InterleavedReplies", 't', interleaved_replies),
        SOURCE_FIELD("Link",           's', link),
};

static const PropertyField tracking_fields[] = {
        TRACKING_FIELD("Synchronized",      'b', synchronized),
        TRACKING_FIELD("ReferenceID",       'u', reference_id),
        TRACKING_FIELD("ReferenceName",     's', reference_name),
        TRACKING_FIELD("Stratum",           'y', stratum),
        TRACKING_FIELD("ReferenceTimeUSec", 't', reference_time_usec),
        TRACKING_FIELD("SystemTimeOffset",  'd', system_time_offset),
        TRACKING_FIELD("LastOffset",        'd', last_offset),
        TRACKING_FIELD("RMSOffset",         'd', rms_offset),
        TRACKING_FIELD("Frequency",         'd', frequency),
        TRACKING_FIELD("ResidualFrequency", 'd', residual_frequency),
        TRACKING_FIELD("Skew",              'd', skew),
        TRACKING_FIELD("RootDelay",         'd', root_delay),
        TRACKING_FIELD("RootDispersion",    'd', root_dispersion),
        TRACKING_FIELD("UpdateInterval",    'd', update_interval),
        TRACKING_FIELD("LeapStatus",        's', leap_status),
        TRACKING_FIELD("MakeStepThreshold", 'd', makestep_threshold),
        TRACKING_FIELD("MakeStepLimit",     'i', makestep_limit),
        TRACKING_FIELD("MinSources",        'u', min_sources),
        TRACKING_FIELD("ClockControl",      'b', clock_control),
        TRACKING_FIELD("LocalRTC",          'b', local_rtc),
        TRACKING_FIELD("AccessRules",       'R', access_rules),
        TRACKING_FIELD("ServerRequests",    't', server_requests),
        TRACKING_FIELD("ServerReplies",     't', server_replies),
        TRACKING_FIELD("ServerDenied",      't', server_denied),
        TRACKING_FIELD("ServerRateLimited", 't', server_rate_limited),
        TRACKING_FIELD("MalformedPackets",  't', malformed_packets),
};

int ctl_bus_open(CtlBusKind kind, const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        switch (kind) {
        case CTL_BUS_USER:
                return sd_bus_open_user(ret);
        case CTL_BUS_ADDRESS:
                r = sd_bus_new(&bus);
                if (r < 0)
                        return r;
                r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0) {
                        sd_bus_unref(bus);
                        return r;
                }
                *ret = bus;
                return 0;
        default:
                return sd_bus_open_system(ret);
        }
}

/* Reads a(sb) into the tracking struct's access rules. */
static int read_access_rules(sd_bus_message *m, CtlTracking *t) {
        const char *subnet;
        int allow, r;

        r = sd_bus_message_enter_container(m, 'a', "(sb)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sb)", &subnet, &allow)) > 0) {
                if (GREEDY_REALLOC(t->access_rules, t->n_access_rules_allocated, t->n_access_rules + 1) < 0)
                        return -ENOMEM;
                CtlAccessRule *rules = t->access_rules;
                rules[t->n_access_rules] = (CtlAccessRule) { .subnet = strdup(subnet), .allow = allow };
                if (!rules[t->n_access_rules].subnet)
                        return -ENOMEM;
                t->n_access_rules++;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Reads the variant's value into p according to type. */
static int read_basic(sd_bus_message *m, char type, void *p) {
        const char *s;
        int b, r;

        switch (type) {
        case 's':
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r < 0)
                        return r;
                free(*(char **) p);
                *(char **) p = strdup(s);
                return *(char **) p ? 0 : -ENOMEM;
        case 'b':
                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r >= 0)
                        *(bool *) p = b;
                return r;
        default:
                return sd_bus_message_read_basic(m, type, p);
        }
}

static const PropertyField *field_find(const PropertyField *fields, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(fields[i].name, name))
                        return &fields[i];
        return NULL;
}

/* Reads one {sv} entry's variant: into its field if known and of the
 * expected type, else skipped. */
static int read_property_value(sd_bus_message *m, const PropertyField *f, void *base) {
        const char *contents;
        char basic[2] = { f ? f->type : 0, '\0' };
        int r;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        if (!f || !streq(contents, f->type == 'R' ? "a(sb)" : basic))
                return sd_bus_message_skip(m, "v");

        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (f->type == 'R')
                r = read_access_rules(m, base);
        else
                r = read_basic(m, f->type, (uint8_t *) base + f->offset);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Reads or skips the value of one dictionary entry whose key is key. */
typedef int (*DictEntryReader)(sd_bus_message *m, const char *key, void *userdata);

/* Walks a dictionary a{KV} (key_type K, a basic type; value signature V):
 * reads each key and hands the value to entry, which reads or skips it. */
static int read_dict(sd_bus_message *m, char key_type, const char *value, DictEntryReader entry, void *userdata) {
        char entry_sig[64], array_sig[66];
        const char *key;
        int r;

        if ((size_t) snprintf(entry_sig, sizeof entry_sig, "%c%s", key_type, value) >= sizeof entry_sig)
                return -EINVAL;
        snprintf(array_sig, sizeof array_sig, "{%s}", entry_sig);
        r = sd_bus_message_enter_container(m, 'a', array_sig);
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', entry_sig)) > 0) {
                r = sd_bus_message_read_basic(m, key_type, &key);
                if (r >= 0)
                        r = entry(m, key, userdata);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

typedef struct PropertyTable {
        const PropertyField *fields;
        size_t n;
        void *base;
} PropertyTable;

static int read_property_entry(sd_bus_message *m, const char *name, void *userdata) {
        PropertyTable *t = userdata;
        return read_property_value(m, field_find(t->fields, t->n, name), t->base);
}

/* Reads an a{sv} of properties into base using the field table. */
static int read_properties(sd_bus_message *m, const PropertyField *fields, size_t n, void *base) {
        PropertyTable t = { fields, n, base };
        return read_dict(m, 's', "v", read_property_entry, &t);
}
int ctl_bus_get_tracking(sd_bus *bus, CtlTracking *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CtlTracking t = {
                .server_requests = CTL_COUNTER_UNKNOWN,
                .server_replies = CTL_COUNTER_UNKNOWN,
                .server_denied = CTL_COUNTER_UNKNOWN,
                .server_rate_limited = CTL_COUNTER_UNKNOWN,
                .malformed_packets = CTL_COUNTER_UNKNOWN,
        };
        int r;

        r = sd_bus_call_method(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH, "org.freedesktop.DBus.Properties",
                               "GetAll", error, &reply, "s", TEMPUS_MANAGER_INTERFACE);
        if (r < 0)
                return r;
        r = read_properties(reply, tracking_fields, ELEMENTSOF(tracking_fields), &t);
        if (r < 0) {
                ctl_tracking_done(&t);
                return r;
        }
        *ret = t;
        return 0;
}

/* The N of /org/tempus/Tempus1/source/N, or -1 for other paths. */
static long source_number(const char *path) {
        const char *p = path + strlen(TEMPUS_SOURCE_PATH_PREFIX);
        char *end;

        if (strncmp(path, TEMPUS_SOURCE_PATH_PREFIX, strlen(TEMPUS_SOURCE_PATH_PREFIX)) != 0 || !*p)
                return -1;
        long n = strtol(p, &end, 10);
        return *end || n < 0 ? -1 : n;
}

typedef struct SourceEntry {
        long number;
        CtlSourceInfo info;
} SourceEntry;

static int source_entry_compare(const void *a, const void *b) {
        const SourceEntry *x = a, *y = b;
        return (x->number > y->number) - (x->number < y->number);
}

typedef struct SourceList {
        SourceEntry *entries;
        size_t n, n_allocated;
        long number;            /* of the object being read */
} SourceList;

static void source_list_done(SourceList *l) {
        for (size_t i = 0; i < l->n; i++)
                ctl_source_info_done(&l->entries[i].info);
        free(l->entries);
}

/* One interface of an object: a source when it is the Source interface. */
static int read_interface(sd_bus_message *m, const char *interface, void *userdata) {
        SourceList *l = userdata;

        if (!streq(interface, TEMPUS_SOURCE_INTERFACE) || l->number < 0)
                return sd_bus_message_skip(m, "a{sv}");
        if (GREEDY_REALLOC(l->entries, l->n_allocated, l->n + 1) < 0)
                return -ENOMEM;
        SourceEntry *e = &l->entries[l->n++];
        *e = (SourceEntry) { .number = l->number,
                             .info.last_rx_age_usec = CTL_AGE_NEVER,
                             .info.delay = NAN };
        return read_properties(m, source_fields, ELEMENTSOF(source_fields), &e->info);
}

/* One object of GetManagedObjects(): its a{sa{sv}} of interfaces. */
static int read_object(sd_bus_message *m, const char *path, void *userdata) {
        SourceList *l = userdata;
        l->number = source_number(path);
        return read_dict(m, 's', "a{sv}", read_interface, l);
}

static int read_managed_objects(sd_bus_message *m, SourceList *l) {
        return read_dict(m, 'o', "a{sa{sv}}", read_object, l);
}

int ctl_bus_get_sources(sd_bus *bus, CtlSourceInfo **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        SourceList l = {};
        CtlSourceInfo *infos;
        int r;

        r = sd_bus_call_method(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH, "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", error, &reply, NULL);
        if (r < 0)
                return r;
        r = read_managed_objects(reply, &l);
        if (r < 0) {
                source_list_done(&l);
                return r;
        }
        qsort(l.entries, l.n, sizeof *l.entries, source_entry_compare);
        infos = calloc(l.n ?: 1, sizeof *infos);
        if (!infos) {
                source_list_done(&l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l.n; i++)
                infos[i] = l.entries[i].info;
        free(l.entries);
        *ret = infos;
        *ret_n = l.n;
        return 0;
}

int ctl_bus_call(sd_bus *bus, bool interactive, sd_bus_error *error, const char *method, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH,
                                           TEMPUS_MANAGER_INTERFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        /* Let a stopped tempusd be started by D-Bus activation. */
        r = sd_bus_message_set_auto_start(m, true);
        if (r < 0)
                return r;
        /* A caller who is not root may be asked for a password by a polkit
         * agent, if one runs for the session. */
        r = sd_bus_message_set_allow_interactive_authorization(m, interactive);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, error, NULL);
        return r < 0 ? r : 0;
}

static bool error_is(const sd_bus_error *e, const char *const *names) {
        for (; *names; names++)
                if (sd_bus_error_has_name(e, *names))
                        return true;
        return false;
}

const char *ctl_bus_error_text(char *buf, size_t size, const sd_bus_error *e, int r) {
        static const char *const not_running[] = {
                SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, NULL,
        };
        static const char *const unsupported[] = {
                SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_OBJECT,
                SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY, NULL,
        };

        if (error_is(e, not_running))
                snprintf(buf, size, "%s", _("tempusd is not running"));
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
                 sd_bus_error_has_name(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) ||
                 (!sd_bus_error_is_set(e) && r == -EACCES))
                snprintf(buf, size, "%s", _("Access denied: changing tempusd's settings requires root or polkit's authorization"));
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS))
                snprintf(buf, size, _("Invalid argument: %s"), e->message ?: e->name);
        else if (error_is(e, unsupported))
                snprintf(buf, size, _("tempusd does not support this request: %s"), e->message ?: e->name);
        else if (sd_bus_error_is_set(e))
                snprintf(buf, size, "%s", e->message ?: e->name);
        else
                snprintf(buf, size, _("Failed to talk to tempusd: %s"), strerror(-r));
        return buf;
}
