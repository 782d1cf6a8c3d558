/* Tests for the server side of tempusd (src/daemon/responder.c) on a real
 * event loop: a socket handed over as systemd would hand it, a client on
 * loopback that sends many requests at once, and one wakeup that answers
 * them all in batches, counting what it drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/manager.h"
#include "daemon/responder.h"
#include "ntp/ntp-packet.h"
#include "shared/log.h"
#include "test-util.h"

#define REQUESTS 100            /* more than one receive batch, fewer than one wakeup's */
#define MALFORMED 5

typedef struct Fixture {
        Manager *manager;
        Responder *responder;
        int client;
        struct sockaddr_in server;
} Fixture;

/* Hands fd over as the first socket of socket activation (fd 3). */
static void pass_as_listen_fd(int fd) {
        char pid[16];

        if (fd != SD_LISTEN_FDS_START) {
                assert_int_equal(dup2(fd, SD_LISTEN_FDS_START), SD_LISTEN_FDS_START);
                close(fd);
        }
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "1", 1);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        AccessRule rule;
        const char *reason;
        Config c;

        assert_non_null(f);
        log_set_max_level(LOG_WARNING);
        pass_as_listen_fd(loopback_udp_socket(&f->server));
        config_init_defaults(&c);
        c.control = false;      /* never the real clock */
        c.local_stratum = 10;   /* serve our own clock */
        assert_int_equal(access_rule_parse("127.0.0.1", true, &rule, &reason), 0);
        assert_int_equal(access_list_add(&c.access, &rule), 0);
        assert_int_equal(manager_new(NULL, &c, &f->manager), 0);
        assert_int_equal(responder_new(f->manager, &f->responder), 0);
        f->client = loopback_udp_socket(NULL);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        responder_free(f->responder);
        manager_free(f->manager);
        close(f->client);
        free(f);
        return 0;
}

static void send_request(Fixture *f, uint64_t cookie) {
        NtpPacket p = { .leap = NTP_LEAP_UNSYNC, .version = NTP_VERSION, .mode = NTP_MODE_CLIENT,
                        .transmit_ts = cookie };
        uint8_t buf[NTP_HEADER_SIZE];

        size_t len = ntp_packet_encode(&p, buf);
        assert_int_equal(sendto(f->client, buf, len, 0, (struct sockaddr *) &f->server, sizeof f->server),
                         (ssize_t) len);
}

static unsigned receive_replies(Fixture *f, const bool *sent) {
        uint8_t buf[2048];
        unsigned n = 0;
        NtpPacket p;
        ssize_t k;

        while ((k = recv(f->client, buf, sizeof buf, 0)) > 0) {
                assert_int_equal(ntp_packet_parse(buf, (size_t) k, &p), NTP_DROP_NONE);
                assert_int_equal(p.mode, NTP_MODE_SERVER);
                assert_int_equal(p.stratum, 10);
                /* Each reply answers one of our requests, once. */
                assert_true(p.origin_ts >= 1 && p.origin_ts <= REQUESTS && sent[p.origin_ts]);
                n++;
        }
        return n;
}

/* Runs the loop until the responder has seen n datagrams; sd_event_run()
 * dispatches one source per iteration, and the manager has others. */
static void run_until_requests(Fixture *f, uint64_t n) {
        for (int i = 0; i < 100 && f->manager->counters.requests < n; i++)
                assert_true(sd_event_run(f->manager->event, USEC_PER_SEC) >= 0);
}

static void one_wakeup_answers_a_burst_in_batches(void **state) {
        Fixture *f = *state;
        bool sent[REQUESTS + 1] = {};
        static const uint8_t junk[MALFORMED][8] = { { 0x23 }, { 0x27 }, { 0x26 }, { 0x03 }, { 0xff } };

        for (uint64_t i = 1; i <= REQUESTS; i++) {
                send_request(f, i);
                sent[i] = true;
        }
        for (int i = 0; i < MALFORMED; i++)
                assert_int_equal(sendto(f->client, junk[i], sizeof junk[i], 0, (struct sockaddr *) &f->server,
                                        sizeof f->server),
                                 (ssize_t) sizeof junk[i]);
        /* One dispatch of the socket: the responder reads until it is
         * empty, up to its per-wakeup bound, many datagrams per call. */
        run_until_requests(f, 1);
        assert_int_equal(f->manager->counters.requests, REQUESTS + MALFORMED);
        usleep(10000);
        assert_int_equal(receive_replies(f, sent), REQUESTS);
        assert_int_equal(f->manager->counters.requests, REQUESTS + MALFORMED);
        assert_int_equal(f->manager->counters.served, REQUESTS);
        uint64_t dropped = 0;
        for (int i = 0; i < _NTP_DROP_MAX; i++)
                dropped += f->manager->counters.dropped[i];
        assert_int_equal(dropped, MALFORMED);
}

static void clients_outside_the_rules_are_not_served(void **state) {
        Fixture *f = *state;
        bool sent[REQUESTS + 1] = { [1] = true };
        AccessRule deny;
        const char *reason;

        assert_int_equal(access_rule_parse("127.0.0.1", false, &deny, &reason), 0);
        assert_int_equal(access_list_add(&f->manager->access, &deny), 0);
        send_request(f, 1);
        run_until_requests(f, 1);
        usleep(10000);
        assert_int_equal(receive_replies(f, sent), 0);
        assert_int_equal(f->manager->counters.denied, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(one_wakeup_answers_a_burst_in_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(clients_outside_the_rules_are_not_served, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
