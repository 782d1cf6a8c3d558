/* One NTP source: polling, reply checks and samples (see source.h). */
#include <assert.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "core/source.h"
#include "shared/macro.h"

/* Delays below this are rounded up (loopback can measure 0 or less). */
#define MIN_DELAY 1e-7
/* A sample within this many standard deviations of its prediction raises
 * the poll score; beyond POLL_BAD_SIGMAS it lowers it (see adapt_poll). */
#define POLL_GOOD_SIGMAS 1.0
#define POLL_BAD_SIGMAS 2.0
#define POLL_WANDER_SHARE 4.0
/* The step of the wander estimate's log along the slope of a prediction's
 * log-likelihood, and the miss (in standard deviations) beyond which the
 * estimate is doubled instead (see adapt_wander()). */
#define WANDER_RATE 0.5
#define WANDER_MISS_SIGMAS 2.5
/* A kernel transmit timestamp later than this after the time read before
 * sending belongs to something else. */
#define TX_TIMESTAMP_MAX_LAG (NSEC_PER_SEC / 10)
/* The poll is raised only once the regression holds this many samples:
 * fewer leave each estimate at the mercy of a few noisy ones, and a longer
 * poll would make the next ones arrive later still. */
#define POLL_TARGET_SAMPLES 8
/* What one good prediction adds to the poll score: a longer poll takes
 * eight of them, about as many samples as the regression needs to carry
 * an estimate through twice the gap. */
#define POLL_GOOD_SCORE 0.125
/* The delay test (chrony's maxdelaydevratio): a sample whose round trip
 * exceeds the least one held by more than this many times the samples'
 * spread (around their line, or as their delays say, whichever is more)
 * was held up somewhere (a queue, a busy machine), and its offset is off
 * by up to half of that; from
 * DELAY_TEST_MIN_SAMPLES samples on (an iburst's few samples, seconds
 * apart, understate the spread). After DELAY_TEST_MAX_IN_ROW such
 * samples in a row the path itself is taken to have changed, and samples
 * are used again until one passes. */
#define DELAY_DEV_RATIO 10.0
#define DELAY_TEST_MIN_SAMPLES 8
#define DELAY_TEST_MAX_IN_ROW 4
/* Spread below which the test still allows this much (seconds): the
 * timestamps' own precision. */
#define DELAY_TEST_MIN_SPREAD 1e-6

/* The reachability register's length (RFC 5905: eight polls). */
#define REACH_POLLS 8

static const char *const source_reply_names[_SOURCE_REPLY_MAX] = {
        [SOURCE_REPLY_OK] = "ok",
        [SOURCE_REPLY_UNEXPECTED] = "unexpected",
        [SOURCE_REPLY_BOGUS] = "bogus origin timestamp",
        [SOURCE_REPLY_DUPLICATE] = "duplicate",
        [SOURCE_REPLY_BAD_MODE] = "bad mode",
        [SOURCE_REPLY_KOD] = "kiss-o'-death",
        [SOURCE_REPLY_UNSYNCHRONIZED] = "server unsynchronized",
        [SOURCE_REPLY_BAD_TIMESTAMPS] = "bad timestamps",
        [SOURCE_REPLY_BAD_DISTANCE] = "root distance too large",
        [SOURCE_REPLY_NO_SAMPLE] = "interleaved reply for an exchange already measured",
        [SOURCE_REPLY_DELAYED] = "round trip far longer than usual",
};

bool source_reply_answered(SourceReply r) {
        return r == SOURCE_REPLY_OK || r == SOURCE_REPLY_NO_SAMPLE || r == SOURCE_REPLY_DELAYED;
}

const char *source_reply_to_string(SourceReply r) {
        return r >= 0 && r < _SOURCE_REPLY_MAX ? source_reply_names[r] : NULL;
}

/* Our reference ID while this source is the system peer: its IPv4 address,
 * or for IPv6 a 32-bit hash of the address. */
static uint32_t refid_for_address(const struct sockaddr *a) {
        if (a->sa_family == AF_INET)
                return ntohl(((const struct sockaddr_in *) a)->sin_addr.s_addr);
        if (a->sa_family == AF_INET6) {
                const uint8_t *b = ((const struct sockaddr_in6 *) a)->sin6_addr.s6_addr;
                uint32_t h = 2166136261u;       /* FNV-1a */
                for (int i = 0; i < 16; i++)
                        h = (h ^ b[i]) * 16777619u;
                return h;
        }
        return 0;
}

