/* Tests for interleaved mode, both halves: the client's state machine in
 * src/core (xleave.c through source.c) against a model server built from
 * the real pure server code (server_build_reply(), the client log in
 * ratelimit.c, server_make_interleaved()). Time is explicit: each exchange
 * has a true one-way delay, a server clock offset, and a kernel transmit
 * timestamp later than the time the server read before sending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "core/source.h"
#include "server/ntp-server.h"
#include "server/ratelimit.h"
#include "test-util.h"
#include "test-source-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
#define DELAY (500 * NSEC_PER_USEC)             /* one way */
#define SERVER_OFFSET (3 * NSEC_PER_MSEC)       /* server ahead of us */
#define TURNAROUND (10 * NSEC_PER_USEC)         /* server: receive to read before send */
#define SEND_LATENCY (40 * NSEC_PER_USEC)       /* server: read before send to the wire */
#define POLL (64 * NSEC_PER_SEC)

static const uint8_t log_key[SIPHASH_KEY_SIZE] = { 1, 2, 3 };

typedef struct World {
        Source *client;
        RateLimit *log;                 /* the server's client log */
        bool server_interleaves;
        struct sockaddr_in client_address;
        uint64_t cookie;
        nsec_t now;                     /* our clock (true time: our clock is right) */
} World;

/* One exchange in flight: the request and the server's reply to it. */
typedef struct Exchange {
        NtpPacket request, reply;
        nsec_t t4;
} Exchange;

static World *world_new(bool xleave) {
        World *w = calloc(1, sizeof(World));
        SourceSpec spec = { .kind = SOURCE_KIND_SERVER, .host = (char *) "server", .port = 123,
                            .minpoll = 6, .maxpoll = 6, .xleave = xleave };
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123) };

        assert_non_null(w);
        inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
        assert_int_equal(source_new(1, &spec, "server", (struct sockaddr *) &a, sizeof a, &w->client), 0);
        assert_int_equal(ratelimit_new_keyed(3, 8, 64, log_key, &w->log), 0);
        w->server_interleaves = true;
        w->client_address = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(50000) };
        inet_pton(AF_INET, "198.51.100.7", &w->client_address.sin_addr);
        w->cookie = UINT64_C(0x1111111111111111);
        w->now = T0;
        return w;
}

static void world_free(World *w) {
        source_free(w->client);
        ratelimit_free(w->log);
        free(w);
}

/* The model server: answers at true time t2 (its clock SERVER_OFFSET
 * ahead), and the kernel's transmit timestamp of the reply reaches the
 * client log SEND_LATENCY after the time the reply carries. */
static void serve(World *w, const NtpPacket *request, nsec_t t2, NtpPacket *reply) {
        ServerState st = { .leap = NTP_LEAP_NONE, .stratum = 1, .precision = -24,
                           .reference_id = 0x47505300 };
        const struct sockaddr *client = (const struct sockaddr *) &w->client_address;
        nsec_t rx = t2 + SERVER_OFFSET, tx = rx + TURNAROUND;
        RateLimitRecord *x = ratelimit_record(w->log, client, t2);
        NtpTimestamp previous;

        assert_int_equal(server_build_reply(request, &st, rx, tx, reply), 0);
        bool interleaved = w->server_interleaves && server_request_may_interleave(request) &&
                           ratelimit_xleave_match(x, request->origin_ts, &previous);
        ratelimit_xleave_save(x, reply->receive_ts, reply->transmit_ts);
        if (interleaved)
                server_make_interleaved(request, previous, reply);
        assert_true(ratelimit_xleave_update_tx(w->log, client, reply->receive_ts,
                                               ntp_timestamp_from_nsec(tx + SEND_LATENCY)));
}

/* Sends the next request and lets the server answer it; the reply is not
 * delivered yet. */
static Exchange exchange_start(World *w) {
        Exchange e;

        w->now += POLL;
        source_build_request(w->client, w->now, w->cookie++, &e.request);
        source_request_sent(w->client, w->now);
        serve(w, &e.request, w->now + DELAY, &e.reply);
        e.t4 = w->now + DELAY + TURNAROUND + SEND_LATENCY + DELAY;
        return e;
}

static SourceReply deliver(World *w, const Exchange *e) {
        return source_process_reply(w->client, &e->reply, e->t4, NULL);
}

static SourceReply poll_once(World *w) {
        Exchange e = exchange_start(w);
        return deliver(w, &e);
}

static double last_offset_error(const World *w) {
        return w->client->last_sample.offset - (double) SERVER_OFFSET / NSEC_PER_SEC;
}

