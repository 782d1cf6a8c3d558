/* Tests for src/auth/nts-ke and nts-ntp: NTS-KE records both ways, the
 * critical bit, errors and warnings, every way a response can be refused;
 * AES-SIV-CMAC-256 against a vector computed independently (Python's
 * cryptography, AESSIV with the nonce as the last associated data); NTS
 * requests and replies built and checked, with every tampering refused;
 * the client's cookie jar and its file; the server's cookies and keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/nts-ke.h"
#include "auth/nts-cookies.h"
#include "auth/nts-ntp.h"
#include "auth/nts-server-key.h"

static void unhex(const char *s, uint8_t *out) {
        for (size_t i = 0; s[2 * i]; i++)
                sscanf(s + 2 * i, "%2hhx", &out[i]);
}

/* ---- NTS-KE ------------------------------------------------------------ */

static void request_is_ntpv4_aes_siv_and_end(void **state) {
        static const uint8_t want[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
                                        0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,
                                        0x80, 0x00, 0x00, 0x00 };
        uint8_t buf[64];
        NtsKeRequest req;

        assert_int_equal(nts_ke_request_encode(buf, sizeof buf), sizeof want);
        assert_memory_equal(buf, want, sizeof want);
        assert_int_equal(nts_ke_request_parse(buf, sizeof want, &req), 0);
        assert_true(req.ntpv4 && req.aes_siv && !req.unknown_critical);
        assert_int_equal(nts_ke_request_encode(buf, 15), -ENOBUFS);
}

static int good_response(uint8_t *buf, size_t size, const char *server, uint16_t port) {
        NtsCookie c[3];
        for (unsigned i = 0; i < 3; i++) {
                c[i].length = 100;
                memset(c[i].data, 'a' + i, 100);
        }
        return nts_ke_response_encode(-1, c, 3, server, port, buf, size);
}

static void response_round_trip(void **state) {
        uint8_t buf[1024];
        NtsKeResponse r;
        const char *reason = NULL;
        int n = good_response(buf, sizeof buf, "ntp.example", 1234);

        assert_true(n > 0);
        assert_int_equal(nts_ke_message_length(buf, (size_t) n), n);
        assert_int_equal(nts_ke_response_parse(buf, (size_t) n, &r, &reason), 0);
        assert_true(r.ntpv4);
        assert_int_equal(r.aead, NTS_AEAD_AES_SIV_CMAC_256);
        assert_int_equal(r.n_cookies, 3);
        assert_int_equal(r.cookies[2].length, 100);
        assert_int_equal(r.cookies[2].data[99], 'c');
        assert_string_equal(r.server, "ntp.example");
        assert_int_equal(r.port, 1234);
        assert_int_equal(r.error, -1);
        assert_int_equal(r.warning, -1);
}

static void message_length_waits_for_end(void **state) {
        uint8_t buf[1024];
        int n = good_response(buf, sizeof buf, NULL, 0);

        for (int i = 0; i < n; i++)
                assert_int_equal(nts_ke_message_length(buf, (size_t) i), 0);
        /* A record that would end past the limit is refused at once. */
        static const uint8_t huge[] = { 0x00, 0x05, 0xff, 0xff };
        assert_int_equal(nts_ke_message_length(huge, sizeof huge), -EMSGSIZE);
}

static void response_error_record_is_reported(void **state) {
        uint8_t buf[64];
        NtsKeResponse r;
        const char *reason;
        int n = nts_ke_response_encode(NTS_KE_ERROR_BAD_REQUEST, NULL, 0, NULL, 0, buf, sizeof buf);

        assert_int_equal(nts_ke_response_parse(buf, (size_t) n, &r, &reason), 0);
        assert_int_equal(r.error, NTS_KE_ERROR_BAD_REQUEST);
}

static size_t append_raw(uint8_t *buf, size_t len, uint16_t type, const char *hex) {
        uint8_t body[64];
        size_t n = strlen(hex) / 2;
        unhex(hex, body);
        assert_int_equal(nts_ke_record_append(buf, 1024, &len, type & 0x8000, type & 0x7fff, body, n), 0);
        return len;
}

