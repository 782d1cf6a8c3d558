/* Tests for src/net on loopback: server and client sockets, kernel
 * receive and transmit timestamps, truncation, connected-socket filtering, random ports, name
 * resolution through sd-event, and sockets passed by systemd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/listen.h"
#include "net/resolve.h"
#include "net/hwts.h"
#include "net/udp-frame.h"
#include "net/udp.h"
#include "shared/macro.h"

static uint16_t local_port(int fd) {
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(uint16_t port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        return a;
}

static void wait_readable(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 2000), 1);
}

static void a_request_and_reply_cross_loopback_with_kernel_timestamps(void **state) {
        _cleanup_close_ int server = -EBADF, client = -EBADF;
        UdpMessage m;
        nsec_t tx;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);

        assert_int_equal(udp_send(client, "ping", 4, &tx), 0);
        wait_readable(server);
        assert_int_equal(udp_receive(server, &m), 0);
        assert_int_equal(m.len, 4);
        assert_false(m.truncated);
        assert_memory_equal(m.data, "ping", 4);
        /* Kernel receive timestamp: after the send, and recent. */
        assert_true(m.rx_time >= tx && m.rx_time - tx < NSEC_PER_SEC);
        assert_int_equal(m.local_family, AF_INET);

        assert_int_equal(udp_reply(server, &m, "pong", 4), 0);
        wait_readable(client);
        UdpMessage r;
        assert_int_equal(udp_receive(client, &r), 0);
        assert_memory_equal(r.data, "pong", 4);
        assert_int_equal(udp_receive(client, &r), -EAGAIN);
}

static void a_client_gets_the_kernel_transmit_timestamp(void **state) {
        _cleanup_close_ int server = -EBADF, client = -EBADF;
        UdpMessage m;
        nsec_t before;
        PacketTimestamps kernel_tx;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);
        assert_int_equal(udp_read_tx_timestamp(client, &kernel_tx), -EAGAIN);

        assert_int_equal(udp_send(client, "ping", 4, &before), 0);
        wait_readable(server);
        assert_int_equal(udp_receive(server, &m), 0);
        /* Taken as the datagram left: after the time read before sending,
         * no later than the server's receive timestamp. */
        assert_int_equal(udp_read_tx_timestamp(client, &kernel_tx), 0);
        assert_true(kernel_tx.tx_report && kernel_tx.hardware == 0);
        assert_true(kernel_tx.software >= before && kernel_tx.software <= m.rx_time);
        assert_int_equal(udp_read_tx_timestamp(client, &kernel_tx), -EAGAIN);

        /* The reply still carries its receive timestamp. */
        assert_int_equal(udp_reply(server, &m, "pong", 4), 0);
        wait_readable(client);
        UdpMessage r;
        assert_int_equal(udp_receive(client, &r), 0);
        assert_true(r.rx_time >= kernel_tx.software && r.rx_time - kernel_tx.software < NSEC_PER_SEC);
}

/* A reply sent with tx_timestamp comes back on the server socket's error
 * queue with the kernel's transmit time, its payload and its destination;
 * one sent without does not. */
static void a_server_reads_back_the_transmit_time_of_replies_that_ask(void **state) {
        _cleanup_close_ int server = -EBADF, client = -EBADF;
        UdpMessage m;
        UdpTxReport report;
        UdpReply reply = { .len = 4, .tx_timestamp = true };
        nsec_t tx;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);
        assert_int_equal(udp_send(client, "ping", 4, &tx), 0);
        wait_readable(server);
        assert_int_equal(udp_receive(server, &m), 0);
        assert_int_equal(m.rx_kind, TIMESTAMP_KERNEL);

        reply.request = &m;
        memcpy(reply.data, "pong", 4);
        nsec_t before = now_realtime();
        assert_int_equal(udp_reply_batch(server, &reply, 1, UDP_TIMESTAMP_TX_KERNEL), 1);
        wait_readable(client);
        assert_int_equal(udp_read_tx_reports(server, &report, 1), 1);
        assert_true(report.stamps.tx_report);
        assert_true(report.stamps.software >= before && report.stamps.software - before < NSEC_PER_SEC);
        assert_int_equal(report.len, 4);
        assert_memory_equal(report.data, "pong", 4);
        assert_int_equal(((struct sockaddr_in *) &report.dest)->sin_port, ((struct sockaddr_in *) &m.peer)->sin_port);
        assert_int_equal(udp_read_tx_reports(server, &report, 1), -EAGAIN);

        reply.tx_timestamp = false;
        assert_int_equal(udp_reply_batch(server, &reply, 1, UDP_TIMESTAMP_TX_KERNEL), 1);
        wait_readable(client);
        assert_int_equal(udp_read_tx_reports(server, &report, 1), -EAGAIN);
}

