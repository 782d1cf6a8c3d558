/* UDP sockets for NTP (see udp.h). */
#include <arpa/inet.h>
#include <assert.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "net/socket-util.h"
#include "net/udp-frame.h"
#include "net/udp.h"
#include "shared/sockaddr-util.h"
#include "shared/macro.h"

/* Where random client ports are drawn from (IANA dynamic range). */
#define CLIENT_PORT_MIN 49152
#define CLIENT_PORT_MAX 65535
#define CLIENT_PORT_TRIES 16

static int enable_rx_timestamps(int fd) {
        return socket_set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
}

/* Hardware timestamps, taken by the network card where an interface has
 * them on (SIOCSHWTSTAMP) and reported raw, with the interface they came
 * from. */
#define HARDWARE_RX_FLAGS (SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_OPT_PKTINFO)
/* Transmit timestamps on the error queue carry IP_PKTINFO (which names the
 * interface) only with OPT_CMSG. */
#define HARDWARE_TX_FLAGS (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_OPT_CMSG)

/* Linux 6.7's SOF_TIMESTAMPING_OPT_RX_FILTER: report software timestamps
 * only where they were asked for, so received datagrams keep the one
 * SO_TIMESTAMPNS gives. */
#define TIMESTAMPING_OPT_RX_FILTER (1 << 17)

static int enable_pktinfo(int fd, int family) {
        if (family == AF_INET)
                return socket_set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
        if (family == AF_INET6)
                return socket_set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        return 0;
}

/* The SO_TIMESTAMPING flags of a client socket: software transmit
 * timestamps, taken by the kernel as the datagram leaves for the device and
 * returned on the error queue without the payload; the card's own with
 * UDP_TIMESTAMP_HARDWARE. */
static uint32_t client_timestamping_flags(UdpTimestamping ts) {
        uint32_t flags = 0;

        if (ts & UDP_TIMESTAMP_TX_KERNEL)
                flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
        if (ts & UDP_TIMESTAMP_HARDWARE)
                flags |= HARDWARE_RX_FLAGS | SOF_TIMESTAMPING_SOFTWARE;
        if ((ts & UDP_TIMESTAMP_HARDWARE) && (ts & UDP_TIMESTAMP_TX_KERNEL))
                flags |= HARDWARE_TX_FLAGS;
        return flags;
}

static void enable_client_timestamping(int fd, int family, UdpTimestamping ts) {
        uint32_t flags = client_timestamping_flags(ts);

        if (flags == 0)
                return;
        /* Without them (an old kernel, a sandbox that filters the option)
         * the transmit time read before send() stands. */
        if (socket_set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, (int) flags) < 0)
                return;
        if (flags & SOF_TIMESTAMPING_OPT_CMSG)
                (void) enable_pktinfo(fd, family);
}

/* A server socket reports software timestamps but takes them only for the
 * replies that ask (udp_reply_batch() with tx_timestamp): a basic client's
 * reply costs nothing more. The error queue returns the whole packet, to
 * tell which reply a timestamp is for. Best effort: older kernels may
 * refuse it, and the transmit time read before sending stands. */
static void enable_server_timestamping(int fd, UdpTimestamping ts) {
        uint32_t flags = 0;

        if (ts & UDP_TIMESTAMP_TX_KERNEL)
                flags |= SOF_TIMESTAMPING_SOFTWARE;
        if (ts & UDP_TIMESTAMP_HARDWARE)
                flags |= SOF_TIMESTAMPING_SOFTWARE | HARDWARE_RX_FLAGS | SOF_TIMESTAMPING_OPT_CMSG;
        if (flags == 0)
                return;
        if (socket_set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, (int) (flags | TIMESTAMPING_OPT_RX_FILTER)) < 0)
                (void) socket_set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, (int) flags);
}

static int socket_family(int fd) {
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        if (getsockname(fd, (struct sockaddr *) &a, &len) < 0)
                return -errno;
        return a.ss_family;
}

int udp_setup_server_fd(int fd, UdpTimestamping ts) {
        int r = enable_rx_timestamps(fd);
        if (r < 0)
                return r;
        enable_server_timestamping(fd, ts);
        int family = socket_family(fd);
        return family < 0 ? family : enable_pktinfo(fd, family);
}

