/* Server= and Pool= lines turned into running peers (see manager-sources.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
#include "core/engine.h"
#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "daemon/peer.h"
#include "net/resolve.h"
#include "shared/alloc-util.h"
#include "shared/hashmap.h"
#include "shared/log.h"
#include "shared/sockaddr-util.h"

/* Timer slack of re-resolving after a back-off, and after a failure. */
#define BACKOFF_ACCURACY_USEC (10 * 1000)
#define RETRY_ACCURACY_USEC USEC_PER_SEC

static int source_group_resolve(SourceGroup *g);

SourceGroup *source_group_free(SourceGroup *g) {
        if (!g)
                return NULL;
        resolve_cancel(g->query);
        sd_event_source_disable_unref(g->retry_timer);
        source_spec_done(&g->spec);
        free(g->link);
        free(g->dropped);
        free(g);
        return NULL;
}

unsigned source_spec_slots(const SourceSpec *spec) {
        return spec->kind == SOURCE_KIND_POOL ? spec->maxsources : 1;
}

bool peer_should_be_replaced(const Peer *p) {
        return p->group && p->group->spec.kind == SOURCE_KIND_POOL &&
               p->source->polls_unreachable >= SOURCE_GROUP_REPLACE_POLLS;
}

int manager_sources_init(Manager *m) {
        m->groups_by_host = hashmap_new(&string_hash_ops);
        m->peers_by_address = hashmap_new(&sockaddr_hash_ops);
        return m->groups_by_host && m->peers_by_address ? 0 : -ENOMEM;
}

static usec_t manager_now(Manager *m) {
        uint64_t now = 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        return now;
}

/* ---- peers ---------------------------------------------------------------- */

Peer *manager_find_peer_by_id(Manager *m, unsigned id) {
        size_t i = LOWER_BOUND(m->peers, m->n_peers, ->source->id, id);
        return i < m->n_peers && m->peers[i]->source->id == id ? m->peers[i] : NULL;
}

Peer *manager_find_symmetric_peer(Manager *m, const struct sockaddr *a) {
        struct sockaddr_storage key = {};
        socklen_t len = sockaddr_len(a);

        if (len == 0 || len > sizeof key)
                return NULL;
        memcpy(&key, a, len);
        Peer *p = hashmap_get(m->peers_by_address, &key);
        return p && source_is_peer(p->source) ? p : NULL;
}

static bool address_in_use(Manager *m, const struct sockaddr_storage *a) {
        return hashmap_get(m->peers_by_address, a) != NULL;
}

static int add_peer(Manager *m, SourceGroup *g, const struct sockaddr_storage *a) {
        const struct sockaddr *sa = (const struct sockaddr *) a;
        _cleanup_(peer_freep) Peer *p = NULL;
        Source *s;
        int r;

        if (GREEDY_REALLOC(m->peers, m->n_peers_allocated, m->n_peers + 1) < 0)
                return log_oom();
        r = engine_add_source(m->engine, &g->spec, g->spec.host, sa, sockaddr_len(sa), &s);
        if (r < 0)
                return log_error_errno(r, "Failed to add source %s: %m", g->spec.host);
        /* Ids only grow, so appending keeps m->peers in id order. */
        assert(m->n_peers == 0 || m->peers[m->n_peers - 1]->source->id < s->id);
        /* Spread the first requests of several sources a little. */
        r = peer_new(m, s, g, 0.1 * (double) (m->n_peers % 64), &p);
        if (r >= 0)
                r = hashmap_put(m->peers_by_address, &s->address, p);
        if (r < 0) {
                peer_free(TAKE_PTR(p));
                engine_remove_source(m->engine, s);
                return log_error_errno(r, "Failed to start polling %s: %m", g->spec.host);
        }
        m->peers[m->n_peers++] = TAKE_PTR(p);
        g->n_members++;
        log_info("Added source %s (%s).", g->spec.host, s->address_string);
        return 0;
}

static void remove_peer_at(Manager *m, size_t i) {
        Peer *p = m->peers[i];
        Source *s = p->source;

        /* While the source can still be found: sd-bus lists the object's
         * interfaces in InterfacesRemoved by looking it up. */
        if (m->listener.source_removed)
                m->listener.source_removed(m->listener.userdata, s);
        _unused_ Peer *indexed = hashmap_remove(m->peers_by_address, &s->address);
        assert(indexed == p);
        memmove(m->peers + i, m->peers + i + 1, (m->n_peers - i - 1) * sizeof(Peer *));
        m->n_peers--;
        if (p->group)
                p->group->n_members--;
        if (m->last_selected == s)
                m->last_selected = NULL;
        peer_free(p);
        engine_remove_source(m->engine, s);
}

