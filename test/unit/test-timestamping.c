/* Tests for src/net/timestamping: which of a datagram's timestamps is used.
 * The control messages are built as the kernel hands them over
 * (SCM_TIMESTAMPING with a software and a raw hardware stamp, IP_PKTINFO,
 * IPV6_PKTINFO, SCM_TIMESTAMPING_PKTINFO, IP_RECVERR), and hardware time is
 * converted through a PhcTracker fed with readings of a simulated PHC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "clock/phc-tracker.h"
#include "net/timestamping.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
/* The card's clock: 37 s ahead of the system clock and 10 ppm fast. */
#define PHC_OFFSET (INT64_C(37) * NSEC_PER_SEC)
#define PHC_PPM 10.0
#define IFINDEX 4
#define OTHER_IFINDEX 9

static nsec_t phc_at(nsec_t sys) {
        return sys + PHC_OFFSET + (nsec_t) llround(nsec_diff(sys, T0) * PHC_PPM * 1e3);
}

/* ---- control messages, as the kernel writes them ---- */

typedef struct Control {
        union {
                struct cmsghdr align;
                uint8_t buf[512];
        };
        struct msghdr mh;
} Control;

static void control_init(Control *c) {
        memset(c, 0, sizeof *c);
        c->mh.msg_control = c->buf;
        c->mh.msg_controllen = 0;
}

static void control_add(Control *c, int level, int type, const void *data, size_t len) {
        size_t used = c->mh.msg_controllen;

        assert_true(used + CMSG_SPACE(len) <= sizeof c->buf);
        struct cmsghdr *h = (struct cmsghdr *) (c->buf + used);
        *h = (struct cmsghdr) { .cmsg_len = CMSG_LEN(len), .cmsg_level = level, .cmsg_type = type };
        memcpy(CMSG_DATA(h), data, len);
        c->mh.msg_controllen = used + CMSG_SPACE(len);
}

static struct timespec ts_of(nsec_t t) {
        return (struct timespec) { .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };
}

/* SCM_TIMESTAMPING: ts[0] software, ts[2] raw hardware; 0 leaves one out. */
static void add_timestamping(Control *c, nsec_t software, nsec_t hardware) {
        struct scm_timestamping t = {};

        if (software)
                t.ts[0] = ts_of(software);
        if (hardware)
                t.ts[2] = ts_of(hardware);
        control_add(c, SOL_SOCKET, SCM_TIMESTAMPING, &t, sizeof t);
}

static void add_pktinfo4(Control *c, int ifindex) {
        struct in_pktinfo pi = { .ipi_ifindex = ifindex };
        control_add(c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
}

/* ---- a converter over a tracker that has seen the simulated PHC ---- */

typedef struct Clocks {
        PhcTracker tracker;             /* IFINDEX's */
        unsigned calls;
} Clocks;

static int convert(void *userdata, int ifindex, nsec_t phc, nsec_t *ret_sys) {
        Clocks *c = userdata;

        c->calls++;
        if (ifindex != IFINDEX)
                return -ENODEV;
        return phc_tracker_convert(&c->tracker, phc, ret_sys, NULL);
}

/* n samplings, 2 s apart from T0, each of one reading 1 us wide. */
static void clocks_init(Clocks *c, int samplings) {
        memset(c, 0, sizeof *c);
        phc_tracker_init(&c->tracker);
        for (int i = 0; i < samplings; i++) {
                nsec_t sys = T0 + i * 2 * NSEC_PER_SEC;
                PhcReading r = { .sys_before = sys, .phc = phc_at(sys + 500), .sys_after = sys + 1000 };
                assert_true(phc_tracker_add(&c->tracker, &r, 1) >= 0);
        }
}

/* A packet received at system time `at`, stamped by the kernel 3 us later
 * than by the card. */
#define AT (T0 + 7 * NSEC_PER_SEC + 123456)
#define SOFTWARE_AT (AT + 3000)

static void hardware_converts_through_the_interfaces_clock(void **state) {
        Clocks clocks;
        HardwareClockConverter conv = { convert, &clocks };
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        clocks_init(&clocks, 8);
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, phc_at(AT));
        add_pktinfo4(&c, IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.software, SOFTWARE_AT);
        assert_int_equal(ts.hardware, phc_at(AT));
        assert_int_equal(ts.ifindex, IFINDEX);
        assert_false(ts.tx_report);

        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_HARDWARE);
        assert_near(nsec_diff(t, AT), 0, 20e-9);
        assert_int_equal(clocks.calls, 1);
}

static void without_a_hardware_stamp_the_kernels_is_used(void **state) {
        Clocks clocks;
        HardwareClockConverter conv = { convert, &clocks };
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        clocks_init(&clocks, 8);
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, 0);
        add_pktinfo4(&c, IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.hardware, 0);
        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_KERNEL);
        assert_int_equal(t, SOFTWARE_AT);
        assert_int_equal(clocks.calls, 0);
}

static void before_the_clock_converts_the_kernels_is_used(void **state) {
        Clocks clocks;
        HardwareClockConverter conv = { convert, &clocks };
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        clocks_init(&clocks, 1);        /* one sampling: no line yet */
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, phc_at(AT));
        add_pktinfo4(&c, IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_KERNEL);
        assert_int_equal(t, SOFTWARE_AT);
        assert_int_equal(clocks.calls, 1);

        /* And without a converter at all (udp_receive()'s first choice). */
        t = 0;
        assert_int_equal(packet_timestamps_choose(&ts, NULL, &t), TIMESTAMP_KERNEL);
        assert_int_equal(t, SOFTWARE_AT);
}