static void format_address(const struct sockaddr *a, char *buf, size_t size) {
        const void *addr = a->sa_family == AF_INET6 ? (const void *) &((const struct sockaddr_in6 *) a)->sin6_addr
                                                    : (const void *) &((const struct sockaddr_in *) a)->sin_addr;
        if (!inet_ntop(a->sa_family, addr, buf, size))
                snprintf(buf, size, "?");
}

int source_new(unsigned id, const SourceSpec *spec, const char *name,
               const struct sockaddr *address, socklen_t address_len, Source **ret) {
        _cleanup_(source_freep) Source *s = NULL;
        int r;

        if (address_len > sizeof(struct sockaddr_storage))
                return -EINVAL;
        s = calloc(1, sizeof(Source));
        if (!s)
                return -ENOMEM;
        r = source_spec_copy(&s->spec, spec);
        if (r < 0)
                return r;
        s->name = strdup(name);
        if (!s->name)
                return -ENOMEM;
        s->id = id;
        memcpy(&s->address, address, address_len);
        s->address_len = address_len;
        format_address(address, s->address_string, sizeof s->address_string);
        s->refid = refid_for_address(address);
        s->poll = spec->minpoll;
        s->stratum = NTP_MAX_STRATUM;
        s->leap = NTP_LEAP_UNSYNC;
        s->state = SELECT_UNUSABLE;
        xleave_init(&s->xleave, spec->xleave && spec->kind != SOURCE_KIND_PEER);
        xleave_sym_init(&s->sym, spec->xleave && spec->kind == SOURCE_KIND_PEER);
        sourcestats_init(&s->stats);
        *ret = TAKE_PTR(s);
        return 0;
}

Source *source_free(Source *s) {
        if (!s)
                return NULL;
        source_spec_done(&s->spec);
        free(s->name);
        free(s);
        return NULL;
}

void source_start(Source *s) {
        if (s->spec.iburst)
                source_burst(s);
}

void source_burst(Source *s) {
        s->burst_left = SOURCE_IBURST_COUNT;
        s->burst_requests_left = SOURCE_IBURST_MAX_REQUESTS;
}

static void source_end_burst(Source *s) {
        s->burst_left = 0;
        s->burst_requests_left = 0;
}

/* Whether the next request still belongs to the burst: a burst goes on
 * until SOURCE_IBURST_COUNT replies, counting the one awaited now (the
 * next poll is scheduled as a request leaves), so that a lost request is
 * made up for within the burst, as chrony's iburst does, up to
 * SOURCE_IBURST_MAX_REQUESTS requests. Only the loss of the last one is
 * seen too late: it is made up for at the next poll. */
static bool source_in_burst(const Source *s) {
        return s->burst_left > (s->waiting ? 1u : 0u);
}

/* Whether a lost exchange is holding up the source's start. The first
 * clock update needs two samples (engine.c), and until then every request
 * that goes unanswered costs a whole poll with the clock still as far off
 * as it started: with 30 % of packets lost each way half the exchanges
 * fail, one start in eight loses its first three polls, and at 64 s the
 * clock was still 0.1 s off after six minutes on 4 seeds of 20 in the
 * simulator. Once a request has gone unanswered, the next ones go at
 * SOURCE_RETRY_FRACTION of the interval until the source has answered
 * SOURCE_RETRY_REPLIES times: two for the first update, two more because
 * that update's frequency comes from samples a quarter poll apart and is
 * corrected only by the next ones. Never for a peer (its polls keep time
 * with the peer's), and only while the source answered within the
 * reachability register's REACH_POLLS polls or has had fewer requests, so
 * that a server which never answers is soon polled as usual. */
static bool source_retrying_start(const Source *s) {
        uint64_t settled = s->n_requests - (s->waiting ? 1 : 0);

        if (source_is_peer(s) || s->n_replies >= SOURCE_RETRY_REPLIES || settled <= s->n_replies)
                return false;
        return s->reach != 0 || s->n_requests < REACH_POLLS;
}

double source_poll_interval(const Source *s) {
        double poll = ldexp(1.0, s->poll);
        /* A burst never slows down a source polled faster than it. */
        if (source_in_burst(s))
                return MIN(SOURCE_BURST_INTERVAL, poll);
        if (source_retrying_start(s))
                return MIN(MAX(SOURCE_BURST_INTERVAL, poll * SOURCE_RETRY_FRACTION), poll);
        return poll;
}

/* RFC 5905 section 13: shift the reachability register at every poll; a
 * valid reply sets the low bit. */
static void source_shift_reach(Source *s) {
        s->reach <<= 1;
        s->polls_unreachable = s->reach == 0 ? s->polls_unreachable + 1 : 0;
}

