/* Random worlds: the conditions of one simulation drawn from a seed. The
 * ranges reach past what the scenarios hold: frequency errors from 1 to
 * 60,000 ppm, offsets from 0.1 ms to 200 s, wander up to 1e-7, drift files
 * right or wrong by up to 1e4 ppm and claiming anything from 0.1 to 1e5
 * ppm, paths from 10 us to 60 ms with exponential, normal or |normal|
 * jitter from 1 us to 3 ms, asymmetric jitter, loss, held packets, fixed
 * asymmetry, coarse server clocks, and steps by someone else. */
#include <math.h>
#include <stdio.h>

#include "worlds.h"

/* splitmix64: small, and its draws do not depend on the simulator's own
 * generator, so that a world stays the same when the simulator changes. */
typedef struct Draw {
        uint64_t state;
} Draw;

static uint64_t next(Draw *d) {
        uint64_t z = (d->state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static double uniform(Draw *d) {
        return (double) (next(d) >> 11) * 0x1.0p-53;
}

/* Uniform in log between a and b. */
static double log_uniform(Draw *d, double a, double b) {
        return exp(log(a) + uniform(d) * (log(b) - log(a)));
}

static double sign(Draw *d) {
        return uniform(d) < 0.5 ? -1 : 1;
}

static int integer(Draw *d, int a, int b) {
        return a + (int) (next(d) % (uint64_t) (b - a + 1));
}

#define APPEND(w, n, ...) (n += snprintf((w)->description + (n), sizeof (w)->description - (n), __VA_ARGS__))

static void draw_clock(World *w, Draw *d, size_t *n) {
        static const double step_threshold[] = { -1, 1, 1, 1, 0.1 };
        static const int step_limit[] = { 0, 1, 3, -1, -1 };
        SimParams *p = &w->params;

        p->clock.frequency_ppm = sign(d) * log_uniform(d, 1, 60000);
        p->clock.initial_offset = sign(d) * log_uniform(d, 1e-4, 200);
        p->clock.wander = uniform(d) < 0.2 ? 0 : log_uniform(d, 1e-10, 1e-7);
        int makestep = integer(d, 0, 4);
        if (makestep) {
                p->engine.discipline.makestep_threshold = step_threshold[makestep];
                p->engine.discipline.makestep_limit = step_limit[makestep];
        }
        int file = integer(d, 0, 2);
        if (file) {
                double right = -p->clock.frequency_ppm / (1 + p->clock.frequency_ppm * 1e-6);
                p->engine.discipline.use_initial_frequency = true;
                p->engine.discipline.initial_frequency_ppm =
                        right + sign(d) * (file == 1 ? log_uniform(d, 0.01, 1) : log_uniform(d, 1, 1e4));
                p->engine.discipline.initial_skew_ppm = file == 1 ? log_uniform(d, 0.1, 2) : log_uniform(d, 0.1, 1e5);
        }
        APPEND(w, *n, "clock %+.1f ppm %+.3g s wander %.1e; MakeStep %g %d; drift file %s %+.2f ppm +/- %.2g;",
               p->clock.frequency_ppm, p->clock.initial_offset, p->clock.wander,
               p->engine.discipline.makestep_threshold, p->engine.discipline.makestep_limit,
               file == 0 ? "none" : file == 1 ? "right" : "wrong",
               p->engine.discipline.initial_frequency_ppm, p->engine.discipline.initial_skew_ppm);
}

static double draw_path(SimNet *net, Draw *d, double delay) {
        double jitter = log_uniform(d, 1e-6, 3e-3);
        int kind = integer(d, 0, 2);
        double asymmetry = uniform(d) < 0.3 ? sign(d) * uniform(d) * 0.47 : 0;

        *net = (SimNet) { .delay = delay };
        if (kind == 0) {
                net->jitter_exp = jitter;
                net->jitter_exp_request = jitter * (1 + 2 * asymmetry);
                net->jitter_exp_reply = jitter * (1 - 2 * asymmetry);
        } else if (kind == 1) {
                net->jitter_gauss = jitter;
                net->delay = MAX(net->delay, 4 * jitter);
        } else
                net->jitter_normal = jitter;
        if (uniform(d) < 0.3)
                net->loss = log_uniform(d, 0.01, 0.5);
        if (uniform(d) < 0.2) {
                net->spike_prob = log_uniform(d, 0.01, 0.2);
                net->spike_mean = log_uniform(d, 1e-3, 0.1);
        }
        if (uniform(d) < 0.2)
                net->asymmetry = sign(d) * log_uniform(d, 1e-5, 1e-3);
        return jitter;
}

static void draw_servers(World *w, Draw *d, size_t *n) {
        static const char *kinds[] = { "exponential", "normal", "|normal|" };
        SimParams *p = &w->params;

        p->n_servers = uniform(d) < 0.6 ? 1 : (size_t) integer(d, 2, 5);
        bool iburst = uniform(d) < 0.5;
        int minpoll = uniform(d) < 0.5 ? 6 : integer(d, -2, 8);
        int maxpoll = uniform(d) < 0.5 ? 10 : integer(d, minpoll, 12);
        maxpoll = MAX(maxpoll, minpoll);
        APPEND(w, *n, " %zu server%s%s, polls %d..%d:", p->n_servers, p->n_servers > 1 ? "s" : "",
               iburst ? " iburst" : "", minpoll, maxpoll);

        double delay = log_uniform(d, 1e-5, 3e-2);
        w->quietest_jitter = INFINITY;
        w->noisiest_jitter = 0;
        for (size_t i = 0; i < p->n_servers; i++) {
                SimServer *s = &p->servers[i];
                snprintf(w->options[i], sizeof w->options[i], "%sminpoll=%d maxpoll=%d",
                         iburst ? "iburst " : "", minpoll, maxpoll);
                s->options = w->options[i];
                double jitter = draw_path(&s->net, d, delay * log_uniform(d, 0.5, 2));
                int kind = s->net.jitter_gauss > 0 ? 1 : s->net.jitter_normal > 0 ? 2 : 0;
                s->precision = -integer(d, 16, 24);
                s->processing = uniform(d) < 0.5 ? 0 : log_uniform(d, 1e-7, 1e-3);
                w->quietest_jitter = MIN(w->quietest_jitter, jitter);
                w->noisiest_jitter = MAX(w->noisiest_jitter, jitter);
                APPEND(w, *n, " [%.0f us, %s jitter %.0f us%s, loss %.2f, held %.2f x %.0f ms, asymmetry %.0f us]",
                       s->net.delay * 1e6, kinds[kind], jitter * 1e6,
                       s->net.jitter_exp_request != s->net.jitter_exp_reply ? " asymmetric" : "",
                       s->net.loss, s->net.spike_prob, s->net.spike_mean * 1e3, s->net.asymmetry * 1e6);
        }
}

static void draw_steps(World *w, Draw *d, size_t *n) {
        SimParams *p = &w->params;

        if (uniform(d) >= 0.2)
                return;
        p->step_at = log_uniform(d, 100, 5000);
        p->step_offset = sign(d) * log_uniform(d, 1e-2, 1e5);
        p->step_every = uniform(d) < 0.3 ? log_uniform(d, 300, 3000) : 0;
        APPEND(w, *n, "; stepped %+.3g s at %.0f s", p->step_offset, p->step_at);
        if (p->step_every > 0)
                APPEND(w, *n, " and every %.0f s", p->step_every);
}

/* Errors count from when the clock can have been corrected: a few
 * thousand seconds, plus what slewing the offset (or a step that MakeStep
 * does not cover) takes at about 80,000 ppm. */
static void set_duration(SimParams *p) {
        double threshold = p->engine.discipline.makestep_threshold;
        bool may_step = p->engine.discipline.makestep_limit != 0 && threshold >= 0;
        bool steps_always = p->engine.discipline.makestep_limit < 0 && threshold >= 0;

        p->measure_from = 3000;
        if (!(may_step && fabs(p->clock.initial_offset) > threshold))
                p->measure_from += fabs(p->clock.initial_offset) / 0.08 * 1.2;
        if (p->step_at > 0 && !steps_always)
                p->measure_from = MAX(p->measure_from, p->step_at + fabs(p->step_offset) / 0.08 * 1.2 + 3000);
        p->duration = p->measure_from + 30000;
}

void world_draw(World *w, uint64_t seed) {
        Draw d = { .state = seed * 7919 + 17 };
        size_t n = 0;

        *w = (World) {};
        sim_params_defaults(&w->params);
        w->params.name = "world";
        draw_clock(w, &d, &n);
        draw_servers(w, &d, &n);
        draw_steps(w, &d, &n);
        set_duration(&w->params);
        /* Synchronised: within 1 ms, or five times the noisiest server's
         * jitter where that is more. */
        w->params.sync_threshold = MAX(1e-3, 5 * w->noisiest_jitter);
}