/* NTPv4, AES-SIV, one cookie, then the record under test, then End. */
static int parse_with(uint16_t type, const char *hex, NtsKeResponse *r, const char **reason) {
        uint8_t buf[1024];
        size_t len = 0;
        len = append_raw(buf, len, 0x8001, "0000");
        len = append_raw(buf, len, 0x8004, "000f");
        len = append_raw(buf, len, 0x0005, "c0ffee00");
        len = append_raw(buf, len, type, hex);
        len = append_raw(buf, len, 0x8000, "");
        return nts_ke_response_parse(buf, len, r, reason);
}

static void response_unknown_records_by_critical_bit(void **state) {
        NtsKeResponse r;
        const char *reason;

        assert_int_equal(parse_with(0x1234, "01020304", &r, &reason), 0);
        assert_int_equal(parse_with(0x9234, "01020304", &r, &reason), -EBADMSG);
        assert_string_equal(reason, "a critical record of an unknown type");
}

static void response_warning_is_reported(void **state) {
        NtsKeResponse r;
        const char *reason;

        assert_int_equal(parse_with(0x0003, "0007", &r, &reason), 0);
        assert_int_equal(r.warning, 7);
}

static void response_refusals(void **state) {
        static const struct { uint16_t type; const char *hex; } bad[] = {
                { 0x8001, "0000" },             /* a second Next Protocol */
                { 0x8004, "000f" },             /* a second AEAD */
                { 0x8007, "0000" },             /* port 0 */
                { 0x8007, "007b00" },           /* port of 3 bytes */
                { 0x8006, "" },                 /* empty server */
                { 0x8006, "610062" },           /* NUL in the server */
                { 0x0005, "" },                 /* empty cookie */
                { 0x8002, "00" },               /* error of 1 byte */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                NtsKeResponse r;
                const char *reason = NULL;
                assert_int_equal(parse_with(bad[i].type, bad[i].hex, &r, &reason), -EBADMSG);
                assert_non_null(reason);
        }
}

static void response_without_essentials_is_refused(void **state) {
        uint8_t buf[1024];
        NtsKeResponse r;
        const char *reason;
        size_t len;

        /* No cookie. */
        len = append_raw(buf, 0, 0x8001, "0000");
        len = append_raw(buf, len, 0x8004, "000f");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_response_parse(buf, len, &r, &reason), -EBADMSG);
        assert_string_equal(reason, "the server sent no cookie");
        /* Another AEAD. */
        len = append_raw(buf, 0, 0x8001, "0000");
        len = append_raw(buf, len, 0x8004, "0001");
        len = append_raw(buf, len, 0x0005, "c0ffee00");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_response_parse(buf, len, &r, &reason), -EBADMSG);
        /* An empty Next Protocol: the server offers none we asked for. */
        len = append_raw(buf, 0, 0x8001, "");
        len = append_raw(buf, len, 0x8004, "000f");
        len = append_raw(buf, len, 0x0005, "c0ffee00");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_response_parse(buf, len, &r, &reason), -EBADMSG);
        /* Truncated: no End. */
        assert_int_equal(nts_ke_response_parse(buf, len - 4, &r, &reason), -EBADMSG);
        /* Bytes after End. */
        len = append_raw(buf, len, 0x0003, "0001");
        assert_int_equal(nts_ke_response_parse(buf, len, &r, &reason), -EBADMSG);
}

static void request_refusals(void **state) {
        uint8_t buf[256];
        NtsKeRequest req;
        size_t len;

        /* No Next Protocol. */
        len = append_raw(buf, 0, 0x8004, "000f");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_request_parse(buf, len, &req), -EBADMSG);
        /* A cookie from a client. */
        len = append_raw(buf, 0, 0x8001, "0000");
        len = append_raw(buf, len, 0x0005, "00");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_request_parse(buf, len, &req), -EBADMSG);
        /* An unknown critical record is noted, for an error record. */
        len = append_raw(buf, 0, 0x8001, "0000");
        len = append_raw(buf, len, 0xc000, "");
        len = append_raw(buf, len, 0x8000, "");
        assert_int_equal(nts_ke_request_parse(buf, len, &req), 0);
        assert_true(req.unknown_critical);
        assert_false(req.aes_siv);
}

