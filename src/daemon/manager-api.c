/* The manager's face to its front ends (see manager-api.h): accessors and
 * the few operations that the D-Bus API performs. */
#include <assert.h>

#include "daemon/manager-api.h"
#include "daemon/manager-sources.h"
#include "daemon/manager-status.h"
#include "daemon/manager.h"
#include "daemon/peer.h"

sd_event *manager_get_event(Manager *m) {
        return m->event;
}

Engine *manager_get_engine(Manager *m) {
        return m->engine;
}

const ManagerCounters *manager_get_counters(const Manager *m) {
        return &m->counters;
}

AccessList *manager_get_access(Manager *m) {
        return &m->access;
}

bool manager_controls_clock(const Manager *m) {
        return m->clock->controls;
}

const KeyTable *manager_get_keys(const Manager *m) {
        return m->config.keys;
}

bool manager_local_rtc(const Manager *m) {
        return m->local_rtc;
}

unsigned manager_source_slots(const Manager *m) {
        return m->source_slots;
}

const char *manager_source_link(Manager *m, const Source *s) {
        Peer *p = manager_find_peer_by_id(m, s->id);
        return p && p->group ? p->group->link : NULL;
}

size_t manager_link_servers(const Manager *m, const char **names, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_groups; i++)
                if (m->groups[i]->link) {
                        if (n < max)
                                names[n] = m->groups[i]->spec.host;
                        n++;
                }
        return n;
}

size_t manager_n_config_lines(const Manager *m) {
        return m->config.n_sources;
}

const SourceSpec *manager_config_line_at(const Manager *m, size_t i) {
        assert(i < m->config.n_sources);
        return &m->config.sources[i];
}

size_t manager_n_sources(const Manager *m) {
        return m->n_peers;
}

Source *manager_source_at(Manager *m, size_t i) {
        assert(i < m->n_peers);
        return m->peers[i]->source;
}

Source *manager_find_source(Manager *m, unsigned id) {
        Peer *p = manager_find_peer_by_id(m, id);
        return p ? p->source : NULL;
}

void manager_tracking(Manager *m, Tracking *ret) {
        status_tracking(m->engine, ret);
}

void manager_burst(Manager *m) {
        for (size_t i = 0; i < m->n_peers; i++)
                (void) peer_burst(m->peers[i]);
}

int manager_make_step(Manager *m) {
        int r = engine_make_step(m->engine);
        if (r < 0)
                return r;
        manager_arm_discipline_timer(m);
        return 0;
}

void manager_set_makestep(Manager *m, double threshold, int limit) {
        discipline_set_makestep(&m->engine->discipline, threshold, limit);
}

int manager_add_access_rule(Manager *m, const AccessRule *rule) {
        return access_list_add(&m->access, rule);
}
