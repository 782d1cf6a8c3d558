/* Client-side I/O for one source (see peer.h). */
#include <arpa/inet.h>
#include <sys/random.h>

#include "auth/mac.h"
#include "core/engine.h"
#include "daemon/logfile.h"
#include "daemon/manager.h"
#include "daemon/manager-sources.h"
#include "daemon/peer.h"
#include "daemon/peer-nts.h"
#include "daemon/responder.h"
#include "shared/access.h"
#include "net/udp.h"
#include "shared/log.h"

#define POLL_TIMER_ACCURACY_USEC (10 * USEC_PER_MSEC)

static int peer_schedule(Peer *p, double delay);

static void peer_close_socket(Peer *p) {
        p->io = sd_event_source_disable_unref(p->io);
        p->fd = safe_close(p->fd);
}

Peer *peer_free(Peer *p) {
        if (!p)
                return NULL;
        peer_close_socket(p);
        sd_event_source_disable_unref(p->poll_timer);
        peer_nts_done(p);
        free(p);
        return NULL;
}

static uint64_t random_cookie(void) {
        uint64_t v = 0;
        /* A random transmit timestamp: replies must echo it, and it says
         * nothing about our clock to an observer. */
        while (getrandom(&v, sizeof v, 0) != sizeof v || v == 0)
                ;
        return v;
}

static void peer_log_measurement(Peer *p, const SourceSample *sample) {
        Manager *m = p->manager;
        const Source *s = p->source;

        if (!m->logs)
                return;
        LogMeasurement lm = {
                .time = sample->time,
                .address = s->address_string,
                .leap = s->leap,
                .stratum = s->stratum,
                .poll_local = s->poll,
                .poll_remote = s->poll,
                .score = 0,
                /* RFC 5905's theta, as chrony logs it: positive when the
                 * local clock is slow of the source. */
                .offset = sample->offset,
                .peer_delay = sample->delay,
                .peer_dispersion = sample->dispersion,
                .root_delay = s->root_delay,
                .root_dispersion = s->root_dispersion,
                .refid = s->remote_refid,
                .mode = s->mode,
                .interleaved = s->xleave.last_interleaved,
                .tx_kind = s->sample_tx_kind,
                .rx_kind = s->rx_kind,
        };
        logfiles_write_measurement(m->logs, &lm);
}

static void peer_log_statistics(Peer *p) {
        Manager *m = p->manager;
        const Source *s = p->source;
        SourceEstimate e;

        if (!m->logs || !sourcestats_estimate(&s->stats, s->last_sample.time, &e))
                return;
        LogStatistics ls = {
                .time = e.time,
                .address = s->address_string,
                .std_dev = e.std_dev,
                .est_offset = -e.offset,
                .offset_sd = e.offset_sd,
                .diff_freq = e.frequency,
                .est_skew = e.skew,
                .n_samples = e.n_samples,
                .n_runs = e.n_runs,
                /* The slope of offset against delay corrected for, in
                 * chrony's sign (its offsets are local - remote). */
                .asymmetry = -s->stats.asymmetry,
        };
        logfiles_write_statistics(m->logs, &ls);
}

/* The key of an authenticated source, or NULL. A key that went missing
 * (from a reload) stops the source rather than drop its authentication. */
static const Key *peer_key(Peer *p) {
        return key_table_find(p->manager->config.keys, p->source->spec.key);
}

/* With key= the reply must carry a MAC of our key that verifies; a forged
 * or stripped reply never reaches the engine, so it cannot use up the
 * request it claims to answer. */
static bool peer_reply_authentic(Peer *p, const UdpMessage *msg, const NtpPacket *pkt) {
        Source *s = p->source;

        if (s->spec.nts)
                return peer_nts_reply_authentic(p, msg);
        if (s->spec.key == 0)
                return true;
        const Key *key = peer_key(p);
        if (key && pkt->mac_length > 0 && mac_verify(key, pkt->version, msg->data, msg->len, pkt->mac_length))
                return true;
        s->n_auth_failures++;
        log_debug("Reply from %s dropped: %s", s->address_string,
                  pkt->mac_length == MAC_CRYPTO_NAK_SIZE ? "crypto-NAK (the server does not know our key)"
                  : pkt->mac_length == 0                  ? "no MAC"
                                                          : "MAC does not verify with our key");
        manager_schedule_status(p->manager);
        return false;
}

/* A sample far off its prediction shortens the poll (adapt_poll() in
 * source.c): the new interval then counts from the last request, as
 * chrony counts it, instead of the longer one already scheduled running
 * out first: a clock whose frequency jumped by 20 ppm while polled every
 * 512 s waited that long again for its second sample after the jump, and
 * was more than 1 ms off for 725 s after it (the simulator's median of 40
 * seeds), against 457 s. The schedule is only ever brought forward, and
 * never restarted where polling has ended. */
