/* Tests for src/server/access: subnet parsing and the most-specific-wins
 * decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "shared/access.h"

typedef struct ParseCase {
        const char *text;
        bool good;
        const char *formatted;
} ParseCase;

static void subnets_parse_and_format(void **state) {
        static const ParseCase cases[] = {
                { "192.168.2.0/24", true, "192.168.2.0/24" },
                { "192.168.2.77/24", true, "192.168.2.0/24" },          /* host bits cleared */
                { "10.1.2.3", true, "10.1.2.3/32" },
                { "192.168", true, "192.168.0.0/16" },                  /* chrony short form */
                { "10", true, "10.0.0.0/8" },
                { "all", true, "all" },
                { "0.0.0.0/0", true, "0.0.0.0/0" },
                { "2001:db8::/32", true, "2001:db8::/32" },
                { "fe80::1", true, "fe80::1/128" },
                { "fe80::1/10", true, "fe80::/10" },
                { "192.168.2.0/33", false, NULL },
                { "2001:db8::/129", false, NULL },
                { "192.168.2.0/", false, NULL },
                { "192.168.2.0/-1", false, NULL },
                { "300.1.1.1", false, NULL },
                { "example.com", false, NULL },
                { "", false, NULL },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                AccessRule r;
                const char *reason = NULL;
                char buf[64];

                print_message("%s\n", cases[i].text);
                int k = access_rule_parse(cases[i].text, true, &r, &reason);
                if (cases[i].good) {
                        assert_int_equal(k, 0);
                        assert_string_equal(access_rule_format(&r, buf, sizeof buf), cases[i].formatted);
                } else {
                        assert_int_equal(k, -EINVAL);
                        assert_non_null(reason);
                }
        }
}

static struct sockaddr_storage addr(const char *s) {
        struct sockaddr_storage ss = {};
        if (strchr(s, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                a->sin6_family = AF_INET6;
                inet_pton(AF_INET6, s, &a->sin6_addr);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                inet_pton(AF_INET, s, &a->sin_addr);
        }
        return ss;
}

static bool allowed(const AccessList *l, const char *s) {
        struct sockaddr_storage ss = addr(s);
        return access_list_check(l, (struct sockaddr *) &ss);
}

static void add(AccessList *l, const char *subnet, bool allow) {
        AccessRule r;
        const char *reason;
        assert_int_equal(access_rule_parse(subnet, allow, &r, &reason), 0);
        assert_int_equal(access_list_add(l, &r), 0);
}

static void nobody_is_served_by_default(void **state) {
        AccessList l = {};
        assert_false(allowed(&l, "127.0.0.1"));
        assert_false(allowed(&l, "::1"));
}

static void the_most_specific_subnet_decides(void **state) {
        AccessList l = {};

        add(&l, "192.168.0.0/16", true);
        add(&l, "192.168.2.0/24", false);
        add(&l, "192.168.2.100", true);
        assert_true(allowed(&l, "192.168.7.1"));
        assert_false(allowed(&l, "192.168.2.1"));
        assert_true(allowed(&l, "192.168.2.100"));
        assert_false(allowed(&l, "10.0.0.1"));
        access_list_clear(&l);
}

static void order_does_not_matter_between_different_subnets(void **state) {
        AccessList l = {};

        add(&l, "192.168.2.0/24", false);
        add(&l, "192.168.0.0/16", true);
        assert_false(allowed(&l, "192.168.2.1"));
        assert_true(allowed(&l, "192.168.3.1"));
        access_list_clear(&l);
}

static void a_later_rule_for_the_same_subnet_replaces_the_earlier(void **state) {
        AccessList l = {};

        add(&l, "10.0.0.0/8", true);
        add(&l, "10.0.0.0/8", false);
        assert_int_equal(l.n_rules, 1);
        assert_false(allowed(&l, "10.1.1.1"));
        access_list_clear(&l);
}

static void all_covers_both_families_and_loses_to_any_subnet(void **state) {
        AccessList l = {};

        add(&l, "all", true);
        add(&l, "10.0.0.0/8", false);
        assert_true(allowed(&l, "192.0.2.1"));
        assert_true(allowed(&l, "2001:db8::1"));
        assert_false(allowed(&l, "10.9.9.9"));
        access_list_clear(&l);
}

static void ipv4_mapped_ipv6_matches_ipv4_rules(void **state) {
        AccessList l = {};

        add(&l, "192.168.2.0/24", true);
        assert_true(allowed(&l, "::ffff:192.168.2.5"));
        assert_false(allowed(&l, "::ffff:192.168.3.5"));
        access_list_clear(&l);
}

static void ipv6_prefixes_match_on_bit_boundaries(void **state) {
        AccessList l = {};

        add(&l, "2001:db8:8000::/33", true);
        assert_true(allowed(&l, "2001:db8:8000::1"));
        assert_false(allowed(&l, "2001:db8:7fff::1"));
        access_list_clear(&l);
}

static void copies_are_independent(void **state) {
        AccessList a = {}, b;

        add(&a, "10.0.0.0/8", true);
        assert_int_equal(access_list_copy(&b, &a), 0);
        access_list_clear(&a);
        assert_true(allowed(&b, "10.1.1.1"));
        access_list_clear(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(subnets_parse_and_format),
                cmocka_unit_test(nobody_is_served_by_default),
                cmocka_unit_test(the_most_specific_subnet_decides),
                cmocka_unit_test(order_does_not_matter_between_different_subnets),
                cmocka_unit_test(a_later_rule_for_the_same_subnet_replaces_the_earlier),
                cmocka_unit_test(all_covers_both_families_and_loses_to_any_subnet),
                cmocka_unit_test(ipv4_mapped_ipv6_matches_ipv4_rules),
                cmocka_unit_test(ipv6_prefixes_match_on_bit_boundaries),
                cmocka_unit_test(copies_are_independent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
