/* Tests for reading systemd-networkd's link state files: the NTP= servers
 * of each link and whether it is up, from the text and from a folder; and
 * for the diff that turns the link sources in use into those the links
 * want. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netif-links.h"
#include "test-util.h"

/* What networkd writes, shortened. */
static const char STATE[] =
        "# This is private data. Do not parse.\n"
        "ADMIN_STATE=configured\n"
        "OPER_STATE=routable\n"
        "NETWORK_FILE=/etc/systemd/network/50-veth.network\n"
        "DNS=192.0.2.53\n"
        "NTP=192.0.2.1 ntp.example.org  2001:db8::123\n"
        "DOMAINS=example.org\n";

static void test_ntp_servers_in_order(void **state) {
        NetifLink l = {};

        assert_int_equal(netif_link_parse(STATE, &l), 0);
        assert_true(l.up);
        assert_int_equal(l.n_ntp, 3);
        assert_string_equal(l.ntp[0], "192.0.2.1");
        assert_string_equal(l.ntp[1], "ntp.example.org");
        assert_string_equal(l.ntp[2], "2001:db8::123");
        netif_link_done(&l);
}

typedef struct OperCase {
        const char *text;
        bool up;
        size_t n_ntp;
} OperCase;

static void test_oper_state_decides_up(void **state) {
        static const OperCase cases[] = {
                { "OPER_STATE=routable\nNTP=192.0.2.1\n", true, 1 },
                { "OPER_STATE=degraded\nNTP=192.0.2.1\n", true, 1 },
                { "OPER_STATE=carrier\n", true, 0 },
                { "OPER_STATE=no-carrier\nNTP=192.0.2.1\n", false, 1 },
                { "OPER_STATE=off\n", false, 0 },
                { "OPER_STATE=dormant\n", false, 0 },
                { "NTP=192.0.2.1\n", true, 1 },         /* no OPER_STATE=: up */
                { "NTP=\nOPER_STATE=routable", true, 0 }, /* empty list, no final newline */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                NetifLink l = {};
                print_message("%s\n", cases[i].text);
                assert_int_equal(netif_link_parse(cases[i].text, &l), 0);
                assert_int_equal(l.up, cases[i].up);
                assert_int_equal(l.n_ntp, cases[i].n_ntp);
                netif_link_done(&l);
        }
}

static void write_text(const char *dir, const char *name, const char *text) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_folder_is_read_in_index_order_skipping_others(void **state) {
        char dir[256];
        NetifLink *links;
        size_t n;

        assert_int_equal(tmpdir_new(dir, sizeof dir), 0);
        write_text(dir, "12", "OPER_STATE=routable\nNTP=192.0.2.12\n");
        write_text(dir, "1", "OPER_STATE=carrier\n");
        write_text(dir, ".#12abcdef", "NTP=192.0.2.99\n");     /* networkd's temporary file */
        write_text(dir, "lo", "NTP=192.0.2.98\n");
        assert_int_equal(netif_links_read(dir, &links, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(links[0].ifindex, 1);
        assert_string_equal(links[0].name, "lo");       /* index 1 is the loopback */
        assert_int_equal(links[0].n_ntp, 0);
        assert_int_equal(links[1].ifindex, 12);
        assert_int_equal(links[1].n_ntp, 1);
        assert_string_equal(links[1].ntp[0], "192.0.2.12");
        netif_links_free(links, n);
        tmpdir_remove(dir);
}

static void test_missing_folder_is_no_links(void **state) {
        NetifLink *links = (NetifLink *) 1;
        size_t n = 7;

        assert_int_equal(netif_links_read("/nonexistent/tempus/netif/links", &links, &n), 0);
        assert_null(links);
        assert_int_equal(n, 0);
}

static void test_empty_folder_is_no_links(void **state) {
        char dir[256];
        NetifLink *links;
        size_t n = 7;

        assert_int_equal(tmpdir_new(dir, sizeof dir), 0);
        assert_int_equal(netif_links_read(dir, &links, &n), 0);
        assert_int_equal(n, 0);
        netif_links_free(links, n);
        tmpdir_remove(dir);
}

/* A link with its servers, up or not; free with netif_link_done(). */
static NetifLink link_with(const char *name, bool up, const char *servers) {
        NetifLink l = { .up = up };
        snprintf(l.name, sizeof l.name, "%s", name);
        assert_true(netif_link_add_servers(&l, servers) >= 0);
        return l;
}

static void links_done(NetifLink *links, size_t n) {
        for (size_t i = 0; i < n; i++)
                netif_link_done(&links[i]);
}

static void assert_added(const LinkServerDiff *d, size_t i, const char *link, const char *host) {
        assert_true(i < d->n_add);
        assert_string_equal(d->add[i].link, link);
        assert_string_equal(d->add[i].host, host);
}

static void test_diff_adds_servers_of_up_links_once(void **state) {
        NetifLink links[] = {
                link_with("eth0", true, "192.0.2.1 192.0.2.2"),
                link_with("eth1", false, "192.0.2.9"),
                link_with("wlan0", true, "192.0.2.2 192.0.2.3"),
        };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(NULL, 0, links, 3, false, &d), 0);
        assert_int_equal(d.n_remove, 0);
        assert_int_equal(d.n_add, 3);
        assert_added(&d, 0, "eth0", "192.0.2.1");
        assert_added(&d, 1, "eth0", "192.0.2.2");       /* for the first link that lists it */
        assert_added(&d, 2, "wlan0", "192.0.2.3");
        link_server_diff_done(&d);
        links_done(links, 3);
}

static void test_diff_keeps_what_is_wanted_and_removes_the_rest(void **state) {
        const LinkServer have[] = {
                { "eth0", "192.0.2.1" },        /* still listed */
                { "eth0", "192.0.2.5" },        /* no longer listed */
                { "eth1", "192.0.2.9" },        /* its link went down */
                { "gone0", "192.0.2.7" },       /* its link went */
        };
        NetifLink links[] = {
                link_with("eth0", true, "192.0.2.1 192.0.2.6"),
                link_with("eth1", false, "192.0.2.9"),
        };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(have, 4, links, 2, false, &d), 0);
        assert_int_equal(d.n_remove, 3);
        assert_int_equal(d.remove[0], 1);
        assert_int_equal(d.remove[1], 2);
        assert_int_equal(d.remove[2], 3);
        assert_int_equal(d.n_add, 1);
        assert_added(&d, 0, "eth0", "192.0.2.6");
        link_server_diff_done(&d);
        links_done(links, 2);
}