static void peer_follow_poll(Peer *p) {
        uint64_t at, due;
        int enabled;

        if (!p->poll_timer || sd_event_source_get_enabled(p->poll_timer, &enabled) < 0 ||
            enabled != SD_EVENT_ONESHOT || sd_event_source_get_time(p->poll_timer, &at) < 0)
                return;
        due = p->polled_usec + (uint64_t) (source_poll_interval(p->source) * USEC_PER_SEC);
        if (due < at)
                (void) sd_event_source_set_time(p->poll_timer, due);
}

static void peer_handle_datagram(Peer *p, const UdpMessage *msg) {
        Manager *m = p->manager;
        NtpPacket pkt;

        p->source->n_rx++;
        if (!manager_parse_datagram(m, msg, &pkt))
                return;
        if (!peer_reply_authentic(p, msg, &pkt))
                return;

        nsec_t rx;
        TimestampKind rx_kind = manager_receive_time(m, msg, &rx);
        nsec_t t4 = engine_cook_system_time(m->engine, rx);
        SourceReply r = engine_process_reply(m->engine, p->source, &pkt, t4);
        if (!source_reply_answered(r)) {
                m->counters.replies_rejected++;
                log_debug("Reply from %s rejected: %s", p->source->address_string, source_reply_to_string(r));
                return;
        }
        p->source->rx_kind = rx_kind;
        if (r == SOURCE_REPLY_OK) {
                peer_log_measurement(p, &p->source->last_sample);
                peer_log_statistics(p);
                peer_follow_poll(p);
        } else {
                if (r == SOURCE_REPLY_DELAYED)
                        log_debug("Sample from %s left out: %s", p->source->address_string, source_reply_to_string(r));
                manager_schedule_status(m);
        }
        peer_close_socket(p);
        manager_arm_discipline_timer(m);
}

/* The kernel's transmit timestamp of our request waits on the socket's
 * error queue (it is there before any reply can be), and the card's
 * hardware one after it where the interface has them on. The queue must be
 * drained on every wakeup: epoll reports it for as long as it holds
 * anything. With TXTimestamps=daemon the socket asks for none. */
static void peer_read_tx_timestamps(Peer *p, int fd) {
        Manager *m = p->manager;

        if (!(m->timestamping & UDP_TIMESTAMP_TX_KERNEL))
                return;
        for (int i = 0; i < 4; i++) {
                PacketTimestamps ts;
                nsec_t tx;
                int r = udp_read_tx_timestamp(fd, &ts);
                if (r == -EAGAIN)
                        break;
                TimestampKind kind = r >= 0 ? manager_transmit_time(m, &ts, &tx) : TIMESTAMP_DAEMON;
                if (kind != TIMESTAMP_DAEMON)
                        source_request_timestamped(p->source, engine_cook_system_time(m->engine, tx), kind);
        }
}

static int peer_on_reply(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Peer *p = userdata;

        manager_check_clock_step(p->manager);
        peer_read_tx_timestamps(p, fd);
        /* Bounded: a flood on this socket cannot starve the loop. */
        for (int i = 0; i < 16 && p->fd >= 0; i++) {
                UdpMessage msg;
                int r = udp_receive(fd, &msg);
                if (r == -EAGAIN)
                        break;
                if (r < 0) {
                        /* ICMP errors (port unreachable) surface here. */
                        log_debug_errno(r, "Receive from %s failed: %m", p->source->address_string);
                        break;
                }
                peer_handle_datagram(p, &msg);
        }
        return 0;
}

/* Encodes the request, with our MAC when the source has a key, with NTS
 * fields when it has nts. Returns its length or a negative errno. */
static int peer_encode_request(Peer *p, const NtpPacket *pkt, uint8_t buf[static NTP_MAX_PACKET_SIZE]) {
        size_t len = ntp_packet_encode(pkt, buf);

        if (p->source->spec.nts)
                return peer_nts_finish_request(p, buf, len, NTP_MAX_PACKET_SIZE);
        if (p->source->spec.key == 0)
                return (int) len;
        const Key *key = peer_key(p);
        if (!key)
                return -ENOKEY;
        return mac_sign(key, mac_digest_size(key->type, pkt->version), buf, len, NTP_HEADER_SIZE + MAC_MAX_SIZE);
}

/* Our address towards the source, for ntpdata. */
static void peer_note_local_address(Peer *p) {
        struct sockaddr_storage a;
        socklen_t len = sizeof a;
        const void *addr;

        if (getsockname(p->fd, (struct sockaddr *) &a, &len) < 0)
                return;
        addr = a.ss_family == AF_INET6 ? (const void *) &((struct sockaddr_in6 *) &a)->sin6_addr
                                       : (const void *) &((struct sockaddr_in *) &a)->sin_addr;
        if (!inet_ntop(a.ss_family, addr, p->source->local_address, sizeof p->source->local_address))
                p->source->local_address[0] = 0;
}

