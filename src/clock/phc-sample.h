/* Sampling a PTP hardware clock (PHC) against the system clock: which of
 * the kernel's three ways to use, and what each one's answer means as
 * PhcReadings (see phc-tracker.h). The kernel offers, from best to worst,
 * PTP_SYS_OFFSET_PRECISE (the card captures both clocks at one instant),
 * PTP_SYS_OFFSET_EXTENDED (the system clock read just before and after
 * each PHC read, in the driver) and PTP_SYS_OFFSET (the same, around the
 * whole driver call); a driver answers the ones it has. The first way that
 * works is kept; a way the driver lacks is not asked again. Pure: the
 * ioctls are behind function pointers (phc-device.h has the real ones). */
#pragma once

#include <linux/ptp_clock.h>
#include <stddef.h>

#include "clock/phc-tracker.h"

typedef enum PhcMethod {
        PHC_METHOD_PRECISE,
        PHC_METHOD_EXTENDED,
        PHC_METHOD_BASIC,
        _PHC_METHOD_MAX,
} PhcMethod;

/* Readings taken per sampling by the extended and basic ways. */
#define PHC_SAMPLE_READINGS 10

/* One way of sampling: fills up to PHC_TRACKER_MAX_READINGS readings and
 * returns how many, or a negative errno (-EOPNOTSUPP, -ENOTTY or -EINVAL
 * when the driver does not have this way). */
typedef int (*PhcSampleFunc)(void *userdata, PhcReading readings[static PHC_TRACKER_MAX_READINGS]);

typedef struct PhcSampler {
        PhcSampleFunc methods[_PHC_METHOD_MAX];
        void *userdata;
        PhcMethod method;               /* the best way not yet refused */
} PhcSampler;

void phc_sampler_init(PhcSampler *s, const PhcSampleFunc methods[static _PHC_METHOD_MAX], void *userdata);

/* Samples with the best way the driver has, moving on to the next when a
 * way is refused (and remembering that). Returns the number of readings,
 * -EOPNOTSUPP when the driver has none of the ways, or another negative
 * errno from the driver (a passing failure: the way stays). */
int phc_sampler_sample(PhcSampler *s, PhcReading readings[static PHC_TRACKER_MAX_READINGS]);

const char *phc_method_to_string(PhcMethod m);

/* The answers of the three ioctls as readings. Each returns the number of
 * readings; the kernel's n_samples is clamped to PTP_MAX_SAMPLES. */
size_t phc_readings_from_precise(const struct ptp_sys_offset_precise *p, PhcReading *ret);
size_t phc_readings_from_extended(const struct ptp_sys_offset_extended *p, PhcReading *ret);
size_t phc_readings_from_basic(const struct ptp_sys_offset *p, PhcReading *ret);
