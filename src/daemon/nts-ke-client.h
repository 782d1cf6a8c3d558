/* One NTS-KE exchange as a client (RFC 8915 section 4), run in the event
 * loop without ever blocking it: connect to the KE server over TCP, a TLS 1.3 handshake with ALPN "ntske/1" driven by EPOLLIN and
 * EPOLLOUT, the request, the response, the key export; then resolve the
 * NTP server the response names. A timer bounds the whole exchange.
 * The KE server's address is the source's (a pool member's, say), with
 * the NTS-KE port; its certificate must carry the configured name. What
 * the records mean is src/auth/nts-ke.c's business. */
#pragma once

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "auth/nts-ke.h"
#include "shared/macro.h"

/* The whole exchange, from connecting to the last byte. */
#define NTS_KE_CLIENT_TIMEOUT_USEC (10 * USEC_PER_SEC)

typedef struct NtsKeClient NtsKeClient;

typedef struct NtsKeResult {
        uint8_t c2s[NTS_KEY_SIZE];
        uint8_t s2c[NTS_KEY_SIZE];
        NtsCookie cookies[NTS_MAX_COOKIES];
        unsigned n_cookies;
        struct sockaddr_storage ntp_address;    /* with its port */
        socklen_t ntp_address_len;
} NtsKeResult;

/* Runs from the event loop when the exchange ends: error 0 and the
 * result, or a negative errno and a reason for the log. The client is
 * then inert: its owner frees it later, never from inside the handler. */
typedef void (*nts_ke_client_handler_t)(NtsKeClient *k, int error, const char *reason, const NtsKeResult *result,
                                        void *userdata);

typedef struct NtsKeClientParams {
        const char *host;                       /* the certificate's name */
        const struct sockaddr *address;         /* where to connect, with the port */
        socklen_t address_len;
        gnutls_certificate_credentials_t creds; /* the trusted CAs; borrowed */
        bool check_time;                        /* false: NoCertTimeCheck= applies */
} NtsKeClientParams;

int nts_ke_client_start(sd_event *e, const NtsKeClientParams *params, nts_ke_client_handler_t cb, void *userdata,
                        NtsKeClient **ret);
NtsKeClient *nts_ke_client_free(NtsKeClient *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(NtsKeClient *, nts_ke_client_free);
bool nts_ke_client_running(const NtsKeClient *k);

/* The credentials of every client: the system's trusted CAs and the
 * files of NTSTrustedCerts=. */
int nts_ke_client_credentials(char *const *ca_files, size_t n, gnutls_certificate_credentials_t *ret);
