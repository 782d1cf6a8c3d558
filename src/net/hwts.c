/* Timestamping capabilities of network interfaces, and turning hardware
 * timestamping on (see hwts.h). */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/hwts.h"
#include "shared/macro.h"

/* An ioctl on interface name with data; returns 0 or a negative errno. */
static int interface_ioctl(const char *name, unsigned long request, void *data) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};

        if (strlen(name) >= sizeof ifr.ifr_name)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strncpy(ifr.ifr_name, name, sizeof ifr.ifr_name - 1);
        ifr.ifr_data = data;
        return ioctl(fd, request, &ifr) < 0 ? -errno : 0;
}

int hwts_interface_info(const char *name, HwtsInfo *ret) {
        struct ethtool_ts_info ts = { .cmd = ETHTOOL_GET_TS_INFO };

        int r = interface_ioctl(name, SIOCETHTOOL, &ts);
        if (r < 0)
                return r == -ENODEV || r == -EINVAL ? r : -EOPNOTSUPP;
        *ret = (HwtsInfo) {
                .hardware_rx = ts.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE,
                .hardware_tx = ts.so_timestamping & SOF_TIMESTAMPING_TX_HARDWARE,
                .software_tx = ts.so_timestamping & SOF_TIMESTAMPING_TX_SOFTWARE,
                .phc_index = ts.phc_index,
                .tx_types = ts.tx_types,
                .rx_filters = ts.rx_filters,
        };
        snprintf(ret->name, sizeof ret->name, "%s", name);
        return 0;
}

bool hwts_info_usable(const HwtsInfo *info) {
        return info->hardware_rx && info->hardware_tx && info->phc_index >= 0;
}

const char *hwts_describe(const HwtsInfo *info, char buf[static 256]) {
        if (info->hardware_rx && info->hardware_tx)
                snprintf(buf, 256, "%s has hardware timestamping but no PHC to read it with: using the kernel's "
                         "software timestamps", info->name);
        else
                snprintf(buf, 256, "%s has no hardware timestamping (%s): using the kernel's software timestamps",
                         info->name, info->software_tx ? "software only" : "not even software transmit timestamps");
        return buf;
}

static bool offers_filter(const HwtsInfo *info, int filter) {
        return info->rx_filters & (1u << filter);
}

/* The receive filters to try, best first; HWTSTAMP_FILTER_NONE last. */
static const int rx_filter_order[] = { HWTSTAMP_FILTER_NTP_ALL, HWTSTAMP_FILTER_ALL, HWTSTAMP_FILTER_NONE };

int hwts_next_config(const HwtsInfo *info, const struct hwtstamp_config *refused, struct hwtstamp_config *ret) {
        size_t i = 0;

        if (!(info->tx_types & (1u << HWTSTAMP_TX_ON)))
                return -EOPNOTSUPP;
        if (refused) {
                while (i < ELEMENTSOF(rx_filter_order) && rx_filter_order[i] != refused->rx_filter)
                        i++;
                i++;
        }
        for (; i < ELEMENTSOF(rx_filter_order); i++) {
                int filter = rx_filter_order[i];
                if (filter != HWTSTAMP_FILTER_NONE && !offers_filter(info, filter))
                        continue;
                *ret = (struct hwtstamp_config) { .tx_type = HWTSTAMP_TX_ON, .rx_filter = filter };
                return 0;
        }
        return -EOPNOTSUPP;
}

bool hwts_config_has_rx(const struct hwtstamp_config *got) {
        return got->rx_filter == HWTSTAMP_FILTER_ALL || got->rx_filter == HWTSTAMP_FILTER_NTP_ALL;
}

bool hwts_config_has_tx(const struct hwtstamp_config *got) {
        return got->tx_type == HWTSTAMP_TX_ON;
}

const char *hwts_rx_filter_to_string(int filter) {
        return filter == HWTSTAMP_FILTER_NTP_ALL ? "NTP packets"
               : filter == HWTSTAMP_FILTER_ALL   ? "all packets"
               : filter == HWTSTAMP_FILTER_NONE  ? "none"
                                                 : "PTP packets only";
}

int hwts_enable(const HwtsInfo *info, struct hwtstamp_config *ret) {
        struct hwtstamp_config want;
        int r = hwts_next_config(info, NULL, &want);

        while (r >= 0) {
                struct hwtstamp_config got = want;
                r = interface_ioctl(info->name, SIOCSHWTSTAMP, &got);
                if (r >= 0) {
                        *ret = got;
                        return 0;
                }
                /* The driver refuses this filter (ERANGE): ask for the next. */
                if (r != -ERANGE && r != -EINVAL)
                        return r;
                r = hwts_next_config(info, &want, &want);
        }
        return r;
}
