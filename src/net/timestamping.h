/* Which timestamp of a datagram to use. The kernel hands a datagram's
 * timestamps over as control messages: its software timestamp
 * (SCM_TIMESTAMPNS, or the first of SCM_TIMESTAMPING's three), the network
 * card's raw hardware timestamp (the third, on the card's PTP hardware
 * clock) and the interface that saw the datagram (IP_PKTINFO, IPV6_PKTINFO
 * or SCM_TIMESTAMPING_PKTINFO). A hardware timestamp is used when the
 * interface's clock converts it to system time, else the kernel's software
 * timestamp, else none (the daemon reads the clock itself). Pure: the
 * conversion is the caller's, through a function pointer. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "shared/time-util.h"
#include "shared/timestamp-kind.h"

typedef struct PacketTimestamps {
        nsec_t software;                /* CLOCK_REALTIME; 0: none */
        nsec_t hardware;                /* raw, on the card's clock; 0: none */
        int ifindex;                    /* the interface; 0: unknown */
        bool tx_report;                 /* an error queue entry reporting a transmit timestamp */
} PacketTimestamps;

/* Fills *ret from the control messages of mh (received with recvmsg(),
 * from the socket or its error queue). Never fails: what is missing stays
 * 0. */
void packet_timestamps_parse(struct msghdr *mh, PacketTimestamps *ret);

/* Converts raw hardware time phc of interface ifindex to system time.
 * Returns 0, or a negative errno when that interface's clock cannot (yet)
 * convert it. */
typedef int (*HardwareTimeConvert)(void *userdata, int ifindex, nsec_t phc, nsec_t *ret_sys);

typedef struct HardwareClockConverter {
        HardwareTimeConvert convert;
        void *userdata;
} HardwareClockConverter;

/* The timestamp to use and its kind: hardware when converter (may be NULL)
 * converts it, else the kernel's software one. TIMESTAMP_DAEMON, with
 * *ret_time untouched, when neither is there. */
TimestampKind packet_timestamps_choose(const PacketTimestamps *ts, const HardwareClockConverter *converter,
                                       nsec_t *ret_time);