static void refusal_says_what_is_not_shared(void **state) {
        uint8_t buf[64];
        NtsKeResponse r;
        const char *reason;

        int n = nts_ke_refusal_encode(true, false, buf, sizeof buf);
        assert_int_equal(n, 6 + 4 + 4);
        assert_memory_equal(buf, "\x80\x01\x00\x02\x00\x00\x80\x04\x00\x00\x80\x00\x00\x00", 14);
        /* A client finds no algorithm in it, and no cookie. */
        assert_int_equal(nts_ke_response_parse(buf, (size_t) n, &r, &reason), -EBADMSG);
        assert_string_equal(reason, "the server did not choose AES-SIV-CMAC-256");
        n = nts_ke_refusal_encode(false, true, buf, sizeof buf);
        assert_int_equal(nts_ke_response_parse(buf, (size_t) n, &r, &reason), -EBADMSG);
        assert_string_equal(reason, "the server does not offer NTPv4");
}

static void exporter_contexts(void **state) {
        uint8_t c[5];
        nts_ke_exporter_context(true, c);
        assert_memory_equal(c, "\x00\x00\x00\x0f\x00", 5);
        nts_ke_exporter_context(false, c);
        assert_memory_equal(c, "\x00\x00\x00\x0f\x01", 5);
}

/* ---- AEAD and NTP fields ----------------------------------------------- */

static void aead_matches_independent_vector(void **state) {
        /* AESSIV(key).encrypt(pt, [ad, b"\x01"]) from Python's cryptography,
         * with RFC 5297 A.1's key, AD and plaintext. */
        uint8_t key[32], ad[24], pt[14], want[30], out[64], back[64];
        unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key);
        unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad);
        unhex("112233445566778899aabbccddee", pt);
        unhex("e41f35eb2dd16223b15fff9608321b00cb4c692079748fd49cf802788c32", want);

        assert_int_equal(nts_aead_encrypt(key, (const uint8_t *) "\x01", 1, ad, 24, pt, 14, out, sizeof out), 30);
        assert_memory_equal(out, want, 30);
        assert_int_equal(nts_aead_decrypt(key, (const uint8_t *) "\x01", 1, ad, 24, out, 30, back, sizeof back), 14);
        assert_memory_equal(back, pt, 14);
        out[20] ^= 1;
        assert_int_equal(nts_aead_decrypt(key, (const uint8_t *) "\x01", 1, ad, 24, out, 30, back, sizeof back),
                         -EBADMSG);
        /* An empty nonce is refused before it reaches the cipher. */
        assert_int_equal(nts_aead_decrypt(key, NULL, 0, ad, 24, want, 30, back, sizeof back), -EBADMSG);
}

static const uint8_t c2s[32] = { 1, 2, 3 }, s2c[32] = { 4, 5, 6 };
static const uint8_t uid[32] = { 0xaa, 0xbb }, nonce[16] = { 7 };

static NtsCookie cookie_of(uint8_t fill, uint16_t n) {
        NtsCookie c = { .length = n };
        memset(c.data, fill, n);
        return c;
}

static int make_request(uint8_t *buf, size_t size, unsigned placeholders) {
        NtsCookie c = cookie_of(0x5c, 100);
        memset(buf, 0, 48);
        buf[0] = 0x23;
        return nts_client_request_finish(buf, 48, size, uid, &c, placeholders, c2s, nonce);
}

