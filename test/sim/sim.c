/* The simulator's event loop, network and servers (see sim.h). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"
#include "sim.h"

#define MAX_FLIGHTS 8
/* The daemon's housekeeping wakeup, which also looks for clock steps. */
#define HOUSEKEEPING_PERIOD 60.0
/* After an external step, this long is judged as recovery, not accuracy. */
#define STEP_WINDOW 70.0
#define DEFAULT_SERVER_PRECISION (-23)
/* Time error samples are taken this often (seconds), half a step off the
 * whole seconds so that none falls on the instant of a leap second, when
 * the clock and true UTC step a few microseconds apart. */
#define SAMPLE_STEP 1.0
#define SAMPLE_PHASE 0.5
/* 2027-01-15 00:00:00 UTC, far from any leap second. */
#define DEFAULT_START (INT64_C(1799971200) * NSEC_PER_SEC)
#define MAX_TZFILE_SIZE 65536
/* The early frequency error is taken from here (after the first slew). */
#define EARLY_FROM 5.0

typedef struct Flight {
        bool active;
        double arrive;                  /* seconds since start, true time */
        size_t len;
        uint8_t buf[NTP_HEADER_SIZE];
} Flight;

typedef struct Peer {
        const SimServer *server;
        Source *source;
        double next_poll;
        double polled_at;       /* when the last request left */
        Flight flights[MAX_FLIGHTS];
        SimRandom random;
        uint64_t requests;      /* sent to this server so far */
} Peer;

struct Sim {
        SimParams params;               /* a copy, with start and seed filled */
        const SimParams *p;             /* &params */
        Clock *clock;
        Engine *engine;
        Peer peers[SIM_MAX_SERVERS];
        double now;                     /* seconds since start, true time */
        double timer;                   /* discipline timer due, or INFINITY */
        double next_step;               /* external clock step due, or INFINITY */
        double next_housekeeping;
        double step_sign;
        SimRandom cookies;
        bool trace;
        SimResult *result;
        double *errors, *freq_errors;   /* one per SAMPLE_STEP */
        double *base_freq_errors;
        double first_update;            /* when the first clock update was seen */
        size_t n_samples;
        double next_sample;             /* when take_sample() is due */
};

void sim_params_defaults(SimParams *p) {
        *p = (SimParams) {
                .name = "defaults",
                .clock = { .initial_offset = 0.1, .frequency_ppm = 100, .wander = 1e-9 },
                .n_servers = 1,
                .servers[0] = { .options = "", .net = { .delay = 100e-6, .jitter_exp = 100e-6 } },
                .duration = 10000,
                .measure_from = 210,
        };
        engine_params_init(&p->engine);
}

static nsec_t true_at(Sim *s, double t) {
        return sim_clock_true_time(s->clock) + seconds_to_nsec(t - s->now);
}

static bool dark(const SimNet *n, double t) {
        return n->outage_period > 0 && fmod(t, n->outage_period) >= n->outage_period - n->outage_length;
}

/* One leg's delay: base plus exponential and |normal| jitter. */
static double leg_delay(Peer *peer, bool reply) {
        const SimNet *n = &peer->server->net;
        double leg_mean = reply ? n->jitter_exp_reply : n->jitter_exp_request;
        double mean = leg_mean > 0 ? leg_mean : n->jitter_exp;
        double d = n->delay + (reply ? n->asymmetry : n->asymmetry_request);

        if (mean > 0)
                d += sim_random_exponential(&peer->random, mean);
        if (n->jitter_normal > 0)
                d += fabs(n->jitter_normal * sim_random_normal(&peer->random));
        if (n->jitter_gauss > 0)
                d = MAX(d + n->jitter_gauss * sim_random_normal(&peer->random), 0);
        if (n->spike_prob > 0 && sim_random_uniform(&peer->random) < n->spike_prob)
                d += sim_random_exponential(&peer->random, n->spike_mean);
        return d;
}

/* The next recorded exchange of a replayed path, or NULL when it was
 * lost (or the recording has run out). */
static const SimExchange *next_replayed(Peer *peer) {
        const SimNet *n = &peer->server->net;
        uint64_t i = peer->requests++;

        return i < n->n_replay && n->replay[i].out >= 0 ? &n->replay[i] : NULL;
}

