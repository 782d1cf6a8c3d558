/* Tests for the server side of tempusd (src/daemon/responder.c) on a real
 * event loop: a socket handed over as systemd would hand it, a client on
 * loopback that sends many requests at once, and one wakeup that answers
 * them all in batches, counting what it drops; requests with MACs are
 * answered with MACs of their key, or crypto-NAKs. */
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

#include "auth/mac.h"
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

/* Sends a client request of this version with a MAC of key (its digest
 * digest_size bytes, or a corrupted one) and returns the reply's length in
 * buf. */
static ssize_t ask_with_mac(Fixture *f, const Key *key, uint8_t version, size_t digest_size, bool corrupt,
                            uint8_t *buf, size_t size) {
        NtpPacket p = { .leap = NTP_LEAP_UNSYNC, .version = version, .mode = NTP_MODE_CLIENT, .transmit_ts = 42 };
        uint8_t req[NTP_HEADER_SIZE + MAC_MAX_SIZE];
        uint64_t before = f->manager->counters.requests;

        int len = mac_sign(key, digest_size, req, ntp_packet_encode(&p, req), sizeof req);
        assert_true(len > NTP_HEADER_SIZE);
        if (corrupt)
                req[len - 1] ^= 1;
        assert_int_equal(sendto(f->client, req, (size_t) len, 0, (struct sockaddr *) &f->server, sizeof f->server),
                         len);
        run_until_requests(f, before + 1);
        usleep(10000);
        ssize_t k = recv(f->client, buf, size, 0);
        assert_true(k >= NTP_HEADER_SIZE && k <= len);      /* never larger than the request */
        return k;
}

static void authenticated_requests_get_a_mac_of_their_key(void **state) {
        Fixture *f = *state;
        Key sha1 = { .id = 1, .type = KEY_SHA1, .length = 10, .data = "0123456789" };
        Key aes = { .id = 2, .type = KEY_AES128, .length = 16, .data = "0123456789abcdef" };
        Key sha256 = { .id = 3, .type = KEY_SHA256, .length = 10, .data = "abcdefghij" };
        Key unknown = { .id = 9, .type = KEY_SHA1, .length = 10, .data = "0123456789" };
        uint8_t buf[256];
        NtpPacket p;

        assert_int_equal(key_table_new(&f->manager->config.keys), 0);
        assert_int_equal(key_table_add(f->manager->config.keys, &sha1), 0);
        assert_int_equal(key_table_add(f->manager->config.keys, &aes), 0);
        assert_int_equal(key_table_add(f->manager->config.keys, &sha256), 0);

        const struct { const Key *key; uint8_t version; size_t digest; size_t reply; } good[] = {
                { &sha1, 4, 20, 72 },   { &aes, 4, 16, 68 },
                { &sha256, 4, 20, 72 }, /* chrony: truncated in NTPv4 */
                { &sha256, 4, 32, 84 }, /* ntpsec: whole in NTPv4 */
                { &sha256, 3, 32, 84 }, /* chrony: whole in NTPv3 */
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                ssize_t k = ask_with_mac(f, good[i].key, good[i].version, good[i].digest, false, buf, sizeof buf);
                assert_int_equal(k, good[i].reply);
                assert_int_equal(ntp_packet_parse(buf, (size_t) k, &p), NTP_DROP_NONE);
                assert_int_equal(p.version, good[i].version);
                assert_true(mac_verify(good[i].key, p.version, buf, (size_t) k, p.mac_length));
        }
        assert_int_equal(f->manager->counters.authenticated, ELEMENTSOF(good));

        /* A wrong MAC, or a key we do not have: a crypto-NAK. */
        assert_int_equal(ask_with_mac(f, &sha1, 4, 20, true, buf, sizeof buf), NTP_HEADER_SIZE + 4);
        assert_int_equal(mac_key_id(buf, NTP_HEADER_SIZE + 4, 4), 0);
        assert_int_equal(ask_with_mac(f, &unknown, 4, 20, false, buf, sizeof buf), NTP_HEADER_SIZE + 4);
        assert_int_equal(mac_key_id(buf, NTP_HEADER_SIZE + 4, 4), 0);
        assert_int_equal(f->manager->counters.auth_failures, 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(one_wakeup_answers_a_burst_in_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(clients_outside_the_rules_are_not_served, setup, teardown),
                cmocka_unit_test_setup_teardown(authenticated_requests_get_a_mac_of_their_key, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
