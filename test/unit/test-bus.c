/* Tests for the pieces of the D-Bus layer that need no bus: snapshot
 * comparison for PropertiesChanged, source object paths, and the source
 * snapshot's signs and units. */
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

        bus_source_props_fill(&p, s, NULL, 1000 * NSEC_PER_SEC);
        assert_int_equal(p.id, 7);
        assert_string_equal(p.name, "ntp.example");
        assert_string_equal(p.address, "192.168.2.100");
        assert_string_equal(p.mode, "server");
        assert_string_equal(p.state, "unusable");
        assert_true(p.iburst);
        assert_false(p.prefer);
        assert_int_equal(p.last_rx_age_usec, UINT64_MAX);
        assert_int_equal(p.samples, 0);
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
        bus_source_props_fill(&p, s, NULL, 1003 * NSEC_PER_SEC);
        assert_near(p.measured_offset, 0.002, 1e-12);
        assert_near(p.error, 0.0003, 1e-12);
        assert_int_equal(p.last_rx_age_usec, 3 * USEC_PER_SEC);
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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