/* Basic mode takes T3 before the send: the offset is off by half the
 * send latency. */
#define BASIC_ERROR (-(double) SEND_LATENCY / NSEC_PER_SEC / 2)

static void basic_requests_carry_no_interleaved_fields(void **state) {
        World *w = world_new(false);

        for (int i = 0; i < 3; i++) {
                Exchange e = exchange_start(w);
                assert_int_equal(e.request.origin_ts, 0);
                assert_int_equal(e.request.receive_ts, 0);
                assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
                assert_false(w->client->xleave.last_interleaved);
                assert_near(last_offset_error(w), BASIC_ERROR, 1e-8);
        }
        world_free(w);
}

static void switch_from_basic_to_interleaved(void **state) {
        World *w = world_new(true);

        /* Nothing to interleave with yet: a basic request and reply. */
        Exchange e = exchange_start(w);
        assert_int_equal(e.request.receive_ts, 0);
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
        assert_near(last_offset_error(w), BASIC_ERROR, 1e-8);

        /* The next request names that reply; the interleaved answer
         * measures the exchange the basic reply already gave a sample for. */
        e = exchange_start(w);
        assert_int_not_equal(e.request.receive_ts, 0);
        assert_int_equal(e.request.origin_ts, ntp_timestamp_from_nsec(T0 + POLL + DELAY + SERVER_OFFSET));
        assert_int_equal(e.reply.origin_ts, e.request.receive_ts);
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_NO_SAMPLE);
        assert_true(w->client->xleave.last_interleaved);
        assert_int_equal(w->client->stats.n, 1);

        /* From then on every reply gives the previous exchange exactly. */
        for (int i = 0; i < 4; i++) {
                assert_int_equal(poll_once(w), SOURCE_REPLY_OK);
                assert_true(w->client->xleave.last_interleaved);
                assert_near(last_offset_error(w), 0, 1e-8);
                assert_near(w->client->last_sample.delay, 2.0 * DELAY / NSEC_PER_SEC, 1e-8);
        }
        assert_int_equal(w->client->xleave.n_interleaved, 5);
        world_free(w);
}

static void a_lost_reply_costs_one_basic_exchange(void **state) {
        World *w = world_new(true);

        for (int i = 0; i < 3; i++)
                (void) poll_once(w);
        assert_true(w->client->xleave.last_interleaved);

        (void) exchange_start(w);       /* the reply is lost */
        Exchange e = exchange_start(w);
        assert_int_equal(e.request.origin_ts, 0);       /* nothing to name */
        assert_int_equal(e.request.receive_ts, 0);
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
        assert_false(w->client->xleave.last_interleaved);
        assert_near(last_offset_error(w), BASIC_ERROR, 1e-8);

        assert_int_equal(poll_once(w), SOURCE_REPLY_NO_SAMPLE);
        assert_int_equal(poll_once(w), SOURCE_REPLY_OK);
        assert_true(w->client->xleave.last_interleaved);
        assert_near(last_offset_error(w), 0, 1e-8);
        world_free(w);
}

static void a_reordered_reply_is_rejected(void **state) {
        World *w = world_new(true);

        for (int i = 0; i < 3; i++)
                (void) poll_once(w);
        Exchange late = exchange_start(w);              /* delayed past the next poll */
        Exchange next = exchange_start(w);
        assert_int_equal(deliver(w, &late), SOURCE_REPLY_BOGUS);
        assert_int_equal(deliver(w, &next), SOURCE_REPLY_OK);
        /* next was asked without a name (late was unanswered): basic. */
        assert_false(w->client->xleave.last_interleaved);
        assert_int_equal(deliver(w, &late), SOURCE_REPLY_UNEXPECTED);
        assert_int_equal(poll_once(w), SOURCE_REPLY_NO_SAMPLE);
        assert_int_equal(poll_once(w), SOURCE_REPLY_OK);
        assert_near(last_offset_error(w), 0, 1e-8);
        world_free(w);
}

static void a_restarted_server_answers_basic_then_interleaves_again(void **state) {
        World *w = world_new(true);

        for (int i = 0; i < 3; i++)
                (void) poll_once(w);
        ratelimit_free(w->log);                         /* restart: the log is gone */
        assert_int_equal(ratelimit_new_keyed(3, 8, 64, log_key, &w->log), 0);

        Exchange e = exchange_start(w);
        assert_int_not_equal(e.request.receive_ts, 0);  /* asked */
        assert_int_equal(e.reply.origin_ts, e.request.transmit_ts);     /* answered basic */
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
        assert_false(w->client->xleave.last_interleaved);
        assert_near(last_offset_error(w), BASIC_ERROR, 1e-8);

        assert_int_equal(poll_once(w), SOURCE_REPLY_NO_SAMPLE);
        assert_int_equal(poll_once(w), SOURCE_REPLY_OK);
        assert_true(w->client->xleave.last_interleaved);
        world_free(w);
}

