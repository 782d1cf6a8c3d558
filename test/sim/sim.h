/* The deterministic NTP simulator: drives the real src/core engine on a
 * simulated clock (src/clock/clock-sim) the way tempusd drives it on the
 * system clock, against simulated servers over a simulated network.
 *
 * What the daemon does with sockets and sd-event timers, the simulator does
 * with an event queue in true time: requests are built by the engine's
 * sources, encoded with the real NTP encoder, carried by the network
 * (delay, jitter, asymmetry, loss, outages), answered by servers from true
 * UTC plus their own error, encoded again, parsed with the real parser and
 * fed to engine_process_reply(); the engine's poll intervals and discipline
 * timer decide when things happen next. Same parameters and seed, same
 * result, bit for bit. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "clock/clock-sim.h"
#include "core/engine.h"
#include "shared/macro.h"

#define SIM_MAX_SERVERS 8
/* |time error| and |frequency error| below these count as synchronised
 * (chrony's simulation tests use the same two limits). */
#define SIM_SYNC_THRESHOLD 1e-3
#define SIM_SYNC_FREQ_THRESHOLD 500.0

/* One exchange as a real path delivered it: the request's and the reply's
 * time on the wire, seconds; out < 0: lost. */
typedef struct SimExchange {
        double out, back;
} SimExchange;

typedef struct SimNet {
        /* n_replay > 0: the requests take these exchanges in turn, and are
         * lost once they run out; the other fields of the path are unused
         * (tempus-sim --replay, a path recorded on the real kernel). */
        const SimExchange *replay;
        size_t n_replay;
        double delay;           /* base one-way delay, each leg, seconds */
        double asymmetry;       /* extra base delay on the reply leg, seconds */
        double asymmetry_request;       /* extra base delay on the request leg */
        double jitter_exp;      /* mean of exponential jitter added to each leg */
        double jitter_exp_request;      /* > 0: the request leg's mean instead ... */
        double jitter_exp_reply;/* > 0: ... and the reply leg's (asymmetric jitter) */
        double jitter_normal;   /* sd of the |normal| jitter added to each leg */
        double jitter_gauss;    /* sd of a normal jitter around the base delay
                                 * (a relay holding each packet for 1 ms +/- 300 us) */
        double spike_prob;      /* probability that a leg is held late ... */
        double spike_mean;      /* ... by an exponential delay of this mean
                                 * (a busy host or relay, a queue burst) */
        double loss;            /* probability that a packet is lost, each leg */
        unsigned pass_every;    /* > 0: of the requests, only every this many-th gets through */
        double outage_period;   /* seconds; 0: always connected */
        double outage_length;   /* the last this many seconds of each period are dark */
} SimNet;

typedef struct SimServer {
        const char *options;    /* Server= options, e.g. "iburst maxpoll=8" */
        SimNet net;
        double offset;          /* server clock - true UTC, seconds ... */
        double drift;           /* ... plus drift * (t - error_from) ... */
        double error_from;      /* ... from this time (seconds) on */
        double timestamp_sd;    /* noise of its timestamps, seconds */
        /* Its clock's precision (log2 s, 0: -23, about 119 ns): as real
         * servers do, it fills the bits below it with random ones, so its
         * receive and transmit timestamps each carry up to that much noise
         * and T3 may come out before T2. */
        int precision;
        double processing;      /* time from receive to transmit: uniform in
                                 * [0, processing], seconds (may be 0) */
        /* Pulses: its clock jumps by pulse_offset for the last pulse_length
         * seconds of every pulse_period, alternating in sign. */
        double pulse_offset, pulse_period, pulse_length;
        uint8_t stratum;        /* 0 means 1 */
        double stratum_change_at;       /* > 0: from then on ... */
        uint8_t stratum_after;          /* ... this stratum */
        double silent_from, silent_until;       /* no replies in [from, until) */
        NtpLeap leap;           /* leap bits announced ... */
        double leap_from, leap_until;   /* ... in [from, until) */
} SimServer;

