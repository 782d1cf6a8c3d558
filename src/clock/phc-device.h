/* A PTP hardware clock device (/dev/ptpN): opening it and the three
 * ioctls that sample it against CLOCK_REALTIME, as the PhcSampleFuncs of
 * phc-sample.h. Thin I/O: what the answers mean is phc-sample.c's. */
#pragma once

#include "clock/phc-sample.h"

/* Opens /dev/ptp<index> read-only. Returns the descriptor or a negative
 * errno. */
int phc_device_open(int index);

/* The ioctls, for phc_sampler_init(); userdata points to the descriptor. */
extern const PhcSampleFunc phc_device_methods[_PHC_METHOD_MAX];
