/* tempusd: parses the command line, loads the configuration and runs the
 * Manager. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "bus/bus.h"
#include "config/config.h"
#include "daemon/manager-nm.h"
#include "daemon/manager.h"
#include "daemon/privileges.h"
#include "shared/log.h"

typedef enum Action {
        ACTION_RUN,
        ACTION_CHECK_CONFIG,
        ACTION_DUMP_CONFIG,
} Action;

typedef struct Options {
        Action action;
        const char *config_path;
        bool debug;
} Options;

static void help(void) {
        printf("Usage: tempusd [OPTIONS]\n\n"
               "NTP client and server, disciplining the system clock.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "  -c --config PATH     Read PATH and PATH.d/*.conf instead of\n"
               "                       " TEMPUS_CONFIG_FILE " and its drop-in directories\n"
               "     --check-config    Check the configuration and exit (1 on any error)\n"
               "     --dump-config     Print the merged configuration with the origin of each value\n"
               "  -d --debug           Log debug messages\n");
}

static int parse_argv(int argc, char *argv[], Options *o) {
        enum { ARG_VERSION = 0x100, ARG_CHECK, ARG_DUMP };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'         },
                { "version",      no_argument,       NULL, ARG_VERSION },
                { "config",       required_argument, NULL, 'c'         },
                { "check-config", no_argument,       NULL, ARG_CHECK   },
                { "dump-config",  no_argument,       NULL, ARG_DUMP    },
                { "debug",        no_argument,       NULL, 'd'         },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hc:d", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tempusd %s\n", PACKAGE_VERSION);
                        return 0;
                case 'c':
                        o->config_path = optarg;
                        break;
                case ARG_CHECK:
                        o->action = ACTION_CHECK_CONFIG;
                        break;
                case ARG_DUMP:
                        o->action = ACTION_DUMP_CONFIG;
                        break;
                case 'd':
                        o->debug = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int run(const Options *o, Config *config) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        r = manager_new(o->config_path, config, &m);
        if (r < 0)
                return r;
        r = manager_start(m);
        if (r < 0)
                return r;
        r = privileges_drop(TEMPUS_USER, m->config.control);
        if (r < 0)
                return r;
        r = bus_context_attach(m);
        if (r < 0)
                return r;
        /* On the bus as the user tempusd runs as, like the API. */
        r = manager_nm_start(m);
        if (r < 0)
                return r;
        return manager_run(m);
}

int main(int argc, char *argv[]) {
        Options o = {};
        Config config;
        int r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (o.debug)
                log_set_max_level(LOG_DEBUG);
        /* Plain "file:line: Section.Key: reason" lines for people and scripts. */
        if (o.action != ACTION_RUN)
                log_set_prefix(false);

        r = config_load(o.config_path, &config);
        if (r < 0) {
                if (o.action == ACTION_RUN)
                        log_error_errno(r, "Not starting: the configuration has errors.");
                return EXIT_FAILURE;
        }
        switch (o.action) {
        case ACTION_CHECK_CONFIG:
                config_done(&config);
                return EXIT_SUCCESS;
        case ACTION_DUMP_CONFIG:
                r = config_dump(&config, stdout);
                config_done(&config);
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        case ACTION_RUN:
                break;
        }
        r = run(&o, &config);
        config_done(&config);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