/* Our system state in a symmetric packet: the peer judges us as a source
 * by it, as a client judges a server by its reply. */
static void peer_fill_header(Peer *p, NtpPacket *pkt) {
        nsec_t reftime;
        double root_delay, root_dispersion;

        engine_server_header(p->manager->engine, &pkt->leap, &pkt->stratum, &pkt->reference_id, &reftime,
                             &root_delay, &root_dispersion);
        if (pkt->leap == NTP_LEAP_UNSYNC)
                pkt->stratum = 0;
        pkt->root_delay = ntp_short_from_seconds(root_delay);
        pkt->root_dispersion = ntp_short_from_seconds(root_dispersion);
        pkt->reference_ts = reftime ? ntp_timestamp_from_nsec(reftime) : 0;
}

/* A symmetric active packet from our NTP port: a poll, or (response) one
 * that answers the peer's own at once. Its transmit timestamp is our
 * clock, which the peer's sample needs; the kernel's transmit time comes
 * back through the server socket's error queue. */
static int peer_send_symmetric(Peer *p, bool response) {
        Manager *m = p->manager;
        Source *s = p->source;
        uint8_t buf[NTP_MAX_PACKET_SIZE];
        NtpPacket pkt;
        nsec_t now, tx;

        int fd = responder_fd(m->responder, s->address.ss_family);
        if (fd < 0)
                return log_warning_errno(fd, "Not polling peer %s: no server socket to send from ([Server] Port=): %m",
                                         s->address_string);
        int r = engine_now(m->engine, &now);
        if (r < 0)
                return log_warning_errno(r, "Failed to read the clock: %m");
        NtpTimestamp cookie = ntp_timestamp_from_nsec(now) | 1;
        if (response)
                source_build_response(s, now, cookie, &pkt);
        else
                source_build_request(s, now, cookie, &pkt);
        peer_fill_header(p, &pkt);
        int len = peer_encode_request(p, &pkt, buf);
        if (len < 0)
                return log_warning_errno(len, "Not polling %s: key %u is not in the key file: %m",
                                         s->address_string, s->spec.key);
        r = udp_send_to(fd, (const struct sockaddr *) &s->address, s->address_len, buf, (size_t) len, &tx);
        if (r < 0)
                return log_debug_errno(r, "Failed to send to peer %s: %m", s->address_string);
        source_request_sent(s, engine_cook_system_time(m->engine, tx));
        return 0;
}

/* Our address towards a peer: where its packets come to. */
static void peer_note_packet_address(Peer *p, const UdpMessage *msg) {
        const void *addr = msg->local_family == AF_INET6 ? (const void *) &msg->local6.ipi6_addr
                                                         : (const void *) &msg->local4.ipi_addr;
        char *buf = p->source->local_address;

        if (msg->local_family == AF_UNSPEC ||
            !inet_ntop(msg->local_family, addr, buf, sizeof p->source->local_address))
                buf[0] = 0;
}

/* Answers a peer's packet at once, and moves our own next poll to half an
 * interval after the peer's next one: the peer's next packet then answers
 * this one, ours answers that, and the two sides' packets alternate
 * instead of crossing (a crossed pair leaves both in basic mode). */
static void peer_respond_symmetric(Peer *p) {
        if (peer_send_symmetric(p, true) < 0)
                return;
        (void) peer_schedule(p, 1.5 * source_poll_interval(p->source));
}

void peer_handle_symmetric(Peer *p, const UdpMessage *msg, const NtpPacket *pkt) {
        Manager *m = p->manager;
        Source *s = p->source;

        s->n_rx++;
        if (s->spec.key == 0 && !access_list_check(&m->access, (const struct sockaddr *) &msg->peer)) {
                m->counters.denied++;
                return;
        }
        if (!peer_reply_authentic(p, msg, pkt))
                return;
        nsec_t rx;
        TimestampKind rx_kind = manager_receive_time(m, msg, &rx);
        nsec_t t4 = engine_cook_system_time(m->engine, rx);
        peer_note_packet_address(p, msg);
        SourceReply r = engine_process_reply(m->engine, s, pkt, t4);
        if (source_reply_answered(r))
                s->rx_kind = rx_kind;
        if (r == SOURCE_REPLY_OK) {
                peer_log_measurement(p, &s->last_sample);
                peer_log_statistics(p);
                manager_arm_discipline_timer(m);
        } else if (source_reply_answered(r))
                manager_schedule_status(m);
        else if (source_peer_wants_response(s, r, pkt, t4))
                peer_respond_symmetric(p);
        else
                log_debug("Packet from peer %s rejected: %s", s->address_string, source_reply_to_string(r));
}

