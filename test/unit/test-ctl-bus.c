/* tempusctl against the D-Bus contract: a private dbus-daemon and a stand-in
 * service that implements org.tempus.Tempus1 as DESIGN.md specifies, so
 * that property reading, method calls, error lines and the tempusctl binary
 * itself are checked through real sd-bus marshalling. Skipped when
 * dbus-daemon is not installed. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "ctl/ctl-bus.h"
#include "test-util.h"

/* ---- the stand-in service ---- */

typedef struct MockManager {
        int synchronized;
        uint32_t reference_id;
        char *reference_name;
        uint8_t stratum;
        uint64_t reference_time;
        double system_time_offset, last_offset, rms_offset, frequency, residual_frequency;
        double skew, root_delay, root_dispersion, update_interval;
        char *leap_status;
        double makestep_threshold;
        int32_t makestep_limit;
        uint32_t min_sources;
        int clock_control, local_rtc;
        char rules[8][64];
        int rule_allow[8];
        unsigned n_rules;
        char *last_spec;
        uint32_t calls;
        uint32_t interactive_calls;     /* of them, those that allow interactive authorization */
} MockManager;

typedef struct MockSource {
        char *name, *address, *mode, *state;
        uint8_t stratum, reach;
        int32_t poll;
        uint64_t age;
        double offset, measured, error;
        uint32_t samples, runs;
        double span, freq, skew, sd;
        int prefer, iburst;
        uint32_t extra;
} MockSource;

