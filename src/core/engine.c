/* The synchronisation engine (see engine.h). */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

/* How late the leap timer may fire and still slew the leap second. */
#define LEAP_TIMER_SLACK (2 * NSEC_PER_SEC)

void engine_params_init(EngineParams *p) {
        *p = (EngineParams) { .select = select_default_params };
        discipline_params_init(&p->discipline);
}

static void notify(Engine *e) {
        if (e->on_change)
                e->on_change(e, e->userdata);
}

static void clock_changed(nsec_t when, double dfreq, double doffset, void *userdata) {
        Engine *e = userdata;
        for (size_t i = 0; i < e->n_sources; i++)
                source_apply_clock_change(e->sources[i], when, dfreq, doffset);
}

int engine_new(Clock *clock, const EngineParams *p, Engine **ret) {
        _cleanup_(engine_freep) Engine *e = calloc(1, sizeof(Engine));
        int r;

        if (!e)
                return -ENOMEM;
        e->clock = clock;
        e->params = *p;
        e->leap = NTP_LEAP_UNSYNC;
        e->unsync_reason = "no source selected yet";
        r = discipline_init(&e->discipline, clock, &p->discipline, clock_changed, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(e);
        return 0;
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_sources; i++)
                source_free(e->sources[i]);
        free(e->sources);
        leap_table_free(e->leap_table);
        free(e);
        return NULL;
}

void engine_set_params(Engine *e, const EngineParams *p) {
        e->params.select = p->select;
        e->params.local_stratum = p->local_stratum;
        e->params.leap_mode = p->leap_mode;
        discipline_set_makestep(&e->discipline, p->discipline.makestep_threshold, p->discipline.makestep_limit);
        notify(e);
}

void engine_set_change_handler(Engine *e, EngineChangeHandler cb, void *userdata) {
        e->on_change = cb;
        e->userdata = userdata;
}

int engine_add_source(Engine *e, const SourceSpec *spec, const char *name,
                      const struct sockaddr *address, socklen_t len, Source **ret) {
        _cleanup_(source_freep) Source *s = NULL;
        int r;

        assert(e && spec && address);
        r = source_new(++e->next_source_id, spec, name, address, len, &s);
        if (r < 0)
                return r;
        if (GREEDY_REALLOC(e->sources, e->sources_allocated, e->n_sources + 1) < 0)
                return -ENOMEM;
        source_start(s);
        e->sources[e->n_sources++] = s;
        if (ret)
                *ret = s;
        TAKE_PTR(s);
        notify(e);
        return 0;
}

void engine_remove_source(Engine *e, Source *s) {
        for (size_t i = 0; i < e->n_sources; i++) {
                if (e->sources[i] != s)
                        continue;
                memmove(e->sources + i, e->sources + i + 1, (e->n_sources - i - 1) * sizeof(Source *));
                e->n_sources--;
                if (e->selected == s)
                        e->selected = NULL;
                source_free(s);
                engine_reselect(e);
                return;
        }
}

int engine_now(Engine *e, nsec_t *ret) {
        return discipline_now(&e->discipline, ret);
}

nsec_t engine_cook_system_time(Engine *e, nsec_t realtime) {
        return discipline_cook(&e->discipline, clock_from_system(e->clock, realtime));
}

static int index_of(Engine *e, const Source *s) {
        for (size_t i = 0; i < e->n_sources; i++)
                if (e->sources[i] == s)
                        return (int) i;
        return -1;
}

/* Runs selection at cooked time now; updates each source's state. */
static void run_selection(Engine *e, nsec_t now) {
        _cleanup_free_ SelectCandidate *c = calloc(e->n_sources + 1, sizeof(SelectCandidate));
        _cleanup_free_ SelectState *states = calloc(e->n_sources + 1, sizeof(SelectState));

        if (!c || !states) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < e->n_sources; i++)
                source_candidate(e->sources[i], now, &c[i]);
        select_sources(c, e->n_sources, index_of(e, e->selected), &e->params.select, states, &e->selection);
        for (size_t i = 0; i < e->n_sources; i++)
                e->sources[i]->state = states[i];
        e->selected = e->selection.selected >= 0 ? e->sources[e->selection.selected] : NULL;
}

static void run_selection_now(Engine *e) {
        nsec_t now;
        if (engine_now(e, &now) >= 0)
                run_selection(e, now);
}

static void check_holdover(Engine *e, nsec_t now) {
        if (!e->synchronized)
                return;
        if (nsec_diff(now, e->discipline.last_update) > ENGINE_SYNC_HOLDOVER) {
                e->synchronized = false;
                e->leap = NTP_LEAP_UNSYNC;
                e->unsync_reason = e->selection.reason ?: "no recent update";
        }
}

