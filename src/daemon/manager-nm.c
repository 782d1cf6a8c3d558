/* Link sources from NetworkManager's D-Bus API (see manager-nm.h). Every
 * call is asynchronous, and each object keeps the slot of its call in
 * flight: a newer call or the object's end cancels it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "daemon/manager-links.h"
#include "daemon/manager-nm.h"
#include "daemon/manager.h"
#include "net/nm-dhcp.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"

typedef struct NmDevice {
        NmWatch *watch;
        char *path;
        NmDeviceProps props;
        NetifLink servers[_NM_FAMILY_MAX];      /* of the DHCP configs: only .ntp is used */
        sd_bus_slot *props_call;
        sd_bus_slot *options_call[_NM_FAMILY_MAX];
} NmDevice;

struct NmWatch {
        Manager *manager;
        sd_bus *bus;
        sd_bus_slot *owner_match, *props_match, *added_match, *removed_match;
        sd_bus_slot *owner_call, *devices_call;
        bool present;                   /* NetworkManager is on the bus */
        NmDevice **devices;
        size_t n_devices, n_devices_allocated;
};

static const char *const dhcp_interfaces[_NM_FAMILY_MAX] = {
        [NM_FAMILY_DHCP4] = NM_DHCP4_INTERFACE,
        [NM_FAMILY_DHCP6] = NM_DHCP6_INTERFACE,
};

static NmDevice *nm_device_free(NmDevice *d) {
        if (!d)
                return NULL;
        sd_bus_slot_unref(d->props_call);
        for (size_t i = 0; i < _NM_FAMILY_MAX; i++) {
                sd_bus_slot_unref(d->options_call[i]);
                netif_link_done(&d->servers[i]);
        }
        nm_device_props_done(&d->props);
        free(d->path);
        free(d);
        return NULL;
}

static void changed(NmWatch *w) {
        manager_links_apply(w->manager, false);
}

/* An asynchronous method call on NetworkManager that never starts it;
 * *slot holds it (a call still in flight there is cancelled). */
static int nm_call(NmWatch *w, sd_bus_slot **slot, const char *path, const char *interface, const char *member,
                   sd_bus_message_handler_t handler, void *userdata, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        *slot = sd_bus_slot_unref(*slot);
        r = sd_bus_message_new_method_call(w->bus, &m, NM_BUS_NAME, path, interface, member);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r >= 0)
                r = sd_bus_message_set_auto_start(m, false);
        if (r >= 0)
                r = sd_bus_call_async(w->bus, slot, m, handler, userdata, 0);
        if (r < 0)
                log_warning_errno(r, "Failed to ask NetworkManager for %s of %s: %m", member, path);
        return r;
}

static bool reply_failed(sd_bus_message *reply, const char *what) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e)
                log_debug("NetworkManager did not give %s: %s", what, e->message ?: e->name);
        return e != NULL;
}

static int on_options(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error, NmFamily family) {
        NmDevice *d = userdata;
        NetifLink servers = {};
        int r;

        d->options_call[family] = sd_bus_slot_unref(d->options_call[family]);
        if (reply_failed(reply, "DHCP options"))
                return 0;
        r = sd_bus_message_enter_container(reply, 'v', "a{sv}");
        if (r >= 0)
                r = nm_dhcp_options_read(reply, family, &servers);
        if (r < 0) {
                netif_link_done(&servers);
                log_warning_errno(r, "Failed to read the DHCP options of %s: %m", d->props.name);
                return 0;
        }
        netif_link_done(&d->servers[family]);
        d->servers[family] = servers;
        changed(d->watch);
        return 0;
}

static int on_options4(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        return on_options(reply, userdata, ret_error, NM_FAMILY_DHCP4);
}

static int on_options6(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        return on_options(reply, userdata, ret_error, NM_FAMILY_DHCP6);
}

static void get_options(NmDevice *d, NmFamily family) {
        static const sd_bus_message_handler_t handlers[_NM_FAMILY_MAX] = { on_options4, on_options6 };

        (void) nm_call(d->watch, &d->options_call[family], d->props.dhcp[family], DBUS_PROPERTIES, "Get",
                       handlers[family], d, "ss", dhcp_interfaces[family], "Options");
}

/* Takes the new properties; asks for the options of a DHCP config that
 * came, forgets those of one that went. */
static void device_update(NmDevice *d, NmDeviceProps *props) {
        for (NmFamily f = 0; f < _NM_FAMILY_MAX; f++) {
                if (streq_ptr(d->props.dhcp[f], props->dhcp[f]))
                        continue;
                d->options_call[f] = sd_bus_slot_unref(d->options_call[f]);
                netif_link_done(&d->servers[f]);
        }
        NmDeviceProps old = d->props;
        d->props = *props;
        for (NmFamily f = 0; f < _NM_FAMILY_MAX; f++)
                if (d->props.dhcp[f] && !streq_ptr(old.dhcp[f], d->props.dhcp[f]))
                        get_options(d, f);
        nm_device_props_done(&old);
}