int udp_server_socket(int family, const char *bind_address, uint16_t port, UdpTimestamping ts, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;

        int r = socket_bound(family, SOCK_DGRAM, 0, bind_address, port, &fd);
        if (r < 0)
                return r;
        r = udp_setup_server_fd(fd, ts);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static uint16_t random_port(void) {
        uint16_t v = 0;
        (void) getrandom(&v, sizeof v, 0);
        return CLIENT_PORT_MIN + v % (CLIENT_PORT_MAX - CLIENT_PORT_MIN + 1);
}

static int bind_random_port(int fd, int family) {
        struct sockaddr_storage a;
        socklen_t len;

        for (int i = 0; i < CLIENT_PORT_TRIES; i++) {
                int r = sockaddr_make(family, NULL, random_port(), &a, &len);
                if (r < 0)
                        return r;
                if (bind(fd, (struct sockaddr *) &a, len) >= 0)
                        return 0;
                if (errno != EADDRINUSE)
                        return -errno;
        }
        /* Crowded range: let the kernel pick (it randomises too). */
        return 0;
}

int udp_client_socket(const struct sockaddr *server, socklen_t len, UdpTimestamping ts, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = socket(server->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        r = bind_random_port(fd, server->sa_family);
        if (r < 0)
                return r;
        r = enable_rx_timestamps(fd);
        if (r < 0)
                return r;
        enable_client_timestamping(fd, server->sa_family, ts);
        if (connect(fd, server, len) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The local address a datagram came to, for the reply. */
static void read_local_address(struct msghdr *mh, UdpMessage *m) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                        memcpy(&m->local4, CMSG_DATA(c), sizeof m->local4);
                        m->local_family = AF_INET;
                } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                        memcpy(&m->local6, CMSG_DATA(c), sizeof m->local6);
                        m->local_family = AF_INET6;
                }
        }
}

typedef union UdpReceiveControl {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct scm_timestamping)) +
                    CMSG_SPACE(sizeof(struct scm_ts_pktinfo)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) +
                    CMSG_SPACE(sizeof(struct in_pktinfo))];
} UdpReceiveControl;

typedef union UdpReplyControl {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
} UdpReplyControl;

static void receive_prepare(UdpMessage *m, struct msghdr *mh, struct iovec *iov, UdpReceiveControl *control) {
        *iov = (struct iovec) { .iov_base = m->data, .iov_len = sizeof m->data };
        *mh = (struct msghdr) {
                .msg_name = &m->peer,
                .msg_namelen = sizeof m->peer,
                .msg_iov = iov,
                .msg_iovlen = 1,
                .msg_control = control,
                .msg_controllen = sizeof *control,
        };
}

static void receive_finish(UdpMessage *m, struct msghdr *mh, size_t n) {
        m->len = MIN(n, sizeof m->data);
        m->truncated = (mh->msg_flags & MSG_TRUNC) || n > sizeof m->data;
        m->peer_len = mh->msg_namelen;
        m->local_family = AF_UNSPEC;
        read_local_address(mh, m);
        /* Hardware timestamps wait for the daemon, which converts them. */
        packet_timestamps_parse(mh, &m->rx_stamps);
        m->rx_kind = packet_timestamps_choose(&m->rx_stamps, NULL, &m->rx_time);
        if (m->rx_kind == TIMESTAMP_DAEMON)
                m->rx_time = now_realtime();
}

int udp_receive(int fd, UdpMessage *m) {
        UdpReceiveControl control;
        struct iovec iov;
        struct msghdr mh;

        receive_prepare(m, &mh, &iov, &control);
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        receive_finish(m, &mh, (size_t) n);
        return 0;
}

