/* Tests for src/config: every key good and bad, list and reset semantics,
 * drop-in ordering and masking, error messages, suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config-internal.h"
#include "shared/log.h"

static char tmpdir[64];

static int make_tmpdir(void **state) {
        strcpy(tmpdir, "/tmp/tempus-test-config-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        log_set_prefix(false);
        return 0;
}

static int remove_tmpdir(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        return system(cmd);
}

static char *path_in(const char *name) {
        static char buf[4][256];
        static int k;
        char *p = buf[k++ % 4];
        snprintf(p, 256, "%s/%s", tmpdir, name);
        return p;
}

static void write_file(const char *name, const char *text) {
        char *p = path_in(name);
        char dir[256];
        snprintf(dir, sizeof dir, "%s", p);
        *strrchr(dir, '/') = 0;
        /* mkdir -p */
        for (char *q = dir + strlen(tmpdir) + 1; (q = strchr(q, '/')); q++) {
                *q = 0;
                mkdir(dir, 0755);
                *q = '/';
        }
        mkdir(dir, 0755);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* Loads name (+ name.d) with stderr captured into errors. */
static int load(const char *name, Config *c, char *errors, size_t size) {
        char *err = path_in("stderr.txt");
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDERR_FILENO);
        close(fd);
        int r = config_load(path_in(name), c);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        FILE *f = fopen(err, "r");
        size_t n = fread(errors, 1, size - 1, f);
        errors[n] = 0;
        fclose(f);
        return r;
}

static int load_text(const char *text, Config *c, char *errors, size_t size) {
        write_file("t.conf", text);
        return load("t.conf", c, errors, size);
}

typedef struct ValueCase {
        const char *text;
        bool good;
} ValueCase;

static void each_key_accepts_good_and_rejects_bad_values(void **state) {
        static const ValueCase cases[] = {
                { "[Sources]\nServer=192.168.2.100 iburst prefer\n", true },
                { "[Sources]\nServer=ntp.example.com minpoll=4 maxpoll=8 key=1 port=1123 noselect\n", true },
                { "[Sources]\nServer=[2001:db8::1] iburst\n", true },
                { "[Sources]\nServer=\n", true },
                { "[Sources]\nServer=host fast\n", false },
                { "[Sources]\nServer=host minpoll=30\n", false },
                { "[Sources]\nServer=host minpoll=8 maxpoll=6\n", false },
                { "[Sources]\nServer=host port=0\n", false },
                { "[Sources]\nServer=host key=0\n", false },
                { "[Sources]\nServer=host maxsources=2\n", false },
                { "[Sources]\nServer=bad/host\n", false },
                { "[Sources]\nServer=bad..host\n", false },
                { "[Sources]\nServer=-bad.host\n", false },
                { "[Sources]\nServer=.host\n", false },
                { "[Sources]\nServer=2001:db8::zz\n", false },
                { "[Sources]\nServer=ntp_1.example-site.org\n", true },
                { "[Sources]\nServer=2001:db8::1 iburst\n", true },
                { "[Sources]\nPool=pool.example iburst maxsources=4\n", true },
                { "[Sources]\nPool=pool.example maxsources=17\n", false },
                { "[Sources]\nMinSources=2\n", true },
                { "[Sources]\nMinSources=0\n", false },
                { "[Sources]\nMinSources=two\n", false },
                { "[Clock]\nDriftFile=/var/lib/tempus/drift\n", true },
                { "[Clock]\nMakeStep=1.0 3\n", true },
                { "[Clock]\nMakeStep=0.1 -1\n", true },
                { "[Clock]\nMakeStep=abc\n", false },
                { "[Clock]\nMakeStep=1.0\n", false },
                { "[Clock]\nMakeStep=-1 3\n", false },
                { "[Clock]\nMakeStep=1.0 x\n", false },
                { "[Clock]\nRTCSync=yes\n", true },
                { "[Clock]\nRTCSync=maybe\n", false },
                { "[Clock]\nHWTimestamp=*\n", true },
                { "[Clock]\nLeapSecTZ=right/UTC\n", true },
                { "[Clock]\nLeapSecTZ=../../etc/passwd\n", false },
                { "[Clock]\nLeapSecTZ=/usr/share/zoneinfo/right/UTC\n", false },
                { "[Clock]\nLeapSecMode=slew\n", true },
                { "[Clock]\nLeapSecMode=kernel\n", true },
                { "[Clock]\nLeapSecMode=smear\n", false },
                { "[Clock]\nControl=no\n", true },
                { "[Clock]\nControl=2\n", false },
                { "[Server]\nAllow=192.168.2.0/24\n", true },
                { "[Server]\nAllow=all\n", true },
                { "[Server]\nAllow=192.168.2.0/33\n", false },
                { "[Server]\nDeny=fe80::/10\n", true },
                { "[Server]\nDeny=nonsense\n", false },
                { "[Server]\nLocalStratum=10\n", true },
                { "[Server]\nLocalStratum=16\n", false },
                { "[Server]\nBindAddress=192.168.2.100\n", true },
                { "[Server]\nBindAddress=::1\n", true },
                { "[Server]\nBindAddress=localhost\n", false },
                { "[Server]\nPort=11123\n", true },
                { "[Server]\nPort=0\n", true },
                { "[Server]\nPort=65536\n", false },
                { "[Server]\nRateLimit=interval=3 burst=8\n", true },
                { "[Server]\nRateLimit=interval=20\n", false },
                { "[Server]\nRateLimit=often\n", false },
                { "[Auth]\nKeyFile=/etc/tempus/tempus.keys\n", true },
                { "[Log]\nDir=/var/log/tempus\n", true },
                { "[Log]\nLog=measurements statistics tracking\n", true },
                { "[Log]\nLog=everything\n", false },
        };
        char errors[2048];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Config c;
                print_message("%s", cases[i].text);
                int r = load_text(cases[i].text, &c, errors, sizeof errors);
                if (cases[i].good) {
                        assert_int_equal(r, 0);
                        config_done(&c);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(errors, "t.conf:2: "));
                }
        }
}

