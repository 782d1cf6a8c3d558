/* Link sources: networkd's NTP servers per link (see manager-links.h). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "daemon/manager-links.h"
#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "net/netif-links.h"
#include "shared/hashmap.h"
#include "shared/log.h"

static int watch(Manager *m);

static const char *links_dir(const Manager *m) {
        return m->netif_dir ?: NETIF_LINKS_DIR;
}

/* Whether a server on a link is still wanted: the link is up and lists it. */
static bool links_want(const NetifLink *links, size_t n, const char *link, const char *host) {
        for (size_t i = 0; i < n; i++) {
                if (!links[i].up || !streq(links[i].name, link))
                        continue;
                for (size_t k = 0; k < links[i].n_ntp; k++)
                        if (streq(links[i].ntp[k], host))
                                return true;
        }
        return false;
}

static void remove_unwanted(Manager *m, const NetifLink *links, size_t n, bool renew) {
        for (size_t k = m->n_groups; k > 0; k--) {
                SourceGroup *g = m->groups[k - 1];
                if (!g->link || (!renew && links_want(links, n, g->link, g->spec.host)))
                        continue;
                log_info("Removing NTP server %s of link %s.", g->spec.host, g->link);
                (void) manager_remove_source_by_name(m, g->spec.host);
        }
}

/* host, with LinkServerOptions=, as a Server= line would give it. */
static int link_spec(const Manager *m, const char *host, SourceSpec *ret, const char **reason) {
        _cleanup_free_ char *line = NULL;

        if (asprintf(&line, "%s %s", host, m->config.link_server_options ?: "") < 0)
                return -ENOMEM;
        return source_spec_parse(SOURCE_KIND_SERVER, line, ret, reason);
}

static void add_link_server(Manager *m, const NetifLink *l, const char *host) {
        _cleanup_(source_spec_done) SourceSpec spec = {};
        const char *reason = NULL;
        int r;

        if (hashmap_get(m->groups_by_host, host))
                return;         /* a source already, from this link, another or a line */
        r = link_spec(m, host, &spec, &reason);
        if (r < 0) {
                log_warning("Ignoring NTP server \"%s\" of link %s: %s.", host, l->name,
                            reason ?: "not a host name or address");
                return;
        }
        r = manager_add_source_spec(m, &spec);
        SourceGroup *g = r >= 0 ? hashmap_get(m->groups_by_host, host) : NULL;
        if (g && !(g->link = strdup(l->name))) {
                (void) manager_remove_source_by_name(m, host);
                r = -ENOMEM;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to add NTP server %s of link %s: %m", host, l->name);
        else
                log_info("Added NTP server %s of link %s.", host, l->name);
}

void manager_links_apply(Manager *m, bool renew) {
        NetifLink *links = NULL;
        size_t n = 0;

        if (m->config.link_servers) {
                int r = netif_links_read(links_dir(m), &links, &n);
                if (r < 0)
                        log_warning_errno(r, "Failed to read %s, keeping the link servers: %m", links_dir(m));
                if (r < 0)
                        return;
        }
        remove_unwanted(m, links, n, renew);
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; links[i].up && k < links[i].n_ntp; k++)
                        add_link_server(m, &links[i], links[i].ntp[k]);
        netif_links_free(links, n);
        manager_schedule_status(m);
}

static int on_links_changed(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;

        /* The folder itself came or went: watch anew (networkd starts
         * after us, or its runtime folder was removed). */
        if (m->netif_watching_parent || (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
                (void) watch(m);
        manager_links_apply(m, false);
        return 0;
}

static int watch(Manager *m) {
        _cleanup_free_ char *parent = strdup(links_dir(m));
        int r;

        if (!parent)
                return log_oom();
        m->netif_watch = sd_event_source_disable_unref(m->netif_watch);
        m->netif_watching_parent = false;
        r = sd_event_add_inotify(m->event, &m->netif_watch, links_dir(m),
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                                 IN_MOVE_SELF | IN_ONLYDIR, on_links_changed, m);
        if (r != -ENOENT)
                return r;
        /* Not there yet: wait for it in its parent. */
        m->netif_watching_parent = true;
        return sd_event_add_inotify(m->event, &m->netif_watch, dirname(parent),
                                    IN_CREATE | IN_MOVED_TO | IN_ONLYDIR, on_links_changed, m);
}

int manager_links_start(Manager *m) {
        const char *dir = getenv("TEMPUS_NETIF_LINKS");
        int r;

        if (dir && !(m->netif_dir = strdup(dir)))
                return log_oom();
        r = watch(m);
        if (r < 0)
                log_notice_errno(r, "Not following the NTP servers of network links: failed to watch %s: %m",
                                 links_dir(m));
        else
                manager_links_apply(m, false);
        return 0;
}

void manager_links_done(Manager *m) {
        m->netif_watch = sd_event_source_disable_unref(m->netif_watch);
        m->netif_dir = mfree(m->netif_dir);
}
