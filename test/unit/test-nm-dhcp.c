/* Tests for reading NetworkManager's D-Bus messages: the NTP servers of a
 * DHCP4Config's or DHCP6Config's Options, a Device's properties, and
 * whether a PropertiesChanged signal names a property of interest. The
 * messages are built as NetworkManager sends them, on a bus that is never
 * connected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/nm-dhcp.h"

typedef struct Fixture {
        sd_bus *bus;
        int peer;
} Fixture;

/* sd-bus builds messages only on a bus that has started: one end of a
 * socket pair is enough, and nothing is ever sent. */
static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        int fds[2];

        assert_non_null(f);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(sd_bus_new(&f->bus), 0);
        assert_int_equal(sd_bus_set_fd(f->bus, fds[0], fds[0]), 0);
        assert_true(sd_bus_start(f->bus) >= 0);
        f->peer = fds[1];
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        sd_bus_close_unref(f->bus);
        close(f->peer);
        free(f);
        return 0;
}

static sd_bus_message *new_message(Fixture *f) {
        sd_bus_message *m = NULL;
        assert_int_equal(sd_bus_message_new_signal(f->bus, &m, "/org/freedesktop/NetworkManager/DHCP4Config/1",
                                                   "org.freedesktop.DBus.Properties", "PropertiesChanged"), 0);
        return m;
}

/* Seals m and puts it back at its start, as a received message stands. */
static sd_bus_message *received(sd_bus_message *m) {
        assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
        assert_true(sd_bus_message_rewind(m, true) >= 0);
        return m;
}

/* An Options dictionary of string values: key, value, ..., NULL. */
static sd_bus_message *options(Fixture *f, ...) {
        sd_bus_message *m = new_message(f);
        const char *key;
        va_list ap;

        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        va_start(ap, f);
        while ((key = va_arg(ap, const char *)))
                assert_true(sd_bus_message_append(m, "{sv}", key, "s", va_arg(ap, const char *)) >= 0);
        va_end(ap);
        assert_true(sd_bus_message_close_container(m) >= 0);
        return received(m);
}

static void test_dhcp4_ntp_servers_in_order(void **state) {
        sd_bus_message *m = options(*state, "ip_address", "192.0.2.2", "requested_ntp_servers", "1",
                                    "ntp_servers", "192.0.2.1  ntp.example.org 192.0.2.3", "routers",
                                    "192.0.2.254", NULL);
        NetifLink l = {};

        assert_int_equal(nm_dhcp_options_read(m, NM_FAMILY_DHCP4, &l), 3);
        assert_int_equal(l.n_ntp, 3);
        assert_string_equal(l.ntp[0], "192.0.2.1");
        assert_string_equal(l.ntp[1], "ntp.example.org");
        assert_string_equal(l.ntp[2], "192.0.2.3");
        netif_link_done(&l);
        sd_bus_message_unref(m);
}

static void test_dhcp6_reads_its_own_key(void **state) {
        sd_bus_message *m = options(*state, "ntp_servers", "192.0.2.1", "dhcp6_ntp_servers", "2001:db8::123",
                                    NULL);
        NetifLink l = {};

        assert_int_equal(nm_dhcp_options_read(m, NM_FAMILY_DHCP6, &l), 1);
        assert_string_equal(l.ntp[0], "2001:db8::123");
        netif_link_done(&l);
        sd_bus_message_unref(m);
}

static void test_options_without_ntp_give_nothing(void **state) {
        sd_bus_message *m = options(*state, "ip_address", "192.0.2.2", "requested_ntp_servers", "1", NULL);
        NetifLink l = {};

        assert_int_equal(nm_dhcp_options_read(m, NM_FAMILY_DHCP4, &l), 0);
        assert_int_equal(l.n_ntp, 0);
        sd_bus_message_unref(m);
}

static void test_ntp_option_of_another_type_is_skipped(void **state) {
        sd_bus_message *m = new_message(*state);
        NetifLink l = {};

        assert_true(sd_bus_message_append(m, "a{sv}", 2, "ntp_servers", "u", 42, "expiry", "s", "1700000000") >= 0);
        received(m);
        assert_int_equal(nm_dhcp_options_read(m, NM_FAMILY_DHCP4, &l), 0);
        sd_bus_message_unref(m);
}

