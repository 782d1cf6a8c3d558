/* org.tempus.Tempus1.Manager (see bus-manager.h): its vtable, property
 * snapshot and method handlers. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bus/bus-manager.h"
#include "bus/bus.h"
#include "daemon/manager-sources.h"
#include "daemon/manager-status.h"
#include "daemon/manager.h"
#include "daemon/peer.h"
#include "server/access.h"
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

/* FNV-1a over the rules, so that a change of AccessRules is noticed
 * without keeping a copy of the list. */
static uint64_t access_rules_hash(const AccessList *l) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (size_t i = 0; i < l->n_rules; i++) {
                const AccessRule *r = &l->rules[i];
                const uint8_t *bytes[] = { (const uint8_t *) &r->family, r->address.s6_addr,
                                           (const uint8_t *) &r->prefixlen, (const uint8_t *) &r->allow };
                const size_t sizes[] = { sizeof r->family, sizeof r->address.s6_addr,
                                         sizeof r->prefixlen, sizeof r->allow };
                for (size_t k = 0; k < 4; k++)
                        for (size_t j = 0; j < sizes[k]; j++)
                                h = (h ^ bytes[k][j]) * UINT64_C(1099511628211);
        }
        return h ^ l->n_rules;
}

static double plain_zero(double x) {
        return x == 0 ? 0 : x;
}

void bus_manager_props_fill(BusManagerProps *p, Manager *m) {
        const DisciplineParams *dp = &m->engine->discipline.params;
        Tracking t;

        status_tracking(m->engine, &t);
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
        p->makestep_threshold = dp->makestep_threshold > 0 ? dp->makestep_threshold : 0;
        p->makestep_limit = dp->makestep_threshold > 0 ? dp->makestep_limit : 0;
        p->min_sources = m->engine->params.select.min_sources;
        p->access_rules_hash = access_rules_hash(&m->access);
        p->clock_control = m->clock->controls;
        p->local_rtc = m->local_rtc;
}