static bool lost(Peer *peer, double t) {
        const SimNet *n = &peer->server->net;
        if (dark(n, t))
                return true;
        return n->loss > 0 && sim_random_uniform(&peer->random) < n->loss;
}

/* A pulse in progress at t: +1 or -1 (alternating), 0 for none. */
static double pulse_at(const SimServer *v, double t) {
        if (v->pulse_period <= 0 || fmod(t, v->pulse_period) < v->pulse_period - v->pulse_length)
                return 0;
        return fmod(floor(t / v->pulse_period), 2) == 0 ? 1 : -1;
}

/* The server's clock at true time t (seconds since start). */
static nsec_t server_clock(Sim *s, Peer *peer, double t) {
        const SimServer *v = peer->server;
        double error = 0;

        if (t >= v->error_from)
                error = v->offset + v->drift * (t - v->error_from);
        error += v->pulse_offset * pulse_at(v, t);
        if (v->timestamp_sd > 0)
                error += v->timestamp_sd * sim_random_normal(&peer->random);
        return sim_clock_utc_at(s->clock, true_at(s, t)) + seconds_to_nsec(error);
}

/* A timestamp as the server writes it: the bits below its precision are
 * random (they say nothing about its clock). */
static NtpTimestamp server_timestamp(Peer *peer, nsec_t t) {
        int precision = peer->server->precision ?: DEFAULT_SERVER_PRECISION;
        uint64_t below = (UINT64_C(1) << (32 + precision)) - 1;
        NtpTimestamp ts = ntp_timestamp_from_nsec(t);
        return (ts & ~below) | (sim_random_next(&peer->random) & below);
}

/* Answers a request that reached the server at true time t. Returns false
 * when the server stays silent. */
static bool server_answer(Sim *s, Peer *peer, const uint8_t *req, size_t len, double t,
                          uint8_t reply[static NTP_HEADER_SIZE], double *processing) {
        const SimServer *v = peer->server;
        NtpPacket q, a;

        if (ntp_packet_parse(req, len, &q) != NTP_DROP_NONE || q.mode != NTP_MODE_CLIENT)
                return false;
        if (t >= v->silent_from && t < v->silent_until)
                return false;
        *processing = v->processing * sim_random_uniform(&peer->random);
        nsec_t t2 = server_clock(s, peer, t);
        nsec_t t3 = server_clock(s, peer, t + *processing);
        uint8_t stratum = v->stratum ?: 1;
        if (v->stratum_change_at > 0 && t >= v->stratum_change_at)
                stratum = v->stratum_after;
        a = (NtpPacket) {
                .leap = t >= v->leap_from && t < v->leap_until ? v->leap : NTP_LEAP_NONE,
                .version = NTP_VERSION,
                .mode = NTP_MODE_SERVER,
                .stratum = stratum,
                .poll = q.poll,
                .precision = (int8_t) (v->precision ?: DEFAULT_SERVER_PRECISION),
                .root_delay = ntp_short_from_seconds(stratum > 1 ? 200e-6 : 0),
                .root_dispersion = ntp_short_from_seconds(stratum > 1 ? 50e-6 : 10e-6),
                .reference_id = stratum > 1 ? 0xc0000201 : ntp_refid_from_ascii("GPS"),
                .reference_ts = ntp_timestamp_from_nsec(t2 - 8 * NSEC_PER_SEC),
                .origin_ts = q.transmit_ts,
                .receive_ts = server_timestamp(peer, t2),
                .transmit_ts = server_timestamp(peer, t3),
        };
        ntp_packet_encode(&a, reply);
        return true;
}

static void rearm_timer(Sim *s) {
        double d = engine_timer_delay(s->engine);
        s->timer = d >= 0 ? s->now + d : INFINITY;
}

