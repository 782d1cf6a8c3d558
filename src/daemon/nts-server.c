/* The NTS server (see nts-server.h). */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/nts-ntp.h"
#include "auth/nts-server-key.h"
#include "daemon/manager.h"
#include "daemon/nts-server.h"
#include "net/tcp.h"
#include "shared/alloc-util.h"
#include "shared/file-util.h"
#include "shared/log.h"
#include "shared/sockaddr-util.h"

#define LISTEN_BACKLOG 128
#define RESPONSE_MAX 2048

typedef enum ConnState {
        CONN_HANDSHAKE,
        CONN_RECEIVING,
        CONN_SENDING,
        CONN_CLOSED,
} ConnState;

typedef struct KeConn KeConn;
struct KeConn {
        NtsServer *server;
        KeConn *prev, *next;
        ConnState state;
        int fd;
        struct sockaddr_storage peer;
        gnutls_session_t session;
        sd_event_source *io, *timer;
        uint8_t in[NTS_KE_MAX_MESSAGE];
        size_t in_len;
        uint8_t out[RESPONSE_MAX];
        size_t out_len, sent;
        bool cookies;                   /* the response gives cookies, not a refusal */
};

struct NtsServer {
        Manager *manager;
        gnutls_certificate_credentials_t creds;
        gnutls_priority_t priority;
        int *fds;
        sd_event_source **listen_io;
        size_t n_fds, fds_allocated, io_allocated;
        bool socket_activated;
        bool listening;                 /* the listeners are enabled */
        KeConn *conns, *dead;
        unsigned n_conns;
        sd_event_source *reaper;
        NtsServerKeys keys;
        sd_event_source *rotate_timer;
        /* Handles for the keys of the client at hand, given its keys for
         * each request: a key schedule each, but no handle made and freed
         * for every reply. */
        NtsAead *c2s, *s2c;
};

/* ---- connections ---------------------------------------------------------- */

static void conn_free(KeConn *c) {
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        if (c->session)
                gnutls_deinit(c->session);
        safe_close(c->fd);
        gnutls_memset(c, 0, sizeof *c);
        free(c);
}

static void unlink_conn(KeConn **head, KeConn *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                *head = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
}

static void push_conn(KeConn **head, KeConn *c) {
        c->next = *head;
        c->prev = NULL;
        if (*head)
                (*head)->prev = c;
        *head = c;
}

static void set_listening(NtsServer *s, bool on) {
        if (s->listening == on)
                return;
        for (size_t i = 0; i < s->n_fds; i++)
                (void) sd_event_source_set_enabled(s->listen_io[i], on ? SD_EVENT_ON : SD_EVENT_OFF);
        s->listening = on;
}

/* Closes a connection now and frees it once the current event is done: a
 * handler never frees what it runs for. */
static void conn_close(KeConn *c, bool ok) {
        NtsServer *s = c->server;

        if (c->state == CONN_CLOSED)
                return;
        if (!ok)
                s->manager->counters.nts_ke_failures++;
        c->state = CONN_CLOSED;
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->fd = safe_close(c->fd);
        unlink_conn(&s->conns, c);
        s->n_conns--;
        push_conn(&s->dead, c);
        (void) sd_event_source_set_enabled(s->reaper, SD_EVENT_ONESHOT);
        set_listening(s, true);
}

static int on_reap(sd_event_source *es, void *userdata) {
        NtsServer *s = userdata;
        while (s->dead) {
                KeConn *c = s->dead;
                unlink_conn(&s->dead, c);
                conn_free(c);
        }
        return 0;
}

static void conn_wait(KeConn *c) {
        uint32_t events = gnutls_record_get_direction(c->session) ? EPOLLOUT : EPOLLIN;
        if (sd_event_source_set_io_events(c->io, events) < 0)
                conn_close(c, false);
}

static bool conn_alpn_ok(KeConn *c) {
        gnutls_datum_t p;
        return gnutls_alpn_get_selected_protocol(c->session, &p) >= 0 && p.size == strlen(NTS_KE_ALPN) &&
               memcmp(p.data, NTS_KE_ALPN, p.size) == 0;
}