/* The burst goes on once requests can go. */
void source_poll_without_request(Source *s) {
        source_shift_reach(s);
        s->waiting = false;
        s->n_polls_without_request++;
}

/* The receive cookie of an interleaved request: as unpredictable as the
 * transmit cookie it is mixed from (splitmix64's finaliser), never zero and
 * never equal to it. */
static uint64_t rx_cookie_from(uint64_t cookie) {
        uint64_t z = cookie + UINT64_C(0x9e3779b97f4a7c15);
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        z ^= z >> 31;
        return z == 0 || z == cookie ? ~cookie | 1 : z;
}

/* The packet itself: client mode, or symmetric active for a peer, which
 * echoes the peer's last packet (RFC 5905 section 9, or interleaved, see
 * xleave-sym.h). poll: not a packet sent at once in answer to the peer. */
static void fill_request(Source *s, bool poll, nsec_t now, uint64_t cookie, NtpPacket *ret) {
        s->waiting = true;
        s->t1 = now;
        s->n_requests++;

        *ret = (NtpPacket) {
                .leap = NTP_LEAP_UNSYNC,
                .version = NTP_VERSION,
                .mode = NTP_MODE_CLIENT,
                .poll = (int8_t) s->poll,
                .precision = CLOCK_PRECISION_LOG2,
                .transmit_ts = cookie,
        };
        if (source_is_peer(s)) {
                ret->mode = NTP_MODE_SYMMETRIC_ACTIVE;
                (void) xleave_sym_prepare(&s->sym, poll, cookie, ret);
        }
        s->cookie = ret->transmit_ts;
}

void source_build_request(Source *s, nsec_t now, uint64_t cookie, NtpPacket *ret) {
        bool answered = !s->waiting;

        source_shift_reach(s);
        /* A burst that wants replies has requests left: the last one ends it. */
        if (s->burst_left > 0 && --s->burst_requests_left == 0)
                source_end_burst(s);
        fill_request(s, true, now, cookie, ret);
        if (!source_is_peer(s))
                xleave_prepare_request(&s->xleave, answered, rx_cookie_from(cookie), ret);
}

void source_build_response(Source *s, nsec_t now, uint64_t cookie, NtpPacket *ret) {
        assert(source_is_peer(s));
        fill_request(s, false, now, cookie, ret);
}

bool source_peer_wants_response(const Source *s, SourceReply r, const NtpPacket *p, nsec_t t4) {
        if (!source_is_peer(s) || p->mode != NTP_MODE_SYMMETRIC_ACTIVE)
                return false;
        if (r != SOURCE_REPLY_BOGUS && r != SOURCE_REPLY_UNEXPECTED)
                return false;
        if (s->sym.sent.valid && t4 - s->t1 < SOURCE_RESPONSE_MIN_GAP)
                return false;
        /* UNEXPECTED: an answer to our latest packet that has one already,
         * or the peer's own poll. */
        return !(s->sym.enabled && r == SOURCE_REPLY_UNEXPECTED && s->sym.received.answered);
}

bool source_last_interleaved(const Source *s) {
        return source_is_peer(s) ? s->sym.last_interleaved : s->xleave.last_interleaved;
}

uint64_t source_interleaved_count(const Source *s) {
        return source_is_peer(s) ? s->sym.n_interleaved : s->xleave.n_interleaved;
}

void source_request_sent(Source *s, nsec_t t1) {
        s->t1 = s->t1_sent = t1;
        s->t1_kind = TIMESTAMP_DAEMON;
        if (source_is_peer(s))
                xleave_sym_sent(&s->sym, s->cookie, t1);
}

void source_request_timestamped(Source *s, nsec_t t1, TimestampKind kind) {
        if (!s->waiting || kind <= s->t1_kind || t1 < s->t1_sent || t1 - s->t1_sent > TX_TIMESTAMP_MAX_LAG)
                return;
        s->t1 = t1;
        s->t1_kind = kind;
}

static void count_tx_kind(Source *s, TimestampKind kind) {
        uint64_t *counter = kind == TIMESTAMP_HARDWARE ? &s->n_tx_hardware
                            : kind == TIMESTAMP_KERNEL ? &s->n_tx_kernel : &s->n_tx_daemon;
        (*counter)++;
        s->sample_tx_kind = kind;
}

void source_peer_timestamped(Source *s, NtpTimestamp transmit, nsec_t t1, TimestampKind kind) {
        if (kind <= TIMESTAMP_DAEMON || !xleave_sym_tx_timestamp(&s->sym, transmit, t1, TX_TIMESTAMP_MAX_LAG))
                return;
        s->t1 = t1;
        s->t1_kind = kind;
}

