/* Tests for src/server/ntp-server: the reply to each kind of request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "server/ntp-server.h"
#include "shared/macro.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)

static const ServerState synced = {
        .leap = NTP_LEAP_NONE, .stratum = 3, .precision = -23, .reference_id = 0xc0a80264,
        .reference_time = T0 - 10 * NSEC_PER_SEC, .root_delay = 0.002, .root_dispersion = 0.001,
};

static NtpPacket request(NtpMode mode, uint8_t version, int8_t poll) {
        return (NtpPacket) { .leap = NTP_LEAP_UNSYNC, .version = version, .mode = mode, .poll = poll,
                             .transmit_ts = 0x1122334455667788ull };
}

static void a_client_request_gets_a_server_reply(void **state) {
        NtpPacket req = request(NTP_MODE_CLIENT, 4, 6), rep;

        assert_int_equal(server_build_reply(&req, &synced, T0, T0 + 1000, &rep), 0);
        assert_int_equal(rep.mode, NTP_MODE_SERVER);
        assert_int_equal(rep.version, 4);
        assert_int_equal(rep.origin_ts, req.transmit_ts);
        assert_int_equal(rep.receive_ts, ntp_timestamp_from_nsec(T0));
        assert_int_equal(rep.transmit_ts, ntp_timestamp_from_nsec(T0 + 1000));
        assert_int_equal(rep.stratum, 3);
        assert_int_equal(rep.leap, NTP_LEAP_NONE);
        assert_int_equal(rep.reference_id, 0xc0a80264);
        assert_int_equal(rep.reference_ts, ntp_timestamp_from_nsec(synced.reference_time));
        assert_int_equal(rep.root_delay, ntp_short_from_seconds(0.002));
        assert_int_equal(rep.root_dispersion, ntp_short_from_seconds(0.001));
        assert_int_equal(rep.precision, -23);
}

static void the_reply_speaks_the_request_version(void **state) {
        for (uint8_t v = 1; v <= 4; v++) {
                NtpPacket req = request(NTP_MODE_CLIENT, v, 6), rep;
                assert_int_equal(server_build_reply(&req, &synced, T0, T0, &rep), 0);
                assert_int_equal(rep.version, v);
        }
}

static void symmetric_active_gets_symmetric_passive(void **state) {
        NtpPacket req = request(NTP_MODE_SYMMETRIC_ACTIVE, 4, 6), rep;
        assert_int_equal(server_build_reply(&req, &synced, T0, T0, &rep), 0);
        assert_int_equal(rep.mode, NTP_MODE_SYMMETRIC_PASSIVE);
}

static void other_modes_are_not_answered(void **state) {
        static const NtpMode modes[] = { NTP_MODE_SERVER, NTP_MODE_BROADCAST, NTP_MODE_SYMMETRIC_PASSIVE };
        for (size_t i = 0; i < 3; i++) {
                NtpPacket req = request(modes[i], 4, 6), rep;
                assert_int_equal(server_build_reply(&req, &synced, T0, T0, &rep), -EOPNOTSUPP);
        }
}

static void poll_is_clamped(void **state) {
        NtpPacket req = request(NTP_MODE_CLIENT, 4, 0), rep;
        server_build_reply(&req, &synced, T0, T0, &rep);
        assert_int_equal(rep.poll, SERVER_MIN_POLL);
        req.poll = 30;
        server_build_reply(&req, &synced, T0, T0, &rep);
        assert_int_equal(rep.poll, SERVER_MAX_POLL);
}

static void unsynchronised_replies_say_so(void **state) {
        ServerState st = synced;
        NtpPacket req = request(NTP_MODE_CLIENT, 4, 6), rep;

        st.leap = NTP_LEAP_UNSYNC;
        server_build_reply(&req, &st, T0, T0, &rep);
        assert_int_equal(rep.leap, NTP_LEAP_UNSYNC);
        assert_int_equal(rep.stratum, 16);
        assert_int_equal(rep.reference_id, 0);
        /* Still a proper answer: the client learns we are up. */
        assert_int_equal(rep.origin_ts, req.transmit_ts);
}

static void leap_warnings_are_passed_on(void **state) {
        ServerState st = synced;
        NtpPacket req = request(NTP_MODE_CLIENT, 4, 6), rep;

        st.leap = NTP_LEAP_INSERT;
        server_build_reply(&req, &st, T0, T0, &rep);
        assert_int_equal(rep.leap, NTP_LEAP_INSERT);
}

static void a_kod_rate_says_stop_and_nothing_else(void **state) {
        NtpPacket req = request(NTP_MODE_CLIENT, 4, 6), rep;
        char code[5];

        assert_int_equal(server_build_kod(&req, "RATE", T0, T0 + 1000, &rep), 0);
        assert_int_equal(rep.mode, NTP_MODE_SERVER);
        assert_int_equal(rep.version, 4);
        assert_int_equal(rep.leap, NTP_LEAP_UNSYNC);
        assert_int_equal(rep.stratum, 0);
        assert_true(ntp_packet_is_kod(&rep, code));
        assert_string_equal(code, "RATE");
        /* The client's own transmit time comes back, so it can trust it. */
        assert_int_equal(rep.origin_ts, req.transmit_ts);
        /* No time to offer: no reference, no root distance. */
        assert_int_equal(rep.reference_ts, 0);
        assert_int_equal(rep.root_delay, 0);
        assert_int_equal(rep.root_dispersion, 0);
}

static void a_kod_is_a_bare_header_no_larger_than_any_request(void **state) {
        NtpPacket req = request(NTP_MODE_CLIENT, 3, 6), rep;
        uint8_t wire[NTP_HEADER_SIZE];

        assert_int_equal(server_build_kod(&req, "RATE", T0, T0, &rep), 0);
        assert_int_equal(ntp_packet_encode(&rep, wire), NTP_HEADER_SIZE);
        assert_int_equal(wire[0], (3 << 6) | (3 << 3) | NTP_MODE_SERVER);
        assert_int_equal(wire[1], 0);
        assert_memory_equal(wire + 12, "RATE", 4);
}

static void a_kod_follows_the_reply_modes(void **state) {
        static const NtpMode unanswered[] = { NTP_MODE_SERVER, NTP_MODE_BROADCAST, NTP_MODE_SYMMETRIC_PASSIVE };
        NtpPacket req = request(NTP_MODE_SYMMETRIC_ACTIVE, 4, 6), rep;

        assert_int_equal(server_build_kod(&req, "RATE", T0, T0, &rep), 0);
        assert_int_equal(rep.mode, NTP_MODE_SYMMETRIC_PASSIVE);
        for (size_t i = 0; i < ELEMENTSOF(unanswered); i++) {
                req = request(unanswered[i], 4, 6);
                assert_int_equal(server_build_kod(&req, "RATE", T0, T0, &rep), -EOPNOTSUPP);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_client_request_gets_a_server_reply),
                cmocka_unit_test(the_reply_speaks_the_request_version),
                cmocka_unit_test(symmetric_active_gets_symmetric_passive),
                cmocka_unit_test(other_modes_are_not_answered),
                cmocka_unit_test(poll_is_clamped),
                cmocka_unit_test(unsynchronised_replies_say_so),
                cmocka_unit_test(leap_warnings_are_passed_on),
                cmocka_unit_test(a_kod_rate_says_stop_and_nothing_else),
                cmocka_unit_test(a_kod_is_a_bare_header_no_larger_than_any_request),
                cmocka_unit_test(a_kod_follows_the_reply_modes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
