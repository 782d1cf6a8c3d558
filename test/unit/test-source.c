/* Tests for src/core/source: requests, reply checks, RFC 5905 arithmetic,
 * polling and the reachability register. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "core/source.h"
#include "test-util.h"
#include "test-source-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
#define COOKIE UINT64_C(0x0123456789abcdef)

static Source *server(bool iburst) {
        return make_source(1, "192.168.2.100", "192.168.2.100", iburst);
}

/* The server's reply to our request sent at t1, its clock `offset` ahead,
 * with `delay` spent on the way each direction. */
static NtpPacket reply_to(nsec_t t1, double offset, double delay) {
        nsec_t t2 = t1 + seconds_to_nsec(delay + offset);
        return (NtpPacket) {
                .leap = NTP_LEAP_NONE, .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2, .poll = 6,
                .precision = -20, .reference_id = 0x0a000001, .origin_ts = COOKIE,
                .receive_ts = ntp_timestamp_from_nsec(t2),
                .transmit_ts = ntp_timestamp_from_nsec(t2 + 10 * NSEC_PER_USEC),
        };
}

static nsec_t arrival(nsec_t t1, double delay) {
        return t1 + seconds_to_nsec(2 * delay) + 10 * NSEC_PER_USEC;
}

static Source *symmetric_peer(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123) };
        SourceSpec spec = { .kind = SOURCE_KIND_PEER, .host = (char *) "192.0.2.5", .port = 123,
                            .minpoll = 6, .maxpoll = 10 };
        Source *s = NULL;

        inet_pton(AF_INET, "192.0.2.5", &a.sin_addr);
        assert_int_equal(source_new(1, &spec, "192.0.2.5", (struct sockaddr *) &a, sizeof a, &s), 0);
        return s;
}

/* RFC 5905 section 9: a symmetric packet echoes the peer's last transmit
 * timestamp and our receive time of it; the peer's packet that echoes ours
 * is a sample, one that does not is the peer's own poll. */
static void peers_exchange_symmetric_packets(void **state) {
        Source *s = symmetric_peer();
        NtpTimestamp ours = ntp_timestamp_from_nsec(T0);
        NtpPacket p;

        source_build_request(s, T0, ours, &p);
        assert_int_equal(p.mode, NTP_MODE_SYMMETRIC_ACTIVE);
        assert_int_equal(p.origin_ts, 0);
        assert_int_equal(p.transmit_ts, ours);

        /* The peer's own poll, not an answer: no sample, but remembered. */
        NtpPacket theirs = reply_to(T0, 0.001, 0.002);
        theirs.mode = NTP_MODE_SYMMETRIC_ACTIVE;
        theirs.origin_ts = 12345;
        nsec_t t4 = arrival(T0, 0.002);
        assert_int_equal(source_process_reply(s, &theirs, t4, NULL), SOURCE_REPLY_BOGUS);
        source_build_response(s, t4, ntp_timestamp_from_nsec(t4), &p);
        assert_int_equal(p.origin_ts, theirs.transmit_ts);
        assert_int_equal(p.receive_ts, ntp_timestamp_from_nsec(t4));
        assert_int_equal(s->reach, 0);

        /* Its answer to that packet is a sample. */
        NtpPacket answer = reply_to(t4, 0.001, 0.002);
        answer.mode = NTP_MODE_SYMMETRIC_PASSIVE;
        answer.origin_ts = p.transmit_ts;
        source_request_sent(s, t4);
        assert_int_equal(source_process_reply(s, &answer, arrival(t4, 0.002), NULL), SOURCE_REPLY_OK);
        assert_near(s->last_sample.offset, 0.001, 1e-6);
        /* A peer whose reference is our address towards it is a loop. */
        SelectCandidate c;
        source_candidate(s, arrival(t4, 0.002), &c);
        assert_true(c.usable);
        snprintf(s->local_address, sizeof s->local_address, "192.0.2.100");
        s->remote_refid = 0xc0000264;
        source_candidate(s, arrival(t4, 0.002), &c);
        assert_false(c.usable);
        /* A server-mode packet is not a peer's. */
        answer.mode = NTP_MODE_SERVER;
        source_build_request(s, T0 + NSEC_PER_SEC, ntp_timestamp_from_nsec(T0 + NSEC_PER_SEC), &p);
        answer.origin_ts = p.transmit_ts;
        assert_int_equal(source_process_reply(s, &answer, arrival(T0 + NSEC_PER_SEC, 0.002), NULL),
                         SOURCE_REPLY_BAD_MODE);
        source_free(s);
}

