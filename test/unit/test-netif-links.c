/* Tests for reading systemd-networkd's link state files: the NTP= servers
 * of each link and whether it is up, from the text and from a folder. */
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ntp_servers_in_order),
                cmocka_unit_test(test_oper_state_decides_up),
                cmocka_unit_test(test_folder_is_read_in_index_order_skipping_others),
                cmocka_unit_test(test_missing_folder_is_no_links),
                cmocka_unit_test(test_empty_folder_is_no_links),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
