/* tempusctl metrics [--format=openmetrics|prometheus] [--http]: the daemon's
 * state for Prometheus, printed, or served as the answer to one HTTP
 * request read from standard input (what tempus-metrics@.service runs on a
 * connection that tempus-metrics.socket accepted).
 *
 * Returns 0, -EINVAL for a usage mistake (already reported), or another
 * negative errno after reporting the failure on stderr. */
#pragma once

#include "ctl/ctl-bus.h"

int metrics_command(CtlBusKind kind, const char *address, char **args, int n);
