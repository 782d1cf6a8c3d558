/* Tests for src/ntp: the RFC 5905 header, timestamps and eras, and the
 * drop reasons. The "real" packets were captured on loopback from chronyd
 * 4.3 and ntpd/ntpdig (ntpsec 1.2.2) as shipped by Debian 12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ntp/ntp-packet.h"

/* chronyd -Q: client request; transmit is a random cookie, all else zero. */
static const uint8_t chronyd_request[48] = {
        0x23, 0x00, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x47, 0xce, 0x18, 0xd4, 0x02, 0x95, 0x87, 0xa3,
};
/* ntpdig: leap 3 (unsynchronised), version 4, client. */
static const uint8_t ntpdig_request[48] = {
        0xe3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xee, 0xaf, 0x8b, 0x9b, 0xe7, 0xc0, 0x48, 0x00,
};
/* chronyd (local stratum 8) answering a request whose transmit was
 * 0123456789abcdef. */
static const uint8_t chronyd_reply[48] = {
        0x24, 0x08, 0x06, 0xe6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x7f, 0x01, 0x01,
        0xee, 0xaf, 0x8b, 0x9b, 0x54, 0x57, 0x09, 0x21, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0xee, 0xaf, 0x8b, 0x9c, 0xe8, 0x4b, 0x9a, 0x8b, 0xee, 0xaf, 0x8b, 0x9c, 0xe8, 0x6b, 0x8c, 0x78,
};
/* ntpd in orphan mode, stratum 10, to the same request. */
static const uint8_t ntpd_reply[48] = {
        0x24, 0x0a, 0x06, 0xe9, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0xee, 0xaf, 0x8b, 0x9e, 0xe9, 0x2a, 0x22, 0x99, 0xee, 0xaf, 0x8b, 0x9e, 0xe9, 0x41, 0xd1, 0x26,
};

typedef struct RealPacket {
        const char *name;
        const uint8_t *bytes;
        NtpLeap leap;
        uint8_t version;
        NtpMode mode;
        uint8_t stratum;
        int8_t poll;
        int8_t precision;
        uint32_t refid;
        NtpTimestamp origin;
        NtpTimestamp transmit;
} RealPacket;

static const RealPacket real_packets[] = {
        { "chronyd request", chronyd_request, NTP_LEAP_NONE, 4, NTP_MODE_CLIENT, 0, 6, 32, 0, 0,
          0x47ce18d4029587a3ull },
        { "ntpdig request", ntpdig_request, NTP_LEAP_UNSYNC, 4, NTP_MODE_CLIENT, 0, 0, 0, 0, 0,
          0xeeaf8b9be7c04800ull },
        { "chronyd reply", chronyd_reply, NTP_LEAP_NONE, 4, NTP_MODE_SERVER, 8, 6, -26, 0x7f7f0101,
          0x0123456789abcdefull, 0xeeaf8b9ce86b8c78ull },
        { "ntpd reply", ntpd_reply, NTP_LEAP_NONE, 4, NTP_MODE_SERVER, 10, 6, -23, 0x7f000001,
          0x0123456789abcdefull, 0xeeaf8b9ee941d126ull },
};

static void real_packets_parse_to_their_fields(void **state) {
        for (size_t i = 0; i < sizeof real_packets / sizeof real_packets[0]; i++) {
                const RealPacket *x = &real_packets[i];
                NtpPacket p;

                print_message("%s\n", x->name);
                assert_int_equal(ntp_packet_parse(x->bytes, 48, &p), NTP_DROP_NONE);
                assert_int_equal(p.leap, x->leap);
                assert_int_equal(p.version, x->version);
                assert_int_equal(p.mode, x->mode);
                assert_int_equal(p.stratum, x->stratum);
                assert_int_equal(p.poll, x->poll);
                assert_int_equal(p.precision, x->precision);
                assert_int_equal(p.reference_id, x->refid);
                assert_int_equal(p.origin_ts, x->origin);
                assert_int_equal(p.transmit_ts, x->transmit);
                assert_int_equal(p.extension_bytes, 0);
                assert_false(p.has_mac);
        }
}

static void real_packets_encode_back_to_the_same_bytes(void **state) {
        for (size_t i = 0; i < sizeof real_packets / sizeof real_packets[0]; i++) {
                uint8_t out[48];
                NtpPacket p;

                assert_int_equal(ntp_packet_parse(real_packets[i].bytes, 48, &p), NTP_DROP_NONE);
                assert_int_equal(ntp_packet_encode(&p, out), 48);
                assert_memory_equal(out, real_packets[i].bytes, 48);
        }
}

