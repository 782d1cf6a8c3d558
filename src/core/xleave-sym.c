/* Interleaved symmetric mode for one peer (see xleave-sym.h). */
#include <assert.h>

#include "core/xleave-sym.h"

void xleave_sym_init(XleaveSym *x, bool enabled) {
        *x = (XleaveSym) { .enabled = enabled };
}

bool xleave_sym_active(const XleaveSym *x) {
        return x->enabled && x->retry_in == 0;
}

/* Interleaved only right after the first answer to our latest packet:
 * then our latest packet is the one the peer last received, and its
 * receive time of it (remote_rx) names it. */
static bool may_interleave(const XleaveSym *x) {
        const XsymReceived *r = &x->received;

        return xleave_sym_active(x) && x->sent.valid && r->valid && r->first && x->sent_since_rx == 0 &&
               r->remote_rx != 0;
}

bool xleave_sym_prepare(XleaveSym *x, bool poll, NtpTimestamp now, NtpPacket *p) {
        bool interleaved;

        if (poll && x->retry_in > 0)
                x->retry_in--;
        interleaved = may_interleave(x);
        p->receive_ts = x->received.valid ? x->received.rx_wire : 0;
        p->origin_ts = !x->received.valid ? 0 : interleaved ? x->received.remote_rx : x->received.remote_tx;
        p->transmit_ts = interleaved ? x->sent.tx_wire : now;
        return interleaved;
}

void xleave_sym_sent(XleaveSym *x, NtpTimestamp transmit, nsec_t tx) {
        bool interleaved = may_interleave(x) && transmit == x->sent.tx_wire;

        x->sent = (XsymSent) {
                .transmit = transmit,
                .tx = tx,
                .tx_wire = ntp_timestamp_from_nsec(tx),
                .interleaved = interleaved,
                .valid = true,
        };
        x->sent_since_rx++;
}

bool xleave_sym_tx_timestamp(XleaveSym *x, NtpTimestamp transmit, nsec_t tx, nsec_t max_lag) {
        XsymSent *s = &x->sent;

        if (!s->valid || s->tx_kernel || transmit != s->transmit || tx < s->tx || tx - s->tx > max_lag)
                return false;
        s->tx_wire = ntp_timestamp_from_nsec(tx);
        s->tx = tx;
        s->tx_kernel = true;
        return true;
}

XsymKind xleave_sym_classify(const XleaveSym *x, const NtpPacket *p) {
        const XsymReceived *r = &x->received;

        if (r->valid && p->transmit_ts == r->remote_tx)
                return XSYM_DUPLICATE;
        if (x->sent.valid && p->origin_ts == x->sent.transmit)
                return XSYM_BASIC;
        /* Our receive time of the peer's previous packet went out in our
         * latest packet only; with more than one since, the echo does not
         * say which of ours it answers. */
        if (x->enabled && r->valid && x->sent_since_rx == 1 && p->origin_ts == r->rx_wire)
                return XSYM_INTERLEAVED;
        return XSYM_BOGUS;
}

bool xleave_sym_is_stale(const XleaveSym *x, const NtpPacket *p, double rounding) {
        const XsymReceived *r = &x->received;

        if (p->transmit_ts == 0)
                return true;
        /* T3 is when the peer's previous packet left, after it received
         * ours (T2, that packet's receive field). */
        return r->answered && ntp_timestamp_diff(p->transmit_ts, r->remote_rx) < -rounding;
}

bool xleave_sym_sample_times(const XleaveSym *x, XsymKind kind, const NtpPacket *p, nsec_t t4,
                             nsec_t *ret_t1, NtpTimestamp *ret_t2, NtpTimestamp *ret_t3, nsec_t *ret_t4,
                             bool *ret_t1_kernel) {
        const XsymReceived *r = &x->received;

        assert(kind == XSYM_BASIC || kind == XSYM_INTERLEAVED);
        if (kind == XSYM_BASIC) {
                *ret_t1 = x->sent.tx;
                *ret_t2 = p->receive_ts;
                *ret_t3 = p->transmit_ts;
                *ret_t4 = t4;
                *ret_t1_kernel = x->sent.tx_kernel;
                return true;
        }
        if (!r->answered || r->sampled)
                return false;
        *ret_t1 = r->t1;
        *ret_t2 = r->remote_rx;
        *ret_t3 = p->transmit_ts;
        *ret_t4 = r->rx;
        *ret_t1_kernel = r->t1_kernel;
        return true;
}

/* Answers to our interleaved packets: a few basic ones in a row (a lost
 * or crossed packet, a restarted peer) are normal, more mean the peer does
 * not do interleaved mode. An interleaved answer shows that it does: it
 * ends a fall-back at once (else two peers that fell back together would
 * each wait for the other). */
static void count_answer(XleaveSym *x, XsymKind kind) {
        x->last_interleaved = kind == XSYM_INTERLEAVED;
        if (kind == XSYM_INTERLEAVED) {
                x->n_interleaved++;
                x->basic_in_row = 0;
                x->retry_in = 0;
                return;
        }
        x->n_basic++;
        if (!x->sent.interleaved || ++x->basic_in_row < XLEAVE_MAX_BASIC)
                return;
        x->basic_in_row = 0;
        x->retry_in = XLEAVE_RETRY_POLLS;
}

void xleave_sym_received(XleaveSym *x, const NtpPacket *p, XsymKind kind, nsec_t t4, bool sampled) {
        bool answer = kind == XSYM_BASIC || kind == XSYM_INTERLEAVED;
        bool first = answer && !x->sent.answered;

        assert(kind != XSYM_DUPLICATE);
        if (first)
                count_answer(x, kind);
        x->received = (XsymReceived) {
                .rx_wire = ntp_timestamp_from_nsec(t4),
                .rx = t4,
                .remote_tx = p->transmit_ts,
                .remote_rx = p->receive_ts,
                .answered = answer,
                .first = first,
                .sampled = sampled,
                .t1 = answer ? x->sent.tx : 0,
                .t1_kernel = answer && x->sent.tx_kernel,
                .valid = true,
        };
        x->sent.answered = x->sent.answered || answer;
        x->sent_since_rx = 0;
}

void xleave_sym_shift(XleaveSym *x, nsec_t delta) {
        if (x->sent.valid)
                x->sent.tx += delta;
        if (x->received.valid) {
                x->received.rx += delta;
                x->received.t1 += delta;
        }
}
