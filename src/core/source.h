/* One NTP time source (a Server= line, or one address of a Pool=): its
 * polling schedule (iburst, burst, adaptive poll interval), reachability
 * register, request/response matching, the checks every reply must pass,
 * and the per-sample offset/delay arithmetic of RFC 5905 section 8.
 *
 * Pure: the daemon opens sockets and reads clocks, and hands this module
 * packets and cooked timestamps. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/source-spec.h"
#include "core/selection.h"
#include "core/sourcestats.h"
#include "core/xleave.h"
#include "core/xleave-sym.h"
#include "ntp/ntp-packet.h"
#include "shared/macro.h"
#include "shared/timestamp-kind.h"

/* Replies an iburst (or a burst) waits for, the most requests it sends
 * for them, and their spacing. */
#define SOURCE_IBURST_COUNT 4
#define SOURCE_IBURST_MAX_REQUESTS 8
#define SOURCE_BURST_INTERVAL 2.0
/* At the start, once a request has gone unanswered, a source is polled at
 * this share of its interval until it has answered this many times
 * (source_poll_interval()). */
#define SOURCE_RETRY_FRACTION 0.25
#define SOURCE_RETRY_REPLIES 4
/* A peer's packet is answered at once only this long after our latest. */
#define SOURCE_RESPONSE_MIN_GAP (NSEC_PER_SEC / 2)

typedef enum SourceReply {
        SOURCE_REPLY_OK,
        SOURCE_REPLY_UNEXPECTED,    /* no request outstanding */
        SOURCE_REPLY_BOGUS,         /* origin timestamp is not our request's */
        SOURCE_REPLY_DUPLICATE,     /* same transmit timestamp as the last reply */
        SOURCE_REPLY_BAD_MODE,      /* not a server-mode reply */
        SOURCE_REPLY_KOD,           /* Kiss-o'-Death */
        SOURCE_REPLY_UNSYNCHRONIZED,/* leap 3 or stratum 0/16+ */
        SOURCE_REPLY_BAD_TIMESTAMPS,/* zero or impossible timestamps */
        SOURCE_REPLY_BAD_DISTANCE,  /* root distance beyond MAXDISP */
        /* A good interleaved reply for an exchange whose sample a basic
         * reply gave already: counted as an answer, with no new sample. */
        SOURCE_REPLY_NO_SAMPLE,
        /* A good reply whose round trip exceeded the samples' least by
         * far more than their spread (the delay test, DELAY_DEV_RATIO in
         * source.c): counted as an answer; its sample is left out. */
        SOURCE_REPLY_DELAYED,
        _SOURCE_REPLY_MAX,
} SourceReply;

const char *source_reply_to_string(SourceReply r);
/* Whether the reply answered our request (the source is reachable), with
 * a sample or without one. */
bool source_reply_answered(SourceReply r);

/* A NTS source's state, kept by the daemon (which runs NTS-KE and holds
 * the cookies) for the front ends to read. */
typedef struct SourceNtsStatus {
        unsigned cookies;               /* held now, at most 8 */
        unsigned cookie_length;         /* of the newest one, bytes */
        uint64_t ke_count;              /* NTS-KE exchanges completed */
        uint64_t ke_failures;           /* NTS-KE exchanges that failed */
        unsigned ke_attempts;           /* failed since the last that worked */
        uint64_t last_ke_usec;          /* CLOCK_REALTIME of the last completed one, 0: never */
        uint64_t naks;                  /* NTS NAKs received */
} SourceNtsStatus;

typedef struct Source {
        unsigned id;                    /* stable, for D-Bus object paths */
        SourceSpec spec;
        char *name;                     /* as configured (host name or address) */
        struct sockaddr_storage address;
        socklen_t address_len;
        char address_string[64];        /* "192.168.2.100" / "2001:db8::1" */
        char local_address[64];         /* ours for it, as the daemon last bound; "" unknown */
        uint32_t refid;                 /* ours for this source (RFC 5905 refid) */

        /* Polling. */
        int poll;                       /* current log2 interval */
        double poll_score;
        unsigned burst_left;            /* replies the burst still wants */
        unsigned burst_requests_left;   /* requests it may still send */
        uint8_t reach;
        unsigned polls_unreachable;     /* consecutive polls with reach == 0 */

        /* The request in flight. */
        bool waiting;
        NtpTimestamp cookie;
        nsec_t t1;                      /* cooked transmit time */
        nsec_t t1_sent;                 /* the time read before sending */
        TimestampKind t1_kind;          /* what t1 is */

        /* Symmetric mode (Peer=), basic or interleaved: what our next
         * packet echoes and which packets of the peer answer ours. */
        XleaveSym sym;

        /* Interleaved client mode (xleave on a server), and what the
         * previous exchange's t1 was (an interleaved sample uses it). */
        XleaveClient xleave;
        TimestampKind prev_t1_kind;

        /* From the last valid reply. */
        NtpLeap leap;
        uint8_t version;
        NtpMode mode;
        uint8_t stratum;
        int8_t precision;
        uint32_t remote_refid;
        NtpTimestamp reference_ts;
        double root_delay;
        double root_dispersion;
        nsec_t last_t1;                 /* its request's send time (cooked), T1 */
        NtpTimestamp last_receive;      /* the server's receive time, T2 */
        NtpTimestamp last_transmit;     /* the server's transmit time, T3 */
        bool has_reply;
        nsec_t last_rx;                 /* cooked, T4 */
        SourceSample last_sample;
        bool kod_deny;                  /* the server said DENY or RSTR */
        unsigned n_rate_kods;

        SourceStats stats;
        SelectState state;

        uint64_t n_requests, n_replies, n_rejected;
        uint64_t n_delayed;             /* samples left out by the delay test */
        unsigned delayed_in_row;
        uint64_t n_polls_without_request;
        /* Datagrams that came from the source, valid or not (counted by
         * the daemon, which sees them first), and whether the last valid
         * reply's receive time came from. */
        uint64_t n_rx;
        TimestampKind rx_kind;
        /* The kind of transmit time the last sample used. */
        TimestampKind sample_tx_kind;
        /* Samples whose transmit time was the network card's, the
         * kernel's, or read by us before sending (no timestamp came). */
        uint64_t n_tx_hardware, n_tx_kernel, n_tx_daemon;
        /* Replies dropped because their MAC did not verify with our key
         * (or was missing, or a crypto-NAK): counted by the daemon, which
         * checks MACs before a reply reaches source_process_reply(). */
        uint64_t n_auth_failures;
        SourceNtsStatus nts;
} Source;

