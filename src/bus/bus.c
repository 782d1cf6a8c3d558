/* The system bus connection and signal coalescing (see bus.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "daemon/manager-api.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

/* Entries are kept in order of source id: found by binary search, and
 * appended in the usual case, since new sources get the highest ids. */
static size_t entry_position(BusContext *b, unsigned id) {
        return LOWER_BOUND(b->sources, b->n_sources, .id, id);
}

static BusSourceEntry *entry_find(BusContext *b, unsigned id) {
        size_t i = entry_position(b, id);
        return i < b->n_sources && b->sources[i].id == id ? &b->sources[i] : NULL;
}

static BusSourceEntry *entry_get(BusContext *b, unsigned id) {
        size_t i = entry_position(b, id);

        if (i < b->n_sources && b->sources[i].id == id)
                return &b->sources[i];
        if (GREEDY_REALLOC(b->sources, b->n_sources_allocated, b->n_sources + 1) < 0)
                return NULL;
        memmove(b->sources + i + 1, b->sources + i, (b->n_sources - i) * sizeof(BusSourceEntry));
        b->n_sources++;
        b->sources[i] = (BusSourceEntry) { .id = id };
        return &b->sources[i];
}

static void entry_drop(BusContext *b, BusSourceEntry *e) {
        size_t i = (size_t) (e - b->sources);
        memmove(e, e + 1, (b->n_sources - i - 1) * sizeof(BusSourceEntry));
        b->n_sources--;
}

static int64_t cooked_now(Manager *m) {
        nsec_t now = 0;
        (void) engine_now(manager_get_engine(m), &now);
        return now;
}

static int find_manager(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **found, sd_bus_error *error) {
        BusContext *b = userdata;

        if (!streq(path, BUS_MANAGER_PATH))
                return 0;
        bus_manager_props_fill(&b->manager_now, b->manager, NULL);
        b->manager_now.polkit = &b->polkit;
        *found = &b->manager_now;
        return 1;
}

static int find_timesync(sd_bus *bus, const char *path, const char *interface, void *userdata,
                         void **found, sd_bus_error *error) {
        BusContext *b = userdata;

        if (!streq(path, BUS_TIMESYNC_PATH))
                return 0;
        bus_timesync_props_fill(&b->timesync_now, b->manager, NULL);
        b->timesync_now.polkit = &b->polkit;
        *found = &b->timesync_now;
        return 1;
}

static int find_source(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error) {
        BusContext *b = userdata;
        unsigned id;

        if (bus_source_path_parse(path, &id) < 0)
                return 0;
        Source *s = manager_find_source(b->manager, id);
        if (!s)
                return 0;
        BusSourceEntry *e = entry_get(b, id);
        if (!e)
                return -ENOMEM;
        bus_source_props_fill(&e->now, s, manager_get_keys(b->manager), manager_source_link(b->manager, s), cooked_now(b->manager));
        *found = &e->now;
        return 1;
}

static int enumerate_sources(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                             sd_bus_error *error) {
        BusContext *b = userdata;
        Manager *m = b->manager;
        char **list = calloc(manager_n_sources(m) + 1, sizeof(char *));
        char path[128];

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < manager_n_sources(m); i++) {
                list[i] = strdup(bus_source_path(manager_source_at(m, i)->id, path, sizeof path));
                if (!list[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(list[k]);
                        free(list);
                        return -ENOMEM;
                }
        }
        *nodes = list;
        return 1;
}

static int bus_export(BusContext *b) {
        int r;

        r = sd_bus_add_fallback_vtable(b->bus, NULL, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE,
                                       bus_manager_vtable, find_manager, b);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(b->bus, NULL, BUS_SOURCE_PREFIX, BUS_SOURCE_INTERFACE,
                                               bus_source_vtable, find_source, b);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(b->bus, NULL, BUS_SOURCE_PREFIX, enumerate_sources, b);
        if (r >= 0)
                r = sd_bus_add_object_manager(b->bus, NULL, BUS_MANAGER_PATH);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(b->bus, NULL, BUS_TIMESYNC_PATH, BUS_TIMESYNC_INTERFACE,
                                               bus_timesync_vtable, find_timesync, b);
        return r;
}