static void on_engine_change(Engine *e, void *userdata) {
        Sim *s = userdata;
        ClockSyncStatus st;
        Tracking t;

        s->result->ever_synchronized |= e->synchronized;        /* What the daemon's status handler does with the kernel. */
        engine_tracking(e, &t);
        engine_sync_status(e, &t, &st);
        (void) clock_set_sync_status(s->clock, &st);
        if (st.tai_offset != 0)
                s->result->tai_offset = st.tai_offset;

        NtpLeap leap;
        uint8_t stratum;
        uint32_t refid;
        nsec_t reftime;
        double rd, rdisp;
        engine_server_header(e, &leap, &stratum, &refid, &reftime, &rd, &rdisp);
        if (leap == NTP_LEAP_INSERT || leap == NTP_LEAP_DELETE)
                s->result->leap_announced = leap;
}

static Flight *free_flight(Peer *peer) {
        for (size_t i = 0; i < MAX_FLIGHTS; i++)
                if (!peer->flights[i].active)
                        return &peer->flights[i];
        return NULL;
}

/* What the daemon does first on every wakeup: look for a step of the
 * clock by someone else, and after one poll every source soon. */
double sim_check_clock_step(Sim *s) {
        double step = engine_check_clock_step(s->engine);
        if (step == 0)
                return 0;
        s->result->external_steps_seen++;
        for (size_t i = 0; i < s->p->n_servers; i++)
                s->peers[i].next_poll = MIN(s->peers[i].next_poll,
                                            s->now + source_poll_interval(s->peers[i].source) * 0.01 * (double) (i + 1));
        return step;
}

/* Someone else steps the clock. */
static void external_step(Sim *s) {
        const SimParams *p = s->p;
        sim_clock_external_step(s->clock, s->step_sign * p->step_offset);
        s->step_sign = -s->step_sign;
        s->next_step = p->step_every > 0 ? s->next_step + p->step_every : INFINITY;
}

/* Carries a request out (taking `out`), and the server's answer back
 * (taking `back`; < 0: drawn for the path, which may lose it). */
static void send_on_path(Sim *s, Peer *peer, const uint8_t *req, size_t len, double out, double back) {
        uint8_t reply[NTP_HEADER_SIZE];
        double at_server = s->now + out, processing = 0;

        if (!server_answer(s, peer, req, len, at_server, reply, &processing))
                return;
        double leave = at_server + processing;
        if (back < 0) {
                if (lost(peer, leave))
                        return;
                back = leg_delay(peer, true);
        }
        Flight *f = free_flight(peer);
        if (!f)
                return;
        *f = (Flight) { .active = true, .arrive = leave + back, .len = NTP_HEADER_SIZE };
        memcpy(f->buf, reply, NTP_HEADER_SIZE);
}

/* What the daemon's poll timer does (peer_on_poll), plus the network. */
static void on_poll(Sim *s, Peer *peer) {
        Source *src = peer->source;
        uint8_t reach_before = src->reach, req[NTP_HEADER_SIZE];
        NtpPacket pkt;
        nsec_t now;

        if (engine_now(s->engine, &now) < 0)
                return;
        source_build_request(src, now, sim_random_next(&s->cookies) | 1, &pkt);
        size_t len = ntp_packet_encode(&pkt, req);
        source_request_sent(src, now);
        s->result->packets_sent++;
        if (reach_before != 0 && src->reach == 0)
                engine_reselect(s->engine);
        peer->polled_at = s->now;
        peer->next_poll = s->now + source_poll_interval(src);

        if (peer->server->net.n_replay > 0) {
                const SimExchange *x = next_replayed(peer);
                if (x)
                        send_on_path(s, peer, req, len, x->out, x->back);
                return;
        }
        bool passes = peer->server->net.pass_every == 0 || peer->requests++ % peer->server->net.pass_every == 0;
        if (!passes || lost(peer, s->now))
                return;
        send_on_path(s, peer, req, len, leg_delay(peer, false), -1);
}

static void trace_update(Sim *s, Peer *peer) {
        SourceEstimate est;

        if (!s->trace || (s->engine->selected != peer->source && !getenv("SIM_TRACE_ALL")))
                return;
        (void) sourcestats_estimate(&peer->source->stats, 0, &est);
        nsec_t raw = 0;
        (void) clock_read(s->clock, &raw);
        fprintf(stderr, "%9.1f err %+10.3fus rem %+9.2fus freq %+8.4fppm base %+10.4f wander %.4fe-9 poll %2d n %2u sd %8.2fus off %+9.2fus\n",
                s->now, sim_clock_time_error(s->clock) * 1e6,
                discipline_remaining(&s->engine->discipline, raw) * 1e6, sim_clock_frequency_error(s->clock),
                s->engine->discipline.frequency_ppm, peer->source->stats.wander * 1e9,
                peer->source->poll, est.n_samples, s->engine->selection.offset_sd * 1e6,
                s->engine->discipline.last_offset * 1e6);
}

