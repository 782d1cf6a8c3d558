/* What a network interface offers for timestamping ([Clock] HWTimestamp=),
 * as `ethtool -T` shows it: asked of the driver with ETHTOOL_GET_TS_INFO.
 * Functions return 0 or a negative errno. */
#pragma once

#include <stdbool.h>
#include <net/if.h>

typedef struct HwtsInfo {
        char name[IF_NAMESIZE];
        bool hardware_rx;               /* SOF_TIMESTAMPING_RX_HARDWARE */
        bool hardware_tx;               /* SOF_TIMESTAMPING_TX_HARDWARE */
        bool software_tx;               /* SOF_TIMESTAMPING_TX_SOFTWARE */
        int phc_index;                  /* /dev/ptpN; -1: none */
} HwtsInfo;

/* -ENODEV for an interface that does not exist, -EOPNOTSUPP when the
 * driver does not answer. */
int hwts_interface_info(const char *name, HwtsInfo *ret);

/* A sentence for the log: what the interface offers and what tempusd uses
 * of it. buf must hold 256 bytes. */
const char *hwts_describe(const HwtsInfo *info, char buf[static 256]);
