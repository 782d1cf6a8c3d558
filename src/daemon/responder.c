/* Answering NTP clients (see responder.h). */
#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>

#include "auth/mac.h"
#include "core/engine.h"
#include "daemon/manager.h"
#include "daemon/nts-server.h"
#include "daemon/peer.h"
#include "daemon/responder.h"
#include "daemon/manager-sources.h"
#include "net/listen.h"
#include "net/udp.h"
#include "server/ntp-server.h"
#include "server/ratelimit.h"
#include "shared/access.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

/* Datagrams handled per wake-up before yielding to other events. */
#define RESPONDER_BATCH 256
/* Kernel transmit timestamps asked for per wake-up. Each costs the kernel
 * a copy on the error queue and us a system call to read it, about as much
 * as the reply itself: a server answering a few requests per wake-up gets
 * one for every interleaved reply, while one saturated by interleaved
 * clients (a flood among them) keeps its capacity, and the replies beyond
 * the budget carry the transmit time read before sending. */
#define RESPONDER_TX_TIMESTAMPS 8

Responder *responder_free(Responder *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                sd_event_source_disable_unref(r->io[i]);
                if (!r->socket_activated)
                        safe_close(r->fds[i]);
        }
        free(r->io);
        free(r->fds);
        free(r->rx);
        free(r->tx);
        free(r->reports);
        free(r);
        return NULL;
}

static void fill_server_state(Manager *m, ServerState *st) {
        *st = (ServerState) { .precision = CLOCK_PRECISION_LOG2 };
        engine_server_header(m->engine, &st->leap, &st->stratum, &st->reference_id,
                             &st->reference_time, &st->root_delay, &st->root_dispersion);
}

/* A request with a MAC is answered with a MAC of the same key when its own
 * verifies, and with a crypto-NAK (RFC 5905: a lone key ID of 0) when the
 * key is unknown or the MAC wrong: never with something that looks
 * authenticated and is not. The reply's MAC is no longer than the
 * request's, so the reply stays no larger than the request. A bare key
 * ID from a client is no MAC at all: the request is unauthenticated. */
static void responder_authenticate(Manager *m, const UdpMessage *msg, const NtpPacket *request, UdpReply *out) {
        size_t mac_len = request->mac_length;

        if (mac_len <= MAC_CRYPTO_NAK_SIZE)
                return;
        const Key *key = key_table_find(m->config.keys, mac_key_id(msg->data, msg->len, mac_len));
        /* The reply's digest is as long as the request's: chrony truncates
         * SHA2 digests in NTPv4, ntpsec does not, and each checks ours so. */
        if (key && mac_verify(key, request->version, msg->data, msg->len, mac_len)) {
                int k = mac_sign(key, mac_len - MAC_KEY_ID_SIZE, out->data, out->len, sizeof out->data);
                if (k >= 0) {
                        m->counters.authenticated++;
                        out->len = (size_t) k;
                        return;
                }
        }
        m->counters.auth_failures++;
        out->len = (size_t) mac_append_crypto_nak(out->data, out->len, sizeof out->data);
}

/* The client's record in the client log (shared by rate limiting and
 * interleaved mode), or NULL without a log. */
static RateLimitRecord *responder_client(Manager *m, const struct sockaddr *peer, nsec_t now) {
        return m->ratelimit ? ratelimit_record(m->ratelimit, peer, now) : NULL;
}

static RateLimitVerdict responder_rate_check(Manager *m, RateLimitRecord *client, nsec_t now) {
        if (!m->config.ratelimit || !m->ratelimit)
                return RATELIMIT_ANSWER;
        return ratelimit_check_record(m->ratelimit, client, now, m->config.ratelimit_kod);
}

/* A reply in time: interleaved when the request names our last reply to
 * this client (see ntp-server.h), basic otherwise. Either way the client
 * log keeps this reply's timestamps for the next request. */
static int responder_build_reply(Manager *m, RateLimitRecord *client, const NtpPacket *request,
                                 const ServerState *st, nsec_t rx, nsec_t tx, NtpPacket *reply) {
        NtpTimestamp previous_tx;
        int k = server_build_reply(request, st, rx, tx, reply);

        if (k < 0 || !client)
                return k;
        bool interleaved = server_request_may_interleave(request) &&
                           ratelimit_xleave_match(client, request->origin_ts, &previous_tx);
        ratelimit_xleave_save(client, reply->receive_ts, reply->transmit_ts);
        if (interleaved) {
                server_make_interleaved(request, previous_tx, reply);
                m->counters.interleaved++;
        }
        return 0;
}

/* Checks one request and builds its reply into *out. Returns true if it
 * is to be answered. */
