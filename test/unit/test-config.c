/* Tests for src/config: every key good and bad, list and reset semantics,
 * drop-in ordering and masking, error messages, suggestions, and the
 * traps of reading files: indented and long lines, NUL bytes, FIFOs and
 * devices, huge files, many drop-ins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config-internal.h"
#include "shared/log.h"
#include "test-util.h"

static char tmpdir[64];

static int make_tmpdir(void **state) {
        assert_int_equal(tmpdir_new(tmpdir, sizeof tmpdir), 0);
        log_set_prefix(false);
        return 0;
}

static int remove_tmpdir(void **state) {
        tmpdir_remove(tmpdir);
        return 0;
}

static char *path_in(const char *name) {
        static char buf[4][256];
        static int k;
        char *p = buf[k++ % 4];
        snprintf(p, 256, "%s/%s", tmpdir, name);
        return p;
}

static void write_bytes(const char *name, const char *data, size_t size) {
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
        assert_int_equal(fwrite(data, 1, size, f), size);
        fclose(f);
}

static void write_file(const char *name, const char *text) {
        write_bytes(name, text, strlen(text));
}

/* Loads name (+ name.d) with stderr captured into errors. */
static int load(const char *name, Config *c, char *errors, size_t size) {
        char *err = path_in("stderr.txt");
        int saved = stderr_redirect(err);
        int r = config_load(path_in(name), c);
        stderr_restore(saved, err, errors, size);
        return r;
}

static int load_text(const char *text, Config *c, char *errors, size_t size) {
        write_file("t.conf", text);
        return load("t.conf", c, errors, size);
}

typedef struct ValueCase {
        const char *text;       /* "[Section]\nKey=value\n" */
        bool good;
        const char *reason;     /* part of the error, when bad; NULL: any */
} ValueCase;

/* "t.conf:2: Section.Key: " for a case's text. */
static void expected_prefix(const char *text, char *buf, size_t size) {
        const char *close = strchr(text, ']'), *eq = strchr(text, '=');
        assert_non_null(close);
        assert_non_null(eq);
        snprintf(buf, size, "t.conf:2: %.*s.%.*s: ", (int) (close - text - 1), text + 1, (int) (eq - close - 2),
                 close + 2);
}