static int export_keys(KeConn *c, uint8_t c2s[static NTS_KEY_SIZE], uint8_t s2c[static NTS_KEY_SIZE]) {
        uint8_t context[5];
        for (int dir = 1; dir >= 0; dir--) {
                nts_ke_exporter_context(dir, context);
                if (gnutls_prf_rfc5705(c->session, strlen(NTS_KE_EXPORTER_LABEL), NTS_KE_EXPORTER_LABEL,
                                       sizeof context, (const char *) context, NTS_KEY_SIZE,
                                       (char *) (dir ? c2s : s2c)) < 0)
                        return -EIO;
        }
        return 0;
}

/* The response to a whole request: 8 cookies, or an error record. */
static int conn_respond(KeConn *c, size_t len) {
        NtsServer *s = c->server;
        NtsKeRequest req;
        NtsCookie cookies[NTS_MAX_COOKIES];
        uint8_t c2s[NTS_KEY_SIZE], s2c[NTS_KEY_SIZE], nonce[16];
        int error = -1, r;

        if (nts_ke_request_parse(c->in, len, &req) < 0 || !req.has_aead)
                error = NTS_KE_ERROR_BAD_REQUEST;
        else if (req.unknown_critical)
                error = NTS_KE_ERROR_UNRECOGNIZED_CRITICAL;
        else if (!req.ntpv4 || !req.aes_siv) {
                /* Nothing in common: say so, with no cookie. */
                r = nts_ke_refusal_encode(req.ntpv4, req.aes_siv, c->out, sizeof c->out);
                c->out_len = r < 0 ? 0 : (size_t) r;
                return -EPROTONOSUPPORT;
        } else if (export_keys(c, c2s, s2c) < 0)
                error = NTS_KE_ERROR_INTERNAL;
        for (unsigned i = 0; error < 0 && i < NTS_MAX_COOKIES; i++)
                if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof nonce) < 0 ||
                    nts_cookie_seal(&s->keys, c2s, s2c, nonce, &cookies[i]) < 0)
                        error = NTS_KE_ERROR_INTERNAL;
        /* Our NTP port, when it is not the default (section 4.1.8). */
        uint16_t port = s->manager->config.port != 123 ? s->manager->config.port : 0;
        r = nts_ke_response_encode(error, cookies, error < 0 ? NTS_MAX_COOKIES : 0, NULL, port, c->out,
                                   sizeof c->out);
        gnutls_memset(c2s, 0, sizeof c2s);
        gnutls_memset(s2c, 0, sizeof s2c);
        gnutls_memset(cookies, 0, sizeof cookies);
        if (r < 0)
                return r;
        c->out_len = (size_t) r;
        return error < 0 ? 0 : -EBADMSG;
}

static void conn_receive(KeConn *c) {
        for (;;) {
                if (c->in_len >= sizeof c->in) {
                        conn_close(c, false);
                        return;
                }
                ssize_t n = gnutls_record_recv(c->session, c->in + c->in_len, sizeof c->in - c->in_len);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        conn_wait(c);
                        return;
                }
                if (n <= 0) {
                        conn_close(c, false);
                        return;
                }
                c->in_len += (size_t) n;
                int len = nts_ke_message_length(c->in, c->in_len);
                if (len < 0) {
                        conn_close(c, false);
                        return;
                }
                if (len > 0) {
                        /* A refused request still gets its error record. */
                        c->cookies = conn_respond(c, (size_t) len) >= 0;
                        c->state = c->out_len > 0 ? CONN_SENDING : CONN_CLOSED;
                        if (c->out_len == 0)
                                conn_close(c, false);
                        return;
                }
        }
}

