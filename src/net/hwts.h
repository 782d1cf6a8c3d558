/* Hardware timestamping on a network interface ([Clock] HWTimestamp=):
 * what the interface offers, as `ethtool -T` shows it (asked of the driver
 * with ETHTOOL_GET_TS_INFO), and turning it on with SIOCSHWTSTAMP. Which
 * settings to ask for, and what the driver's answer allows, are pure
 * functions over these structs. Functions return 0 or a negative errno. */
#pragma once

#include <linux/net_tstamp.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HwtsInfo {
        char name[IF_NAMESIZE];
        bool hardware_rx;               /* SOF_TIMESTAMPING_RX_HARDWARE */
        bool hardware_tx;               /* SOF_TIMESTAMPING_TX_HARDWARE */
        bool software_tx;               /* SOF_TIMESTAMPING_TX_SOFTWARE */
        int phc_index;                  /* /dev/ptpN; -1: none */
        uint32_t tx_types;              /* bits of HWTSTAMP_TX_* */
        uint32_t rx_filters;            /* bits of HWTSTAMP_FILTER_* */
} HwtsInfo;

/* -ENODEV for an interface that does not exist, -EOPNOTSUPP when the
 * driver does not answer. */
int hwts_interface_info(const char *name, HwtsInfo *ret);

/* Whether the interface has what tempusd needs: hardware receive and
 * transmit timestamps, and a PHC to convert them with. */
bool hwts_info_usable(const HwtsInfo *info);

/* A sentence for the log about an interface that is not usable: what it
 * offers instead. buf must hold 256 bytes. */
const char *hwts_describe(const HwtsInfo *info, char buf[static 256]);

/* The settings to ask for after `refused` (NULL: the first): transmit
 * timestamps on, and receive timestamps of NTP packets only
 * (HWTSTAMP_FILTER_NTP_ALL) where the driver offers that, else of all
 * packets, else none (hardware transmit timestamps alone). Returns 0, or
 * -EOPNOTSUPP when nothing is left to ask for. */
int hwts_next_config(const HwtsInfo *info, const struct hwtstamp_config *refused, struct hwtstamp_config *ret);

/* What the driver's answer to SIOCSHWTSTAMP gives (it may turn on more
 * than was asked): receive timestamps of NTP packets, transmit timestamps. */
bool hwts_config_has_rx(const struct hwtstamp_config *got);
bool hwts_config_has_tx(const struct hwtstamp_config *got);
const char *hwts_rx_filter_to_string(int filter);

/* Asks the driver of interface name for config with SIOCSHWTSTAMP, in turn
 * from hwts_next_config(), until one is taken; *ret is what the driver
 * says it turned on. -EPERM without CAP_NET_ADMIN, -EOPNOTSUPP when the
 * driver took none. */
int hwts_enable(const HwtsInfo *info, struct hwtstamp_config *ret);
