/* tempusctl: look at and steer tempusd over D-Bus, with chronyc's views.
 *
 * Exit status: 0 on success, 1 when the daemon or the bus reports an error
 * (one line on stderr), 2 for a command-line mistake. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/convert-chrony.h"
#include "ctl/ctl-agent.h"
#include "ctl/ctl-bus.h"
#include "ctl/ctl-format.h"
#include "ctl/ctl-i18n.h"
#include "ctl/ctl-polkit.h"
#include "ctl/ctl-usage.h"
#include "ctl/metrics-command.h"
#include "ctl/plot-command.h"
#include "shared/file-util.h"
#include "shared/macro.h"

#define EXIT_USAGE 2

typedef struct Ctl {
        CtlBusKind bus_kind;
        const char *address;
        bool json;
        bool ask_password;              /* no --no-ask-password */
        CtlViewFlags view;
        sd_bus *bus;
} Ctl;

typedef int (*CommandFunc)(Ctl *c, char **args, int n);

/* ---- error reporting ---- */

static int bus_failed(const sd_bus_error *error, int r) {
        char text[512];

        fprintf(stderr, "%s\n", ctl_bus_error_text(text, sizeof text, error, r));
        return -EIO;    /* reported; -EINVAL stays reserved for usage errors */
}

/* ---- bus access ---- */

static int connect_bus(Ctl *c) {
        int r;

        if (c->bus)
                return 0;
        r = ctl_bus_open(c->bus_kind, c->address, &c->bus);
        if (r < 0) {
                fprintf(stderr, c->bus_kind == CTL_BUS_USER ? _("Failed to connect to the user bus: %s\n")
                                : c->bus_kind == CTL_BUS_ADDRESS ? _("Failed to connect to the bus at the given address: %s\n")
                                : _("Failed to connect to the system bus: %s\n"),
                        strerror(-r));
                return -EIO;
        }
        return 0;
}

static int fetch_sources(Ctl *c, CtlSourceInfo **ret, size_t *ret_n) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = connect_bus(c);

        if (r < 0)
                return r;
        r = ctl_bus_get_sources(c->bus, ret, ret_n, &error);
        if (r < 0)
                r = bus_failed(&error, r);
        sd_bus_error_free(&error);
        return r;
}

static int fetch_tracking(Ctl *c, CtlTracking *ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = connect_bus(c);

        if (r < 0)
                return r;
        r = ctl_bus_get_tracking(c->bus, ret, &error);
        if (r < 0)
                r = bus_failed(&error, r);
        sd_bus_error_free(&error);
        return r;
}

/* The arguments of a changing call: none, a string, or MakeStep's (d, i). */
typedef struct CallArgs {
        const char *types;
        const char *text;
        double threshold;
        int limit;
} CallArgs;

static int call_once(Ctl *c, const char *method, const CallArgs *a, sd_bus_error *error) {
        if (!a->types)
                return ctl_bus_call(c->bus, c->ask_password, error, method, NULL);
        if (streq(a->types, "s"))
                return ctl_bus_call(c->bus, c->ask_password, error, method, a->types, a->text);
        return ctl_bus_call(c->bus, c->ask_password, error, method, a->types, a->threshold, a->limit);
}

/* Calls a changing method, with a polkit agent running when someone may
 * have to answer it (ctl-polkit.h); reports failure. */
static int call_args(Ctl *c, const char *method, const CallArgs *a) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        CtlAgentFacts facts = {
                .ask_password = c->ask_password,
                .root = geteuid() == 0,
                .stdin_tty = isatty(STDIN_FILENO),
                .terminal = ctl_agent_terminal(),
        };
        pid_t agent = 0;
        int r = connect_bus(c);

        if (r < 0)
                return r;
        if (ctl_polkit_agent_before_call(&facts))
                agent = ctl_agent_open();
        facts.agent_running = agent > 0;
        r = call_once(c, method, a, &error);
        if (r < 0 && ctl_polkit_agent_after_error(&facts, error.name) && (agent = ctl_agent_open()) > 0) {
                sd_bus_error_free(&error);
                r = call_once(c, method, a, &error);
        }
        ctl_agent_close(agent);
        if (r < 0)
                r = bus_failed(&error, r);
        sd_bus_error_free(&error);
        return r;
}

