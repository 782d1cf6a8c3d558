/* Tests for src/net/hwts: what tempusd asks of a network card with
 * SIOCSHWTSTAMP (transmit timestamps on; receive timestamps of NTP packets
 * where offered, else of all packets, else none), what the driver's answer
 * allows, and what an interface without hardware timestamping is said to
 * offer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "net/hwts.h"
#include "shared/macro.h"
#include "test-util.h"

#define BIT(x) (1u << (x))
#define TX_ON BIT(HWTSTAMP_TX_ON)
#define PTP_ONLY (BIT(HWTSTAMP_FILTER_NONE) | BIT(HWTSTAMP_FILTER_PTP_V2_EVENT))

static HwtsInfo card(uint32_t tx_types, uint32_t rx_filters) {
        return (HwtsInfo) { .name = "eth0", .hardware_rx = true, .hardware_tx = true, .software_tx = true,
                            .phc_index = 0, .tx_types = tx_types, .rx_filters = rx_filters };
}

typedef struct ConfigCase {
        const char *name;
        uint32_t tx_types, rx_filters;
        int filters[4];                 /* asked for in turn; -1 ends */
} ConfigCase;

static const ConfigCase configs[] = {
        { "NTP_ALL offered: asked first, ALL next",
          TX_ON, BIT(HWTSTAMP_FILTER_NTP_ALL) | BIT(HWTSTAMP_FILTER_ALL) | PTP_ONLY,
          { HWTSTAMP_FILTER_NTP_ALL, HWTSTAMP_FILTER_ALL, HWTSTAMP_FILTER_NONE, -1 } },
        { "ALL only", TX_ON, BIT(HWTSTAMP_FILTER_ALL) | PTP_ONLY, { HWTSTAMP_FILTER_ALL, HWTSTAMP_FILTER_NONE, -1 } },
        { "NTP_ALL only", TX_ON, BIT(HWTSTAMP_FILTER_NTP_ALL), { HWTSTAMP_FILTER_NTP_ALL, HWTSTAMP_FILTER_NONE, -1 } },
        { "PTP filters only: transmit timestamps alone", TX_ON, PTP_ONLY, { HWTSTAMP_FILTER_NONE, -1 } },
        { "no TX_ON: nothing", BIT(HWTSTAMP_TX_OFF), BIT(HWTSTAMP_FILTER_ALL), { -1 } },
};

static void settings_are_asked_for_best_first(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(configs); i++) {
                const ConfigCase *c = &configs[i];
                HwtsInfo info = card(c->tx_types, c->rx_filters);
                struct hwtstamp_config cfg, *refused = NULL;

                print_message("%s\n", c->name);
                for (size_t k = 0; c->filters[k] >= 0; k++) {
                        assert_int_equal(hwts_next_config(&info, refused, &cfg), 0);
                        assert_int_equal(cfg.tx_type, HWTSTAMP_TX_ON);
                        assert_int_equal(cfg.rx_filter, c->filters[k]);
                        assert_int_equal(cfg.flags, 0);
                        refused = &cfg;
                }
                assert_int_equal(hwts_next_config(&info, refused, &cfg), -EOPNOTSUPP);
        }
}

/* The driver may turn on more than was asked (ALL for NTP_ALL), or less;
 * what it reports back is what counts. */
static void the_drivers_answer_decides_what_is_used(void **state) {
        struct hwtstamp_config got = { .tx_type = HWTSTAMP_TX_ON, .rx_filter = HWTSTAMP_FILTER_ALL };
        assert_true(hwts_config_has_rx(&got) && hwts_config_has_tx(&got));

        got.rx_filter = HWTSTAMP_FILTER_NTP_ALL;
        assert_true(hwts_config_has_rx(&got));

        got.rx_filter = HWTSTAMP_FILTER_PTP_V2_EVENT;
        assert_false(hwts_config_has_rx(&got));
        assert_string_equal(hwts_rx_filter_to_string(got.rx_filter), "PTP packets only");

        got = (struct hwtstamp_config) { .tx_type = HWTSTAMP_TX_OFF, .rx_filter = HWTSTAMP_FILTER_NONE };
        assert_false(hwts_config_has_rx(&got) || hwts_config_has_tx(&got));
}

static void only_an_interface_with_both_directions_and_a_phc_is_used(void **state) {
        HwtsInfo info = card(TX_ON, BIT(HWTSTAMP_FILTER_ALL));
        char text[256];

        assert_true(hwts_info_usable(&info));
        info.phc_index = -1;
        assert_false(hwts_info_usable(&info));
        assert_non_null(strstr(hwts_describe(&info, text), "eth0 has hardware timestamping but no PHC"));
        info = card(TX_ON, BIT(HWTSTAMP_FILTER_ALL));
        info.hardware_tx = false;
        assert_false(hwts_info_usable(&info));
}

static void a_software_only_interface_is_said_so(void **state) {
        HwtsInfo info = { .name = "veth0", .software_tx = true, .phc_index = -1 };
        char text[256];

        assert_false(hwts_info_usable(&info));
        assert_string_equal(hwts_describe(&info, text),
                            "veth0 has no hardware timestamping (software only): using the kernel's software timestamps");
}

/* The real ioctl on this machine's loopback: software only, no PHC. */
static void loopback_offers_software_timestamps_only(void **state) {
        HwtsInfo info;

        assert_int_equal(hwts_interface_info("lo", &info), 0);
        assert_string_equal(info.name, "lo");
        assert_false(info.hardware_rx || info.hardware_tx);
        assert_int_equal(info.phc_index, -1);
        assert_false(hwts_info_usable(&info));
        assert_int_equal(hwts_interface_info("tempus-none0", &info), -ENODEV);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(settings_are_asked_for_best_first),
                cmocka_unit_test(the_drivers_answer_decides_what_is_used),
                cmocka_unit_test(only_an_interface_with_both_directions_and_a_phc_is_used),
                cmocka_unit_test(a_software_only_interface_is_said_so),
                cmocka_unit_test(loopback_offers_software_timestamps_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