static void each_key_accepts_good_and_rejects_bad_values(void **state) {
        static const ValueCase cases[] = {
                { "[Sources]\nServer=192.168.2.100 iburst prefer\n", true },
                { "[Sources]\nServer=ntp.example.com minpoll=4 maxpoll=8 port=1123 noselect\n", true },
                { "[Sources]\nServer=ntp.example.com key=1\n", false, "key=1, but no key file is configured" },
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
                { "[Sources]\nServer=fe80::1%eth0 iburst\n", true },
                { "[Sources]\nServer=[fe80::1%lo]\n", true },
                { "[Sources]\nServer=1.2.3.4\n", true },
                { "[Sources]\nServer=nts.example nts ntsport=4461 iburst\n", true },
                { "[Sources]\nPool=nts.example nts\n", true },
                { "[Sources]\nServer=nts.example nts ntsport=0\n", false, "ntsport must be from 1 to 65535" },
                { "[Sources]\nServer=nts.example nts key=1\n", false, "nts and key= exclude each other" },
                /* NTS files must be readable; what is in them is read at start. */
                { "[Auth]\nNTSTrustedCerts=/etc/passwd\nNTSTrustedCerts=/etc/group\n", true },
                { "[Auth]\nNTSTrustedCerts=/a b\n", false, "path must not contain spaces" },
                { "[Auth]\nNTSDumpDir=/var/lib/tempus/nts\n", true },
                { "[Auth]\nNoCertTimeCheck=3\n", true },
                { "[Auth]\nNoCertTimeCheck=-1\n", false, "must be a number of clock updates" },
                { "[Server]\nNTSServerCertFile=/etc/passwd\nNTSServerKeyFile=/etc/group\n", true },
                { "[Server]\nNTSPort=4461\n", true },
                { "[Server]\nNTSPort=0\n", false, "must be a port number from 1 to 65535" },
                { "[Server]\nNTSMaxConnections=0\n", false, "from 1 to 10000" },
                { "[Server]\nNTSRotate=3600\n", true },
                { "[Server]\nNTSRotate=0\n", true },
                { "[Server]\nNTSRotate=5\n", false, "60 or more" },
                { "[Sources]\nServer=::%%%%\n", false, "not an IPv6 address" },
                { "[Sources]\nServer=a:%$(id)\n", false, "not an IPv6 address" },
                { "[Sources]\nServer=fe80::1%\n", false, "not an IPv6 address" },
                { "[Sources]\nServer=fe80::1%eth0/x\n", false, "not an IPv6 address" },
                { "[Sources]\nServer=10.0.0.256\n", false, "not an IPv4 address" },
                { "[Sources]\nServer=$(id)\n", false, "letters, digits" },
                { "[Sources]\nPool=pool.example iburst maxsources=4\n", true },
                { "[Sources]\nPool=pool.example maxsources=17\n", false },
                { "[Sources]\nMinSources=2\n", true },
                { "[Sources]\nMinSources=0\n", false },
                { "[Sources]\nMinSources=two\n", false },
                { "[Sources]\nMaxDistance=1.5\n", true },
                { "[Sources]\nMaxDistance=0\n", false, "must be a positive number of seconds" },
                { "[Sources]\nMaxDistance=far\n", false, "must be a positive number of seconds" },
                { "[Sources]\nMaxJitter=0.01\n", true },
                { "[Sources]\nMaxJitter=-1\n", false, "must be a positive number of seconds" },
                { "[Sources]\nServer=ntp.example minpoll=-7 maxpoll=-7\n", true },
                { "[Sources]\nServer=ntp.example minpoll=-8\n", false, "from -7 to 24" },
                { "[Clock]\nDriftFile=/var/lib/tempus/drift\n", true },
                { "[Clock]\nMakeStep=1.0 3\n", true },
                { "[Clock]\nMakeStep=0.1 -1\n", true },
                { "[Clock]\nMakeStep=0 -1\n", true },
                { "[Clock]\nMakeStep=-0.5 -1\n", false, "threshold must be a number of seconds, 0 or more" },
                { "[Clock]\nMakeStep=abc\n", false },
                { "[Clock]\nMakeStep=1.0\n", false },
                { "[Clock]\nMakeStep=-1 3\n", false },
                { "[Clock]\nMakeStep=1.0 x\n", false },
                { "[Sources]\nLinkServers=no\n", true },
                { "[Sources]\nLinkServers=sometimes\n", false, "must be a boolean" },
                { "[Sources]\nLinkServerOptions=iburst minpoll=4 port=1123\n", true },
                { "[Sources]\nLinkServerOptions=iburst maxsources=3\n", false, "Pool= only" },
                { "[Sources]\nLinkServerOptions=minpoll=99\n", false, "from -7 to 24" },
                { "[Clock]\nRTCSync=yes\n", true },
                { "[Clock]\nRTCSync=maybe\n", false },
                { "[Clock]\nHWTimestamp=*\n", true },
                { "[Clock]\nHWTimestamp=eth0.100\n", true },
                { "[Clock]\nHWTimestamp=eth0 ; all of them\n", false, "interface name" },
                { "[Clock]\nHWTimestamp=a-name-far-too-long\n", false, "interface name" },
                { "[Clock]\nTXTimestamps=kernel\n", true },
                { "[Clock]\nTXTimestamps=daemon\n", true },
                { "[Clock]\nTXTimestamps=\n", true },
                { "[Clock]\nTXTimestamps=hardware\n", false, "must be kernel" },
                { "[Clock]\nTXTimestamps=Kernel\n", false, "or daemon" },
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
                { "[Server]\nPort=123 ; a comment takes a whole line\n", false, "must be a port number" },
                { "[Server]\nRateLimit=interval=3 burst=8\n", true },
                { "[Server]\nRateLimit=interval=20\n", false },
                { "[Server]\nRateLimit=often\n", false },
                { "[Server]\nClientLogLimit=1048576\n", true },
                { "[Server]\nClientLogLimit=0\n", true },
                { "[Server]\nClientLogLimit=2GB\n", false, "must be a number of bytes" },
                { "[Sources]\nServer=192.0.2.1 xleave\n", true },
                { "[Sources]\nPeer=192.0.2.1\n", false, "explicit [Server] Allow=" },
                { "[Server]\nAllow=192.0.2.0/24\n[Sources]\nPeer=192.0.2.1 minpoll=4\n", true },
                { "[Server]\nAllow=192.0.2.0/24\n[Sources]\nPeer=192.0.2.1 xleave\n", true },
                { "[Sources]\nPeer=192.0.2.1 nts\n", false, "nts applies to Server= and Pool= only" },
                { "[Sources]\nPeer=192.0.2.1 key=0\n", false, "key must be" },
                { "[Sources]\nPeer=192.0.2.1\n[Server]\nPort=0\nAllow=all\n", false, "but [Server] Port=0" },
                { "[Sources]\nServer=192.0.2.1 xleave=yes\n", false, "unknown option" },
                { "[Auth]\nKeyFile=\n", true },
                { "[Sources]\nAuthSelectMode=require\n", true },
                { "[Sources]\nAuthSelectMode=\n", true },
                { "[Sources]\nAuthSelectMode=always\n", false, "must be require, prefer, mix or ignore" },
                { "[Log]\nDir=/var/log/tempus\n", true },
                { "[Log]\nLog=measurements statistics tracking\n", true },
                { "[Log]\nLog=everything\n", false },
        };
        char errors[2048], prefix[64];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Config c;
                print_message("%s", cases[i].text);
                int r = load_text(cases[i].text, &c, errors, sizeof errors);
                if (cases[i].good) {
                        assert_int_equal(r, 0);
                        config_done(&c);
                } else {
                        assert_int_equal(r, -EINVAL);
                        expected_prefix(cases[i].text, prefix, sizeof prefix);
                        print_message("  -> %s", errors);
                        assert_non_null(strstr(errors, prefix));
                        if (cases[i].reason)
                                assert_non_null(strstr(strstr(errors, prefix), cases[i].reason));
                }
        }
}

