/* NetworkManager's DHCP options and device properties (see nm-dhcp.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/nm-dhcp.h"
#include "shared/macro.h"

static const char *const ntp_keys[_NM_FAMILY_MAX] = {
        [NM_FAMILY_DHCP4] = "ntp_servers",
        [NM_FAMILY_DHCP6] = "dhcp6_ntp_servers",
};

/* sd-bus says -ENXIO, -EINVAL or -EBADMSG for a message of another shape:
 * to the caller they are all a bad message. */
static int bad_shape(int r) {
        return r == -ENOMEM ? r : -EBADMSG;
}

/* Calls read_value(m, key, userdata) inside each entry of an a{sv} (m
 * stands at the variant), or skips the variant when it returns 0. */
static int dict_for_each(sd_bus_message *m, int (*read_value)(sd_bus_message *, const char *, void *),
                         void *userdata) {
        const char *key;
        int r, n = 0;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = read_value(m, key, userdata);
                if (r == 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? bad_shape(r) : n;
}

/* Reads a variant holding a value of type `type` into *ret; 0 without
 * reading when the variant holds another type. */
static int read_variant(sd_bus_message *m, const char *type, void *ret) {
        int r = sd_bus_message_verify_type(m, 'v', type);
        if (r <= 0)
                return r;
        r = sd_bus_message_enter_container(m, 'v', type);
        if (r >= 0)
                r = sd_bus_message_read_basic(m, type[0], ret);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

typedef struct OptionsReader {
        const char *key;
        NetifLink *link;
        int added;
} OptionsReader;

static int read_option(sd_bus_message *m, const char *key, void *userdata) {
        OptionsReader *o = userdata;
        const char *value;

        if (!streq(key, o->key))
                return 0;
        int r = read_variant(m, "s", &value);
        if (r <= 0)
                return r;
        r = netif_link_add_servers(o->link, value);
        if (r < 0)
                return r;
        o->added += r;
        return 1;
}

int nm_dhcp_options_read(sd_bus_message *m, NmFamily family, NetifLink *l) {
        assert(family >= 0 && family < _NM_FAMILY_MAX);
        OptionsReader o = { .key = ntp_keys[family], .link = l };
        int r = dict_for_each(m, read_option, &o);
        return r < 0 ? r : o.added;
}

/* A path property: NULL for "/", NetworkManager's "none". */
static int read_path(sd_bus_message *m, char **ret) {
        const char *path;
        int r = read_variant(m, "o", &path);

        if (r <= 0)
                return r;
        free(*ret);
        *ret = streq(path, "/") ? NULL : strdup(path);
        return !streq(path, "/") && !*ret ? -ENOMEM : 1;
}

static int read_device_prop(sd_bus_message *m, const char *key, void *userdata) {
        NmDeviceProps *p = userdata;
        const char *name;
        int r;

        if (streq(key, "State"))
                return read_variant(m, "u", &p->state);
        if (streq(key, "Dhcp4Config"))
                return read_path(m, &p->dhcp[NM_FAMILY_DHCP4]);
        if (streq(key, "Dhcp6Config"))
                return read_path(m, &p->dhcp[NM_FAMILY_DHCP6]);
        bool ip = streq(key, "IpInterface");
        if (!ip && !streq(key, "Interface"))
                return 0;
        r = read_variant(m, "s", &name);
        /* The IP interface, where there is one, is where DHCP runs. */
        if (r > 0 && *name && (ip || !p->name[0]))
                snprintf(p->name, sizeof p->name, "%s", name);
        return r;
}

int nm_device_props_read(sd_bus_message *m, NmDeviceProps *ret) {
        *ret = (NmDeviceProps) {};
        int r = dict_for_each(m, read_device_prop, ret);
        if (r < 0)
                nm_device_props_done(ret);
        return r < 0 ? r : 0;
}

void nm_device_props_done(NmDeviceProps *p) {
        for (size_t i = 0; i < _NM_FAMILY_MAX; i++)
                p->dhcp[i] = mfree(p->dhcp[i]);
}

static bool name_in(const char *name, const char *const *names) {
        for (; *names; names++)
                if (streq(name, *names))
                        return true;
        return false;
}

typedef struct ChangedReader {
        const char *const *names;
        bool found;
} ChangedReader;

static int note_changed(sd_bus_message *m, const char *key, void *userdata) {
        ChangedReader *c = userdata;

        c->found = c->found || name_in(key, c->names);
        return 0;
}

int nm_properties_changed_any(sd_bus_message *m, const char *const *names) {
        ChangedReader c = { .names = names };
        const char *name;
        int r;

        r = dict_for_each(m, note_changed, &c);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r > 0) {
                while ((r = sd_bus_message_read(m, "s", &name)) > 0)
                        c.found = c.found || name_in(name, names);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r < 0 ? bad_shape(r) : c.found;
}