/* With SIM_TRACE_SAMPLES set, each sample: its offset, the offset's error,
 * its round trip. The engine timestamps with the cooked clock (the raw
 * clock plus the correction still being slewed), so the offset's error is
 * against that clock's time error when the reply arrived. */
static bool tracing_samples(const Sim *s) {
        return s->trace && getenv("SIM_TRACE_SAMPLES");
}

static void trace_sample(Sim *s, Peer *peer, double time_error) {
        const SourceSample *x = &peer->source->last_sample;

        if (!tracing_samples(s))
                return;
        fprintf(stderr, "   sample %9.1f off %+9.1fus (error %+9.1fus) delay %8.1fus\n", s->now, x->offset * 1e6,
                (x->offset + time_error) * 1e6, x->delay * 1e6);
}

/* What the daemon does when a datagram arrives (peer_handle_datagram). */
static void on_arrival(Sim *s, Peer *peer, Flight *f) {
        NtpPacket pkt;
        nsec_t t4;

        f->active = false;
        if (ntp_packet_parse(f->buf, f->len, &pkt) != NTP_DROP_NONE)
                return;
        if (engine_now(s->engine, &t4) < 0)
                return;
        /* The cooked clock's time error as the reply arrives, for the trace. */
        double time_error = 0;
        nsec_t raw;
        if (tracing_samples(s) && clock_read(s->clock, &raw) >= 0)
                time_error = sim_clock_time_error(s->clock) + discipline_remaining(&s->engine->discipline, raw);
        if (engine_process_reply(s->engine, peer->source, &pkt, t4) == SOURCE_REPLY_OK) {
                /* As peer_follow_poll() does: a shorter poll counts from
                 * the last request. */
                peer->next_poll = MIN(peer->next_poll,
                                      MAX(peer->polled_at + source_poll_interval(peer->source), s->now));
                trace_sample(s, peer, time_error);
                trace_update(s, peer);
        }
}

static void take_sample(Sim *s) {
        const Discipline *d = &s->engine->discipline;

        s->errors[s->n_samples] = sim_clock_time_error(s->clock);
        nsec_t raw;
        if (s->p->measure_estimate && clock_read(s->clock, &raw) >= 0)
                s->errors[s->n_samples] += discipline_remaining(d, raw);
        s->freq_errors[s->n_samples] = sim_clock_frequency_error(s->clock);
        /* Without the phase correction in progress: what the discipline
         * believes the clock's frequency error to be, against the truth. */
        s->base_freq_errors[s->n_samples] = s->freq_errors[s->n_samples] - (d->slewing ? d->slew_rate * 1e6 : 0);
        if (d->n_updates > 0 && !isfinite(s->first_update))
                s->first_update = s->now;
        s->n_samples++;
        for (size_t i = 0; i < s->p->n_servers; i++)
                s->result->max_poll = MAX(s->result->max_poll, s->peers[i].source->poll);
}

static int add_peer(Sim *s, size_t i, uint64_t seed) {
        const SimServer *v = &s->p->servers[i];
        char spec_text[256], name[32];
        const char *reason;
        SourceSpec spec;
        int r;

        snprintf(name, sizeof name, "10.0.0.%zu", i + 1);
        snprintf(spec_text, sizeof spec_text, "%s %s", name, v->options ?: "");
        r = source_spec_parse(SOURCE_KIND_SERVER, spec_text, &spec, &reason);
        if (r < 0) {
                fprintf(stderr, "Bad server options \"%s\": %s\n", spec_text, reason);
                return r;
        }
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123),
                                 .sin_addr.s_addr = htonl(0x0a000001 + (uint32_t) i) };
        r = engine_add_source(s->engine, &spec, name, (const struct sockaddr *) &a, sizeof a,
                              &s->peers[i].source);
        source_spec_done(&spec);
        if (r < 0)
                return r;
        s->peers[i].server = v;
        /* As the daemon staggers its first requests. */
        s->peers[i].next_poll = 0.1 * (double) i;
        sim_random_seed(&s->peers[i].random, seed * 1000003 + i + 1);
        return 0;
}

