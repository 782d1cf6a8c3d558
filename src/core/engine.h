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
#include "core/selection.h"
#include "core/source.h"
#include "shared/macro.h"

/* Without a selectable source for this long after the last update, we
 * stop claiming to be synchronised. */
#define ENGINE_SYNC_HOLDOVER 3600.0

typedef struct EngineParams {
        DisciplineParams discipline;
        SelectParams select;
        int local_stratum;              /* 0: off */
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
        NtpLeap leap;
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
        size_t n_sources;
        unsigned next_source_id;
        Source *selected;
        SelectResult selection;

        bool synchronized;
        bool ever_synchronized;
        NtpLeap leap;
        const char *unsync_reason;

        EngineChangeHandler on_change;
        void *userdata;
};

int engine_new(Clock *clock, const EngineParams *p, Engine **ret);
Engine *engine_free(Engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Engine *, engine_free);

void engine_set_change_handler(Engine *e, EngineChangeHandler cb, void *userdata);

int engine_add_source(Engine *e, const SourceSpec *spec, const char *name,
                      const struct sockaddr *address, socklen_t len, Source **ret);
void engine_remove_source(Engine *e, Source *s);
Source *engine_find_source_by_id(Engine *e, unsigned id);

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

/* The tracking report at cooked time now. */
void engine_tracking(Engine *e, Tracking *ret);

/* Fills what we put in replies to our own clients: leap, stratum (16 when
 * unsynchronised and no LocalStratum), reference ID and time, root delay
 * and dispersion. */
void engine_server_header(Engine *e, NtpLeap *leap, uint8_t *stratum, uint32_t *refid,
                          nsec_t *reftime, double *root_delay, double *root_dispersion);

/* Runs the discipline's timer work (end of a slew). */
int engine_on_timer(Engine *e);
/* Seconds until engine_on_timer() is due, or < 0 if nothing is pending. */
double engine_timer_delay(Engine *e);

/* Steps the clock by the remaining correction and the current estimate:
 * the D-Bus MakeStep() call. */
int engine_make_step(Engine *e);