void ntp_sample_compute(nsec_t t1, NtpTimestamp t2, NtpTimestamp t3, nsec_t t4,
                        double *ret_offset, double *ret_delay) {
        /* T2 and T3 are the server's; express them relative to T1 in exact
         * integer arithmetic first (era resolved around T1). */
        NtpTimestamp n1 = ntp_timestamp_from_nsec(t1);
        double d21 = ntp_timestamp_diff(t2, n1);        /* T2 - T1 */
        double d34 = ntp_timestamp_diff(t3, n1) - nsec_diff(t4, t1);   /* T3 - T4 */
        double d41 = nsec_diff(t4, t1);                 /* T4 - T1 */
        double d32 = ntp_timestamp_diff(t3, t2);        /* T3 - T2 */

        *ret_offset = (d21 + d34) / 2;
        *ret_delay = d41 - d32;
}

/* How much earlier than T2 a server's T3 may read: the random bits below
 * its precision in each of them, with a microsecond to spare. */
static double server_rounding(const NtpPacket *p) {
        return 2 * ldexp(1.0, MIN(p->precision, 0)) + 1e-6;
}

/* A reply's transmit timestamp must be new: in basic mode not the last
 * reply's, in interleaved mode not the last interleaved one's, and no
 * earlier than the receive timestamp it pairs with. */
static SourceReply check_fresh(const Source *s, const NtpPacket *p, XleaveReply kind) {
        if (kind == XLEAVE_REPLY_INTERLEAVED)
                return xleave_reply_is_stale(&s->xleave, p, server_rounding(p)) ? SOURCE_REPLY_DUPLICATE
                                                                                : SOURCE_REPLY_OK;
        if (s->has_reply && p->transmit_ts == s->last_transmit)
                return SOURCE_REPLY_DUPLICATE;
        return SOURCE_REPLY_OK;
}

/* What an answer is: a server's reply (xleave.h) or a peer's packet
 * (xleave-sym.h), and whether it is interleaved. */
typedef struct AnswerKind {
        XleaveReply reply;
        XsymKind packet;
        bool interleaved;
} AnswerKind;

/* A peer's packet: a duplicate is dropped before anything else (it must
 * not become what we echo, nor be answered). */
static SourceReply check_peer_origin(const Source *s, const NtpPacket *p, AnswerKind *k) {
        k->packet = xleave_sym_classify(&s->sym, p);
        k->interleaved = k->packet == XSYM_INTERLEAVED;
        if (k->packet == XSYM_DUPLICATE)
                return SOURCE_REPLY_DUPLICATE;
        if (!s->waiting)
                return SOURCE_REPLY_UNEXPECTED;
        if (k->packet == XSYM_BOGUS)
                return SOURCE_REPLY_BOGUS;
        if (k->interleaved && xleave_sym_is_stale(&s->sym, p, server_rounding(p)))
                return SOURCE_REPLY_DUPLICATE;
        return SOURCE_REPLY_OK;
}

static SourceReply check_server_origin(const Source *s, const NtpPacket *p, AnswerKind *k) {
        if (!s->waiting)
                return SOURCE_REPLY_UNEXPECTED;
        k->reply = xleave_classify(&s->xleave, s->cookie, p);
        k->interleaved = k->reply == XLEAVE_REPLY_INTERLEAVED;
        if (k->reply == XLEAVE_REPLY_FOREIGN)
                return SOURCE_REPLY_BOGUS;
        return check_fresh(s, p, k->reply);
}