static bool responder_answer(Responder *r, const ServerState *st, const UdpMessage *msg, UdpReply *out) {
        Manager *m = r->manager;
        const struct sockaddr *peer = (const struct sockaddr *) &msg->peer;
        NtpPacket request, reply;
        nsec_t tx;

        m->counters.requests++;
        if (!manager_parse_datagram(m, msg, &request))
                return false;
        bool symmetric_mode = request.mode == NTP_MODE_SYMMETRIC_ACTIVE || request.mode == NTP_MODE_SYMMETRIC_PASSIVE;
        Peer *symmetric = symmetric_mode ? manager_find_symmetric_peer(m, peer) : NULL;
        if (symmetric) {
                /* A configured peer's packet is the peer's business, not a
                 * request to answer statelessly. */
                peer_handle_symmetric(symmetric, msg, &request);
                return false;
        }
        if (!access_list_check(&m->access, peer)) {
                m->counters.denied++;
                return false;
        }
        nsec_t mono = now_monotonic();
        RateLimitRecord *client = responder_client(m, peer, mono);
        RateLimitVerdict verdict = responder_rate_check(m, client, mono);
        if (verdict != RATELIMIT_ANSWER)
                m->counters.rate_limited++;
        if (verdict == RATELIMIT_DROP)
                return false;
        nsec_t rx;
        (void) manager_receive_time(m, msg, &rx);
        rx = engine_cook_system_time(m->engine, rx);
        if (engine_now(m->engine, &tx) < 0)
                return false;
        int k = verdict == RATELIMIT_KOD ? server_build_kod(&request, "RATE", rx, tx, &reply)
                                         : responder_build_reply(m, client, &request, st, rx, tx, &reply);
        if (k < 0) {
                m->counters.dropped[NTP_DROP_BAD_MODE]++;
                return false;
        }
        /* 48 bytes out for at least 48 in, KoD or not, and a MAC only for a
         * MAC at least as long: never an amplifier. */
        out->request = msg;
        out->len = ntp_packet_encode(&reply, out->data);
        /* NTS requests cost more: the rate limit above covers them too. */
        NtsAnswer a = verdict == RATELIMIT_KOD ? NTS_ANSWER_PLAIN : nts_server_answer(m->nts_server, msg, &request, out);
        if (a == NTS_ANSWER_DROP)
                return false;
        if (a == NTS_ANSWER_PLAIN)
                responder_authenticate(m, msg, &request, out);
        out->tx_timestamp = r->tx_budget > 0 && client && verdict == RATELIMIT_ANSWER &&
                            (m->timestamping & UDP_TIMESTAMP_TX_KERNEL) && server_request_may_interleave(&request);
        r->tx_budget -= out->tx_timestamp;
        assert(out->len <= msg->len);
        return true;
}

/* The kernel's transmit timestamps of replies sent with tx_timestamp (and
 * the card's, which come after them where an interface has them on): each
 * replaces the transmit time the client log holds for that reply, which
 * the client's next interleaved request asks for. */
static void responder_read_tx_reports(Responder *r, int fd) {
        Manager *m = r->manager;
        NtpPacket reply;

        for (int done = 0; done < RESPONDER_BATCH;) {
                int k = udp_read_tx_reports(fd, r->reports, UDP_BATCH_MAX);
                if (k == -EAGAIN || k < 0)
                        break;
                done += MAX(k, 1);
                for (int i = 0; i < k; i++) {
                        UdpTxReport *t = &r->reports[i];
                        if (ntp_packet_parse(t->data, t->len, &reply) != NTP_DROP_NONE)
                                continue;
                        nsec_t tx;
                        TimestampKind kind = manager_transmit_time(m, &t->stamps, &tx);
                        if (kind == TIMESTAMP_DAEMON)
                                continue;
                        tx = engine_cook_system_time(m->engine, tx);
                        Peer *symmetric = reply.mode == NTP_MODE_SYMMETRIC_ACTIVE
                                                  ? manager_find_symmetric_peer(m, (const struct sockaddr *) &t->dest)
                                                  : NULL;
                        if (symmetric) {
                                source_peer_timestamped(symmetric->source, reply.transmit_ts, tx, kind);
                                continue;
                        }
                        if (!m->ratelimit)
                                continue;
                        if (ratelimit_xleave_update_tx(m->ratelimit, (const struct sockaddr *) &t->dest,
                                                       reply.receive_ts, ntp_timestamp_from_nsec(tx)))
                                m->counters.tx_timestamps++;
                }
        }
}

/* One recvmmsg() worth of requests, answered with one sendmmsg(). Returns
 * the number of datagrams read, or a negative errno (-EAGAIN: none). */
static int responder_serve_batch(Responder *r, int fd) {
        ServerState st;
        size_t n_replies = 0;

        int k = udp_receive_batch(fd, r->rx, UDP_BATCH_MAX);
        if (k <= 0)
                return k;
        fill_server_state(r->manager, &st);
        for (int i = 0; i < k; i++)
                n_replies += responder_answer(r, &st, &r->rx[i], &r->tx[n_replies]);
        if (n_replies > 0)
                r->manager->counters.served += (uint64_t) udp_reply_batch(fd, r->tx, n_replies, r->manager->timestamping);
        return k;
}

