/* The client's half of NTP interleaved client/server mode (RFC 9769, as
 * chrony's "xleave"). In basic mode a reply's transmit timestamp is read
 * before the reply leaves the server; in interleaved mode the server sends,
 * in its next reply, the timestamp its kernel took as the previous reply
 * left, so the client pairs it with the previous exchange.
 *
 * The exchange: a request asks for interleaved mode by carrying, as origin,
 * the server's receive timestamp from the last reply (which names that
 * exchange), and as receive timestamp a fresh random cookie. A server that
 * still holds that exchange answers with the cookie as origin, this
 * exchange's receive timestamp, and the previous reply's precise transmit
 * timestamp; any other server answers in basic mode, with our transmit
 * cookie as origin. Either reply is usable:
 *   basic:       T1, T2, T3, T4 of this exchange;
 *   interleaved: T1, T2, T4 of the previous exchange, T3 from this reply.
 *
 * A lost reply leaves nothing to interleave with: the next request asks in
 * basic mode. A server that keeps answering interleaved requests in basic
 * mode does not support them (or forgot us): after XLEAVE_MAX_BASIC of them
 * in a row the client asks in basic mode, and tries again after
 * XLEAVE_RETRY_POLLS polls. Pure: timestamps and cookies are arguments. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ntp/ntp-packet.h"
#include "shared/time-util.h"

#define XLEAVE_MAX_BASIC 4
#define XLEAVE_RETRY_POLLS 16

typedef enum XleaveReply {
        XLEAVE_REPLY_BASIC,             /* origin is our transmit cookie */
        XLEAVE_REPLY_INTERLEAVED,       /* origin is our receive cookie */
        XLEAVE_REPLY_FOREIGN,           /* neither: not an answer to this request */
} XleaveReply;

/* One exchange that was answered: our cooked transmit and receive times
 * and the server's receive timestamp as it sent it. */
typedef struct XleaveExchange {
        nsec_t t1;
        nsec_t t4;
        NtpTimestamp remote_rx;
        bool valid;
        bool sampled;           /* a basic reply already gave its sample */
} XleaveExchange;

typedef struct XleaveClient {
        bool enabled;                   /* xleave configured */
        bool asked;                     /* the request in flight asked for it */
        NtpTimestamp rx_cookie;
        XleaveExchange prev;
        NtpTimestamp last_interleaved_tx;
        unsigned basic_in_row;          /* basic answers to interleaved requests */
        unsigned retry_in;              /* polls until asking again; 0: asking */
        bool last_interleaved;          /* the last good reply was interleaved */
        uint64_t n_interleaved, n_basic;
} XleaveClient;

void xleave_init(XleaveClient *x, bool enabled);

/* Fills the request's origin and receive timestamps. answered: the previous
 * request got a reply (else nothing is left to interleave with). rx_cookie
 * is a random non-zero value distinct from the transmit cookie. */
void xleave_prepare_request(XleaveClient *x, bool answered, uint64_t rx_cookie, NtpPacket *request);

/* Which kind of answer reply is to the request whose transmit cookie was
 * cookie. */
XleaveReply xleave_classify(const XleaveClient *x, NtpTimestamp cookie, const NtpPacket *reply);

/* True if an interleaved reply brings nothing new: a repeat of the last
 * interleaved transmit timestamp, or T3 before the T2 it pairs with. */
bool xleave_reply_is_stale(const XleaveClient *x, const NtpPacket *reply, double rounding);

/* The four timestamps of the exchange reply measures: this one for a basic
 * reply (t1, t4 are this exchange's), the previous one for an interleaved
 * reply. */
void xleave_sample_times(const XleaveClient *x, XleaveReply kind, nsec_t t1, const NtpPacket *reply, nsec_t t4,
                         nsec_t *ret_t1, NtpTimestamp *ret_t2, NtpTimestamp *ret_t3, nsec_t *ret_t4);

/* True if the exchange an interleaved reply measures gave its sample
 * already (from a basic reply): the sample is not to be counted twice. */
bool xleave_sample_is_repeat(const XleaveClient *x, XleaveReply kind);

/* Records a good reply of kind to the exchange (t1, t4). */
void xleave_reply_accepted(XleaveClient *x, XleaveReply kind, nsec_t t1, const NtpPacket *reply, nsec_t t4);

/* Our clock's timescale moved by delta (a slew correction or a step): the
 * saved exchange's times move with it. */
void xleave_shift(XleaveClient *x, nsec_t delta);

/* "interleaved" if the source asks for interleaved mode and is not falling
 * back; whether interleaved replies arrive is last_interleaved. */
bool xleave_active(const XleaveClient *x);