static SourceReply check_header(const Source *s, const NtpPacket *p, char kod[static 5], AnswerKind *k) {
        SourceReply r;

        if (!source_is_peer(s) ? p->mode != NTP_MODE_SERVER
                               : p->mode != NTP_MODE_SYMMETRIC_ACTIVE && p->mode != NTP_MODE_SYMMETRIC_PASSIVE)
                return !s->waiting && !source_is_peer(s) ? SOURCE_REPLY_UNEXPECTED : SOURCE_REPLY_BAD_MODE;
        r = source_is_peer(s) ? check_peer_origin(s, p, k) : check_server_origin(s, p, k);
        if (r != SOURCE_REPLY_OK)
                return r;
        if (ntp_packet_is_kod(p, kod))
                return SOURCE_REPLY_KOD;
        if (p->leap == NTP_LEAP_UNSYNC || p->stratum == 0 || p->stratum >= NTP_MAX_STRATUM)
                return SOURCE_REPLY_UNSYNCHRONIZED;
        /* A server fills the bits below its precision with random ones,
         * and one that answers within its precision may well give a
         * transmit timestamp a little before its receive timestamp (RFC
         * 5905 does not ask T3 >= T2). Only zero timestamps, and a
         * transmit timestamp earlier than the receive timestamp by more
         * than both roundings could explain, are impossible. (An
         * interleaved reply's transmit timestamp is the previous reply's,
         * checked against its own receive timestamp by check_fresh().) */
        if (p->receive_ts == 0 || p->transmit_ts == 0 ||
            (!k->interleaved &&
             ntp_timestamp_diff(p->transmit_ts, p->receive_ts) < -server_rounding(p)))
                return SOURCE_REPLY_BAD_TIMESTAMPS;
        if (ntp_short_to_seconds(p->root_delay) / 2 + ntp_short_to_seconds(p->root_dispersion) >=
            NTP_MAX_DISPERSION)
                return SOURCE_REPLY_BAD_DISTANCE;
        return SOURCE_REPLY_OK;
}

/* RFC 5905 section 7.4: DENY and RSTR mean the server will not serve
 * us: stop sending to it. RATE means too often: back off (RFC 9109 and
 * chrony: a poll interval at least the one the server asks for, and one
 * step longer than ours, within maxpoll), but never stop for it: one
 * forged or mistaken packet must not silence a source. A burst in progress
 * ends. Only a KoD that answers our request (origin checked) gets here. */
static void handle_kod(Source *s, const NtpPacket *p, const char *code) {
        if (streq(code, "DENY") || streq(code, "RSTR")) {
                s->kod_deny = true;
                source_end_burst(s);
        } else if (streq(code, "RATE")) {
                int poll = MAX(s->poll + 1, MIN(p->poll, SOURCE_MAX_POLL));
                s->poll = MIN(poll, s->spec.maxpoll);
                source_end_burst(s);
                s->n_rate_kods++;
        }
}

bool source_wants_polls(const Source *s) {
        return !s->kod_deny;
}

/* The wander that the prediction test cannot see yet: a quarter of the
 * typical sample noise, as much as the wander estimate w can add over an
 * interval (w tau^3/2 / sqrt(3)). Beyond that, a longer interval would
 * let the clock's own drift, not the network, limit the accuracy: with
 * the assumed 2e-9 and 100 us of jitter each way this stops at 512 s, with
 * ten times the jitter at 2048 s. */
static bool wander_allows(const SourceStats *stats, int poll) {
        double tau = ldexp(1.0, poll);
        double drift = stats->wander * pow(tau, 1.5) / sqrt(3.0);
        return drift <= sourcestats_typical_noise(stats) / POLL_WANDER_SHARE;
}

/* The wander estimate w, learned from one prediction error r of predicted
 * variance v = v0 + w^2 c (c = gap^3 / 3, see adapt_poll()). The error's
 * log-likelihood, -(log v + r^2 / v) / 2, has the slope
 *     share (z^2 - 1) / 2 in log w^2, share = w^2 c / v, z^2 = r^2 / v:
 * w moves along it, by WANDER_RATE, up when predictions miss by more than
 * the model expects and down when they hit closer, in proportion to the
 * part the wander has in v. It settles where E[z^2] = 1, the
 * maximum-likelihood wander (a stochastic approximation). Where the
 * wander has no part (short polls, large noise), nothing moves it. A miss
 * beyond WANDER_MISS_SIGMAS shows the model wrong rather than noisy: w is
 * doubled, whatever its share, so that a tiny estimate can still grow.
 * Chance alone brings such a miss in one prediction of 80; at 2 standard
 * deviations (one in 22) the doublings outran the slope where the
 * wander's share is small, and a source whose server jumped now and then
 * kept its wander ten times too high and its poll at minpoll for good. */
static void adapt_wander(Source *s, double residual, double sigma, double wander_var) {
        double w = s->stats.wander;

        if (residual > WANDER_MISS_SIGMAS * sigma) {
                sourcestats_set_wander(&s->stats, w * 2);
                return;
        }
        double share = wander_var / (sigma * sigma);
        double z2 = residual * residual / (sigma * sigma);
        sourcestats_set_wander(&s->stats, w * exp(WANDER_RATE * share * (z2 - 1) / 2));
}

