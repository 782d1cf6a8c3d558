/* Timestamping capabilities of network interfaces (see hwts.h). */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/hwts.h"
#include "shared/macro.h"

int hwts_interface_info(const char *name, HwtsInfo *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct ethtool_ts_info ts = { .cmd = ETHTOOL_GET_TS_INFO };
        struct ifreq ifr = {};

        if (strlen(name) >= sizeof ifr.ifr_name)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strncpy(ifr.ifr_name, name, sizeof ifr.ifr_name - 1);
        ifr.ifr_data = (void *) &ts;
        if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
                return errno == ENODEV ? -ENODEV : -EOPNOTSUPP;
        *ret = (HwtsInfo) {
                .hardware_rx = ts.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE,
                .hardware_tx = ts.so_timestamping & SOF_TIMESTAMPING_TX_HARDWARE,
                .software_tx = ts.so_timestamping & SOF_TIMESTAMPING_TX_SOFTWARE,
                .phc_index = ts.phc_index,
        };
        snprintf(ret->name, sizeof ret->name, "%s", name);
        return 0;
}

const char *hwts_describe(const HwtsInfo *info, char buf[static 256]) {
        if (info->hardware_rx && info->hardware_tx && info->phc_index >= 0)
                snprintf(buf, 256, "%s has hardware timestamping (PHC /dev/ptp%d), which tempusd does not use "
                         "yet: using the kernel's software timestamps", info->name, info->phc_index);
        else
                snprintf(buf, 256, "%s has no hardware timestamping (%s): using the kernel's software timestamps",
                         info->name, info->software_tx ? "software only" : "not even software transmit timestamps");
        return buf;
}
