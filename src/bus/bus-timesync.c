/* org.freedesktop.timesync1.Manager (see bus-timesync.h): its vtable,
 * property snapshot and SetRuntimeNTPServers(). */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bus/bus-polkit.h"
#include "bus/bus-timesync.h"
#include "daemon/manager-api.h"
#include "shared/alloc-util.h"
#include "shared/hashmap.h"
#include "shared/log.h"

static uint64_t seconds_to_usec(double s) {
        return s > 0 && isfinite(s) ? (uint64_t) llround(s * 1e6) : 0;
}

static uint64_t nsec_to_usec(nsec_t t) {
        return t > 0 ? (uint64_t) (t / NSEC_PER_USEC) : 0;
}

static uint64_t poll_to_usec(int poll) {
        return (uint64_t) llround(ldexp(1e6, poll));
}

static uint64_t system_servers_hash(const Manager *m) {
        uint64_t h = hash_bytes("", 0, 0);

        for (size_t i = 0; i < manager_n_config_lines(m); i++) {
                const char *host = manager_config_line_at(m, i)->host;
                h = hash_bytes(host, strlen(host) + 1, h);
        }
        return h;
}

static uint64_t runtime_servers_hash(const Manager *m) {
        uint64_t h = hash_bytes("", 0, 0);

        for (size_t i = 0; i < manager_n_runtime_servers(m); i++) {
                const char *host = manager_runtime_server_at(m, i);
                h = hash_bytes(host, strlen(host) + 1, h);
        }
        return h;
}

static uint64_t link_servers_hash(const Manager *m) {
        const char *names[MANAGER_MAX_SOURCES];
        size_t n = manager_link_servers(m, names, ELEMENTSOF(names));
        uint64_t h = hash_bytes("", 0, 0);

        for (size_t i = 0; i < MIN(n, ELEMENTSOF(names)); i++)
                h = hash_bytes(names[i], strlen(names[i]) + 1, h);
        return h;
}

static void fill_address(BusTimesyncAddress *a, const Source *s) {
        if (s->address.ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) &s->address;
                *a = (BusTimesyncAddress) { .family = AF_INET, .size = 4 };
                memcpy(a->bytes, &in->sin_addr, 4);
        } else if (s->address.ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &s->address;
                *a = (BusTimesyncAddress) { .family = AF_INET6, .size = 16 };
                memcpy(a->bytes, &in6->sin6_addr, 16);
        }
}

/* The last reply as timedatectl reads it: offset = ((T2 - T1) + (T3 -
 * T4)) / 2 and delay = (T4 - T1) - (T3 - T2) come out as tempus measured
 * them. */
static void fill_message(BusTimesyncMessage *msg, const Source *s, nsec_t now) {
        SourceEstimate e;

        if (!s->has_reply)
                return;
        *msg = (BusTimesyncMessage) {
                .leap = s->leap,
                .version = s->version,
                .mode = s->mode,
                .stratum = s->stratum,
                .precision = s->precision,
                .root_delay_usec = seconds_to_usec(s->root_delay),
                .root_dispersion_usec = seconds_to_usec(s->root_dispersion),
                .reference = { s->remote_refid >> 24, s->remote_refid >> 16, s->remote_refid >> 8, s->remote_refid },
                .origin_usec = nsec_to_usec(s->last_t1),
                .receive_usec = nsec_to_usec(ntp_timestamp_to_nsec(s->last_receive, s->last_rx)),
                .transmit_usec = nsec_to_usec(ntp_timestamp_to_nsec(s->last_transmit, s->last_rx)),
                .destination_usec = nsec_to_usec(s->last_rx),
                .packet_count = s->n_replies,
        };
        if (sourcestats_estimate(&s->stats, now, &e))
                msg->jitter_usec = seconds_to_usec(e.std_dev);
}

