/* Implementation of plot-command.h: options, finding and reading the log
 * files, writing the picture. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "ctl/ctl-i18n.h"
#include "ctl/ctl-plot.h"
#include "ctl/ctl-usage.h"
#include "ctl/plot-command.h"
#include "shared/file-util.h"
#include "shared/macro.h"

/* Larger logs are refused rather than read into memory whole. */
#define LOG_MAX_BYTES (256u * 1024 * 1024)

typedef struct PlotOptions {
        double since;           /* seconds back from now; INFINITY: all */
        const char *output;     /* NULL: standard output */
        const char *log_dir;
        const char *config;
} PlotOptions;

static int parse_options(PlotOptions *o, char **args, int n) {
        static const char *const names[] = { "--since", "--output", "--log-dir", "--config" };

        for (int i = 0; i < n; i++) {
                size_t k = 0;
                while (k < ELEMENTSOF(names) && !(strncmp(args[i], names[k], strlen(names[k])) == 0 &&
                                                 (args[i][strlen(names[k])] == '\0' || args[i][strlen(names[k])] == '=')))
                        k++;
                if (k == ELEMENTSOF(names))
                        return usage_error(_("Unknown argument to plot: '%s'."), args[i]);
                const char *value = option_value(args, n, &i);
                if (!value)
                        return usage_error(_("Option '%s' needs a value."), names[k]);
                if (k == 0 && (ctl_parse_duration(value, &o->since) < 0 || o->since <= 0))
                        return usage_error(_("Invalid duration '%s': expected e.g. 90s, 30min, 12h or 7d."), value);
                if (k == 1)
                        o->output = value;
                else if (k == 2)
                        o->log_dir = value;
                else if (k == 3)
                        o->config = value;
        }
        return 0;
}

/* The directory holding the logs: --log-dir, else [Log] Dir=, else the
 * default. *ret_owned is what the caller frees. */
static int find_log_dir(const PlotOptions *o, const char **ret, char **ret_owned) {
        Config c;
        int r;

        if (o->log_dir) {
                *ret = o->log_dir;
                return 0;
        }
        /* The log directory only: the key file is root's. */
        r = config_load_flags(o->config, 0, &c);
        if (r < 0) {
                fprintf(stderr, _("Failed to read the configuration; name the log directory with --log-dir.\n"));
                return -EIO;
        }
        *ret_owned = TAKE_PTR(c.log_dir);
        config_done(&c);
        *ret = *ret_owned ?: TEMPUS_LOG_DIR;
        return 0;
}

typedef int (*LogReader)(CtlPlotData *d, const char *text, double since, size_t *skipped);

/* Reads DIR/NAME into d. A missing file is -ENOENT, reported only when
 * required. */
static int read_log(const char *dir, const char *name, bool required, double since, LogReader reader,
                    CtlPlotData *d) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *text = NULL;
        size_t len, skipped = 0;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_small_file(path, LOG_MAX_BYTES, &text, &len);
        if (r == -ENOENT && !required)
                return 0;
        if (r < 0) {
                fprintf(stderr, _("Failed to read %s: %s\n"), path, strerror(-r));
                return -EIO;
        }
        r = reader(d, text, since, &skipped);
        if (r < 0)
                return r;
        if (skipped > 0)
                fprintf(stderr, ngettext("Skipped %zu line of %s that is not a log row.\n",
                                         "Skipped %zu lines of %s that are not log rows.\n", skipped),
                        skipped, path);
        return 0;
}

static int write_plot(const PlotOptions *o, const CtlPlotData *d) {
        FILE *f = o->output ? fopen(o->output, "we") : stdout;
        int r;

        if (!f) {
                fprintf(stderr, _("Failed to write %s: %s\n"), o->output, strerror(errno));
                return -EIO;
        }
        r = ctl_plot_write_svg(f, d);
        if (fflush(f) != 0 && r >= 0)
                r = -errno;
        if (f != stdout && fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0) {
                fprintf(stderr, _("Failed to write %s: %s\n"), o->output ?: "-", strerror(-r));
                return -EIO;
        }
        return 0;
}

int plot_command(char **args, int n) {
        PlotOptions o = { .since = INFINITY };
        _cleanup_free_ char *owned_dir = NULL;
        _cleanup_(ctl_plot_data_done) CtlPlotData d = {};
        const char *dir;
        int r;

        r = parse_options(&o, args, n);
        if (r < 0)
                return r;
        r = find_log_dir(&o, &dir, &owned_dir);
        if (r < 0)
                return r;
        double since = isinf(o.since) ? -INFINITY : (double) time(NULL) - o.since;
        r = read_log(dir, "tracking.log", true, since, ctl_plot_read_tracking, &d);
        if (r >= 0)
                r = read_log(dir, "statistics.log", false, since, ctl_plot_read_statistics, &d);
        if (r < 0)
                return r == -ENOMEM ? r : -EIO;
        if (d.n_tracking == 0) {
                fprintf(stderr, isinf(o.since) ? _("No clock updates in %s/tracking.log.\n")
                                               : _("No clock updates in %s/tracking.log in the given time.\n"),
                        dir);
                return -EIO;
        }
        return write_plot(&o, &d);
}