static void source_keys_come_from_the_key_file(void **state) {
        Config c;
        char errors[2048];

        write_file("t.keys", "# test keys\n1 SHA256 HEX:000102030405060708090a0b0c0d0e0f\n"
                             "2 AES128 HEX:000102030405060708090a0b0c0d0e0f\n");
        /* Relative: beside the file that names it. */
        assert_int_equal(load_text("[Sources]\nServer=192.0.2.1 key=1\nServer=192.0.2.2 key=2\n"
                                   "AuthSelectMode=prefer\n[Auth]\nKeyFile=t.keys\n", &c, errors, sizeof errors), 0);
        assert_int_equal(key_table_size(c.keys), 2);
        assert_int_equal(key_table_find(c.keys, 2)->type, KEY_AES128);
        assert_int_equal(c.sources[1].key, 2);
        assert_int_equal(c.auth_select_mode, SELECT_AUTH_PREFER);
        config_done(&c);
        assert_null(c.keys);
}

static void a_key_missing_from_the_file_names_the_source_line(void **state) {
        Config c;
        char errors[2048];

        write_file("t.keys", "1 SHA256 HEX:000102030405060708090a0b0c0d0e0f\n");
        assert_int_equal(load_text("[Auth]\nKeyFile=t.keys\n[Sources]\nServer=192.0.2.1 key=1\n"
                                   "Server=192.0.2.2 key=7\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:5: Sources.Server: key 7 is not in the key file t.keys"));
        assert_null(strstr(errors, "t.conf:4:"));
}

static void settings_alone_are_read_without_the_key_file(void **state) {
        Config c;

        write_file("nokeys.conf", "[Auth]\nKeyFile=missing.keys\n[Sources]\nServer=192.0.2.1 key=3\n"
                                  "[Log]\nDir=/var/log/elsewhere\n");
        assert_int_equal(config_load_flags(path_in("nokeys.conf"), 0, &c), 0);
        assert_null(c.keys);
        assert_string_equal(c.log_dir, "/var/log/elsewhere");
        config_done(&c);
}

