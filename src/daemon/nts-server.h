/* The NTS server (RFC 8915): the NTS-KE listener on NTSPort= (or the
 * sockets of tempusd-ntske.socket), whose TLS 1.3 connections run in the
 * event loop, each bounded by a timer, at most NTSMaxConnections= at once
 * and an eighth of those (at least 2) per client address, so that a flood
 * of connections that never finish their handshake can neither exhaust
 * the daemon nor lock out other clients; the server keys that seal
 * cookies, rotated every NTSRotate= and kept in the state directory so
 * that cookies outlive a restart; and the NTS half of answering an NTP
 * request (nts_server_answer(), called by the responder). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "net/udp.h"
#include "ntp/ntp-packet.h"
#include "shared/macro.h"

typedef struct Manager Manager;
typedef struct NtsServer NtsServer;

/* A connection that has not sent its request and read the response by
 * then is closed. */
#define NTS_SERVER_CONNECTION_TIMEOUT_USEC (10 * USEC_PER_SEC)

/* Loads the certificates and keys, the server keys, and listens. Returns
 * 0 with *ret NULL when no NTSServerCertFile= is configured; a negative
 * errno (logged) when a certificate or key cannot be loaded. */
int nts_server_new(Manager *m, NtsServer **ret);
NtsServer *nts_server_free(NtsServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NtsServer *, nts_server_free);

typedef enum NtsAnswer {
        NTS_ANSWER_PLAIN,       /* no NTS fields: answer as usual */
        NTS_ANSWER_DONE,        /* out holds the authenticated reply */
        NTS_ANSWER_NAK,         /* out holds an NTS NAK */
        NTS_ANSWER_DROP,        /* malformed, or the Authenticator fails */
} NtsAnswer;

/* Completes the reply whose header is in out (out->len bytes) to the
 * request msg: with NTS fields when the request has them. A NAK's header
 * is rewritten into the Kiss-o'-Death NTSN. The reply is never longer
 * than the request. */
NtsAnswer nts_server_answer(NtsServer *s, const UdpMessage *msg, const NtpPacket *request, UdpReply *out);
