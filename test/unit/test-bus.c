/* Tests for the pieces of the D-Bus layer that need no bus: snapshot
 * comparison for PropertiesChanged, source object paths, the source
 * snapshot's signs and units, and timesync1's view of a source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "bus/bus-properties.h"
#include "bus/bus-source.h"
#include "bus/bus-timesync.h"
#include "core/source.h"
#include "test-util.h"
#include "test-source-util.h"

typedef struct Snapshot {
        int flag;
        double value;
        char name[16];
} Snapshot;

static const BusPropertyField fields[] = {
        BUS_PROPERTY_FIELD("Flag", Snapshot, flag),
        BUS_PROPERTY_FIELD("Value", Snapshot, value),
        BUS_PROPERTY_FIELD("Name", Snapshot, name),
};

static void test_unchanged_snapshot_names_nothing(void **state) {
        Snapshot a = { 1, 2.5, "x" }, b = a;
        const char *names[4];

        assert_int_equal(bus_properties_changed(fields, 3, &a, &b, names), 0);
        assert_null(names[0]);
}

static void test_changed_fields_are_named_in_table_order(void **state) {
        Snapshot a, b;
        const char *names[4];

        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        strcpy(a.name, "old");
        strcpy(b.name, "new");
        b.flag = 1;
        assert_int_equal(bus_properties_changed(fields, 3, &a, &b, names), 2);
        assert_string_equal(names[0], "Flag");
        assert_string_equal(names[1], "Name");
        assert_null(names[2]);
}

static void test_source_paths_round_trip(void **state) {
        char buf[128];
        unsigned id = 0;

        assert_string_equal(bus_source_path(42, buf, sizeof buf), "/org/tempus/Tempus1/source/42");
        assert_int_equal(bus_source_path_parse(buf, &id), 0);
        assert_int_equal(id, 42);
}

static void test_bad_source_paths_are_rejected(void **state) {
        const char *bad[] = { "/org/tempus/Tempus1", "/org/tempus/Tempus1/source/", "/org/tempus/Tempus1/source/x",
                              "/org/tempus/Tempus1/source/1/2", "/org/tempus/Tempus1/source/-1",
                              "/org/tempus/Tempus1/source/99999999999", "/other/source/1" };
        unsigned id;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(bus_source_path_parse(bad[i], &id), -EINVAL);
}

static void test_source_without_replies(void **state) {
        Source *s = make_source(7, "ntp.example", "192.168.2.100", true);
        BusSourceProps p;

        bus_source_props_fill(&p, s, NULL, NULL, 1000 * NSEC_PER_SEC);
        assert_int_equal(p.id, 7);
        assert_string_equal(p.name, "ntp.example");
        assert_string_equal(p.address, "192.168.2.100");
        assert_string_equal(p.mode, "server");
        assert_string_equal(p.state, "unusable");
        assert_true(p.iburst);
        assert_false(p.prefer);
        assert_int_equal(p.last_rx_age_usec, UINT64_MAX);
        assert_int_equal(p.samples, 0);
        assert_string_equal(p.link, "");
        bus_source_props_fill(&p, s, NULL, "veth0", 1000 * NSEC_PER_SEC);
        assert_string_equal(p.link, "veth0");
        source_free(s);
}

static void test_source_offsets_use_chronyc_sign(void **state) {
        Source *s = make_source(7, "ntp.example", "192.168.2.100", true);
        BusSourceProps p;

        /* The server is 2 ms behind us: chronyc shows +2 ms. */
        s->has_reply = true;
        s->last_rx = 1000 * NSEC_PER_SEC;
        s->last_sample = (SourceSample) { .time = s->last_rx, .offset = -0.002, .delay = 0.0004,
                                          .dispersion = 0.0001 };
        bus_source_props_fill(&p, s, NULL, NULL, 1003 * NSEC_PER_SEC);
        assert_near(p.measured_offset, 0.002, 1e-12);
        assert_near(p.error, 0.0003, 1e-12);
        assert_int_equal(p.last_rx_age_usec, 3 * USEC_PER_SEC);
        source_free(s);
}

/* timesync1's view of a source: our request at T1 = 1000 s; the server,
 * 3 ms ahead, receives it 0.5 ms later by its clock, answers 10 us after;
 * the reply arrives at T4 = T1 + 1 ms + 10 us. */
#define T1 (INT64_C(1000) * NSEC_PER_SEC)

