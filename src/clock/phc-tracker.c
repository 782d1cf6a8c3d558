/* PHC to system time conversion (see phc-tracker.h). */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "clock/phc-tracker.h"
#include "shared/macro.h"

void phc_tracker_init(PhcTracker *t) {
        memset(t, 0, sizeof *t);
}

static const PhcPoint *point_at(const PhcTracker *t, size_t i) {
        assert(i < t->n);
        return &t->points[(t->first + i) % PHC_TRACKER_WINDOW];
}

/* The reading with the shortest bracket, as a point; false if none is
 * usable. */
static bool best_point(const PhcReading *r, size_t n, PhcPoint *ret) {
        nsec_t best = -1;

        for (size_t i = 0; i < n; i++) {
                nsec_t bracket = r[i].sys_after - r[i].sys_before;
                if (bracket < 0 || (best >= 0 && bracket >= best))
                        continue;
                best = bracket;
                nsec_t middle = r[i].sys_before + bracket / 2;
                *ret = (PhcPoint) {
                        .phc = r[i].phc,
                        .offset = nsec_diff(middle, r[i].phc),
                        .error = (double) bracket / 2 / NSEC_PER_SEC,
                };
        }
        return best >= 0;
}

/* Least squares of offset against PHC time over the window, relative to
 * the newest point (for precision), weighted equally. */
static void fit(PhcTracker *t) {
        const PhcPoint *last = point_at(t, t->n - 1);
        double sx = 0, sy = 0, sxx = 0, sxy = 0;

        t->ref = last->phc;
        for (size_t i = 0; i < t->n; i++) {
                double x = nsec_diff(point_at(t, i)->phc, t->ref), y = point_at(t, i)->offset;
                sx += x, sy += y, sxx += x * x, sxy += x * y;
        }
        double n = (double) t->n, d = n * sxx - sx * sx;
        t->slope = t->n >= 2 && d > 0 ? (n * sxy - sx * sy) / d : 0;
        t->offset = (sy - t->slope * sx) / n;
        double ss = 0;
        for (size_t i = 0; i < t->n; i++) {
                double x = nsec_diff(point_at(t, i)->phc, t->ref);
                double e = point_at(t, i)->offset - (t->offset + t->slope * x);
                ss += e * e;
        }
        t->residual = sqrt(ss / n);
}

static double line_at(const PhcTracker *t, nsec_t phc) {
        return t->offset + t->slope * nsec_diff(phc, t->ref);
}

/* A point off the line by more than PHC_TRACKER_STEP_SECONDS beyond its
 * own error and the line's residual. */
static bool is_step(const PhcTracker *t, const PhcPoint *p) {
        if (t->n < PHC_TRACKER_MIN_POINTS)
                return false;
        return fabs(p->offset - line_at(t, p->phc)) > PHC_TRACKER_STEP_SECONDS + p->error + 3 * t->residual;
}

int phc_tracker_add(PhcTracker *t, const PhcReading *readings, size_t n) {
        PhcPoint p;
        int stepped = 0;

        if (n == 0 || n > PHC_TRACKER_MAX_READINGS || !best_point(readings, n, &p))
                return -EINVAL;
        /* Time must move forward on the PHC too; anything else is a step. */
        if (is_step(t, &p) || (t->n > 0 && p.phc <= point_at(t, t->n - 1)->phc)) {
                t->n = t->first = 0;
                t->resets++;
                stepped = 1;
        }
        if (t->n == PHC_TRACKER_WINDOW) {
                t->first = (t->first + 1) % PHC_TRACKER_WINDOW;
                t->n--;
        }
        t->points[(t->first + t->n) % PHC_TRACKER_WINDOW] = p;
        t->n++;
        fit(t);
        return stepped;
}

int phc_tracker_convert(const PhcTracker *t, nsec_t phc, nsec_t *ret_sys, double *ret_error) {
        if (t->n < PHC_TRACKER_MIN_POINTS)
                return -EAGAIN;
        double span = nsec_diff(t->ref, point_at(t, 0)->phc);
        double ahead = nsec_diff(phc, t->ref), behind = nsec_diff(point_at(t, 0)->phc, phc);
        if (ahead > MAX(span, PHC_TRACKER_MAX_EXTRAPOLATION) || behind > span)
                return -ERANGE;
        *ret_sys = phc + seconds_to_nsec(line_at(t, phc));
        if (ret_error) {
                double best = INFINITY;
                for (size_t i = 0; i < t->n; i++)
                        best = MIN(best, point_at(t, i)->error);
                *ret_error = best + t->residual;
        }
        return 0;
}

double phc_tracker_frequency_ppm(const PhcTracker *t) {
        return t->n >= 2 ? t->slope * 1e6 : 0;
}