static int responder_on_datagram(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Responder *r = userdata;

        /* Transmit timestamps wait on the error queue (EPOLLERR); read them
         * before the requests that may ask for them. */
        if (revents & EPOLLERR)
                responder_read_tx_reports(r, fd);
        r->tx_budget = RESPONDER_TX_TIMESTAMPS;

        for (int done = 0; done < RESPONDER_BATCH;) {
                int k = responder_serve_batch(r, fd);
                if (k == -EAGAIN)
                        break;
                if (k < 0) {
                        log_debug_errno(k, "Receive on server socket failed: %m");
                        break;
                }
                done += k;
        }
        return 0;
}

static int responder_add_fd(Responder *r, int fd) {
        if (GREEDY_REALLOC(r->fds, r->fds_allocated, r->n + 1) < 0 ||
            GREEDY_REALLOC(r->io, r->io_allocated, r->n + 1) < 0)
                return -ENOMEM;
        r->fds[r->n] = fd;
        r->io[r->n] = NULL;
        r->n++;
        return sd_event_add_io(r->manager->event, &r->io[r->n - 1], fd, EPOLLIN, responder_on_datagram, r);
}

static int family_of(const char *address) {
        struct in6_addr a;
        if (inet_pton(AF_INET, address, &a) == 1)
                return AF_INET;
        if (inet_pton(AF_INET6, address, &a) == 1)
                return AF_INET6;
        return AF_UNSPEC;
}

static int bind_one(Responder *r, int family, const char *address, uint16_t port) {
        _cleanup_close_ int fd = -EBADF;
        int k = udp_server_socket(family, address, port, r->manager->timestamping, &fd);
        if (k < 0)
                return log_warning_errno(k, "Failed to listen on %s port %u: %m",
                                         address ?: (family == AF_INET ? "0.0.0.0" : "::"), port);
        k = responder_add_fd(r, fd);
        if (k < 0)
                return log_error_errno(k, "Failed to watch the server socket: %m");
        TAKE_FD(fd);
        return 0;
}

static int responder_bind(Responder *r) {
        const Config *c = &r->manager->config;
        int ok = 0;

        if (c->port == 0)
                return 0;
        if (!c->bind_addresses || !c->bind_addresses[0]) {
                ok += bind_one(r, AF_INET, NULL, c->port) >= 0;
                ok += bind_one(r, AF_INET6, NULL, c->port) >= 0;
        } else
                for (char **a = c->bind_addresses; *a; a++)
                        ok += bind_one(r, family_of(*a), *a, c->port) >= 0;
        if (ok == 0)
                log_warning("Not serving time: no server socket could be opened.");
        else
                log_info("Serving NTP on port %u.", c->port);
        return 0;
}

static int responder_adopt(Responder *r, const int *fds, size_t n) {
        r->socket_activated = true;
        for (size_t i = 0; i < n; i++) {
                int k = responder_add_fd(r, fds[i]);
                if (k < 0)
                        return log_error_errno(k, "Failed to watch a socket passed by systemd: %m");
        }
        log_info("Serving NTP on %zu socket(s) passed by systemd.", n);
        return 0;
}

static int fd_family(int fd) {
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        return getsockname(fd, (struct sockaddr *) &a, &len) < 0 ? AF_UNSPEC : a.ss_family;
}

int responder_fd(const Responder *r, int family) {
        for (size_t i = 0; r && i < r->n; i++)
                if (fd_family(r->fds[i]) == family)
                        return r->fds[i];
        return -EADDRNOTAVAIL;
}

int responder_new(Manager *m, Responder **ret) {
        _cleanup_(responder_freep) Responder *r = calloc(1, sizeof(Responder));
        _cleanup_free_ int *fds = NULL, *stream = NULL;
        size_t n = 0, n_stream = 0;
        int k;

        if (!r)
                return log_oom();
        r->manager = m;
        r->rx = calloc(UDP_BATCH_MAX, sizeof(UdpMessage));
        r->tx = calloc(UDP_BATCH_MAX, sizeof(UdpReply));
        r->reports = calloc(UDP_BATCH_MAX, sizeof(UdpTxReport));
        if (!r->rx || !r->tx || !r->reports)
                return log_oom();
        k = listen_fds_collect(m->timestamping, &fds, &n, &stream, &n_stream);
        if (k < 0)
                return log_error_errno(k, "Failed to take the sockets passed by systemd: %m");
        /* The NTS-KE server's (tempusd-ntske.socket): kept for it. */
        if (n_stream > 0) {
                free(m->ntske_fds);
                m->ntske_fds = TAKE_PTR(stream);
                m->n_ntske_fds = n_stream;
        }
        k = n > 0 ? responder_adopt(r, fds, n) : responder_bind(r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}
