/* Source selection (see selection.h): intersection of correctness intervals,
 * choice of the system peer, and combining of the survivors. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "core/leap.h"
#include "core/selection.h"
#include "shared/macro.h"

const SelectParams select_default_params = {
        .min_sources = 1,
        .max_jitter = 1.0,
        .max_distance = 3.0,
        .combine_limit = 3.0,
        .reselect_distance = 100e-6,
        .stratum_weight = 1e-3,
};

static const char *const select_state_names[_SELECT_STATE_MAX] = {
        [SELECT_UNUSABLE] = "unusable",
        [SELECT_FALSETICKER] = "falseticker",
        [SELECT_JITTERY] = "jittery",
        [SELECT_NOT_COMBINED] = "not-combined",
        [SELECT_COMBINED] = "combined",
        [SELECT_SELECTED] = "selected",
};

const char *select_state_to_string(SelectState s) {
        return s >= 0 && s < _SELECT_STATE_MAX ? select_state_names[s] : NULL;
}

typedef struct Endpoint {
        double value;
        int type;               /* +1 interval starts, -1 interval ends */
} Endpoint;

static int endpoint_compare(const void *a, const void *b) {
        const Endpoint *x = a, *y = b;
        if (x->value != y->value)
                return x->value < y->value ? -1 : 1;
        /* Starts before ends at the same point: touching intervals agree. */
        return y->type - x->type;
}

/* Marzullo's sweep: finds the greatest number of intervals sharing a point
 * and marks the candidates whose interval reaches a point of that depth.
 * Returns the depth. */
static unsigned intersect(const SelectCandidate *c, size_t n, const bool *eligible, bool *truechimer) {
        _cleanup_free_ Endpoint *e = calloc(2 * n + 1, sizeof(Endpoint));
        unsigned depth = 0, best = 0;
        size_t m = 0;

        if (!e)
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (!eligible[i])
                        continue;
                e[m++] = (Endpoint) { c[i].offset - c[i].distance, +1 };
                e[m++] = (Endpoint) { c[i].offset + c[i].distance, -1 };
        }
        qsort(e, m, sizeof(Endpoint), endpoint_compare);
        for (size_t k = 0; k < m; k++) {
                depth += e[k].type;
                best = MAX(best, depth);
        }

        /* Second pass: collect the regions at the best depth and mark every
         * interval that overlaps one of them. */
        depth = 0;
        for (size_t k = 0; k < m; k++) {
                depth += e[k].type;
                if (e[k].type != +1 || depth != best)
                        continue;
                double lo = e[k].value, hi = e[k + 1].value;
                for (size_t i = 0; i < n; i++)
                        if (eligible[i] && c[i].offset - c[i].distance <= hi &&
                            c[i].offset + c[i].distance >= lo)
                                truechimer[i] = true;
        }
        return best;
}

static double quality(const SelectCandidate *c) {
        return c->quality > 0 ? c->quality : c->distance;
}

static double score(const SelectCandidate *c, const SelectParams *p) {
        return quality(c) + p->stratum_weight * c->stratum;
}

static int pick_selected(const SelectCandidate *c, size_t n, const bool *ok, int previous,
                         const SelectParams *p) {
        int best = -1;

        for (size_t i = 0; i < n; i++)
                if (ok[i] && (best < 0 || score(&c[i], p) < score(&c[best], p)))
                        best = (int) i;
        /* Hysteresis: stay with the previous peer unless clearly beaten. */
        if (best >= 0 && previous >= 0 && (size_t) previous < n && ok[previous] &&
            score(&c[previous], p) <= score(&c[best], p) + p->reselect_distance)
                return previous;
        return best;
}

static int majority_leap(const SelectCandidate *c, size_t n, const SelectState *states) {
        _cleanup_free_ NtpLeap *bits = calloc(n + 1, sizeof(NtpLeap));
        size_t m = 0;

        if (!bits)
                return NTP_LEAP_NONE;
        for (size_t i = 0; i < n; i++)
                if (states[i] == SELECT_COMBINED || states[i] == SELECT_SELECTED)
                        bits[m++] = (NtpLeap) (c[i].leap & 3);
        return leap_vote(bits, m);
}

/* Inverse-variance combination of the combined sources: offsets weighted by
 * 1/quality^2, frequencies by 1/skew^2. */