void bus_timesync_server_fill(BusTimesyncProps *p, const Source *s, nsec_t now) {
        snprintf(p->server_name, sizeof p->server_name, "%s", s->name);
        fill_address(&p->server_address, s);
        p->poll_interval_min_usec = poll_to_usec(s->spec.minpoll);
        p->poll_interval_max_usec = poll_to_usec(s->spec.maxpoll);
        p->poll_interval_usec = seconds_to_usec(source_poll_interval(s));
        fill_message(&p->ntp_message, s, now);
}

void bus_timesync_props_fill(BusTimesyncProps *p, Manager *m, const Tracking *tracking) {
        Engine *e = manager_get_engine(m);
        nsec_t now = 0;
        Tracking t;

        if (tracking)
                t = *tracking;
        else
                manager_tracking(m, &t);
        (void) engine_now(e, &now);
        memset(p, 0, sizeof *p);
        p->manager = m;
        p->system_servers_hash = system_servers_hash(m);
        p->runtime_servers_hash = runtime_servers_hash(m);
        p->link_servers_hash = link_servers_hash(m);
        p->server_address.family = AF_UNSPEC;
        p->root_distance_max_usec = seconds_to_usec(e->params.select.max_distance);
        /* Without a selected source: the limits a new source gets. */
        p->poll_interval_min_usec = poll_to_usec(SOURCE_DEFAULT_MINPOLL);
        p->poll_interval_max_usec = poll_to_usec(SOURCE_DEFAULT_MAXPOLL);
        if (e->selected)
                bus_timesync_server_fill(p, e->selected, now);
        /* The correction programmed into the clock, in adjtimex's unit, as
         * timesyncd reports it (Tracking has the clock's own error, which
         * is its negative). */
        p->frequency = llround(-t.frequency_ppm * 65536.0);
}

static int append_hosts(sd_bus_message *reply, const Manager *m, bool runtime) {
        size_t n = runtime ? manager_n_runtime_servers(m) : manager_n_config_lines(m);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "s", runtime ? manager_runtime_server_at(m, i)
                                                              : manager_config_line_at(m, i)->host);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int property_get_link_servers(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        const char *names[MANAGER_MAX_SOURCES];
        size_t n = manager_link_servers(((BusTimesyncProps *) userdata)->manager, names, ELEMENTSOF(names));
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < MIN(n, ELEMENTSOF(names)); i++)
                r = sd_bus_message_append(reply, "s", names[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int property_get_no_servers(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "as", 0);
}

static int property_get_system_servers(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        return append_hosts(reply, ((BusTimesyncProps *) userdata)->manager, false);
}

static int property_get_runtime_servers(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        return append_hosts(reply, ((BusTimesyncProps *) userdata)->manager, true);
}

static int property_get_server_address(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error) {
        const BusTimesyncAddress *a = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'r', "iay");
        if (r >= 0)
                r = sd_bus_message_append(reply, "i", a->family);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', a->bytes, a->size);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int property_get_ntp_message(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const BusTimesyncMessage *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'r', "uuuuittayttttbtt");
        if (r >= 0)
                r = sd_bus_message_append(reply, "uuuuitt", m->leap, m->version, m->mode, m->stratum, m->precision,
                                          m->root_delay_usec, m->root_dispersion_usec);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', m->reference, sizeof m->reference);
        if (r >= 0)
                r = sd_bus_message_append(reply, "ttttbtt", m->origin_usec, m->receive_usec, m->transmit_usec,
                                          m->destination_usec, m->spike, m->packet_count, m->jitter_usec);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* A runtime server is a host name or address alone: options are
 * tempus.conf's business. */
static int parse_runtime_server(const char *name, SourceSpec *ret, sd_bus_error *error) {
        const char *reason = NULL;
        int r;

        if (!name[0] || strpbrk(name, " \t\n"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid NTP server \"%s\": expected a host name or address.", name);
        r = source_spec_parse(SOURCE_KIND_SERVER, name, ret, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid NTP server \"%s\": %s.", name,
                                         reason ?: "not a host name or address");
        ret->iburst = true;
        return 0;
}

typedef struct SpecList {
        SourceSpec *specs;
        size_t n, allocated;
} SpecList;

static void spec_list_done(SpecList *l) {
        for (size_t i = 0; i < l->n; i++)
                source_spec_done(&l->specs[i]);
        free(l->specs);
}

static int read_runtime_servers(sd_bus_message *message, SpecList *l, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(message, "s", &name)) > 0) {
                if (l->n >= MANAGER_MAX_SOURCES)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                                 "More than %u NTP servers.", MANAGER_MAX_SOURCES);
                if (GREEDY_REALLOC(l->specs, l->allocated, l->n + 1) < 0)
                        return -ENOMEM;
                r = parse_runtime_server(name, &l->specs[l->n], error);
                if (r < 0)
                        return r;
                l->n++;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(message);
        return r;
}