static void conn_send(KeConn *c) {
        while (c->sent < c->out_len) {
                ssize_t n = gnutls_record_send(c->session, c->out + c->sent, c->out_len - c->sent);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        conn_wait(c);
                        return;
                }
                if (n < 0) {
                        conn_close(c, false);
                        return;
                }
                c->sent += (size_t) n;
        }
        /* One try at close_notify: a client that does not read it is not
         * waited for. */
        (void) gnutls_bye(c->session, GNUTLS_SHUT_WR);
        if (c->cookies)
                c->server->manager->counters.nts_ke_handshakes++;
        conn_close(c, c->cookies);
}

static int on_conn_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        KeConn *c = userdata;

        if (c->state == CONN_HANDSHAKE) {
                int r = gnutls_handshake(c->session);
                if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || (r < 0 && !gnutls_error_is_fatal(r))) {
                        conn_wait(c);
                        return 0;
                }
                if (r < 0 || !conn_alpn_ok(c)) {
                        log_debug("NTS-KE handshake failed: %s", r < 0 ? gnutls_strerror(r) : "no ALPN ntske/1");
                        conn_close(c, false);
                        return 0;
                }
                c->state = CONN_RECEIVING;
        }
        if (c->state == CONN_RECEIVING)
                conn_receive(c);
        if (c->state == CONN_SENDING)
                conn_send(c);
        return 0;
}

static int on_conn_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        KeConn *c = userdata;
        log_debug("NTS-KE connection timed out.");
        conn_close(c, false);
        return 0;
}

static int conn_session(KeConn *c) {
        NtsServer *s = c->server;
        gnutls_datum_t alpn = { .data = (uint8_t *) NTS_KE_ALPN, .size = strlen(NTS_KE_ALPN) };

        if (gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0)
                return -ENOMEM;
        if (gnutls_priority_set(c->session, s->priority) < 0 ||
            gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, s->creds) < 0 ||
            gnutls_alpn_set_protocols(c->session, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
                return -EIO;
        gnutls_transport_set_int(c->session, c->fd);
        return 0;
}

/* The per-client share of the connections: an eighth, at least 2. */
static unsigned per_client_limit(const NtsServer *s) {
        return MAX(s->manager->config.nts_max_connections / 8, 2u);
}

static unsigned conns_from(const NtsServer *s, const struct sockaddr *a) {
        unsigned n = 0;
        for (KeConn *c = s->conns; c; c = c->next) {
                struct sockaddr_storage x = c->peer, y;
                memcpy(&y, a, sockaddr_len(a));
                sockaddr_set_port((struct sockaddr *) &x, 0);
                sockaddr_set_port((struct sockaddr *) &y, 0);
                n += sockaddr_equal((const struct sockaddr *) &x, (const struct sockaddr *) &y);
        }
        return n;
}

static int conn_new(NtsServer *s, int fd, const struct sockaddr_storage *peer) {
        Manager *m = s->manager;
        KeConn *c = calloc(1, sizeof(KeConn));

        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->peer = *peer;
        c->state = CONN_HANDSHAKE;
        push_conn(&s->conns, c);
        s->n_conns++;
        int r = conn_session(c);
        if (r >= 0)
                r = sd_event_add_io(m->event, &c->io, fd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &c->timer, CLOCK_MONOTONIC,
                                               NTS_SERVER_CONNECTION_TIMEOUT_USEC, 0, on_conn_timeout, c);
        if (r < 0)
                conn_close(c, false);
        return r;
}

/* Returns false when no connection was waiting. */
static bool accept_one(NtsServer *s, int lfd) {
        Manager *m = s->manager;
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;

        int fd = accept4(lfd, (struct sockaddr *) &peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return false;
        m->counters.nts_ke_connections++;
        /* The response goes out in one piece, at once. */
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!access_list_check(&m->access, (const struct sockaddr *) &peer) ||
            conns_from(s, (const struct sockaddr *) &peer) >= per_client_limit(s)) {
                m->counters.nts_ke_failures++;
                safe_close(fd);
                return true;
        }
        (void) conn_new(s, fd, &peer);
        return true;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        NtsServer *s = userdata;

        /* Bounded, and never beyond the limit: the rest wait in the
         * kernel's queue until a connection ends. */
        for (int i = 0; i < 16 && s->n_conns < s->manager->config.nts_max_connections; i++)
                if (!accept_one(s, fd))
                        break;
        if (s->n_conns >= s->manager->config.nts_max_connections)
                set_listening(s, false);
        return 0;
}

/* ---- server keys ------------------------------------------------------------ */

static const char *dump_dir(const Manager *m) {
        return m->config.nts_dump_dir ?: NTS_DEFAULT_DUMP_DIR;
}

static int keys_path(const Manager *m, char **ret) {
        return asprintf(ret, "%s/server-keys", dump_dir(m)) < 0 ? -ENOMEM : 0;
}

static void keys_save(NtsServer *s) {
        _cleanup_free_ char *path = NULL, *tmp = NULL, *text = NULL;
        size_t size = 0;

        if (keys_path(s->manager, &path) < 0 || asprintf(&tmp, "%s.tmp", path) < 0)
                return;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return;
        int r = nts_server_keys_write(&s->keys, f);
        if (fclose(f) != 0)
                r = -EIO;
        if (r >= 0 && mkdir(dump_dir(s->manager), 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r >= 0) {
                _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                r = fd < 0 ? -errno : write_all(fd, text, size);
                if (r >= 0 && fsync(fd) < 0)
                        r = -errno;
                if (r >= 0 && rename(tmp, path) < 0)
                        r = -errno;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to save the NTS server keys in %s: %m", path);
        if (text)
                gnutls_memset(text, 0, size);
}

static void keys_load(NtsServer *s) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *text = NULL;
        size_t len;

        if (keys_path(s->manager, &path) < 0 || read_small_file(path, 4096, &text, &len) < 0)
                return;
        if (nts_server_keys_parse(text, &s->keys) < 0)
                log_warning("Ignoring %s: not NTS server keys.", path);
        gnutls_memset(text, 0, len);
}

static uint64_t realtime_usec(void) {
        return (uint64_t) (now_realtime() / NSEC_PER_USEC);
}

static int keys_rotate(NtsServer *s) {
        uint8_t key[NTS_KEY_SIZE];

        if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof key) < 0)
                return -EIO;
        nts_server_keys_rotate(&s->keys, key, realtime_usec());
        gnutls_memset(key, 0, sizeof key);
        keys_save(s);
        log_info("New NTS server key %u.", s->keys.keys[0].id);
        return 0;
}

