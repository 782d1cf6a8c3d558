/* The client's half of NTP interleaved mode (see xleave.h). */
#include <assert.h>

#include "core/xleave.h"

void xleave_init(XleaveClient *x, bool enabled) {
        *x = (XleaveClient) { .enabled = enabled };
}

bool xleave_active(const XleaveClient *x) {
        return x->enabled && x->retry_in == 0;
}

void xleave_prepare_request(XleaveClient *x, bool answered, uint64_t rx_cookie, NtpPacket *request) {
        if (!answered)
                x->prev.valid = false;
        if (x->retry_in > 0)
                x->retry_in--;
        x->asked = xleave_active(x) && x->prev.valid;
        if (!x->asked)
                return;
        assert(rx_cookie != 0 && rx_cookie != request->transmit_ts);
        x->rx_cookie = rx_cookie;
        request->origin_ts = x->prev.remote_rx;
        request->receive_ts = rx_cookie;
}

XleaveReply xleave_classify(const XleaveClient *x, NtpTimestamp cookie, const NtpPacket *reply) {
        if (reply->origin_ts == cookie)
                return XLEAVE_REPLY_BASIC;
        if (x->asked && reply->origin_ts == x->rx_cookie)
                return XLEAVE_REPLY_INTERLEAVED;
        return XLEAVE_REPLY_FOREIGN;
}

bool xleave_reply_is_stale(const XleaveClient *x, const NtpPacket *reply, double rounding) {
        if (reply->transmit_ts == 0 || reply->transmit_ts == x->last_interleaved_tx)
                return true;
        return ntp_timestamp_diff(reply->transmit_ts, x->prev.remote_rx) < -rounding;
}

void xleave_sample_times(const XleaveClient *x, XleaveReply kind, nsec_t t1, const NtpPacket *reply, nsec_t t4,
                         nsec_t *ret_t1, NtpTimestamp *ret_t2, NtpTimestamp *ret_t3, nsec_t *ret_t4) {
        bool inter = kind == XLEAVE_REPLY_INTERLEAVED;

        assert(!inter || x->prev.valid);
        *ret_t1 = inter ? x->prev.t1 : t1;
        *ret_t2 = inter ? x->prev.remote_rx : reply->receive_ts;
        *ret_t3 = reply->transmit_ts;
        *ret_t4 = inter ? x->prev.t4 : t4;
}

bool xleave_sample_is_repeat(const XleaveClient *x, XleaveReply kind) {
        return kind == XLEAVE_REPLY_INTERLEAVED && x->prev.sampled;
}

/* Basic answers to requests that asked for interleaved mode: a few in a
 * row (a restarted server, a full client log) are normal, more mean the
 * server does not support it. */
static void count_basic_answer(XleaveClient *x) {
        if (++x->basic_in_row < XLEAVE_MAX_BASIC)
                return;
        x->basic_in_row = 0;
        x->retry_in = XLEAVE_RETRY_POLLS;
}

void xleave_reply_accepted(XleaveClient *x, XleaveReply kind, nsec_t t1, const NtpPacket *reply, nsec_t t4) {
        bool inter = kind == XLEAVE_REPLY_INTERLEAVED;

        if (inter) {
                x->basic_in_row = 0;
                x->last_interleaved_tx = reply->transmit_ts;
                x->n_interleaved++;
        } else {
                x->n_basic++;
                if (x->asked)
                        count_basic_answer(x);
        }
        x->last_interleaved = inter;
        x->asked = false;
        x->prev = (XleaveExchange) {
                .t1 = t1,
                .t4 = t4,
                .remote_rx = reply->receive_ts,
                .valid = reply->receive_ts != 0,
                .sampled = !inter,
        };
}

void xleave_shift(XleaveClient *x, nsec_t delta) {
        if (!x->prev.valid)
                return;
        x->prev.t1 += delta;
        x->prev.t4 += delta;
}
