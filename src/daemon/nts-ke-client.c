/* An NTS-KE exchange as a client (see nts-ke-client.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/nts-ke-client.h"
#include "net/resolve.h"
#include "shared/log.h"
#include "shared/sockaddr-util.h"
#include "shared/time-util.h"

typedef enum KeState {
        KE_CONNECTING,
        KE_HANDSHAKE,
        KE_SENDING,
        KE_RECEIVING,
        KE_RESOLVING_NTP,
        KE_DONE,
} KeState;

struct NtsKeClient {
        sd_event *event;
        char *host;
        gnutls_certificate_credentials_t creds;
        bool check_time;
        nts_ke_client_handler_t cb;
        void *userdata;

        KeState state;
        ResolveQuery *query;
        int fd;
        sd_event_source *io, *timer;
        gnutls_session_t session;
        struct sockaddr_storage address;        /* the KE server's */
        uint8_t request[64];
        size_t request_len, sent;
        uint8_t response[NTS_KE_MAX_MESSAGE];
        size_t received;
        NtsKeResult result;
        uint16_t ntp_port;
        char reason[80];
};

static void ke_close(NtsKeClient *k) {
        k->query = resolve_cancel(k->query);
        k->io = sd_event_source_disable_unref(k->io);
        k->timer = sd_event_source_disable_unref(k->timer);
        if (k->session) {
                gnutls_deinit(k->session);
                k->session = NULL;
        }
        k->fd = safe_close(k->fd);
}

NtsKeClient *nts_ke_client_free(NtsKeClient *k) {
        if (!k)
                return NULL;
        ke_close(k);
        gnutls_memset(&k->result, 0, sizeof k->result);
        free(k->host);
        sd_event_unref(k->event);
        free(k);
        return NULL;
}

bool nts_ke_client_running(const NtsKeClient *k) {
        return k && k->state != KE_DONE;
}

/* Ends the exchange: inert from here on, whatever the handler does. */
static void ke_finish(NtsKeClient *k, int error, const char *reason) {
        ke_close(k);
        k->state = KE_DONE;
        k->cb(k, error, reason, error < 0 ? NULL : &k->result, k->userdata);
        gnutls_memset(&k->result, 0, sizeof k->result);
}

static int ke_watch(NtsKeClient *k, uint32_t events);

/* Drives the handshake and the exchange as far as the socket allows. */
static void ke_step(NtsKeClient *k);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NtsKeClient *k = userdata;

        if (k->state == KE_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        ke_finish(k, -err, "cannot connect");
                        return 0;
                }
                k->state = KE_HANDSHAKE;
        }
        ke_step(k);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ke_finish(userdata, -ETIMEDOUT, "no answer in time");
        return 0;
}

static int ke_watch(NtsKeClient *k, uint32_t events) {
        if (!k->io)
                return sd_event_add_io(k->event, &k->io, k->fd, events, on_io, k);
        return sd_event_source_set_io_events(k->io, events);
}

/* After GNUTLS_E_AGAIN: wait for what GnuTLS waits for. */
static void ke_wait(NtsKeClient *k) {
        int r = ke_watch(k, gnutls_record_get_direction(k->session) ? EPOLLOUT : EPOLLIN);
        if (r < 0)
                ke_finish(k, r, "cannot watch the socket");
}

static int ke_export_keys(NtsKeClient *k) {
        uint8_t context[5];

        for (int c2s = 1; c2s >= 0; c2s--) {
                nts_ke_exporter_context(c2s, context);
                if (gnutls_prf_rfc5705(k->session, strlen(NTS_KE_EXPORTER_LABEL), NTS_KE_EXPORTER_LABEL,
                                       sizeof context, (const char *) context, NTS_KEY_SIZE,
                                       (char *) (c2s ? k->result.c2s : k->result.s2c)) < 0)
                        return -EIO;
        }
        return 0;
}

static void on_ntp_resolved(const ResolveResult *result, void *userdata) {
        NtsKeClient *k = userdata;

        k->query = NULL;
        if (result->error < 0 || result->n == 0) {
                ke_finish(k, result->error < 0 ? result->error : -ENOENT, "cannot resolve the NTP server it named");
                return;
        }
        memcpy(&k->result.ntp_address, &result->addrs[0], sizeof(struct sockaddr_storage));
        k->result.ntp_address_len = sockaddr_len((const struct sockaddr *) &result->addrs[0]);
        ke_finish(k, 0, NULL);
}