static Source *source_with_reply(void) {
        Source *s = make_source(3, "ntp.example", "192.168.2.100", false);
        nsec_t t2 = T1 + 3500 * NSEC_PER_USEC;
        NtpPacket req, rep = {
                .leap = NTP_LEAP_INSERT, .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2, .poll = 6,
                .precision = -20, .root_delay = ntp_short_from_seconds(0.25),
                .root_dispersion = ntp_short_from_seconds(0.125), .reference_id = 0xc0000201,
                .receive_ts = ntp_timestamp_from_nsec(t2),
                .transmit_ts = ntp_timestamp_from_nsec(t2 + 10 * NSEC_PER_USEC),
        };

        source_build_request(s, T1, 0x1234567890abcdefULL, &req);
        rep.origin_ts = req.transmit_ts;
        assert_int_equal(source_process_reply(s, &rep, T1 + 1010 * NSEC_PER_USEC, NULL), SOURCE_REPLY_OK);
        return s;
}

static void test_timesync_message_is_the_last_reply(void **state) {
        Source *s = source_with_reply();
        BusTimesyncProps p = {};

        bus_timesync_server_fill(&p, s, T1 + 2 * NSEC_PER_SEC);
        const BusTimesyncMessage *m = &p.ntp_message;
        assert_int_equal(m->leap, 1);
        assert_int_equal(m->version, 4);
        assert_int_equal(m->mode, 4);
        assert_int_equal(m->stratum, 2);
        assert_int_equal(m->precision, -20);
        assert_int_equal(m->root_delay_usec, 250000);
        assert_int_equal(m->root_dispersion_usec, 125000);
        assert_memory_equal(m->reference, ((uint8_t[]) { 192, 0, 2, 1 }), 4);
        assert_int_equal(m->origin_usec, 1000 * USEC_PER_SEC);
        assert_int_equal(m->receive_usec, 1000 * USEC_PER_SEC + 3500);
        assert_int_equal(m->transmit_usec, 1000 * USEC_PER_SEC + 3510);
        assert_int_equal(m->destination_usec, 1000 * USEC_PER_SEC + 1010);
        assert_false(m->spike);
        assert_int_equal(m->packet_count, 1);
        source_free(s);
}

/* timedatectl computes offset and delay from the four timestamps: they
 * must give what tempus measured. */
static void test_timesync_timestamps_give_the_measured_offset(void **state) {
        Source *s = source_with_reply();
        BusTimesyncProps p = {};

        bus_timesync_server_fill(&p, s, T1 + 2 * NSEC_PER_SEC);
        const BusTimesyncMessage *m = &p.ntp_message;
        double t1 = (double) m->origin_usec, t2 = (double) m->receive_usec;
        double t3 = (double) m->transmit_usec, t4 = (double) m->destination_usec;
        assert_near(((t2 - t1) + (t3 - t4)) / 2 * 1e-6, s->last_sample.offset, 1e-6);
        assert_near(((t4 - t1) - (t3 - t2)) * 1e-6, 0.001, 1e-6);
        source_free(s);
}

static void test_timesync_server_name_address_and_polls(void **state) {
        Source *s = source_with_reply();
        BusTimesyncProps p = {};

        bus_timesync_server_fill(&p, s, T1 + 2 * NSEC_PER_SEC);
        assert_string_equal(p.server_name, "ntp.example");
        assert_int_equal(p.server_address.family, AF_INET);
        assert_int_equal(p.server_address.size, 4);
        assert_memory_equal(p.server_address.bytes, ((uint8_t[]) { 192, 168, 2, 100 }), 4);
        assert_int_equal(p.poll_interval_min_usec, 64 * USEC_PER_SEC);
        assert_int_equal(p.poll_interval_max_usec, 1024 * USEC_PER_SEC);
        assert_int_equal(p.poll_interval_usec, (uint64_t) (source_poll_interval(s) * USEC_PER_SEC));
        source_free(s);
}

static void test_timesync_message_is_zero_before_a_reply(void **state) {
        Source *s = make_source(3, "ntp.example", "192.168.2.100", false);
        BusTimesyncProps p = {};
        static const BusTimesyncMessage zero;

        bus_timesync_server_fill(&p, s, T1);
        assert_memory_equal(&p.ntp_message, &zero, sizeof zero);
        assert_string_equal(p.server_name, "ntp.example");
        source_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unchanged_snapshot_names_nothing),
                cmocka_unit_test(test_changed_fields_are_named_in_table_order),
                cmocka_unit_test(test_source_paths_round_trip),
                cmocka_unit_test(test_bad_source_paths_are_rejected),
                cmocka_unit_test(test_source_without_replies),
                cmocka_unit_test(test_source_offsets_use_chronyc_sign),
                cmocka_unit_test(test_timesync_message_is_the_last_reply),
                cmocka_unit_test(test_timesync_timestamps_give_the_measured_offset),
                cmocka_unit_test(test_timesync_server_name_address_and_polls),
                cmocka_unit_test(test_timesync_message_is_zero_before_a_reply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
