/* Link sources: the NTP servers of network links, networkd's or NetworkManager's
 * (see manager-links.h). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "daemon/manager-links.h"
#include "daemon/manager-nm.h"
#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "net/netif-links.h"
#include "shared/hashmap.h"
#include "shared/log.h"

static int watch(Manager *m);

static const char *links_dir(const Manager *m) {
        return m->netif_dir ?: NETIF_LINKS_DIR;
}

/* host, with LinkServerOptions=, as a Server= line would give it. */
static int link_spec(const Manager *m, const char *host, SourceSpec *ret, const char **reason) {
        _cleanup_free_ char *line = NULL;

        if (asprintf(&line, "%s %s", host, m->config.link_server_options ?: "") < 0)
                return -ENOMEM;
        return source_spec_parse(SOURCE_KIND_SERVER, line, ret, reason);
}

static void add_link_server(Manager *m, const char *link, const char *host) {
        _cleanup_(source_spec_done) SourceSpec spec = {};
        const char *reason = NULL;
        int r;

        if (hashmap_get(m->groups_by_host, host))
                return;         /* a source already, from a line */
        r = link_spec(m, host, &spec, &reason);
        if (r < 0) {
                log_warning("Ignoring NTP server \"%s\" of link %s: %s.", host, link,
                            reason ?: "not a host name or address");
                return;
        }
        r = manager_add_source_spec(m, &spec);
        SourceGroup *g = r >= 0 ? hashmap_get(m->groups_by_host, host) : NULL;
        if (g && !(g->link = strdup(link))) {
                (void) manager_remove_source_by_name(m, host);
                r = -ENOMEM;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to add NTP server %s of link %s: %m", host, link);
        else
                log_info("Added NTP server %s of link %s.", host, link);
}

/* The links and their servers: networkd's, from its state folder; where
 * that lists no link (networkd does not run), NetworkManager's. */
static int read_links(Manager *m, NetifLink **ret, size_t *ret_n) {
        int r = netif_links_read(links_dir(m), ret, ret_n);

        if (r < 0)
                return log_warning_errno(r, "Failed to read %s, keeping the link servers: %m", links_dir(m));
        if (*ret_n > 0)
                return 0;
        free(*ret);
        r = manager_nm_links(m, ret, ret_n);
        if (r < 0)
                return log_warning_errno(r, "Failed to list NetworkManager's links, keeping the link servers: %m");
        return 0;
}

/* The sources learned from links, as the diff sees them. */
static int link_sources(const Manager *m, LinkServer **ret, size_t *ret_n) {
        LinkServer *have = calloc(m->n_groups ?: 1, sizeof *have);
        size_t n = 0;

        if (!have)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_groups; i++)
                if (m->groups[i]->link)
                        have[n++] = (LinkServer) { .link = m->groups[i]->link, .host = m->groups[i]->spec.host };
        *ret = have;
        *ret_n = n;
        return 0;
}

static void apply_diff(Manager *m, const LinkServer *have, const LinkServerDiff *d) {
        for (size_t i = 0; i < d->n_remove; i++) {
                const LinkServer *s = &have[d->remove[i]];
                log_info("Removing NTP server %s of link %s.", s->host, s->link);
                /* Frees s->host and s->link, and no other source's. */
                (void) manager_remove_source_by_name(m, s->host);
        }
        for (size_t i = 0; i < d->n_add; i++)
                add_link_server(m, d->add[i].link, d->add[i].host);
}

void manager_links_apply(Manager *m, bool renew) {
        _cleanup_free_ LinkServer *have = NULL;
        LinkServerDiff diff = {};
        NetifLink *links = NULL;
        size_t n = 0, n_have = 0;
        int r;

        if (m->config.link_servers && read_links(m, &links, &n) < 0)
                return;
        r = link_sources(m, &have, &n_have);
        if (r >= 0)
                r = link_server_diff(have, n_have, links, n, renew, &diff);
        if (r < 0)
                log_oom();
        else
                apply_diff(m, have, &diff);
        link_server_diff_done(&diff);
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
        manager_nm_done(m);
        m->netif_watch = sd_event_source_disable_unref(m->netif_watch);
        m->netif_dir = mfree(m->netif_dir);
}
