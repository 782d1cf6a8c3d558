/* The NTP server side of tempusd: the UDP sockets clients talk to (passed
 * by systemd, or bound from [Server] Port= and BindAddress=), and answering
 * each request that the access rules and the rate limit let through. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "shared/macro.h"

typedef struct Manager Manager;
typedef struct UdpMessage UdpMessage;
typedef struct UdpReply UdpReply;

typedef struct Responder {
        Manager *manager;
        int *fds;
        sd_event_source **io;
        size_t fds_allocated, io_allocated;
        size_t n;
        bool socket_activated;
        UdpMessage *rx;                 /* UDP_BATCH_MAX requests being answered */
        UdpReply *tx;                   /* and their replies */
        UdpTxReport *reports;           /* transmit timestamps read back */
        unsigned tx_budget;             /* kernel transmit timestamps left this wake-up */
} Responder;

/* Takes the sockets systemd passed, or binds its own. With no socket
 * (Port=0 and none passed) *ret is an empty responder. */
int responder_new(Manager *m, Responder **ret);
Responder *responder_free(Responder *r);
/* A server socket of family (for symmetric peers, whose packets go from
 * and to our NTP port), or -EADDRNOTAVAIL. */
int responder_fd(const Responder *r, int family);
DEFINE_TRIVIAL_CLEANUP_FUNC(Responder *, responder_free);