/* The server's answer to make_request(), with n cookies. */
static int make_reply(const uint8_t *req_buf, size_t req_len, uint8_t *buf, size_t size, unsigned n) {
        NtsServerRequest req;
        NtsCookie cookies[8];
        NtsAead *a;
        assert_int_equal(nts_server_request_parse(req_buf, req_len, &req), 0);
        assert_int_equal(nts_aead_new(c2s, &a), 0);
        assert_true(nts_server_request_verify(&req, req_buf, a));
        for (unsigned i = 0; i < n; i++)
                cookies[i] = cookie_of((uint8_t) (0x10 + i), 100);
        memset(buf, 0, 48);
        buf[0] = 0x24;
        buf[1] = 2;
        /* The server's way: one handle, given each key in turn. */
        assert_int_equal(nts_aead_set_key(a, s2c), 0);
        int len = nts_server_reply_finish(buf, 48, size, &req, cookies, n, a, nonce);
        nts_aead_free(a);
        return len;
}

static void request_and_reply_round_trip(void **state) {
        uint8_t rq[1024], rp[1024];
        NtsCookie got[8];
        unsigned n;
        int rq_len = make_request(rq, sizeof rq, 2);
        /* 48 + UID 36 + cookie 104 + 2 placeholders 208 + Authenticator 40 */
        assert_int_equal(rq_len, 48 + 36 + 104 + 208 + 40);
        NtsServerRequest req;
        assert_int_equal(nts_server_request_parse(rq, (size_t) rq_len, &req), 0);
        assert_int_equal(req.placeholders, 2);
        assert_int_equal(req.cookie_len, 100);
        NtsAead *wrong;
        assert_int_equal(nts_aead_new(s2c, &wrong), 0);
        assert_false(nts_server_request_verify(&req, rq, wrong));
        nts_aead_free(wrong);

        int rp_len = make_reply(rq, (size_t) rq_len, rp, sizeof rp, 3);
        /* Never larger than the request. */
        assert_true(rp_len <= rq_len);
        assert_int_equal(nts_client_reply_check(rp, (size_t) rp_len, uid, s2c, got, 8, &n), NTS_REPLY_OK);
        assert_int_equal(n, 3);
        assert_int_equal(got[2].length, 100);
        assert_int_equal(got[2].data[0], 0x12);
}

static void reply_tampering_is_refused(void **state) {
        uint8_t rq[1024], rp[1024], bad[1024];
        NtsCookie got[8];
        unsigned n;
        int rq_len = make_request(rq, sizeof rq, 0);
        int rp_len = make_reply(rq, (size_t) rq_len, rp, sizeof rp, 1);

        /* Every single flipped bit is caught: in the header (the AD), in
         * the UID, in the nonce, in the ciphertext. */
        for (int i = 0; i < rp_len * 8; i++) {
                memcpy(bad, rp, (size_t) rp_len);
                bad[i / 8] ^= (uint8_t) (1 << (i % 8));
                assert_int_not_equal(nts_client_reply_check(bad, (size_t) rp_len, uid, s2c, got, 8, &n),
                                     NTS_REPLY_OK);
        }
        /* Another request's reply. */
        uint8_t other[32] = { 0xab };
        assert_int_equal(nts_client_reply_check(rp, (size_t) rp_len, other, s2c, got, 8, &n), NTS_REPLY_WRONG_UID);
        /* The wrong key. */
        assert_int_equal(nts_client_reply_check(rp, (size_t) rp_len, uid, c2s, got, 8, &n), NTS_REPLY_UNAUTHENTIC);
        /* Truncated to the header and UID: no Authenticator, no NAK. */
        assert_int_equal(nts_client_reply_check(rp, 48 + 36, uid, s2c, got, 8, &n), NTS_REPLY_UNAUTHENTIC);
        /* A field appended after the Authenticator. */
        size_t len = (size_t) rp_len;
        memcpy(bad, rp, len);
        assert_int_equal(nts_ef_append(bad, sizeof bad, &len, 0x0204, "xxxx", 4), 0);
        assert_int_equal(nts_client_reply_check(bad, len, uid, s2c, got, 8, &n), NTS_REPLY_UNAUTHENTIC);
        /* A MAC after the fields. */
        assert_int_equal(nts_client_reply_check(rp, (size_t) rp_len - 2, uid, s2c, got, 8, &n), NTS_REPLY_MALFORMED);
}