static void requests_are_client_mode_with_the_cookie(void **state) {
        Source *s = server(false);
        NtpPacket p;

        source_build_request(s, T0, COOKIE, &p);
        assert_int_equal(p.mode, NTP_MODE_CLIENT);
        assert_int_equal(p.version, 4);
        assert_int_equal(p.transmit_ts, COOKIE);
        assert_int_equal(p.origin_ts, 0);
        assert_int_equal(p.receive_ts, 0);
        assert_true(s->waiting);
        source_free(s);
}

typedef struct TimesCase {
        const char *name;
        double offset, delay;
} TimesCase;

static void offset_and_delay_follow_rfc5905(void **state) {
        static const TimesCase cases[] = {
                { "in step", 0, 0.01 },
                { "server ahead", 0.5, 0.01 },
                { "server behind", -2.25, 0.003 },
                { "far ahead", 1000.0, 0.05 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                double off, del;
                print_message("%s\n", cases[i].name);
                NtpPacket p = reply_to(T0, cases[i].offset, cases[i].delay);
                ntp_sample_compute(T0, p.receive_ts, p.transmit_ts, arrival(T0, cases[i].delay), &off, &del);
                assert_near(off, cases[i].offset, 1e-8);
                assert_near(del, 2 * cases[i].delay, 1e-8);
        }
}

static void arithmetic_holds_across_the_2036_era_boundary(void **state) {
        const nsec_t t1 = INT64_C(2085978496) * NSEC_PER_SEC - NSEC_PER_SEC / 2;  /* 0.5 s before */
        NtpPacket p = reply_to(t1, 0.75, 0.001);
        double off, del;

        ntp_sample_compute(t1, p.receive_ts, p.transmit_ts, arrival(t1, 0.001), &off, &del);
        assert_near(off, 0.75, 1e-8);
        assert_near(del, 0.002, 1e-8);
}

static void a_good_reply_becomes_a_sample_and_sets_reach(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;
        SourceSample x;

        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0.002, 0.0005);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.0005), &x), SOURCE_REPLY_OK);
        assert_near(x.offset, 0.002, 1e-8);
        assert_int_equal(s->reach, 1);
        assert_int_equal(s->stratum, 2);
        assert_false(s->waiting);
        assert_int_equal(sourcestats_count(&s->stats), 1);
        source_free(s);
}

/* The send itself took 300 us: the time read before it puts the server
 * 150 us further ahead than it is; the kernel's timestamp does not. */
static void the_kernel_transmit_timestamp_replaces_the_one_read_before_sending(void **state) {
        Source *s = server(false);
        const nsec_t left = T0 + 300 * NSEC_PER_USEC;
        NtpPacket req, rep;
        SourceSample x;

        source_build_request(s, T0, COOKIE, &req);
        source_request_sent(s, T0);
        source_request_timestamped(s, T0 - NSEC_PER_USEC, TIMESTAMP_KERNEL);  /* before: not ours */
        source_request_timestamped(s, T0 + NSEC_PER_SEC, TIMESTAMP_KERNEL);   /* far later: not ours */
        assert_true(s->t1 == T0 && s->t1_kind == TIMESTAMP_DAEMON);
        source_request_timestamped(s, left, TIMESTAMP_KERNEL);
        source_request_timestamped(s, left + NSEC_PER_USEC, TIMESTAMP_KERNEL);  /* only the first counts */
        assert_true(s->t1 == left && s->t1_kind == TIMESTAMP_KERNEL);

        rep = reply_to(left, 0.002, 0.0005);
        assert_int_equal(source_process_reply(s, &rep, arrival(left, 0.0005), &x), SOURCE_REPLY_OK);
        assert_near(x.offset, 0.002, 1e-8);
        assert_near(x.delay, 0.001, 1e-8);
        assert_int_equal(s->n_tx_kernel, 1);
        assert_int_equal(s->n_tx_daemon, 0);

        /* No request in flight: nothing to correct. */
        source_request_timestamped(s, left + 2 * NSEC_PER_USEC, TIMESTAMP_HARDWARE);
        assert_true(s->t1 == left);
        source_free(s);
}

