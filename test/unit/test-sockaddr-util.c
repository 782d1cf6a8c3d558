/* Tests for src/shared/sockaddr-util: socket addresses are the same
 * endpoint when family, address, port and scope id agree, whatever the
 * padding and flow label hold, and hash alike then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "shared/sockaddr-util.h"

static struct sockaddr_in v4(const char *address, uint16_t port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        assert_int_equal(inet_pton(AF_INET, address, &a.sin_addr), 1);
        return a;
}

static struct sockaddr_in6 v6(const char *address, uint16_t port, uint32_t scope) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = scope };
        assert_int_equal(inet_pton(AF_INET6, address, &a.sin6_addr), 1);
        return a;
}

#define SA(x) ((const struct sockaddr *) &(x))

static void ipv4_padding_is_ignored(void **state) {
        struct sockaddr_in a = v4("192.0.2.1", 123), b = a;

        memset(b.sin_zero, 0xa5, sizeof b.sin_zero);
        assert_memory_not_equal(&a, &b, sizeof a);
        assert_true(sockaddr_equal(SA(a), SA(b)));
        assert_true(sockaddr_hash(SA(a), 42) == sockaddr_hash(SA(b), 42));
}

static void ipv6_flow_label_and_padding_are_ignored(void **state) {
        struct sockaddr_storage x, y;
        struct sockaddr_in6 a = v6("2001:db8::1", 123, 0), b = a;

        b.sin6_flowinfo = htonl(0x12345);
        assert_true(sockaddr_equal(SA(a), SA(b)));
        assert_true(sockaddr_hash(SA(a), 7) == sockaddr_hash(SA(b), 7));
        /* In storage, the bytes after the address differ too. */
        memset(&x, 0, sizeof x);
        memset(&y, 0xff, sizeof y);
        memcpy(&x, &a, sizeof a);
        memcpy(&y, &a, sizeof a);
        assert_true(sockaddr_equal(SA(x), SA(y)));
        assert_true(sockaddr_hash(SA(x), 7) == sockaddr_hash(SA(y), 7));
}

static void what_names_the_endpoint_counts(void **state) {
        struct sockaddr_in a = v4("192.0.2.1", 123);
        struct sockaddr_in other_port = v4("192.0.2.1", 124), other_address = v4("192.0.2.2", 123);
        struct sockaddr_in6 link = v6("fe80::1", 123, 2), other_link = v6("fe80::1", 123, 3);
        struct sockaddr_in6 mapped = v6("::ffff:192.0.2.1", 123, 0);

        assert_false(sockaddr_equal(SA(a), SA(other_port)));
        assert_false(sockaddr_equal(SA(a), SA(other_address)));
        assert_false(sockaddr_equal(SA(link), SA(other_link)));
        assert_false(sockaddr_equal(SA(a), SA(mapped)));
        assert_true(sockaddr_equal(SA(link), SA(link)));
}

static void other_families_are_never_equal(void **state) {
        struct sockaddr a = { .sa_family = AF_UNIX };
        assert_false(sockaddr_equal(&a, &a));
        assert_int_equal(sockaddr_len(&a), 0);
}

static void lengths_and_text_follow_the_family(void **state) {
        struct sockaddr_in a = v4("192.0.2.1", 123);
        struct sockaddr_in6 b = v6("2001:db8::1", 123, 0);
        struct sockaddr c = { .sa_family = AF_UNIX };
        char buf[64];

        assert_int_equal(sockaddr_len(SA(a)), sizeof a);
        assert_int_equal(sockaddr_len(SA(b)), sizeof b);
        assert_string_equal(sockaddr_format(SA(a), buf, sizeof buf), "192.0.2.1");
        assert_string_equal(sockaddr_format(SA(b), buf, sizeof buf), "2001:db8::1");
        assert_string_equal(sockaddr_format(&c, buf, sizeof buf), "?");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ipv4_padding_is_ignored),
                cmocka_unit_test(ipv6_flow_label_and_padding_are_ignored),
                cmocka_unit_test(what_names_the_endpoint_counts),
                cmocka_unit_test(other_families_are_never_equal),
                cmocka_unit_test(lengths_and_text_follow_the_family),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
