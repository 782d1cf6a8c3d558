/* A Peer does the I/O for one Source: the poll timer, a fresh socket with
 * a random source port for every request, and reading the reply. A
 * symmetric peer (Peer=) sends from the server socket instead, and its
 * packets reach it through the responder. What the packets mean is the
 * engine's business (src/core). */
#pragma once

#include <systemd/sd-event.h>

#include "core/source.h"
#include "daemon/peer-nts.h"
#include "net/udp.h"
#include "shared/macro.h"

typedef struct Manager Manager;
typedef struct SourceGroup SourceGroup;

typedef struct Peer {
        Manager *manager;
        Source *source;                 /* owned by the engine */
        SourceGroup *group;             /* the Server=/Pool= line it came from */
        sd_event_source *poll_timer;
        uint64_t polled_usec;           /* CLOCK_MONOTONIC of the last poll */
        int fd;                         /* socket of the request in flight */
        sd_event_source *io;
        PeerNts nts;                    /* spec.nts only */
} Peer;

/* Creates the peer and schedules its first request after `delay` seconds. */
int peer_new(Manager *m, Source *s, SourceGroup *group, double delay, Peer **ret);
/* The manager frees peers, and never from inside one of the peer's own
 * callbacks (see manager-sources.h). */
Peer *peer_free(Peer *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Peer *, peer_free);

/* A symmetric-mode packet from a Peer= source, received on a server
 * socket: authenticated with the source's key (or, without one, allowed
 * by the access rules), it is a sample when it answers our last packet,
 * and a symmetric active packet that does not is answered at once. */
void peer_handle_symmetric(Peer *p, const UdpMessage *msg, const NtpPacket *pkt);

/* Sends a burst of requests starting now (D-Bus Burst()). */
int peer_burst(Peer *p);
/* Polls at once (once NTS-KE has given the keys a poll waited for). */
int peer_poll_soon(Peer *p);