static void reply_times_are_in_2026(void **state) {
        NtpPacket p;
        /* 2026-01-01 and 2027-01-01 in Unix seconds. */
        const nsec_t y2026 = INT64_C(1767225600) * NSEC_PER_SEC, y2027 = INT64_C(1798761600) * NSEC_PER_SEC;

        assert_int_equal(ntp_packet_parse(chronyd_reply, 48, &p), NTP_DROP_NONE);
        nsec_t t = ntp_timestamp_to_nsec(p.transmit_ts, y2026);
        assert_true(t > y2026 && t < y2027);
        /* Server processing time (T3 - T2) of a loopback reply: tiny, positive. */
        double held = ntp_timestamp_diff(p.transmit_ts, p.receive_ts);
        assert_true(held > 0 && held < 1e-3);
}

typedef struct DropCase {
        const char *name;
        size_t len;
        uint8_t first_byte;
        NtpDrop expected;
} DropCase;

static void each_malformed_datagram_is_dropped_with_its_reason(void **state) {
        static const DropCase cases[] = {
                { "empty", 0, 0x23, NTP_DROP_TOO_SHORT },
                { "47 bytes", 47, 0x23, NTP_DROP_TOO_SHORT },
                { "over the maximum", NTP_MAX_PACKET_SIZE + 4, 0x23, NTP_DROP_TOO_LONG },
                { "49 bytes", 49, 0x23, NTP_DROP_BAD_LENGTH },
                { "50 bytes", 50, 0x23, NTP_DROP_BAD_LENGTH },
                { "version 0", 48, 0x03, NTP_DROP_BAD_VERSION },
                { "version 5", 48, 0x2b, NTP_DROP_BAD_VERSION },
                { "version 7", 48, 0x3b, NTP_DROP_BAD_VERSION },
                { "mode 0", 48, 0x20, NTP_DROP_BAD_MODE },
                { "mode 6 (control)", 48, 0x26, NTP_DROP_BAD_MODE },
                { "mode 7 (private)", 48, 0x27, NTP_DROP_BAD_MODE },
                { "12 trailing bytes", 60, 0x23, NTP_DROP_BAD_EXTENSION },
        };
        uint8_t buf[NTP_MAX_PACKET_SIZE + 8] = {};

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                NtpPacket p;
                print_message("%s\n", cases[i].name);
                buf[0] = cases[i].first_byte;
                assert_int_equal(ntp_packet_parse(buf, cases[i].len, &p), cases[i].expected);
                assert_non_null(ntp_drop_to_string(cases[i].expected));
        }
}

static void accepted_modes_are_one_to_five(void **state) {
        uint8_t buf[48] = {};
        NtpPacket p;

        for (int mode = 1; mode <= 5; mode++) {
                buf[0] = (uint8_t) (0x20 | mode);
                assert_int_equal(ntp_packet_parse(buf, 48, &p), NTP_DROP_NONE);
                assert_int_equal(p.mode, mode);
        }
}

static void older_versions_are_accepted(void **state) {
        uint8_t buf[48] = { 0x0b };     /* version 1, mode 3 */
        NtpPacket p;

        for (int v = 1; v <= 4; v++) {
                buf[0] = (uint8_t) (v << 3 | 3);
                assert_int_equal(ntp_packet_parse(buf, 48, &p), NTP_DROP_NONE);
                assert_int_equal(p.version, v);
        }
}

static size_t put_field(uint8_t *at, uint16_t type, uint16_t len) {
        at[0] = type >> 8;
        at[1] = type & 0xff;
        at[2] = len >> 8;
        at[3] = len & 0xff;
        return len;
}

static void extension_fields_are_skipped(void **state) {
        uint8_t buf[48 + 16 + 32 + 20] = { 0x23 };
        NtpPacket p;
        size_t off = 48;

        off += put_field(buf + off, 0x0104, 16);
        off += put_field(buf + off, 0x0204, 32);
        assert_int_equal(ntp_packet_parse(buf, off, &p), NTP_DROP_NONE);
        assert_int_equal(p.extension_bytes, 48);
        assert_false(p.has_mac);

        /* ...followed by a 20-byte MAC (key ID + MD5). */
        assert_int_equal(ntp_packet_parse(buf, off + 20, &p), NTP_DROP_NONE);
        assert_int_equal(p.extension_bytes, 48);
        assert_true(p.has_mac);
        assert_int_equal(p.mac_length, 20);
}

static void macs_alone_are_accepted(void **state) {
        static const size_t lengths[] = { 4, 20, 24 };
        uint8_t buf[48 + 24] = { 0x23 };
        NtpPacket p;

        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(ntp_packet_parse(buf, 48 + lengths[i], &p), NTP_DROP_NONE);
                assert_true(p.has_mac);
                assert_int_equal(p.mac_length, lengths[i]);
        }
}

/* ntpsec sends whole SHA-2 digests in NTPv4: a MAC when the bytes cannot
 * be extension fields, fields when they can. */
