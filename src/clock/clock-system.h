/* Pure helpers of the "system" clock backend, exposed for tests. */
#pragma once

#include "clock/clock.h"

/* Splits a frequency offset (ppm) into a kernel tick length (us per tick,
 * nominal tick_nominal) and the remainder for ADJ_FREQUENCY in the kernel's
 * 2^-16 ppm units. Offsets within +/-500 ppm keep the nominal tick; larger
 * ones move the tick (1 us per tick = 1e6 / tick_nominal ppm) so that the
 * remainder stays small. Returns -ERANGE beyond +/-10% (the kernel's tick
 * limit). */
int clock_system_split_frequency(double ppm, long tick_nominal, long *ret_tick, long *ret_freq);
/* The inverse: ppm from a tick and a 2^-16 ppm frequency. */
double clock_system_join_frequency(long tick, long freq, long tick_nominal);

/* The kernel's largest maxerror/esterror (NTP_PHASE_LIMIT): 16 s, which
 * timedated and ntp_adjtime() users read as "not synchronised". */
#define CLOCK_SYSTEM_MAX_ERROR_USEC 16000000L

/* maxerror or esterror for the kernel, microseconds: the bound when
 * synchronised, the 16 s limit otherwise. */
long clock_system_error_usec(bool synchronized, double seconds);

/* Kernel status bits for a sync state, keeping unrelated bits of current.
 * STA_UNSYNC is set unless synchronized with RTCSync=yes and an RTC that
 * keeps UTC (a clear STA_UNSYNC turns on the kernel's 11-minute RTC
 * updates). The kernel's own PLL/FLL/PPS discipline is switched off. */
int clock_system_status_bits(const ClockSyncStatus *s, int current);