static int on_device_props(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        NmDevice *d = userdata;
        NmDeviceProps props;
        int r;

        d->props_call = sd_bus_slot_unref(d->props_call);
        if (reply_failed(reply, "a device's properties"))
                return 0;
        r = nm_device_props_read(reply, &props);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the properties of %s: %m", d->path);
                return 0;
        }
        device_update(d, &props);
        changed(d->watch);
        return 0;
}

static void get_device_props(NmDevice *d) {
        (void) nm_call(d->watch, &d->props_call, d->path, DBUS_PROPERTIES, "GetAll", on_device_props, d, "s",
                       NM_DEVICE_INTERFACE);
}

static NmDevice *find_device(NmWatch *w, const char *path) {
        for (size_t i = 0; i < w->n_devices; i++)
                if (streq(w->devices[i]->path, path))
                        return w->devices[i];
        return NULL;
}

static int add_device(NmWatch *w, const char *path) {
        NmDevice *d;

        if (find_device(w, path))
                return 0;
        if (GREEDY_REALLOC(w->devices, w->n_devices_allocated, w->n_devices + 1) < 0)
                return -ENOMEM;
        if (!(d = calloc(1, sizeof *d)) || !(d->path = strdup(path))) {
                free(d);
                return -ENOMEM;
        }
        d->watch = w;
        w->devices[w->n_devices++] = d;
        get_device_props(d);
        return 0;
}

static void forget_devices(NmWatch *w) {
        for (size_t i = 0; i < w->n_devices; i++)
                nm_device_free(w->devices[i]);
        w->n_devices = 0;
}

/* Keeps the devices in paths (a NULL-terminated list, or NULL for none),
 * drops the others. */
static void drop_devices_except(NmWatch *w, char **paths) {
        size_t kept = 0;

        for (size_t i = 0; i < w->n_devices; i++) {
                bool keep = false;
                for (char **p = paths; p && *p && !keep; p++)
                        keep = streq(*p, w->devices[i]->path);
                if (keep)
                        w->devices[kept++] = w->devices[i];
                else
                        nm_device_free(w->devices[i]);
        }
        w->n_devices = kept;
}

static int on_devices(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        NmWatch *w = userdata;
        char **paths = NULL;
        int r;

        w->devices_call = sd_bus_slot_unref(w->devices_call);
        if (reply_failed(reply, "its devices"))
                return 0;
        r = sd_bus_message_enter_container(reply, 'v', "ao");
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &paths);
        if (r < 0) {
                log_warning_errno(r, "Failed to read NetworkManager's devices: %m");
                return 0;
        }
        drop_devices_except(w, paths);
        for (char **p = paths; r >= 0 && p && *p; p++)
                r = add_device(w, *p);
        if (r < 0)
                log_oom();
        for (char **p = paths; p && *p; p++)
                free(*p);
        free(paths);
        changed(w);
        return 0;
}

static void get_devices(NmWatch *w) {
        (void) nm_call(w, &w->devices_call, NM_PATH, DBUS_PROPERTIES, "Get", on_devices, w, "ss", NM_INTERFACE,
                       "Devices");
}

/* NetworkManager came (owner non-empty) or went. */
static void set_owner(NmWatch *w, const char *owner) {
        bool present = owner && *owner;

        if (present != w->present)
                log_info("NetworkManager %s the bus.", present ? "is on" : "left");
        forget_devices(w);
        w->devices_call = sd_bus_slot_unref(w->devices_call);
        w->present = present;
        if (present)
                get_devices(w);
        changed(w);
}

static int on_name_owner(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        NmWatch *w = userdata;
        const char *owner = NULL;

        w->owner_call = sd_bus_slot_unref(w->owner_call);
        if (!sd_bus_message_is_method_error(reply, NULL))
                (void) sd_bus_message_read(reply, "s", &owner);
        set_owner(w, owner);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        NmWatch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, NM_BUS_NAME))
                return 0;
        set_owner(w, new_owner);
        return 0;
}

static NmDevice *find_dhcp_config(NmWatch *w, const char *path, NmFamily f) {
        for (size_t i = 0; i < w->n_devices; i++)
                if (streq_ptr(w->devices[i]->props.dhcp[f], path))
                        return w->devices[i];
        return NULL;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        static const char *const nm_props[] = { "Devices", NULL };
        static const char *const device_props[] = {
                "State", "Interface", "IpInterface", "Dhcp4Config", "Dhcp6Config", NULL,
        };
        static const char *const dhcp_props[] = { "Options", NULL };
        NmWatch *w = userdata;
        const char *path = sd_bus_message_get_path(m), *interface;
        NmDevice *d;

        if (!w->present || sd_bus_message_read(m, "s", &interface) < 0)
                return 0;
        if (streq(interface, NM_INTERFACE) && streq(path, NM_PATH)) {
                if (nm_properties_changed_any(m, nm_props) > 0)
                        get_devices(w);
        } else if (streq(interface, NM_DEVICE_INTERFACE) && (d = find_device(w, path))) {
                if (nm_properties_changed_any(m, device_props) > 0)
                        get_device_props(d);
        } else
                for (NmFamily f = 0; f < _NM_FAMILY_MAX; f++)
                        if (streq(interface, dhcp_interfaces[f]) && (d = find_dhcp_config(w, path, f)) &&
                            nm_properties_changed_any(m, dhcp_props) > 0)
                                get_options(d, f);
        return 0;
}

