/* Link sources where NetworkManager runs (LinkServers=): the manager
 * follows org.freedesktop.NetworkManager on the system bus, each device's
 * interface name and state and the NTP servers of its DHCP4Config and
 * DHCP6Config, through signals (NameOwnerChanged, PropertiesChanged,
 * DeviceAdded, DeviceRemoved) and asynchronous calls: the event loop never
 * waits for NetworkManager, and nothing polls. After each change it
 * applies the link sources (manager_links_apply()), which take these links
 * when networkd's state folder lists none. */
#pragma once

#include <stddef.h>

#include "net/netif-links.h"

typedef struct Manager Manager;
typedef struct NmWatch NmWatch;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS or the default)
 * and starts following NetworkManager, whether it runs yet or not.
 * Without a system bus, logs why and returns 0: tempusd runs on without
 * NetworkManager's servers. Call after dropping privileges. */
int manager_nm_start(Manager *m);
void manager_nm_done(Manager *m);

/* NetworkManager's devices as links: the activated ones are up and list
 * their DHCPv4 then DHCPv6 NTP servers. None while NetworkManager is not
 * on the bus. 0 or -ENOMEM; free with netif_links_free(). */
int manager_nm_links(const Manager *m, NetifLink **ret, size_t *ret_n);
