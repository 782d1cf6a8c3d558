/* Server= and Pool= lines turned into running peers (see manager-sources.h). */
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "core/engine.h"
#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "daemon/peer.h"
#include "net/resolve.h"
#include "shared/log.h"

static int source_group_resolve(SourceGroup *g);

SourceGroup *source_group_free(SourceGroup *g) {
        if (!g)
                return NULL;
        resolve_cancel(g->query);
        sd_event_source_disable_unref(g->retry_timer);
        source_spec_done(&g->spec);
        free(g);
        return NULL;
}

static size_t group_members(Manager *m, const SourceGroup *g) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_peers; i++)
                n += m->peers[i]->group == g;
        return n;
}

static bool address_in_use(Manager *m, const struct sockaddr_storage *a, socklen_t len) {
        for (size_t i = 0; i < m->n_peers; i++) {
                const Source *s = m->peers[i]->source;
                if (s->address_len == len && memcmp(&s->address, a, len) == 0)
                        return true;
        }
        return false;
}

static socklen_t sockaddr_len(const struct sockaddr_storage *a) {
        return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int add_peer(Manager *m, SourceGroup *g, const struct sockaddr_storage *a) {
        _cleanup_(peer_freep) Peer *p = NULL;
        Source *s;
        Peer **array;
        int r;

        r = engine_add_source(m->engine, &g->spec, g->spec.host, (const struct sockaddr *) a, sockaddr_len(a), &s);
        if (r < 0)
                return log_error_errno(r, "Failed to add source %s: %m", g->spec.host);
        /* Spread the first requests of several sources a little. */
        r = peer_new(m, s, g, 0.1 * (double) m->n_peers, &p);
        if (r < 0) {
                engine_remove_source(m->engine, s);
                return log_error_errno(r, "Failed to start polling %s: %m", g->spec.host);
        }
        array = realloc(m->peers, (m->n_peers + 1) * sizeof(Peer *));
        if (!array) {
                engine_remove_source(m->engine, s);
                return log_oom();
        }
        m->peers = array;
        m->peers[m->n_peers++] = TAKE_PTR(p);
        log_info("Added source %s (%s).", g->spec.host, s->address_string);
        return 0;
}

static int on_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        SourceGroup *g = userdata;
        g->retry_timer = sd_event_source_disable_unref(g->retry_timer);
        (void) source_group_resolve(g);
        return 0;
}

static void schedule_retry(SourceGroup *g) {
        if (g->retry_timer)
                return;
        int r = sd_event_add_time_relative(g->manager->event, &g->retry_timer, CLOCK_MONOTONIC,
                                           SOURCE_GROUP_RETRY_SECONDS * USEC_PER_SEC, USEC_PER_SEC,
                                           on_retry, g);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule resolving %s again: %m", g->spec.host);
}

static void on_resolved(int error, const struct sockaddr_storage *addrs, size_t n, void *userdata) {
        SourceGroup *g = userdata;
        Manager *m = g->manager;
        size_t want = g->spec.kind == SOURCE_KIND_POOL ? g->spec.maxsources : 1;

        g->query = NULL;
        if (error != 0 || n == 0) {
                log_warning("Failed to resolve %s: %s; retrying in %d s.", g->spec.host,
                            error != 0 ? strerror(abs(error)) : "no address", SOURCE_GROUP_RETRY_SECONDS);
                schedule_retry(g);
                return;
        }
        for (size_t i = 0; i < n && group_members(m, g) < want; i++)
                if (!address_in_use(m, &addrs[i], sockaddr_len(&addrs[i])))
                        (void) add_peer(m, g, &addrs[i]);
        manager_schedule_status(m);
}

static int source_group_resolve(SourceGroup *g) {
        if (g->query)
                return 0;
        int r = resolve_start(g->manager->event, g->spec.host, g->spec.port, on_resolved, g, &g->query);
        if (r < 0) {
                log_warning_errno(r, "Failed to start resolving %s: %m", g->spec.host);
                schedule_retry(g);
        }
        return r;
}

int manager_add_source_spec(Manager *m, const SourceSpec *spec) {
        _cleanup_(source_group_freep) SourceGroup *g = calloc(1, sizeof(SourceGroup));
        SourceGroup **array;
        int r;

        if (!g)
                return log_oom();
        g->manager = m;
        r = source_spec_copy(&g->spec, spec);
        if (r < 0)
                return log_oom();
        array = realloc(m->groups, (m->n_groups + 1) * sizeof(SourceGroup *));
        if (!array)
                return log_oom();
        m->groups = array;
        m->groups[m->n_groups++] = g;
        /* May complete at once (numeric address), so g must be stored first. */
        (void) source_group_resolve(TAKE_PTR(g));
        return 0;
}

int manager_add_configured_sources(Manager *m) {
        for (size_t i = 0; i < m->config.n_sources; i++) {
                int r = manager_add_source_spec(m, &m->config.sources[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void remove_peer_at(Manager *m, size_t i) {
        Peer *p = m->peers[i];
        Source *s = p->source;

        memmove(m->peers + i, m->peers + i + 1, (m->n_peers - i - 1) * sizeof(Peer *));
        m->n_peers--;
        if (m->last_selected == s)
                m->last_selected = NULL;
        bus_context_source_removed(m->bus, s);
        peer_free(p);
        engine_remove_source(m->engine, s);
}

void manager_remove_all_sources(Manager *m) {
        while (m->n_peers > 0)
                remove_peer_at(m, m->n_peers - 1);
        for (size_t i = 0; i < m->n_groups; i++)
                source_group_free(m->groups[i]);
        m->groups = mfree(m->groups);
        m->n_groups = 0;
}

static void remove_group_at(Manager *m, size_t k) {
        SourceGroup *g = m->groups[k];

        for (size_t i = m->n_peers; i > 0; i--)
                if (m->peers[i - 1]->group == g)
                        remove_peer_at(m, i - 1);
        memmove(m->groups + k, m->groups + k + 1, (m->n_groups - k - 1) * sizeof(SourceGroup *));
        m->n_groups--;
        source_group_free(g);
}

int manager_remove_source_by_name(Manager *m, const char *name) {
        /* A configured name removes its whole line; an address removes
         * just that source. */
        for (size_t k = 0; k < m->n_groups; k++)
                if (streq(m->groups[k]->spec.host, name)) {
                        remove_group_at(m, k);
                        return 0;
                }
        for (size_t i = 0; i < m->n_peers; i++)
                if (streq(m->peers[i]->source->address_string, name)) {
                        remove_peer_at(m, i);
                        return 0;
                }
        return -ENOENT;
}

void manager_check_pools(Manager *m) {
        for (size_t i = m->n_peers; i > 0; i--) {
                Peer *p = m->peers[i - 1];
                if (p->group && p->group->spec.kind == SOURCE_KIND_POOL &&
                    p->source->polls_unreachable >= SOURCE_GROUP_REPLACE_POLLS) {
                        log_info("Replacing unreachable pool member %s.", p->source->address_string);
                        remove_peer_at(m, i - 1);
                }
        }
        for (size_t k = 0; k < m->n_groups; k++) {
                SourceGroup *g = m->groups[k];
                if (g->spec.kind == SOURCE_KIND_POOL && group_members(m, g) < g->spec.maxsources)
                        (void) source_group_resolve(g);
        }
}
