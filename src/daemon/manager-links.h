/* Sources from the NTP servers systemd-networkd knows per link
 * (LinkServers=, see src/net/netif-links.h): the manager watches
 * networkd's link state folder with inotify and, after each change, makes
 * the link sources what the files say. No polling. */
#pragma once

#include <stdbool.h>

typedef struct Manager Manager;

/* Watches the folder ($TEMPUS_NETIF_LINKS, else /run/systemd/netif/links,
 * or its parent until networkd creates it) and applies what it holds.
 * Without a folder to watch, logs why and returns 0: tempusd runs on
 * without link servers. */
int manager_links_start(Manager *m);
/* Adds and removes link sources to match the state files, or removes them
 * all when LinkServers=no. renew: remove them all first (a reload changed
 * LinkServerOptions=). Called on every change and after a reload. */
void manager_links_apply(Manager *m, bool renew);
void manager_links_done(Manager *m);