static int get_rules(sd_bus *bus, const char *path, const char *interface, const char *property,
                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        MockManager *m = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sb)");

        for (unsigned i = 0; r >= 0 && i < m->n_rules; i++)
                r = sd_bus_message_append(reply, "(sb)", m->rules[i], m->rule_allow[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int method_allow(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        MockManager *m = userdata;
        const char *subnet;
        int r = sd_bus_message_read(msg, "s", &subnet);

        if (r < 0)
                return r;
        if (!strchr(subnet, '/') && strcmp(subnet, "all") != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%s' is not a subnet", subnet);
        snprintf(m->rules[m->n_rules], sizeof m->rules[0], "%s", subnet);
        m->rule_allow[m->n_rules++] = 1;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_denied(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Rejected: not root");
}

static int method_set_makestep(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        MockManager *m = userdata;
        double threshold;
        int32_t limit;
        int r = sd_bus_message_read(msg, "di", &threshold, &limit);

        if (r < 0)
                return r;
        /* The daemon's rules (src/bus/bus-manager.c): what MakeStep= takes. */
        if (!isfinite(threshold) || threshold < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "threshold must be 0 or more");
        if (limit < -1)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "step limit must be -1 or more");
        m->makestep_threshold = threshold;
        m->makestep_limit = limit;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_add(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        MockManager *m = userdata;
        const char *spec;
        int r = sd_bus_message_read(msg, "s", &spec);

        if (r < 0)
                return r;
        free(m->last_spec);
        m->last_spec = strdup(spec);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_count(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        MockManager *m = userdata;
        int r = sd_bus_message_skip(msg, NULL);

        (void) r;
        m->calls++;
        if (sd_bus_message_get_allow_interactive_authorization(msg) > 0)
                m->interactive_calls++;
        return sd_bus_reply_method_return(msg, NULL);
}

#define MP(name, sig, field) SD_BUS_PROPERTY(name, sig, NULL, offsetof(MockManager, field), 0)
#define MPS(name, field) SD_BUS_PROPERTY(name, "s", NULL, offsetof(MockManager, field), 0)

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        MP("Synchronized", "b", synchronized),
        MP("ReferenceID", "u", reference_id),
        MPS("ReferenceName", reference_name),
        MP("Stratum", "y", stratum),
        MP("ReferenceTimeUSec", "t", reference_time),
        MP("SystemTimeOffset", "d", system_time_offset),
        MP("LastOffset", "d", last_offset),
        MP("RMSOffset", "d", rms_offset),
        MP("Frequency", "d", frequency),
        MP("ResidualFrequency", "d", residual_frequency),
        MP("Skew", "d", skew),
        MP("RootDelay", "d", root_delay),
        MP("RootDispersion", "d", root_dispersion),
        MP("UpdateInterval", "d", update_interval),
        MPS("LeapStatus", leap_status),
        MP("MakeStepThreshold", "d", makestep_threshold),
        MP("MakeStepLimit", "i", makestep_limit),
        MP("MinSources", "u", min_sources),
        SD_BUS_PROPERTY("AccessRules", "a(sb)", get_rules, 0, 0),
        MP("ClockControl", "b", clock_control),
        MP("LocalRTC", "b", local_rtc),
        /* Not in the contract: lets the test see what the calls did. */
        MPS("TestLastSpec", last_spec),
        MP("TestCalls", "u", calls),
        MP("TestInteractiveCalls", "u", interactive_calls),
        SD_BUS_METHOD("MakeStep", "", "", method_count, 0),
        SD_BUS_METHOD("SetMakeStep", "di", "", method_set_makestep, 0),
        SD_BUS_METHOD("Allow", "s", "", method_allow, 0),
        SD_BUS_METHOD("Deny", "s", "", method_denied, 0),
        SD_BUS_METHOD("AddSource", "s", "", method_add, 0),
        SD_BUS_METHOD("RemoveSource", "s", "", method_count, 0),
        SD_BUS_METHOD("Burst", "", "", method_count, 0),
        SD_BUS_METHOD("Reload", "", "", method_count, 0),
        SD_BUS_VTABLE_END,
};

#define SP(name, sig, field) SD_BUS_PROPERTY(name, sig, NULL, offsetof(MockSource, field), 0)

static const sd_bus_vtable source_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SP("Name", "s", name), SP("Address", "s", address), SP("Mode", "s", mode),
        SP("State", "s", state), SP("Stratum", "y", stratum), SP("Poll", "i", poll),
        SP("Reach", "y", reach), SP("LastRxAgeUSec", "t", age), SP("Offset", "d", offset),
        SP("MeasuredOffset", "d", measured), SP("Error", "d", error), SP("Samples", "u", samples),
        SP("Runs", "u", runs), SP("Span", "d", span), SP("Frequency", "d", freq),
        SP("FrequencySkew", "d", skew), SP("StdDev", "d", sd), SP("Prefer", "b", prefer),
        SP("IBurst", "b", iburst),
        /* Newer daemons may add properties: readers must skip them. */
        SP("FutureProperty", "u", extra),
        SD_BUS_VTABLE_END,
};

static MockManager mock_manager = {
        .synchronized = 1, .reference_id = 0x7F000001, .reference_name = (char *) "localhost",
        .stratum = 11, .reference_time = UINT64_C(1795598987) * 1000000,
        .system_time_offset = 3.898e-6, .last_offset = -0.778e-6, .rms_offset = 1.870e-6,
        .frequency = 0.144, .residual_frequency = -0.010, .skew = 0.517,
        .root_delay = 10.331e-6, .root_dispersion = 3.876e-6, .update_interval = 1.0,
        .leap_status = (char *) "normal", .makestep_threshold = 1.0, .makestep_limit = 3,
        .min_sources = 1, .clock_control = 0, .local_rtc = 0, .last_spec = NULL,
};

/* Numbered 10 and 2: the reader must order them 2, 10. */
static MockSource mock_sources[2] = {
        { .name = (char *) "b.example", .address = (char *) "127.0.0.2", .mode = (char *) "server",
          .state = (char *) "unusable", .poll = 7, .age = UINT64_MAX, .skew = 2000.0, .sd = 4.0 },
        { .name = (char *) "localhost", .address = (char *) "127.0.0.1", .mode = (char *) "server",
          .state = (char *) "selected", .stratum = 10, .poll = 0, .reach = 0377, .age = 2600000,
          .offset = -430e-9, .measured = -1208e-9, .error = 5225e-9, .samples = 10, .runs = 8,
          .span = 8.2, .freq = -0.010, .skew = 0.451, .sd = 734e-9, .iburst = 1 },
};

static _Noreturn void mock_service_run(const char *address, int ready_fd) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0) r = sd_bus_set_address(bus, address);
        if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0) r = sd_bus_start(bus);
        if (r >= 0) r = sd_bus_add_object_vtable(bus, NULL, TEMPUS_BUS_PATH, TEMPUS_MANAGER_INTERFACE,
                                                 manager_vtable, &mock_manager);
        if (r >= 0) r = sd_bus_add_object_manager(bus, NULL, TEMPUS_BUS_PATH);
        if (r >= 0) r = sd_bus_add_object_vtable(bus, NULL, TEMPUS_SOURCE_PATH_PREFIX "10",
                                                 TEMPUS_SOURCE_INTERFACE, source_vtable, &mock_sources[0]);
        if (r >= 0) r = sd_bus_add_object_vtable(bus, NULL, TEMPUS_SOURCE_PATH_PREFIX "2",
                                                 TEMPUS_SOURCE_INTERFACE, source_vtable, &mock_sources[1]);
        if (r >= 0) r = sd_bus_request_name(bus, TEMPUS_BUS_NAME, 0);
        if (r < 0) {
                fprintf(stderr, "mock service: %s\n", strerror(-r));
                _exit(1);
        }
        (void) !write(ready_fd, "R", 1);
        close(ready_fd);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        _exit(1);
                if (r == 0)
                        (void) sd_bus_wait(bus, UINT64_MAX);
        }
}