static int load_tzfile(Sim *s, const char *path) {
        _cleanup_free_ uint8_t *buf = malloc(MAX_TZFILE_SIZE);
        LeapTable *t;
        ssize_t n;
        int fd, r;

        if (!buf)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, MAX_TZFILE_SIZE);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return r;
        r = leap_table_parse_tzfile(buf, (size_t) n, &t);
        if (r < 0)
                return r;
        engine_set_leap_table(s->engine, t);
        return 0;
}

/* The next event: 0 poll, 1 arrival, 2 discipline timer, 3 sample, 4 end,
 * 5 external step, 6 housekeeping. */
static int next_event(Sim *s, double until, double *when, Peer **peer, Flight **flight) {
        double next_sample = s->next_sample;
        int kind = 4;

        *when = MIN(until, s->p->duration);
        for (size_t i = 0; i < s->p->n_servers; i++) {
                Peer *p = &s->peers[i];
                if (p->next_poll < *when) {
                        *when = p->next_poll;
                        *peer = p;
                        kind = 0;
                }
                for (size_t k = 0; k < MAX_FLIGHTS; k++)
                        if (p->flights[k].active && p->flights[k].arrive < *when) {
                                *when = p->flights[k].arrive;
                                *peer = p;
                                *flight = &p->flights[k];
                                kind = 1;
                        }
        }
        if (s->timer < *when) {
                *when = s->timer;
                kind = 2;
        }
        if (s->next_step < *when) {
                *when = s->next_step;
                kind = 5;
        }
        if (s->next_housekeeping < *when) {
                *when = s->next_housekeeping;
                kind = 6;
        }
        if (next_sample <= *when) {
                *when = next_sample;
                kind = 3;
        }
        return kind;
}

double sim_sync_threshold(const SimParams *p) {
        return p->sync_threshold > 0 ? p->sync_threshold : SIM_SYNC_THRESHOLD;
}

static bool synced_at(Sim *s, size_t i) {
        double freq = s->p->sync_freq_threshold > 0 ? s->p->sync_freq_threshold : SIM_SYNC_FREQ_THRESHOLD;
        return fabs(s->errors[i]) < sim_sync_threshold(s->p) && fabs(s->freq_errors[i]) < freq;
}

/* Whether t falls within STEP_WINDOW seconds after an external step. */
static bool in_step_window(const SimParams *p, double t) {
        if (p->step_at <= 0 || t < p->step_at)
                return false;
        double since = p->step_every > 0 ? fmod(t - p->step_at, p->step_every) : t - p->step_at;
        return since < STEP_WINDOW;
}

/* The true time of error sample i, and the first sample at or after t. */
static double sample_time(size_t i) {
        return (double) i * SAMPLE_STEP + SAMPLE_PHASE;
}

static size_t first_sample_from(double t) {
        return (size_t) ceil((t - SAMPLE_PHASE) / SAMPLE_STEP);
}

/* When the errors were back under the thresholds for good, after the last
 * sample that was not (SIZE_MAX: none; 0 is returned), or INFINITY when
 * that was the last sample. */
static double settled_after(const Sim *s, size_t last_bad) {
        if (last_bad == SIZE_MAX)
                return 0;
        if (last_bad + 1 >= s->n_samples)
                return INFINITY;
        return sample_time(last_bad + 1);
}

/* For each external step: the time until the error is back under the
 * sync threshold (and stays so until the next step or the end). */