static void values_land_in_their_fields(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Sources]\nServer=192.168.2.100 iburst prefer minpoll=4\nPool=pool.example\n"
                                   "MinSources=2\n[Clock]\nMakeStep=1.5 3\nRTCSync=yes\nControl=no\n"
                                   "[Server]\nLocalStratum=10\nPort=11123\nRateLimit=interval=2 burst=4\n"
                                   "BindAddress=192.168.2.100\n[Log]\nLog=tracking measurements\n",
                                   &c, errors, sizeof errors), 0);
        assert_int_equal(c.n_sources, 2);
        assert_string_equal(c.sources[0].host, "192.168.2.100");
        assert_int_equal(c.sources[0].kind, SOURCE_KIND_SERVER);
        assert_true(c.sources[0].iburst && c.sources[0].prefer && !c.sources[0].noselect);
        assert_int_equal(c.sources[0].minpoll, 4);
        assert_int_equal(c.sources[0].maxpoll, SOURCE_DEFAULT_MAXPOLL);
        assert_int_equal(c.sources[0].port, 123);
        assert_int_equal(c.sources[1].kind, SOURCE_KIND_POOL);
        assert_int_equal(c.sources[1].maxsources, POOL_DEFAULT_MAXSOURCES);
        assert_int_equal(c.min_sources, 2);
        assert_true(c.makestep_threshold == 1.5);
        assert_int_equal(c.makestep_limit, 3);
        assert_true(c.rtc_sync);
        assert_false(c.control);
        assert_int_equal(c.local_stratum, 10);
        assert_int_equal(c.port, 11123);
        assert_true(c.ratelimit);
        assert_int_equal(c.ratelimit_interval, 2);
        assert_int_equal(c.ratelimit_burst, 4);
        assert_string_equal(c.bind_addresses[0], "192.168.2.100");
        assert_null(c.bind_addresses[1]);
        assert_int_equal(c.log_flags, LOG_FLAG_TRACKING | LOG_FLAG_MEASUREMENTS);
        config_done(&c);
}

static void defaults_serve_nobody_and_never_step(void **state) {
        Config c;
        char errors[256];

        assert_int_equal(load_text("", &c, errors, sizeof errors), 0);
        assert_int_equal(c.n_sources, 0);
        assert_int_equal(c.access.n_rules, 0);
        assert_int_equal(c.makestep_limit, 0);
        assert_true(c.control);
        assert_int_equal(c.port, 123);
        assert_int_equal(c.min_sources, 1);
        assert_int_equal(c.local_stratum, 0);
        config_done(&c);
}