/* ---- fixture: a private bus with the stand-in service on it ---- */

typedef struct Fixture {
        pid_t daemon_pid;
        pid_t service_pid;
        char address[256];
        char dir[64];
} Fixture;

static Fixture fx;

static int start_dbus_daemon(void) {
        char config[128], listen[128];
        int pipefd[2];
        FILE *f;

        int r = tmpdir_new(fx.dir, sizeof fx.dir);
        if (r < 0)
                return r;
        snprintf(config, sizeof config, "%s/bus.conf", fx.dir);
        snprintf(listen, sizeof listen, "unix:path=%s/bus", fx.dir);
        f = fopen(config, "w");
        if (!f)
                return -errno;
        fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig><type>system</type><listen>%s</listen>"
                   "<auth>EXTERNAL</auth><policy context=\"default\">"
                   "<allow user=\"*\"/><allow own=\"*\"/><allow send_destination=\"*\"/>"
                   "<allow receive_sender=\"*\"/>"
                   "</policy></busconfig>\n", listen);
        fclose(f);
        if (pipe(pipefd) < 0)
                return -errno;
        fx.daemon_pid = fork();
        if (fx.daemon_pid == 0) {
                char fdarg[32];
                snprintf(fdarg, sizeof fdarg, "--print-address=%d", pipefd[1]);
                close(pipefd[0]);
                execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", fdarg,
                       "--config-file", config, (char *) NULL);
                _exit(127);
        }
        close(pipefd[1]);
        ssize_t k = read(pipefd[0], fx.address, sizeof fx.address - 1);
        close(pipefd[0]);
        if (k <= 0)
                return -ENOENT;
        fx.address[strcspn(fx.address, "\n")] = '\0';
        return 0;
}

static int start_service(void) {
        int pipefd[2];
        char c;

        if (pipe(pipefd) < 0)
                return -errno;
        fx.service_pid = fork();
        if (fx.service_pid == 0) {
                close(pipefd[0]);
                mock_service_run(fx.address, pipefd[1]);
        }
        close(pipefd[1]);
        ssize_t k = read(pipefd[0], &c, 1);
        close(pipefd[0]);
        return k == 1 ? 0 : -EIO;
}

static void stop(pid_t *pid) {
        if (*pid > 0) {
                kill(*pid, SIGTERM);
                waitpid(*pid, NULL, 0);
        }
        *pid = 0;
}

static int teardown_bus(void **state);

static int setup_bus(void **state) {
        if (start_dbus_daemon() < 0 || start_service() < 0) {
                (void) teardown_bus(state);
                return -1;
        }
        return 0;
}

static int teardown_bus(void **state) {
        stop(&fx.service_pid);
        stop(&fx.daemon_pid);
        tmpdir_remove(fx.dir);
        return 0;
}

static sd_bus *open_bus(void) {
        sd_bus *bus = NULL;

        assert_int_equal(ctl_bus_open(CTL_BUS_ADDRESS, fx.address, &bus), 0);
        return bus;
}