/* Loopback has software timestamps only, as `ethtool -T lo` says. */
static void loopback_offers_no_hardware_timestamps(void **state) {
        HwtsInfo info;
        char text[256];

        assert_int_equal(hwts_interface_info("lo", &info), 0);
        assert_false(info.hardware_rx);
        assert_false(info.hardware_tx);
        assert_true(info.software_tx);
        assert_int_equal(info.phc_index, -1);
        assert_string_equal(hwts_describe(&info, text),
                            "lo has no hardware timestamping (software only): using the kernel's software timestamps");
        assert_int_equal(hwts_interface_info("nosuchif0", &info), -ENODEV);
}

/* The error queue hands back frames as the device saw them. */
static void udp_payloads_are_found_in_frames_and_packets(void **state) {
        static const uint8_t ipv4[] = {
                0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 192, 0, 2, 7,
                0x30, 0x39, 0xc3, 0x50, 0, 12, 0, 0, 'd', 'a', 't', 'a',
        };
        uint8_t frame[14 + sizeof ipv4] = { [12] = 0x08, [13] = 0x00 };
        const uint8_t *payload;
        size_t len;
        struct sockaddr_storage dest;

        memcpy(frame + 14, ipv4, sizeof ipv4);
        for (int i = 0; i < 2; i++) {
                const uint8_t *data = i == 0 ? ipv4 : frame;
                size_t n = i == 0 ? sizeof ipv4 : sizeof frame;
                assert_int_equal(udp_frame_parse(data, n, &payload, &len, &dest), 0);
                assert_int_equal(len, 4);
                assert_memory_equal(payload, "data", 4);
                struct sockaddr_in *a = (struct sockaddr_in *) &dest;
                assert_int_equal(a->sin_family, AF_INET);
                assert_int_equal(ntohs(a->sin_port), 50000);
                assert_int_equal(ntohl(a->sin_addr.s_addr), 0xc0000207);
        }
        /* Truncated: the UDP length runs past the end. */
        assert_int_equal(udp_frame_parse(ipv4, sizeof ipv4 - 1, &payload, &len, &dest), -EBADMSG);
        assert_int_equal(udp_frame_parse((const uint8_t *) "data", 4, &payload, &len, &dest), -EBADMSG);
}

static void batches_are_received_and_answered_with_one_call_each(void **state) {
        _cleanup_close_ int server = -EBADF, client = -EBADF;
        static UdpMessage batch[UDP_BATCH_MAX];
        UdpReply replies[3];
        nsec_t tx;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);
        assert_int_equal(udp_receive_batch(server, batch, UDP_BATCH_MAX), -EAGAIN);

        for (char c = 'a'; c <= 'c'; c++)
                assert_int_equal(udp_send(client, &c, 1, &tx), 0);
        wait_readable(server);
        assert_int_equal(udp_receive_batch(server, batch, UDP_BATCH_MAX), 3);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(batch[i].len, 1);
                assert_int_equal(batch[i].data[0], 'a' + i);
                assert_true(batch[i].rx_time >= tx - NSEC_PER_SEC && batch[i].rx_time <= tx + NSEC_PER_SEC);
                replies[i] = (UdpReply) { .request = &batch[i], .len = 1 };
                replies[i].data[0] = (uint8_t) ('A' + i);
        }
        assert_int_equal(udp_reply_batch(server, replies, 3, UDP_TIMESTAMP_TX_KERNEL), 3);
        for (int i = 0; i < 3; i++) {
                UdpMessage r;
                wait_readable(client);
                assert_int_equal(udp_receive(client, &r), 0);
                assert_int_equal(r.data[0], 'A' + i);
        }
}