/* The NTP server: the one the response names, else the KE server's
 * address; the port it names, else 123 (RFC 8915 sections 4.1.7, 4.1.8). */
static void ke_use_response(NtsKeClient *k, const NtsKeResponse *resp) {
        k->ntp_port = resp->port ? resp->port : 123;
        memcpy(k->result.cookies, resp->cookies, sizeof resp->cookies);
        k->result.n_cookies = resp->n_cookies;
        if (resp->server[0]) {
                k->state = KE_RESOLVING_NTP;
                int r = resolve_start(k->event, resp->server, k->ntp_port, on_ntp_resolved, k, &k->query);
                if (r < 0)
                        ke_finish(k, r, "cannot resolve the NTP server it named");
                return;
        }
        k->result.ntp_address = k->address;
        k->result.ntp_address_len = sockaddr_len((const struct sockaddr *) &k->address);
        sockaddr_set_port((struct sockaddr *) &k->result.ntp_address, k->ntp_port);
        ke_finish(k, 0, NULL);
}

static void ke_parse(NtsKeClient *k, size_t len) {
        NtsKeResponse resp;
        const char *reason;

        if (nts_ke_response_parse(k->response, len, &resp, &reason) < 0) {
                ke_finish(k, -EBADMSG, reason);
                return;
        }
        if (resp.error >= 0) {
                snprintf(k->reason, sizeof k->reason, "the server refused with error %d", resp.error);
                ke_finish(k, -ECONNREFUSED, k->reason);
                return;
        }
        if (resp.warning >= 0)
                log_warning("NTS-KE server %s warns with code %d.", k->host, resp.warning);
        if (ke_export_keys(k) < 0) {
                ke_finish(k, -EIO, "cannot export the keys");
                return;
        }
        ke_use_response(k, &resp);
}

static void ke_receive(NtsKeClient *k) {
        for (;;) {
                if (k->received >= sizeof k->response) {
                        ke_finish(k, -EMSGSIZE, "the response is too long");
                        return;
                }
                ssize_t n = gnutls_record_recv(k->session, k->response + k->received,
                                               sizeof k->response - k->received);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        ke_wait(k);
                        return;
                }
                if (n <= 0) {
                        ke_finish(k, -ECONNRESET, n == 0 ? "the server closed the connection early"
                                                          : gnutls_strerror((int) n));
                        return;
                }
                k->received += (size_t) n;
                int len = nts_ke_message_length(k->response, k->received);
                if (len < 0) {
                        ke_finish(k, len, "the response is too long");
                        return;
                }
                if (len > 0) {
                        ke_parse(k, (size_t) len);
                        return;
                }
        }
}

static bool ke_alpn_ok(NtsKeClient *k) {
        gnutls_datum_t p;
        return gnutls_alpn_get_selected_protocol(k->session, &p) >= 0 && p.size == strlen(NTS_KE_ALPN) &&
               memcmp(p.data, NTS_KE_ALPN, p.size) == 0;
}

static void ke_step(NtsKeClient *k) {
        int r;

        if (k->state == KE_HANDSHAKE) {
                r = gnutls_handshake(k->session);
                if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || (r < 0 && !gnutls_error_is_fatal(r))) {
                        ke_wait(k);
                        return;
                }
                if (r < 0) {
                        ke_finish(k, -EPROTO, gnutls_strerror(r));
                        return;
                }
                if (!ke_alpn_ok(k)) {
                        ke_finish(k, -EPROTO, "the server did not agree to ALPN ntske/1");
                        return;
                }
                k->state = KE_SENDING;
        }
        while (k->state == KE_SENDING) {
                ssize_t n = gnutls_record_send(k->session, k->request + k->sent, k->request_len - k->sent);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        ke_wait(k);
                        return;
                }
                if (n < 0) {
                        ke_finish(k, -ECONNRESET, gnutls_strerror((int) n));
                        return;
                }
                k->sent += (size_t) n;
                if (k->sent == k->request_len)
                        k->state = KE_RECEIVING;
        }
        if (k->state == KE_RECEIVING)
                ke_receive(k);
}

