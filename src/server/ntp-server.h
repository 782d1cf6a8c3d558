/* Building replies to NTP clients (RFC 5905 server mode). Pure: the
 * caller supplies the request, our synchronisation state and the receive
 * and transmit times. */
#pragma once

#include <stdbool.h>

#include "ntp/ntp-packet.h"

typedef struct ServerState {
        NtpLeap leap;           /* NTP_LEAP_UNSYNC when we have no time to give */
        uint8_t stratum;
        int8_t precision;
        uint32_t reference_id;
        nsec_t reference_time;
        double root_delay;
        double root_dispersion;
} ServerState;

/* Poll exponents a reply may carry (as chronyd). */
#define SERVER_MIN_POLL 4
#define SERVER_MAX_POLL 17

/* Answers a client (mode 3) request with a server (mode 4) reply and a
 * symmetric active (mode 1) one with symmetric passive (mode 2). The
 * reply's version is the request's, its origin timestamp the request's
 * transmit timestamp. Returns -EOPNOTSUPP for any other mode.
 * Unsynchronised, we answer with leap 3 and stratum 16 so clients ignore
 * the time but still learn that we are up. */
int server_build_reply(const NtpPacket *request, const ServerState *state, nsec_t receive_time,
                       nsec_t transmit_time, NtpPacket *ret);

/* Interleaved client/server mode (RFC 9769, chrony's xleave). A client
 * that asks for it sends a non-zero receive timestamp (a cookie), and as
 * origin the receive timestamp of our last reply to it. If that reply is
 * the one our client log holds, the answer is interleaved: origin is the
 * request's receive timestamp, receive is this request's, and transmit is
 * the time the previous reply actually left (the kernel's timestamp, read
 * back after sending). Otherwise the basic reply stands.
 *
 * True if request may be answered in interleaved mode, now or at the next
 * request: only then is the kernel asked for the reply's transmit time. */
bool server_request_may_interleave(const NtpPacket *request);
/* Turns a basic reply to request into the interleaved one, given the
 * transmit timestamp of the previous reply to the same client. */
void server_make_interleaved(const NtpPacket *request, NtpTimestamp previous_transmit, NtpPacket *reply);

/* A Kiss-o'-Death (RFC 5905 section 7.4) answering request: stratum 0,
 * the four ASCII letters of code (e.g. "RATE") as reference ID, leap 3,
 * no reference time, root delay or dispersion; the request's version and
 * its transmit timestamp as origin, so the client can tell it is genuine.
 * Always a bare 48-byte header, never larger than the request. Returns
 * -EOPNOTSUPP for the modes server_build_reply() does not answer. */
int server_build_kod(const NtpPacket *request, const char code[static 4], nsec_t receive_time,
                     nsec_t transmit_time, NtpPacket *ret);