/* Calls a method that returns nothing; reports failure. */
static int call(Ctl *c, const char *method, const char *types, ...) {
        CallArgs a = { .types = types };
        va_list ap;

        va_start(ap, types);
        if (types && streq(types, "s"))
                a.text = va_arg(ap, const char *);
        else if (types) {
                a.threshold = va_arg(ap, double);
                a.limit = va_arg(ap, int);
        }
        va_end(ap);
        return call_args(c, method, &a);
}

/* ---- views ---- */

typedef void (*SourcesPrinter)(FILE *f, const CtlSourceInfo *s, size_t n, const CtlViewFlags *flags);

/* sources, sourcestats, authdata and ntpdata: the same data, four chronyc views. */
static int show_sources(Ctl *c, SourcesPrinter print) {
        CtlSourceInfo *s = NULL;
        size_t count = 0;
        int r = fetch_sources(c, &s, &count);

        if (r < 0)
                return r;
        if (c->json && print == ctl_print_authdata)
                ctl_json_authdata(stdout, s, count);
        else if (c->json && print == ctl_print_ntpdata)
                ctl_json_ntpdata(stdout, s, count);
        else if (c->json)
                ctl_json_sources(stdout, s, count);
        else
                print(stdout, s, count, &c->view);
        ctl_source_info_free_array(s, count);
        return 0;
}

static int cmd_sources(Ctl *c, char **args, int n) {
        return show_sources(c, ctl_print_sources);
}

static int cmd_sourcestats(Ctl *c, char **args, int n) {
        return show_sources(c, ctl_print_sourcestats);
}

static int cmd_authdata(Ctl *c, char **args, int n) {
        return show_sources(c, ctl_print_authdata);
}

static int cmd_ntpdata(Ctl *c, char **args, int n) {
        return show_sources(c, ctl_print_ntpdata);
}

static int cmd_tracking(Ctl *c, char **args, int n) {
        CtlTracking t = {};
        int r = fetch_tracking(c, &t);

        if (r < 0)
                return r;
        if (c->json)
                ctl_json_tracking(stdout, &t);
        else
                ctl_print_tracking(stdout, &t);
        ctl_tracking_done(&t);
        return 0;
}

static int cmd_activity(Ctl *c, char **args, int n) {
        CtlSourceInfo *s = NULL;
        size_t count = 0;
        CtlActivity a;
        int r = fetch_sources(c, &s, &count);

        if (r < 0)
                return r;
        ctl_activity_count(s, count, &a);
        if (c->json)
                ctl_json_activity(stdout, &a);
        else
                ctl_print_activity(stdout, &a);
        ctl_source_info_free_array(s, count);
        return 0;
}

static int cmd_status(Ctl *c, char **args, int n) {
        CtlSourceInfo *s = NULL;
        size_t count = 0;
        CtlTracking t = {};
        int r = fetch_tracking(c, &t);

        if (r < 0)
                return r;
        r = fetch_sources(c, &s, &count);
        if (r >= 0) {
                if (c->json)
                        ctl_json_status(stdout, &t, s, count);
                else
                        ctl_print_status(stdout, &t, s, count);
        }
        ctl_source_info_free_array(s, count);
        ctl_tracking_done(&t);
        return r;
}

/* ---- changes ---- */

static int cmd_makestep(Ctl *c, char **args, int n) {
        char *end;

        if (n == 0)
                return call(c, "MakeStep", NULL);
        if (n != 2)
                return usage_error(_("makestep takes no arguments, or a threshold and a limit."));

        errno = 0;
        double threshold = strtod(args[0], &end);
        if (errno || *end || end == args[0] || !isfinite(threshold) || threshold < 0)
                return usage_error(_("Invalid step threshold '%s': expected seconds, e.g. 1.0."), args[0]);
        long limit = strtol(args[1], &end, 10);
        if (errno || *end || end == args[1] || limit < 0 || limit > INT32_MAX)
                return usage_error(_("Invalid step limit '%s': expected a number of updates, 0 or more."), args[1]);
        return call(c, "SetMakeStep", "di", threshold, (int) limit);
}