static void test_diff_moves_a_server_to_its_new_link(void **state) {
        const LinkServer have[] = { { "eth0", "192.0.2.1" } };
        NetifLink links[] = {
                link_with("eth0", true, ""),
                link_with("wlan0", true, "192.0.2.1"),
        };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(have, 1, links, 2, false, &d), 0);
        assert_int_equal(d.n_remove, 1);
        assert_int_equal(d.n_add, 1);
        assert_added(&d, 0, "wlan0", "192.0.2.1");
        link_server_diff_done(&d);
        links_done(links, 2);
}

static void test_diff_renew_removes_and_adds_everything(void **state) {
        const LinkServer have[] = { { "eth0", "192.0.2.1" } };
        NetifLink links[] = { link_with("eth0", true, "192.0.2.1") };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(have, 1, links, 1, true, &d), 0);
        assert_int_equal(d.n_remove, 1);
        assert_int_equal(d.n_add, 1);
        assert_added(&d, 0, "eth0", "192.0.2.1");
        link_server_diff_done(&d);
        links_done(links, 1);
}

static void test_diff_without_links_removes_all(void **state) {
        const LinkServer have[] = { { "eth0", "192.0.2.1" }, { "eth0", "192.0.2.2" } };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(have, 2, NULL, 0, false, &d), 0);
        assert_int_equal(d.n_remove, 2);
        assert_int_equal(d.n_add, 0);
        link_server_diff_done(&d);
}

static void test_diff_of_equal_sets_is_empty(void **state) {
        const LinkServer have[] = { { "eth0", "192.0.2.1" } };
        NetifLink links[] = { link_with("eth0", true, "192.0.2.1") };
        LinkServerDiff d;

        assert_int_equal(link_server_diff(have, 1, links, 1, false, &d), 0);
        assert_int_equal(d.n_remove, 0);
        assert_int_equal(d.n_add, 0);
        link_server_diff_done(&d);
        links_done(links, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ntp_servers_in_order),
                cmocka_unit_test(test_oper_state_decides_up),
                cmocka_unit_test(test_folder_is_read_in_index_order_skipping_others),
                cmocka_unit_test(test_missing_folder_is_no_links),
                cmocka_unit_test(test_empty_folder_is_no_links),
                cmocka_unit_test(test_diff_adds_servers_of_up_links_once),
                cmocka_unit_test(test_diff_keeps_what_is_wanted_and_removes_the_rest),
                cmocka_unit_test(test_diff_moves_a_server_to_its_new_link),
                cmocka_unit_test(test_diff_renew_removes_and_adds_everything),
                cmocka_unit_test(test_diff_without_links_removes_all),
                cmocka_unit_test(test_diff_of_equal_sets_is_empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