/* The card's timestamp comes after the kernel's and is the better one; a
 * less precise one never replaces it. */
static void a_hardware_transmit_timestamp_replaces_the_kernels(void **state) {
        Source *s = server(false);
        const nsec_t kernel = T0 + 20 * NSEC_PER_USEC, hardware = T0 + 25 * NSEC_PER_USEC;
        NtpPacket req, rep;
        SourceSample x;

        source_build_request(s, T0, COOKIE, &req);
        source_request_sent(s, T0);
        source_request_timestamped(s, kernel, TIMESTAMP_KERNEL);
        source_request_timestamped(s, hardware, TIMESTAMP_HARDWARE);
        assert_true(s->t1 == hardware && s->t1_kind == TIMESTAMP_HARDWARE);
        source_request_timestamped(s, kernel + NSEC_PER_USEC, TIMESTAMP_KERNEL);
        assert_true(s->t1 == hardware && s->t1_kind == TIMESTAMP_HARDWARE);

        rep = reply_to(hardware, 0.002, 0.0005);
        assert_int_equal(source_process_reply(s, &rep, arrival(hardware, 0.0005), &x), SOURCE_REPLY_OK);
        assert_int_equal(s->n_tx_hardware, 1);
        assert_int_equal(s->n_tx_kernel, 0);
        assert_int_equal(s->n_tx_daemon, 0);
        assert_int_equal(s->sample_tx_kind, TIMESTAMP_HARDWARE);
        source_free(s);
}

typedef struct RejectCase {
        const char *name;
        void (*spoil)(NtpPacket *p);
        SourceReply expected;
} RejectCase;

static void wrong_origin(NtpPacket *p) { p->origin_ts ^= 1; }
static void client_mode(NtpPacket *p) { p->mode = NTP_MODE_CLIENT; }
static void kod_rate(NtpPacket *p) { p->stratum = 0; p->reference_id = ntp_refid_from_ascii("RATE"); }
static void kod_deny(NtpPacket *p) { p->stratum = 0; p->reference_id = ntp_refid_from_ascii("DENY"); }
static void unsynchronized(NtpPacket *p) { p->leap = NTP_LEAP_UNSYNC; }
static void stratum_16(NtpPacket *p) { p->stratum = 16; }
static void zero_receive(NtpPacket *p) { p->receive_ts = 0; }
static void transmit_before_receive(NtpPacket *p) { p->transmit_ts = p->receive_ts - (1ull << 32); }
static void huge_root_distance(NtpPacket *p) { p->root_dispersion = ntp_short_from_seconds(20); }

static void bad_replies_are_rejected_with_their_reason(void **state) {
        static const RejectCase cases[] = {
                { "origin is not our cookie", wrong_origin, SOURCE_REPLY_BOGUS },
                { "not server mode", client_mode, SOURCE_REPLY_BAD_MODE },
                { "KoD RATE", kod_rate, SOURCE_REPLY_KOD },
                { "KoD DENY", kod_deny, SOURCE_REPLY_KOD },
                { "leap 3", unsynchronized, SOURCE_REPLY_UNSYNCHRONIZED },
                { "stratum 16", stratum_16, SOURCE_REPLY_UNSYNCHRONIZED },
                { "zero receive timestamp", zero_receive, SOURCE_REPLY_BAD_TIMESTAMPS },
                { "transmit before receive", transmit_before_receive, SOURCE_REPLY_BAD_TIMESTAMPS },
                { "root distance over 16 s", huge_root_distance, SOURCE_REPLY_BAD_DISTANCE },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Source *s = server(false);
                NtpPacket req, rep;

                print_message("%s\n", cases[i].name);
                source_build_request(s, T0, COOKIE, &req);
                rep = reply_to(T0, 0, 0.001);
                cases[i].spoil(&rep);
                assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), cases[i].expected);
                assert_int_equal(s->reach, 0);
                assert_int_equal(sourcestats_count(&s->stats), 0);
                source_free(s);
        }
}

