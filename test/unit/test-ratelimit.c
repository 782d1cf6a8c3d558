/* Tests for src/server/ratelimit: token buckets per client, the leak,
 * Kiss-o'-Death shares, bounded memory, the keyed hash behind it
 * (SipHash-2-4 against the reference vectors) and eviction that never
 * refills a bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "server/ratelimit.h"
#include "server/siphash.h"

#define MS (NSEC_PER_SEC / 1000)

/* The key of the reference vectors, 00 01 .. 0f. */
static const uint8_t KEY_A[SIPHASH_KEY_SIZE] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t KEY_B[SIPHASH_KEY_SIZE] = { 'a', 'n', 'o', 't', 'h', 'e', 'r', ' ', 'k', 'e', 'y' };

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
        assert_int_equal(inet_pton(AF_INET6, s, &a->sin6_addr), 1);
        return ss;
}

/* 2001:db8::N */
static struct sockaddr_storage v6_host(uint32_t n) {
        struct sockaddr_storage ss = v6("2001:db8::");
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
        for (int i = 0; i < 4; i++)
                a->sin6_addr.s6_addr[15 - i] = (uint8_t) (n >> (8 * i));
        return ss;
}

#define SA(x) ((struct sockaddr *) &(x))

static RateLimit *table(int interval, unsigned burst, size_t clients) {
        RateLimit *r = NULL;
        assert_int_equal(ratelimit_new_keyed(interval, burst, clients, KEY_A, &r), 0);
        return r;
}

static bool allow(RateLimit *r, const struct sockaddr_storage *c, nsec_t now) {
        return ratelimit_check(r, SA(*c), now, 0) == RATELIMIT_ANSWER;
}

/* ---- SipHash-2-4 ------------------------------------------------------- */

/* The reference vectors of the SipHash paper's authors: key 00..0f,
 * message 00 01 .. (n-1) for n = 0..63, output read little-endian. */