static int cmd_allow(Ctl *c, char **args, int n) {
        return call(c, "Allow", "s", n == 0 ? "all" : args[0]);
}

static int cmd_deny(Ctl *c, char **args, int n) {
        return call(c, "Deny", "s", n == 0 ? "all" : args[0]);
}

/* Splits "minpoll=4" into "minpoll" "4" so both chronyc's and tempus.conf's
 * spellings of source options are accepted. */
static size_t split_option_words(char **args, int n, char **words, char *storage, size_t storage_size) {
        size_t k = 0, used = 0;

        for (int i = 0; i < n; i++) {
                char *eq = strchr(args[i], '=');
                size_t len = strlen(args[i]) + 1;
                if (!eq || used + len > storage_size) {
                        words[k++] = args[i];
                        continue;
                }
                char *copy = memcpy(storage + used, args[i], len);
                used += len;
                copy[eq - args[i]] = '\0';
                words[k++] = copy;
                words[k++] = copy + (eq - args[i]) + 1;
        }
        return k;
}

/* AddSource's spec: "server HOST [OPTIONS]" or "pool HOST [OPTIONS]", the
 * options written as in tempus.conf (iburst minpoll=4 ...). */
static int cmd_add(Ctl *c, char **args, int n) {
        _cleanup_free_ char *spec = NULL, *dropped = NULL;
        char *words[128], storage[1024];
        size_t size = 0;

        if (n < 2 || (!streq(args[0], "server") && !streq(args[0], "pool")))
                return usage_error(_("Use: add server|pool HOST [OPTIONS]."));
        if (n - 2 > 64)
                return usage_error(_("Too many source options."));
        size_t k = split_option_words(args + 2, n - 2, words, storage, sizeof storage);

        FILE *f = open_memstream(&spec, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s %s", args[0], args[1]);
        int r = convert_source_options(words, k, streq(args[0], "pool"), f, &dropped);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r == -EINVAL)
                return usage_error(_("Source option '%s' needs a value."), dropped);
        if (r < 0)
                return r;
        if (dropped)
                return usage_error(_("Source options not supported by tempus: %s."), dropped);
        return call(c, "AddSource", "s", spec);
}

static int cmd_delete(Ctl *c, char **args, int n) {
        return call(c, "RemoveSource", "s", args[0]);
}

static int cmd_burst(Ctl *c, char **args, int n) {
        return call(c, "Burst", NULL);
}

static int cmd_reload(Ctl *c, char **args, int n) {
        return call(c, "Reload", NULL);
}

/* ---- convert-chrony ---- */

/* A chrony.conf larger than this is not one. */
#define CHRONY_CONF_MAX (1024 * 1024)

/* chrony.conf, or standard input for "-". */
static int read_chrony_conf(const char *path, char **ret) {
        size_t len;
        return streq(path, "-") ? read_small_stream(STDIN_FILENO, CHRONY_CONF_MAX, (void **) ret, &len)
                                : read_small_file(path, CHRONY_CONF_MAX, (void **) ret, &len);
}

static int cmd_convert_chrony(Ctl *c, char **args, int n) {
        _cleanup_free_ char *text = NULL;
        ConvertResult result;
        int r;

        r = read_chrony_conf(args[0], &text);
        if (r < 0) {
                fprintf(stderr, _("Failed to read %s: %s\n"), args[0], strerror(-r));
                return -EIO;
        }
        r = convert_chrony(text, &result);
        if (r < 0) {
                fprintf(stderr, _("Failed to convert %s: %s\n"), args[0], strerror(-r));
                return r;
        }
        if (c->json)
                convert_result_print_json(stdout, &result);
        else
                convert_result_print(stdout, &result);
        if (result.n_notes > 0 && !c->json)
                fprintf(stderr, ngettext("%zu directive was not converted; see the comments at the end.\n",
                                         "%zu directives were not converted; see the comments at the end.\n",
                                         result.n_notes),
                        result.n_notes);
        convert_result_done(&result);
        return 0;
}