static void a_bad_key_file_fails_the_configuration(void **state) {
        Config c;
        char errors[2048];

        write_file("t.keys", "1 SHA256 HEX:000102030405060708090a0b0c0d0e0f\n1 MD5 secretsecret\n");
        assert_int_equal(load_text("[Auth]\nKeyFile=t.keys\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.keys:2: duplicate key ID 1"));

        assert_int_equal(load_text("[Auth]\nKeyFile=missing.keys\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "missing.keys: cannot open the key file"));
}

static void nts_files_must_be_readable(void **state) {
        Config c;
        char errors[1024];

        write_file("ca.pem", "-----BEGIN CERTIFICATE-----\n");
        char conf[512];
        snprintf(conf, sizeof conf, "[Auth]\nNTSTrustedCerts=%s\n[Server]\nNTSServerCertFile=/nonexistent/c.pem\n"
                 "NTSServerKeyFile=%s\n", path_in("ca.pem"), path_in("ca.pem"));
        assert_int_equal(load_text(conf, &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:4: Server.NTSServerCertFile: cannot read /nonexistent/c.pem: "
                                       "No such file or directory"));
        assert_null(strstr(errors, "t.conf:2:"));
        /* A file cleared by an empty assignment is not checked. */
        snprintf(conf, sizeof conf, "[Auth]\nNTSTrustedCerts=/nonexistent/ca.pem\nNTSTrustedCerts=\n");
        assert_int_equal(load_text(conf, &c, errors, sizeof errors), 0);
        config_done(&c);
}

static void nts_server_files_come_in_pairs(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Server]\nNTSServerCertFile=/c.pem\nNTSServerCertFile=/d.pem\n"
                                   "NTSServerKeyFile=/k.pem\n", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "t.conf:4: Server.NTSServerKeyFile: 2 NTSServerCertFile= but 1 "
                                       "NTSServerKeyFile=: they come in pairs"));
}