static void a_transmit_timestamp_within_precision_before_receive_is_accepted(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;
        SourceSample sample;

        /* T3 = T2 - 50 ns: a fast server with random bits below its
         * precision does that. */
        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0, 0.001);
        rep.precision = -23;
        rep.transmit_ts = rep.receive_ts - (uint64_t) (50e-9 * 4294967296.0);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), &sample), SOURCE_REPLY_OK);
        assert_int_equal(s->reach, 1);
        assert_int_equal(sourcestats_count(&s->stats), 1);
        assert_true(sample.delay > 0.002 && sample.delay < 0.0021);
        source_free(s);
}

static void a_server_that_loses_sync_is_unusable_at_once(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;
        SelectCandidate c;

        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0, 0.001);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_OK);
        source_candidate(s, T0, &c);
        assert_true(c.usable);

        nsec_t t = T0 + 64 * NSEC_PER_SEC;
        source_build_request(s, t, COOKIE + 1, &req);
        rep = reply_to(t, 0, 0.001);
        rep.origin_ts = COOKIE + 1;
        unsynchronized(&rep);
        assert_int_equal(source_process_reply(s, &rep, arrival(t, 0.001), NULL), SOURCE_REPLY_UNSYNCHRONIZED);
        /* Still reachable, but no longer a candidate. */
        assert_int_not_equal(s->reach, 0);
        source_candidate(s, t, &c);
        assert_false(c.usable);
        source_free(s);
}

static void kod_rate_slows_down_and_deny_stops_use(void **state) {
        Source *s = server(true);
        NtpPacket req, rep;
        SelectCandidate c;

        source_start(s);
        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0, 0.001);
        kod_rate(&rep);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_KOD);
        /* One step slower, the burst over, and still polled. */
        assert_int_equal(s->poll, 7);
        assert_int_equal(source_poll_interval(s), 128);
        assert_true(source_wants_polls(s));
        /* A RATE asking for a longer poll gets it (within maxpoll). */
        rep = reply_to(T0, 0, 0.001);
        kod_rate(&rep);
        rep.poll = 9;
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_KOD);
        assert_int_equal(s->poll, 9);

        rep = reply_to(T0, 0, 0.001);
        kod_deny(&rep);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_KOD);
        assert_true(s->kod_deny);
        assert_false(source_wants_polls(s));
        source_candidate(s, T0, &c);
        assert_false(c.usable);
        source_free(s);
}

static void a_kod_that_does_not_answer_our_request_changes_nothing(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;

        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0, 0.001);
        kod_deny(&rep);
        rep.origin_ts ^= 1;
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_BOGUS);
        assert_true(source_wants_polls(s));
        source_free(s);
}

static void unsolicited_and_duplicate_replies_are_ignored(void **state) {
        Source *s = server(false);
        NtpPacket req, rep = reply_to(T0, 0, 0.001);

        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_UNEXPECTED);
        source_build_request(s, T0, COOKIE, &req);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_OK);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_UNEXPECTED);
        /* A second request, and the old reply replayed: a duplicate. */
        source_build_request(s, T0 + 64 * NSEC_PER_SEC, COOKIE, &req);
        assert_int_equal(source_process_reply(s, &rep, arrival(T0, 0.001), NULL), SOURCE_REPLY_DUPLICATE);
        source_free(s);
}

static void iburst_polls_every_two_seconds_then_minpoll(void **state) {
        Source *s = server(true);
        NtpPacket req;

        source_start(s);
        for (int i = 0; i < SOURCE_IBURST_COUNT; i++) {
                nsec_t t = T0 + i * 2 * NSEC_PER_SEC;
                NtpPacket rep = reply_to(t, 0, 0.001);

                assert_true(source_poll_interval(s) == SOURCE_BURST_INTERVAL);
                source_build_request(s, t, COOKIE, &req);
                assert_int_equal(source_process_reply(s, &rep, arrival(t, 0.001), NULL), SOURCE_REPLY_OK);
        }
        assert_true(source_poll_interval(s) == 64.0);
        source_free(s);
}

/* The interval the daemon schedules as request i of a burst leaves (the
 * reply, if any, comes after). */