static void whole_digest_macs_are_told_from_extension_fields(void **state) {
        uint8_t buf[48 + 68] = { 0x23 };
        NtpPacket p;

        buf[51] = 1;                    /* key ID 1: no field is 1 byte long */
        for (size_t n = 36; n <= 68; n += 16) {
                assert_int_equal(ntp_packet_parse(buf, 48 + n, &p), NTP_DROP_NONE);
                assert_int_equal(p.mac_length, n);
                assert_int_equal(p.extension_bytes, 0);
        }
        put_field(buf + 48, 0x0104, 36);
        assert_int_equal(ntp_packet_parse(buf, 48 + 36, &p), NTP_DROP_NONE);
        assert_int_equal(p.mac_length, 0);
        assert_int_equal(p.extension_bytes, 36);
}

static void malformed_extension_fields_are_rejected(void **state) {
        uint8_t buf[48 + 64] = { 0x23 };
        NtpPacket p;

        /* Length below 16. */
        memset(buf + 48, 0, 64);
        put_field(buf + 48, 1, 8);
        assert_int_equal(ntp_packet_parse(buf, 48 + 32, &p), NTP_DROP_BAD_EXTENSION);
        /* Length not a multiple of 4. */
        put_field(buf + 48, 1, 18);
        assert_int_equal(ntp_packet_parse(buf, 48 + 32, &p), NTP_DROP_BAD_EXTENSION);
        /* Length past the end of the datagram. */
        put_field(buf + 48, 1, 64);
        assert_int_equal(ntp_packet_parse(buf, 48 + 32, &p), NTP_DROP_BAD_EXTENSION);
        /* A good field followed by a stub that is no MAC length. */
        put_field(buf + 48, 1, 16);
        assert_int_equal(ntp_packet_parse(buf, 48 + 16 + 12, &p), NTP_DROP_BAD_EXTENSION);
}

static void version_3_with_extension_is_rejected(void **state) {
        uint8_t buf[48 + 68] = { 0x1b };        /* version 3 */
        NtpPacket p;

        put_field(buf + 48, 1, 16);
        assert_int_equal(ntp_packet_parse(buf, 48 + 16, &p), NTP_DROP_BAD_EXTENSION);
        assert_int_equal(ntp_packet_parse(buf, 48 + 4, &p), NTP_DROP_NONE);
        /* Whole SHA-256 and SHA-512 digests, as chrony sends them. */
        assert_int_equal(ntp_packet_parse(buf, 48 + 36, &p), NTP_DROP_NONE);
        assert_int_equal(p.mac_length, 36);
        assert_int_equal(ntp_packet_parse(buf, 48 + 68, &p), NTP_DROP_NONE);
        assert_int_equal(p.mac_length, 68);
}

static void all_header_fields_round_trip(void **state) {
        NtpPacket in = {
                .leap = NTP_LEAP_DELETE, .version = 3, .mode = NTP_MODE_SYMMETRIC_PASSIVE, .stratum = 15,
                .poll = -3, .precision = -29, .root_delay = 0x00012345, .root_dispersion = 0x00fedcba,
                .reference_id = 0xc0a80264, .reference_ts = 0x1111111122222222ull,
                .origin_ts = 0x3333333344444444ull, .receive_ts = 0x5555555566666666ull,
                .transmit_ts = 0x7777777788888888ull,
        }, out;
        uint8_t buf[48];

        ntp_packet_encode(&in, buf);
        assert_int_equal(ntp_packet_parse(buf, 48, &out), NTP_DROP_NONE);
        assert_int_equal(out.leap, in.leap);
        assert_int_equal(out.version, in.version);
        assert_int_equal(out.mode, in.mode);
        assert_int_equal(out.stratum, in.stratum);
        assert_int_equal(out.poll, in.poll);
        assert_int_equal(out.precision, in.precision);
        assert_int_equal(out.root_delay, in.root_delay);
        assert_int_equal(out.root_dispersion, in.root_dispersion);
        assert_int_equal(out.reference_id, in.reference_id);
        assert_int_equal(out.reference_ts, in.reference_ts);
        assert_int_equal(out.origin_ts, in.origin_ts);
        assert_int_equal(out.receive_ts, in.receive_ts);
        assert_int_equal(out.transmit_ts, in.transmit_ts);
}

static void unix_epoch_is_ntp_second_2208988800(void **state) {
        assert_int_equal(ntp_timestamp_from_nsec(0) >> 32, 2208988800u);
        assert_int_equal(ntp_timestamp_from_nsec(0) & 0xffffffff, 0);
        /* Half a second is half of 2^32. */
        assert_int_equal(ntp_timestamp_from_nsec(NSEC_PER_SEC / 2) & 0xffffffff, 0x80000000u);
}

typedef struct EraCase {
        const char *name;
        nsec_t time;
        nsec_t pivot;
} EraCase;

