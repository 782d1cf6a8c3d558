/* A stand-in for NetworkManager on the test's private bus: owns
 * org.freedesktop.NetworkManager and exports, as NetworkManager does, the
 * manager object with its Devices, one device, and the device's
 * DHCP4Config and DHCP6Config with their Options dictionaries. The test
 * drives it with lines on stdin, and each change is signalled as
 * NetworkManager signals it (PropertiesChanged, DeviceAdded,
 * DeviceRemoved):
 *
 *   ntp4 ADDRESS...    the DHCPv4 option ntp_servers (none: no such key)
 *   ntp6 ADDRESS...    the DHCPv6 option dhcp6_ntp_servers
 *   state N            the device's NMDeviceState (100: activated)
 *   remove | add       the device goes from the manager's list, or comes back
 *   slow MS            the next read of an Options dictionary answers MS late,
 *                      and nothing else is answered meanwhile
 *
 * Usage: fake-nm IFNAME [NTP4_SERVERS]. Prints "ready" once it owns the
 * name and "done LINE" after each command. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define NM_PATH     "/org/freedesktop/NetworkManager"
#define DEVICE_PATH NM_PATH "/Devices/1"
#define DHCP4_PATH  NM_PATH "/DHCP4Config/1"
#define DHCP6_PATH  NM_PATH "/DHCP6Config/1"

typedef struct Fake {
        sd_bus *bus;
        const char *ifname;
        uint32_t state;
        bool listed;
        char ntp[2][256];
        unsigned slow_ms;
} Fake;

static int get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "o");
        if (r >= 0 && f->listed)
                r = sd_bus_message_append(reply, "o", DEVICE_PATH);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int get_dhcp_path(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        bool six = strcmp(property, "Dhcp6Config") == 0;
        bool up = f->state == 100;
        return sd_bus_message_append(reply, "o", !up ? "/" : six ? DHCP6_PATH : DHCP4_PATH);
}

static int get_options(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        bool six = strcmp(path, DHCP6_PATH) == 0;
        const char *ntp = f->ntp[six];

        /* A Get from a client, not the value a PropertiesChanged carries. */
        if (f->slow_ms > 0 && sd_bus_get_current_message(bus)) {
                (void) usleep(f->slow_ms * 1000);
                f->slow_ms = 0;
        }
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");
        /* What NetworkManager puts beside the option, as it does. */
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", six ? "ip6_address" : "ip_address", "s",
                                          six ? "fd00::2" : "192.0.2.2");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", six ? "requested_dhcp6_ntp_servers" : "requested_ntp_servers",
                                          "s", "1");
        if (r >= 0 && *ntp)
                r = sd_bus_message_append(reply, "{sv}", six ? "dhcp6_ntp_servers" : "ntp_servers", "s", ntp);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Devices", "ao", get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_SIGNAL("DeviceAdded", "o", 0),
        SD_BUS_SIGNAL("DeviceRemoved", "o", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Interface", "s", NULL, offsetof(Fake, ifname), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IpInterface", "s", NULL, offsetof(Fake, ifname), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "u", NULL, offsetof(Fake, state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Dhcp4Config", "o", get_dhcp_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Dhcp6Config", "o", get_dhcp_path, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable dhcp_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Options", "a{sv}", get_options, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

static int command(Fake *f, char *line) {
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : line + strlen(line);

        if (strncmp(line, "ntp4", 4) == 0 || strncmp(line, "ntp6", 4) == 0) {
                bool six = line[3] == '6';
                snprintf(f->ntp[six], sizeof f->ntp[six], "%s", arg);
                return sd_bus_emit_properties_changed(f->bus, six ? DHCP6_PATH : DHCP4_PATH,
                                                      six ? "org.freedesktop.NetworkManager.DHCP6Config"
                                                          : "org.freedesktop.NetworkManager.DHCP4Config",
                                                      "Options", NULL);
        }
        if (strncmp(line, "state ", 6) == 0) {
                f->state = (uint32_t) strtoul(arg, NULL, 10);
                return sd_bus_emit_properties_changed(f->bus, DEVICE_PATH, "org.freedesktop.NetworkManager.Device",
                                                      "State", "Dhcp4Config", "Dhcp6Config", NULL);
        }
        if (strncmp(line, "slow ", 5) == 0) {
                f->slow_ms = (unsigned) strtoul(arg, NULL, 10);
                return 0;
        }
        if (strcmp(line, "remove") == 0 || strcmp(line, "add") == 0) {
                f->listed = line[0] == 'a';
                int r = sd_bus_emit_properties_changed(f->bus, NM_PATH, "org.freedesktop.NetworkManager",
                                                       "Devices", NULL);
                if (r >= 0)
                        r = sd_bus_emit_signal(f->bus, NM_PATH, "org.freedesktop.NetworkManager",
                                               f->listed ? "DeviceAdded" : "DeviceRemoved", "o", DEVICE_PATH);
                return r;
        }
        return -EINVAL;
}

/* One command per wakeup: the test sends the next only after "done". */
static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Fake *f = userdata;
        char line[512];

        if (!fgets(line, sizeof line, stdin))
                return sd_event_exit(sd_event_source_get_event(s), 0);
        line[strcspn(line, "\n")] = 0;
        int r = command(f, line);
        printf("%s %s\n", r < 0 ? "failed" : "done", line);
        fflush(stdout);
        return 0;
}

static int export(Fake *f) {
        int r = sd_bus_add_object_vtable(f->bus, NULL, NM_PATH, "org.freedesktop.NetworkManager", manager_vtable, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, NULL, DEVICE_PATH, "org.freedesktop.NetworkManager.Device",
                                             device_vtable, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, NULL, DHCP4_PATH, "org.freedesktop.NetworkManager.DHCP4Config",
                                             dhcp_vtable, f);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, NULL, DHCP6_PATH, "org.freedesktop.NetworkManager.DHCP6Config",
                                             dhcp_vtable, f);
        return r;
}

int main(int argc, char **argv) {
        Fake f = { .state = 100, .listed = true };
        sd_event *event = NULL;
        int r;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: fake-nm IFNAME [NTP4_SERVERS]\n");
                return 2;
        }
        f.ifname = argv[1];
        snprintf(f.ntp[0], sizeof f.ntp[0], "%s", argc > 2 ? argv[2] : "");
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&f.bus);
        if (r >= 0)
                r = export(&f);
        if (r >= 0)
                r = sd_bus_request_name(f.bus, "org.freedesktop.NetworkManager", 0);
        if (r >= 0)
                r = sd_bus_attach_event(f.bus, event, 0);
        if (r >= 0)
                r = sd_event_add_io(event, NULL, 0, EPOLLIN, on_stdin, &f);
        if (r >= 0) {
                printf("ready\n");
                fflush(stdout);
                r = sd_event_loop(event);
        }
        if (r < 0)
                fprintf(stderr, "fake-nm: %s\n", strerror(-r));
        sd_bus_flush_close_unref(f.bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