static int arm_rotation(NtsServer *s);

static int on_rotate(sd_event_source *es, uint64_t usec, void *userdata) {
        NtsServer *s = userdata;
        (void) keys_rotate(s);
        (void) arm_rotation(s);
        return 0;
}

/* The next rotation, NTSRotate= after the newest key was made. */
static int arm_rotation(NtsServer *s) {
        double rotate = s->manager->config.nts_rotate;

        if (rotate <= 0)
                return 0;
        uint64_t period = (uint64_t) (rotate * USEC_PER_SEC), now = realtime_usec();
        uint64_t due = s->keys.keys[0].created_usec + period;
        uint64_t delay = due > now ? MIN(due - now, period) : 0;
        s->rotate_timer = sd_event_source_disable_unref(s->rotate_timer);
        return sd_event_add_time_relative(s->manager->event, &s->rotate_timer, CLOCK_MONOTONIC, delay,
                                          USEC_PER_SEC, on_rotate, s);
}

/* ---- setup ------------------------------------------------------------------ */

static int load_credentials(NtsServer *s) {
        const Config *c = &s->manager->config;

        if (gnutls_certificate_allocate_credentials(&s->creds) < 0)
                return log_oom();
        for (size_t i = 0; i < c->nts_server_certs.n; i++) {
                int r = gnutls_certificate_set_x509_key_file(s->creds, c->nts_server_certs.paths[i],
                                                              c->nts_server_keys.paths[i], GNUTLS_X509_FMT_PEM);
                if (r < 0)
                        return log_error_errno(-EINVAL, "Failed to load the NTS server certificate %s with key %s: %s",
                                               c->nts_server_certs.paths[i], c->nts_server_keys.paths[i],
                                               gnutls_strerror(r));
        }
        /* TLS 1.3 only (RFC 8915 section 3). */
        if (gnutls_priority_init(&s->priority, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0)
                return log_error_errno(-EIO, "Failed to set the TLS priorities.");
        return 0;
}

static int add_listener(NtsServer *s, int fd) {
        if (GREEDY_REALLOC(s->fds, s->fds_allocated, s->n_fds + 1) < 0 ||
            GREEDY_REALLOC(s->listen_io, s->io_allocated, s->n_fds + 1) < 0)
                return -ENOMEM;
        s->fds[s->n_fds] = fd;
        s->listen_io[s->n_fds] = NULL;
        s->n_fds++;
        return sd_event_add_io(s->manager->event, &s->listen_io[s->n_fds - 1], fd, EPOLLIN, on_accept, s);
}

static int bind_listeners(NtsServer *s) {
        const Config *c = &s->manager->config;
        static const int families[] = { AF_INET, AF_INET6 };

        if (s->manager->n_ntske_fds > 0) {
                s->socket_activated = true;
                for (size_t i = 0; i < s->manager->n_ntske_fds; i++) {
                        int fd = s->manager->ntske_fds[i];
                        /* systemd's sockets may block: accept() must not. */
                        int flags = fcntl(fd, F_GETFL);
                        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                                return log_error_errno(-errno, "Failed to make socket %d non-blocking: %m", fd);
                        if (add_listener(s, fd) < 0)
                                return log_oom();
                }
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                int fd;
                int r = tcp_server_socket(families[i], NULL, c->nts_port, LISTEN_BACKLOG, &fd);
                if (r < 0) {
                        log_warning_errno(r, "Failed to listen for NTS-KE on %s port %u: %m",
                                          families[i] == AF_INET ? "0.0.0.0" : "::", c->nts_port);
                        continue;
                }
                if (add_listener(s, fd) < 0) {
                        safe_close(fd);
                        return log_oom();
                }
        }
        if (s->n_fds == 0)
                return log_error_errno(-EADDRNOTAVAIL, "Not serving NTS-KE: no socket could be opened.");
        return 0;
}

NtsServer *nts_server_free(NtsServer *s) {
        if (!s)
                return NULL;
        while (s->conns) {
                KeConn *c = s->conns;
                unlink_conn(&s->conns, c);
                conn_free(c);
        }
        on_reap(NULL, s);
        for (size_t i = 0; i < s->n_fds; i++) {
                sd_event_source_disable_unref(s->listen_io[i]);
                if (!s->socket_activated)
                        safe_close(s->fds[i]);
        }
        free(s->listen_io);
        free(s->fds);
        sd_event_source_disable_unref(s->reaper);
        sd_event_source_disable_unref(s->rotate_timer);
        if (s->priority)
                gnutls_priority_deinit(s->priority);
        if (s->creds)
                gnutls_certificate_free_credentials(s->creds);
        nts_server_keys_clear(&s->keys);
        nts_aead_free(s->c2s);
        nts_aead_free(s->s2c);
        free(s);
        return NULL;
}

int nts_server_new(Manager *m, NtsServer **ret) {
        _cleanup_(nts_server_freep) NtsServer *s = NULL;
        int r;

        *ret = NULL;
        if (m->config.nts_server_certs.n == 0)
                return 0;
        s = calloc(1, sizeof(NtsServer));
        if (!s)
                return log_oom();
        s->manager = m;
        s->listening = true;
        static const uint8_t no_key[NTS_KEY_SIZE];
        if (nts_aead_new(no_key, &s->c2s) < 0 || nts_aead_new(no_key, &s->s2c) < 0)
                return log_error_errno(-EIO, "Failed to set up the NTS server's ciphers.");
        r = load_credentials(s);
        if (r < 0)
                return r;
        keys_load(s);
        if (s->keys.n == 0 ||
            (m->config.nts_rotate > 0 &&
             realtime_usec() - s->keys.keys[0].created_usec >= (uint64_t) (m->config.nts_rotate * USEC_PER_SEC)))
                if (keys_rotate(s) < 0)
                        return log_error_errno(-EIO, "Failed to make an NTS server key.");
        r = sd_event_add_defer(m->event, &s->reaper, on_reap, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
        if (r >= 0)
                r = arm_rotation(s);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the NTS server's events: %m");
        r = bind_listeners(s);
        if (r < 0)
                return r;
        log_info("Serving NTS-KE on %zu socket(s)%s.", s->n_fds, s->socket_activated ? " passed by systemd" : "");
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- NTS in NTP ------------------------------------------------------------- */

/* Cookies for the reply: one and one per placeholder, as many as keep the
 * reply no longer than the request. */
static unsigned reply_cookies(const NtsServerRequest *req, size_t header, size_t request_len) {
        size_t fixed = header + 4 + ((req->uid_len + 3) & ~(size_t) 3) + 4 + 4 + NTS_NONCE_SIZE + NTS_TAG_SIZE;
        size_t per = 4 + NTS_COOKIE_SIZE;
        unsigned want = MIN(req->placeholders + 1, (unsigned) NTS_MAX_COOKIES);

        if (fixed > request_len)
                return 0;
        return (unsigned) MIN((size_t) want, (request_len - fixed) / per);
}

static NtsAnswer answer_nak(const NtsServerRequest *req, const UdpMessage *msg, UdpReply *out) {
        /* The Kiss-o'-Death NTSN: stratum 0, the code as reference ID. */
        out->data[1] = 0;
        memcpy(out->data + 12, NTS_NAK_CODE, 4);
        int k = nts_server_nak_finish(out->data, out->len, MIN(sizeof out->data, msg->len), req);
        if (k < 0)
                return NTS_ANSWER_DROP;
        out->len = (size_t) k;
        return NTS_ANSWER_NAK;
}

NtsAnswer nts_server_answer(NtsServer *s, const UdpMessage *msg, const NtpPacket *request, UdpReply *out) {
        NtsServerRequest req;
        uint8_t c2s[NTS_KEY_SIZE], s2c[NTS_KEY_SIZE], nonce[16];
        NtsCookie cookies[NTS_MAX_COOKIES];
        NtsAnswer a = NTS_ANSWER_DROP;

        if (request->extension_bytes == 0 || !s)
                return NTS_ANSWER_PLAIN;
        if (nts_server_request_parse(msg->data, msg->len, &req) < 0)
                return NTS_ANSWER_PLAIN;
        if (nts_cookie_open(&s->keys, req.cookie, req.cookie_len, c2s, s2c) < 0) {
                s->manager->counters.nts_naks++;
                return answer_nak(&req, msg, out);
        }
        if (nts_aead_set_key(s->c2s, c2s) < 0 || nts_aead_set_key(s->s2c, s2c) < 0)
                goto done;
        /* Section 5.7: a request whose Authenticator fails gets nothing. */
        if (!nts_server_request_verify(&req, msg->data, s->c2s))
                goto done;
        unsigned n = reply_cookies(&req, out->len, msg->len);
        for (unsigned i = 0; i < n; i++)
                if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof nonce) < 0 ||
                    nts_cookie_seal(&s->keys, c2s, s2c, nonce, &cookies[i]) < 0)
                        goto done;
        if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof nonce) < 0)
                goto done;
        int k = nts_server_reply_finish(out->data, out->len, MIN(sizeof out->data, msg->len), &req, cookies, n,
                                        s->s2c, nonce);
        if (k >= 0) {
                out->len = (size_t) k;
                s->manager->counters.nts_authenticated++;
                a = NTS_ANSWER_DONE;
        }
done:
        gnutls_memset(c2s, 0, sizeof c2s);
        gnutls_memset(s2c, 0, sizeof s2c);
        gnutls_memset(cookies, 0, sizeof cookies);
        return a;
}
