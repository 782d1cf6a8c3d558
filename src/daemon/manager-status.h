/* What tempusd tells the world about its state: the one-line status for
 * `systemctl status` (sd_notify STATUS=), READY=1, the kernel's sync status
 * (so `timedatectl` says whether the clock is synchronized), the tracking
 * log, and log messages when synchronisation is gained or lost. */
#pragma once

#include <stddef.h>

#include "core/engine.h"
#include "daemon/logfile.h"

/* Formats the status line, e.g.
 *   "Synchronized to 192.168.2.100 (stratum 11), offset +12us, 3 sources"
 *   "Not synchronized: no source reachable"  */
char *status_format(char *buf, size_t size, const Tracking *t, size_t n_sources, const char *reason);

/* The tracking report as tempusd shows it (tempusctl tracking, D-Bus, the
 * tracking log): the engine's, with System time measured against the system
 * clock. With clock control that is the correction still being slewed;
 * under Control=no, where tempusd disciplines a virtual clock on top of the
 * system clock (clock-none.c), it adds the virtual clock's own offset, so
 * it is the full estimate of how far the system clock is from true time, as
 * chronyd -x reports it. Frequency needs no such change: the discipline's
 * base frequency is the rate it gives the virtual clock against the system
 * clock, so its negation is the system clock's own rate error either way. */
void status_tracking(Engine *e, Tracking *ret);

/* A tracking log line from a report, in chrony's signs: Offset is local -
 * true at the last update, Rem. corr. positive when the system clock is
 * slow. */
void status_tracking_log_row(const Tracking *t, LogTracking *ret);
