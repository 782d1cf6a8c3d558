/* Status reporting (see manager-status.h). */
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "daemon/adjtime.h"
#include "daemon/logfile.h"
#include "daemon/manager-status.h"
#include "daemon/manager.h"
#include "shared/log.h"

/* Touched on synchronisation so that systemd-time-wait-sync sees it. */
#define TIMESYNC_FLAG_DIR "/run/systemd/timesync"
#define TIMESYNC_FLAG_FILE TIMESYNC_FLAG_DIR "/synchronized"

char *status_format(char *buf, size_t size, const Tracking *t, size_t n_sources, const char *reason) {
        char offset[32];

        if (t->synchronized) {
                format_offset(offset, sizeof offset, t->last_offset, 0);
                snprintf(buf, size, "Synchronized to %s (stratum %u), offset %s, %zu source%s",
                         t->reference_name, t->stratum - 1u, offset, n_sources, n_sources == 1 ? "" : "s");
        } else if (t->stratum < 16 && t->stratum > 0)
                snprintf(buf, size, "Not synchronized (%s), serving local clock at stratum %u, %zu source%s",
                         reason ?: "no source", t->stratum, n_sources, n_sources == 1 ? "" : "s");
        else
                snprintf(buf, size, "Not synchronized: %s", n_sources == 0 ? "no sources configured"
                                                           : reason ?: "waiting for replies");
        return buf;
}

static void touch_timesync_flag(void) {
        (void) mkdir(TIMESYNC_FLAG_DIR, 0755);
        int fd = open(TIMESYNC_FLAG_FILE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
                log_debug_errno(-errno, "Failed to create %s: %m", TIMESYNC_FLAG_FILE);
                return;
        }
        (void) futimens(fd, NULL);
        safe_close(fd);
}

static void update_kernel(Manager *m, const Tracking *t) {
        if (!m->clock->controls)
                return;
        ClockSyncStatus st;

        engine_sync_status(m->engine, t, &st);
        st.rtc_sync = m->config.rtc_sync;
        st.local_rtc = m->local_rtc;
        int r = clock_set_sync_status(m->clock, &st);
        if (r < 0)
                log_warning_errno(r, "Failed to set the kernel's synchronisation status: %m");
        if (t->synchronized)
                touch_timesync_flag();
}

/* "Can't synchronise: no majority", once each time the sources stop
 * agreeing (as chronyd says it), not while some are still to answer. */
static void log_no_majority(Manager *m, const Tracking *t) {
        const SelectResult *r = &m->engine->selection;
        bool no_majority = !t->synchronized && r->selected < 0 && r->reason &&
                           streq(r->reason, "no majority agrees");

        if (no_majority && !m->logged_no_majority) {
                if (r->n_agree > 1)
                        log_warning("Can't synchronise: no majority (only %u of %u sources agree).",
                                    r->n_agree, r->n_voters);
                else
                        log_warning("Can't synchronise: no majority (no agreement among %u sources).",
                                    r->n_voters);
        }
        m->logged_no_majority = no_majority;
}

static void log_transitions(Manager *m, const Tracking *t) {
        Source *selected = m->engine->selected;

        if (selected != m->last_selected && selected)
                log_info("Selected source %s (%s).", selected->name, selected->address_string);
        m->last_selected = selected;

        if (t->synchronized && !m->logged_first_sync)
                log_event(LOG_NOTICE, TEMPUS_MESSAGE_SYNCHRONIZED, "Synchronized to %s, stratum %u.",
                          t->reference_name, t->stratum - 1u);
        else if (t->synchronized && !m->was_synchronized)
                log_notice("Synchronized again to %s, stratum %u.", t->reference_name, t->stratum - 1u);
        else if (!t->synchronized && m->was_synchronized)
                log_event(LOG_WARNING, TEMPUS_MESSAGE_SYNC_LOST, "Lost synchronization: %s.",
                          m->engine->unsync_reason ?: "no source");
        m->was_synchronized = t->synchronized;
        m->logged_first_sync |= t->synchronized;
        log_no_majority(m, t);

        const Discipline *d = &m->engine->discipline;
        if (d->n_steps != m->logged_steps) {
                char offset[32];
                format_offset(offset, sizeof offset, -d->last_offset, 0);
                log_event(LOG_NOTICE, TEMPUS_MESSAGE_CLOCK_STEPPED, "Clock stepped: it was off by %s.", offset);
                m->logged_steps = d->n_steps;
        }
}