static int method_set_runtime_servers(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusTimesyncProps *p = userdata;
        _cleanup_(spec_list_done) SpecList l = {};
        int r;

        BUS_REQUIRE_AUTHORIZED(p->polkit, message, BUS_POLKIT_ACTION_SET_RUNTIME_SERVERS, error);
        r = read_runtime_servers(message, &l, error);
        if (r < 0)
                return r;
        r = manager_set_runtime_servers(p->manager, l.specs, l.n);
        if (r == -ENOSPC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "tempusd runs at most %u sources, configured and added together.",
                                         MANAGER_MAX_SOURCES);
        if (r < 0)
                return r;
        log_info("Runtime NTP servers set over D-Bus (%zu).", l.n);
        manager_schedule_status(p->manager);
        return sd_bus_reply_method_return(message, NULL);
}

#define BUS_PROPS_TYPE BusTimesyncProps
_Static_assert(offsetof(BusTimesyncProps, manager) == 0, "the server lists' getters take the whole snapshot");

/* Every property of org.freedesktop.timesync1.Manager, in timesyncd's
 * order (see bus-properties.h for the kinds). */
#define BUS_TIMESYNC_PROPERTIES(PLAIN, STRING, SPECIAL, COUNTER)                                        \
        SPECIAL("LinkNTPServers", "as", property_get_link_servers, manager, link_servers_hash)         \
        SPECIAL("SystemNTPServers", "as", property_get_system_servers, manager, system_servers_hash)   \
        SPECIAL("RuntimeNTPServers", "as", property_get_runtime_servers, manager, runtime_servers_hash) \
        /* tempus has no fallback list. */                                                            \
        SPECIAL("FallbackNTPServers", "as", property_get_no_servers, manager, no_servers)              \
        STRING("ServerName", server_name)                                                              \
        SPECIAL("ServerAddress", "(iay)", property_get_server_address, server_address, server_address) \
        PLAIN("RootDistanceMaxUSec", "t", root_distance_max_usec)                                      \
        PLAIN("PollIntervalMinUSec", "t", poll_interval_min_usec)                                      \
        PLAIN("PollIntervalMaxUSec", "t", poll_interval_max_usec)                                      \
        PLAIN("PollIntervalUSec", "t", poll_interval_usec)                                             \
        SPECIAL("NTPMessage", "(uuuuittayttttbtt)", property_get_ntp_message, ntp_message, ntp_message) \
        PLAIN("Frequency", "x", frequency)

const sd_bus_vtable bus_timesync_vtable[] = {
        SD_BUS_VTABLE_START(0),
        BUS_TIMESYNC_PROPERTIES(BUS_VTABLE_PLAIN, BUS_VTABLE_STRING, BUS_VTABLE_SPECIAL, BUS_VTABLE_COUNTER)
        SD_BUS_METHOD_WITH_NAMES("SetRuntimeNTPServers", "as", SD_BUS_PARAM(runtime_servers), "", ,
                                 method_set_runtime_servers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

const BusPropertyField bus_timesync_fields[] = {
        BUS_TIMESYNC_PROPERTIES(BUS_FIELD_PLAIN, BUS_FIELD_STRING, BUS_FIELD_SPECIAL, BUS_FIELD_COUNTER)
};
const size_t bus_timesync_n_fields = ELEMENTSOF(bus_timesync_fields);
