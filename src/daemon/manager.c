/* The Manager: lifecycle, signals, reload, drift file and housekeeping
 * (see manager.h). Status reporting lives in manager-status.c, sources in
 * manager-sources.c, serving in responder.c. */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon/nts-ke-client.h"
#include "daemon/nts-server.h"
#include "daemon/driftfile.h"
#include "daemon/logfile.h"
#include "daemon/manager-links.h"
#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "daemon/peer.h"
#include "daemon/responder.h"
#include "daemon/hwclock.h"
#include "server/ratelimit.h"
#include "shared/file-util.h"
#include "shared/log.h"

/* Housekeeping period, and how often (in periods) the drift file is saved. */
#define HOUSEKEEPING_USEC (60 * USEC_PER_SEC)
#define DRIFT_SAVE_PERIODS 60
#define RATELIMIT_MAX_CLIENTS 4096

static void engine_changed(Engine *e, void *userdata) {
        manager_schedule_status(userdata);
}

/* The drift file, read once at the start, seeds the discipline. */
static void load_drift(const Config *c, DisciplineParams *p) {
        double freq, skew;

        if (!c->drift_file)
                return;
        int r = driftfile_read(c->drift_file, &freq, &skew);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning_errno(r, "Ignoring drift file %s: %m", c->drift_file);
                return;
        }
        /* The file holds the clock's own error (chrony's sign); the
         * discipline works with the correction, its opposite. */
        p->use_initial_frequency = true;
        p->initial_frequency_ppm = -freq;
        p->initial_skew_ppm = skew;
        log_info("Frequency %+.3f ppm (skew %.3f ppm) read from %s.", freq, skew, c->drift_file);
}

static EngineLeapMode leap_mode_from_config(const Config *c) {
        return c->leap_slew ? ENGINE_LEAP_SLEW : ENGINE_LEAP_KERNEL;
}

static void engine_params_from_config(const Config *c, EngineParams *p) {
        engine_params_init(p);
        p->discipline.makestep_threshold = c->makestep_threshold;
        p->discipline.makestep_limit = c->makestep_limit;
        p->select.min_sources = MAX(c->min_sources, 1u);
        p->select.max_distance = c->max_distance;
        p->select.max_jitter = c->max_jitter;
        p->select.auth_mode = c->auth_select_mode;
        p->local_stratum = c->local_stratum;
        p->leap_mode = leap_mode_from_config(c);
}

/* [Clock] LeapSecTZ=: the leap second table of a "right/" zone. Without
 * a usable one, leap seconds come from the sources' leap bits alone. */
static void manager_load_leap_table(Manager *m) {
        _cleanup_(leap_table_freep) LeapTable *t = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *buf = NULL;
        size_t len;
        int r;

        engine_set_leap_table(m->engine, NULL);
        if (!m->config.leapsectz)
                return;
        if (asprintf(&path, "%s/%s", getenv("TZDIR") ?: "/usr/share/zoneinfo", m->config.leapsectz) < 0) {
                path = NULL;
                log_oom();
                return;
        }
        r = read_small_file(path, 1 << 20, &buf, &len);
        if (r >= 0)
                r = leap_table_parse_tzfile(buf, len, &t);
        if (r < 0) {
                log_warning_errno(r, "Ignoring LeapSecTZ=%s: %s: %s", m->config.leapsectz, path,
                                  r == -ENODATA ? "the zone lists no leap seconds" : "%m");
                return;
        }
        log_info("Leap seconds from %s: %zu known, TAI-UTC now %d s.", path, t->n_entries,
                 leap_table_tai_offset(t, now_realtime()));
        engine_set_leap_table(m->engine, TAKE_PTR(t));
}

static int manager_open_logs(Manager *m) {
        m->logs = logfiles_free(m->logs);
        if (!m->config.log_dir || m->config.log_flags == 0)
                return 0;
        int r = logfiles_new(m->config.log_dir, m->config.log_flags, &m->logs);
        if (r < 0)
                return log_warning_errno(r, "Failed to open log files in %s: %m", m->config.log_dir);
        return 0;
}

/* The client log, which rate limiting and interleaved mode share: sized by
 * ClientLogLimit=, at least as large as rate limiting needs. */
static int manager_setup_ratelimit(Manager *m) {
        size_t clients = (size_t) (m->config.client_log_limit / ratelimit_bytes_per_client());

        m->ratelimit = ratelimit_free(m->ratelimit);
        if (m->config.ratelimit)
                clients = MAX(clients, (size_t) RATELIMIT_MAX_CLIENTS);
        if (clients == 0)
                return 0;
        int r = ratelimit_new(m->config.ratelimit_interval, m->config.ratelimit_burst, clients, &m->ratelimit);
        if (r < 0)
                return log_error_errno(r, "Failed to set up rate limiting: %m");
        return 0;
}