static void lists_accumulate_and_an_empty_value_clears_them(void **state) {
        Config c;
        char errors[256];

        assert_int_equal(load_text("[Sources]\nServer=a\nServer=b\nServer=\nServer=c\nPool=d\n", &c, errors,
                                   sizeof errors), 0);
        assert_int_equal(c.n_sources, 2);
        assert_string_equal(c.sources[0].host, "c");
        assert_string_equal(c.sources[1].host, "d");
        config_done(&c);

        assert_int_equal(load_text("[Server]\nAllow=10.0.0.0/8\nDeny=10.1.0.0/16\nAllow=\nAllow=192.168.0.0/16\n",
                                   &c, errors, sizeof errors), 0);
        assert_int_equal(c.access.n_rules, 1);
        assert_true(c.access.rules[0].allow);
        config_done(&c);
}

static void an_empty_value_resets_a_single_key_to_its_default(void **state) {
        Config c;
        char errors[256];

        assert_int_equal(load_text("[Clock]\nMakeStep=1.0 3\nMakeStep=\nControl=no\nControl=\n"
                                   "[Server]\nPort=11123\nPort=\nLocalStratum=5\nLocalStratum=\n",
                                   &c, errors, sizeof errors), 0);
        assert_int_equal(c.makestep_limit, 0);
        assert_true(c.makestep_threshold == 0);
        assert_true(c.control);
        assert_int_equal(c.port, 123);
        assert_int_equal(c.local_stratum, 0);
        config_done(&c);
}

static void unknown_keys_are_errors_with_a_suggestion(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Sources]\nSever=a\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:2: Sources.Sever: unknown key \"Sever\", did you mean \"Sources.Server\"?"));

        assert_int_equal(load_text("[Clock]\nmakestep=1 3\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "did you mean \"Clock.MakeStep\"?"));

        assert_int_equal(load_text("[Clok]\nDriftFile=/x\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:2: Clok.DriftFile: unknown section [Clok]"));

        assert_int_equal(load_text("[Sources]\nCompletelyDifferent=1\n", &c, errors, sizeof errors), -EINVAL);
        assert_null(strstr(errors, "did you mean"));
}

static void syntax_errors_name_file_and_line(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Sources]\n\nthis is not a key\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:3: syntax error"));
}

static void every_error_is_reported_not_only_the_first(void **state) {
        Config c;
        char errors[2048];

        write_file("m.conf", "[Clock]\nMakeStep=x\n[Server]\nPort=-1\n");
        write_file("m.conf.d/10-a.conf", "[Server]\nLocalStratum=99\n");
        assert_int_equal(load("m.conf", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "m.conf:2: Clock.MakeStep:"));
        assert_non_null(strstr(errors, "m.conf:4: Server.Port:"));
        assert_non_null(strstr(errors, "10-a.conf:2: Server.LocalStratum:"));
}

static void a_failed_load_leaves_the_old_config_untouched(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Server]\nPort=4000\n", &c, errors, sizeof errors), 0);
        assert_int_equal(load_text("[Server]\nPort=5000\nLocalStratum=x\n", &c, errors, sizeof errors), -EINVAL);
        assert_int_equal(c.port, 4000);
        config_done(&c);
}

static void explicit_path_must_exist(void **state) {
        Config c;
        char errors[512];

        assert_true(load("missing.conf", &c, errors, sizeof errors) < 0);
        assert_non_null(strstr(errors, "missing.conf"));
}

static void dropins_apply_after_the_main_file_in_name_order(void **state) {
        Config c;
        char errors[512];

        write_file("o.conf", "[Server]\nPort=1000\nLocalStratum=3\n");
        write_file("o.conf.d/20-b.conf", "[Server]\nPort=2000\n");
        write_file("o.conf.d/10-a.conf", "[Server]\nPort=3000\nLocalStratum=4\n");
        write_file("o.conf.d/ignored.txt", "[Server]\nPort=9999\n");
        assert_int_equal(load("o.conf", &c, errors, sizeof errors), 0);
        assert_int_equal(c.port, 2000);
        assert_int_equal(c.local_stratum, 4);
        config_done(&c);
}