static void summarize_steps(Sim *s, SimResult *r) {
        const SimParams *p = s->p;

        if (p->step_at <= 0)
                return;
        for (double at = p->step_at; at < p->duration; at = p->step_every > 0 ? at + p->step_every : INFINITY) {
                double until = p->step_every > 0 ? MIN(at + p->step_every, p->duration) : p->duration;
                size_t last_bad = SIZE_MAX;
                for (size_t i = first_sample_from(at); i < s->n_samples && sample_time(i) < until; i++)
                        if (!synced_at(s, i))
                                last_bad = i;
                double t_ok = last_bad == SIZE_MAX ? at : sample_time(last_bad + 1);
                r->max_step_recovery = MAX(r->max_step_recovery, t_ok >= until ? INFINITY : t_ok - at);
        }
}

/* The time from the clock's frequency jump until the error is back under
 * the sync threshold for good, and the largest error after it. */
static void summarize_jump(Sim *s, SimResult *r) {
        double at = s->p->clock.jump_at;
        size_t last_bad = SIZE_MAX;

        if (at <= 0)
                return;
        for (size_t i = first_sample_from(at); i < s->n_samples; i++) {
                r->max_error_after_jump = MAX(r->max_error_after_jump, fabs(s->errors[i]));
                if (!synced_at(s, i))
                        last_bad = i;
        }
        r->jump_recovery = last_bad == SIZE_MAX ? 0 : settled_after(s, last_bad) - at;
}

static void summarize(Sim *s) {
        SimResult *r = s->result;
        double sum2 = 0, sumf2 = 0, early2 = 0, leap_from = INFINITY, leap_at = INFINITY;
        size_t n = 0, n_early = 0, last_bad = SIZE_MAX;
        /* The base frequency is judged from the sample after the first
         * update (before it, the clock runs on its own error). */
        double update_from = s->first_update + SAMPLE_STEP;
        if (s->p->leap_midnight)
                leap_at = nsec_diff(s->p->leap_midnight, s->p->start) - 1;
        leap_from = leap_at + 31;
        bool slewed_leap = s->p->engine.leap_mode == ENGINE_LEAP_SLEW;
        for (size_t i = 0; i < s->n_samples; i++) {
                double t = sample_time(i), e = fabs(s->errors[i]);
                if (t >= leap_at && t < leap_from) {
                        r->max_error_in_leap = MAX(r->max_error_in_leap, e);
                        /* A leap slewed by us is meant to be up to 1 s
                         * off for a dozen seconds: judged on its own. */
                        if (slewed_leap)
                                continue;
                }
                /* Someone else's step and our recovery from it are judged
                 * on their own (max_step_recovery). */
                if (in_step_window(s->p, t))
                        continue;
                /* A jump of the clock's frequency is judged on its own
                 * (jump_recovery). */
                bool after_jump = s->p->clock.jump_at > 0 && t >= s->p->clock.jump_at;
                if (!synced_at(s, i) && !after_jump)
                        last_bad = i;
                if (t >= leap_from)
                        r->max_error_after_leap = MAX(r->max_error_after_leap, e);
                if (t >= update_from)
                        r->max_base_freq_error = MAX(r->max_base_freq_error, fabs(s->base_freq_errors[i]));
                if (t < s->p->measure_from) {
                        if (t >= EARLY_FROM) {
                                early2 += s->base_freq_errors[i] * s->base_freq_errors[i];
                                n_early++;
                        }
                        continue;
                }
                r->max_error = MAX(r->max_error, e);
                r->max_freq_error = MAX(r->max_freq_error, fabs(s->freq_errors[i]));
                sum2 += e * e;
                sumf2 += s->freq_errors[i] * s->freq_errors[i];
                n++;
        }
        r->rms_error = n > 0 ? sqrt(sum2 / n) : INFINITY;
        r->rms_freq_error_early = n_early > 0 ? sqrt(early2 / n_early) : INFINITY;
        r->rms_freq_error = n > 0 ? sqrt(sumf2 / n) : INFINITY;
        r->sync_time = settled_after(s, last_bad);

        summarize_steps(s, r);
        summarize_jump(s, r);
        r->packets_per_second = (double) s->peers[0].source->n_requests / s->p->duration;

        Source *sel = s->engine->selected ?: s->peers[0].source;
        r->final_poll = sel->poll;
        r->steps = sim_clock_steps(s->clock);
        r->synchronized = s->engine->synchronized;
        r->kernel_leaps = sim_clock_leaps_applied(s->clock);
        for (size_t i = 0; i < s->p->n_servers; i++)
                r->states[i] = s->peers[i].source->state;
}