static void nak_is_recognised(void **state) {
        uint8_t rq[1024], rp[256];
        NtsServerRequest req;
        NtsCookie got[8];
        unsigned n;
        int rq_len = make_request(rq, sizeof rq, 0);

        assert_int_equal(nts_server_request_parse(rq, (size_t) rq_len, &req), 0);
        memset(rp, 0, 48);
        rp[0] = 0x24;
        memcpy(rp + 12, "NTSN", 4);
        int len = nts_server_nak_finish(rp, 48, sizeof rp, &req);
        assert_int_equal(len, 48 + 36);
        assert_int_equal(nts_client_reply_check(rp, (size_t) len, uid, s2c, got, 8, &n), NTS_REPLY_NAK);
        /* A NAK with someone else's UID is not ours. */
        uint8_t other[32] = { 0xab };
        assert_int_equal(nts_client_reply_check(rp, (size_t) len, other, s2c, got, 8, &n), NTS_REPLY_WRONG_UID);
}

static void server_request_refusals(void **state) {
        uint8_t rq[1024];
        NtsServerRequest req;
        int len = make_request(rq, sizeof rq, 1);

        /* No NTS at all. */
        assert_int_equal(nts_server_request_parse(rq, 48, &req), -EBADMSG);
        /* A placeholder of another size than the cookie. */
        size_t l = 48;
        NtsCookie c = cookie_of(1, 100);
        assert_int_equal(nts_ef_append(rq, sizeof rq, &l, NTS_EF_UNIQUE_ID, uid, 32), 0);
        assert_int_equal(nts_ef_append(rq, sizeof rq, &l, NTS_EF_COOKIE, c.data, 100), 0);
        assert_int_equal(nts_ef_append(rq, sizeof rq, &l, NTS_EF_COOKIE_PLACEHOLDER, c.data, 96), 0);
        assert_int_equal(nts_server_request_parse(rq, l, &req), -EBADMSG);
        /* Bad field lengths anywhere. */
        len = make_request(rq, sizeof rq, 0);
        rq[48 + 3] = 35;
        assert_int_equal(nts_server_request_parse(rq, (size_t) len, &req), -EBADMSG);
}

/* ---- the client's jar and the server's keys ------------------------- */

static void jar_never_gives_a_cookie_twice(void **state) {
        NtsCookieJar j = {};
        NtsCookie in[8], out;
        for (unsigned i = 0; i < 8; i++)
                in[i] = cookie_of((uint8_t) i, 10);

        nts_jar_reset(&j, c2s, s2c, in, 3);
        for (unsigned i = 0; i < 3; i++) {
                assert_true(nts_jar_take(&j, &out));
                assert_int_equal(out.data[0], i);
        }
        assert_false(nts_jar_take(&j, &out));
        /* Beyond 8, the oldest go. */
        nts_jar_add(&j, in, 8);
        nts_jar_add(&j, in, 2);
        assert_int_equal(j.n_cookies, 8);
        assert_true(nts_jar_take(&j, &out));
        assert_int_equal(out.data[0], 2);
}

static void jar_text_round_trip_and_refusals(void **state) {
        NtsCookieJar j = {}, back;
        NtsCookie in[2] = { cookie_of(1, 100), cookie_of(2, 100) };
        char *text = NULL, addr[64];
        size_t size = 0;
        uint16_t port;

        nts_jar_reset(&j, c2s, s2c, in, 2);
        FILE *f = open_memstream(&text, &size);
        assert_int_equal(nts_jar_write(&j, "ntp.example", 4460, "192.0.2.1", 123, f), 0);
        fclose(f);
        assert_int_equal(nts_jar_parse(text, "ntp.example", 4460, &back, addr, &port), 0);
        assert_memory_equal(back.c2s, c2s, 32);
        assert_memory_equal(back.s2c, s2c, 32);
        assert_int_equal(back.n_cookies, 2);
        assert_int_equal(back.cookies[1].data[99], 2);
        assert_string_equal(addr, "192.0.2.1");
        assert_int_equal(port, 123);
        /* Another server's file, or another port, is not ours. */
        assert_int_equal(nts_jar_parse(text, "other.example", 4460, &back, addr, &port), -EBADMSG);
        assert_int_equal(nts_jar_parse(text, "ntp.example", 4461, &back, addr, &port), -EBADMSG);
        /* A truncated file (no s2c line) is refused. */
        *strstr(text, "s2c") = 0;
        assert_int_equal(nts_jar_parse(text, "ntp.example", 4460, &back, addr, &port), -EBADMSG);
        free(text);
}

