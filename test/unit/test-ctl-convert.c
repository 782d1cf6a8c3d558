/* tempusctl convert-chrony: every directive in DESIGN.md's table maps to its
 * tempus key, everything else is explained, and the result is a tempus.conf
 * that tempus's own config loader accepts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "ctl/convert-chrony.h"

/* The LAN server's chrony.conf from the chrony guide this project follows,
 * with its trailing comments. */
static const char seed_server_conf[] =
        "server 192.168.2.100 iburst\t\t#定义时间服务器的地址\n"
        "driftfile /var/lib/chrony/drift\t\n"
        "makestep 1.0 3\n"
        "rtcsync\n"
        "allow 192.168.2.0/24\t#定义允许谁来同步\n"
        "local stratum 10\t#允许将本地时间作为标准\n"
        "leapsectz right/UTC\t\n"
        "logdir /var/log/chrony\n"
        "bindaddress 192.168.2.100\t#监听的网络接口\n";

static ConvertResult convert(const char *text) {
        ConvertResult r;

        assert_int_equal(convert_chrony(text, &r), 0);
        return r;
}

static void test_seed_server_config(void **state) {
        ConvertResult r = convert(seed_server_conf);

        assert_string_equal(r.config,
                "# tempus.conf converted from chrony.conf by tempusctl convert-chrony.\n"
                "\n[Sources]\n"
                "Server=192.168.2.100 iburst\n"
                "\n[Clock]\n"
                "DriftFile=/var/lib/chrony/drift\n"
                "MakeStep=1.0 3\n"
                "RTCSync=yes\n"
                "LeapSecTZ=right/UTC\n"
                "\n[Server]\n"
                "Allow=192.168.2.0/24\n"
                "LocalStratum=10\n"
                "BindAddress=192.168.2.100\n"
                "\n[Log]\n"
                "Dir=/var/log/chrony\n");
        assert_int_equal(r.n_notes, 0);
        convert_result_done(&r);
}

