/* Tests for interleaved symmetric mode (src/core/xleave-sym.c through
 * source.c): two peers, each a real Source, exchange packets in a world
 * with explicit time. Peer 1's clock is PEER_OFFSET ahead of peer 0's;
 * every packet leaves SEND_LATENCY after the time its sender read before
 * sending (the kernel's transmit timestamp, which the sender learns) and
 * takes DELAY to arrive. So a basic sample is off by half the peer's
 * send latency, and an interleaved one is exact. The world answers a
 * packet at once where the daemon would (source_peer_wants_response()). */
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

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)
#define DELAY (300 * NSEC_PER_USEC)             /* one way */
#define PEER_OFFSET (2 * NSEC_PER_MSEC)         /* peer 1 ahead of peer 0 */
#define SEND_LATENCY (40 * NSEC_PER_USEC)       /* read before send to the wire */
#define HALF_POLL (8 * NSEC_PER_SEC)            /* the peers poll in turn */

/* What a basic sample measures: the peer's offset, less half its send
 * latency (its transmit field is read before the packet leaves). */
#define BASIC_ERROR (-(double) SEND_LATENCY / NSEC_PER_SEC / 2)

typedef struct Flight {
        NtpPacket packet;
        int to;
        nsec_t arrival;                 /* true time */
} Flight;

typedef struct World {
        Source *peer[2];
        bool xleave[2];
        nsec_t now;                     /* true time; peer 0's clock is right */
        int turn;                       /* whose poll is next */
        unsigned responses;             /* packets sent at once */
} World;

static nsec_t clock_of(const World *w, int i, nsec_t t) {
        return t + (i == 1 ? PEER_OFFSET : 0);
}

static Source *peer_new(bool xleave) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123) };
        SourceSpec spec = { .kind = SOURCE_KIND_PEER, .host = (char *) "192.0.2.5", .port = 123,
                            .minpoll = 4, .maxpoll = 4, .xleave = xleave };
        Source *s = NULL;

        inet_pton(AF_INET, "192.0.2.5", &a.sin_addr);
        assert_int_equal(source_new(1, &spec, "192.0.2.5", (struct sockaddr *) &a, sizeof a, &s), 0);
        return s;
}

static World *world_new(bool xleave0, bool xleave1) {
        World *w = calloc(1, sizeof(World));

        assert_non_null(w);
        w->xleave[0] = xleave0;
        w->xleave[1] = xleave1;
        w->peer[0] = peer_new(xleave0);
        w->peer[1] = peer_new(xleave1);
        w->now = T0;
        return w;
}

static void world_free(World *w) {
        source_free(w->peer[0]);
        source_free(w->peer[1]);
        free(w);
}

/* Peer i restarts: it forgets the association. */
static void restart(World *w, int i) {
        source_free(w->peer[i]);
        w->peer[i] = peer_new(w->xleave[i]);
}

/* Peer `from` sends a packet now: a poll, or one at once in answer. */
static Flight send_packet(World *w, int from, bool poll) {
        Source *s = w->peer[from];
        nsec_t read = clock_of(w, from, w->now);
        NtpTimestamp cookie = ntp_timestamp_from_nsec(read) | 1;
        Flight f = { .to = 1 - from, .arrival = w->now + SEND_LATENCY + DELAY };

        if (poll)
                source_build_request(s, read, cookie, &f.packet);
        else
                source_build_response(s, read, cookie, &f.packet);
        /* The daemon's header: a synchronised stratum-2 system. */
        f.packet.leap = NTP_LEAP_NONE;
        f.packet.stratum = 2;
        source_request_sent(s, read);
        source_peer_timestamped(s, f.packet.transmit_ts, read + SEND_LATENCY, TIMESTAMP_KERNEL);
        return f;
}

/* Delivers a packet, and what it is answered with at once. Returns what
 * the receiver made of it. */