int udp_receive_batch(int fd, UdpMessage *msgs, size_t n) {
        UdpReceiveControl control[UDP_BATCH_MAX];
        struct mmsghdr mm[UDP_BATCH_MAX];
        struct iovec iov[UDP_BATCH_MAX];

        n = MIN(n, (size_t) UDP_BATCH_MAX);
        for (size_t i = 0; i < n; i++) {
                receive_prepare(&msgs[i], &mm[i].msg_hdr, &iov[i], &control[i]);
                mm[i].msg_len = 0;
        }
        int k = recvmmsg(fd, mm, (unsigned) n, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (k < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        for (int i = 0; i < k; i++)
                receive_finish(&msgs[i], &mm[i].msg_hdr, mm[i].msg_len);
        return k;
}

/* Appends one control message to mh, whose control buffer is control. */
static void add_control(struct msghdr *mh, UdpReplyControl *control, int level, int type, const void *data,
                        size_t len) {
        size_t used = mh->msg_controllen;

        assert(used + CMSG_SPACE(len) <= sizeof control->buf);
        mh->msg_control = control;
        mh->msg_controllen = used + CMSG_SPACE(len);
        struct cmsghdr *c = (struct cmsghdr *) (control->buf + used);
        *c = (struct cmsghdr) { .cmsg_len = CMSG_LEN(len), .cmsg_level = level, .cmsg_type = type };
        memcpy(CMSG_DATA(c), data, len);
}

/* Answer from the address the request was sent to (matters for hosts with
 * several addresses on a wildcard socket), and ask for a transmit
 * timestamp when wanted. */
static void reply_prepare(const UdpMessage *request, const void *buf, size_t len, uint32_t tx_flags,
                          struct msghdr *mh, struct iovec *iov, UdpReplyControl *control) {
        *iov = (struct iovec) { .iov_base = (void *) buf, .iov_len = len };
        *mh = (struct msghdr) {
                .msg_name = (void *) &request->peer,
                .msg_namelen = request->peer_len,
                .msg_iov = iov,
                .msg_iovlen = 1,
        };
        memset(control, 0, sizeof *control);
        if (request->local_family == AF_INET) {
                struct in_pktinfo pi = { .ipi_spec_dst = request->local4.ipi_addr };
                add_control(mh, control, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
        } else if (request->local_family == AF_INET6) {
                struct in6_pktinfo pi = { .ipi6_addr = request->local6.ipi6_addr,
                                          .ipi6_ifindex = request->local6.ipi6_ifindex };
                add_control(mh, control, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
        }
        if (tx_flags != 0)
                add_control(mh, control, SOL_SOCKET, SO_TIMESTAMPING, &tx_flags, sizeof tx_flags);
}

int udp_reply(int fd, const UdpMessage *request, const void *buf, size_t len) {
        UdpReplyControl control;
        struct iovec iov;
        struct msghdr mh;

        reply_prepare(request, buf, len, 0, &mh, &iov, &control);
        return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int udp_reply_batch(int fd, const UdpReply *replies, size_t n, UdpTimestamping ts) {
        uint32_t tx_flags = SOF_TIMESTAMPING_TX_SOFTWARE | (ts & UDP_TIMESTAMP_HARDWARE ? SOF_TIMESTAMPING_TX_HARDWARE : 0);
        UdpReplyControl control[UDP_BATCH_MAX];
        struct mmsghdr mm[UDP_BATCH_MAX];
        struct iovec iov[UDP_BATCH_MAX];
        size_t done = 0;

        n = MIN(n, (size_t) UDP_BATCH_MAX);
        for (size_t i = 0; i < n; i++) {
                reply_prepare(replies[i].request, replies[i].data, replies[i].len,
                              replies[i].tx_timestamp ? tx_flags : 0, &mm[i].msg_hdr, &iov[i], &control[i]);
                mm[i].msg_len = 0;
        }
        /* A failed datagram ends sendmmsg(); skip it and send the rest. */
        while (done < n) {
                int k = sendmmsg(fd, mm + done, (unsigned) (n - done), MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        done++;
                        continue;
                }
                done += (size_t) k;
        }
        return (int) done;
}

int udp_send_to(int fd, const struct sockaddr *to, socklen_t to_len, const void *buf, size_t len, nsec_t *ret_tx) {
        uint32_t flags = SOF_TIMESTAMPING_TX_SOFTWARE;
        UdpReplyControl control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_name = (void *) to, .msg_namelen = to_len, .msg_iov = &iov, .msg_iovlen = 1 };

        add_control(&mh, &control, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags);
        nsec_t t = now_realtime();
        if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;
        *ret_tx = t;
        return 0;
}

int udp_send(int fd, const void *buf, size_t len, nsec_t *ret_tx) {
        /* Read the clock before sending: on loopback the reply can be
         * stamped by the server before send() even returns, and a transmit
         * time taken afterwards would make the delay negative. */
        nsec_t t = now_realtime();
        if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;
        *ret_tx = t;
        return 0;
}

int udp_read_tx_timestamp(int fd, PacketTimestamps *ret) {
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct sock_extended_err)) +
                            CMSG_SPACE(sizeof(struct sockaddr_in6)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
        } control;
        uint8_t data[NTP_MAX_PACKET_SIZE];
        struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof control,
        };

        if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        packet_timestamps_parse(&mh, ret);
        return ret->tx_report && (ret->software != 0 || ret->hardware != 0) ? 0 : -ENOMSG;
}

typedef union UdpTxControl {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct sock_extended_err)) +
                    CMSG_SPACE(sizeof(struct sockaddr_in6)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
} UdpTxControl;

/* Room for a frame's headers around the payload. */
#define TX_FRAME_SIZE (NTP_MAX_PACKET_SIZE + 128)

static int tx_report_finish(struct msghdr *mh, const uint8_t *frame, size_t n, UdpTxReport *ret) {
        const uint8_t *payload;
        size_t len;

        packet_timestamps_parse(mh, &ret->stamps);
        if (!ret->stamps.tx_report || (ret->stamps.software == 0 && ret->stamps.hardware == 0) ||
            (mh->msg_flags & MSG_TRUNC))
                return -ENOMSG;
        if (udp_frame_parse(frame, n, &payload, &len, &ret->dest) < 0 || len > sizeof ret->data)
                return -ENOMSG;
        memcpy(ret->data, payload, len);
        ret->len = len;
        return 0;
}

/* One recvmsg() per entry: recvmmsg() on the error queue measured slower. */
int udp_read_tx_reports(int fd, UdpTxReport *reports, size_t n) {
        static uint8_t frame[TX_FRAME_SIZE];
        UdpTxControl control;
        int good = 0;

        n = MIN(n, (size_t) UDP_BATCH_MAX);
        for (size_t i = 0; i < n; i++) {
                struct iovec iov = { .iov_base = frame, .iov_len = sizeof frame };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof control };
                ssize_t k = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno != EWOULDBLOCK)
                                return -errno;
                        return i == 0 ? -EAGAIN : good;
                }
                if (tx_report_finish(&mh, frame, (size_t) k, &reports[good]) == 0)
                        good++;
        }
        return good;
}
