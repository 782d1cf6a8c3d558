/* UDP sockets for NTP: server sockets that answer from the address a
 * request came to, client sockets with a random source port connected to
 * one server, and kernel receive and transmit timestamps. All descriptors are
 * non-blocking and close-on-exec. Functions return 0 or a negative errno. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/timestamping.h"
#include "ntp/ntp-packet.h"
#include "shared/time-util.h"

/* What a socket asks the kernel for, besides software receive timestamps. */
typedef enum UdpTimestamping {
        UDP_TIMESTAMP_TX_KERNEL = 1 << 0,       /* transmit timestamps on the error queue */
        UDP_TIMESTAMP_HARDWARE  = 1 << 1,       /* the network card's, where an interface has them on */
} UdpTimestamping;

typedef struct UdpMessage {
        uint8_t data[NTP_MAX_PACKET_SIZE + 1];
        size_t len;                     /* bytes in data */
        bool truncated;                 /* the datagram was larger than data */
        struct sockaddr_storage peer;
        socklen_t peer_len;
        nsec_t rx_time;                 /* CLOCK_REALTIME: the kernel's, or read after */
        TimestampKind rx_kind;          /* kernel, or daemon: none came */
        PacketTimestamps rx_stamps;     /* as received, hardware included */
        /* The local address the datagram was sent to (for the reply). */
        int local_family;               /* AF_UNSPEC if unknown */
        struct in_pktinfo local4;
        struct in6_pktinfo local6;
} UdpMessage;

static inline bool udp_message_truncated(const UdpMessage *m) {
        return m->truncated || m->len > NTP_MAX_PACKET_SIZE;
}

/* A server socket bound to bind_address (NULL: any) and port, with receive
 * timestamps and packet-info enabled; IPv6 sockets are IPv6-only. */
int udp_server_socket(int family, const char *bind_address, uint16_t port, UdpTimestamping ts, int *ret_fd);
/* Turns on what tempus needs on a socket it did not create (socket
 * activation): receive timestamps and packet info. */
int udp_setup_server_fd(int fd, UdpTimestamping ts);
/* A client socket bound to a random port in the ephemeral range and
 * connected to server, so only the server's datagrams arrive on it. */
int udp_client_socket(const struct sockaddr *server, socklen_t len, UdpTimestamping ts, int *ret_fd);

/* Reads one datagram; -EAGAIN when none is waiting. */
int udp_receive(int fd, UdpMessage *m);
/* Sends buf to the sender of request, from the address it was sent to. */
int udp_reply(int fd, const UdpMessage *request, const void *buf, size_t len);

/* Datagrams moved per recvmmsg()/sendmmsg() call. */
#define UDP_BATCH_MAX 32

/* Reads up to n (at most UDP_BATCH_MAX) datagrams with one system call.
 * Returns how many, or -EAGAIN when none is waiting. */
int udp_receive_batch(int fd, UdpMessage *msgs, size_t n);

typedef struct UdpReply {
        const UdpMessage *request;
        uint8_t data[NTP_MAX_PACKET_SIZE];     /* room for NTS fields */
        size_t len;
        /* Ask the kernel for this datagram's transmit timestamp (server
         * sockets only): it comes back through udp_read_tx_report(). */
        bool tx_timestamp;
} UdpReply;

/* Sends each reply to the sender of its request (as udp_reply()), up to
 * UDP_BATCH_MAX with one system call; a reply with tx_timestamp asks for
 * the hardware transmit timestamp too when ts has UDP_TIMESTAMP_HARDWARE.
 * Returns how many were sent. */
int udp_reply_batch(int fd, const UdpReply *replies, size_t n, UdpTimestamping ts);
/* Sends from a server socket to `to` (symmetric mode), asking the kernel
 * for the transmit timestamp (read back with udp_read_tx_reports()); *ret_tx
 * is CLOCK_REALTIME just before. */
int udp_send_to(int fd, const struct sockaddr *to, socklen_t to_len, const void *buf, size_t len, nsec_t *ret_tx);
/* Sends on a connected socket; *ret_tx is CLOCK_REALTIME just before. */
int udp_send(int fd, const void *buf, size_t len, nsec_t *ret_tx);
/* What the error queue of a server socket gives back for a reply sent with
 * tx_timestamp: its transmit timestamps (the kernel's software one and the
 * card's hardware one come as separate entries) and the reply itself, with
 * the address it went to. */
typedef struct UdpTxReport {
        PacketTimestamps stamps;
        uint8_t data[NTP_MAX_PACKET_SIZE];
        size_t len;
        struct sockaddr_storage dest;
} UdpTxReport;

/* Reads up to n (at most UDP_BATCH_MAX) entries of a server socket's error
 * queue with one system call, and returns how many were timestamp reports
 * of replies (entries without a timestamp or a payload are skipped), or
 * -EAGAIN when the queue is empty. Not reentrant: one static buffer. */
int udp_read_tx_reports(int fd, UdpTxReport *reports, size_t n);

/* Reads one entry of a client socket's error queue: the transmit
 * timestamps of a datagram sent on it (the kernel's software one or the
 * card's hardware one). -EAGAIN when the queue is empty, -ENOMSG for an
 * entry without one. */
int udp_read_tx_timestamp(int fd, PacketTimestamps *ret);