/* HWTimestamp= and TXTimestamps=: what the sockets ask the kernel for. */
static int manager_setup_timestamping(Manager *m) {
        int r = hwclocks_new(m->event, m->config.hw_timestamp, &m->hwclocks);
        if (r < 0)
                return log_error_errno(r, "Failed to set up hardware timestamping: %m");
        m->timestamping = (m->config.kernel_tx_timestamps ? UDP_TIMESTAMP_TX_KERNEL : 0) |
                          (hwclocks_enabled(m->hwclocks) ? UDP_TIMESTAMP_HARDWARE : 0);
        if (!m->config.kernel_tx_timestamps)
                log_info("TXTimestamps=daemon: transmit times are read before sending.");
        return 0;
}

TimestampKind manager_receive_time(Manager *m, const UdpMessage *msg, nsec_t *ret_time) {
        if (msg->rx_stamps.hardware != 0 &&
            packet_timestamps_choose(&msg->rx_stamps, hwclocks_converter(m->hwclocks), ret_time) == TIMESTAMP_HARDWARE)
                return TIMESTAMP_HARDWARE;
        *ret_time = msg->rx_time;
        return msg->rx_kind;
}

TimestampKind manager_transmit_time(Manager *m, const PacketTimestamps *ts, nsec_t *ret_time) {
        return packet_timestamps_choose(ts, hwclocks_converter(m->hwclocks), ret_time);
}

int manager_new(const char *config_path, Config *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));
        EngineParams params;
        int r;

        assert(config && ret);
        if (!m) {
                config_done(config);
                return log_oom();
        }
        /* Ours from now on, whatever happens next. */
        m->config = *config;
        *config = (Config) {};
        if (config_path && !(m->config_path = strdup(config_path)))
                return log_oom();

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");

        r = m->config.control ? clock_new_system(&m->clock) : clock_new_none(&m->clock);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the clock: %m");

        engine_params_from_config(&m->config, &params);
        load_drift(&m->config, &params.discipline);
        r = engine_new(m->clock, &params, &m->engine);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the engine: %m");
        engine_set_change_handler(m->engine, engine_changed, m);
        manager_load_leap_table(m);
        r = manager_setup_timestamping(m);
        if (r < 0)
                return r;

        r = access_list_copy(&m->access, &m->config.access);
        if (r < 0)
                return log_oom();
        r = manager_setup_ratelimit(m);
        if (r < 0)
                return r;
        r = manager_sources_init(m);
        if (r < 0)
                return log_oom();
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_links_done(m);
        manager_sources_done(m);
        manager_set_listener(m, &(ManagerListener) {});
        responder_free(m->responder);
        hwclocks_free(m->hwclocks);
        nts_server_free(m->nts_server);
        free(m->ntske_fds);
        ratelimit_free(m->ratelimit);
        logfiles_free(m->logs);
        access_list_clear(&m->access);
        sd_event_source_disable_unref(m->discipline_timer);
        sd_event_source_disable_unref(m->housekeeping_timer);
        sd_event_source_disable_unref(m->watchdog_timer);
        sd_event_source_disable_unref(m->status_defer);
        sd_event_source_disable_unref(m->adjtime_watch);
        free(m->adjtime_path);
        sd_event_source_disable_unref(m->sigterm);
        sd_event_source_disable_unref(m->sigint);
        sd_event_source_disable_unref(m->sighup);
        engine_free(m->engine);
        clock_free(m->clock);
        if (m->nts_creds)
                gnutls_certificate_free_credentials(m->nts_creds);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m->config_path);
        free(m->last_status);
        free(m);
        return NULL;
}

/* NTSTrustedCerts= changed: the NTS-KE exchanges in progress, which
 * borrow the old credentials, end (each peer tries again at its next
 * poll, without the backoff of earlier failures), and the next exchange
 * builds new ones. */
static void manager_drop_nts_credentials(Manager *m) {
        for (size_t i = 0; i < m->n_peers; i++) {
                m->peers[i]->nts.ke = nts_ke_client_free(m->peers[i]->nts.ke);
                m->peers[i]->nts.ke_not_before = 0;     /* new trust: no backoff */
        }
        if (m->nts_creds)
                gnutls_certificate_free_credentials(m->nts_creds);
        m->nts_creds = NULL;
}

int manager_nts_credentials(Manager *m) {
        if (m->nts_creds)
                return 0;
        return nts_ke_client_credentials(m->config.nts_trusted_certs.paths, m->config.nts_trusted_certs.n,
                                         &m->nts_creds);
}

int manager_save_drift(Manager *m) {
        const Discipline *d = &m->engine->discipline;

        if (!m->config.drift_file || !d->frequency_known)
                return 0;
        int r = driftfile_write(m->config.drift_file, -d->frequency_ppm, d->skew_ppm);
        if (r < 0)
                return log_warning_errno(r, "Failed to write drift file %s: %m", m->config.drift_file);
        return 0;
}