/* The first update waits for a second sample from the selected source:
 * one sample tells the offset, two tell how fast it changes. A step made
 * with a frequency that is off (no drift file, or one from other days)
 * would leave an offset growing at once, which MakeStep may no longer
 * allow to step away. Only a frequency from the drift file with an
 * offset to slew, not step, goes ahead at once.
 *
 * A first update that steps waits for a third sample. A line through two
 * samples passes through both, so a step made from it carries all of the
 * newer one's error, up to half its excess delay (a reply held on one
 * leg), and nothing is left to see it by; a step is final, and the rest
 * must be slewed: fast, a frequency error (after a step at 64 s from a
 * reply 5.5 us slower than the first, 5 us slewed at 0.38 ppm, where
 * chrony's drift-file test holds the clock within 0.1 ppm from 140 s; one
 * run in eleven), or slowly, microseconds off for minutes. Three samples
 * weighed by their delays put the step within the quickest one's error,
 * as chrony's first update does. A slew goes ahead from two samples: the
 * next ones correct it. Returns what the first update waits for, as the
 * reason to show, or NULL once an update may be made. */
static const char *first_update_waits_for(Engine *e) {
        const Discipline *d = &e->discipline;
        size_t n = sourcestats_count(&e->selected->stats);
        bool step = discipline_would_step(d, e->selection.offset);

        if (d->n_updates > 0 || n >= 3 || (!step && (n >= 2 || d->frequency_known)))
                return NULL;
        return n < 2 ? "waiting for a second sample" : "waiting for a third sample to step";
}

static int update_clock(Engine *e) {
        assert(e->selected);
        DisciplineInput in = {
                .offset = e->selection.offset,
                .frequency = e->selection.frequency,
                .skew = e->selection.skew,
                .offset_sd = e->selection.offset_sd,
                .interval = source_poll_interval(e->selected),
        };
        DisciplineUpdate u;
        int r = discipline_update(&e->discipline, &in, &u);
        if (r < 0)
                return log_warning_errno(r, "Failed to adjust the clock: %m");
        e->synchronized = true;
        e->ever_synchronized = true;
        e->leap = (NtpLeap) e->selection.leap;
        e->unsync_reason = NULL;
        return 0;
}

SourceReply engine_process_reply(Engine *e, Source *s, const NtpPacket *p, nsec_t t4) {
        SourceReply r = source_process_reply(s, p, t4, NULL);
        nsec_t now;

        if (r != SOURCE_REPLY_OK) {
                if (r == SOURCE_REPLY_KOD || r == SOURCE_REPLY_UNSYNCHRONIZED)
                        engine_reselect(e);
                return r;
        }
        if (engine_now(e, &now) < 0)
                return r;
        Source *before = e->selected;
        run_selection(e, now);
        /* Every new sample from a source that takes part in the combined
         * estimate brings new information: the clock is updated with the
         * combination (not only on the selected source's samples), so
         * several sources give proportionally more frequent updates. */
        if (e->selected && (s->state == SELECT_SELECTED || s->state == SELECT_COMBINED ||
                            e->selected != before)) {
                const char *waiting = first_update_waits_for(e);
                if (waiting)
                        e->unsync_reason = waiting;
                else
                        (void) update_clock(e);
        }
        else if (!e->selected) {
                e->unsync_reason = e->selection.reason;
                check_holdover(e, now);
        }
        notify(e);
        return r;
}

void engine_reselect(Engine *e) {
        nsec_t now;

        if (engine_now(e, &now) < 0)
                return;
        run_selection(e, now);
        if (!e->selected)
                e->unsync_reason = e->selection.reason;
        check_holdover(e, now);
        notify(e);
}

/* Whether a step of the wall clock is the leap second the kernel was asked
 * to apply: -1 s for an inserted second, +1 s for a deleted one, seen at
 * the first wakeup after that midnight. */
static bool is_kernel_leap(Engine *e, double step) {
        double expected = e->kernel_leap == CLOCK_LEAP_INSERT ? -1.0 : e->kernel_leap == CLOCK_LEAP_DELETE ? 1.0 : 0;
        nsec_t now;

        if (expected == 0 || fabs(step - expected) > 0.01 || engine_now(e, &now) < 0 ||
            now < e->kernel_leap_midnight - 2 * NSEC_PER_SEC)
                return false;
        e->kernel_leap = CLOCK_LEAP_NONE;
        return true;
}