static void combine(const SelectCandidate *c, size_t n, const SelectState *states, SelectResult *r) {
        double sw = 0, swo = 0, swf = 0, sf = 0, spread = 0;

        for (size_t i = 0; i < n; i++) {
                if (states[i] != SELECT_COMBINED && states[i] != SELECT_SELECTED)
                        continue;
                double w = 1.0 / MAX(quality(&c[i]) * quality(&c[i]), 1e-18);
                double wf = 1.0 / MAX(c[i].skew * c[i].skew, 1e-24);
                sw += w;
                swo += w * c[i].offset;
                sf += wf;
                swf += wf * c[i].frequency;
                r->n_combined++;
        }
        r->offset = swo / sw;
        r->frequency = swf / sf;
        r->skew = sqrt(1.0 / sf);
        for (size_t i = 0; i < n; i++) {
                if (states[i] != SELECT_COMBINED && states[i] != SELECT_SELECTED)
                        continue;
                double w = 1.0 / MAX(quality(&c[i]) * quality(&c[i]), 1e-18);
                double d = c[i].offset - r->offset;
                spread += w * (c[i].offset_sd * c[i].offset_sd + d * d);
        }
        r->offset_sd = sqrt(spread / sw);
}

static void mark_remaining(size_t n, const bool *eligible, const bool *truechimer, bool majority,
                           SelectState *states) {
        for (size_t i = 0; i < n; i++)
                if (eligible[i] && states[i] == SELECT_UNUSABLE)
                        states[i] = (!majority || truechimer[i]) ? SELECT_NOT_COMBINED
                                                                 : SELECT_FALSETICKER;
}

void select_sources(const SelectCandidate *c, size_t n, int previous, const SelectParams *p,
                    SelectState *states, SelectResult *ret) {
        _cleanup_free_ bool *eligible = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *truechimer = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *ok = calloc(n + 1, sizeof(bool));
        unsigned n_eligible = 0, n_pending = 0, n_ok = 0, n_prefer = 0;

        assert(states && ret && (c || n == 0));
        *ret = (SelectResult) { .selected = -1 };
        for (size_t i = 0; i < n; i++)
                states[i] = SELECT_UNUSABLE;
        if (!eligible || !truechimer || !ok) {
                ret->reason = "out of memory";
                return;
        }

        for (size_t i = 0; i < n; i++) {
                eligible[i] = c[i].usable && c[i].distance <= p->max_distance;
                n_eligible += eligible[i];
                n_pending += !eligible[i] && c[i].pending;
        }
        ret->n_voters = n_eligible + n_pending;
        if (n_eligible == 0) {
                ret->reason = n_pending > 0 ? "waiting for the sources to answer" : "no usable source";
                return;
        }
        unsigned depth = intersect(c, n, eligible, truechimer);
        ret->n_agree = depth;
        /* A majority of all who may vote: a source that has not answered
         * yet may still disagree. */
        bool majority = 2 * depth > n_eligible + n_pending;
        if (!majority) {
                mark_remaining(n, eligible, truechimer, false, states);
                ret->reason = n_pending > 0 ? "waiting for the sources to answer" : "no majority agrees";
                return;
        }

        for (size_t i = 0; i < n; i++) {
                if (!truechimer[i])
                        continue;
                if (c[i].std_dev > p->max_jitter) {
                        states[i] = SELECT_JITTERY;
                        continue;
                }
                ok[i] = true;
                n_ok++;
                n_prefer += c[i].prefer;
        }
        ret->n_truechimers = n_ok;
        if (n_ok == 0 || n_ok < p->min_sources) {
                mark_remaining(n, eligible, truechimer, true, states);
                ret->reason = n_ok == 0 ? "no source agrees" : "fewer sources agree than MinSources";
                return;
        }

        /* With preferred sources among the truechimers, only they count. */
        if (n_prefer > 0)
                for (size_t i = 0; i < n; i++)
                        ok[i] = ok[i] && c[i].prefer;

        int sel = pick_selected(c, n, ok, previous, p);
        ret->selected = sel;
        states[sel] = SELECT_SELECTED;
        for (size_t i = 0; i < n; i++)
                if (ok[i] && (int) i != sel && quality(&c[i]) <= p->combine_limit * quality(&c[sel]))
                        states[i] = SELECT_COMBINED;
        mark_remaining(n, eligible, truechimer, true, states);

        combine(c, n, states, ret);
        ret->root_delay = c[sel].root_delay;
        ret->root_dispersion = c[sel].root_dispersion;
        ret->leap = majority_leap(c, n, states);
}
