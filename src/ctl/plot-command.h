/* tempusctl plot [--since DURATION] [--output FILE.svg] [--log-dir DIR]
 * [--config PATH]: an SVG of the clock's offset, error bound and frequency
 * from tempusd's tracking.log and statistics.log (see ctl-plot.h). The logs
 * are looked for in --log-dir, else in [Log] Dir= of tempus.conf (or of
 * PATH), else in the default log directory.
 *
 * Returns 0, -EINVAL for a usage mistake (already reported), or another
 * negative errno after reporting the failure on stderr. */
#pragma once

int plot_command(char **args, int n);