/* Runs tempusctl with args; returns its exit status, output in out/err. */
static int run_tempusctl(const char *env, const char *args, char *out, size_t out_size, char *err, size_t err_size) {
        char cmd[2048], errpath[128];
        const char *exe = getenv("TEMPUSCTL");
        size_t k;

        assert_non_null(exe);
        snprintf(errpath, sizeof errpath, "%s/stderr", fx.dir);
        snprintf(cmd, sizeof cmd, "env %s %s --address='%s' %s 2>%s", env ?: "LC_ALL=C", exe, fx.address, args, errpath);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        k = fread(out, 1, out_size - 1, p);
        out[k] = '\0';
        int status = pclose(p);
        FILE *e = fopen(errpath, "r");
        assert_non_null(e);
        k = fread(err, 1, err_size - 1, e);
        err[k] = '\0';
        fclose(e);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- tests ---- */

static void test_tracking_properties_read(void **state) {
        sd_bus *bus = open_bus();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        CtlTracking t;

        assert_int_equal(ctl_bus_get_tracking(bus, &t, &error), 0);
        assert_true(t.synchronized);
        assert_int_equal(t.reference_id, 0x7F000001);
        assert_string_equal(t.reference_name, "localhost");
        assert_int_equal(t.stratum, 11);
        assert_int_equal(t.reference_time_usec, UINT64_C(1795598987) * 1000000);
        assert_true(t.frequency == 0.144);
        assert_true(t.residual_frequency == -0.010);
        assert_string_equal(t.leap_status, "normal");
        assert_int_equal(t.makestep_limit, 3);
        assert_int_equal(t.min_sources, 1);
        assert_false(t.clock_control);
        ctl_tracking_done(&t);
        sd_bus_flush_close_unref(bus);
}

static void test_sources_read_in_object_order(void **state) {
        sd_bus *bus = open_bus();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        CtlSourceInfo *s;
        size_t n;

        assert_int_equal(ctl_bus_get_sources(bus, &s, &n, &error), 0);
        assert_int_equal(n, 2);
        assert_string_equal(s[0].name, "localhost");
        assert_string_equal(s[0].state, "selected");
        assert_int_equal(s[0].reach, 0377);
        assert_int_equal(s[0].last_rx_age_usec, 2600000);
        assert_true(s[0].measured_offset == -1208e-9);
        assert_int_equal(s[0].samples, 10);
        assert_true(s[0].iburst);
        assert_false(s[0].prefer);
        assert_string_equal(s[1].address, "127.0.0.2");
        assert_int_equal(s[1].last_rx_age_usec, CTL_AGE_NEVER);
        ctl_source_info_free_array(s, n);
        sd_bus_flush_close_unref(bus);
}

static void test_allow_changes_rules_and_bad_subnet_is_reported(void **state) {
        sd_bus *bus = open_bus();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char text[256];
        CtlTracking t;

        assert_int_equal(ctl_bus_call(bus, true, &error, "Allow", "s", "10.0.0.0/8"), 0);
        assert_int_equal(ctl_bus_get_tracking(bus, &t, &error), 0);
        assert_int_equal(t.n_access_rules, 1);
        assert_string_equal(t.access_rules[0].subnet, "10.0.0.0/8");
        assert_true(t.access_rules[0].allow);
        ctl_tracking_done(&t);

        int r = ctl_bus_call(bus, true, &error, "Allow", "s", "nonsense");
        assert_true(r < 0);
        assert_string_equal(ctl_bus_error_text(text, sizeof text, &error, r),
                            "Invalid argument: 'nonsense' is not a subnet");
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
}

static void test_access_denied_is_plain(void **state) {
        sd_bus *bus = open_bus();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char text[256];

        int r = ctl_bus_call(bus, true, &error, "Deny", "s", "10.0.0.0/8");
        assert_int_equal(r, -EACCES);
        assert_string_equal(ctl_bus_error_text(text, sizeof text, &error, r),
                            "Access denied: changing tempusd's settings requires root or polkit's authorization");
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
}

static void test_binary_sources_view_and_json(void **state) {
        char out[8192], err[1024];

        assert_int_equal(run_tempusctl(NULL, "sources -v", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "\n^* localhost                    10   0   377     2   -430ns[-1208ns] +/- 5225ns\n"));
        assert_non_null(strstr(out, "\n^? b.example                     0   7     0     -     +0ns[   +0ns] +/-    0ns\n"));
        assert_non_null(strstr(out, "Mode of source"));
        assert_string_equal(err, "");

        assert_int_equal(run_tempusctl(NULL, "--json sources", out, sizeof out, err, sizeof err), 0);
        assert_memory_equal(out, "[{\"Name\":\"localhost\",\"Address\":\"127.0.0.1\"", 42);
        assert_non_null(strstr(out, "\"LastRxAgeUSec\":null"));

        assert_int_equal(run_tempusctl(NULL, "tracking", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "Reference ID    : 7F000001 (localhost)\n"));
        assert_non_null(strstr(out, "Ref time (UTC)  : Wed Nov 25 09:29:47 2026\n"));
        assert_non_null(strstr(out, "Frequency       : 0.144 ppm fast\n"));

        assert_int_equal(run_tempusctl(NULL, "sourcestats", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "\nlocalhost                  10   8     8     -0.010      0.451   -430ns   734ns\n"));

        assert_int_equal(run_tempusctl(NULL, "activity", out, sizeof out, err, sizeof err), 0);
        assert_memory_equal(out, "1 sources online\n1 sources offline\n", 35);
}

static uint32_t mock_counter(sd_bus *bus, const char *name) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t v = 0;

        assert_int_equal(sd_bus_get_property_trivial(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH,
                         TEMPUS_MANAGER_INTERFACE, name, &error, 'u', &v), 0);
        return v;
}