/* How many poll steps a miss of `ratio` times POLL_BAD_SIGMAS standard
 * deviations takes off at once: one, and one more for each doubling. A
 * miss that size is no noise: the clock's frequency (or the server's
 * time) has changed by about that many times what the model allows, and
 * the error a frequency change leaves between two samples grows with the
 * interval, so each halving of the poll halves the next miss. (chrony
 * lowers its poll by the log2 of a miss over the source's distance.) One
 * step at a time, a clock whose frequency jumped by 20 ppm while polled
 * every 512 s came down through 256 s and 128 s, and was more than 1 ms
 * off for 622 s after the jump (median of 40 seeds); at once, 457 s. */
static int poll_steps_down(double ratio) {
        return 1 + (int) floor(log2(CLAMP(ratio, 1.0, 1e9)));
}

/* Adaptive polling and wander, driven by how well each new sample was
 * predicted. Its prediction error should be explained by the noise of the
 * measurement (from its delay, see sourcestats_sample_noise()), the
 * uncertainty of the fit, and the phase the clock's wander w can add over
 * the gap since the last sample (w^2 gap^3 / 3, Allan's random walk of
 * frequency). A prediction within one standard deviation of that (68% of
 * them when the model holds) counts POLL_GOOD_SCORE up; one beyond 2
 * standard deviations (about 5%) shows the model too optimistic: a full
 * point down at once, more for a larger miss (poll_steps_down()). The
 * wander estimate, which sets the regression's memory, follows the same
 * errors (adapt_wander(); an innovation test, as adaptive Kalman filters
 * scale their process noise). Each full point moves the poll exponent one
 * step within minpoll..maxpoll; up only while the regression holds
 * POLL_TARGET_SAMPLES samples. */
static void adapt_poll(Source *s, const SourceSample *sample, double noise, const SourceEstimate *e) {
        if (e->n_samples < 4)
                return;
        double gap = MAX(nsec_diff(sample->time, e->last_time), 0);
        double w = s->stats.wander;
        double wander_var = w * w * gap * gap * gap / 3;
        double sigma = sqrt(noise * noise + e->offset_sd * e->offset_sd + wander_var);
        double residual = fabs(sample->offset - e->offset);

        sigma = MAX(sigma, 1e-7);
        if (residual <= POLL_GOOD_SIGMAS * sigma)
                s->poll_score += POLL_GOOD_SCORE;
        else if (residual > POLL_BAD_SIGMAS * sigma)
                s->poll_score = MIN(s->poll_score, 0) - poll_steps_down(residual / (POLL_BAD_SIGMAS * sigma));
        adapt_wander(s, residual, sigma, wander_var);
        if (s->poll_score >= 1.0) {
                s->poll_score = 0;
                if (e->n_samples >= POLL_TARGET_SAMPLES && wander_allows(&s->stats, s->poll + 1))
                        s->poll = MIN(s->poll + 1, s->spec.maxpoll);
        } else if (s->poll_score <= -1.0) {
                int down = (int) -s->poll_score;
                s->poll_score = 0;
                s->poll = MAX(s->poll - down, s->spec.minpoll);
        }
}

/* The bookkeeping of a reply that is ours and sane. */
static void record_reply(Source *s, const NtpPacket *p, nsec_t t4) {
        s->waiting = false;
        s->reach |= 1;
        s->polls_unreachable = 0;
        s->n_replies++;
        if (s->burst_left > 0)
                s->burst_left--;
        s->has_reply = true;
        s->last_t1 = s->t1;
        s->last_receive = p->receive_ts;
        s->last_transmit = p->transmit_ts;
        s->leap = p->leap;
        s->stratum = p->stratum;
        s->precision = p->precision;
        s->version = p->version;
        s->mode = p->mode;
        s->remote_refid = p->reference_id;
        s->reference_ts = p->reference_ts;
        s->root_delay = ntp_short_to_seconds(p->root_delay);
        s->root_dispersion = ntp_short_to_seconds(p->root_dispersion);
        s->last_rx = t4;
}

/* T1..T4 of the exchange an answer measures, and what T1 was. */
typedef struct ExchangeTimes {
        nsec_t t1, t4;
        NtpTimestamp t2, t3;
        TimestampKind t1_kind;
        bool known;             /* the times are known */
        bool fresh;             /* and give a sample not taken before */
} ExchangeTimes;

/* This exchange, or in interleaved mode the previous one. */
static ExchangeTimes answer_times(const Source *s, const AnswerKind *k, const NtpPacket *p, nsec_t t4) {
        ExchangeTimes e = {};

        if (source_is_peer(s)) {
                bool precise = false;
                e.known = e.fresh = xleave_sym_sample_times(&s->sym, k->packet, p, t4, &e.t1, &e.t2, &e.t3,
                                                            &e.t4, &precise);
                /* A peer's packets leave from the server socket, which
                 * asks only for the kernel's transmit timestamps. */
                e.t1_kind = precise ? TIMESTAMP_KERNEL : TIMESTAMP_DAEMON;
                return e;
        }
        xleave_sample_times(&s->xleave, k->reply, s->t1, p, t4, &e.t1, &e.t2, &e.t3, &e.t4);
        e.t1_kind = k->interleaved ? s->prev_t1_kind : s->t1_kind;
        e.known = true;
        e.fresh = !xleave_sample_is_repeat(&s->xleave, k->reply);
        return e;
}