static int property_get_access_rules(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        const BusManagerProps *p = userdata;
        const AccessList *l = &p->manager->access;
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

/* Changes need root: the sender's effective UID (or its UID, when the bus
 * does not pass the effective one) must be 0. */
static int check_root(sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        if (r < 0 || uid != 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Changing tempusd's settings requires root.");
        return 0;
}

#define REQUIRE_ROOT(message, error)                    \
        do {                                            \
                int _r = check_root(message, error);    \
                if (_r < 0)                             \
                        return _r;                      \
        } while (0)

static Manager *props_manager(void *userdata) {
        return ((BusManagerProps *) userdata)->manager;
}

static int method_make_step(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        int r;

        REQUIRE_ROOT(message, error);
        r = engine_make_step(m->engine);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to step the clock: %m");
        log_notice("Clock stepped on request over D-Bus.");
        manager_arm_discipline_timer(m);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_set_make_step(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        double threshold;
        int32_t limit;
        int r;

        r = sd_bus_message_read(message, "di", &threshold, &limit);
        if (r < 0)
                return r;
        if (!isfinite(threshold) || threshold < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid threshold %g: must be 0 (never step) or a positive number of seconds.",
                                         threshold);
        if (limit < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid limit %d: must be a number of clock updates, 0 or more.", limit);
        REQUIRE_ROOT(message, error);
        discipline_set_makestep(&m->engine->discipline, threshold, threshold > 0 ? limit : 0);
        m->config.makestep_threshold = threshold;
        m->config.makestep_limit = threshold > 0 ? limit : 0;
        log_info("MakeStep set to %g s for the first %d updates over D-Bus.", threshold, limit);
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

static int access_change(sd_bus_message *message, void *userdata, sd_bus_error *error, bool allow) {
        Manager *m = props_manager(userdata);
        const char *subnet, *reason = NULL;
        AccessRule rule;
        int r;

        r = sd_bus_message_read(message, "s", &subnet);
        if (r < 0)
                return r;
        if (access_rule_parse(subnet, allow, &rule, &reason) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid subnet \"%s\": %s.",
                                         subnet, reason ?: "not an address or subnet");
        REQUIRE_ROOT(message, error);
        r = access_list_add(&m->access, &rule);
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

/* "server HOST [options]", "pool HOST [options]" or "HOST [options]". */
static int parse_source_argument(const char *arg, SourceSpec *ret, const char **reason) {
        SourceKind kind = SOURCE_KIND_SERVER;
        size_t skip = 0;

        arg += strspn(arg, " \t");
        if (strncmp(arg, "server", 6) == 0 && strchr(" \t", arg[6]) && arg[6])
                skip = 6;
        else if (strncmp(arg, "pool", 4) == 0 && strchr(" \t", arg[4]) && arg[4]) {
                kind = SOURCE_KIND_POOL;
                skip = 4;
        }
        return source_spec_parse(kind, arg + skip, ret, reason);
}

static bool manager_has_source_named(Manager *m, const char *host) {
        for (size_t i = 0; i < m->n_groups; i++)
                if (streq(m->groups[i]->spec.host, host))
                        return true;
        return false;
}

static int method_add_source(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        _cleanup_(source_spec_done) SourceSpec spec = {};
        const char *arg, *reason = NULL;
        int r;

        r = sd_bus_message_read(message, "s", &arg);
        if (r < 0)
                return r;
        r = parse_source_argument(arg, &spec, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid source \"%s\": %s.", arg,
                                         reason ?: "not a source specification");
        if (manager_has_source_named(m, spec.host))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Source %s is already configured.",
                                         spec.host);
        REQUIRE_ROOT(message, error);
        r = manager_add_source_spec(m, &spec);
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

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        REQUIRE_ROOT(message, error);
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

        REQUIRE_ROOT(message, error);
        for (size_t i = 0; i < m->n_peers; i++)
                (void) peer_burst(m->peers[i]);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = props_manager(userdata);
        int r;

        REQUIRE_ROOT(message, error);
        r = manager_reload(m);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED,
                                        "The configuration has errors and was not reloaded; see tempusd's log.");
        manager_schedule_status(m);
        return sd_bus_reply_method_return(message, NULL);
}

#define PROP(name, sig, field) \
        SD_BUS_PROPERTY(name, sig, NULL, offsetof(BusManagerProps, field), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define PROP_STRING(name, field)                                                              \
        SD_BUS_PROPERTY(name, "s", bus_property_get_string_buffer, offsetof(BusManagerProps, field), \
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable bus_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PROP("Synchronized", "b", synchronized),
        PROP("ReferenceID", "u", reference_id),
        PROP_STRING("ReferenceName", reference_name),
        PROP("Stratum", "y", stratum),
        PROP("ReferenceTimeUSec", "t", reference_time_usec),
        PROP("SystemTimeOffset", "d", system_time_offset),
        PROP("LastOffset", "d", last_offset),
        PROP("RMSOffset", "d", rms_offset),
        PROP("Frequency", "d", frequency),
        PROP("ResidualFrequency", "d", residual_frequency),
        PROP("Skew", "d", skew),
        PROP("RootDelay", "d", root_delay),
        PROP("RootDispersion", "d", root_dispersion),
        PROP("UpdateInterval", "d", update_interval),
        PROP_STRING("LeapStatus", leap_status),
        PROP("MakeStepThreshold", "d", makestep_threshold),
        PROP("MakeStepLimit", "i", makestep_limit),
        PROP("MinSources", "u", min_sources),
        SD_BUS_PROPERTY("AccessRules", "a(sb)", property_get_access_rules, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        PROP("ClockControl", "b", clock_control),
        PROP("LocalRTC", "b", local_rtc),
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

#define FIELD(name, field) BUS_PROPERTY_FIELD(name, BusManagerProps, field)

const BusPropertyField bus_manager_fields[] = {
        FIELD("Synchronized", synchronized),
        FIELD("ReferenceID", reference_id),
        FIELD("ReferenceName", reference_name),
        FIELD("Stratum", stratum),
        FIELD("ReferenceTimeUSec", reference_time_usec),
        FIELD("SystemTimeOffset", system_time_offset),
        FIELD("LastOffset", last_offset),
        FIELD("RMSOffset", rms_offset),
        FIELD("Frequency", frequency),
        FIELD("ResidualFrequency", residual_frequency),
        FIELD("Skew", skew),
        FIELD("RootDelay", root_delay),
        FIELD("RootDispersion", root_dispersion),
        FIELD("UpdateInterval", update_interval),
        FIELD("LeapStatus", leap_status),
        FIELD("MakeStepThreshold", makestep_threshold),
        FIELD("MakeStepLimit", makestep_limit),
        FIELD("MinSources", min_sources),
        FIELD("AccessRules", access_rules_hash),
        FIELD("ClockControl", clock_control),
        FIELD("LocalRTC", local_rtc),
};
const size_t bus_manager_n_fields = sizeof bus_manager_fields / sizeof bus_manager_fields[0];
