/* org.tempus.Tempus1.Manager (see bus-manager.h): its vtable, property
 * snapshot and method handlers. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bus/bus-manager.h"
#include "bus/bus-polkit.h"
#include "bus/bus.h"
#include "daemon/manager-api.h"
#include "shared/access.h"
#include "shared/hashmap.h"
#include "shared/log.h"

static const char *leap_status_name(const Tracking *t) {
        if (!t->synchronized)
                return "unsynchronized";
        switch (t->leap) {
        case NTP_LEAP_INSERT:
                return "insert";
        case NTP_LEAP_DELETE:
                return "delete";
        case NTP_LEAP_NONE:
                return "normal";
        default:
                return "unsynchronized";
        }
}

/* A hash of the rules, so that a change of AccessRules is noticed
 * without keeping a copy of the list. */
static uint64_t access_rules_hash(const AccessList *l) {
        uint64_t h = hash_bytes(&l->n_rules, sizeof l->n_rules, 0);

        for (size_t i = 0; i < l->n_rules; i++) {
                const AccessRule *r = &l->rules[i];
                h = hash_bytes(&r->family, sizeof r->family, h);
                h = hash_bytes(r->address.s6_addr, sizeof r->address.s6_addr, h);
                h = hash_bytes(&r->prefixlen, sizeof r->prefixlen, h);
                h = hash_bytes(&r->allow, sizeof r->allow, h);
        }
        return h;
}

static double plain_zero(double x) {
        return x == 0 ? 0 : x;
}

void bus_manager_props_fill(BusManagerProps *p, Manager *m, const Tracking *tracking) {
        Engine *e = manager_get_engine(m);
        const DisciplineParams *dp = &e->discipline.params;
        const ManagerCounters *c = manager_get_counters(m);
        Tracking t;

        if (tracking)
                t = *tracking;
        else
                manager_tracking(m, &t);
        memset(p, 0, sizeof *p);
        p->manager = m;
        p->synchronized = t.synchronized;
        p->reference_id = t.reference_id;
        snprintf(p->reference_name, sizeof p->reference_name, "%s", t.reference_name);
        /* Like chronyc: stratum 0 while neither synchronised nor serving
         * LocalStratum. */
        p->stratum = t.stratum >= 16 ? 0 : t.stratum;
        p->reference_time_usec = t.reference_time > 0 ? (uint64_t) (t.reference_time / NSEC_PER_USEC) : 0;
        p->system_time_offset = plain_zero(t.system_time_offset);
        p->last_offset = bus_chronyc_offset(t.last_offset);
        p->rms_offset = t.rms_offset;
        p->frequency = plain_zero(t.frequency_ppm);
        p->residual_frequency = plain_zero(t.residual_frequency_ppm);
        p->skew = t.skew_ppm;
        p->root_delay = t.root_delay;
        p->root_dispersion = t.root_dispersion;
        p->update_interval = t.update_interval;
        snprintf(p->leap_status, sizeof p->leap_status, "%s", leap_status_name(&t));
        p->makestep_threshold = dp->makestep_threshold;
        p->makestep_limit = dp->makestep_limit;
        p->min_sources = e->params.select.min_sources;
        p->access_rules_hash = access_rules_hash(manager_get_access(m));
        p->clock_control = manager_controls_clock(m);
        p->local_rtc = manager_local_rtc(m);
        p->server_requests = c->requests;
        p->server_replies = c->served;
        p->server_denied = c->denied;
        p->server_rate_limited = c->rate_limited;
        p->server_authenticated = c->authenticated;
        p->server_crypto_naks = c->auth_failures;
        p->nts_ke_connections = c->nts_ke_connections;
        p->nts_ke_handshakes = c->nts_ke_handshakes;
        p->nts_ke_failures = c->nts_ke_failures;
        p->server_nts_authenticated = c->nts_authenticated;
        p->server_nts_naks = c->nts_naks;
        p->server_interleaved = c->interleaved;
        p->server_tx_timestamps = c->tx_timestamps;
        snprintf(p->auth_select_mode, sizeof p->auth_select_mode, "%s",
                 select_auth_mode_to_string(e->params.select.auth_mode) ?: "mix");
        for (size_t i = 0; i < ELEMENTSOF(c->dropped); i++)
                p->malformed_packets += c->dropped[i];
}

