/* NTP interleaved symmetric mode (RFC 9769 section 3; chrony's "peer ...
 * xleave") for one Peer= association: which timestamps our next packet
 * carries, what kind of answer a packet of the peer is, and the four
 * timestamps of the exchange it measures.
 *
 * In basic symmetric mode (RFC 5905) a packet carries, as origin, the
 * peer's last transmit timestamp; as receive, our receive time of that
 * packet; and as transmit, our clock read just before sending. In
 * interleaved mode the transmit field is instead the precise time our
 * previous packet left (the kernel's transmit timestamp when there is
 * one), and the origin is the peer's receive timestamp of that previous
 * packet, as the peer reported it in its last packet. So:
 *
 *   basic packet:       origin = its last transmit field
 *                       receive = our receive time of its last packet
 *                       transmit = now
 *   interleaved packet: origin = its receive time of our previous packet
 *                       receive = our receive time of its last packet
 *                       transmit = when our previous packet left
 *
 * A packet of the peer answers our latest one when its origin is our
 * latest transmit field (basic), or our receive time of the peer's
 * previous packet (interleaved: we echoed that time in our latest packet
 * only if we sent exactly one since, else the echo names no packet for
 * sure). A basic answer measures this exchange: T1 our latest packet,
 * T2 its receive field, T3 its transmit field, T4 now. An interleaved
 * answer measures the exchange before: T1 our packet the peer's previous
 * packet answered, T2 that packet's receive field, T3 this packet's
 * transmit field (when the previous one left), T4 our receive time of
 * the previous one.
 *
 * We send in interleaved mode only when the peer's last packet was the
 * first answer to our latest and we have sent nothing since: then our
 * previous packet is the one the peer last received, and the transmit
 * time we report pairs with its receive time. A lost, crossed, reordered
 * or restarted exchange makes the next packet basic, which restarts the
 * chain. A peer that keeps answering our interleaved packets in basic
 * mode does not support it: after XLEAVE_MAX_BASIC in a row we send basic
 * packets for XLEAVE_RETRY_POLLS polls, as the client does (xleave.h), or
 * until an interleaved packet of the peer shows that it does.
 *
 * Pure: times are arguments. Local times (nsec_t) are cooked and move
 * with xleave_sym_shift(); NTP timestamps are what went on the wire and
 * are only compared. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/xleave.h"
#include "ntp/ntp-packet.h"
#include "shared/time-util.h"

typedef enum XsymKind {
        XSYM_BASIC,             /* origin is our latest transmit field */
        XSYM_INTERLEAVED,       /* origin is our receive time of the peer's previous packet */
        XSYM_BOGUS,             /* answers none of our packets */
        XSYM_DUPLICATE,         /* the transmit field of the peer's last packet again */
} XsymKind;

/* Our latest packet. */
typedef struct XsymSent {
        NtpTimestamp transmit;  /* its transmit field: a basic answer echoes it */
        nsec_t tx;              /* when it left: read before sending, or the kernel's */
        NtpTimestamp tx_wire;   /* tx as our clock read it then: our next interleaved transmit field */
        bool tx_kernel;
        bool interleaved;       /* sent in interleaved mode */
        bool answered;          /* a packet of the peer answered it */
        bool valid;
} XsymSent;

/* The peer's last packet. */
typedef struct XsymReceived {
        NtpTimestamp rx_wire;   /* our receive time of it, as our packets echo it */
        nsec_t rx;              /* the same, cooked */
        NtpTimestamp remote_tx; /* its transmit field */
        NtpTimestamp remote_rx; /* its receive field */
        bool answered;          /* it answered our latest packet: t1 and remote_rx pair */
        bool first;             /* and was the first to */
        bool sampled;           /* a basic sample of that exchange was taken */
        nsec_t t1;              /* when our packet it answered left */
        bool t1_kernel;
        bool valid;
} XsymReceived;

typedef struct XleaveSym {
        bool enabled;           /* xleave configured */
        XsymSent sent;
        XsymReceived received;
        unsigned sent_since_rx; /* our packets since the peer's last */
        unsigned basic_in_row;  /* basic answers to our interleaved packets */
        unsigned retry_in;      /* polls until interleaved again; 0: now */
        bool last_interleaved;  /* the last answer was interleaved */
        uint64_t n_interleaved, n_basic;
} XleaveSym;

void xleave_sym_init(XleaveSym *x, bool enabled);

/* True if xleave is configured and not falling back to basic mode. */
bool xleave_sym_active(const XleaveSym *x);

/* Fills origin, receive and transmit of our next packet. now is our clock
 * as an NTP timestamp (the transmit field of a basic packet); poll is
 * false for a packet sent at once in answer to one of the peer's, which
 * does not count towards a retry. Returns true if the packet is
 * interleaved. Call xleave_sym_sent() once it is sent. */
bool xleave_sym_prepare(XleaveSym *x, bool poll, NtpTimestamp now, NtpPacket *p);

/* Records the packet xleave_sym_prepare() filled, with transmit field
 * transmit, as sent; tx is our cooked clock read just before sending. */
void xleave_sym_sent(XleaveSym *x, NtpTimestamp transmit, nsec_t tx);

/* The kernel's transmit timestamp tx (cooked) of the packet whose
 * transmit field was transmit. Returns false, changing nothing, unless it
 * is our latest packet and tx at most max_lag after the time read before
 * sending. */
bool xleave_sym_tx_timestamp(XleaveSym *x, NtpTimestamp transmit, nsec_t tx, nsec_t max_lag);

/* What kind of packet p, from the peer, is. */
XsymKind xleave_sym_classify(const XleaveSym *x, const NtpPacket *p);

/* True if an interleaved packet's transmit time is earlier, beyond
 * rounding seconds, than the receive time it pairs with: not the time the
 * peer's previous packet left. */
bool xleave_sym_is_stale(const XleaveSym *x, const NtpPacket *p, double rounding);

/* The four timestamps of the exchange an answer of kind measures (see
 * above), and whether T1 was the kernel's. Returns false when it measures
 * nothing: an interleaved packet after one that answered nothing of
 * ours, or an exchange a basic sample was taken of already. */
bool xleave_sym_sample_times(const XleaveSym *x, XsymKind kind, const NtpPacket *p, nsec_t t4,
                             nsec_t *ret_t1, NtpTimestamp *ret_t2, NtpTimestamp *ret_t3, nsec_t *ret_t4,
                             bool *ret_t1_kernel);

/* Records a packet of the peer received at t4 (any kind but
 * XSYM_DUPLICATE: the next packet echoes it, which restarts the protocol
 * after a loss or a restart). sampled: a basic sample of it was taken. */
void xleave_sym_received(XleaveSym *x, const NtpPacket *p, XsymKind kind, nsec_t t4, bool sampled);

/* Our clock's timescale moved by delta: the saved local times move too. */
void xleave_sym_shift(XleaveSym *x, nsec_t delta);