void status_tracking(Engine *e, Tracking *ret) {
        double offset;

        engine_tracking(e, ret);
        /* raw - cooked becomes CLOCK_REALTIME - cooked: raw is the clock
         * tempusd disciplines, which under Control=no runs `offset` ahead
         * of the system clock. */
        if (clock_offset_from_system(e->clock, now_realtime(), &offset, NULL) >= 0 && offset != 0)
                ret->system_time_offset -= offset;
}

void status_tracking_log_row(const Tracking *t, LogTracking *ret) {
        *ret = (LogTracking) {
                .time = t->reference_time,
                .address = t->reference_name,
                .stratum = t->stratum,
                .frequency_ppm = t->frequency_ppm,
                .skew_ppm = t->skew_ppm,
                .offset = -t->last_offset,      /* chrony's sign: local - true */
                .leap = t->leap,
                .combined = t->n_combined,
                .offset_sd = t->offset_sd,
                .remaining_correction = -t->system_time_offset,        /* positive: slow */
                .root_delay = t->root_delay,
                .root_dispersion = t->root_dispersion,
                .max_error = t->max_error,
        };
}

static void log_tracking(Manager *m, const Tracking *t) {
        unsigned updates = m->engine->discipline.n_updates;
        LogTracking lt;

        if (!m->logs || updates == m->logged_updates)
                return;
        m->logged_updates = updates;
        status_tracking_log_row(t, &lt);
        logfiles_write_tracking(m->logs, &lt);
}

static void send_status(Manager *m, const Tracking *t) {
        char line[256];

        status_format(line, sizeof line, t, m->n_peers, m->engine->unsync_reason);
        if (m->last_status && streq(m->last_status, line) && m->sent_ready)
                return;
        free(m->last_status);
        m->last_status = strdup(line);
        (void) sd_notifyf(false, "%sSTATUS=%s", m->sent_ready ? "" : "READY=1\n", line);
        m->sent_ready = true;
}

static int on_status(sd_event_source *es, void *userdata) {
        Manager *m = userdata;
        Tracking t;

        status_tracking(m->engine, &t);
        log_transitions(m, &t);
        log_tracking(m, &t);
        update_kernel(m, &t);
        send_status(m, &t);
        if (m->listener.state_changed)
                m->listener.state_changed(m->listener.userdata, &t);
        return sd_event_source_set_enabled(es, SD_EVENT_OFF);
}

void manager_schedule_status(Manager *m) {
        int r;

        if (!m->status_defer) {
                r = sd_event_add_defer(m->event, &m->status_defer, on_status, m);
                if (r < 0) {
                        log_warning_errno(r, "Failed to schedule a status update: %m");
                        return;
                }
        }
        (void) sd_event_source_set_enabled(m->status_defer, SD_EVENT_ONESHOT);
}

static void set_local_rtc(Manager *m, bool local) {
        if (local)
                log_notice("The real-time clock keeps local time (%s): the kernel's 11-minute RTC updates stay off.",
                           m->adjtime_path);
        else if (m->local_rtc)
                log_notice("The real-time clock keeps UTC again (%s).", m->adjtime_path);
        m->local_rtc = local;
        manager_schedule_status(m);
}

/* Every change in /etc wakes this up: only the file's own name counts. */
static int on_adjtime_changed(sd_event_source *es, const struct inotify_event *ev, void *userdata) {
        Manager *m = userdata;
        const char *slash = strrchr(m->adjtime_path, '/');

        if (ev->len == 0 || !streq(ev->name, slash ? slash + 1 : m->adjtime_path))
                return 0;
        bool local = adjtime_read_local(m->adjtime_path);
        if (local != m->local_rtc)
                set_local_rtc(m, local);
        return 0;
}

int manager_watch_adjtime(Manager *m) {
        const char *path = getenv("TEMPUS_ADJTIME") ?: ADJTIME_PATH;
        _cleanup_free_ char *dir = NULL;

        m->adjtime_path = strdup(path);
        dir = strdup(path);
        if (!m->adjtime_path || !dir)
                return log_oom();
        if (adjtime_read_local(path))
                set_local_rtc(m, true);
        /* timedatectl replaces the file: watch its directory. */
        int r = sd_event_add_inotify(m->event, &m->adjtime_watch, dirname(dir),
                                     IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR,
                                     on_adjtime_changed, m);
        if (r < 0)
                return log_warning_errno(r, "Failed to watch %s: %m", path);
        return 0;
}