static int on_device_added_or_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        NmWatch *w = userdata;

        if (w->present)
                get_devices(w);
        return 0;
}

static int add_matches(NmWatch *w) {
        int r;

        r = sd_bus_add_match_async(w->bus, &w->owner_match,
                                   "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                   "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                   "arg0='" NM_BUS_NAME "'",
                                   on_name_owner_changed, NULL, w);
        if (r >= 0)
                r = sd_bus_add_match_async(w->bus, &w->props_match,
                                           "type='signal',sender='" NM_BUS_NAME "',"
                                           "interface='" DBUS_PROPERTIES "',member='PropertiesChanged',"
                                           "path_namespace='" NM_PATH "'",
                                           on_properties_changed, NULL, w);
        if (r >= 0)
                r = sd_bus_match_signal_async(w->bus, &w->added_match, NM_BUS_NAME, NM_PATH, NM_INTERFACE,
                                              "DeviceAdded", on_device_added_or_removed, NULL, w);
        if (r >= 0)
                r = sd_bus_match_signal_async(w->bus, &w->removed_match, NM_BUS_NAME, NM_PATH, NM_INTERFACE,
                                              "DeviceRemoved", on_device_added_or_removed, NULL, w);
        return r;
}

static NmWatch *nm_watch_free(NmWatch *w) {
        if (!w)
                return NULL;
        forget_devices(w);
        free(w->devices);
        sd_bus_slot_unref(w->owner_match);
        sd_bus_slot_unref(w->props_match);
        sd_bus_slot_unref(w->added_match);
        sd_bus_slot_unref(w->removed_match);
        sd_bus_slot_unref(w->owner_call);
        sd_bus_slot_unref(w->devices_call);
        sd_bus_flush_close_unref(w->bus);
        free(w);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(NmWatch *, nm_watch_free);

int manager_nm_start(Manager *m) {
        _cleanup_(nm_watch_freep) NmWatch *w = calloc(1, sizeof(NmWatch));
        int r;

        if (!w)
                return log_oom();
        w->manager = m;
        r = sd_bus_open_system_with_description(&w->bus, "tempusd-networkmanager");
        if (r < 0) {
                log_notice_errno(r, "No system bus, not following NetworkManager's NTP servers: %m");
                return 0;
        }
        r = sd_bus_attach_event(w->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = add_matches(w);
        /* After the matches, so that NetworkManager cannot come between
         * this answer and the first signal. */
        if (r >= 0)
                r = sd_bus_call_method_async(w->bus, &w->owner_call, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "GetNameOwner", on_name_owner, w, "s",
                                             NM_BUS_NAME);
        if (r < 0) {
                log_warning_errno(r, "Failed to follow NetworkManager, not following its NTP servers: %m");
                return 0;
        }
        m->nm = TAKE_PTR(w);
        return 0;
}

void manager_nm_done(Manager *m) {
        m->nm = nm_watch_free(m->nm);
}

static int device_link(const NmDevice *d, NetifLink *l) {
        *l = (NetifLink) { .up = d->props.state == NM_DEVICE_STATE_ACTIVATED };
        snprintf(l->name, sizeof l->name, "%s", d->props.name);
        for (NmFamily f = 0; f < _NM_FAMILY_MAX; f++)
                for (size_t i = 0; i < d->servers[f].n_ntp; i++)
                        if (netif_link_add_servers(l, d->servers[f].ntp[i]) < 0)
                                return -ENOMEM;
        return 0;
}

int manager_nm_links(const Manager *m, NetifLink **ret, size_t *ret_n) {
        const NmWatch *w = m->nm;
        NetifLink *links;
        size_t n = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!w || !w->present || w->n_devices == 0)
                return 0;
        links = calloc(w->n_devices, sizeof *links);
        if (!links)
                return -ENOMEM;
        for (size_t i = 0; i < w->n_devices; i++) {
                if (!w->devices[i]->props.name[0])
                        continue;       /* its properties are still on their way */
                if (device_link(w->devices[i], &links[n++]) < 0) {
                        netif_links_free(links, n);
                        return -ENOMEM;
                }
        }
        *ret = links;
        *ret_n = n;
        return 0;
}