/* ---- back-off of dropped pool members -------------------------------------- */

static DroppedAddress *dropped_find(SourceGroup *g, const struct sockaddr *a) {
        for (size_t i = 0; i < g->n_dropped; i++)
                if (sockaddr_equal((const struct sockaddr *) &g->dropped[i].address, a))
                        return &g->dropped[i];
        return NULL;
}

/* A slot for a newly dropped address: a free one, else the one whose
 * back-off ends first. */
static DroppedAddress *dropped_new(SourceGroup *g) {
        if (g->n_dropped < SOURCE_GROUP_MAX_DROPPED &&
            GREEDY_REALLOC(g->dropped, g->n_dropped_allocated, g->n_dropped + 1) >= 0) {
                g->dropped[g->n_dropped] = (DroppedAddress) {};
                return &g->dropped[g->n_dropped++];
        }
        if (g->n_dropped == 0)
                return NULL;
        DroppedAddress *oldest = &g->dropped[0];
        for (size_t i = 1; i < g->n_dropped; i++)
                if (g->dropped[i].until < oldest->until)
                        oldest = &g->dropped[i];
        *oldest = (DroppedAddress) {};
        return oldest;
}

/* Remembers a replaced member's address; returns its back-off, 0 if it
 * could not be remembered. */
static usec_t group_remember_dropped(SourceGroup *g, const Source *s, usec_t now) {
        const struct sockaddr *a = (const struct sockaddr *) &s->address;
        const usec_t max = SOURCE_GROUP_BACKOFF_MAX_SECONDS * USEC_PER_SEC;
        DroppedAddress *d = dropped_find(g, a);
        usec_t backoff;

        if (d)
                backoff = MIN(2 * d->backoff, max);
        else {
                d = dropped_new(g);
                if (!d)
                        return 0;
                memcpy(&d->address, a, sockaddr_len(a));
                backoff = MIN((usec_t) (SOURCE_GROUP_REPLACE_POLLS * source_poll_interval(s) * USEC_PER_SEC), max);
        }
        d->backoff = MAX(backoff, (usec_t) 1);
        d->until = now + d->backoff;
        return d->backoff;
}

/* Whether a is backing off; if so, *until is when it ends. */
static bool group_backing_off(SourceGroup *g, const struct sockaddr *a, usec_t now, usec_t *until) {
        const DroppedAddress *d = dropped_find(g, a);

        if (!d || d->until <= now)
                return false;
        *until = d->until;
        return true;
}

/* ---- resolving ------------------------------------------------------------- */

static int on_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        SourceGroup *g = userdata;
        g->retry_timer = sd_event_source_disable_unref(g->retry_timer);
        (void) source_group_resolve(g);
        return 0;
}

/* Resolves the name again at CLOCK_MONOTONIC time `at`, or earlier if that
 * is already planned. */
static void schedule_resolve(SourceGroup *g, usec_t at, usec_t accuracy) {
        uint64_t planned;
        int r;

        if (g->retry_timer && sd_event_source_get_time(g->retry_timer, &planned) >= 0 && planned <= at)
                return;
        g->retry_timer = sd_event_source_disable_unref(g->retry_timer);
        r = sd_event_add_time(g->manager->event, &g->retry_timer, CLOCK_MONOTONIC, at, accuracy, on_retry, g);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule resolving %s again: %m", g->spec.host);
}

static void schedule_retry(SourceGroup *g) {
        usec_t at = manager_now(g->manager) + SOURCE_GROUP_RETRY_SECONDS * USEC_PER_SEC;
        schedule_resolve(g, at, RETRY_ACCURACY_USEC);
}