static void a_server_without_interleaved_mode_is_used_in_basic_mode(void **state) {
        World *w = world_new(true);
        int asked = 0;

        w->server_interleaves = false;
        for (int i = 0; i < 1 + XLEAVE_MAX_BASIC; i++) {
                Exchange e = exchange_start(w);
                asked += e.request.receive_ts != 0;
                assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
                assert_near(last_offset_error(w), BASIC_ERROR, 1e-8);
        }
        assert_int_equal(asked, XLEAVE_MAX_BASIC);
        assert_false(xleave_active(&w->client->xleave));

        /* Basic requests for XLEAVE_RETRY_POLLS polls, then it asks again. */
        for (int i = 0; i < XLEAVE_RETRY_POLLS - 1; i++) {
                Exchange e = exchange_start(w);
                assert_int_equal(e.request.receive_ts, 0);
                assert_int_equal(deliver(w, &e), SOURCE_REPLY_OK);
        }
        w->server_interleaves = true;
        Exchange e = exchange_start(w);
        assert_int_not_equal(e.request.receive_ts, 0);
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_NO_SAMPLE);
        assert_true(w->client->xleave.last_interleaved);
        world_free(w);
}

static void a_repeated_interleaved_transmit_timestamp_is_a_duplicate(void **state) {
        World *w = world_new(true);

        for (int i = 0; i < 3; i++)
                (void) poll_once(w);
        NtpTimestamp last = w->client->xleave.last_interleaved_tx;
        Exchange e = exchange_start(w);
        e.reply.transmit_ts = last;
        assert_int_equal(deliver(w, &e), SOURCE_REPLY_DUPLICATE);
        world_free(w);
}

static void the_server_interleaves_only_for_its_last_reply(void **state) {
        World *w = world_new(true);
        const struct sockaddr *client = (const struct sockaddr *) &w->client_address;
        NtpTimestamp tx;

        RateLimitRecord *x = ratelimit_record(w->log, client, T0);
        assert_false(ratelimit_xleave_match(x, 0, &tx));
        ratelimit_xleave_save(x, 100, 200);
        assert_true(ratelimit_xleave_match(x, 100, &tx));
        assert_int_equal(tx, 200);
        assert_false(ratelimit_xleave_match(x, 99, &tx));
        /* A kernel timestamp for an older reply changes nothing. */
        assert_false(ratelimit_xleave_update_tx(w->log, client, 99, 300));
        assert_true(ratelimit_xleave_update_tx(w->log, client, 100, 250));
        assert_true(ratelimit_xleave_match(x, 100, &tx));
        assert_int_equal(tx, 250);

        /* No receive cookie (a basic client): never interleaved. */
        NtpPacket basic = { .mode = NTP_MODE_CLIENT, .version = 4, .origin_ts = 100, .transmit_ts = 7 };
        assert_false(server_request_may_interleave(&basic));
        basic.receive_ts = 7;           /* equal to the transmit timestamp: not a cookie */
        assert_false(server_request_may_interleave(&basic));
        basic.receive_ts = 8;
        assert_true(server_request_may_interleave(&basic));
        world_free(w);
}

static void clock_corrections_move_the_saved_exchange(void **state) {
        World *w = world_new(true);

        for (int i = 0; i < 3; i++)
                (void) poll_once(w);
        nsec_t t1 = w->client->xleave.prev.t1;
        source_apply_clock_change(w->client, w->now, 0, 0.001);
        assert_int_equal(w->client->xleave.prev.t1, t1 + NSEC_PER_MSEC);
        world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(basic_requests_carry_no_interleaved_fields),
                cmocka_unit_test(switch_from_basic_to_interleaved),
                cmocka_unit_test(a_lost_reply_costs_one_basic_exchange),
                cmocka_unit_test(a_reordered_reply_is_rejected),
                cmocka_unit_test(a_restarted_server_answers_basic_then_interleaves_again),
                cmocka_unit_test(a_server_without_interleaved_mode_is_used_in_basic_mode),
                cmocka_unit_test(a_repeated_interleaved_transmit_timestamp_is_a_duplicate),
                cmocka_unit_test(the_server_interleaves_only_for_its_last_reply),
                cmocka_unit_test(clock_corrections_move_the_saved_exchange),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