Sim *sim_free(Sim *s) {
        if (!s)
                return NULL;
        engine_free(s->engine);
        clock_free(s->clock);
        free(s->errors);
        free(s->freq_errors);
        free(s->base_freq_errors);
        free(s);
        return NULL;
}

int sim_run_until(Sim *s, double until) {
        for (;;) {
                Peer *peer = NULL;
                Flight *flight = NULL;
                double when;
                int kind = next_event(s, until, &when, &peer, &flight);

                sim_clock_advance(s->clock, when - s->now);
                s->now = MAX(s->now, when);
                if (kind <= 2 || kind == 6)
                        (void) sim_check_clock_step(s);
                switch (kind) {
                case 0:
                        on_poll(s, peer);
                        break;
                case 1:
                        on_arrival(s, peer, flight);
                        break;
                case 2:
                        (void) engine_on_timer(s->engine);
                        break;
                case 5:
                        external_step(s);
                        continue;
                case 6:
                        s->next_housekeeping += HOUSEKEEPING_PERIOD;
                        break;
                case 3:
                        take_sample(s);
                        s->next_sample = sample_time(s->n_samples);
                        continue;
                default:
                        return 0;
                }
                rearm_timer(s);
        }
}

int sim_new(const SimParams *p, uint64_t seed, bool trace, SimResult *result, Sim **ret) {
        _cleanup_(sim_freep) Sim *s = NULL;
        int r;

        *result = (SimResult) {};
        if (p->n_servers == 0 || p->n_servers > SIM_MAX_SERVERS || p->duration <= 0)
                return -EINVAL;
        s = calloc(1, sizeof(Sim));
        if (!s)
                return -ENOMEM;
        *s = (Sim) { .params = *p, .p = &s->params, .timer = INFINITY, .first_update = INFINITY, .trace = trace,
                     .result = result, .step_sign = 1, .next_step = p->step_at > 0 ? p->step_at : INFINITY,
                     .next_housekeeping = HOUSEKEEPING_PERIOD, .next_sample = SAMPLE_PHASE };
        SimParams *q = &s->params;
        if (q->start == 0)
                q->start = DEFAULT_START;
        q->clock.start = q->start;
        q->clock.seed = seed;
        sim_random_seed(&s->cookies, ~seed);

        size_t n = (size_t) (q->duration / SAMPLE_STEP) + 2;
        s->errors = calloc(n, sizeof(double));
        s->freq_errors = calloc(n, sizeof(double));
        s->base_freq_errors = calloc(n, sizeof(double));
        if (!s->errors || !s->freq_errors || !s->base_freq_errors)
                return -ENOMEM;
        r = clock_new_sim(&q->clock, &s->clock);
        if (r < 0)
                return r;
        if (q->leap_midnight)
                sim_clock_schedule_leap(s->clock, q->leap_midnight, q->leap_sign);
        r = engine_new(s->clock, &q->engine, &s->engine);
        if (r < 0)
                return r;
        engine_set_change_handler(s->engine, on_engine_change, s);
        if (q->tzfile) {
                r = load_tzfile(s, q->tzfile);
                if (r < 0) {
                        fprintf(stderr, "Cannot use %s as leap second table: %s\n", q->tzfile, strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < q->n_servers; i++) {
                r = add_peer(s, i, seed);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

void sim_finish(Sim *s) {
        summarize(s);
}

Engine *sim_engine(Sim *s) {
        return s->engine;
}

Clock *sim_clock(Sim *s) {
        return s->clock;
}

Source *sim_source(Sim *s, size_t i) {
        assert(i < s->p->n_servers);
        return s->peers[i].source;
}

double sim_now(const Sim *s) {
        return s->now;
}

int sim_run(const SimParams *p, uint64_t seed, bool trace, SimResult *ret) {
        _cleanup_(sim_freep) Sim *s = NULL;
        int r = sim_new(p, seed, trace, ret, &s);
        if (r < 0)
                return r;
        r = sim_run_until(s, p->duration);
        if (r < 0)
                return r;
        sim_finish(s);
        return 0;
}
