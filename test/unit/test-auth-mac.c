/* Tests for src/auth/mac: known-answer digests for every key type
 * (computed independently: Python's hashlib for H(key || packet), OpenSSL
 * for AES-CMAC, and RFC 4493's own example), signing and verifying, and
 * every way a MAC can fail to verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/mac.h"

/* The packet: 0x23 (NTPv4, client mode) followed by the bytes 1..47. */
static void test_packet(uint8_t p[48]) {
        p[0] = 0x23;
        for (int i = 1; i < 48; i++)
                p[i] = (uint8_t) i;
}

static Key make_key(uint32_t id, KeyType type, const void *data, size_t len) {
        Key k = { .id = id, .type = type, .length = len };
        memcpy(k.data, data, len);
        return k;
}

static const uint8_t aes_key[32] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void unhex(const char *s, uint8_t *out) {
        for (size_t i = 0; s[2 * i]; i++)
                sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void digests_match_independent_computations(void **state) {
        static const struct { KeyType type; const char *digest; } cases[] = {
                /* hashlib.new(h, b"tempus-test-key!" + packet).digest()[:20] */
                { KEY_MD5, "8c94209c29c06b60401f5e6182a4ede8" },
                { KEY_SHA1, "57c3b056246232e7e09ca19a9fe08ddc7a4f93d5" },
                { KEY_SHA256, "b1f5a43f0abf97f1ec1701a170b43a6b1281be7d" },
                { KEY_SHA384, "d68fe7dcb903c933c87588e1c9c0c8ea1ee0b59c" },
                { KEY_SHA512, "8ee15f87b6070f7622015f4bcfdd89fae3ca922b" },
                /* openssl mac -cipher AES-128-CBC / AES-256-CBC -macopt hexkey:0001... CMAC */
                { KEY_AES128, "983431efc2a1167f60dce0af162defeb" },
                { KEY_AES256, "b4b7d3955a87b5ea75f77244ae68bcd3" },
        };
        uint8_t packet[48], out[MAC_MAX_DIGEST], want[MAC_MAX_DIGEST];
        test_packet(packet);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                KeyType t = cases[i].type;
                Key k = key_type_is_cmac(t) ? make_key(1, t, aes_key, t == KEY_AES128 ? 16 : 32)
                                            : make_key(1, t, "tempus-test-key!", 16);
                size_t n = strlen(cases[i].digest) / 2;
                unhex(cases[i].digest, want);
                assert_int_equal(mac_digest(&k, packet, sizeof packet, out, n), 0);
                assert_int_equal(mac_digest_size(t, 4), n);
                assert_memory_equal(out, want, n);
        }
}

static void cmac_matches_rfc_4493_example_1(void **state) {
        static const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                         0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
        uint8_t out[MAC_MAX_DIGEST], want[16];
        Key k = make_key(1, KEY_AES128, key, 16);
        unhex("bb1d6929e95937287fa37d129b756746", want);
        assert_int_equal(mac_digest(&k, "", 0, out, 16), 0);
        assert_memory_equal(out, want, 16);
}

static void a_signed_packet_carries_key_id_and_digest(void **state) {
        uint8_t buf[48 + MAC_MAX_SIZE];
        Key k = make_key(0x01020304, KEY_SHA256, "tempus-test-key!", 16);
        test_packet(buf);
        assert_int_equal(mac_sign(&k, mac_digest_size(k.type, 4), buf, 48, sizeof buf), 72);
        assert_int_equal(buf[48], 1);
        assert_int_equal(buf[51], 4);
        assert_int_equal(mac_key_id(buf, 72, 24), 0x01020304);
        assert_true(mac_verify(&k, 4, buf, 72, 24));
        /* No room: nothing written. */
        assert_int_equal(mac_sign(&k, mac_digest_size(k.type, 4), buf, 48, 48 + 23), -ENOBUFS);
}