static void oversized_datagrams_are_flagged(void **state) {
        _cleanup_close_ int server = -EBADF, client = -EBADF;
        uint8_t big[2000] = {};
        UdpMessage m;
        nsec_t tx;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);
        assert_int_equal(udp_send(client, big, sizeof big, &tx), 0);
        wait_readable(server);
        assert_int_equal(udp_receive(server, &m), 0);
        assert_true(udp_message_truncated(&m));
}

static void a_connected_client_hears_only_its_server(void **state) {
        _cleanup_close_ int server = -EBADF, other = -EBADF, client = -EBADF;
        UdpMessage m;

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &server), 0);
        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &other), 0);
        struct sockaddr_in to = loopback(local_port(server));
        assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &client), 0);

        struct sockaddr_in back = loopback(local_port(client));
        assert_int_equal(sendto(other, "spoof", 5, 0, (struct sockaddr *) &back, sizeof back), 5);
        assert_int_equal(sendto(server, "real", 4, 0, (struct sockaddr *) &back, sizeof back), 4);
        wait_readable(client);
        assert_int_equal(udp_receive(client, &m), 0);
        assert_memory_equal(m.data, "real", 4);
        assert_int_equal(udp_receive(client, &m), -EAGAIN);
}

static void client_ports_are_random(void **state) {
        struct sockaddr_in to = loopback(123);
        uint16_t ports[8];
        unsigned distinct = 0;

        for (int i = 0; i < 8; i++) {
                _cleanup_close_ int fd = -EBADF;
                assert_int_equal(udp_client_socket((struct sockaddr *) &to, sizeof to, UDP_TIMESTAMP_TX_KERNEL, &fd), 0);
                ports[i] = local_port(fd);
                assert_true(ports[i] >= 1024);
        }
        for (int i = 0; i < 8; i++) {
                bool seen = false;
                for (int j = 0; j < i; j++)
                        seen = seen || ports[j] == ports[i];
                distinct += !seen;
        }
        assert_true(distinct >= 6);
}

static void ipv6_server_sockets_are_v6_only(void **state) {
        _cleanup_close_ int fd = -EBADF;
        int v = 0;
        socklen_t len = sizeof v;

        /* Without IPv6 on lo this proves nothing: it is skipped, and a
         * skipped test fails test/run-all.sh. */
        if (udp_server_socket(AF_INET6, "::1", 0, UDP_TIMESTAMP_TX_KERNEL, &fd) < 0) {
                print_message("no IPv6 loopback here\n");
                skip();
        }
        assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
        assert_int_equal(v, 1);
}

static void bad_bind_addresses_are_refused(void **state) {
        int fd = -EBADF;
        assert_int_equal(udp_server_socket(AF_INET, "not-an-address", 0, UDP_TIMESTAMP_TX_KERNEL, &fd), -EINVAL);
}

typedef struct Resolved {
        int error;
        size_t n;
        int family;
        bool called;
} Resolved;

static void on_resolved(const ResolveResult *result, void *userdata) {
        Resolved *r = userdata;
        r->called = true;
        r->error = result->error;
        r->n = result->n;
        r->family = result->n > 0 ? result->addrs[0].ss_family : 0;
}

static Resolved resolve(const char *host) {
        sd_event *e = NULL;
        ResolveQuery *q = NULL;
        Resolved r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(resolve_start(e, host, 123, on_resolved, &r, &q), 0);
        /* Never inside resolve_start(). */
        assert_false(r.called);
        for (int i = 0; i < 100 && !r.called; i++)
                assert_true(sd_event_run(e, 100000) >= 0);
        sd_event_unref(e);
        return r;
}