static void a_stamp_from_an_interface_without_a_clock_is_not_converted(void **state) {
        Clocks clocks;
        HardwareClockConverter conv = { convert, &clocks };
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        clocks_init(&clocks, 8);
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, phc_at(AT));
        add_pktinfo4(&c, OTHER_IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_KERNEL);
        assert_int_equal(t, SOFTWARE_AT);

        /* No interface named at all: the hardware stamp means nothing. */
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, phc_at(AT));
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.ifindex, 0);
        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_KERNEL);
}

/* The card that stamped the packet can sit below the interface the
 * address is on (a VLAN): SCM_TIMESTAMPING_PKTINFO names it. */
static void the_timestamping_pktinfo_names_the_stamping_device(void **state) {
        Clocks clocks;
        HardwareClockConverter conv = { convert, &clocks };
        struct scm_ts_pktinfo tpi = { .if_index = IFINDEX, .pkt_length = 48 };
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        clocks_init(&clocks, 8);
        control_init(&c);
        add_pktinfo4(&c, OTHER_IFINDEX);
        add_timestamping(&c, SOFTWARE_AT, phc_at(AT));
        control_add(&c, SOL_SOCKET, SCM_TIMESTAMPING_PKTINFO, &tpi, sizeof tpi);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.ifindex, IFINDEX);
        assert_int_equal(packet_timestamps_choose(&ts, &conv, &t), TIMESTAMP_HARDWARE);
        assert_near(nsec_diff(t, AT), 0, 20e-9);
}

static void ipv6_pktinfo_names_the_interface_too(void **state) {
        struct in6_pktinfo pi = { .ipi6_ifindex = IFINDEX };
        PacketTimestamps ts;
        Control c;

        control_init(&c);
        add_timestamping(&c, 0, phc_at(AT));
        control_add(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.ifindex, IFINDEX);
        assert_int_equal(ts.software, 0);
        assert_int_equal(ts.hardware, phc_at(AT));
}

/* SO_TIMESTAMPNS's message is the software stamp of a received datagram. */
static void scm_timestampns_is_the_software_stamp(void **state) {
        struct timespec at = ts_of(SOFTWARE_AT);
        PacketTimestamps ts;
        Control c;
        nsec_t t = 0;

        control_init(&c);
        control_add(&c, SOL_SOCKET, SCM_TIMESTAMPNS, &at, sizeof at);
        add_timestamping(&c, SOFTWARE_AT + 999, 0);   /* SO_TIMESTAMPNS's stands */
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.software, SOFTWARE_AT);
        assert_int_equal(packet_timestamps_choose(&ts, NULL, &t), TIMESTAMP_KERNEL);
        assert_int_equal(t, SOFTWARE_AT);
}

static void without_any_stamp_the_daemon_reads_the_clock(void **state) {
        PacketTimestamps ts;
        Control c;
        nsec_t t = 42;

        control_init(&c);
        add_pktinfo4(&c, IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(packet_timestamps_choose(&ts, NULL, &t), TIMESTAMP_DAEMON);
        assert_int_equal(t, 42);
}

/* An error queue entry is a transmit timestamp report only when its
 * extended error says so (an ICMP error is not). */
static void an_error_queue_entry_reports_a_transmit_stamp_by_its_origin(void **state) {
        struct sock_extended_err e = { .ee_errno = ENOMSG, .ee_origin = SO_EE_ORIGIN_TIMESTAMPING };
        PacketTimestamps ts;
        Control c;

        control_init(&c);
        add_timestamping(&c, 0, phc_at(AT));
        control_add(&c, SOL_IP, IP_RECVERR, &e, sizeof e);
        add_pktinfo4(&c, IFINDEX);
        packet_timestamps_parse(&c.mh, &ts);
        assert_true(ts.tx_report);
        assert_int_equal(ts.hardware, phc_at(AT));
        assert_int_equal(ts.ifindex, IFINDEX);

        e.ee_origin = SO_EE_ORIGIN_ICMP;
        control_init(&c);
        add_timestamping(&c, SOFTWARE_AT, 0);
        control_add(&c, SOL_IP, IP_RECVERR, &e, sizeof e);
        packet_timestamps_parse(&c.mh, &ts);
        assert_false(ts.tx_report);
}

/* A message too short for what it claims to hold is ignored. */
static void a_truncated_timestamping_message_is_ignored(void **state) {
        PacketTimestamps ts;
        Control c;
        struct timespec one = ts_of(SOFTWARE_AT);

        control_init(&c);
        control_add(&c, SOL_SOCKET, SCM_TIMESTAMPING, &one, sizeof one);
        packet_timestamps_parse(&c.mh, &ts);
        assert_int_equal(ts.software, 0);
        assert_int_equal(ts.hardware, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hardware_converts_through_the_interfaces_clock),
                cmocka_unit_test(without_a_hardware_stamp_the_kernels_is_used),
                cmocka_unit_test(before_the_clock_converts_the_kernels_is_used),
                cmocka_unit_test(a_stamp_from_an_interface_without_a_clock_is_not_converted),
                cmocka_unit_test(the_timestamping_pktinfo_names_the_stamping_device),
                cmocka_unit_test(ipv6_pktinfo_names_the_interface_too),
                cmocka_unit_test(scm_timestampns_is_the_software_stamp),
                cmocka_unit_test(without_any_stamp_the_daemon_reads_the_clock),
                cmocka_unit_test(an_error_queue_entry_reports_a_transmit_stamp_by_its_origin),
                cmocka_unit_test(a_truncated_timestamping_message_is_ignored),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