static void timestamps_convert_back_in_the_era_nearest_the_pivot(void **state) {
        /* Era 1 begins 2036-02-07 06:28:16 UTC = Unix 2085978496. */
        const nsec_t rollover = INT64_C(2085978496) * NSEC_PER_SEC;
        static const EraCase cases[] = {
                { "now-ish", INT64_C(1795000000) * NSEC_PER_SEC + 123456789, INT64_C(1795000000) * NSEC_PER_SEC },
                { "just before the 2036 rollover", INT64_C(2085978495) * NSEC_PER_SEC + 999999000,
                  INT64_C(2085978496) * NSEC_PER_SEC },
                { "just after the 2036 rollover", INT64_C(2085978496) * NSEC_PER_SEC + 1000,
                  INT64_C(2085978495) * NSEC_PER_SEC },
                { "ten years after, pivot before", INT64_C(2085978496 + 315360000) * NSEC_PER_SEC,
                  INT64_C(2085978496 - 1000) * NSEC_PER_SEC },
                { "1970", 5 * NSEC_PER_SEC, 0 },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                print_message("%s\n", cases[i].name);
                NtpTimestamp ts = ntp_timestamp_from_nsec(cases[i].time);
                nsec_t back = ntp_timestamp_to_nsec(ts, cases[i].pivot);
                /* One NTP fraction unit is 0.23 ns. */
                assert_true(back - cases[i].time <= 1 && cases[i].time - back <= 1);
        }
        /* The era wraps: the first second of era 1 encodes as seconds 0. */
        assert_int_equal(ntp_timestamp_from_nsec(rollover) >> 32, 0);
}

static void timestamp_differences_cross_the_era_boundary(void **state) {
        NtpTimestamp before = 0xffffffff00000000ull;    /* last second of era 0 */
        NtpTimestamp after = 0x0000000100000000ull;     /* second 1 of era 1 */

        assert_true(ntp_timestamp_diff(after, before) == 2.0);
        assert_true(ntp_timestamp_diff(before, after) == -2.0);
        assert_true(ntp_timestamp_diff(0x80000000ull, 0) == 0.5);
}

static void short_format_converts_and_saturates(void **state) {
        assert_int_equal(ntp_short_from_seconds(1.0), 0x00010000);
        assert_int_equal(ntp_short_from_seconds(0.5), 0x00008000);
        assert_int_equal(ntp_short_from_seconds(-1.0), 0);
        assert_int_equal(ntp_short_from_seconds(70000.0), UINT32_MAX);
        assert_true(ntp_short_to_seconds(0x00018000) == 1.5);
}

static void reference_ids_print_as_text_or_address(void **state) {
        char buf[16];

        assert_string_equal(ntp_refid_to_string(ntp_refid_from_ascii("GPS"), 1, buf), "GPS");
        assert_string_equal(ntp_refid_to_string(ntp_refid_from_ascii("LOCL"), 0, buf), "LOCL");
        assert_string_equal(ntp_refid_to_string(0xc0a80264, 3, buf), "192.168.2.100");
}

static void kiss_o_death_codes_are_recognised(void **state) {
        NtpPacket p = { .stratum = 0, .reference_id = ntp_refid_from_ascii("RATE") };
        char code[5];

        assert_true(ntp_packet_is_kod(&p, code));
        assert_string_equal(code, "RATE");
        p.stratum = 2;
        assert_false(ntp_packet_is_kod(&p, code));
        p.stratum = 0;
        p.reference_id = 0;
        assert_false(ntp_packet_is_kod(&p, code));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(real_packets_parse_to_their_fields),
                cmocka_unit_test(real_packets_encode_back_to_the_same_bytes),
                cmocka_unit_test(reply_times_are_in_2026),
                cmocka_unit_test(each_malformed_datagram_is_dropped_with_its_reason),
                cmocka_unit_test(accepted_modes_are_one_to_five),
                cmocka_unit_test(older_versions_are_accepted),
                cmocka_unit_test(extension_fields_are_skipped),
                cmocka_unit_test(macs_alone_are_accepted),
                cmocka_unit_test(whole_digest_macs_are_told_from_extension_fields),
                cmocka_unit_test(malformed_extension_fields_are_rejected),
                cmocka_unit_test(version_3_with_extension_is_rejected),
                cmocka_unit_test(all_header_fields_round_trip),
                cmocka_unit_test(unix_epoch_is_ntp_second_2208988800),
                cmocka_unit_test(timestamps_convert_back_in_the_era_nearest_the_pivot),
                cmocka_unit_test(timestamp_differences_cross_the_era_boundary),
                cmocka_unit_test(short_format_converts_and_saturates),
                cmocka_unit_test(reference_ids_print_as_text_or_address),
                cmocka_unit_test(kiss_o_death_codes_are_recognised),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
