/* The NTS half of a Peer (RFC 8915): NTS-KE when the source has no keys
 * or cookies left (with exponential backoff after failures), a cookie and
 * a fresh Unique Identifier in every request, the check of every reply,
 * and the keys and cookies saved under NTSDumpDir= so that a restart
 * needs no new NTS-KE. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/nts-cookies.h"
#include "auth/nts-ntp.h"
#include "net/udp.h"

typedef struct Peer Peer;
typedef struct NtsKeClient NtsKeClient;

/* The first retry of a failed NTS-KE, doubled after each failure up to
 * the last. */
#define PEER_NTS_KE_BACKOFF_MIN_USEC (16 * USEC_PER_SEC)
#define PEER_NTS_KE_BACKOFF_MAX_USEC (4096 * USEC_PER_SEC)

typedef struct PeerNts {
        NtsCookieJar jar;
        NtsKeClient *ke;                        /* running, or finished and inert */
        struct sockaddr_storage ntp_address;    /* where NTP goes: what NTS-KE named */
        socklen_t ntp_address_len;
        uint8_t uid[NTS_UID_SIZE];              /* of the request in flight */
        usec_t ke_not_before;                   /* CLOCK_MONOTONIC */
} PeerNts;

/* Reads the saved keys and cookies, if any. */
void peer_nts_init(Peer *p);
/* Saves them (at exit) and frees what the NTS half holds. */
void peer_nts_done(Peer *p);

/* Whether a request can go now: keys, a cookie and an NTP address. If
 * not, starts NTS-KE unless one runs or the backoff says to wait. */
bool peer_nts_ready(Peer *p);
/* The NTP server's address, as NTS-KE named it. */
const struct sockaddr *peer_nts_address(Peer *p, socklen_t *ret_len);
/* Completes the request whose header is buf[0..len): uses up a cookie.
 * Returns the new length or a negative errno. */
int peer_nts_finish_request(Peer *p, uint8_t *buf, size_t len, size_t size);
/* Whether a reply answers the request in flight and is authentic; keeps
 * its cookies. A NAK or a failure is counted, and after a NAK the next
 * poll runs NTS-KE. */
bool peer_nts_reply_authentic(Peer *p, const UdpMessage *msg);