/* A polkit agent may ask a caller who is not root for a password only when
 * the call says it may. */
static void test_calls_allow_interactive_authorization(void **state) {
        sd_bus *bus = open_bus();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char out[1024], err[1024];
        uint32_t calls0 = mock_counter(bus, "TestCalls"), interactive0 = mock_counter(bus, "TestInteractiveCalls");

        assert_int_equal(ctl_bus_call(bus, true, &error, "Burst", NULL), 0);
        assert_int_equal(run_tempusctl(NULL, "reload", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(mock_counter(bus, "TestCalls") - calls0, 2);
        assert_int_equal(mock_counter(bus, "TestInteractiveCalls") - interactive0, 2);
        sd_bus_flush_close_unref(bus);
}

static void test_binary_commands_reach_methods(void **state) {
        sd_bus *bus = open_bus();
        char out[1024], err[1024], *spec = NULL;
        uint32_t calls0, calls1;
        CtlTracking t;
        sd_bus_error error = SD_BUS_ERROR_NULL;

        assert_int_equal(sd_bus_get_property_trivial(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH,
                         TEMPUS_MANAGER_INTERFACE, "TestCalls", &error, 'u', &calls0), 0);
        assert_int_equal(run_tempusctl(NULL, "burst", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(run_tempusctl(NULL, "reload", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(run_tempusctl(NULL, "makestep", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(run_tempusctl(NULL, "delete b.example", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(sd_bus_get_property_trivial(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH,
                         TEMPUS_MANAGER_INTERFACE, "TestCalls", &error, 'u', &calls1), 0);
        assert_int_equal(calls1 - calls0, 4);

        assert_int_equal(run_tempusctl(NULL, "makestep 0.5 7", out, sizeof out, err, sizeof err), 0);
        assert_int_equal(ctl_bus_get_tracking(bus, &t, &error), 0);
        assert_true(t.makestep_threshold == 0.5);
        assert_int_equal(t.makestep_limit, 7);
        ctl_tracking_done(&t);

        assert_int_equal(run_tempusctl(NULL, "add pool pool.example.org iburst maxsources 3 minpoll=5",
                                       out, sizeof out, err, sizeof err), 0);
        assert_int_equal(sd_bus_get_property_string(bus, TEMPUS_BUS_NAME, TEMPUS_BUS_PATH,
                         TEMPUS_MANAGER_INTERFACE, "TestLastSpec", &error, &spec), 0);
        assert_string_equal(spec, "pool pool.example.org iburst maxsources=3 minpoll=5");
        free(spec);
        sd_bus_flush_close_unref(bus);
}

static void test_binary_errors_are_one_line(void **state) {
        char out[1024], err[1024];

        assert_int_equal(run_tempusctl(NULL, "deny 10.0.0.0/8", out, sizeof out, err, sizeof err), 1);
        assert_string_equal(err, "Access denied: changing tempusd's settings requires root or polkit's authorization\n");
        assert_int_equal(run_tempusctl(NULL, "makestep 1.0 -5", out, sizeof out, err, sizeof err), 2);
        assert_non_null(strstr(err, "'-5'"));
        assert_int_equal(run_tempusctl(NULL, "makestep 1.0", out, sizeof out, err, sizeof err), 2);
        assert_int_equal(run_tempusctl(NULL, "add server h.example maxdelay", out, sizeof out, err, sizeof err), 2);
        assert_non_null(strstr(err, "maxdelay"));
        assert_int_equal(run_tempusctl(NULL, "no-such-command", out, sizeof out, err, sizeof err), 2);
}

/* Builds the zh_CN.UTF-8 locale into the fixture's directory (the machine
 * may not have it) and returns the environment that selects it together
 * with the catalogue built in the build tree. */
static const char *chinese_env(void) {
        static char env[512];
        char cmd[512];
        const char *catalogue = getenv("TEMPUS_TEST_LOCALEDIR");

        assert_non_null(catalogue);
        if (access("/usr/share/i18n/locales/zh_CN", R_OK) < 0 || system("command -v localedef >/dev/null") != 0)
                return NULL;
        snprintf(cmd, sizeof cmd, "test -d %s/locale/zh_CN.UTF-8 || { mkdir -p %s/locale && "
                 "localedef -i zh_CN -f UTF-8 %s/locale/zh_CN.UTF-8 >/dev/null 2>&1; }", fx.dir, fx.dir, fx.dir);
        if (system(cmd) != 0)
                return NULL;
        snprintf(env, sizeof env, "LC_ALL= LANGUAGE= LANG=zh_CN.UTF-8 LOCPATH=%s/locale TEMPUS_LOCALEDIR=%s",
                 fx.dir, catalogue);
        return env;
}

static void test_binary_speaks_chinese(void **state) {
        char out[8192], err[1024];
        const char *env = chinese_env();

        if (!env) {
                fprintf(stderr, "zh_CN locale sources or localedef missing: skipping\n");
                skip();
        }
        assert_int_equal(run_tempusctl(env, "sources -v", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "  .-- 源的模式："));
        assert_non_null(strstr(out, "|  zzzz = 误差上限。\n"));
        /* Headers and data stay as chronyc prints them. */
        assert_non_null(strstr(out, "\nMS Name/IP address         Stratum Poll Reach LastRx Last sample"));
        assert_non_null(strstr(out, "\n^* localhost                    10   0   377     2   -430ns[-1208ns] +/- 5225ns\n"));

        assert_int_equal(run_tempusctl(env, "sourcestats -v", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, ".- 该源保存的样本数。"));

        assert_int_equal(run_tempusctl(env, "status", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "已同步到 localhost（层级 10）"));

        assert_int_equal(run_tempusctl(env, "ntpdata -v", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "Offset 为最近一个样本的偏差"));
        assert_non_null(strstr(out, "\nRemote address  : "));
        assert_int_equal(run_tempusctl(env, "--help", out, sizeof out, err, sizeof err), 0);
        assert_non_null(strstr(out, "  ntpdata [-v]             各时间源最近的应答及其时间戳来源，\n"));

        assert_int_equal(run_tempusctl(env, "deny 10.0.0.0/8", out, sizeof out, err, sizeof err), 1);
        assert_string_equal(err, "拒绝访问：修改 tempusd 的设置需要 root 权限或 polkit 授权\n");
}

/* Runs last: stops the service. */
static void test_binary_says_when_daemon_is_not_running(void **state) {
        char out[1024], err[1024];

        stop(&fx.service_pid);
        assert_int_equal(run_tempusctl(NULL, "sources", out, sizeof out, err, sizeof err), 1);
        assert_string_equal(err, "tempusd is not running\n");
        assert_string_equal(out, "");
        assert_int_equal(run_tempusctl(NULL, "--json tracking", out, sizeof out, err, sizeof err), 1);
        assert_string_equal(err, "tempusd is not running\n");

        const char *env = chinese_env();
        if (env) {
                assert_int_equal(run_tempusctl(env, "tracking", out, sizeof out, err, sizeof err), 1);
                assert_string_equal(err, "tempusd 未在运行\n");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tracking_properties_read),
                cmocka_unit_test(test_sources_read_in_object_order),
                cmocka_unit_test(test_allow_changes_rules_and_bad_subnet_is_reported),
                cmocka_unit_test(test_access_denied_is_plain),
                cmocka_unit_test(test_calls_allow_interactive_authorization),
                cmocka_unit_test(test_binary_sources_view_and_json),
                cmocka_unit_test(test_binary_commands_reach_methods),
                cmocka_unit_test(test_binary_errors_are_one_line),
                cmocka_unit_test(test_binary_speaks_chinese),
                cmocka_unit_test(test_binary_says_when_daemon_is_not_running),
        };

        if (system("command -v dbus-daemon >/dev/null 2>&1") != 0) {
                fprintf(stderr, "dbus-daemon not installed: skipping\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, setup_bus, teardown_bus);
}