static void test_not_a_dictionary_is_a_bad_message(void **state) {
        sd_bus_message *m = new_message(*state);
        NetifLink l = {};

        assert_true(sd_bus_message_append(m, "as", 1, "ntp_servers") >= 0);
        received(m);
        assert_int_equal(nm_dhcp_options_read(m, NM_FAMILY_DHCP4, &l), -EBADMSG);
        netif_link_done(&l);
        sd_bus_message_unref(m);
}

static sd_bus_message *device(Fixture *f, const char *ip_interface, const char *dhcp4) {
        sd_bus_message *m = new_message(f);
        assert_true(sd_bus_message_append(m, "a{sv}", 7,
                                          "Udi", "s", "/sys/devices/virtual/net/eth0",
                                          "Interface", "s", "eth0",
                                          "IpInterface", "s", ip_interface,
                                          "State", "u", 100,
                                          "Dhcp4Config", "o", dhcp4,
                                          "Dhcp6Config", "o", "/",
                                          "Mtu", "u", 1500) >= 0);
        return received(m);
}

static void test_device_props(void **state) {
        sd_bus_message *m = device(*state, "eth0", "/org/freedesktop/NetworkManager/DHCP4Config/7");
        NmDeviceProps p;

        assert_int_equal(nm_device_props_read(m, &p), 0);
        assert_string_equal(p.name, "eth0");
        assert_int_equal(p.state, NM_DEVICE_STATE_ACTIVATED);
        assert_string_equal(p.dhcp[NM_FAMILY_DHCP4], "/org/freedesktop/NetworkManager/DHCP4Config/7");
        assert_null(p.dhcp[NM_FAMILY_DHCP6]);   /* "/": none */
        nm_device_props_done(&p);
        sd_bus_message_unref(m);
}

static void test_device_ip_interface_names_the_link(void **state) {
        sd_bus_message *m = device(*state, "ppp0", "/");
        NmDeviceProps p;

        assert_int_equal(nm_device_props_read(m, &p), 0);
        assert_string_equal(p.name, "ppp0");
        assert_null(p.dhcp[NM_FAMILY_DHCP4]);
        nm_device_props_done(&p);
        sd_bus_message_unref(m);
}

static void test_device_empty_ip_interface_keeps_interface(void **state) {
        sd_bus_message *m = device(*state, "", "/");
        NmDeviceProps p;

        assert_int_equal(nm_device_props_read(m, &p), 0);
        assert_string_equal(p.name, "eth0");
        nm_device_props_done(&p);
        sd_bus_message_unref(m);
}

/* PropertiesChanged after its interface name: a{sv} changed, as invalidated. */
static sd_bus_message *changed(Fixture *f, const char *changed_name, const char *invalidated_name) {
        sd_bus_message *m = new_message(f);
        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        if (changed_name)
                assert_true(sd_bus_message_append(m, "{sv}", changed_name, "u", 1) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        if (invalidated_name)
                assert_true(sd_bus_message_append(m, "as", 1, invalidated_name) >= 0);
        else
                assert_true(sd_bus_message_append(m, "as", 0) >= 0);
        return received(m);
}

typedef struct ChangedCase {
        const char *changed, *invalidated;
        int want;
} ChangedCase;

static void test_properties_changed_names(void **state) {
        static const char *const names[] = { "State", "Dhcp4Config", NULL };
        static const ChangedCase cases[] = {
                { "State", NULL, 1 },
                { NULL, "Dhcp4Config", 1 },
                { "Mtu", NULL, 0 },
                { NULL, "Mtu", 0 },
                { NULL, NULL, 0 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                sd_bus_message *m = changed(*state, cases[i].changed, cases[i].invalidated);
                print_message("changed %s, invalidated %s\n", cases[i].changed ?: "-", cases[i].invalidated ?: "-");
                assert_int_equal(nm_properties_changed_any(m, names), cases[i].want);
                sd_bus_message_unref(m);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dhcp4_ntp_servers_in_order),
                cmocka_unit_test(test_dhcp6_reads_its_own_key),
                cmocka_unit_test(test_options_without_ntp_give_nothing),
                cmocka_unit_test(test_ntp_option_of_another_type_is_skipped),
                cmocka_unit_test(test_not_a_dictionary_is_a_bad_message),
                cmocka_unit_test(test_device_props),
                cmocka_unit_test(test_device_ip_interface_names_the_link),
                cmocka_unit_test(test_device_empty_ip_interface_keeps_interface),
                cmocka_unit_test(test_properties_changed_names),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