typedef struct SimParams {
        const char *name;
        SimClockParams clock;   /* start and seed are filled by sim_run() */
        EngineParams engine;
        SimServer servers[SIM_MAX_SERVERS];
        size_t n_servers;
        double duration;        /* seconds */
        double measure_from;    /* statistics from this time on (seconds) */
        /* Judge the engine's estimate of true time (the clock plus the
         * correction still being slewed) rather than the clock: what
         * tempusd reports under Control=no, and what the real-kernel
         * benchmark measures. */
        bool measure_estimate;
        nsec_t start;           /* Unix time at the start; 0: 2027-01-15 */
        nsec_t leap_midnight;   /* a leap of true UTC at this midnight ... */
        int leap_sign;          /* ... +1 inserted, -1 deleted */
        const char *tzfile;     /* path of a tzfile to install as leap table */
        /* Someone else steps the clock: by step_offset at step_at (0: never),
         * and then every step_every seconds (0: once), alternating in sign. */
        double step_at, step_offset, step_every;
        /* Stricter limits for "synchronised" (0: the defaults above). */
        double sync_threshold;          /* seconds */
        double sync_freq_threshold;     /* ppm */
} SimParams;

typedef struct SimResult {
        double sync_time;       /* first time after which |error| < 1 ms and
                                 * |frequency error| < 500 ppm for good (or the
                                 * scenario's thresholds), before any jump of
                                 * the clock's frequency; INFINITY: never */
        double max_error;       /* max |time error| from measure_from, seconds
                                 * (in ENGINE_LEAP_SLEW mode without the 30 s
                                 * after a leap, which max_error_in_leap gives) */
        double rms_error;
        double rms_freq_error;  /* ppm */
        double max_freq_error;
        double rms_freq_error_early;    /* ppm, from 5 s to measure_from, without
                                         * the rate of phase corrections */
        double max_base_freq_error;     /* ppm, from the first update on, without the
                                         * rate of phase corrections */
        uint64_t packets_sent;
        int final_poll;         /* of the selected source (or the first) */
        int max_poll;           /* highest poll exponent used by any source */
        unsigned steps;
        unsigned external_steps_seen;   /* external steps the engine noticed */
        bool synchronized;      /* engine says so at the end */
        bool ever_synchronized; /* the engine claimed synchronisation at some point */
        SelectState states[SIM_MAX_SERVERS];    /* at the end */
        int kernel_leaps;       /* leaps the clock applied itself */
        int tai_offset;         /* last TAI - UTC given to the clock */
        NtpLeap leap_announced; /* any leap the engine put in its server header */
        double max_error_in_leap;       /* max |error| from the leap to 30 s after */
        double max_error_after_leap;    /* max |error| from leap + 30 s to the end */
        /* External steps: the longest time from one to |error| < the sync
         * threshold again (INFINITY: not before the next one or the end). */
        double max_step_recovery;
        /* The clock's own frequency jump (clock.jump_at): the time from it
         * to |error| < the sync threshold for good (0: never off;
         * INFINITY: not by the end), and the largest |error| after it. */
        double jump_recovery;
        double max_error_after_jump;
        double packets_per_second;      /* requests to the first source, per second */
} SimResult;

/* |time error| below this counts as synchronised in a run of p (the
 * scenario's threshold, or SIM_SYNC_THRESHOLD). */
double sim_sync_threshold(const SimParams *p);

/* Runs one simulation. Returns 0 or a negative errno. trace: print one line
 * per clock update to stderr. */
int sim_run(const SimParams *p, uint64_t seed, bool trace, SimResult *ret);

/* The same, a step at a time, for tests that look inside on the way:
 * sim_new() builds the world (p is copied; *result is filled as it runs
 * and by sim_finish()), sim_run_until() runs it to a time in seconds
 * since the start (at most p->duration). */
typedef struct Sim Sim;
int sim_new(const SimParams *p, uint64_t seed, bool trace, SimResult *result, Sim **ret);
int sim_run_until(Sim *s, double until);
void sim_finish(Sim *s);
Sim *sim_free(Sim *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sim *, sim_free);
Engine *sim_engine(Sim *s);
Clock *sim_clock(Sim *s);
Source *sim_source(Sim *s, size_t i);
double sim_now(const Sim *s);
/* What the daemon does first on every wakeup: looks for a step of the
 * clock by someone else (engine_check_clock_step()) and, after one, makes
 * every source poll soon. Returns the step, 0 if none. */
double sim_check_clock_step(Sim *s);

/* The default scenario of chrony's own simulation tests: offset 0.1 s,
 * 100 ppm, delay 100 us + exponential jitter 100 us each way, wander 1e-9,
 * one server with default polling, 10,000 s, statistics after 210 s. */
void sim_params_defaults(SimParams *p);