double engine_check_clock_step(Engine *e) {
        double step = discipline_check_step(&e->discipline);

        if (step == 0 || is_kernel_leap(e, step))
                return 0;
        log_event(LOG_WARNING, TEMPUS_MESSAGE_EXTERNAL_STEP,
                  "The system clock was stepped by %+.6f s by someone else; measurements made before were dropped.",
                  step);
        for (size_t i = 0; i < e->n_sources; i++)
                source_clock_stepped(e->sources[i], step);
        if (e->synchronized) {
                e->synchronized = false;
                e->leap = NTP_LEAP_UNSYNC;
        }
        e->unsync_reason = "the clock was stepped by someone else";
        run_selection_now(e);
        notify(e);
        return step;
}

static double max_error(const Engine *e, nsec_t now) {
        /* A bound on |true - cooked|: the distance to the reference at the
         * last update, plus what an uncorrected PHI could add since. */
        const SelectResult *s = &e->selection;
        double age = MAX(nsec_diff(now, e->discipline.last_update), 0);
        return s->root_delay / 2 + s->root_dispersion + fabs(e->discipline.last_offset) +
               (NTP_PHI + e->discipline.skew_ppm * 1e-6) * age;
}

void engine_tracking(Engine *e, Tracking *ret) {
        const Discipline *d = &e->discipline;
        nsec_t raw = 0, now;

        (void) clock_read(e->clock, &raw);
        now = discipline_cook(d, raw);
        *ret = (Tracking) {
                .synchronized = e->synchronized,
                .stratum = NTP_MAX_STRATUM,
                .reference_time = d->n_updates > 0 ? d->last_update : 0,
                .system_time_offset = -discipline_remaining(d, raw),
                .last_offset = d->last_offset,
                .rms_offset = d->rms_offset,
                .frequency_ppm = -d->frequency_ppm,
                .skew_ppm = d->skew_ppm,
                .update_interval = d->update_interval,
                .leap = e->synchronized ? engine_pending_leap(e, now, NULL) : NTP_LEAP_UNSYNC,
                .tai_offset = leap_table_tai_offset(e->leap_table, now),
                .n_combined = e->selection.n_combined,
                .offset_sd = e->selection.offset_sd,
        };
        if (e->synchronized) {
                ret->root_delay = e->selection.root_delay;
                ret->root_dispersion = e->selection.root_dispersion +
                                       NTP_PHI * MAX(nsec_diff(now, d->last_update), 0);
                ret->max_error = max_error(e, now);
                ret->residual_frequency_ppm = e->selection.frequency * 1e6;
        }
        if (e->selected) {
                ret->reference_id = e->selected->refid;
                ret->stratum = MIN(e->selected->stratum + 1, NTP_MAX_STRATUM);
                snprintf(ret->reference_name, sizeof ret->reference_name, "%s",
                         e->selected->address_string);
        }
        if (!e->synchronized && e->params.local_stratum > 0) {
                ret->stratum = (uint8_t) e->params.local_stratum;
                ret->reference_id = ntp_refid_from_ascii("LOCL");
                snprintf(ret->reference_name, sizeof ret->reference_name, "LOCL");
        }
}

void engine_server_header(Engine *e, NtpLeap *leap, uint8_t *stratum, uint32_t *refid,
                          nsec_t *reftime, double *root_delay, double *root_dispersion) {
        Tracking t;

        engine_tracking(e, &t);
        if (t.synchronized) {
                *leap = t.leap;
                *stratum = t.stratum;
                *refid = t.reference_id;
                *reftime = t.reference_time;
                *root_delay = t.root_delay;
                *root_dispersion = t.root_dispersion;
                return;
        }
        if (e->params.local_stratum > 0) {
                /* Serving our own clock: chrony's "local stratum N". */
                nsec_t now = 0;
                (void) engine_now(e, &now);
                *leap = NTP_LEAP_NONE;
                *stratum = (uint8_t) e->params.local_stratum;
                *refid = t.reference_id;
                *reftime = now - NSEC_PER_SEC;
                *root_delay = 0;
                *root_dispersion = 0;
                return;
        }
        *leap = NTP_LEAP_UNSYNC;
        *stratum = NTP_MAX_STRATUM;
        *refid = 0;
        *reftime = 0;
        *root_delay = 0;
        *root_dispersion = 0;
}

static bool leap_table_valid(const Engine *e, nsec_t now) {
        return e->leap_table && (e->leap_table->expires == 0 ||
                                 now < e->leap_table->expires * NSEC_PER_SEC);
}

NtpLeap engine_pending_leap(Engine *e, nsec_t now, nsec_t *midnight) {
        nsec_t end = leap_day_end(now);
        NtpLeap leap;

        if (midnight)
                *midnight = end;
        if (leap_table_valid(e, now))
                leap = leap_table_pending(e->leap_table, now, NULL);
        else if (e->synchronized && leap_is_leap_day(now))
                leap = e->leap;
        else
                leap = NTP_LEAP_NONE;
        /* Once slewed through, the repeated last second is not a new leap. */
        if (e->leap_done_midnight == end)
                return NTP_LEAP_NONE;
        return leap == NTP_LEAP_INSERT || leap == NTP_LEAP_DELETE ? leap : NTP_LEAP_NONE;
}