static double burst_request(Source *s, int i, bool answered) {
        nsec_t t = T0 + i * 2 * NSEC_PER_SEC;
        NtpPacket req, rep = reply_to(t, 0, 0.001);

        source_build_request(s, t, COOKIE, &req);
        double interval = source_poll_interval(s);
        if (answered)
                assert_int_equal(source_process_reply(s, &rep, arrival(t, 0.001), NULL), SOURCE_REPLY_OK);
        return interval;
}

/* The second request of the burst is lost: a fifth makes up for it, and
 * the burst ends there (the one after goes sooner than minpoll only by
 * the rule for a loss at the start, until four replies). */
static void an_iburst_makes_up_for_a_lost_request(void **state) {
        Source *s = server(true);

        source_start(s);
        assert_true(burst_request(s, 0, true) == SOURCE_BURST_INTERVAL);
        assert_true(burst_request(s, 1, false) == SOURCE_BURST_INTERVAL);
        assert_true(burst_request(s, 2, true) == SOURCE_BURST_INTERVAL);
        assert_true(burst_request(s, 3, true) == SOURCE_BURST_INTERVAL);
        assert_true(burst_request(s, 4, true) > SOURCE_BURST_INTERVAL);
        assert_int_equal(s->n_replies, SOURCE_IBURST_COUNT);
        assert_true(source_poll_interval(s) == 64.0);
        source_free(s);
}

/* A burst that gets no reply ends after SOURCE_IBURST_MAX_REQUESTS. */
static void an_unanswered_iburst_ends_after_its_most_requests(void **state) {
        Source *s = server(true);

        source_start(s);
        for (int i = 0; i < SOURCE_IBURST_MAX_REQUESTS - 1; i++)
                assert_true(burst_request(s, i, false) == SOURCE_BURST_INTERVAL);
        assert_true(burst_request(s, SOURCE_IBURST_MAX_REQUESTS - 1, false) > SOURCE_BURST_INTERVAL);
        source_free(s);
}

static void without_iburst_polling_starts_at_minpoll(void **state) {
        Source *s = server(false);
        source_start(s);
        assert_true(source_poll_interval(s) == 64.0);
        source_free(s);
}

/* One poll of a server at t: the request, and the reply if it gets one. */
static void poll_once(Source *s, nsec_t t, bool answered) {
        NtpPacket req, rep = reply_to(t, 0, 0.001);

        source_build_request(s, t, COOKIE, &req);
        if (answered)
                assert_int_equal(source_process_reply(s, &rep, arrival(t, 0.001), NULL), SOURCE_REPLY_OK);
}

static void a_loss_at_the_start_is_retried_sooner(void **state) {
        Source *s = server(false);
        nsec_t t = T0;

        source_start(s);
        poll_once(s, t, true);
        assert_true(source_poll_interval(s) == 64.0);
        t += 64 * NSEC_PER_SEC;
        poll_once(s, t, false);
        assert_true(source_poll_interval(s) == 64.0);
        /* The next request finds the last one unanswered: a quarter poll,
         * until the source has answered SOURCE_RETRY_REPLIES times. */
        for (unsigned replies = 2; replies < SOURCE_RETRY_REPLIES; replies++) {
                t += 64 * NSEC_PER_SEC;
                poll_once(s, t, true);
                assert_true(source_poll_interval(s) == 64.0 * SOURCE_RETRY_FRACTION);
        }
        t += 16 * NSEC_PER_SEC;
        poll_once(s, t, true);
        assert_true(source_poll_interval(s) == 64.0);
        /* A loss later on changes nothing. */
        t += 64 * NSEC_PER_SEC;
        poll_once(s, t, false);
        poll_once(s, t + 64 * NSEC_PER_SEC, false);
        assert_true(source_poll_interval(s) == 64.0);
        source_free(s);
}

static void a_server_that_never_answers_is_polled_as_usual_after_eight_requests(void **state) {
        Source *s = server(false);

        source_start(s);
        poll_once(s, T0, false);
        assert_true(source_poll_interval(s) == 64.0);
        for (int i = 1; i < 7; i++) {
                poll_once(s, T0 + i * 16 * NSEC_PER_SEC, false);
                assert_true(source_poll_interval(s) == 16.0);
        }
        poll_once(s, T0 + 7 * 16 * NSEC_PER_SEC, false);
        assert_true(source_poll_interval(s) == 64.0);
        source_free(s);
}