static int cmd_metrics(Ctl *c, char **args, int n) {
        return metrics_command(c->bus_kind, c->address, args, n);
}

static int cmd_plot(Ctl *c, char **args, int n) {
        return plot_command(args, n);
}

/* ---- command table and options ---- */

typedef struct Command {
        const char *name;
        int min_args;
        int max_args;
        CommandFunc func;
        bool view;              /* accepts -v and -n */
} Command;

static const Command commands[] = {
        { "sources",        0, 0,  cmd_sources,        true  },
        { "sourcestats",    0, 0,  cmd_sourcestats,    true  },
        { "authdata",       0, 0,  cmd_authdata,       true  },
        { "ntpdata",        0, 0,  cmd_ntpdata,        true  },
        { "tracking",       0, 0,  cmd_tracking,       false },
        { "activity",       0, 0,  cmd_activity,       false },
        { "status",         0, 0,  cmd_status,         false },
        { "makestep",       0, 2,  cmd_makestep,       false },
        { "allow",          0, 1,  cmd_allow,          false },
        { "deny",           0, 1,  cmd_deny,           false },
        { "add",            2, -1, cmd_add,            false },
        { "delete",         1, 1,  cmd_delete,         false },
        { "burst",          0, 0,  cmd_burst,          false },
        { "reload",         0, 0,  cmd_reload,         false },
        { "convert-chrony", 1, 1,  cmd_convert_chrony, false },
        { "metrics",        0, 3,  cmd_metrics,        false },
        { "plot",           0, 8,  cmd_plot,           false },
};

static void help(void) {
        printf(_("Usage: tempusctl [OPTIONS] COMMAND [ARGUMENTS]\n"
                 "\n"
                 "Shows and changes the state of tempusd over D-Bus.\n"
                 "\n"
                 "Views:\n"
                 "  sources [-v] [-n]        time sources, as chronyc sources\n"
                 "  sourcestats [-v] [-n]    statistics of the sources, as chronyc sourcestats\n"
                 "  authdata [-v] [-n]       how the sources are authenticated, as chronyc authdata\n"
                 "  ntpdata [-v]             the last reply of each source and how it was timestamped,\n"
                 "                           as chronyc ntpdata\n"
                 "  tracking                 state of the system clock, as chronyc tracking\n"
                 "  activity                 how many sources are online and offline\n"
                 "  status                   a short summary\n"
                 "\n"
                 "Changes (root only):\n"
                 "  makestep                 step the clock now by the current offset\n"
                 "  makestep THRESHOLD LIMIT step when off by more than THRESHOLD seconds,\n"
                 "                           in the first LIMIT clock updates\n"
                 "  allow SUBNET|all         serve NTP clients in SUBNET\n"
                 "  deny SUBNET|all          refuse NTP clients in SUBNET\n"
                 "  add server|pool HOST [OPTIONS]\n"
                 "                           add a source (iburst, prefer, minpoll N, ...)\n"
                 "  delete NAME              remove a source\n"
                 "  burst                    poll every source now\n"
                 "  reload                   re-read tempus.conf and its drop-ins\n"
                 "\n"
                 "Other:\n"
                 "  convert-chrony FILE      print the tempus.conf equivalent of a chrony.conf\n"
                 "  metrics [--format=openmetrics|prometheus] [--http]\n"
                 "                           the state for Prometheus; --http answers one\n"
                 "                           HTTP request on standard input\n"
                 "  plot [--since DURATION] [--output FILE.svg] [--log-dir DIR]\n"
                 "                           draw offset and frequency from the logs as SVG\n"
                 "\n"
                 "Options:\n"
                 "  -j --json                machine-readable output\n"
                 "  -v                       with sources and sourcestats: explain the columns\n"
                 "  -n                       with sources and sourcestats: show addresses only\n"
                 "     --system              talk to tempusd on the system bus (default;\n"
                 "                           honours DBUS_SYSTEM_BUS_ADDRESS)\n"
                 "     --user                talk to tempusd on the user bus\n"
                 "     --address=ADDRESS     talk to tempusd on the bus at ADDRESS\n"
                 "     --no-ask-password     do not let polkit ask for a password\n"
                 "  -h --help                show this help\n"
                 "     --version             show the version\n"));
}

