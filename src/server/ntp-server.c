/* Building replies to NTP clients (see ntp-server.h). */
#include <errno.h>

#include "server/ntp-server.h"
#include "shared/macro.h"

/* Client gets server, symmetric active gets symmetric passive; nothing
 * else is answered. */
static int reply_mode(NtpMode request, NtpMode *ret) {
        if (request == NTP_MODE_CLIENT)
                *ret = NTP_MODE_SERVER;
        else if (request == NTP_MODE_SYMMETRIC_ACTIVE)
                *ret = NTP_MODE_SYMMETRIC_PASSIVE;
        else
                return -EOPNOTSUPP;
        return 0;
}

int server_build_reply(const NtpPacket *request, const ServerState *state, nsec_t receive_time,
                       nsec_t transmit_time, NtpPacket *ret) {
        NtpMode mode;

        if (reply_mode(request->mode, &mode) < 0)
                return -EOPNOTSUPP;

        bool synced = state->leap != NTP_LEAP_UNSYNC;
        *ret = (NtpPacket) {
                .leap = state->leap,
                .version = request->version,
                .mode = mode,
                .stratum = synced ? state->stratum : NTP_MAX_STRATUM,
                .poll = CLAMP(request->poll, SERVER_MIN_POLL, SERVER_MAX_POLL),
                .precision = state->precision,
                .root_delay = ntp_short_from_seconds(state->root_delay),
                .root_dispersion = ntp_short_from_seconds(state->root_dispersion),
                .reference_id = synced ? state->reference_id : 0,
                .reference_ts = synced && state->reference_time ? ntp_timestamp_from_nsec(state->reference_time) : 0,
                .origin_ts = request->transmit_ts,
                .receive_ts = ntp_timestamp_from_nsec(receive_time),
                .transmit_ts = ntp_timestamp_from_nsec(transmit_time),
        };
        return 0;
}

bool server_request_may_interleave(const NtpPacket *request) {
        return request->mode == NTP_MODE_CLIENT && request->receive_ts != 0 &&
               request->receive_ts != request->transmit_ts;
}

void server_make_interleaved(const NtpPacket *request, NtpTimestamp previous_transmit, NtpPacket *reply) {
        reply->origin_ts = request->receive_ts;
        reply->transmit_ts = previous_transmit;
}

int server_build_kod(const NtpPacket *request, const char code[static 4], nsec_t receive_time,
                     nsec_t transmit_time, NtpPacket *ret) {
        NtpMode mode;

        if (reply_mode(request->mode, &mode) < 0)
                return -EOPNOTSUPP;
        *ret = (NtpPacket) {
                .leap = NTP_LEAP_UNSYNC,
                .version = request->version,
                .mode = mode,
                .stratum = 0,
                .poll = CLAMP(request->poll, SERVER_MIN_POLL, SERVER_MAX_POLL),
                .reference_id = (uint32_t) (uint8_t) code[0] << 24 | (uint32_t) (uint8_t) code[1] << 16 |
                                (uint32_t) (uint8_t) code[2] << 8 | (uint8_t) code[3],
                .origin_ts = request->transmit_ts,
                .receive_ts = ntp_timestamp_from_nsec(receive_time),
                .transmit_ts = ntp_timestamp_from_nsec(transmit_time),
        };
        return 0;
}