int source_new(unsigned id, const SourceSpec *spec, const char *name,
               const struct sockaddr *address, socklen_t address_len, Source **ret);
Source *source_free(Source *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Source *, source_free);

/* Arms an iburst (if configured): the first requests go out quickly. */
void source_start(Source *s);
/* Starts a burst of requests now (D-Bus Burst()). */
void source_burst(Source *s);
/* Seconds from one request to the next. */
double source_poll_interval(const Source *s);
/* False once the server answered with a Kiss-o'-Death DENY or RSTR: it
 * must not be sent to again (RFC 5905 section 7.4). */
bool source_wants_polls(const Source *s);

/* Builds the next request. cookie is a random 64-bit value used as the
 * transmit timestamp (it must come back as the reply's origin timestamp,
 * and tells nothing about our clock). now is cooked time. With xleave, a
 * request that may be answered in interleaved mode also carries the
 * server's last receive timestamp and a second cookie derived from the
 * first (see xleave.h). */
void source_build_request(Source *s, nsec_t now, uint64_t cookie, NtpPacket *ret);
/* A poll at which no request could go (an NTS source still without
 * keys): it counts as unanswered, so that selection does not wait for a
 * source that cannot be asked. */
void source_poll_without_request(Source *s);
/* For a peer (symmetric mode): a packet sent at once in answer to one of
 * the peer's own, outside the poll schedule (the reachability register and
 * any burst are left alone). cookie must be our transmit time as an NTP
 * timestamp: the peer computes its sample with it (in interleaved mode the
 * packet carries the time our previous one left instead, see
 * xleave-sym.h). */
void source_build_response(Source *s, nsec_t now, uint64_t cookie, NtpPacket *ret);
static inline bool source_is_peer(const Source *s) {
        return s->spec.kind == SOURCE_KIND_PEER;
}
/* Whether a peer's packet that source_process_reply() found BOGUS or
 * UNEXPECTED, received at t4, is to be answered at once: the peer's own
 * poll, which we answer so that it gets a sample. Not when our latest
 * packet went less than SOURCE_RESPONSE_MIN_GAP before (two peers whose
 * packets crossed would otherwise answer each other's answers without
 * end), nor in interleaved mode to a second answer to our latest packet
 * (we wait for our own poll, which the peer answers in interleaved mode). */
bool source_peer_wants_response(const Source *s, SourceReply r, const NtpPacket *p, nsec_t t4);
/* The last answer, from a server or a peer, was in interleaved mode, and
 * how many were. */
bool source_last_interleaved(const Source *s);
uint64_t source_interleaved_count(const Source *s);

/* Records the send time, read just before sending (cooked). */
void source_request_sent(Source *s, nsec_t t1);
/* Replaces it by a timestamp of the datagram leaving (cooked), the
 * kernel's or the network card's (kind), which leaves out the time the send
 * itself took. Ignored unless a request is in flight, kind is more precise
 * than what t1 already is (a hardware timestamp may follow the kernel's),
 * and t1 is no earlier than the time read before sending and at most
 * TX_TIMESTAMP_MAX_LAG later (anything else is not ours). */
void source_request_timestamped(Source *s, nsec_t t1, TimestampKind kind);
/* The same for a peer, whose packets leave from a shared server socket:
 * transmit names the packet (its transmit field). */
void source_peer_timestamped(Source *s, NtpTimestamp transmit, nsec_t t1, TimestampKind kind);

/* Checks a reply received at cooked time t4 and, if good, adds its sample.
 * *ret_sample gets the measurement when SOURCE_REPLY_OK. An interleaved
 * reply measures the previous exchange. For a peer, every packet but a
 * duplicate or one of another mode also becomes what our next packet
 * echoes (RFC 5905 section 9: that restarts the protocol). */
SourceReply source_process_reply(Source *s, const NtpPacket *p, nsec_t t4, SourceSample *ret_sample);

void source_apply_clock_change(Source *s, nsec_t when, double dfreq, double doffset);

/* The clock was stepped by someone else by step seconds: the samples
 * taken before it no longer describe the clock, and fresh ones are asked
 * for at once. A request in flight is re-expressed in the new timescale. */
void source_clock_stepped(Source *s, double step);

/* Fills a selection candidate for time now. */
void source_candidate(const Source *s, nsec_t now, SelectCandidate *ret);

/* Pure RFC 5905 section 8 arithmetic, exposed for tests:
 *   offset = ((T2 - T1) + (T3 - T4)) / 2
 *   delay  = (T4 - T1) - (T3 - T2) */
void ntp_sample_compute(nsec_t t1, NtpTimestamp t2, NtpTimestamp t3, nsec_t t4,
                        double *ret_offset, double *ret_delay);