static void earlier_directories_mask_later_ones(void **state) {
        Config c;

        write_file("etc/tempus.conf.d/50-x.conf", "[Server]\nPort=1111\n");
        write_file("lib/tempus.conf.d/50-x.conf", "[Server]\nPort=2222\n");
        write_file("lib/tempus.conf.d/60-y.conf", "[Server]\nLocalStratum=7\n");
        write_file("lib/tempus.conf.d/70-z.conf", "[Server]\nLocalStratum=9\n");
        /* /dev/null symlink in /etc masks the vendor's 70-z.conf. */
        assert_int_equal(symlink("/dev/null", path_in("etc/tempus.conf.d/70-z.conf")), 0);
        write_file("main.conf", "");

        char d0[256], d2[256];
        snprintf(d0, sizeof d0, "%s", path_in("etc/tempus.conf.d"));
        snprintf(d2, sizeof d2, "%s", path_in("lib/tempus.conf.d"));
        const char *stable[] = { d0, "/nonexistent/tempus.conf.d", d2, NULL };
        assert_int_equal(config_load_files(path_in("main.conf"), false, stable, &c), 0);
        assert_int_equal(c.port, 1111);
        assert_int_equal(c.local_stratum, 7);
        config_done(&c);
}

static void missing_main_file_is_fine_for_the_system_paths(void **state) {
        Config c;
        const char *dirs[] = { NULL };

        assert_int_equal(config_load_files(path_in("nope.conf"), false, dirs, &c), 0);
        config_done(&c);
}

static void dump_shows_each_value_with_its_origin(void **state) {
        Config c;
        char errors[256], out[4096] = "";

        write_file("d.conf", "[Sources]\nServer=a iburst\n[Server]\nPort=4000\n");
        write_file("d.conf.d/10-x.conf", "[Server]\nPort=5000\n");
        assert_int_equal(load("d.conf", &c, errors, sizeof errors), 0);
        FILE *f = fmemopen(out, sizeof out - 1, "w");
        assert_int_equal(config_dump(&c, f), 0);
        fclose(f);
        assert_non_null(strstr(out, "[Sources]\nServer=a iburst  # "));
        assert_non_null(strstr(out, "d.conf:2\n"));
        assert_non_null(strstr(out, "Port=5000  # "));
        assert_non_null(strstr(out, "10-x.conf:2\n"));
        assert_null(strstr(out, "Port=4000"));
        assert_non_null(strstr(out, "MinSources=1  # default"));
        config_done(&c);
}

static void source_specs_parse_for_the_bus_too(void **state) {
        SourceSpec s;
        const char *reason = NULL;

        assert_int_equal(source_spec_parse(SOURCE_KIND_POOL, "pool.example iburst maxsources=2", &s, &reason), 0);
        assert_string_equal(s.host, "pool.example");
        assert_int_equal(s.maxsources, 2);
        source_spec_done(&s);
        assert_int_equal(source_spec_parse(SOURCE_KIND_SERVER, "", &s, &reason), -EINVAL);
        assert_non_null(reason);
}

static void edit_distance_is_case_insensitive(void **state) {
        assert_int_equal(config_edit_distance("Server", "server"), 0);
        assert_int_equal(config_edit_distance("Sever", "Server"), 1);
        assert_int_equal(config_edit_distance("MakeStp", "MakeStep"), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(each_key_accepts_good_and_rejects_bad_values),
                cmocka_unit_test(values_land_in_their_fields),
                cmocka_unit_test(defaults_serve_nobody_and_never_step),
                cmocka_unit_test(lists_accumulate_and_an_empty_value_clears_them),
                cmocka_unit_test(an_empty_value_resets_a_single_key_to_its_default),
                cmocka_unit_test(unknown_keys_are_errors_with_a_suggestion),
                cmocka_unit_test(syntax_errors_name_file_and_line),
                cmocka_unit_test(every_error_is_reported_not_only_the_first),
                cmocka_unit_test(a_failed_load_leaves_the_old_config_untouched),
                cmocka_unit_test(explicit_path_must_exist),
                cmocka_unit_test(dropins_apply_after_the_main_file_in_name_order),
                cmocka_unit_test(earlier_directories_mask_later_ones),
                cmocka_unit_test(missing_main_file_is_fine_for_the_system_paths),
                cmocka_unit_test(dump_shows_each_value_with_its_origin),
                cmocka_unit_test(source_specs_parse_for_the_bus_too),
                cmocka_unit_test(edit_distance_is_case_insensitive),
        };
        return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
