/* Choosing how to sample a PHC, and reading the answers (see phc-sample.h). */
#include <assert.h>
#include <errno.h>

#include "clock/phc-sample.h"
#include "shared/macro.h"

void phc_sampler_init(PhcSampler *s, const PhcSampleFunc methods[static _PHC_METHOD_MAX], void *userdata) {
        *s = (PhcSampler) { .userdata = userdata, .method = PHC_METHOD_PRECISE };
        for (size_t i = 0; i < _PHC_METHOD_MAX; i++)
                s->methods[i] = methods[i];
}

static bool method_missing(int r) {
        return r == -EOPNOTSUPP || r == -ENOTTY || r == -EINVAL;
}

int phc_sampler_sample(PhcSampler *s, PhcReading readings[static PHC_TRACKER_MAX_READINGS]) {
        assert(s);
        for (; s->method < _PHC_METHOD_MAX; s->method++) {
                PhcSampleFunc f = s->methods[s->method];
                if (!f)
                        continue;
                int r = f(s->userdata, readings);
                if (!method_missing(r))
                        return r;
        }
        return -EOPNOTSUPP;
}

const char *phc_method_to_string(PhcMethod m) {
        static const char *const names[_PHC_METHOD_MAX] = {
                [PHC_METHOD_PRECISE] = "PTP_SYS_OFFSET_PRECISE",
                [PHC_METHOD_EXTENDED] = "PTP_SYS_OFFSET_EXTENDED",
                [PHC_METHOD_BASIC] = "PTP_SYS_OFFSET",
        };
        return m < _PHC_METHOD_MAX ? names[m] : "none";
}

static nsec_t ptp_time_to_nsec(const struct ptp_clock_time *t) {
        return (nsec_t) t->sec * NSEC_PER_SEC + t->nsec;
}

/* The card took both at one instant: no bracket. */
size_t phc_readings_from_precise(const struct ptp_sys_offset_precise *p, PhcReading *ret) {
        nsec_t sys = ptp_time_to_nsec(&p->sys_realtime);
        ret[0] = (PhcReading) { .sys_before = sys, .phc = ptp_time_to_nsec(&p->device), .sys_after = sys };
        return 1;
}

size_t phc_readings_from_extended(const struct ptp_sys_offset_extended *p, PhcReading *ret) {
        size_t n = MIN((size_t) p->n_samples, (size_t) PTP_MAX_SAMPLES);
        for (size_t i = 0; i < n; i++)
                ret[i] = (PhcReading) {
                        .sys_before = ptp_time_to_nsec(&p->ts[i][0]),
                        .phc = ptp_time_to_nsec(&p->ts[i][1]),
                        .sys_after = ptp_time_to_nsec(&p->ts[i][2]),
                };
        return n;
}

/* ts[] alternates system, PHC, system, ..., system: each PHC reading lies
 * between the system readings on either side. */
size_t phc_readings_from_basic(const struct ptp_sys_offset *p, PhcReading *ret) {
        size_t n = MIN((size_t) p->n_samples, (size_t) PTP_MAX_SAMPLES);
        for (size_t i = 0; i < n; i++)
                ret[i] = (PhcReading) {
                        .sys_before = ptp_time_to_nsec(&p->ts[2 * i]),
                        .phc = ptp_time_to_nsec(&p->ts[2 * i + 1]),
                        .sys_after = ptp_time_to_nsec(&p->ts[2 * i + 2]),
                };
        return n;
}
