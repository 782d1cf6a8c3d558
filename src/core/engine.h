/* The synchronisation engine: the set of sources, source selection after
 * every new sample, the clock discipline, and the resulting tracking state
 * (what chronyc tracking shows and what we serve to our own clients).
 *
 * Pure in the sense that matters: no sockets, no timers, no globals. Time
 * comes from the injected Clock backend, so the daemon drives it with the
 * real clock and the simulator with a simulated one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "clock/clock.h"
#include "core/discipline.h"
#include "core/leap.h"
#include "core/selection.h"
#include "core/source.h"
#include "shared/macro.h"

/* Without a selectable source for this long after the last update, we
 * stop claiming to be synchronised. */
#define ENGINE_SYNC_HOLDOVER 3600.0

/* Who carries out a leap second. */
typedef enum EngineLeapMode {
        /* The kernel inserts or deletes the second at midnight UTC: we pass
         * the pending leap in ClockSyncStatus.leap (STA_INS / STA_DEL). The
         * clock reads 23:59:59 twice (insertion), exactly as UTC does. */
        ENGINE_LEAP_KERNEL,
        /* The kernel is never told; at midnight we take the second into
         * the phase correction and slew it out at the maximum slew rate
         * (about 12 s at 83333 ppm), so the clock never steps or repeats
         * a second, at the price of being up to 1 s off meanwhile. */
        ENGINE_LEAP_SLEW,
} EngineLeapMode;

typedef struct EngineParams {
        DisciplineParams discipline;
        SelectParams select;
        int local_stratum;              /* 0: off */
        EngineLeapMode leap_mode;       /* default ENGINE_LEAP_KERNEL */
} EngineParams;

void engine_params_init(EngineParams *p);

/* What chronyc tracking shows. */
typedef struct Tracking {
        bool synchronized;
        uint32_t reference_id;
        char reference_name[64];
        uint8_t stratum;
        nsec_t reference_time;          /* cooked time of the last update, 0 never */
        double system_time_offset;      /* raw - cooked: positive = clock fast */
        double last_offset;
        double rms_offset;
        double frequency_ppm;           /* the clock's own rate error, corrected by us;
                                         * positive: it runs fast (chrony's sign) */
        double residual_frequency_ppm;
        double skew_ppm;
        double root_delay;
        double root_dispersion;
        double update_interval;
        NtpLeap leap;                   /* leap due at the end of today (or unsync) */
        int tai_offset;                 /* TAI - UTC, seconds; 0 unknown (no table) */
        unsigned n_combined;
        double offset_sd;
        double max_error;               /* bound on our error, seconds */
} Tracking;

typedef struct Engine Engine;

/* Called when the synchronisation state, the selected source or the set of
 * sources changed, so the daemon can update sd_notify, the kernel status,
 * D-Bus properties and logs. */
typedef void (*EngineChangeHandler)(Engine *e, void *userdata);

struct Engine {
        Clock *clock;
        EngineParams params;
        Discipline discipline;

        Source **sources;
        size_t n_sources, sources_allocated;
        unsigned next_source_id;
        Source *selected;
        SelectResult selection;

        bool synchronized;
        bool ever_synchronized;
        NtpLeap leap;                   /* majority of the combined sources' bits */
        const char *unsync_reason;

        /* Leap seconds: the table from LeapSecTZ= (NULL: sources only), and
         * the midnight whose leap we already slewed (ENGINE_LEAP_SLEW). */
        LeapTable *leap_table;
        nsec_t leap_done_midnight;
        /* The leap last handed to the kernel (engine_sync_status()), and
         * the midnight it is for: its one-second step is no external step. */
        ClockLeap kernel_leap;
        nsec_t kernel_leap_midnight;

        EngineChangeHandler on_change;
        void *userdata;
};

int engine_new(Clock *clock, const EngineParams *p, Engine **ret);
Engine *engine_free(Engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Engine *, engine_free);

void engine_set_change_handler(Engine *e, EngineChangeHandler cb, void *userdata);

/* Applies new settings at run time (a reload): selection, MakeStep, local
 * stratum and leap mode. The discipline's state and its initial frequency
 * are not touched: those count only at the start. */
void engine_set_params(Engine *e, const EngineParams *p);

int engine_add_source(Engine *e, const SourceSpec *spec, const char *name,
                      const struct sockaddr *address, socklen_t len, Source **ret);
void engine_remove_source(Engine *e, Source *s);

/* Cooked time now, and the cooked time of a CLOCK_REALTIME reading (kernel
 * packet timestamps). */
int engine_now(Engine *e, nsec_t *ret);
nsec_t engine_cook_system_time(Engine *e, nsec_t realtime);

/* Feeds a reply for s received at cooked time t4. Runs selection, and on a
 * new sample from the selected source updates the clock. */
SourceReply engine_process_reply(Engine *e, Source *s, const NtpPacket *p, nsec_t t4);

/* Re-runs selection (after a source was added, removed or became
 * unreachable) and re-evaluates whether we are synchronised. */
void engine_reselect(Engine *e);

/* Looks for a step of the clock by someone else (date -s, a VM resumed,
 * a resume from suspend: see discipline_check_step()); call it on every
 * wakeup, before reading the clock for anything else. On a step, every
 * sample taken before it is dropped (the learned frequency is kept), each
 * source is asked for fresh samples at once (a burst), and the engine
 * stops claiming synchronisation until an update has dealt with the
 * offset the step made: stepped back per MakeStep, or slewed. A leap
 * second that the kernel applied is not such a step. Returns the step in
 * seconds, 0 for none; on a step the caller reschedules its polls
 * (source_poll_interval() is short again). */
double engine_check_clock_step(Engine *e);

/* The tracking report at cooked time now. */
void engine_tracking(Engine *e, Tracking *ret);

/* The leap second due at the end of the UTC day containing cooked time now:
 * from the leap table when one is installed and not expired, else from
 * the majority of the selected and combined sources' leap bits, and only
 * on June 30 or December 31. *midnight (if not NULL) gets that day's end. */
NtpLeap engine_pending_leap(Engine *e, nsec_t now, nsec_t *midnight);

/* Installs a leap second table (see core/leap.h), taking ownership; NULL
 * removes it. With a table, the pending leap and TAI - UTC come from it. */
void engine_set_leap_table(Engine *e, LeapTable *t);

/* What the clock backend should be told now: synchronised or not, maximum
 * and estimated error, the leap for the kernel to apply (none in
 * ENGINE_LEAP_SLEW mode) and TAI - UTC. rtc_sync and local_rtc are left
 * false for the caller to fill. Pass it to clock_set_sync_status() whenever
 * the change handler runs. t is engine_tracking()'s report, which the
 * caller has at hand. */
void engine_sync_status(Engine *e, const Tracking *t, ClockSyncStatus *ret);

/* Fills what we put in replies to our own clients: leap, stratum (16 when
 * unsynchronised and no LocalStratum), reference ID and time, root delay
 * and dispersion. */
void engine_server_header(Engine *e, NtpLeap *leap, uint8_t *stratum, uint32_t *refid,
                          nsec_t *reftime, double *root_delay, double *root_dispersion);

/* Runs the timer work: the end of a slew, and a leap second slewed by us
 * (ENGINE_LEAP_SLEW) at midnight. */
int engine_on_timer(Engine *e);
/* Seconds until engine_on_timer() is due, or < 0 if nothing is pending. */
double engine_timer_delay(Engine *e);

/* Steps the clock by the remaining correction and the current estimate:
 * the D-Bus MakeStep() call. */
int engine_make_step(Engine *e);