/* A peer's packet, good or not for us, becomes what our next packet
 * echoes: unless it is a duplicate or of another mode. */
static void note_peer_packet(Source *s, const NtpPacket *p, const AnswerKind *k, SourceReply r, nsec_t t4,
                             bool sampled) {
        if (!source_is_peer(s) || r == SOURCE_REPLY_DUPLICATE || r == SOURCE_REPLY_BAD_MODE)
                return;
        xleave_sym_received(&s->sym, p, k->packet, t4, sampled);
}

/* The answer is ours and good: what the next one is checked against. */
static void accept_answer(Source *s, const NtpPacket *p, const AnswerKind *k, nsec_t t4, bool sampled) {
        record_reply(s, p, t4);
        if (source_is_peer(s)) {
                note_peer_packet(s, p, k, SOURCE_REPLY_OK, t4, sampled);
                return;
        }
        xleave_reply_accepted(&s->xleave, k->reply, s->t1, p, t4);
        s->prev_t1_kind = s->t1_kind;
}

/* The delay test (see DELAY_DEV_RATIO), against what the samples so far
 * predict for this one. */
static bool delayed_beyond_spread(Source *s, const SourceSample *sample, const SourceEstimate *e) {
        if (e->n_samples < DELAY_TEST_MIN_SAMPLES)
                return false;
        double excess = sample->delay - e->min_delay;
        double spread = MAX(MAX(e->std_dev, sourcestats_typical_noise(&s->stats)), DELAY_TEST_MIN_SPREAD);
        if (excess <= DELAY_DEV_RATIO * spread) {
                s->delayed_in_row = 0;
                return false;
        }
        if (s->delayed_in_row >= DELAY_TEST_MAX_IN_ROW)
                return false;
        s->delayed_in_row++;
        return true;
}

SourceReply source_process_reply(Source *s, const NtpPacket *p, nsec_t t4, SourceSample *ret_sample) {
        AnswerKind k = { .reply = XLEAVE_REPLY_BASIC, .packet = XSYM_BOGUS };
        char kod[5];
        double offset = 0, delay = 0;

        assert(s && p);
        SourceReply r = check_header(s, p, kod, &k);
        if (r == SOURCE_REPLY_KOD)
                handle_kod(s, p, kod);
        if (r == SOURCE_REPLY_UNSYNCHRONIZED) {
                /* Our request, answered by a server that lost its own
                 * synchronisation: stop using it now, not only once the
                 * reachability register runs empty. */
                s->waiting = false;
                s->leap = NTP_LEAP_UNSYNC;
                s->stratum = NTP_MAX_STRATUM;
        }
        if (r != SOURCE_REPLY_OK) {
                if (r != SOURCE_REPLY_UNEXPECTED && r != SOURCE_REPLY_BOGUS)
                        s->n_rejected++;
                note_peer_packet(s, p, &k, r, t4, false);
                return r;
        }

        ExchangeTimes e = answer_times(s, &k, p, t4);
        if (e.known) {
                ntp_sample_compute(e.t1, e.t2, e.t3, e.t4, &offset, &delay);
                if (delay < -1e-3 || delay > 16.0 || !isfinite(offset)) {
                        s->n_rejected++;
                        note_peer_packet(s, p, &k, SOURCE_REPLY_BAD_TIMESTAMPS, t4, false);
                        return SOURCE_REPLY_BAD_TIMESTAMPS;
                }
        }
        accept_answer(s, p, &k, t4, e.fresh && !k.interleaved);
        if (!e.fresh)
                return SOURCE_REPLY_NO_SAMPLE;
        count_tx_kind(s, e.t1_kind);

        /* RFC 5905 section 8: dispersion = rho_server + rho_local + PHI * (T4 - T1). */
        SourceSample sample = {
                .time = e.t1 + (e.t4 - e.t1) / 2,
                .offset = offset,
                .delay = MAX(delay, MIN_DELAY),
                .dispersion = ldexp(1.0, p->precision) + CLOCK_PRECISION + NTP_PHI * nsec_diff(e.t4, e.t1),
                .root_delay = s->root_delay,
                .root_dispersion = s->root_dispersion,
        };
        /* What the samples so far say about this one (none yet: no
         * test applies). */
        SourceEstimate prediction = {};
        (void) sourcestats_estimate(&s->stats, sample.time, &prediction);
        if (delayed_beyond_spread(s, &sample, &prediction)) {
                s->n_delayed++;
                return SOURCE_REPLY_DELAYED;
        }
        double noise = sourcestats_sample_noise(&s->stats, &sample);
        s->last_sample = sample;
        /* A jump of the server's clock says nothing of ours: it neither
         * moves the poll nor counts against the wander. Where the whole
         * window shows a clock far quieter than the wander estimate,
         * which the predictions alone take long to learn, the estimate
         * falls at once; where it only rules the estimate out, the
         * fit's weights take the wander it supports
         * (sourcestats_settle_wander()). */
        if (sourcestats_add(&s->stats, &sample)) {
                adapt_poll(s, &sample, noise, &prediction);
                sourcestats_settle_wander(&s->stats);
        }
        if (ret_sample)
                *ret_sample = sample;
        return SOURCE_REPLY_OK;
}

