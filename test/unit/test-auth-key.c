/* Tests for src/auth/key: key file lines of every type, in hex and ASCII,
 * comments, and each kind of bad line reported with its file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/key.h"
#include "shared/log.h"
#include "test-util.h"

#define HEX16 "HEX:000102030405060708090A0B0C0D0E0F"
#define HEX32 "HEX:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char tmpdir[64];

static int setup(void **state) {
        log_set_prefix(false);
        return tmpdir_new(tmpdir, sizeof tmpdir);
}

static int teardown(void **state) {
        tmpdir_remove(tmpdir);
        return 0;
}

/* Runs f(arg) with stderr captured into out. */
static int capture_stderr(int (*f)(const char *, const char *), const char *a, const char *b, char *out,
                          size_t size) {
        char path[128];
        snprintf(path, sizeof path, "%s/stderr.txt", tmpdir);
        int saved = stderr_redirect(path);
        int r = f(a, b);
        stderr_restore(saved, path, out, size);
        return r;
}

static int parse_and_free(const char *text, const char *file) {
        KeyTable *t = NULL;
        int r = key_table_parse(text, file, &t);
        key_table_free(t);
        return r;
}

static int load_and_free(const char *path, const char *unused) {
        KeyTable *t = NULL;
        int r = key_table_load(path, &t);
        key_table_free(t);
        return r;
}

static void every_type_parses_in_hex_and_ascii(void **state) {
        static const struct { const char *line; KeyType type; size_t length; uint8_t first; } cases[] = {
                { "1 MD5 HEX:00112233445566778899", KEY_MD5, 10, 0x00 },
                { "2 SHA1 0123456789abcdef", KEY_SHA1, 16, '0' },
                { "3 sha256 " HEX32, KEY_SHA256, 32, 0x00 },
                { "4 SHA384 longer-ascii-secret", KEY_SHA384, 19, 'l' },
                { "5 SHA512 hex:ffeeddccbbaa99887766", KEY_SHA512, 10, 0xff },
                { "6 AES128 " HEX16, KEY_AES128, 16, 0x00 },
                { "7 AES256 " HEX32, KEY_AES256, 32, 0x00 },
                { "  8\tAES128\t0123456789abcdef  ", KEY_AES128, 16, '0' },
                { "9 ascii#secret!", KEY_MD5, 13, 'a' },        /* no type: MD5; '#' inside a key */
                { "4294967295 SHA1 " HEX16, KEY_SHA1, 16, 0x00 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *reason = NULL;
                Key k;
                assert_int_equal(key_parse_line(cases[i].line, &k, &reason), 1);
                assert_int_equal(k.type, cases[i].type);
                assert_int_equal(k.length, cases[i].length);
                assert_int_equal(k.data[0], cases[i].first);
        }
}

static void comments_and_blank_lines_hold_no_key(void **state) {
        const char *lines[] = { "", "   ", "# 1 MD5 secretsecret", "  ! x", "; y", "% z" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                const char *reason = NULL;
                Key k;
                assert_int_equal(key_parse_line(lines[i], &k, &reason), 0);
        }
}

static void bad_lines_say_why(void **state) {
        static const struct { const char *line; const char *reason; } cases[] = {
                { "1 MD5 short", "too short" },
                { "1 SHA256 HEX:0011223344", "too short" },
                { "1 AES128 HEX:000102030405060708090a0b0c0d0e", "AES128 key must be 16 bytes" },
                { "1 AES256 " HEX16, "AES256 key must be 32 bytes" },
                { "1 RC4 secretsecretsecret", "unknown key type" },
                { "1 SHA1 HEX:00112233445566778899zz", "not a hex digit" },
                { "1 SHA1 HEX:001122334455667788990", "even" },
                { "0 SHA1 secretsecretsecret", "key ID" },
                { "4294967296 SHA1 secretsecretsecret", "key ID" },
                { "x SHA1 secretsecretsecret", "key ID" },
                { "1", "expected \"ID TYPE KEY\"" },
                { "1 SHA1 secretsecret extra", "expected \"ID TYPE KEY\"" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *reason = NULL;
                Key k;
                assert_int_equal(key_parse_line(cases[i].line, &k, &reason), -EINVAL);
                assert_non_null(reason);
                if (!strstr(reason, cases[i].reason))
                        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", cases[i].line, reason, cases[i].reason);
        }
}

static void a_file_is_looked_up_by_id(void **state) {
        KeyTable *t = NULL;
        assert_int_equal(key_table_parse("# keys\n30 SHA256 " HEX32 "\n10 AES128 " HEX16 "\n\n20 MD5 secretsecret",
                                         "keys", &t), 0);
        assert_int_equal(key_table_size(t), 3);
        assert_int_equal(key_table_find(t, 10)->type, KEY_AES128);
        assert_int_equal(key_table_find(t, 20)->type, KEY_MD5);
        assert_int_equal(key_table_find(t, 30)->length, 32);
        assert_null(key_table_find(t, 15));
        assert_null(key_table_find(NULL, 10));
        key_table_free(t);
}

static void each_error_names_file_and_line(void **state) {
        char err[4096];
        const char *text = "1 MD5 secretsecret\n"
                           "2 MD5 short\n"
                           "3 BLAKE secretsecret\n"
                           "1 SHA1 othersecret1\n"
                           "# fine\n"
                           "5 AES128 HEX:00\n"
                           "6 SHA1 HEX:0g112233445566778899\n";
        assert_int_equal(capture_stderr(parse_and_free, text, "/etc/tempus/tempus.keys", err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "/etc/tempus/tempus.keys:2: key is too short"));
        assert_non_null(strstr(err, "/etc/tempus/tempus.keys:3: unknown key type"));
        assert_non_null(strstr(err, "/etc/tempus/tempus.keys:4: duplicate key ID 1"));
        assert_non_null(strstr(err, "/etc/tempus/tempus.keys:6: AES128 key must be 16 bytes"));
        assert_non_null(strstr(err, "/etc/tempus/tempus.keys:7: HEX: key has a character"));
        assert_null(strstr(err, ":1:"));
        assert_null(strstr(err, ":5:"));
        /* The secrets never reach the log. */
        assert_null(strstr(err, "secret"));
}

static void a_key_file_readable_by_others_draws_a_warning(void **state) {
        char path[128], err[1024];
        snprintf(path, sizeof path, "%s/keys", tmpdir);
        FILE *f = fopen(path, "w");
        fputs("1 SHA256 " HEX32 "\n", f);
        fclose(f);

        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(capture_stderr(load_and_free, path, NULL, err, sizeof err), 0);
        assert_null(strstr(err, "other users"));

        assert_int_equal(chmod(path, 0604), 0);
        assert_int_equal(capture_stderr(load_and_free, path, NULL, err, sizeof err), 0);
        assert_non_null(strstr(err, "may be read by other users"));
}

static void a_missing_key_file_is_an_error(void **state) {
        char path[128], err[1024];
        snprintf(path, sizeof path, "%s/none", tmpdir);
        assert_int_equal(capture_stderr(load_and_free, path, NULL, err, sizeof err), -ENOENT);
        assert_non_null(strstr(err, path));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_type_parses_in_hex_and_ascii),
                cmocka_unit_test(comments_and_blank_lines_hold_no_key),
                cmocka_unit_test(bad_lines_say_why),
                cmocka_unit_test(a_file_is_looked_up_by_id),
                cmocka_unit_test(each_error_names_file_and_line),
                cmocka_unit_test(a_key_file_readable_by_others_draws_a_warning),
                cmocka_unit_test(a_missing_key_file_is_an_error),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