/* One chrony line → the one tempus line it must produce. */
static void test_each_directive_maps_to_its_key(void **state) {
        static const struct { const char *chrony; const char *tempus; } cases[] = {
                { "server ntp.example.com iburst prefer minpoll 4 maxpoll 8 key 7 noselect port 1123",
                  "Server=ntp.example.com iburst prefer minpoll=4 maxpoll=8 key=7 noselect port=1123\n" },
                { "pool 2.debian.pool.ntp.org iburst maxsources 4",
                  "Pool=2.debian.pool.ntp.org iburst maxsources=4\n" },
                { "minsources 2",               "MinSources=2\n" },
                { "driftfile /var/lib/chrony/drift", "DriftFile=/var/lib/chrony/drift\n" },
                { "makestep 1.0 3",             "MakeStep=1.0 3\n" },
                { "makestep 0.1 -1",            "MakeStep=0.1 -1\n" },
                { "rtcsync",                    "RTCSync=yes\n" },
                { "hwtimestamp *",              "HWTimestamp=*\n" },
                { "leapsectz right/UTC",        "LeapSecTZ=right/UTC\n" },
                { "allow 192.168.2.0/24",       "Allow=192.168.2.0/24\n" },
                { "allow all",                  "Allow=all\n" },
                { "allow",                      "Allow=all\n" },
                { "deny 10.1.0.0/16",           "Deny=10.1.0.0/16\n" },
                { "local stratum 10",           "LocalStratum=10\n" },
                { "local",                      "LocalStratum=10\n" },
                { "bindaddress 192.168.2.100",  "BindAddress=192.168.2.100\n" },
                { "port 11123",                 "Port=11123\n" },
                { "ratelimit interval 3 burst 8", "RateLimit=interval=3 burst=8\n" },
                { "ratelimit",                  "RateLimit=interval=3 burst=8\n" },
                { "keyfile /etc/chrony.keys",   "KeyFile=/etc/chrony.keys\n" },
                { "server nts.example iburst nts ntsport 4461", "Server=nts.example iburst nts ntsport=4461\n" },
                { "ntstrustedcerts /etc/ca.pem", "NTSTrustedCerts=/etc/ca.pem\n" },
                { "ntsdumpdir /var/lib/chrony", "NTSDumpDir=/var/lib/chrony\n" },
                { "nocerttimecheck 2",          "NoCertTimeCheck=2\n" },
                { "ntsservercert /etc/c.pem",   "NTSServerCertFile=/etc/c.pem\n" },
                { "ntsserverkey /etc/k.pem",    "NTSServerKeyFile=/etc/k.pem\n" },
                { "ntsport 4461",               "NTSPort=4461\n" },
                { "maxntsconnections 50",       "NTSMaxConnections=50\n" },
                { "ntsrotate 3600",             "NTSRotate=3600\n" },
                { "authselectmode require",     "AuthSelectMode=require\n" },
                { "authselectmode MIX",         "AuthSelectMode=mix\n" },
                { "server ntp.example.com key 5 iburst", "Server=ntp.example.com key=5 iburst\n" },
                { "logdir /var/log/chrony",     "Dir=/var/log/chrony\n" },
                { "log measurements statistics tracking", "Log=measurements statistics tracking\n" },
                { "SERVER upper.example.com IBURST", "Server=upper.example.com iburst\n" },
                { "server ntp.example.com xleave", "Server=ntp.example.com xleave\n" },
                { "peer 192.0.2.5 key 3 minpoll 4 maxpoll 6", "Peer=192.0.2.5 key=3 minpoll=4 maxpoll=6\n" },
                { "clientloglimit 1048576",     "ClientLogLimit=1048576\n" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                ConvertResult r = convert(cases[i].chrony);
                const char *body = strchr(strstr(r.config, "\n["), ']') + 2;

                assert_string_equal(body, cases[i].tempus);
                assert_int_equal(r.n_notes, 0);
                convert_result_done(&r);
        }
}

static void test_unmappable_directives_are_explained_with_line(void **state) {
        ConvertResult r = convert(
                "! chrony comment\n"
                "; another comment\n"
                "\n"
                "dumpdir /var/lib/chrony\n"
                "cmdallow 127.0.0.1\n"
                "refclock PHC /dev/ptp0\n"
                "frobnicate yes\n");

        assert_int_equal(r.n_notes, 4);
        assert_int_equal(r.notes[0].line, 4);
        assert_string_equal(r.notes[0].directive, "dumpdir /var/lib/chrony");
        assert_non_null(strstr(r.notes[0].reason, "dumps"));
        assert_int_equal(r.notes[1].line, 5);
        assert_non_null(strstr(r.notes[1].reason, "D-Bus"));
        assert_int_equal(r.notes[2].line, 6);
        assert_int_equal(r.notes[3].line, 7);
        assert_non_null(strstr(r.notes[3].reason, "'frobnicate'"));
        /* Nothing convertible: only the heading comment. */
        assert_null(strchr(r.config, '['));
        convert_result_done(&r);
}

static void test_unsupported_server_options_dropped_and_named(void **state) {
        ConvertResult r = convert("server a.example.com iburst maxdelay 0.3 xleave minpoll 5 nts\n");

        assert_non_null(strstr(r.config, "Server=a.example.com iburst xleave minpoll=5 nts\n"));
        assert_int_equal(r.n_notes, 1);
        assert_int_equal(r.notes[0].line, 1);
        assert_non_null(strstr(r.notes[0].reason, "maxdelay 0.3"));
        convert_result_done(&r);
}

static void test_a_peer_without_key_is_noted(void **state) {
        ConvertResult r = convert("peer 192.0.2.5 iburst xleave\n");

        /* xleave maps: interleaved symmetric mode. */
        assert_non_null(strstr(r.config, "Peer=192.0.2.5 iburst xleave\n"));
        assert_int_equal(r.n_notes, 1);
        assert_non_null(strstr(r.notes[0].reason, "explicit Allow="));
        convert_result_done(&r);
}

static void test_unknown_authselectmode_is_named(void **state) {
        ConvertResult r = convert("authselectmode always\n");

        assert_null(strstr(r.config, "AuthSelectMode"));
        assert_int_equal(r.n_notes, 1);
        assert_non_null(strstr(r.notes[0].reason, "require, prefer, mix or ignore"));
        convert_result_done(&r);
}

static void test_option_without_value_is_dropped(void **state) {
        ConvertResult r = convert("server a.example.com iburst minpoll\n");

        assert_non_null(strstr(r.config, "Server=a.example.com iburst\n"));
        assert_int_equal(r.n_notes, 1);
        assert_non_null(strstr(r.notes[0].reason, "'minpoll'"));
        convert_result_done(&r);
}

static void test_maxsources_only_for_pools(void **state) {
        ConvertResult r = convert("server a.example.com maxsources 3\n");

        assert_non_null(strstr(r.config, "Server=a.example.com\n"));
        assert_int_equal(r.n_notes, 1);
        convert_result_done(&r);
}

static void test_partial_directives_keep_what_maps(void **state) {
        ConvertResult r = convert(
                "local stratum 8 orphan distance 0.5\n"
                "log measurements rtc tracking\n"
                "ratelimit interval 1 burst 16 leak 2\n"
                "hwtimestamp eth0 rxfilter all\n");

        assert_non_null(strstr(r.config, "LocalStratum=8\n"));
        assert_non_null(strstr(r.config, "Log=measurements tracking\n"));
        assert_non_null(strstr(r.config, "RateLimit=interval=1 burst=16\n"));
        assert_non_null(strstr(r.config, "HWTimestamp=eth0\n"));
        assert_int_equal(r.n_notes, 4);
        for (size_t i = 0; i < r.n_notes; i++)
                assert_int_equal(r.notes[i].line, i + 1);
        convert_result_done(&r);
}

/* chrony takes a hwtimestamp line per interface, tempus one HWTimestamp=:
 * a second line must not silently replace the first. */
static void test_only_the_first_hwtimestamp_line_is_converted(void **state) {
        ConvertResult r = convert("hwtimestamp eth0\nhwtimestamp eth1\n");

        assert_non_null(strstr(r.config, "HWTimestamp=eth0\n"));
        assert_null(strstr(r.config, "eth1"));
        assert_int_equal(r.n_notes, 1);
        assert_int_equal(r.notes[0].line, 2);
        assert_non_null(strstr(r.notes[0].reason, "HWTimestamp=*"));
        convert_result_done(&r);
}

static void test_print_puts_notes_in_comments(void **state) {
        ConvertResult r = convert("server a.example.com\ndumpdir /b\n");
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        convert_result_print(f, &r);
        fclose(f);
        assert_non_null(strstr(text, "Server=a.example.com\n"));
        assert_non_null(strstr(text, "\n# Not converted:\n#   line 2: dumpdir /b\n#     "));
        /* Every line is a comment, a section or a key. */
        for (char *line = text; *line; line = strchr(line, '\n') + 1) {
                assert_true(*line == '#' || *line == '[' || *line == '\n' || strchr(line, '=') < strchr(line, '\n'));
                if (!strchr(line, '\n'))
                        break;
        }
        free(text);
        convert_result_done(&r);
}

static void test_json_output(void **state) {
        ConvertResult r = convert("rtcsync\ndumpdir b\n");
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        convert_result_print_json(f, &r);
        fclose(f);
        assert_non_null(strstr(text, "{\"Config\":\"# tempus.conf"));
        assert_non_null(strstr(text, "\\n[Clock]\\nRTCSync=yes\\n\""));
        assert_non_null(strstr(text, "\"NotConverted\":[{\"Line\":2,\"Directive\":\"dumpdir b\",\"Reason\":\""));
        free(text);
        convert_result_done(&r);
}

/* The converted file must load in tempus itself, with the values intended. */
static void test_output_loads_in_tempus(void **state) {
        char keys[] = "/tmp/test-ctl-convert-keys-XXXXXX", conf[2048];
        int kfd = mkstemp(keys);
        assert_true(kfd >= 0);
        assert_int_equal(write(kfd, "1 SHA1 HEX:00112233445566778899\n", 31), 31);
        close(kfd);
        snprintf(conf, sizeof conf,
                "pool 2.debian.pool.ntp.org iburst maxsources 3\n"
                "server 192.168.2.100 iburst prefer minpoll 4 maxpoll 8 key 1\n"
                "minsources 2\n"
                "authselectmode prefer\n"
                "driftfile /var/lib/chrony/drift\n"
                "makestep 1.0 3\n"
                "rtcsync\n"
                "hwtimestamp *\n"
                "leapsectz right/UTC\n"
                "allow 192.168.2.0/24\n"
                "deny 192.168.2.7\n"
                "local stratum 10\n"
                "bindaddress 192.168.2.100\n"
                "port 11123\n"
                "ratelimit interval 2 burst 4\n"
                "keyfile %s\n"
                "logdir /var/log/chrony\n"
                "log measurements statistics tracking\n"
                "peer 10.9.9.9 key 1 xleave\n"
                "clientloglimit 1048576\n", keys);
        ConvertResult r = convert(conf);
        char path[] = "/tmp/test-ctl-convert-XXXXXX";
        int fd = mkstemp(path);
        Config c;

        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        convert_result_print(f, &r);
        fclose(f);

        assert_int_equal(config_load(path, &c), 0);
        assert_int_equal(c.n_sources, 3);
        assert_int_equal(c.sources[2].kind, SOURCE_KIND_PEER);
        assert_int_equal(c.sources[2].key, 1);
        assert_true(c.sources[2].xleave);
        assert_int_equal(c.client_log_limit, 1048576);
        assert_int_equal(c.sources[0].kind, SOURCE_KIND_POOL);
        assert_int_equal(c.sources[0].maxsources, 3);
        assert_string_equal(c.sources[1].host, "192.168.2.100");
        assert_true(c.sources[1].prefer);
        assert_int_equal(c.sources[1].minpoll, 4);
        assert_int_equal(c.min_sources, 2);
        assert_int_equal(c.makestep_limit, 3);
        assert_true(c.rtc_sync);
        assert_int_equal(c.local_stratum, 10);
        assert_int_equal(c.port, 11123);
        assert_true(c.ratelimit);
        assert_int_equal(c.ratelimit_burst, 4);
        assert_int_equal(c.log_flags, 7);
        assert_int_equal(key_table_size(c.keys), 1);
        assert_int_equal(c.sources[1].key, 1);
        assert_int_equal(c.auth_select_mode, SELECT_AUTH_PREFER);
        config_done(&c);
        unlink(path);
        unlink(keys);
        convert_result_done(&r);
}

static void test_source_options_for_add_command(void **state) {
        char *words[] = { "iburst", "minpoll", "4", "maxsources", "2" };
        char *text = NULL, *dropped = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_int_equal(convert_source_options(words, 5, true, f, &dropped), 0);
        fclose(f);
        assert_string_equal(text, " iburst minpoll=4 maxsources=2");
        assert_null(dropped);
        free(text);

        char *bad[] = { "iburst", "burst", "key" };
        f = open_memstream(&text, &size);
        assert_int_equal(convert_source_options(bad, 3, false, f, &dropped), -EINVAL);
        fclose(f);
        assert_string_equal(dropped, "key");
        free(dropped);
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed_server_config),
                cmocka_unit_test(test_each_directive_maps_to_its_key),
                cmocka_unit_test(test_unmappable_directives_are_explained_with_line),
                cmocka_unit_test(test_unsupported_server_options_dropped_and_named),
                cmocka_unit_test(test_option_without_value_is_dropped),
                cmocka_unit_test(test_unknown_authselectmode_is_named),
                cmocka_unit_test(test_a_peer_without_key_is_noted),
                cmocka_unit_test(test_maxsources_only_for_pools),
                cmocka_unit_test(test_partial_directives_keep_what_maps),
                cmocka_unit_test(test_only_the_first_hwtimestamp_line_is_converted),
                cmocka_unit_test(test_print_puts_notes_in_comments),
                cmocka_unit_test(test_json_output),
                cmocka_unit_test(test_output_loads_in_tempus),
                cmocka_unit_test(test_source_options_for_add_command),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
