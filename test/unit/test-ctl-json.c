/* tempusctl's JSON writer: strings escaped so any parser reads them back,
 * doubles that round-trip exactly, null where JSON has no number. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl-json.h"

static char *write_string(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        json_write_string(f, s);
        fclose(f);
        return buf;
}

static char *write_double(double d) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        json_write_double(f, d);
        fclose(f);
        return buf;
}

static void test_strings_are_escaped(void **state) {
        static const struct { const char *in, *out; } cases[] = {
                { "plain", "\"plain\"" },
                { "a\"b", "\"a\\\"b\"" },
                { "back\\slash", "\"back\\\\slash\"" },
                { "line\nnext\ttab\r", "\"line\\nnext\\ttab\\r\"" },
                { "\x01\x1f", "\"\\u0001\\u001f\"" },
                { "时间", "\"时间\"" },
                { NULL, "null" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *s = write_string(cases[i].in);
                assert_string_equal(s, cases[i].out);
                free(s);
        }
}

static void test_doubles_round_trip_and_stay_short(void **state) {
        static const double values[] = { 0.0, -0.01, 0.1, 1e-9, -4.3e-07, 123456.789, 1.0 / 3.0, 5e-324 };

        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                char *s = write_double(values[i]);
                assert_true(strtod(s, NULL) == values[i]);
                assert_true(strlen(s) <= 24);
                free(s);
        }
        char *s = write_double(0.1);
        assert_string_equal(s, "0.1");
        free(s);
}

static void test_non_finite_is_null(void **state) {
        char *s = write_double(NAN);
        assert_string_equal(s, "null");
        free(s);
        s = write_double(-INFINITY);
        assert_string_equal(s, "null");
        free(s);
}

static void test_keys_get_commas_between(void **state) {
        char *buf = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f = open_memstream(&buf, &size);

        fputc('{', f);
        json_write_key(f, &first, "A");
        json_write_bool(f, true);
        json_write_key(f, &first, "B");
        json_write_bool(f, false);
        fputc('}', f);
        fclose(f);
        assert_string_equal(buf, "{\"A\":true,\"B\":false}");
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings_are_escaped),
                cmocka_unit_test(test_doubles_round_trip_and_stay_short),
                cmocka_unit_test(test_non_finite_is_null),
                cmocka_unit_test(test_keys_get_commas_between),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