enum {
        ARG_VERSION = 0x100,
        ARG_SYSTEM,
        ARG_USER,
        ARG_ADDRESS,
        ARG_NO_ASK_PASSWORD,
};

/* Global options, before the command. Returns 1 to go on, 0 to exit
 * successfully, negative on error. */
static int parse_global_options(Ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h'         },
                { "version", no_argument,       NULL, ARG_VERSION },
                { "json",    no_argument,       NULL, 'j'         },
                { "system",  no_argument,       NULL, ARG_SYSTEM  },
                { "user",    no_argument,       NULL, ARG_USER    },
                { "address", required_argument, NULL, ARG_ADDRESS },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                {}
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "+hjvn", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("tempusctl %s\n", PACKAGE_VERSION);
                        return 0;
                case 'j':
                        c->json = true;
                        break;
                case 'v':
                        c->view.verbose = true;
                        break;
                case 'n':
                        c->view.numeric = true;
                        break;
                case ARG_SYSTEM:
                        c->bus_kind = CTL_BUS_SYSTEM;
                        break;
                case ARG_USER:
                        c->bus_kind = CTL_BUS_USER;
                        break;
                case ARG_ADDRESS:
                        c->bus_kind = CTL_BUS_ADDRESS;
                        c->address = optarg;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        c->ask_password = false;
                        break;
                default:
                        fprintf(stderr, _("See 'tempusctl --help'.\n"));
                        return -EINVAL;
                }
        return 1;
}

/* Takes the flags a command accepts out of its arguments (in place) and
 * returns how many arguments remain. Anything else, "-1" included, is an
 * argument. */
static int take_command_flags(Ctl *c, const Command *cmd, char **args, int n) {
        int k = 0;

        for (int i = 0; i < n; i++) {
                if (streq(args[i], "--json") || streq(args[i], "-j"))
                        c->json = true;
                else if (cmd->view && streq(args[i], "-v"))
                        c->view.verbose = true;
                else if (cmd->view && streq(args[i], "-n"))
                        c->view.numeric = true;
                else
                        args[k++] = args[i];
        }
        return k;
}

static const Command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static void setup_locale(void) {
        const char *dir = secure_getenv("TEMPUS_LOCALEDIR");

        (void) setlocale(LC_ALL, "");
        /* Numbers stay as chronyc prints them and as JSON needs them. */
        (void) setlocale(LC_NUMERIC, "C");
        (void) bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
        (void) textdomain(GETTEXT_PACKAGE);
}

static int run(Ctl *c, int argc, char **argv) {
        int r = parse_global_options(c, argc, argv);

        if (r <= 0)
                return r;
        if (optind >= argc)
                return usage_error(_("No command given."));

        const Command *cmd = command_find(argv[optind]);
        if (!cmd)
                return usage_error(_("Unknown command '%s'."), argv[optind]);

        char **args = argv + optind + 1;
        int n = take_command_flags(c, cmd, args, argc - optind - 1);
        if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args))
                return usage_error(_("Wrong number of arguments for '%s'."), cmd->name);
        return cmd->func(c, args, n);
}

int main(int argc, char **argv) {
        Ctl c = { .bus_kind = CTL_BUS_SYSTEM, .ask_password = true };

        setup_locale();
        int r = run(&c, argc, argv);
        sd_bus_flush_close_unrefp(&c.bus);
        if (r == -EINVAL)
                return EXIT_USAGE;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