static SourceReply deliver(World *w, const Flight *f) {
        Source *s = w->peer[f->to];
        nsec_t t4 = clock_of(w, f->to, f->arrival);

        w->now = MAX(w->now, f->arrival);
        SourceReply r = source_process_reply(s, &f->packet, t4, NULL);
        if (source_peer_wants_response(s, r, &f->packet, t4)) {
                w->responses++;
                Flight answer = send_packet(w, f->to, false);
                (void) deliver(w, &answer);
        }
        return r;
}

/* The next poll, half a poll after the last; the other peer's turn next. */
static Flight next_poll(World *w) {
        int from = w->turn;

        w->turn = 1 - w->turn;
        w->now += HALF_POLL;
        return send_packet(w, from, true);
}

static Flight poll_from(World *w, int from) {
        w->turn = from;
        return next_poll(w);
}

static SourceReply deliver_poll(World *w, int from) {
        Flight f = poll_from(w, from);
        return deliver(w, &f);
}

static SourceReply step(World *w) {
        Flight f = next_poll(w);
        return deliver(w, &f);
}

/* How far peer i's last sample is from the truth (peer 1 is ahead). */
static double offset_error(const World *w, int i) {
        double truth = (double) PEER_OFFSET / NSEC_PER_SEC * (i == 0 ? 1 : -1);
        return w->peer[i]->last_sample.offset - truth;
}

/* Samples peer i took. */
static uint64_t samples(const World *w, int i) {
        return w->peer[i]->n_tx_kernel + w->peer[i]->n_tx_daemon;
}

/* From the first packet to both peers' first interleaved samples. */
static void warm_up(World *w) {
        for (int i = 0; i < 7; i++)
                (void) step(w);
}

static void assert_both_interleaved_and_exact(const World *w) {
        for (int i = 0; i < 2; i++) {
                assert_true(source_last_interleaved(w->peer[i]));
                assert_near(offset_error(w, i), 0, 1e-8);
                assert_near(w->peer[i]->last_sample.delay, 2.0 * DELAY / NSEC_PER_SEC, 1e-8);
        }
}

static void an_interleaved_exchange_measures_exactly(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        /* Steady state: each packet is an interleaved answer, and its
         * transmit field is when the sender's previous packet left. */
        for (int i = 0; i < 6; i++) {
                int from = w->turn;
                nsec_t previous_tx = w->peer[from]->sym.sent.tx;
                Flight f = next_poll(w);
                assert_int_equal(f.packet.transmit_ts, ntp_timestamp_from_nsec(previous_tx));
                assert_int_equal(deliver(w, &f), SOURCE_REPLY_OK);
                assert_both_interleaved_and_exact(w);
                assert_int_equal(w->peer[f.to]->sample_tx_kind, TIMESTAMP_KERNEL);
        }
        assert_int_equal(w->responses, 1);      /* only to the very first packet */
        world_free(w);
}