static void nts_values_land_in_their_fields(void **state) {
        Config c;
        char errors[1024];

        assert_int_equal(load_text("[Sources]\nServer=nts.example nts ntsport=4461\nServer=plain.example\n"
                                   "[Auth]\nNTSTrustedCerts=/etc/passwd\nNTSTrustedCerts=/etc/group\n"
                                   "NoCertTimeCheck=0\n[Server]\nNTSServerCertFile=/etc/passwd\n"
                                   "NTSServerKeyFile=/etc/group\nNTSRotate=0\n",
                                   &c, errors, sizeof errors), 0);
        assert_true(c.sources[0].nts);
        assert_int_equal(c.sources[0].nts_port, 4461);
        assert_false(c.sources[1].nts);
        assert_int_equal(c.sources[1].nts_port, SOURCE_DEFAULT_NTS_PORT);
        assert_int_equal(c.nts_trusted_certs.n, 2);
        assert_string_equal(c.nts_trusted_certs.paths[1], "/etc/group");
        assert_int_equal(c.no_cert_time_check, 0);
        assert_int_equal(c.nts_server_certs.n, 1);
        assert_string_equal(c.nts_server_keys.paths[0], "/etc/group");
        assert_int_equal(c.nts_port, 4460);
        assert_int_equal(c.nts_max_connections, 100);
        assert_true(c.nts_rotate == 0);
        assert_null(c.nts_dump_dir);
        config_done(&c);
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

static void tx_timestamps_default_to_the_kernel_and_daemon_turns_them_off(void **state) {
        Config c;
        char errors[512], out[4096] = "";

        assert_int_equal(load_text("[Clock]\nControl=no\n", &c, errors, sizeof errors), 0);
        assert_true(c.kernel_tx_timestamps);
        config_done(&c);

        write_file("tx.conf", "[Clock]\nTXTimestamps=daemon\n");
        assert_int_equal(load("tx.conf", &c, errors, sizeof errors), 0);
        assert_false(c.kernel_tx_timestamps);
        FILE *f = fmemopen(out, sizeof out - 1, "w");
        assert_int_equal(config_dump(&c, f), 0);
        fclose(f);
        assert_non_null(strstr(out, "TXTimestamps=daemon  # "));
        assert_non_null(strstr(out, "tx.conf:2\n"));
        config_done(&c);

        /* An empty value is the default again. */
        assert_int_equal(load_text("[Clock]\nTXTimestamps=daemon\nTXTimestamps=\n", &c, errors, sizeof errors), 0);
        assert_true(c.kernel_tx_timestamps);
        config_done(&c);
}

static void a_bad_tx_timestamps_value_names_file_line_and_key(void **state) {
        Config c;
        char errors[512];

        write_file("badtx.conf", "[Clock]\nControl=no\nTXTimestamps=off\n");
        assert_int_equal(load("badtx.conf", &c, errors, sizeof errors), -EINVAL);
        assert_non_null(strstr(errors, "badtx.conf:3: Clock.TXTimestamps: must be kernel"));
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

/* A bound given alone moves the default other one out of its way, as
 * chrony's "server host minpoll 12" polls every 2^12 s; two given that
 * cross are an error. */
static void a_lone_poll_bound_moves_the_default_other(void **state) {
        static const struct {
                const char *text;
                int minpoll, maxpoll;
        } cases[] = {
                { "host", SOURCE_DEFAULT_MINPOLL, SOURCE_DEFAULT_MAXPOLL },
                { "host minpoll=12", 12, 12 },
                { "host minpoll=8", 8, SOURCE_DEFAULT_MAXPOLL },
                { "host maxpoll=4", 4, 4 },
                { "host maxpoll=8", SOURCE_DEFAULT_MINPOLL, 8 },
                { "host maxpoll=-3", -3, -3 },
                { "host minpoll=9 maxpoll=9", 9, 9 },
        };
        const char *reason = NULL;
        SourceSpec s;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(source_spec_parse(SOURCE_KIND_SERVER, cases[i].text, &s, &reason), 0);
                assert_int_equal(s.minpoll, cases[i].minpoll);
                assert_int_equal(s.maxpoll, cases[i].maxpoll);
                source_spec_done(&s);
        }
        assert_int_equal(source_spec_parse(SOURCE_KIND_SERVER, "host minpoll=8 maxpoll=6", &s, &reason), -EINVAL);
        assert_string_equal(reason, "minpoll is larger than maxpoll");
}

/* ---- Reading files: what the admin wrote is what runs, or an error ------ */

/* Loads name (+ name.d), which must fail with r, and the errors must say
 * error. */
static void assert_load_fails(const char *name, int r, const char *error) {
        char errors[4096];
        Config c;

        assert_int_equal(load(name, &c, errors, sizeof errors), r);
        print_message("%s", errors);
        assert_non_null(strstr(errors, error));
}

static void assert_text_fails(const char *text, const char *error) {
        write_file("t.conf", text);
        assert_load_fails("t.conf", -EINVAL, error);
}

static void an_indented_line_is_a_line_of_its_own(void **state) {
        Config c;
        char errors[512];

        assert_int_equal(load_text("[Clock]\nDriftFile=/var/lib/tempus/drift\n    Control=no\n\tRTCSync=yes\n"
                                   "  [Server]\n  Port = 4000\n", &c, errors, sizeof errors), 0);
        assert_string_equal(c.drift_file, "/var/lib/tempus/drift");
        assert_false(c.control);
        assert_true(c.rtc_sync);
        assert_int_equal(c.port, 4000);
        config_done(&c);
}

static char *repeat(char *buf, char ch, size_t n) {
        memset(buf, ch, n);
        buf[n] = 0;
        return buf;
}

static void a_long_line_is_read_whole(void **state) {
        char text[1024], name[512], label[64], last[64], x[256], errors[2048];
        Config c;

        /* The longest legal host name: 63 + 1 + 63 + 1 + 63 + 1 + 61. */
        repeat(label, 'a', 63);
        snprintf(name, sizeof name, "%s.%s.%s.%s", label, label, label, repeat(last, 'b', 61));
        assert_int_equal(strlen(name), 253);
        snprintf(text, sizeof text, "[Sources]\nServer=%s iburst maxpoll=8\n", name);
        assert_int_equal(load_text(text, &c, errors, sizeof errors), 0);
        assert_int_equal(c.n_sources, 1);
        assert_string_equal(c.sources[0].host, name);
        assert_true(c.sources[0].iburst);
        assert_int_equal(c.sources[0].maxpoll, 8);
        config_done(&c);

        /* The tail of a long value does not become a line of its own. */
        snprintf(text, sizeof text, "[Clock]\nDriftFile=/%sControl=no\n", repeat(x, 'd', 200));
        assert_int_equal(load_text(text, &c, errors, sizeof errors), 0);
        assert_int_equal(strlen(c.drift_file), 211);
        assert_true(c.control);
        config_done(&c);

        snprintf(text, sizeof text, "[Clock]\nHWTimestamp=%sControl=yes\n", repeat(x, 'x', 187));
        assert_text_fails(text, "t.conf:2: Clock.HWTimestamp: must be * or an interface name");
        assert_int_equal(load_text(text, &c, errors, sizeof errors), -EINVAL);
        assert_null(strstr(errors, "Clock.Control"));
}

static void a_long_comment_is_a_comment_and_line_numbers_stay_right(void **state) {
        char text[1024], x[300], errors[1024];
        Config c;

        snprintf(text, sizeof text, "[Sources]\n#%s\n;%s\nMinSources=x\n", repeat(x, 'c', 249), x);
        assert_text_fails(text, "t.conf:4: Sources.MinSources: must be an integer");
        assert_int_equal(load_text(text, &c, errors, sizeof errors), -EINVAL);
        assert_null(strstr(errors, "syntax error"));

        snprintf(text, sizeof text, "[Sources]\n\n%s=1\n", repeat(x, 'k', 250));
        assert_text_fails(text, "t.conf:3: syntax error");
}

static void a_nul_byte_is_an_error_not_the_end_of_a_value(void **state) {
        static const char value[] = "[Server]\nLocalStratum=1\0 5\n";
        static const char comment[] = "[Server]\n# a\0b\nPort=4000\n";

        write_bytes("t.conf", value, sizeof value - 1);
        assert_load_fails("t.conf", -EINVAL, "t.conf:2: Server.LocalStratum: line contains a NUL byte");
        write_bytes("t.conf", comment, sizeof comment - 1);
        assert_load_fails("t.conf", -EINVAL, "t.conf:2: line contains a NUL byte");
}

static void only_equals_separates_key_and_value(void **state) {
        assert_text_fails("[Server]\nPort: 4000\n", "t.conf:2: Server.Port: expected Key=value");
}

static void a_byte_order_mark_is_allowed(void **state) {
        char errors[256];
        Config c;

        assert_int_equal(load_text("\xef\xbb\xbf[Server]\nPort=4000\n", &c, errors, sizeof errors), 0);
        assert_int_equal(c.port, 4000);
        config_done(&c);
}

static void dropins_beyond_256_all_apply_in_name_order(void **state) {
        char name[64], text[64], errors[1024];
        Config c;

        write_file("many.conf", "[Server]\nLocalStratum=3\n");
        /* Created in reverse, so that directory order is not name order. */
        write_file("many.conf.d/zzzz-last.conf", "[Server]\nLocalStratum=7\n");
        for (int i = 299; i >= 0; i--) {
                snprintf(name, sizeof name, "many.conf.d/%03d.conf", i);
                snprintf(text, sizeof text, "[Sources]\nServer=h%03d\n", i);
                write_file(name, text);
        }
        assert_int_equal(load("many.conf", &c, errors, sizeof errors), 0);
        assert_int_equal(c.n_sources, 300);
        for (int i = 0; i < 300; i++) {
                snprintf(name, sizeof name, "h%03d", i);
                assert_string_equal(c.sources[i].host, name);
        }
        assert_int_equal(c.local_stratum, 7);
        config_done(&c);
}

static void more_dropins_than_the_limit_are_an_error(void **state) {
        char name[64];

        write_file("lots.conf", "");
        for (unsigned i = 0; i <= CONFIG_DROPINS_MAX; i++) {
                snprintf(name, sizeof name, "lots.conf.d/%04u.conf", i);
                write_file(name, "");
        }
        assert_load_fails("lots.conf", -EINVAL, "lots.conf.d: more than 1024 drop-in fragments");
}

static void only_regular_files_are_read(void **state) {
        char errors[2048];
        Config c;

        write_file("dev.conf", "[Server]\nPort=4000\n");
        write_file("dev.conf.d/10-real.conf", "[Server]\nLocalStratum=5\n");
        assert_int_equal(symlink(path_in("dev.conf.d/10-real.conf"), path_in("dev.conf.d/20-link.conf")), 0);
        assert_int_equal(load("dev.conf", &c, errors, sizeof errors), 0);
        config_done(&c);

        assert_int_equal(mkfifo(path_in("dev.conf.d/30-fifo.conf"), 0644), 0);
        assert_int_equal(symlink("/dev/zero", path_in("dev.conf.d/40-zero.conf")), 0);
        assert_int_equal(symlink("/dev/urandom", path_in("dev.conf.d/50-urandom.conf")), 0);
        alarm(20);              /* a blocking read fails the test, not hangs it */
        assert_load_fails("dev.conf", -EINVAL, "dev.conf.d/30-fifo.conf: is a FIFO, not a regular file");
        assert_load_fails("dev.conf", -EINVAL, "dev.conf.d/40-zero.conf: is a character device, not a regular file");
        assert_load_fails("dev.conf", -EINVAL,
                          "dev.conf.d/50-urandom.conf: is a character device, not a regular file");
        alarm(0);
}

static void the_main_file_must_be_a_regular_file_or_dev_null(void **state) {
        char errors[1024];
        Config c;

        assert_int_equal(symlink("/dev/zero", path_in("zero.conf")), 0);
        alarm(20);
        assert_load_fails("zero.conf", -EINVAL, "zero.conf: is a character device, not a regular file");
        alarm(0);
        assert_int_equal(mkdir(path_in("dir.conf"), 0755), 0);
        assert_load_fails("dir.conf", -EINVAL, "dir.conf: is a directory, not a regular file");

        assert_int_equal(symlink("/dev/null", path_in("null.conf")), 0);
        assert_int_equal(load("null.conf", &c, errors, sizeof errors), 0);
        assert_int_equal(c.port, 123);
        config_done(&c);
}

static void a_file_over_the_size_limit_is_refused(void **state) {
        size_t n = CONFIG_FILE_MAX + 1;
        char *big = malloc(n);

        assert_non_null(big);
        memset(big, '\n', n);
        big[0] = '#';
        write_bytes("big.conf", big, n);
        free(big);
        assert_load_fails("big.conf", -EINVAL, "big.conf: larger than the limit of 1048576 bytes");
}

static void an_unreadable_dropin_directory_is_an_error(void **state) {
        write_file("loop.conf", "");
        assert_int_equal(symlink("loop.conf.d", path_in("loop.conf.d")), 0);
        assert_load_fails("loop.conf", -ELOOP,
                          "loop.conf.d: cannot read the drop-in directory: Too many levels of symbolic links");
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
                cmocka_unit_test(nts_values_land_in_their_fields),
                cmocka_unit_test(nts_server_files_come_in_pairs),
                cmocka_unit_test(nts_files_must_be_readable),
                cmocka_unit_test(source_keys_come_from_the_key_file),
                cmocka_unit_test(a_key_missing_from_the_file_names_the_source_line),
                cmocka_unit_test(a_bad_key_file_fails_the_configuration),
                cmocka_unit_test(settings_alone_are_read_without_the_key_file),
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
                cmocka_unit_test(tx_timestamps_default_to_the_kernel_and_daemon_turns_them_off),
                cmocka_unit_test(a_bad_tx_timestamps_value_names_file_line_and_key),
                cmocka_unit_test(source_specs_parse_for_the_bus_too),
                cmocka_unit_test(a_lone_poll_bound_moves_the_default_other),
                cmocka_unit_test(an_indented_line_is_a_line_of_its_own),
                cmocka_unit_test(a_long_line_is_read_whole),
                cmocka_unit_test(a_long_comment_is_a_comment_and_line_numbers_stay_right),
                cmocka_unit_test(a_nul_byte_is_an_error_not_the_end_of_a_value),
                cmocka_unit_test(only_equals_separates_key_and_value),
                cmocka_unit_test(a_byte_order_mark_is_allowed),
                cmocka_unit_test(dropins_beyond_256_all_apply_in_name_order),
                cmocka_unit_test(more_dropins_than_the_limit_are_an_error),
                cmocka_unit_test(only_regular_files_are_read),
                cmocka_unit_test(the_main_file_must_be_a_regular_file_or_dev_null),
                cmocka_unit_test(a_file_over_the_size_limit_is_refused),
                cmocka_unit_test(an_unreadable_dropin_directory_is_an_error),
                cmocka_unit_test(edit_distance_is_case_insensitive),
        };
        return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