static void numeric_addresses_resolve_at_once(void **state) {
        Resolved r = resolve("127.0.0.1");
        assert_true(r.called);
        assert_int_equal(r.error, 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.family, AF_INET);
        r = resolve("::1");
        assert_int_equal(r.family, AF_INET6);
}

static void names_resolve_in_the_background(void **state) {
        Resolved r = resolve("localhost");
        assert_true(r.called);
        assert_int_equal(r.error, 0);
        assert_true(r.n >= 1);
}

static void a_cancelled_query_never_calls_back(void **state) {
        sd_event *e = NULL;
        ResolveQuery *q = NULL;
        Resolved r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(resolve_start(e, "localhost", 123, on_resolved, &r, &q), 0);
        resolve_cancel(q);
        for (int i = 0; i < 5; i++)
                sd_event_run(e, 50000);
        assert_false(r.called);
        sd_event_unref(e);
        usleep(200000);         /* let the worker finish and free the query */
}

typedef struct Owner {
        ResolveQuery *query;
        bool called;
} Owner;

/* A handler that tears its owner down cancels the query it is called for. */
static void on_resolved_cancel(const ResolveResult *result, void *userdata) {
        Owner *o = userdata;
        o->called = true;
        o->query = resolve_cancel(o->query);
}

static void a_handler_may_cancel_its_own_query(void **state) {
        sd_event *e = NULL;
        Owner o = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(resolve_start(e, "127.0.0.1", 123, on_resolved_cancel, &o, &o.query), 0);
        for (int i = 0; i < 5 && !o.called; i++)
                assert_true(sd_event_run(e, 50000) >= 0);
        assert_true(o.called);
        assert_null(o.query);
        sd_event_unref(e);
}

static void sockets_passed_by_systemd_are_taken(void **state) {
        int fd = -EBADF;
        char pid[32];

        assert_int_equal(udp_server_socket(AF_INET, "127.0.0.1", 0, UDP_TIMESTAMP_TX_KERNEL, &fd), 0);
        /* Move it to the first activation descriptor, as systemd would. */
        assert_int_equal(dup2(fd, 3), 3);
        if (fd != 3)
                close(fd);
        snprintf(pid, sizeof pid, "%d", getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "1", 1);

        _cleanup_free_ int *fds = NULL;
        size_t n = 0;
        assert_int_equal(listen_fds_collect(UDP_TIMESTAMP_TX_KERNEL, &fds, &n, NULL, NULL), 0);
        assert_int_equal(n, 1);
        assert_int_equal(fds[0], 3);
        /* The environment is consumed. */
        assert_null(getenv("LISTEN_FDS"));
        close(3);
}

static void without_systemd_there_are_no_passed_sockets(void **state) {
        _cleanup_free_ int *fds = NULL;
        size_t n = 7;

        unsetenv("LISTEN_FDS");
        assert_int_equal(listen_fds_collect(UDP_TIMESTAMP_TX_KERNEL, &fds, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_request_and_reply_cross_loopback_with_kernel_timestamps),
                cmocka_unit_test(a_client_gets_the_kernel_transmit_timestamp),
                cmocka_unit_test(batches_are_received_and_answered_with_one_call_each),
                cmocka_unit_test(a_server_reads_back_the_transmit_time_of_replies_that_ask),
                cmocka_unit_test(udp_payloads_are_found_in_frames_and_packets),
                cmocka_unit_test(loopback_offers_no_hardware_timestamps),
                cmocka_unit_test(oversized_datagrams_are_flagged),
                cmocka_unit_test(a_connected_client_hears_only_its_server),
                cmocka_unit_test(client_ports_are_random),
                cmocka_unit_test(ipv6_server_sockets_are_v6_only),
                cmocka_unit_test(bad_bind_addresses_are_refused),
                cmocka_unit_test(numeric_addresses_resolve_at_once),
                cmocka_unit_test(names_resolve_in_the_background),
                cmocka_unit_test(a_cancelled_query_never_calls_back),
                cmocka_unit_test(a_handler_may_cancel_its_own_query),
                cmocka_unit_test(sockets_passed_by_systemd_are_taken),
                cmocka_unit_test(without_systemd_there_are_no_passed_sockets),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
