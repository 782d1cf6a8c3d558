/* What tempusd reads of NetworkManager's D-Bus API, as pure code over
 * received messages: the NTP servers in a DHCP4Config's or DHCP6Config's
 * Options dictionary (NetworkManager's names: "ntp_servers" for DHCPv4
 * option 42, "dhcp6_ntp_servers" for DHCPv6 option 56, each a string of
 * space-separated addresses), the Device properties that say which link
 * a device is and whether it is up, and whether a PropertiesChanged
 * signal names a property of interest. No I/O: the daemon makes the
 * calls (src/daemon/manager-nm.c). */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "net/netif-links.h"

#define NM_BUS_NAME             "org.freedesktop.NetworkManager"
#define NM_PATH                 "/org/freedesktop/NetworkManager"
#define NM_INTERFACE            "org.freedesktop.NetworkManager"
#define NM_DEVICE_INTERFACE     "org.freedesktop.NetworkManager.Device"
#define NM_DHCP4_INTERFACE      "org.freedesktop.NetworkManager.DHCP4Config"
#define NM_DHCP6_INTERFACE      "org.freedesktop.NetworkManager.DHCP6Config"

/* NMDeviceState: the device is up, its IP configuration in place. */
#define NM_DEVICE_STATE_ACTIVATED 100

typedef enum NmFamily {
        NM_FAMILY_DHCP4,
        NM_FAMILY_DHCP6,
        _NM_FAMILY_MAX,
} NmFamily;

typedef struct NmDeviceProps {
        char name[IF_NAMESIZE];         /* IpInterface, else Interface */
        uint32_t state;                 /* NMDeviceState */
        char *dhcp[_NM_FAMILY_MAX];     /* the DHCP4Config and DHCP6Config paths, NULL for "/" */
} NmDeviceProps;

/* Appends to l->ntp the NTP servers of an Options dictionary (a{sv}, read
 * from m where it stands): the value of family's key, split at spaces.
 * Other keys and a value that is not a string are skipped. Returns how
 * many servers it added, -EBADMSG when m is not such a dictionary, or
 * -ENOMEM. */
int nm_dhcp_options_read(sd_bus_message *m, NmFamily family, NetifLink *l);

/* Reads a Device's properties (a{sv}, as GetAll gives them) into *ret,
 * which it clears first; unknown properties are skipped. 0, -EBADMSG or
 * -ENOMEM. */
int nm_device_props_read(sd_bus_message *m, NmDeviceProps *ret);
void nm_device_props_done(NmDeviceProps *p);

/* Whether the changed (a{sv}) or invalidated (as) properties of a
 * PropertiesChanged signal, read from m after its interface name, include
 * one of names (NULL-terminated). 1, 0 or -EBADMSG. */
int nm_properties_changed_any(sd_bus_message *m, const char *const *names);