static const uint64_t siphash24_vectors[64] = {
        0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
        0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
        0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
        0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
        0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
        0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
        0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
        0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
        0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
        0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
        0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
        0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
        0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
        0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
        0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
        0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

static void siphash24_matches_the_reference_vectors(void **state) {
        uint8_t msg[64];
        for (size_t n = 0; n < 64; n++) {
                msg[n] = (uint8_t) n;
                assert_int_equal(siphash24(msg, n, KEY_A), siphash24_vectors[n]);
        }
}

static void siphash24_depends_on_every_key_byte(void **state) {
        static const char msg[] = "192.0.2.1";
        uint64_t h = siphash24(msg, sizeof msg - 1, KEY_A);
        for (size_t i = 0; i < SIPHASH_KEY_SIZE; i++) {
                uint8_t key[SIPHASH_KEY_SIZE];
                memcpy(key, KEY_A, sizeof key);
                key[i] ^= 0x80;
                assert_int_not_equal(siphash24(msg, sizeof msg - 1, key), h);
        }
}

/* ---- Buckets ----------------------------------------------------------- */

static void a_burst_is_answered_then_limited(void **state) {
        RateLimit *r = table(3, 4, 64);         /* a token every 8 s, bucket of 4 */
        struct sockaddr_storage c = v4(0x0a000001);
        unsigned answered = 0;

        for (int i = 0; i < 4; i++)
                answered += allow(r, &c, 0);
        assert_int_equal(answered, 4);
        /* Over the limit: three dropped, the fourth leaks through. */
        assert_false(allow(r, &c, 0));
        assert_false(allow(r, &c, 0));
        assert_false(allow(r, &c, 0));
        assert_true(allow(r, &c, 0));
        assert_int_equal(ratelimit_lookup(r, SA(c))->drops, 3);
        ratelimit_free(r);
}

static void tokens_come_back_with_time(void **state) {
        RateLimit *r = table(3, 1, 64);
        struct sockaddr_storage c = v4(0x0a000002);

        assert_true(allow(r, &c, 0));
        assert_false(allow(r, &c, 4 * NSEC_PER_SEC));
        assert_true(allow(r, &c, 13 * NSEC_PER_SEC));
        ratelimit_free(r);
}

static void clients_have_separate_buckets(void **state) {
        RateLimit *r = table(3, 1, 64);
        struct sockaddr_storage a = v4(0x0a000003), b = v4(0x0a000004), c = v6("2001:db8::1");

        assert_true(allow(r, &a, 0));
        assert_false(allow(r, &a, 0));
        assert_true(allow(r, &b, 0));
        assert_true(allow(r, &c, 0));
        assert_false(allow(r, &c, 0));
        ratelimit_free(r);
}

static void ipv4_mapped_ipv6_shares_the_ipv4_bucket(void **state) {
        RateLimit *r = table(3, 1, 64);
        struct sockaddr_storage a = v4(0xc0000201), m = v6("::ffff:192.0.2.1");

        assert_true(allow(r, &a, 0));
        assert_false(allow(r, &m, 0));
        ratelimit_free(r);
}

static void memory_is_bounded_and_an_old_client_goes(void **state) {
        RateLimit *r = table(3, 1, 8);
        struct sockaddr_storage first = v4(1);
        RateLimitStats st;

        assert_true(allow(r, &first, 0));
        for (uint32_t i = 2; i < 1000; i++) {
                struct sockaddr_storage c = v4(i);
                allow(r, &c, (nsec_t) i);
        }
        ratelimit_stats(r, &st);
        assert_int_equal(st.clients, 8);
        assert_null(ratelimit_lookup(r, SA(first)));
        ratelimit_free(r);
}

/* ---- Keyed placement and eviction -------------------------------------- */

/* Fills out[] with n addresses (made by make(i) for i = 1, 2, ...) that
 * share target's set in r: what an attacker who knew the key would use. */
static void find_colliders(const RateLimit *r, const struct sockaddr_storage *target,
                           struct sockaddr_storage (*make)(uint32_t), struct sockaddr_storage *out, size_t n) {
        size_t set = ratelimit_set_index(r, SA(*target)), found = 0;
        for (uint32_t i = 1; found < n; i++) {
                assert_true(i < 10000000);
                struct sockaddr_storage c = make(0x0a000000 + i);
                if (ratelimit_set_index(r, SA(c)) == set && memcmp(&c, target, sizeof c) != 0)
                        out[found++] = c;
        }
}

/* The attack that beat the unkeyed table: the flooder drains its bucket;
 * then, round after round, it sends one request, and four addresses of its
 * set each send a burst, which makes the flooder the oldest and emptiest
 * record there. Returns how many of the flooder's attack requests were
 * answered; *ret_evictions counts the rounds that pushed it out. */
static unsigned eviction_attack(RateLimit *r, const struct sockaddr_storage *flooder,
                                const struct sockaddr_storage colliders[RATELIMIT_WAYS], unsigned rounds,
                                unsigned *ret_evictions) {
        nsec_t t = 0;
        unsigned answered = 0;

        *ret_evictions = 0;
        for (int i = 0; i < 64; i++)
                allow(r, flooder, t);
        for (unsigned round = 0; round < rounds; round++) {
                t += MS;
                answered += allow(r, flooder, t);
                for (int c = 0; c < RATELIMIT_WAYS; c++)
                        for (int k = 0; k < 16; k++)
                                allow(r, &colliders[c], t);
                *ret_evictions += ratelimit_lookup(r, SA(*flooder)) == NULL;
        }
        return answered;
}

/* The flooder is pushed out again and again, and still gets no more than
 * the leak: its debt comes back with it every time. */
static void assert_colliders_cannot_reset(struct sockaddr_storage flooder, struct sockaddr_storage (*make)(uint32_t)) {
        RateLimit *r = table(3, 8, 64);
        struct sockaddr_storage colliders[RATELIMIT_WAYS];
        unsigned evictions;

        find_colliders(r, &flooder, make, colliders, RATELIMIT_WAYS);
        unsigned answered = eviction_attack(r, &flooder, colliders, 400, &evictions);
        assert_true(evictions >= 300);
        assert_true(answered <= 400 / RATELIMIT_LEAK + 1);
        ratelimit_free(r);
}

static void chosen_colliders_cannot_reset_an_ipv4_flooder(void **state) {
        assert_colliders_cannot_reset(v4(0xc0000201), v4);
}

static void chosen_colliders_cannot_reset_an_ipv6_flooder(void **state) {
        assert_colliders_cannot_reset(v6("2001:db8:f::1"), v6_host);
}

static void colliders_for_one_key_scatter_under_another(void **state) {
        RateLimit *a = NULL, *b = NULL;
        struct sockaddr_storage flooder = v4(0xc0000201), colliders[RATELIMIT_WAYS];
        unsigned still_colliding = 0;

        assert_int_equal(ratelimit_new_keyed(3, 8, 4096, KEY_A, &a), 0);
        assert_int_equal(ratelimit_new_keyed(3, 8, 4096, KEY_B, &b), 0);
        find_colliders(a, &flooder, v4, colliders, RATELIMIT_WAYS);
        for (int i = 0; i < RATELIMIT_WAYS; i++) {
                assert_int_equal(ratelimit_set_index(a, SA(colliders[i])), ratelimit_set_index(a, SA(flooder)));
                still_colliding += ratelimit_set_index(b, SA(colliders[i])) == ratelimit_set_index(b, SA(flooder));
        }
        assert_true(still_colliding < RATELIMIT_WAYS);
        ratelimit_free(a);
        ratelimit_free(b);
}

static void each_table_draws_its_own_key(void **state) {
        RateLimit *a = NULL, *b = NULL;
        unsigned differ = 0;

        assert_int_equal(ratelimit_new(3, 8, 4096, &a), 0);
        assert_int_equal(ratelimit_new(3, 8, 4096, &b), 0);
        for (uint32_t i = 1; i <= 16; i++) {
                struct sockaddr_storage c = v4(0xc0000200 + i);
                differ += ratelimit_set_index(a, SA(c)) != ratelimit_set_index(b, SA(c));
        }
        /* Equal keys would place all 16 alike; distinct ones, almost none. */
        assert_true(differ >= 8);
        ratelimit_free(a);
        ratelimit_free(b);
}

/* Drains the colliders' buckets so that the next new one evicts target. */
static void push_out(RateLimit *r, const struct sockaddr_storage *target, struct sockaddr_storage (*make)(uint32_t),
                     nsec_t now) {
        struct sockaddr_storage colliders[RATELIMIT_WAYS];
        find_colliders(r, target, make, colliders, RATELIMIT_WAYS);
        for (int c = 0; c < RATELIMIT_WAYS; c++)
                for (int k = 0; k < 16; k++)
                        allow(r, &colliders[c], now);
        assert_null(ratelimit_lookup(r, SA(*target)));
}

static void a_client_evicted_after_refilling_comes_back_with_a_full_burst(void **state) {
        RateLimit *r = table(3, 4, 64);
        struct sockaddr_storage client = v4(0xc0000202);
        unsigned answered = 0;

        for (int i = 0; i < 4; i++)
                assert_true(allow(r, &client, 0));
        /* Idle for 100 s: its bucket is full again, then it is pushed out. */
        push_out(r, &client, v4, 100 * NSEC_PER_SEC);
        for (int i = 0; i < 4; i++)
                answered += allow(r, &client, 100 * NSEC_PER_SEC);
        assert_int_equal(answered, 4);
        ratelimit_free(r);
}

static void an_evicted_debt_is_paid_off_with_time(void **state) {
        RateLimit *r = table(3, 4, 64);        /* a token every 8 s */
        struct sockaddr_storage client = v6("2001:db8::2");
        unsigned answered = 0;

        for (int i = 0; i < 4; i++)
                assert_true(allow(r, &client, 0));
        push_out(r, &client, v6_host, MS);
        /* 17 s later it has earned two tokens, not a fresh bucket of four. */
        for (int i = 0; i < 3; i++)
                answered += allow(r, &client, 17 * NSEC_PER_SEC);
        assert_int_equal(answered, 2);
        ratelimit_free(r);
}

static void a_returning_client_keeps_its_debt_when_the_debt_list_is_full(void **state) {
        RateLimit *r = table(3, 8, 64);
        struct sockaddr_storage flooder = v4(0xc0000206), colliders[7];
        unsigned answered = 0;

        find_colliders(r, &flooder, v4, colliders, 7);
        for (int i = 0; i < 64; i++)
                allow(r, &flooder, 0);
        /* Seven drained colliders push out the flooder, then three of
         * themselves: the set's four debts are all taken, the flooder's the
         * oldest. */
        for (int c = 0; c < 7; c++)
                for (int k = 0; k < 16; k++)
                        allow(r, &colliders[c], c < 4 ? MS : 2 * MS);
        assert_null(ratelimit_lookup(r, SA(flooder)));
        /* Back, it evicts a collider whose debt must not replace its own. */
        for (int i = 0; i < 3; i++)
                answered += allow(r, &flooder, 3 * MS);
        assert_int_equal(answered, 0);
        ratelimit_free(r);
}

/* ---- Kiss-o'-Death ----------------------------------------------------- */

typedef struct Tally {
        unsigned answered, dropped, kods;
} Tally;

static Tally flood(RateLimit *r, const struct sockaddr_storage *c, unsigned n, unsigned kod) {
        Tally t = {};
        for (unsigned i = 0; i < n; i++)
                switch (ratelimit_check(r, SA(*c), 0, kod)) {
                case RATELIMIT_ANSWER: t.answered++; break;
                case RATELIMIT_DROP: t.dropped++; break;
                case RATELIMIT_KOD: t.kods++; break;
                }
        return t;
}

static void kod_answers_one_in_2_to_the_n_of_the_drops(void **state) {
        RateLimit *r = table(3, 1, 64);
        struct sockaddr_storage c = v4(0xc0000203);

        /* One token, then 1200 limited: 300 leak, 900 are not answered with
         * time, and with kod=2 a quarter of those get a KoD. */
        Tally t = flood(r, &c, 1201, 2);
        assert_int_equal(t.answered, 1 + 300);
        assert_int_equal(t.kods, 900 / 4);
        assert_int_equal(t.dropped, 900 - 900 / 4);
        assert_int_equal(ratelimit_lookup(r, SA(c))->kods, 225);
        ratelimit_free(r);
}

static void kod_is_off_unless_asked_for(void **state) {
        RateLimit *r = table(3, 1, 64);
        struct sockaddr_storage c = v4(0xc0000204);

        Tally t = flood(r, &c, 1000, 0);
        assert_int_equal(t.kods, 0);
        assert_true(t.dropped > 700);
        ratelimit_free(r);
}

static void kod_share_is_bounded_whatever_is_asked(void **state) {
        for (unsigned kod = 1; kod <= 40; kod++) {
                RateLimit *r = table(3, 1, 64);
                struct sockaddr_storage c = v4(0xc0000205);
                unsigned shift = kod < RATELIMIT_KOD_MAX ? kod : RATELIMIT_KOD_MAX;

                Tally t = flood(r, &c, 4000, kod);
                unsigned not_served = t.dropped + t.kods;
                /* Never more than one in 2^kod drops, and never more than half. */
                assert_true(t.kods > 0);
                assert_true(t.kods <= not_served >> shift);
                assert_true(2 * t.kods <= not_served);
                /* Everything a flooder gets back, time or KoD: at most 5/8. */
                assert_true(8 * (t.answered + t.kods) <= 5 * 4000 + 8);
                ratelimit_free(r);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(siphash24_matches_the_reference_vectors),
                cmocka_unit_test(siphash24_depends_on_every_key_byte),
                cmocka_unit_test(a_burst_is_answered_then_limited),
                cmocka_unit_test(tokens_come_back_with_time),
                cmocka_unit_test(clients_have_separate_buckets),
                cmocka_unit_test(ipv4_mapped_ipv6_shares_the_ipv4_bucket),
                cmocka_unit_test(memory_is_bounded_and_an_old_client_goes),
                cmocka_unit_test(chosen_colliders_cannot_reset_an_ipv4_flooder),
                cmocka_unit_test(chosen_colliders_cannot_reset_an_ipv6_flooder),
                cmocka_unit_test(colliders_for_one_key_scatter_under_another),
                cmocka_unit_test(each_table_draws_its_own_key),
                cmocka_unit_test(a_client_evicted_after_refilling_comes_back_with_a_full_burst),
                cmocka_unit_test(an_evicted_debt_is_paid_off_with_time),
                cmocka_unit_test(a_returning_client_keeps_its_debt_when_the_debt_list_is_full),
                cmocka_unit_test(kod_answers_one_in_2_to_the_n_of_the_drops),
                cmocka_unit_test(kod_is_off_unless_asked_for),
                cmocka_unit_test(kod_share_is_bounded_whatever_is_asked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