static int property_get_access_rules(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        const BusManagerProps *p = userdata;
        const AccessList *l = manager_get_access(p->manager);
        char subnet[64];
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sb)");
        for (size_t i = 0; r >= 0 && i < l->n_rules; i++)
                r = sd_bus_message_append(reply, "(sb)",
                                          access_rule_format(&l->rules[i], subnet, sizeof subnet),
                                          (int) l->rules[i].allow);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* Changes need root, or polkit's org.tempus.tempus1.manage. */
#define REQUIRE_AUTHORIZED(message, error) \
        BUS_REQUIRE_AUTHORIZED(((BusManagerProps *) userdata)->polkit, message, BUS_POLKIT_ACTION_MANAGE, error)

static Manager *props_manager(void *userdata) {
        return ((BusManagerProps *) userdata)->manager;
}

static int method_make_step(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = manager_make_step(m);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to step the clock: %m");
        log_notice("Clock stepped on request over D-Bus.");
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_set_make_step(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        double threshold;
        int32_t limit;
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = sd_bus_message_read(message, "di", &threshold, &limit);
        if (r < 0)
                return r;
        /* The meaning of MakeStep= in tempus.conf: limit 0 never steps,
         * -1 steps at any update; threshold 0 steps whatever the offset. */
        if (!isfinite(threshold) || threshold < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid threshold %g: must be a number of seconds, 0 or more.", threshold);
        if (limit < -1)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid limit %d: must be a number of clock updates, 0 (never step) or -1 (any update).",
                                         limit);
        manager_set_makestep(m, threshold, limit);
        if (limit < 0)
                log_info("MakeStep set to %g s at any update over D-Bus.", threshold);
        else
                log_info("MakeStep set to %g s for the first %d updates over D-Bus.", threshold, limit);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int access_change(sd_bus_message *message, void *userdata, sd_bus_error *error, bool allow) {
        Manager *m = props_manager(userdata);
        const char *subnet, *reason = NULL;
        AccessRule rule;
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = sd_bus_message_read(message, "s", &subnet);
        if (r < 0)
                return r;
        if (access_rule_parse(subnet, allow, &rule, &reason) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid subnet \"%s\": %s.",
                                         subnet, reason ?: "not an address or subnet");
        r = manager_add_access_rule(m, &rule);
        if (r < 0)
                return r;
        log_info("%s NTP clients from %s (over D-Bus).", allow ? "Allowing" : "Denying", subnet);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_allow(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return access_change(message, userdata, error, true);
}

static int method_deny(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return access_change(message, userdata, error, false);
}

/* "server HOST [OPTIONS]" or "pool HOST [OPTIONS]": the kind, then what
 * a Server= or Pool= line holds, parsed by the same code. Anything else,
 * a bare kind or a host without one, is an error. */
static int parse_source_argument(const char *arg, SourceSpec *ret, const char **reason) {
        static const struct { const char *word; SourceKind kind; } kinds[] = {
                { "server", SOURCE_KIND_SERVER },
                { "pool", SOURCE_KIND_POOL },
        };

        arg += strspn(arg, " \t");
        size_t len = strcspn(arg, " \t");
        const char *rest = arg + len + strspn(arg + len, " \t");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (len == strlen(kinds[i].word) && strncmp(arg, kinds[i].word, len) == 0 && *rest)
                        return source_spec_parse(kinds[i].kind, rest, ret, reason);
        *reason = "expected \"server HOST [OPTIONS]\" or \"pool HOST [OPTIONS]\"";
        return -EINVAL;
}

static int method_add_source(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        _cleanup_(source_spec_done) SourceSpec spec = {};
        const char *arg, *reason = NULL;
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = sd_bus_message_read(message, "s", &arg);
        if (r < 0)
                return r;
        r = parse_source_argument(arg, &spec, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid source \"%s\": %s.", arg,
                                         reason ?: "not a source specification");
        r = manager_add_source_spec(m, &spec);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Source %s is already configured.",
                                         spec.host);
        if (r == -ENOKEY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Cannot add %s: key %u is not in the key file.", spec.host, spec.key);
        if (r == -ENOSPC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Cannot add %s: tempusd runs at most %u sources, configured and added "
                                         "together, a pool counting as its maxsources (%u in use).",
                                         spec.host, MANAGER_MAX_SOURCES, manager_source_slots(m));
        if (r < 0)
                return r;
        log_info("Added %s %s over D-Bus.", spec.kind == SOURCE_KIND_POOL ? "pool" : "server", spec.host);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_remove_source(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        const char *name;
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = manager_remove_source_by_name(m, name);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No source named \"%s\".", name);
        if (r < 0)
                return r;
        log_info("Removed source %s over D-Bus.", name);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_burst(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);

        REQUIRE_AUTHORIZED(message, error);
        manager_burst(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        int r;

        REQUIRE_AUTHORIZED(message, error);
        r = manager_reload(m);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED,
                                        "The configuration has errors and was not reloaded; see tempusd's log.");
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

#define BUS_PROPS_TYPE BusManagerProps
_Static_assert(offsetof(BusManagerProps, manager) == 0, "AccessRules' getter takes the whole snapshot");

/* Every property of org.tempus.Tempus1.Manager, in the order
 * introspection lists them (see bus-properties.h for the kinds). */
#define BUS_MANAGER_PROPERTIES(PLAIN, STRING, SPECIAL, COUNTER)                          \
        PLAIN("Synchronized", "b", synchronized)                                         \
        PLAIN("ReferenceID", "u", reference_id)                                          \
        STRING("ReferenceName", reference_name)                                          \
        PLAIN("Stratum", "y", stratum)                                                   \
        PLAIN("ReferenceTimeUSec", "t", reference_time_usec)                             \
        PLAIN("SystemTimeOffset", "d", system_time_offset)                               \
        PLAIN("LastOffset", "d", last_offset)                                            \
        PLAIN("RMSOffset", "d", rms_offset)                                              \
        PLAIN("Frequency", "d", frequency)                                               \
        PLAIN("ResidualFrequency", "d", residual_frequency)                              \
        PLAIN("Skew", "d", skew)                                                         \
        PLAIN("RootDelay", "d", root_delay)                                              \
        PLAIN("RootDispersion", "d", root_dispersion)                                    \
        PLAIN("UpdateInterval", "d", update_interval)                                    \
        STRING("LeapStatus", leap_status)                                                \
        PLAIN("MakeStepThreshold", "d", makestep_threshold)                              \
        PLAIN("MakeStepLimit", "i", makestep_limit)                                      \
        PLAIN("MinSources", "u", min_sources)                                            \
        STRING("AuthSelectMode", auth_select_mode)                                       \
        /* The rules are read by their getter, which gets the whole snapshot       \
         * (manager is its first field), and compared by a hash. */                 \
        SPECIAL("AccessRules", "a(sb)", property_get_access_rules, manager, access_rules_hash) \
        PLAIN("ClockControl", "b", clock_control)                                        \
        PLAIN("LocalRTC", "b", local_rtc)                                                \
        COUNTER("ServerRequests", server_requests)                                       \
        COUNTER("ServerReplies", server_replies)                                         \
        COUNTER("ServerDenied", server_denied)                                           \
        COUNTER("ServerRateLimited", server_rate_limited)                                \
        COUNTER("ServerAuthenticated", server_authenticated)                             \
        COUNTER("ServerCryptoNAKs", server_crypto_naks)                                  \
        COUNTER("ServerNTSAuthenticated", server_nts_authenticated)                      \
        COUNTER("ServerNTSNAKs", server_nts_naks)                                        \
        COUNTER("NTSKEConnections", nts_ke_connections)                                  \
        COUNTER("NTSKEHandshakes", nts_ke_handshakes)                                    \
        COUNTER("NTSKEFailures", nts_ke_failures)                                        \
        COUNTER("ServerInterleaved", server_interleaved)                                 \
        COUNTER("ServerTXTimestamps", server_tx_timestamps)                              \
        COUNTER("MalformedPackets", malformed_packets)

const sd_bus_vtable bus_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        BUS_MANAGER_PROPERTIES(BUS_VTABLE_PLAIN, BUS_VTABLE_STRING, BUS_VTABLE_SPECIAL, BUS_VTABLE_COUNTER)
        SD_BUS_METHOD("MakeStep", "", "", method_make_step, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetMakeStep", "di", SD_BUS_PARAM(threshold) SD_BUS_PARAM(limit), "", ,
                                 method_set_make_step, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Allow", "s", SD_BUS_PARAM(subnet), "", , method_allow, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Deny", "s", SD_BUS_PARAM(subnet), "", , method_deny, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddSource", "s", SD_BUS_PARAM(spec), "", , method_add_source,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveSource", "s", SD_BUS_PARAM(name), "", , method_remove_source,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Burst", "", "", method_burst, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

const BusPropertyField bus_manager_fields[] = {
        BUS_MANAGER_PROPERTIES(BUS_FIELD_PLAIN, BUS_FIELD_STRING, BUS_FIELD_SPECIAL, BUS_FIELD_COUNTER)
};
const size_t bus_manager_n_fields = ELEMENTSOF(bus_manager_fields);