void source_apply_clock_change(Source *s, nsec_t when, double dfreq, double doffset) {
        sourcestats_apply_clock_change(&s->stats, when, dfreq, doffset);
        if (s->waiting)
                s->t1 += seconds_to_nsec(doffset);
        xleave_shift(&s->xleave, seconds_to_nsec(doffset));
        xleave_sym_shift(&s->sym, seconds_to_nsec(doffset));
}

void source_clock_stepped(Source *s, double step) {
        sourcestats_reset(&s->stats);
        if (s->waiting)
                s->t1 += seconds_to_nsec(step);
        xleave_shift(&s->xleave, seconds_to_nsec(step));
        xleave_sym_shift(&s->sym, seconds_to_nsec(step));
        source_burst(s);
}

/* A peer that takes its time from us (its reference ID is our IPv4
 * address towards it, RFC 5905's loop test) must not give it back. */
static bool peer_is_loop(const Source *s) {
        struct in_addr a;

        return source_is_peer(s) && s->stratum > 1 && inet_pton(AF_INET, s->local_address, &a) == 1 &&
               ntohl(a.s_addr) == s->remote_refid;
}

void source_candidate(const Source *s, nsec_t now, SelectCandidate *ret) {
        SourceEstimate e;
        bool have = sourcestats_estimate(&s->stats, now, &e);

        bool may_serve = !s->spec.noselect && !s->kod_deny && !peer_is_loop(s);

        *ret = (SelectCandidate) {
                .usable = have && s->reach != 0 && may_serve &&
                          s->leap != NTP_LEAP_UNSYNC && s->stratum < NTP_MAX_STRATUM,
                /* Its first request is out, or it answered recently and
                 * was reset (an external step): an answer is due. */
                .pending = !have && may_serve && (s->has_reply ? s->reach != 0 : s->n_requests + s->n_polls_without_request <= 1),
                .prefer = s->spec.prefer,
                .noselect = s->spec.noselect,
                .authenticated = s->spec.key != 0,
                .stratum = s->stratum,
                .leap = s->leap,
        };
        if (!have)
                return;
        ret->offset = e.offset;
        ret->offset_sd = e.offset_sd;
        ret->frequency = e.frequency;
        ret->skew = e.skew;
        ret->std_dev = e.std_dev;
        ret->root_delay = e.root_delay;
        ret->root_dispersion = e.root_dispersion;
        /* Half-width of the correctness interval (RFC 5905 root distance
         * lambda = delta/2 + epsilon), widened by the estimate's own
         * uncertainty. */
        ret->distance = e.root_delay / 2 + e.root_dispersion + e.offset_sd;
        /* What ranks and weighs it: an estimate carried far past its
         * samples counts the spread its frequency's bound allows there
         * (a burst's four samples after an external step, then 128 s to
         * the next poll: milliseconds, where the fit's own slope error
         * claimed tenths, and the source pulled the combination 1 ms off;
         * external-step-mixed-polls in the simulator). */
        ret->asymmetry_bound = e.root_delay / 2 + s->root_dispersion;
        ret->quality = e.bounded_sd + ret->asymmetry_bound;
        /* A source that stopped answering loses rank as its last sample
         * ages past two poll intervals (RFC 5905 PHI per second). */
        double overdue = nsec_diff(now, e.last_time) - 2 * source_poll_interval(s);
        if (overdue > 0)
                ret->quality += NTP_PHI * overdue;
}