static void any_change_fails_verification(void **state) {
        uint8_t buf[48 + MAC_MAX_SIZE];
        Key k = make_key(7, KEY_AES128, aes_key, 16);
        Key other = make_key(7, KEY_AES128, aes_key + 1, 16);
        Key other_id = make_key(8, KEY_AES128, aes_key, 16);
        test_packet(buf);
        int n = mac_sign(&k, mac_digest_size(k.type, 4), buf, 48, sizeof buf);
        assert_int_equal(n, 68);

        assert_true(mac_verify(&k, 4, buf, 68, 20));
        assert_false(mac_verify(&other, 4, buf, 68, 20));
        assert_false(mac_verify(&other_id, 4, buf, 68, 20));
        assert_false(mac_verify(&k, 4, buf, 68, 24));       /* wrong MAC size for the type */
        for (size_t i = 0; i < 68; i++) {
                buf[i] ^= 0x10;
                assert_false(mac_verify(&k, 4, buf, 68, 20));
                buf[i] ^= 0x10;
        }
        assert_true(mac_verify(&k, 4, buf, 68, 20));
}

static void a_crypto_nak_is_a_key_id_of_zero(void **state) {
        uint8_t buf[52];
        test_packet(buf);
        assert_int_equal(mac_append_crypto_nak(buf, 48, sizeof buf), 52);
        assert_int_equal(mac_key_id(buf, 52, 4), 0);
        assert_int_equal(mac_append_crypto_nak(buf, 49, sizeof buf), -ENOBUFS);
}

static void mac_sizes_follow_chrony_and_ntpsec(void **state) {
        static const struct { KeyType type; size_t v4, v3; } cases[] = {
                { KEY_MD5, 20, 20 },     { KEY_SHA1, 24, 24 },    { KEY_SHA256, 24, 36 },
                { KEY_SHA384, 24, 52 },  { KEY_SHA512, 24, 68 },  { KEY_AES128, 20, 20 },
                { KEY_AES256, 20, 20 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_int_equal(mac_size(cases[i].type, 4), cases[i].v4);
                assert_int_equal(mac_size(cases[i].type, 3), cases[i].v3);
        }
}

/* chrony sends NTPv3 with SHA2 keys, and the whole digest; ntpsec sends
 * the whole digest in NTPv4 too. */
static void whole_digests_verify_in_both_versions(void **state) {
        static const char *const want_hex[] = {
                /* hashlib.sha256 / sha512(b"tempus-test-key!" + packet).hexdigest() */
                "b1f5a43f0abf97f1ec1701a170b43a6b1281be7d645f2879c3b9f6ef2a770f04",
                "8ee15f87b6070f7622015f4bcfdd89fae3ca922b74ccf736f1f5ae4ddf114878"
                "a2a0177b4d556b55bccede83292d66e75475beaa16a1c820e9f4a38fbcdc9186",
        };
        static const KeyType types[] = { KEY_SHA256, KEY_SHA512 };
        uint8_t buf[48 + MAC_MAX_SIZE], want[MAC_MAX_DIGEST];

        for (size_t i = 0; i < 2; i++) {
                Key k = make_key(5, types[i], "tempus-test-key!", 16);
                size_t n = strlen(want_hex[i]) / 2;
                test_packet(buf);
                unhex(want_hex[i], want);
                assert_int_equal(mac_digest_size(k.type, 3), n);
                assert_int_equal(mac_sign(&k, n, buf, 48, sizeof buf), (int) (48 + 4 + n));
                assert_memory_equal(buf + 52, want, n);
                assert_true(mac_verify(&k, 3, buf, 48 + 4 + n, 4 + n));
                assert_true(mac_verify(&k, 4, buf, 48 + 4 + n, 4 + n));
                /* Truncated to anything but 20 bytes (in NTPv4): no MAC. */
                assert_int_equal(mac_sign(&k, 24, buf, 48, sizeof buf), 48 + 4 + 24);
                assert_false(mac_verify(&k, 4, buf, 48 + 4 + 24, 4 + 24));
                assert_int_equal(mac_sign(&k, 20, buf, 48, sizeof buf), 48 + 4 + 20);
                assert_true(mac_verify(&k, 4, buf, 48 + 4 + 20, 4 + 20));
                assert_false(mac_verify(&k, 3, buf, 48 + 4 + 20, 4 + 20));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(digests_match_independent_computations),
                cmocka_unit_test(cmac_matches_rfc_4493_example_1),
                cmocka_unit_test(a_signed_packet_carries_key_id_and_digest),
                cmocka_unit_test(any_change_fails_verification),
                cmocka_unit_test(a_crypto_nak_is_a_key_id_of_zero),
                cmocka_unit_test(mac_sizes_follow_chrony_and_ntpsec),
                cmocka_unit_test(whole_digests_verify_in_both_versions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