static void a_poll_without_a_request_counts_as_unanswered(void **state) {
        Source *s = make_source(1, "nts.example", "192.0.2.1", false);
        SelectCandidate c;

        source_candidate(s, 0, &c);
        assert_true(c.pending);
        source_poll_without_request(s);
        source_poll_without_request(s);
        assert_int_equal(s->reach, 0);
        assert_int_equal(s->polls_unreachable, 2);
        source_candidate(s, 0, &c);
        assert_false(c.pending);
        source_free(s);
}

static void reach_shifts_in_zeros_for_lost_replies(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;

        source_build_request(s, T0, COOKIE, &req);
        rep = reply_to(T0, 0, 0.001);
        source_process_reply(s, &rep, arrival(T0, 0.001), NULL);
        for (int i = 0; i < 3; i++)
                source_build_request(s, T0, COOKIE + 1 + i, &req);
        assert_int_equal(s->reach, 010);
        for (int i = 0; i < 5; i++)
                source_build_request(s, T0, COOKIE + 10 + i, &req);
        assert_int_equal(s->reach, 0);
        assert_int_equal(s->polls_unreachable, 1);
        for (int i = 0; i < 3; i++)
                source_build_request(s, T0, COOKIE + 20 + i, &req);
        assert_int_equal(s->polls_unreachable, 4);
        source_free(s);
}

static void a_reply_held_far_longer_than_usual_gives_no_sample(void **state) {
        Source *s = server(false);
        NtpPacket req, rep;
        nsec_t t = T0;
        int i = 0;

        /* Round trips of 2 ms +/- 100 us, and offsets on a line. */
        for (; i < 8; i++, t += 16 * NSEC_PER_SEC) {
                double delay = 0.001 + 50e-6 * ((i * 7) % 3 - 1);
                source_build_request(s, t, COOKIE + i, &req);
                rep = reply_to(t, 0, delay);
                rep.origin_ts = COOKIE + i;
                assert_int_equal(source_process_reply(s, &rep, arrival(t, delay), NULL), SOURCE_REPLY_OK);
        }
        size_t held = sourcestats_count(&s->stats);
        /* A round trip of 12 ms: an answer, but not a sample. Four in
         * a row are left out; a fifth means the path itself changed. */
        for (int k = 0; k < 5; k++, i++, t += 16 * NSEC_PER_SEC) {
                source_build_request(s, t, COOKIE + i, &req);
                rep = reply_to(t, 0, 0.006);
                rep.origin_ts = COOKIE + i;
                SourceReply r = source_process_reply(s, &rep, arrival(t, 0.006), NULL);
                assert_true(source_reply_answered(r));
                assert_int_equal(r, k < 4 ? SOURCE_REPLY_DELAYED : SOURCE_REPLY_OK);
                assert_int_equal(s->reach & 1, 1);
        }
        assert_int_equal(s->n_delayed, 4);
        assert_int_equal(sourcestats_count(&s->stats), held + 1);
        source_free(s);
}

/* Feeds replies first .. first + n - 1 from t on, at the source's own
 * poll, with round trips that vary by up to 100 us (network noise the
 * interval may grow against) and offsets offset(i) ahead; returns when the
 * next poll is due. */
static nsec_t feed(Source *s, nsec_t t, int first, int n, double (*offset)(int i)) {
        NtpPacket req, rep;

        for (int i = first; i < first + n; i++) {
                double delay = 0.001 + 100e-6 * ((i * 7) % 10) / 10;
                source_build_request(s, t, COOKIE + i, &req);
                rep = reply_to(t, offset(i), delay);
                rep.origin_ts = COOKIE + i;
                assert_int_equal(source_process_reply(s, &rep, arrival(t, delay), NULL), SOURCE_REPLY_OK);
                t += seconds_to_nsec(source_poll_interval(s));
        }
        return t;
}

/* n replies fed to a new source polled every 2^poll s (from minpoll when
 * poll is 0). */