static void basic_first_then_interleaved(void **state) {
        World *w = world_new(true, true);

        /* Peer 0's first poll finds nothing to answer: peer 1 answers at
         * once, in basic mode, and peer 0 has a basic sample. */
        Flight f = next_poll(w);
        assert_int_equal(f.packet.origin_ts, 0);
        assert_int_equal(deliver(w, &f), SOURCE_REPLY_UNEXPECTED);
        assert_false(source_last_interleaved(w->peer[0]));
        assert_int_equal(samples(w, 0), 1);
        assert_near(offset_error(w, 0), BASIC_ERROR, 1e-8);

        /* Then each side switches to interleaved mode, and a sample is
         * never taken twice of one exchange. */
        warm_up(w);
        assert_both_interleaved_and_exact(w);
        uint64_t n0 = samples(w, 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(step(w), SOURCE_REPLY_OK);
        assert_int_equal(samples(w, 0), n0 + 2);
        world_free(w);
}

static void a_lost_packet_costs_one_exchange(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        (void) next_poll(w);                    /* lost */
        uint64_t n[2] = { samples(w, 0), samples(w, 1) };
        for (int i = 0; i < 8; i++) {
                SourceReply r = step(w);
                assert_true(r == SOURCE_REPLY_OK || r == SOURCE_REPLY_NO_SAMPLE || r == SOURCE_REPLY_BOGUS ||
                            r == SOURCE_REPLY_UNEXPECTED);
                /* Never a sample paired across the lost packet. */
                for (int k = 0; k < 2; k++)
                        assert_true(samples(w, k) == n[k] ||
                                    fabs(offset_error(w, k)) <= -BASIC_ERROR + 1e-8);
        }
        assert_both_interleaved_and_exact(w);
        assert_true(samples(w, 0) >= n[0] + 2);
        world_free(w);
}

static void a_duplicate_packet_is_dropped(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        Flight f = next_poll(w);
        assert_int_equal(deliver(w, &f), SOURCE_REPLY_OK);
        SourceSample before = w->peer[f.to]->last_sample;
        XleaveSym sym;
        memcpy(&sym, &w->peer[f.to]->sym, sizeof sym);
        unsigned responses = w->responses;
        assert_int_equal(deliver(w, &f), SOURCE_REPLY_DUPLICATE);
        /* Nothing changed, and nothing was sent in answer. */
        assert_memory_equal(&sym, &w->peer[f.to]->sym, sizeof sym);
        assert_true(before.offset == w->peer[f.to]->last_sample.offset);
        assert_int_equal(w->responses, responses);
        assert_int_equal(step(w), SOURCE_REPLY_OK);
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

static void a_reordered_packet_gives_no_sample(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        /* Peer 1 polls twice; the first packet arrives after the second. */
        assert_int_equal(w->turn, 1);
        Flight late = next_poll(w);
        w->turn = 1;
        Flight next = next_poll(w);
        late.arrival = next.arrival + DELAY;
        /* The second, sent with the first unanswered, is basic: a good
         * answer to peer 0's latest packet. */
        assert_int_equal(deliver(w, &next), SOURCE_REPLY_OK);
        assert_false(source_last_interleaved(w->peer[0]));
        assert_near(offset_error(w, 0), BASIC_ERROR, 1e-8);
        /* The first names a packet of peer 0's that is no longer its
         * last: no sample. */
        uint64_t n0 = samples(w, 0);
        SourceReply r = deliver(w, &late);
        assert_true(r == SOURCE_REPLY_BOGUS || r == SOURCE_REPLY_UNEXPECTED);
        assert_int_equal(samples(w, 0), n0);
        w->turn = 0;
        warm_up(w);
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

static void a_restarted_peer_is_picked_up_again(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        restart(w, 1);
        uint64_t n0 = samples(w, 0);
        for (int i = 0; i < 8; i++) {
                (void) step(w);
                if (samples(w, 0) > n0)
                        assert_true(fabs(offset_error(w, 0)) <= -BASIC_ERROR + 1e-8);
        }
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

static void a_basic_peer_is_used_in_basic_mode(void **state) {
        World *w = world_new(true, false);

        /* Peer 1 rejects peer 0's interleaved packets and answers them in
         * basic mode: after XLEAVE_MAX_BASIC of those peer 0 falls back. */
        for (int i = 0; i < 6 * XLEAVE_MAX_BASIC; i++) {
                (void) step(w);
                assert_false(source_last_interleaved(w->peer[0]));
        }
        assert_true(w->peer[0]->sym.retry_in > 0);
        assert_false(xleave_sym_active(&w->peer[0]->sym));
        /* Both take basic samples now, from basic packets only. */
        uint64_t n[2] = { samples(w, 0), samples(w, 1) };
        for (int i = 0; i < 8; i++) {
                Flight f = next_poll(w);
                assert_int_equal(f.packet.transmit_ts,
                                 ntp_timestamp_from_nsec(clock_of(w, 1 - f.to, w->now)) | 1);
                if (deliver(w, &f) == SOURCE_REPLY_OK)
                        assert_near(offset_error(w, f.to), BASIC_ERROR, 1e-8);
        }
        assert_true(samples(w, 0) >= n[0] + 3);
        assert_true(samples(w, 1) >= n[1] + 3);
        for (int i = 0; i < 2; i++)
                assert_near(offset_error(w, i), BASIC_ERROR, 1e-8);
        assert_int_equal(w->peer[0]->sym.n_interleaved, 0);
        world_free(w);
}

static void back_to_basic_when_the_peer_stops_interleaving(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        assert_both_interleaved_and_exact(w);
        /* Peer 1 restarts without xleave: peer 0 keeps measuring, in
         * basic mode, and stops sending interleaved packets. */
        w->xleave[1] = false;
        restart(w, 1);
        for (int i = 0; i < 6 * XLEAVE_MAX_BASIC; i++)
                (void) step(w);
        assert_false(xleave_sym_active(&w->peer[0]->sym));
        uint64_t n0 = samples(w, 0);
        for (int i = 0; i < 4; i++) {
                Flight f = next_poll(w);
                if (deliver(w, &f) == SOURCE_REPLY_OK)
                        assert_near(offset_error(w, f.to), BASIC_ERROR, 1e-8);
                assert_false(source_last_interleaved(w->peer[f.to]));
        }
        assert_true(samples(w, 0) > n0);
        /* Once the peer sends interleaved packets again, so does peer 0,
         * without waiting for its retry. */
        w->xleave[1] = true;
        restart(w, 1);
        assert_true(w->peer[0]->sym.retry_in > 4);
        for (int i = 0; i < 8; i++)             /* 4 polls of peer 0 */
                (void) step(w);
        assert_int_equal(w->peer[0]->sym.retry_in, 0);
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

static void without_xleave_packets_stay_basic(void **state) {
        World *w = world_new(false, false);

        for (int i = 0; i < 8; i++) {
                Flight f = next_poll(w);
                /* RFC 5905: origin is the peer's last transmit field. */
                if (w->peer[1 - f.to]->sym.received.valid)
                        assert_int_equal(f.packet.origin_ts, w->peer[1 - f.to]->sym.received.remote_tx);
                (void) deliver(w, &f);
        }
        for (int i = 0; i < 2; i++) {
                assert_false(source_last_interleaved(w->peer[i]));
                assert_int_equal(source_interleaved_count(w->peer[i]), 0);
                assert_near(offset_error(w, i), BASIC_ERROR, 1e-8);
        }
        world_free(w);
}

/* Two peers whose polls cross answer each other at once only once. */
static void crossed_polls_do_not_answer_each_other_forever(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        w->now += HALF_POLL;
        Flight a = send_packet(w, 0, true);
        Flight b = send_packet(w, 1, true);
        unsigned responses = w->responses;
        (void) deliver(w, &a);
        (void) deliver(w, &b);
        assert_true(w->responses - responses <= 2);
        warm_up(w);
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

/* A step of our clock moves the saved local times with it: the next
 * interleaved sample sees the step, not half of it. */
static void a_clock_step_moves_the_saved_times(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        XleaveSym before = w->peer[0]->sym;
        source_apply_clock_change(w->peer[0], clock_of(w, 0, w->now), 0, 0.001);
        assert_int_equal(w->peer[0]->sym.sent.tx, before.sent.tx + NSEC_PER_MSEC);
        assert_int_equal(w->peer[0]->sym.received.rx, before.received.rx + NSEC_PER_MSEC);
        /* What went on the wire is left alone. */
        assert_int_equal(w->peer[0]->sym.received.rx_wire, before.received.rx_wire);
        assert_int_equal(w->peer[0]->sym.sent.tx_wire, before.sent.tx_wire);
        world_free(w);
}

/* Our receive time of the peer's packet went out in two of ours, and the
 * second was lost: the peer's interleaved answer to the first must not be
 * taken for an answer to the second (which would pair the second's
 * transmit time with the first's receive time on both sides). */
static void an_echo_of_two_packets_answers_neither(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        assert_int_equal(deliver_poll(w, 1), SOURCE_REPLY_OK);
        assert_int_equal(deliver_poll(w, 0), SOURCE_REPLY_OK);
        (void) poll_from(w, 0);                         /* lost */
        Flight f = poll_from(w, 1);
        assert_int_equal(f.packet.origin_ts, w->peer[1]->sym.received.remote_rx);
        SourceReply r = deliver(w, &f);
        assert_true(r == SOURCE_REPLY_BOGUS || r == SOURCE_REPLY_UNEXPECTED);
        for (int i = 0; i < 8; i++) {
                uint64_t n[2] = { samples(w, 0), samples(w, 1) };
                (void) step(w);
                for (int k = 0; k < 2; k++)
                        if (samples(w, k) > n[k])
                                assert_true(fabs(offset_error(w, k)) <= -BASIC_ERROR + 1e-8);
        }
        assert_both_interleaved_and_exact(w);
        world_free(w);
}

/* A kernel transmit timestamp names its packet by the transmit field:
 * one for another packet, or too late, leaves the send time alone. */
static void a_transmit_timestamp_must_name_our_latest_packet(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        Flight f = next_poll(w);
        Source *s = w->peer[1 - f.to];
        XsymSent sent;
        memcpy(&sent, &s->sym.sent, sizeof sent);
        assert_true(sent.tx_kernel);
        source_peer_timestamped(s, f.packet.transmit_ts ^ 1, sent.tx + 1, TIMESTAMP_KERNEL);
        source_peer_timestamped(s, f.packet.transmit_ts, sent.tx + NSEC_PER_SEC, TIMESTAMP_KERNEL);
        assert_memory_equal(&sent, &s->sym.sent, sizeof sent);

        XleaveSym x;
        xleave_sym_init(&x, true);
        xleave_sym_sent(&x, 0x1234, T0);
        assert_false(xleave_sym_tx_timestamp(&x, 0x1234, T0 - 1, NSEC_PER_SEC));
        assert_false(xleave_sym_tx_timestamp(&x, 0x1234, T0 + 2 * NSEC_PER_SEC, NSEC_PER_SEC));
        assert_true(xleave_sym_tx_timestamp(&x, 0x1234, T0 + 5, NSEC_PER_SEC));
        assert_int_equal(x.sent.tx_wire, ntp_timestamp_from_nsec(T0 + 5));
        world_free(w);
}

/* A packet of another mode is not the peer's: it changes nothing. */
static void a_server_mode_packet_changes_nothing(void **state) {
        World *w = world_new(true, true);

        warm_up(w);
        Flight f = next_poll(w);
        Source *s = w->peer[f.to];
        XleaveSym before;
        memcpy(&before, &s->sym, sizeof before);
        f.packet.mode = NTP_MODE_SERVER;
        assert_int_equal(deliver(w, &f), SOURCE_REPLY_BAD_MODE);
        assert_memory_equal(&before, &s->sym, sizeof before);
        world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(an_interleaved_exchange_measures_exactly),
                cmocka_unit_test(basic_first_then_interleaved),
                cmocka_unit_test(a_lost_packet_costs_one_exchange),
                cmocka_unit_test(a_duplicate_packet_is_dropped),
                cmocka_unit_test(a_reordered_packet_gives_no_sample),
                cmocka_unit_test(a_restarted_peer_is_picked_up_again),
                cmocka_unit_test(a_basic_peer_is_used_in_basic_mode),
                cmocka_unit_test(back_to_basic_when_the_peer_stops_interleaving),
                cmocka_unit_test(without_xleave_packets_stay_basic),
                cmocka_unit_test(crossed_polls_do_not_answer_each_other_forever),
                cmocka_unit_test(a_clock_step_moves_the_saved_times),
                cmocka_unit_test(an_echo_of_two_packets_answers_neither),
                cmocka_unit_test(a_transmit_timestamp_must_name_our_latest_packet),
                cmocka_unit_test(a_server_mode_packet_changes_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