void engine_set_leap_table(Engine *e, LeapTable *t) {
        leap_table_free(e->leap_table);
        e->leap_table = t;
        notify(e);
}

/* The kernel's leap for the leap indicator we serve. */
static ClockLeap clock_leap_of(NtpLeap leap) {
        return leap == NTP_LEAP_INSERT ? CLOCK_LEAP_INSERT : leap == NTP_LEAP_DELETE ? CLOCK_LEAP_DELETE
                                                                                     : CLOCK_LEAP_NONE;
}

void engine_sync_status(Engine *e, const Tracking *t, ClockSyncStatus *ret) {
        *ret = (ClockSyncStatus) {
                .synchronized = t->synchronized,
                .max_error = t->max_error,
                .est_error = t->offset_sd,
                .leap = t->synchronized && e->params.leap_mode == ENGINE_LEAP_KERNEL ? clock_leap_of(t->leap)
                                                                                    : CLOCK_LEAP_NONE,
                .tai_offset = t->tai_offset,
        };
        if (ret->leap != CLOCK_LEAP_NONE) {
                nsec_t now = 0;
                (void) engine_now(e, &now);
                e->kernel_leap = ret->leap;
                (void) engine_pending_leap(e, now, &e->kernel_leap_midnight);
        }
}

/* The cooked time at which we slew a leap second ourselves, or INT64_MAX:
 * midnight for an insertion, 23:59:59 for a deletion. */
static nsec_t leap_moment(Engine *e, nsec_t now, int *ret_sign) {
        nsec_t midnight;

        if (e->params.leap_mode != ENGINE_LEAP_SLEW)
                return INT64_MAX;
        NtpLeap leap = engine_pending_leap(e, now, &midnight);
        if (leap == NTP_LEAP_INSERT) {
                *ret_sign = 1;
                return midnight;
        }
        if (leap == NTP_LEAP_DELETE) {
                *ret_sign = -1;
                return midnight - NSEC_PER_SEC;
        }
        return INT64_MAX;
}

static int slew_leap_if_due(Engine *e) {
        nsec_t now, midnight;
        int sign = 0, r;

        r = engine_now(e, &now);
        if (r < 0)
                return r;
        /* The timer fires at or just after the moment, which for an
         * insertion is already the next day: look the leap up for the day
         * a little earlier. */
        nsec_t moment = leap_moment(e, now - LEAP_TIMER_SLACK, &sign);
        if (moment == INT64_MAX || now < moment)
                return 0;
        /* An inserted second sets UTC back by one second, a deleted one
         * forward; the sources' clocks made the same jump, so their
         * samples stay valid as they are. */
        r = discipline_leap(&e->discipline, -sign);
        if (r < 0)
                return log_warning_errno(r, "Failed to slew the leap second: %m");
        (void) engine_pending_leap(e, now - LEAP_TIMER_SLACK, &midnight);
        e->leap_done_midnight = midnight;
        log_notice("Leap second %s: slewing the clock by %+d s.", sign > 0 ? "inserted" : "deleted", -sign);
        notify(e);
        return 0;
}

int engine_on_timer(Engine *e) {
        int r = discipline_on_timer(&e->discipline);
        if (r < 0)
                return r;
        return slew_leap_if_due(e);
}

double engine_timer_delay(Engine *e) {
        nsec_t raw, now;
        int sign;

        if (clock_read(e->clock, &raw) < 0)
                return -1;
        double delay = discipline_timer_delay(&e->discipline, raw);
        now = discipline_cook(&e->discipline, raw);
        /* Looked up as slew_leap_if_due() does: another event handled
         * just after an insertion's midnight must not move the leap to
         * the next day before the timer has slewed it. */
        nsec_t moment = leap_moment(e, now - LEAP_TIMER_SLACK, &sign);
        if (moment != INT64_MAX) {
                double to_leap = MAX(nsec_diff(moment, now), 0);
                delay = delay < 0 ? to_leap : MIN(delay, to_leap);
        }
        return delay;
}

int engine_make_step(Engine *e) {
        double offset = 0;
        nsec_t now;

        if (e->selected && engine_now(e, &now) >= 0) {
                run_selection(e, now);
                if (e->selected)
                        offset = e->selection.offset;
        }
        int r = discipline_step_now(&e->discipline, offset);
        if (r >= 0)
                notify(e);
        return r;
}