static int on_discipline_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        manager_check_clock_step(m);
        int r = engine_on_timer(m->engine);
        if (r < 0)
                log_warning_errno(r, "Failed to adjust the clock: %m");
        manager_arm_discipline_timer(m);
        return 0;
}

void manager_arm_discipline_timer(Manager *m) {
        double delay = engine_timer_delay(m->engine);
        int r;

        if (delay < 0) {
                if (m->discipline_timer)
                        (void) sd_event_source_set_enabled(m->discipline_timer, SD_EVENT_OFF);
                return;
        }
        uint64_t usec = (uint64_t) (delay * USEC_PER_SEC) + 1;
        if (m->discipline_timer) {
                r = sd_event_source_set_time_relative(m->discipline_timer, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->discipline_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(m->event, &m->discipline_timer, CLOCK_MONOTONIC, usec, 0,
                                               on_discipline_timer, m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the slew timer: %m");
}

bool manager_parse_datagram(Manager *m, const UdpMessage *msg, NtpPacket *ret) {
        NtpDrop drop = udp_message_truncated(msg) ? NTP_DROP_TOO_LONG : ntp_packet_parse(msg->data, msg->len, ret);

        if (drop == NTP_DROP_NONE)
                return true;
        m->counters.dropped[drop]++;
        log_debug("Dropped a datagram: %s", ntp_drop_to_string(drop));
        return false;
}

void manager_check_clock_step(Manager *m) {
        if (engine_check_clock_step(m->engine) == 0)
                return;
        /* What was measured before is gone: ask every source again now. */
        manager_burst(m);
        manager_arm_discipline_timer(m);
}

static int on_housekeeping(sd_event_source *es, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        manager_check_clock_step(m);
        engine_reselect(m->engine);
        manager_check_pools(m);
        if (++m->housekeeping_runs % DRIFT_SAVE_PERIODS == 0)
                (void) manager_save_drift(m);
        (void) sd_event_source_set_time_relative(es, HOUSEKEEPING_USEC);
        return 0;
}

static int on_watchdog(sd_event_source *es, uint64_t usec, void *userdata) {
        uint64_t interval = 0;
        (void) sd_notify(false, "WATCHDOG=1");
        (void) sd_watchdog_enabled(false, &interval);
        (void) sd_event_source_set_time_relative(es, interval / 2);
        return 0;
}

static int on_terminate(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        log_info("Received %s, exiting.", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static int on_reload(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;
}

static int manager_setup_signals(Manager *m) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");
        r = sd_event_add_signal(m->event, &m->sigterm, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup, SIGHUP, on_reload, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        return 0;
}

static int manager_setup_timers(Manager *m) {
        uint64_t watchdog = 0;
        int r;

        r = sd_event_add_time_relative(m->event, &m->housekeeping_timer, CLOCK_MONOTONIC, HOUSEKEEPING_USEC,
                                       USEC_PER_SEC, on_housekeeping, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->housekeeping_timer, SD_EVENT_ON);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the housekeeping timer: %m");
        if (sd_watchdog_enabled(false, &watchdog) > 0) {
                r = sd_event_add_time_relative(m->event, &m->watchdog_timer, CLOCK_MONOTONIC, watchdog / 2, 0,
                                               on_watchdog, m);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->watchdog_timer, SD_EVENT_ON);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the watchdog timer: %m");
        }
        return 0;
}

int manager_start(Manager *m) {
        int r;

        r = manager_setup_signals(m);
        if (r < 0)
                return r;
        r = manager_setup_timers(m);
        if (r < 0)
                return r;
        r = responder_new(m, &m->responder);
        if (r < 0)
                return r;
        r = nts_server_new(m, &m->nts_server);
        if (r < 0)
                return r;
        (void) manager_open_logs(m);
        (void) manager_watch_adjtime(m);
        manager_add_configured_sources(m);
        (void) manager_links_start(m);
        manager_schedule_status(m);
        return 0;
}

void manager_set_listener(Manager *m, const ManagerListener *l) {
        if (m->listener.free)
                m->listener.free(m->listener.userdata);
        m->listener = *l;
        if (l->state_changed)
                manager_schedule_status(m);
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);
        (void) manager_save_drift(m);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

static bool source_spec_equal(const SourceSpec *a, const SourceSpec *b) {
        return a->kind == b->kind && streq(a->host, b->host) && a->port == b->port &&
               a->iburst == b->iburst && a->prefer == b->prefer && a->noselect == b->noselect &&
               a->minpoll == b->minpoll && a->maxpoll == b->maxpoll && a->key == b->key &&
               a->maxsources == b->maxsources && a->nts == b->nts && a->nts_port == b->nts_port;
}

static bool config_has_spec(const Config *c, const SourceSpec *s) {
        for (size_t i = 0; i < c->n_sources; i++)
                if (source_spec_equal(&c->sources[i], s))
                        return true;
        return false;
}

static bool manager_has_spec(const Manager *m, const SourceSpec *s) {
        for (size_t i = 0; i < m->n_groups; i++)
                if (source_spec_equal(&m->groups[i]->spec, s))
                        return true;
        return false;
}

/* Keeps the sources whose lines did not change (and their history),
 * removes the others, adds the new ones. Runtime servers stay: they live
 * until the daemon stops; link servers follow their links
 * (manager_links_apply()). */
static void manager_apply_sources(Manager *m, const Config *next) {
        for (size_t k = m->n_groups; k > 0; k--) {
                SourceGroup *g = m->groups[k - 1];
                if (!g->runtime && !g->link && !config_has_spec(next, &g->spec))
                        (void) manager_remove_source_by_name(m, g->spec.host);
        }
        for (size_t i = 0; i < next->n_sources; i++)
                if (!manager_has_spec(m, &next->sources[i]))
                        manager_add_configured_source(m, &next->sources[i]);
}

static bool server_sockets_changed(const Config *a, const Config *b) {
        if (a->port != b->port)
                return true;
        for (size_t i = 0;; i++) {
                const char *x = a->bind_addresses ? a->bind_addresses[i] : NULL;
                const char *y = b->bind_addresses ? b->bind_addresses[i] : NULL;
                if (!x || !y)
                        return x != y;
                if (!streq(x, y))
                        return true;
        }
}

static bool path_lists_equal(const PathList *a, const PathList *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->paths[i], b->paths[i]))
                        return false;
        return true;
}

/* A new certificate, key, port or dump directory needs a new NTS server. */
static bool nts_server_config_changed(const Config *a, const Config *b) {
        return !path_lists_equal(&a->nts_server_certs, &b->nts_server_certs) ||
               !path_lists_equal(&a->nts_server_keys, &b->nts_server_keys) || a->nts_port != b->nts_port ||
               !streq_ptr(a->nts_dump_dir, b->nts_dump_dir);
}

int manager_reload(Manager *m) {
        Config next;
        int r;

        log_info("Reloading configuration.");
        r = config_load(m->config_path, &next);
        if (r < 0)
                return log_error_errno(r, "Configuration not reloaded, keeping the current one: %m");

        manager_apply_sources(m, &next);
        access_list_clear(&m->access);
        r = access_list_copy(&m->access, &next.access);
        if (r < 0)
                log_oom();
        EngineParams params;
        engine_params_from_config(&next, &params);
        engine_set_params(m->engine, &params);
        if (next.control != m->config.control)
                log_notice("Clock.Control changed: takes effect when tempusd restarts.");
        if (!streq_ptr(next.hw_timestamp, m->config.hw_timestamp))
                log_notice("Clock.HWTimestamp changed: takes effect when tempusd restarts.");
        if (next.kernel_tx_timestamps != m->config.kernel_tx_timestamps)
                log_notice("Clock.TXTimestamps changed: takes effect when tempusd restarts.");

        bool rebind = !(m->responder && m->responder->socket_activated) &&
                      server_sockets_changed(&m->config, &next);
        bool new_nts_server = nts_server_config_changed(&m->config, &next);
        bool new_trust = !path_lists_equal(&m->config.nts_trusted_certs, &next.nts_trusted_certs);
        /* A new table would give every client, a flooder too, a full
         * bucket again: keep it unless its shape changes (kod= is read at
         * each check). */
        bool new_ratelimit = next.ratelimit != m->config.ratelimit ||
                             next.ratelimit_interval != m->config.ratelimit_interval ||
                             next.ratelimit_burst != m->config.ratelimit_burst ||
                             next.client_log_limit != m->config.client_log_limit;
        bool relink = next.link_servers != m->config.link_servers ||
                      !streq_ptr(next.link_server_options, m->config.link_server_options);
        config_done(&m->config);
        m->config = next;
        manager_links_apply(m, relink);
        if (new_ratelimit)
                (void) manager_setup_ratelimit(m);
        (void) manager_open_logs(m);
        manager_load_leap_table(m);
        if (rebind) {
                m->responder = responder_free(m->responder);
                (void) responder_new(m, &m->responder);
        }
        /* Connections in progress end; the server keys are read again
         * from the state directory, so cookies stay valid. */
        if (new_nts_server) {
                m->nts_server = nts_server_free(m->nts_server);
                (void) nts_server_new(m, &m->nts_server);
        }
        if (new_trust)
                manager_drop_nts_credentials(m);
        engine_reselect(m->engine);
        log_info("Configuration reloaded.");
        return 0;
}