static int peer_send_request(Peer *p) {
        Manager *m = p->manager;
        Source *s = p->source;
        uint8_t buf[NTP_MAX_PACKET_SIZE];
        NtpPacket pkt;
        nsec_t now, tx;
        socklen_t to_len = s->address_len;
        const struct sockaddr *to = s->spec.nts ? peer_nts_address(p, &to_len) : (const struct sockaddr *) &s->address;
        int r;

        if (source_is_peer(s))
                return peer_send_symmetric(p, false);
        peer_close_socket(p);
        r = udp_client_socket(to, to_len, m->timestamping, &p->fd);
        if (r < 0)
                return log_warning_errno(r, "Failed to open a socket for %s: %m", s->address_string);

        peer_note_local_address(p);

        r = engine_now(m->engine, &now);
        if (r < 0)
                return log_warning_errno(r, "Failed to read the clock: %m");
        source_build_request(s, now, random_cookie(), &pkt);
        int len = peer_encode_request(p, &pkt, buf);
        if (len < 0) {
                peer_close_socket(p);
                if (s->spec.nts)
                        return log_warning_errno(len, "Not polling %s: no NTS request: %m", s->address_string);
                return log_warning_errno(len, "Not polling %s: key %u is not in the key file: %m",
                                         s->address_string, s->spec.key);
        }

        r = udp_send(p->fd, buf, (size_t) len, &tx);
        if (r < 0) {
                log_debug_errno(r, "Failed to send to %s: %m", s->address_string);
                peer_close_socket(p);
                return 0;
        }
        source_request_sent(s, engine_cook_system_time(m->engine, tx));

        r = sd_event_add_io(m->event, &p->io, p->fd, EPOLLIN, peer_on_reply, p);
        if (r < 0)
                return log_warning_errno(r, "Failed to watch the socket for %s: %m", s->address_string);
        return 0;
}

static int peer_on_poll(sd_event_source *es, uint64_t usec, void *userdata) {
        Peer *p = userdata;
        Manager *m = p->manager;
        uint8_t reach_before = p->source->reach;

        manager_check_clock_step(m);
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &p->polled_usec);
        if (!source_wants_polls(p->source)) {
                /* The timer is one-shot: without a new schedule, polling
                 * ends here. */
                log_warning("%s (%s) refused us with a Kiss-o'-Death (DENY or RSTR): no more requests to it.",
                            p->source->name, p->source->address_string);
                manager_schedule_status(m);
                return 0;
        }
        /* An NTS source without keys or cookies waits for NTS-KE. */
        if (!p->source->spec.nts || peer_nts_ready(p))
                (void) peer_send_request(p);
        else
                source_poll_without_request(p->source);
        /* The register just shifted: a source may have become unreachable. */
        if (reach_before != 0 && p->source->reach == 0)
                engine_reselect(m->engine);
        /* Replacing this member frees it, so the manager does that after
         * this callback has returned, never from inside it. */
        if (peer_should_be_replaced(p))
                manager_schedule_pool_check(m);
        return peer_schedule(p, source_poll_interval(p->source));
}

static int peer_schedule(Peer *p, double delay) {
        uint64_t usec = (uint64_t) (delay * USEC_PER_SEC);
        /* sd-event may fire a timer late by its accuracy, to wake up less
         * often: up to 10 ms, but never a noticeable share of a short
         * poll (2^-7 s is 7.8 ms). */
        uint64_t accuracy = CLAMP(usec / 32, (uint64_t) 1, (uint64_t) POLL_TIMER_ACCURACY_USEC);
        int r;

        if (!p->poll_timer)
                return sd_event_add_time_relative(p->manager->event, &p->poll_timer, CLOCK_MONOTONIC, usec,
                                                  accuracy, peer_on_poll, p);
        r = sd_event_source_set_time_relative(p->poll_timer, usec);
        if (r >= 0)
                r = sd_event_source_set_time_accuracy(p->poll_timer, accuracy);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(p->poll_timer, SD_EVENT_ONESHOT);
}

int peer_new(Manager *m, Source *s, SourceGroup *group, double delay, Peer **ret) {
        _cleanup_(peer_freep) Peer *p = calloc(1, sizeof(Peer));
        int r;

        if (!p)
                return -ENOMEM;
        p->manager = m;
        p->source = s;
        p->group = group;
        p->fd = -EBADF;
        peer_nts_init(p);
        r = peer_schedule(p, delay);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int peer_burst(Peer *p) {
        if (!source_wants_polls(p->source))
                return 0;
        source_burst(p->source);
        return peer_schedule(p, 0);
}

int peer_poll_soon(Peer *p) {
        return peer_schedule(p, 0);
}