static void server_cookies_open_for_three_keys(void **state) {
        NtsServerKeys k = {};
        NtsCookie c;
        uint8_t a[32], b[32], key[32] = { 9 };

        assert_int_equal(nts_cookie_seal(&k, c2s, s2c, nonce, &c), -ENOKEY);
        nts_server_keys_rotate(&k, key, 1);
        assert_int_equal(nts_cookie_seal(&k, c2s, s2c, nonce, &c), 0);
        assert_int_equal(c.length, NTS_COOKIE_SIZE);
        assert_int_equal(nts_cookie_open(&k, c.data, c.length, a, b), 0);
        assert_memory_equal(a, c2s, 32);
        assert_memory_equal(b, s2c, 32);
        /* A flipped bit. */
        c.data[50] ^= 1;
        assert_int_equal(nts_cookie_open(&k, c.data, c.length, a, b), -EBADMSG);
        c.data[50] ^= 1;
        /* Two rotations later it still opens; three, and it is stale. */
        for (int i = 0; i < 2; i++) {
                key[0]++;
                nts_server_keys_rotate(&k, key, 2);
        }
        assert_int_equal(k.n, 3);
        assert_int_equal(nts_cookie_open(&k, c.data, c.length, a, b), 0);
        key[0]++;
        nts_server_keys_rotate(&k, key, 3);
        assert_int_equal(nts_cookie_open(&k, c.data, c.length, a, b), -ENOKEY);
        nts_server_keys_clear(&k);
}

static void server_keys_text_round_trip(void **state) {
        NtsServerKeys k = {}, back;
        uint8_t key[32] = { 1, 2, 3 };
        char *text = NULL;
        size_t size = 0;

        nts_server_keys_rotate(&k, key, 1000);
        key[0] = 7;
        nts_server_keys_rotate(&k, key, 2000);
        FILE *f = open_memstream(&text, &size);
        assert_int_equal(nts_server_keys_write(&k, f), 0);
        fclose(f);
        assert_int_equal(nts_server_keys_parse(text, &back), 0);
        assert_int_equal(back.n, 2);
        assert_int_equal(back.keys[0].id, 2);
        assert_int_equal(back.keys[0].key[0], 7);
        assert_int_equal(back.keys[1].created_usec, 1000);
        text[strlen(text) - 3] = 'x';
        assert_int_equal(nts_server_keys_parse(text, &back), -EBADMSG);
        assert_int_equal(nts_server_keys_parse("tempus-nts-server-keys 1\n", &back), -EBADMSG);
        nts_server_keys_clear(&k);
        nts_server_keys_clear(&back);
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(request_is_ntpv4_aes_siv_and_end),
                cmocka_unit_test(response_round_trip),
                cmocka_unit_test(message_length_waits_for_end),
                cmocka_unit_test(response_error_record_is_reported),
                cmocka_unit_test(response_unknown_records_by_critical_bit),
                cmocka_unit_test(response_warning_is_reported),
                cmocka_unit_test(response_refusals),
                cmocka_unit_test(response_without_essentials_is_refused),
                cmocka_unit_test(request_refusals),
                cmocka_unit_test(exporter_contexts),
                cmocka_unit_test(refusal_says_what_is_not_shared),
                cmocka_unit_test(aead_matches_independent_vector),
                cmocka_unit_test(request_and_reply_round_trip),
                cmocka_unit_test(reply_tampering_is_refused),
                cmocka_unit_test(nak_is_recognised),
                cmocka_unit_test(server_request_refusals),
                cmocka_unit_test(jar_never_gives_a_cookie_twice),
                cmocka_unit_test(jar_text_round_trip_and_refusals),
                cmocka_unit_test(server_cookies_open_for_three_keys),
                cmocka_unit_test(server_keys_text_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
