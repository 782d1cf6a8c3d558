/* Source selection (see selection.h): intersection of correctness intervals,
 * choice of the system peer, and combining of the survivors. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
        .auth_mode = SELECT_AUTH_MIX,
};

static const char *const select_auth_mode_names[_SELECT_AUTH_MODE_MAX] = {
        [SELECT_AUTH_REQUIRE] = "require",
        [SELECT_AUTH_PREFER] = "prefer",
        [SELECT_AUTH_MIX] = "mix",
        [SELECT_AUTH_IGNORE] = "ignore",
};

const char *select_auth_mode_to_string(SelectAuthMode m) {
        return m >= 0 && m < _SELECT_AUTH_MODE_MAX ? select_auth_mode_names[m] : NULL;
}

SelectAuthMode select_auth_mode_from_string(const char *s) {
        for (SelectAuthMode m = 0; m < _SELECT_AUTH_MODE_MAX; m++)
                if (streq(s, select_auth_mode_names[m]))
                        return m;
        return _SELECT_AUTH_MODE_INVALID;
}

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

/* Marzullo's sweep: finds the greatest number of the voters' intervals
 * sharing a point and marks the markable candidates whose interval reaches
 * a point of that depth. Returns the depth. */
static unsigned intersect(const SelectCandidate *c, size_t n, const bool *voter, const bool *markable,
                          bool *truechimer) {
        _cleanup_free_ Endpoint *e = calloc(2 * n + 1, sizeof(Endpoint));
        unsigned depth = 0, best = 0;
        size_t m = 0;

        if (!e)
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (!voter[i])
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
                        if (markable[i] && c[i].offset - c[i].distance <= hi &&
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

/* Whether candidate i takes part in the combined estimate. */
static bool combined(const SelectState *states, size_t i) {
        return states[i] == SELECT_COMBINED || states[i] == SELECT_SELECTED;
}

static int majority_leap(const SelectCandidate *c, size_t n, const SelectState *states) {
        _cleanup_free_ NtpLeap *bits = calloc(n + 1, sizeof(NtpLeap));
        size_t m = 0;

        if (!bits)
                return NTP_LEAP_NONE;
        for (size_t i = 0; i < n; i++)
                if (combined(states, i))
                        bits[m++] = (NtpLeap) (c[i].leap & 3);
        return leap_vote(bits, m);
}

/* The part of a candidate's quality that is its estimate's own spread. */
static double own_spread(const SelectCandidate *c) {
        return MAX(quality(c) - c->asymmetry_bound, 1e-9);
}

/* How much of each source's asymmetry bound is a real, fixed error, as a
 * fraction k of it: each offset is truth + k lambda_i b_i + noise_i (b_i
 * of variance 1, noise_i of variance s_i^2), and the spread of the offsets
 * beyond their noise tells k^2 (the moment estimate of a random-effects
 * meta-analysis, DerSimonian and Laird): with w_i = 1 / s_i^2 and Q the
 * weighted sum of squares about the weighted mean,
 *     E[Q] = (m - 1) + k^2 (sum w_i lambda_i^2 - sum w_i^2 lambda_i^2 / sum w_i).
 * At most 1/3, a bias spread evenly over the whole bound. */
static double asymmetry_share2(const SelectCandidate *c, size_t n, const SelectState *states) {
        double sw = 0, swx = 0, m = 0;

        for (size_t i = 0; i < n; i++)
                if (combined(states, i)) {
                        if (c[i].asymmetry_bound <= 0)
                                return -1;
                        double s = own_spread(&c[i]);
                        sw += 1 / (s * s);
                        swx += c[i].offset / (s * s);
                        m++;
                }
        if (m < 2)
                return 1.0 / 3;
        double mean = swx / sw, q = 0, sl2 = 0, sw2l2 = 0;
        for (size_t i = 0; i < n; i++)
                if (combined(states, i)) {
                        double s = own_spread(&c[i]), w = 1 / (s * s);
                        double l2 = c[i].asymmetry_bound * c[i].asymmetry_bound;
                        q += w * (c[i].offset - mean) * (c[i].offset - mean);
                        sl2 += w * l2;
                        sw2l2 += w * w * l2;
                }
        double scale = sl2 - sw2l2 / sw;
        if (!(scale > 0))
                return 1.0 / 3;
        return CLAMP((q - (m - 1)) / scale, 0.0, 1.0 / 3);
}

/* A combined source's variance: its spread, and its asymmetry bound at the
 * share the sources' disagreement supports (k2 < 0: quality^2). */
static double combined_variance(const SelectCandidate *c, double k2) {
        if (k2 < 0)
                return MAX(quality(c) * quality(c), 1e-18);
        double s = own_spread(c);
        return s * s + k2 * c->asymmetry_bound * c->asymmetry_bound;
}

/* Inverse-variance combination of the combined sources: offsets weighted by
 * their variances (combined_variance()), frequencies by 1/skew^2. */
static void combine(const SelectCandidate *c, size_t n, const SelectState *states, SelectResult *r) {
        double sw = 0, swo = 0, swf = 0, sf = 0, spread = 0;
        double k2 = asymmetry_share2(c, n, states);

        for (size_t i = 0; i < n; i++) {
                if (!combined(states, i))
                        continue;
                double w = 1.0 / combined_variance(&c[i], k2);
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
                if (!combined(states, i))
                        continue;
                double w = 1.0 / combined_variance(&c[i], k2);
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

/* Which candidates the authentication mode lets take part at all; and
 * whether the authenticated ones alone vote (mix, with both kinds). */
static bool auth_policy(const SelectCandidate *c, size_t n, SelectAuthMode mode, bool *allowed) {
        bool any_auth = false, any_unauth = false;

        for (size_t i = 0; i < n; i++)
                if (!c[i].noselect) {
                        any_auth |= c[i].authenticated;
                        any_unauth |= !c[i].authenticated;
                }
        for (size_t i = 0; i < n; i++)
                allowed[i] = c[i].authenticated || mode == SELECT_AUTH_MIX || mode == SELECT_AUTH_IGNORE ||
                             (mode == SELECT_AUTH_PREFER && !any_auth);
        return mode == SELECT_AUTH_MIX && any_auth && any_unauth;
}

static bool any_authenticated(const SelectCandidate *c, size_t n, const bool *ok) {
        for (size_t i = 0; i < n; i++)
                if (ok[i] && c[i].authenticated)
                        return true;
        return false;
}

void select_sources(const SelectCandidate *c, size_t n, int previous, const SelectParams *p,
                    SelectState *states, SelectResult *ret) {
        _cleanup_free_ bool *eligible = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *voter = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *truechimer = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *ok = calloc(n + 1, sizeof(bool));
        unsigned n_eligible = 0, n_pending = 0, n_ok = 0, n_prefer = 0;

        assert(states && ret && (c || n == 0));
        *ret = (SelectResult) { .selected = -1 };
        for (size_t i = 0; i < n; i++)
                states[i] = SELECT_UNUSABLE;
        if (!eligible || !voter || !truechimer || !ok) {
                ret->reason = "out of memory";
                return;
        }

        /* ok[] holds what the authentication mode allows, for now. */
        bool trust_auth = auth_policy(c, n, p->auth_mode, ok);
        for (size_t i = 0; i < n; i++) {
                bool votes = ok[i] && (!trust_auth || c[i].authenticated);
                eligible[i] = ok[i] && c[i].usable && c[i].distance <= p->max_distance;
                voter[i] = eligible[i] && votes;
                n_eligible += voter[i];
                n_pending += votes && !eligible[i] && c[i].pending;
                ok[i] = false;
        }
        ret->n_voters = n_eligible + n_pending;
        if (n_eligible == 0) {
                ret->reason = n_pending > 0 ? "waiting for the sources to answer"
                              : trust_auth  ? "no authenticated source is usable"
                                            : "no usable source";
                return;
        }
        /* With both kinds in mix, the authenticated sources find the
         * interval, and an unauthenticated one agrees by overlapping it:
         * it can never outvote them. */
        unsigned depth = intersect(c, n, voter, eligible, truechimer);
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
        if (trust_auth && !any_authenticated(c, n, ok)) {
                mark_remaining(n, eligible, truechimer, true, states);
                ret->reason = "no authenticated source agrees";
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