static void add_resolved(SourceGroup *g, const ResolveResult *result) {
        Manager *m = g->manager;
        size_t want = source_spec_slots(&g->spec);
        usec_t now = manager_now(m), retry = 0;

        for (size_t i = 0; i < result->n && g->n_members < want; i++) {
                const struct sockaddr_storage *a = &result->addrs[i];
                char text[64];
                usec_t until;

                if (address_in_use(m, a))
                        continue;
                if (group_backing_off(g, (const struct sockaddr *) a, now, &until)) {
                        log_debug("Not adding %s of %s yet: replaced as unreachable, back-off ends in %.1f s.",
                                  sockaddr_format((const struct sockaddr *) a, text, sizeof text), g->spec.host,
                                  (double) (until - now) / USEC_PER_SEC);
                        retry = retry ? MIN(retry, until) : until;
                        continue;
                }
                (void) add_peer(m, g, a);
        }
        /* Still short only because of back-offs: look again when the first
         * one ends. */
        if (g->n_members < want && retry)
                schedule_resolve(g, retry, BACKOFF_ACCURACY_USEC);
}

static void on_resolved(const ResolveResult *result, void *userdata) {
        SourceGroup *g = userdata;

        g->query = NULL;
        if (result->error != 0) {
                log_warning("Failed to resolve %s: %s; retrying in %d s.", g->spec.host, result->message,
                            SOURCE_GROUP_RETRY_SECONDS);
                schedule_retry(g);
                return;
        }
        add_resolved(g, result);
        manager_schedule_status(g->manager);
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

/* ---- lines ----------------------------------------------------------------- */

int manager_add_source_spec(Manager *m, const SourceSpec *spec) {
        _cleanup_(source_group_freep) SourceGroup *g = NULL;
        unsigned slots = source_spec_slots(spec);

        if (hashmap_get(m->groups_by_host, spec->host))
                return -EEXIST;
        if (spec->key != 0 && !key_table_find(m->config.keys, spec->key))
                return -ENOKEY;
        if (slots > MANAGER_MAX_SOURCES - m->source_slots)
                return -ENOSPC;
        g = calloc(1, sizeof(SourceGroup));
        if (!g)
                return -ENOMEM;
        g->manager = m;
        if (source_spec_copy(&g->spec, spec) < 0 ||
            GREEDY_REALLOC(m->groups, m->n_groups_allocated, m->n_groups + 1) < 0 ||
            hashmap_put(m->groups_by_host, g->spec.host, g) < 0)
                return -ENOMEM;
        m->groups[m->n_groups++] = g;
        m->source_slots += slots;
        /* May complete at once (numeric address), so g must be stored first. */
        (void) source_group_resolve(TAKE_PTR(g));
        return 0;
}

void manager_add_configured_source(Manager *m, const SourceSpec *spec) {
        const char *key = spec->kind == SOURCE_KIND_POOL ? "Pool" : spec->kind == SOURCE_KIND_PEER ? "Peer" : "Server";
        int r = manager_add_source_spec(m, spec);

        if (r == -EEXIST)
                log_warning("Ignoring %s=%s: a line for that host comes earlier.", key, spec->host);
        else if (r == -ENOSPC)
                log_error("Ignoring %s=%s: it would take tempusd beyond its limit of %u sources (a pool counts as "
                          "its maxsources, %u used).", key, spec->host, MANAGER_MAX_SOURCES, m->source_slots);
        else if (r < 0)
                log_error_errno(r, "Failed to add %s=%s: %m", key, spec->host);
}

void manager_add_configured_sources(Manager *m) {
        for (size_t i = 0; i < m->config.n_sources; i++)
                manager_add_configured_source(m, &m->config.sources[i]);
}

static void remove_group_at(Manager *m, size_t k) {
        SourceGroup *g = m->groups[k];

        for (size_t i = m->n_peers; i > 0 && g->n_members > 0; i--)
                if (m->peers[i - 1]->group == g)
                        remove_peer_at(m, i - 1);
        _unused_ SourceGroup *indexed = hashmap_remove(m->groups_by_host, g->spec.host);
        assert(indexed == g);
        m->source_slots -= source_spec_slots(&g->spec);
        memmove(m->groups + k, m->groups + k + 1, (m->n_groups - k - 1) * sizeof(SourceGroup *));
        m->n_groups--;
        source_group_free(g);
}

void manager_sources_done(Manager *m) {
        while (m->n_groups > 0)
                remove_group_at(m, m->n_groups - 1);
        while (m->n_peers > 0)
                remove_peer_at(m, m->n_peers - 1);
        m->groups = mfree(m->groups);
        m->peers = mfree(m->peers);
        m->n_groups_allocated = m->n_peers_allocated = 0;
        m->groups_by_host = hashmap_free(m->groups_by_host);
        strv_free_array(m->runtime_servers, m->n_runtime_servers);
        m->runtime_servers = NULL;
        m->n_runtime_servers = 0;
        m->peers_by_address = hashmap_free(m->peers_by_address);
        m->pool_check = sd_event_source_disable_unref(m->pool_check);
}

int manager_remove_source_by_name(Manager *m, const char *name) {
        /* A configured name removes its whole line; an address removes
         * just that source. */
        SourceGroup *g = hashmap_get(m->groups_by_host, name);
        if (g)
                for (size_t k = 0; k < m->n_groups; k++)
                        if (m->groups[k] == g) {
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

/* ---- runtime servers ------------------------------------------------------- */

static bool specs_have_host(const SourceSpec *specs, size_t n, const char *host) {
        for (size_t i = 0; i < n; i++)
                if (streq(specs[i].host, host))
                        return true;
        return false;
}

/* How many slots the lines would take once the runtime servers are specs. */
static unsigned slots_after(const Manager *m, const SourceSpec *specs, size_t n) {
        unsigned slots = m->source_slots;

        for (size_t k = 0; k < m->n_groups; k++)
                if (m->groups[k]->runtime && !specs_have_host(specs, n, m->groups[k]->spec.host))
                        slots -= source_spec_slots(&m->groups[k]->spec);
        for (size_t i = 0; i < n; i++)
                if (!hashmap_get(m->groups_by_host, specs[i].host))
                        slots += source_spec_slots(&specs[i]);
        return slots;
}

static int save_runtime_names(Manager *m, const SourceSpec *specs, size_t n) {
        char **names = calloc(n + 1, sizeof(char *));

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(names[i] = strdup(specs[i].host))) {
                        strv_free_array(names, i);
                        return -ENOMEM;
                }
        strv_free_array(m->runtime_servers, m->n_runtime_servers);
        m->runtime_servers = names;
        m->n_runtime_servers = n;
        return 0;
}

int manager_set_runtime_servers(Manager *m, const SourceSpec *specs, size_t n) {
        int r;

        if (slots_after(m, specs, n) > MANAGER_MAX_SOURCES)
                return -ENOSPC;
        r = save_runtime_names(m, specs, n);
        if (r < 0)
                return r;
        for (size_t k = m->n_groups; k > 0; k--)
                if (m->groups[k - 1]->runtime && !specs_have_host(specs, n, m->groups[k - 1]->spec.host))
                        remove_group_at(m, k - 1);
        for (size_t i = 0; i < n; i++) {
                if (hashmap_get(m->groups_by_host, specs[i].host))
                        continue;       /* a line for it exists: it is a source already */
                r = manager_add_source_spec(m, &specs[i]);
                if (r < 0)
                        return r;
                SourceGroup *g = hashmap_get(m->groups_by_host, specs[i].host);
                if (g)
                        g->runtime = true;
        }
        return 0;
}

size_t manager_n_runtime_servers(const Manager *m) {
        return m->n_runtime_servers;
}

const char *manager_runtime_server_at(const Manager *m, size_t i) {
        assert(i < m->n_runtime_servers);
        return m->runtime_servers[i];
}

/* ---- replacing pool members ------------------------------------------------ */

void manager_check_pools(Manager *m) {
        usec_t now = manager_now(m);

        for (size_t i = m->n_peers; i > 0; i--) {
                Peer *p = m->peers[i - 1];
                if (!peer_should_be_replaced(p))
                        continue;
                usec_t backoff = group_remember_dropped(p->group, p->source, now);
                log_info("Replacing unreachable pool member %s of %s; not using it again for %g s.",
                         p->source->address_string, p->group->spec.host, (double) backoff / USEC_PER_SEC);
                remove_peer_at(m, i - 1);
        }
        for (size_t k = 0; k < m->n_groups; k++) {
                SourceGroup *g = m->groups[k];
                if (g->spec.kind == SOURCE_KIND_POOL && g->n_members < g->spec.maxsources)
                        (void) source_group_resolve(g);
        }
}

static int on_pool_check(sd_event_source *es, void *userdata) {
        manager_check_pools(userdata);
        return 0;
}

void manager_schedule_pool_check(Manager *m) {
        int r;

        if (m->pool_check)
                r = sd_event_source_set_enabled(m->pool_check, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_defer(m->event, &m->pool_check, on_pool_check, m);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule replacing unreachable pool members: %m");
}
