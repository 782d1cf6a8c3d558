/* Choosing among a datagram's timestamps (see timestamping.h). */
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "net/timestamping.h"

static nsec_t timespec_or_zero(const struct timespec *ts) {
        return ts->tv_sec == 0 && ts->tv_nsec == 0 ? 0 : timespec_to_nsec(ts);
}

/* SCM_TIMESTAMPING: ts[0] software, ts[1] unused, ts[2] raw hardware. */
static void parse_timestamping(const struct cmsghdr *c, PacketTimestamps *ret) {
        struct scm_timestamping t;

        if (c->cmsg_len < CMSG_LEN(sizeof t))
                return;
        memcpy(&t, CMSG_DATA(c), sizeof t);
        if (ret->software == 0)
                ret->software = timespec_or_zero(&t.ts[0]);
        if (ret->hardware == 0)
                ret->hardware = timespec_or_zero(&t.ts[2]);
}

static void parse_socket_level(const struct cmsghdr *c, PacketTimestamps *ret, int *ts_ifindex) {
        if (c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                ret->software = timespec_or_zero(&ts);
        } else if (c->cmsg_type == SCM_TIMESTAMPING)
                parse_timestamping(c, ret);
        else if (c->cmsg_type == SCM_TIMESTAMPING_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct scm_ts_pktinfo))) {
                struct scm_ts_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                *ts_ifindex = (int) pi.if_index;
        }
}

static void parse_ip_level(const struct cmsghdr *c, PacketTimestamps *ret) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ret->ifindex = pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                ret->ifindex = (int) pi.ipi6_ifindex;
        } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err e;
                if (c->cmsg_len < CMSG_LEN(sizeof e))
                        return;
                memcpy(&e, CMSG_DATA(c), sizeof e);
                ret->tx_report = e.ee_origin == SO_EE_ORIGIN_TIMESTAMPING;
        }
}

void packet_timestamps_parse(struct msghdr *mh, PacketTimestamps *ret) {
        int ts_ifindex = 0;

        *ret = (PacketTimestamps) {};
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level == SOL_SOCKET)
                        parse_socket_level(c, ret, &ts_ifindex);
                else
                        parse_ip_level(c, ret);
        }
        /* The device that took the hardware timestamp, which can be below
         * the one the address is on (a VLAN, a bond). */
        if (ts_ifindex > 0)
                ret->ifindex = ts_ifindex;
}

TimestampKind packet_timestamps_choose(const PacketTimestamps *ts, const HardwareClockConverter *converter,
                                       nsec_t *ret_time) {
        nsec_t sys;

        if (ts->hardware != 0 && ts->ifindex > 0 && converter && converter->convert &&
            converter->convert(converter->userdata, ts->ifindex, ts->hardware, &sys) == 0) {
                *ret_time = sys;
                return TIMESTAMP_HARDWARE;
        }
        if (ts->software != 0) {
                *ret_time = ts->software;
                return TIMESTAMP_KERNEL;
        }
        return TIMESTAMP_DAEMON;
}
