/* Tests for src/server/ratelimit: token buckets per client, the leak, and
 * bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "server/ratelimit.h"

static struct sockaddr_storage v4(uint32_t host) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *a = (struct sockaddr_in *) &ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(host);
        return ss;
}

static struct sockaddr_storage v6(const char *s) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, s, &a->sin6_addr);
        return ss;
}

#define SA(x) ((struct sockaddr *) &(x))

static void a_burst_is_answered_then_limited(void **state) {
        RateLimit *r = ratelimit_new(3, 4, 64);         /* a token every 8 s, bucket of 4 */
        struct sockaddr_storage c = v4(0x0a000001);
        unsigned answered = 0;

        for (int i = 0; i < 4; i++)
                answered += ratelimit_allow(r, SA(c), 0);
        assert_int_equal(answered, 4);
        /* Over the limit: three dropped, the fourth leaks through. */
        assert_false(ratelimit_allow(r, SA(c), 0));
        assert_false(ratelimit_allow(r, SA(c), 0));
        assert_false(ratelimit_allow(r, SA(c), 0));
        assert_true(ratelimit_allow(r, SA(c), 0));
        assert_int_equal(ratelimit_lookup(r, SA(c))->drops, 3);
        ratelimit_free(r);
}

static void tokens_come_back_with_time(void **state) {
        RateLimit *r = ratelimit_new(3, 1, 64);
        struct sockaddr_storage c = v4(0x0a000002);

        assert_true(ratelimit_allow(r, SA(c), 0));
        assert_false(ratelimit_allow(r, SA(c), 4 * NSEC_PER_SEC));
        assert_true(ratelimit_allow(r, SA(c), 13 * NSEC_PER_SEC));
        ratelimit_free(r);
}

static void clients_have_separate_buckets(void **state) {
        RateLimit *r = ratelimit_new(3, 1, 64);
        struct sockaddr_storage a = v4(0x0a000003), b = v4(0x0a000004), c = v6("2001:db8::1");

        assert_true(ratelimit_allow(r, SA(a), 0));
        assert_false(ratelimit_allow(r, SA(a), 0));
        assert_true(ratelimit_allow(r, SA(b), 0));
        assert_true(ratelimit_allow(r, SA(c), 0));
        assert_false(ratelimit_allow(r, SA(c), 0));
        ratelimit_free(r);
}

static void ipv4_mapped_ipv6_shares_the_ipv4_bucket(void **state) {
        RateLimit *r = ratelimit_new(3, 1, 64);
        struct sockaddr_storage a = v4(0xc0000201), m = v6("::ffff:192.0.2.1");

        assert_true(ratelimit_allow(r, SA(a), 0));
        assert_false(ratelimit_allow(r, SA(m), 0));
        ratelimit_free(r);
}

static void memory_is_bounded_and_the_oldest_client_goes(void **state) {
        RateLimit *r = ratelimit_new(3, 1, 8);
        struct sockaddr_storage first = v4(1);

        assert_true(ratelimit_allow(r, SA(first), 0));
        for (uint32_t i = 2; i < 1000; i++) {
                struct sockaddr_storage c = v4(i);
                ratelimit_allow(r, SA(c), (nsec_t) i);
        }
        size_t used = 0;
        for (size_t i = 0; i < r->n_sets * RATELIMIT_WAYS; i++)
                used += r->records[i].family != 0;
        assert_true(used <= 8);
        /* The first client was evicted: it starts with a full bucket again. */
        assert_null(ratelimit_lookup(r, SA(first)));
        assert_true(ratelimit_allow(r, SA(first), 2000));
        ratelimit_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_burst_is_answered_then_limited),
                cmocka_unit_test(tokens_come_back_with_time),
                cmocka_unit_test(clients_have_separate_buckets),
                cmocka_unit_test(ipv4_mapped_ipv6_shares_the_ipv4_bucket),
                cmocka_unit_test(memory_is_bounded_and_the_oldest_client_goes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