int bus_context_new(Manager *m, BusContext **ret) {
        _cleanup_(bus_context_freep) BusContext *b = calloc(1, sizeof(BusContext));
        int r;

        if (!b)
                return log_oom();
        b->manager = m;
        r = sd_bus_open_system_with_description(&b->bus, "tempusd");
        if (r < 0) {
                log_notice_errno(r, "No system bus, running without the D-Bus API: %m");
                return -ENOTCONN;
        }
        r = bus_export(b);
        if (r < 0)
                return log_error_errno(r, "Failed to export the D-Bus objects: %m");
        r = sd_bus_request_name(b->bus, BUS_NAME, 0);
        if (r < 0) {
                log_warning_errno(r, "Failed to acquire the bus name %s, running without the D-Bus API: %m",
                                  BUS_NAME);
                return -ENOTCONN;
        }
        /* timedatectl's name: another daemon may hold it, or the policy may
         * not let us have it; tempus's own API works without it. */
        r = sd_bus_request_name(b->bus, BUS_TIMESYNC_NAME, 0);
        if (r < 0)
                log_notice_errno(r, "Failed to acquire the bus name %s, timedatectl timesync-status will not "
                                 "show tempusd: %m", BUS_TIMESYNC_NAME);
        r = sd_bus_attach_event(b->bus, manager_get_event(m), SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        bus_manager_props_fill(&b->manager_sent, m, NULL);
        bus_timesync_props_fill(&b->timesync_sent, m, NULL);
        *ret = TAKE_PTR(b);
        return 0;
}

BusContext *bus_context_free(BusContext *b) {
        if (!b)
                return NULL;
        bus_polkit_done(&b->polkit);
        sd_bus_flush_close_unref(b->bus);
        free(b->sources);
        free(b);
        return NULL;
}

static void flush_manager(BusContext *b, const Tracking *t) {
        const char *names[64];

        bus_manager_props_fill(&b->manager_now, b->manager, t);
        if (bus_properties_changed(bus_manager_fields, bus_manager_n_fields, &b->manager_sent, &b->manager_now,
                                   names) == 0)
                return;
        int r = sd_bus_emit_properties_changed_strv(b->bus, BUS_MANAGER_PATH, BUS_MANAGER_INTERFACE,
                                                    (char **) names);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged: %m");
        b->manager_sent = b->manager_now;
}

static void flush_timesync(BusContext *b, const Tracking *t) {
        const char *names[64];

        bus_timesync_props_fill(&b->timesync_now, b->manager, t);
        if (bus_properties_changed(bus_timesync_fields, bus_timesync_n_fields, &b->timesync_sent, &b->timesync_now,
                                   names) == 0)
                return;
        int r = sd_bus_emit_properties_changed_strv(b->bus, BUS_TIMESYNC_PATH, BUS_TIMESYNC_INTERFACE,
                                                    (char **) names);
        if (r < 0)
                log_debug_errno(r, "Failed to emit PropertiesChanged for timesync1: %m");
        b->timesync_sent = b->timesync_now;
}

static void flush_source(BusContext *b, const Source *s, int64_t now) {
        BusSourceEntry *e = entry_get(b, s->id);
        const char *names[64];
        char path[128];
        int r;

        if (!e) {
                log_oom();
                return;
        }
        bus_source_props_fill(&e->now, s, manager_get_keys(b->manager), manager_source_link(b->manager, s), now);
        bus_source_path(s->id, path, sizeof path);
        if (!e->announced) {
                r = sd_bus_emit_object_added(b->bus, path);
                if (r < 0)
                        log_debug_errno(r, "Failed to announce %s: %m", path);
                e->announced = true;
        } else if (bus_properties_changed(bus_source_fields, bus_source_n_fields, &e->sent, &e->now, names) > 0) {
                r = sd_bus_emit_properties_changed_strv(b->bus, path, BUS_SOURCE_INTERFACE, (char **) names);
                if (r < 0)
                        log_debug_errno(r, "Failed to emit PropertiesChanged for %s: %m", path);
        }
        e->sent = e->now;
}

void bus_context_flush(BusContext *b, const Tracking *t) {
        if (!b)
                return;
        Manager *m = b->manager;
        int64_t now = cooked_now(m);

        flush_manager(b, t);
        flush_timesync(b, t);
        for (size_t i = 0; i < manager_n_sources(m); i++)
                flush_source(b, manager_source_at(m, i), now);
}

void bus_context_source_removed(BusContext *b, const Source *s) {
        char path[128];

        if (!b)
                return;
        BusSourceEntry *e = entry_find(b, s->id);
        if (!e)
                return;
        if (e->announced) {
                int r = sd_bus_emit_object_removed(b->bus, bus_source_path(s->id, path, sizeof path));
                if (r < 0)
                        log_debug_errno(r, "Failed to announce the removal of %s: %m", path);
                /* That looked the source up again (find_source): find
                 * its entry anew rather than trust the old pointer. */
                e = entry_find(b, s->id);
        }
        if (e)
                entry_drop(b, e);
}

static void listener_state_changed(void *userdata, const Tracking *t) {
        bus_context_flush(userdata, t);
}

static void listener_source_removed(void *userdata, const Source *s) {
        bus_context_source_removed(userdata, s);
}

static void listener_free(void *userdata) {
        bus_context_free(userdata);
}

int bus_context_attach(Manager *m) {
        BusContext *b;
        int r = bus_context_new(m, &b);
        if (r == -ENOTCONN)
                return 0;
        if (r < 0)
                return r;
        manager_set_listener(m, &(ManagerListener) {
                .state_changed = listener_state_changed,
                .source_removed = listener_source_removed,
                .free = listener_free,
                .userdata = b,
        });
        return 0;
}