static bool host_is_ip(const char *host) {
        struct in6_addr a;
        return inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1;
}

static int ke_session(NtsKeClient *k) {
        gnutls_datum_t alpn = { .data = (uint8_t *) NTS_KE_ALPN, .size = strlen(NTS_KE_ALPN) };
        gnutls_typed_vdata_st name = { .type = GNUTLS_DT_DNS_HOSTNAME, .data = (uint8_t *) k->host };
        unsigned flags = k->check_time ? 0 : GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;

        if (gnutls_init(&k->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
                return -ENOMEM;
        /* TLS 1.3 only (RFC 8915 section 3). */
        if (gnutls_priority_set_direct(k->session, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0 ||
            gnutls_credentials_set(k->session, GNUTLS_CRD_CERTIFICATE, k->creds) < 0 ||
            gnutls_alpn_set_protocols(k->session, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
                return -EIO;
        if (!host_is_ip(k->host) &&
            gnutls_server_name_set(k->session, GNUTLS_NAME_DNS, k->host, strlen(k->host)) < 0)
                return -EIO;
        gnutls_session_set_verify_cert2(k->session, &name, 1, flags);
        gnutls_transport_set_int(k->session, k->fd);
        return 0;
}

static int ke_connect(NtsKeClient *k, const struct sockaddr *a, socklen_t len) {
        if (len > sizeof k->address)
                return -EINVAL;
        memcpy(&k->address, a, len);
        k->fd = socket(a->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (k->fd < 0)
                return -errno;
        int one = 1;
        (void) setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r = ke_session(k);
        if (r < 0)
                return r;
        if (connect(k->fd, a, len) < 0 &&
            errno != EINPROGRESS)
                return -errno;
        k->state = KE_CONNECTING;
        return ke_watch(k, EPOLLOUT);
}

int nts_ke_client_start(sd_event *e, const NtsKeClientParams *params, nts_ke_client_handler_t cb, void *userdata,
                        NtsKeClient **ret) {
        _cleanup_(nts_ke_client_freep) NtsKeClient *k = calloc(1, sizeof(NtsKeClient));
        int r;

        if (!k)
                return -ENOMEM;
        k->event = sd_event_ref(e);
        k->fd = -EBADF;
        k->host = strdup(params->host);
        if (!k->host)
                return -ENOMEM;
        k->creds = params->creds;
        k->check_time = params->check_time;
        k->cb = cb;
        k->userdata = userdata;
        r = nts_ke_request_encode(k->request, sizeof k->request);
        if (r < 0)
                return r;
        k->request_len = (size_t) r;
        r = sd_event_add_time_relative(e, &k->timer, CLOCK_MONOTONIC, NTS_KE_CLIENT_TIMEOUT_USEC, 0, on_timeout, k);
        if (r < 0)
                return r;
        r = ke_connect(k, params->address, params->address_len);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

static int add_ca_file(gnutls_certificate_credentials_t creds, const char *path) {
        int r = gnutls_certificate_set_x509_trust_file(creds, path, GNUTLS_X509_FMT_PEM);
        if (r <= 0)
                return log_error_errno(-EINVAL, "Failed to read trusted certificates from %s: %s", path,
                                       r == 0 ? "no certificate in it" : gnutls_strerror(r));
        return 0;
}

int nts_ke_client_credentials(char *const *ca_files, size_t n, gnutls_certificate_credentials_t *ret) {
        gnutls_certificate_credentials_t creds;

        if (gnutls_certificate_allocate_credentials(&creds) < 0)
                return -ENOMEM;
        /* Without a system store (a minimal container), only the files. */
        if (gnutls_certificate_set_x509_system_trust(creds) < 0)
                log_debug("No system store of trusted certificates.");
        for (size_t i = 0; i < n; i++)
                if (add_ca_file(creds, ca_files[i]) < 0) {
                        gnutls_certificate_free_credentials(creds);
                        return -EINVAL;
                }
        *ret = creds;
        return 0;
}