static Source *fed_source(int n, int poll, double (*offset)(int i)) {
        Source *s = server(false);

        if (poll)
                s->poll = s->spec.minpoll = s->spec.maxpoll = poll;
        (void) feed(s, T0, 0, n, offset);
        return s;
}

static double steady(int i) {
        return 0;
}

/* A server that jumps 2 ms back and forth every 8 polls: the line through
 * the samples bends more than any noise explains. */
static double bending(int i) {
        return (i / 8) % 2 ? 2e-3 : 0;
}

/* Offsets that fit a line exactly: the poll grows. */
static void a_stable_source_polls_less_often(void **state) {
        Source *s = fed_source(40, 0, steady);

        assert_true(s->poll > 6);
        assert_true(s->poll <= 10);
        source_free(s);
}

static double ten_ms_behind(int i) {
        return -0.01;
}

/* A sample a hundred times further from its prediction than the noise
 * allows (the clock's frequency jumped since the last poll) takes the
 * poll down to minpoll at once, not one step per sample. */
static void a_far_miss_takes_the_poll_down_at_once(void **state) {
        Source *s = server(false);
        nsec_t t = feed(s, T0, 0, 40, steady);

        assert_true(s->poll >= 8);
        (void) feed(s, t, 40, 1, ten_ms_behind);
        assert_int_equal(s->poll, s->spec.minpoll);
        source_free(s);
}

/* Predictions that keep coming true over 4096 s show a clock that wanders
 * less than assumed: the estimate falls well below the prior, where a
 * fixed decay of 1 % a sample would leave it near. */
static void predictions_that_hold_lower_the_wander(void **state) {
        Source *s = fed_source(40, 12, steady);

        assert_true(s->stats.wander < SOURCESTATS_WANDER / 10);
        source_free(s);
}

/* Predictions that miss raise it, and the poll stays short. */
static void predictions_that_miss_raise_the_wander(void **state) {
        Source *s = fed_source(40, 0, bending);

        assert_true(s->stats.wander > SOURCESTATS_WANDER);
        assert_true(s->poll <= 7);
        source_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(requests_are_client_mode_with_the_cookie),
                cmocka_unit_test(peers_exchange_symmetric_packets),
                cmocka_unit_test(offset_and_delay_follow_rfc5905),
                cmocka_unit_test(arithmetic_holds_across_the_2036_era_boundary),
                cmocka_unit_test(a_good_reply_becomes_a_sample_and_sets_reach),
                cmocka_unit_test(the_kernel_transmit_timestamp_replaces_the_one_read_before_sending),
                cmocka_unit_test(a_hardware_transmit_timestamp_replaces_the_kernels),
                cmocka_unit_test(bad_replies_are_rejected_with_their_reason),
                cmocka_unit_test(a_transmit_timestamp_within_precision_before_receive_is_accepted),
                cmocka_unit_test(a_server_that_loses_sync_is_unusable_at_once),
                cmocka_unit_test(kod_rate_slows_down_and_deny_stops_use),
                cmocka_unit_test(a_kod_that_does_not_answer_our_request_changes_nothing),
                cmocka_unit_test(unsolicited_and_duplicate_replies_are_ignored),
                cmocka_unit_test(iburst_polls_every_two_seconds_then_minpoll),
                cmocka_unit_test(an_iburst_makes_up_for_a_lost_request),
                cmocka_unit_test(an_unanswered_iburst_ends_after_its_most_requests),
                cmocka_unit_test(without_iburst_polling_starts_at_minpoll),
                cmocka_unit_test(reach_shifts_in_zeros_for_lost_replies),
                cmocka_unit_test(a_loss_at_the_start_is_retried_sooner),
                cmocka_unit_test(a_server_that_never_answers_is_polled_as_usual_after_eight_requests),
                cmocka_unit_test(a_poll_without_a_request_counts_as_unanswered),
                cmocka_unit_test(a_stable_source_polls_less_often),
                cmocka_unit_test(a_far_miss_takes_the_poll_down_at_once),
                cmocka_unit_test(a_reply_held_far_longer_than_usual_gives_no_sample),
                cmocka_unit_test(predictions_that_hold_lower_the_wander),
                cmocka_unit_test(predictions_that_miss_raise_the_wander),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
