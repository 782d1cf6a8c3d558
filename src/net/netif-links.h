/* The NTP servers systemd-networkd knows per network link, from its link
 * state files (/run/systemd/netif/links/IFINDEX, KEY=VALUE lines):
 * NTP= lists the servers of the link (from its .network file, DHCP or
 * `timedatectl ntp-servers`), OPER_STATE= says whether the link is up.
 * Reading only; the daemon watches the folder for changes. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#define NETIF_LINKS_DIR "/run/systemd/netif/links"

typedef struct NetifLink {
        int ifindex;
        char name[IF_NAMESIZE];         /* "eth0", or "#IFINDEX" when the link has gone */
        bool up;                        /* has a carrier: OPER_STATE is not off, no-carrier or dormant */
        char **ntp;                     /* the NTP= servers, in order */
        size_t n_ntp;
} NetifLink;

/* Fills l->up and l->ntp from the text of a state file. Unknown keys are
 * skipped; a file without OPER_STATE= counts as up. 0 or -ENOMEM. */
int netif_link_parse(const char *text, NetifLink *l);
void netif_link_done(NetifLink *l);

/* Reads every state file in dir (files named by an interface index), in
 * order of index. A missing dir is no links. 0 or a negative errno. */
int netif_links_read(const char *dir, NetifLink **ret, size_t *ret_n);
void netif_links_free(NetifLink *links, size_t n);
