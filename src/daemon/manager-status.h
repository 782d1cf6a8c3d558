/* What tempusd tells the world about its state: the one-line status for
 * `systemctl status` (sd_notify STATUS=), READY=1, the kernel's sync status
 * (so `timedatectl` says whether the clock is synchronized), the tracking
 * log, and log messages when synchronisation is gained or lost. */
#pragma once

#include <stddef.h>

#include "core/engine.h"

/* Formats the status line, e.g.
 *   "Synchronized to 192.168.2.100 (stratum 11), offset +12us, 3 sources"
 *   "Not synchronized: no source reachable"  */
char *status_format(char *buf, size_t size, const Tracking *t, size_t n_sources, const char *reason);
