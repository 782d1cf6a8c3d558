/* The NTS half of the server benchmark. Two modes, loopback only:
 *
 *   nts-load ke ADDRESS PORT SECONDS CAFILE
 *       runs NTS-KE exchanges one after another (TLS 1.3 handshake,
 *       request, 8 cookies, key export) and prints handshakes per second;
 *   nts-load request ADDRESS PORT CAFILE OUTFILE
 *       runs one NTS-KE and writes an NTS-authenticated NTP request made
 *       with its keys and first cookie to OUTFILE, and prints the NTP port
 *       the server named, for ntp-load to send again and again (an NTS
 *       server checks every copy in full: nothing in RFC 8915 lets it
 *       skip one).
 *
 * Blocking I/O: it is a load generator, not the daemon. */
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/nts-ke.h"
#include "auth/nts-ntp.h"

typedef struct Ke {
        uint8_t c2s[NTS_KEY_SIZE], s2c[NTS_KEY_SIZE];
        NtsKeResponse resp;
} Ke;

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const struct sockaddr_in *to) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fd < 0 || connect(fd, (const struct sockaddr *) to, sizeof *to) < 0) {
                perror("connect");
                exit(EXIT_FAILURE);
        }
        return fd;
}

static int exchange(gnutls_session_t s, Ke *ke) {
        uint8_t req[64], resp[NTS_KE_MAX_MESSAGE], ctx[5];
        size_t got = 0;
        const char *reason;
        int n = nts_ke_request_encode(req, sizeof req), len = 0;

        if (gnutls_record_send(s, req, (size_t) n) != n)
                return -1;
        while (len == 0 && got < sizeof resp) {
                ssize_t k = gnutls_record_recv(s, resp + got, sizeof resp - got);
                if (k <= 0)
                        return -1;
                got += (size_t) k;
                len = nts_ke_message_length(resp, got);
        }
        if (len <= 0 || nts_ke_response_parse(resp, (size_t) len, &ke->resp, &reason) < 0 || ke->resp.error >= 0)
                return -1;
        for (int c2s = 1; c2s >= 0; c2s--) {
                nts_ke_exporter_context(c2s, ctx);
                if (gnutls_prf_rfc5705(s, strlen(NTS_KE_EXPORTER_LABEL), NTS_KE_EXPORTER_LABEL, sizeof ctx,
                                       (const char *) ctx, NTS_KEY_SIZE, (char *) (c2s ? ke->c2s : ke->s2c)) < 0)
                        return -1;
        }
        return 0;
}

static int ke_once(const struct sockaddr_in *to, gnutls_certificate_credentials_t creds, Ke *ke) {
        gnutls_session_t s;
        gnutls_datum_t alpn = { (uint8_t *) NTS_KE_ALPN, strlen(NTS_KE_ALPN) };
        int fd = connect_to(to), r = -1;

        if (gnutls_init(&s, GNUTLS_CLIENT) < 0)
                exit(EXIT_FAILURE);
        gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds);
        gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
        gnutls_session_set_verify_cert(s, "localhost", 0);
        gnutls_transport_set_int(s, fd);
        if (gnutls_handshake(s) >= 0)
                r = exchange(s, ke);
        gnutls_bye(s, GNUTLS_SHUT_WR);
        gnutls_deinit(s);
        close(fd);
        return r;
}

static int write_request(const Ke *ke, const char *path) {
        uint8_t buf[1024] = { 0x23, 0, 6, 0xec }, uid[NTS_UID_SIZE], nonce[NTS_NONCE_SIZE];

        gnutls_rnd(GNUTLS_RND_NONCE, uid, sizeof uid);
        gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof nonce);
        gnutls_rnd(GNUTLS_RND_NONCE, buf + 40, 8);
        int n = nts_client_request_finish(buf, 48, sizeof buf, uid, &ke->resp.cookies[0], 0, ke->c2s, nonce);
        FILE *f = fopen(path, "wb");
        if (n < 0 || !f || fwrite(buf, 1, (size_t) n, f) != (size_t) n || fclose(f) != 0)
                return -1;
        printf("%u\n", ke->resp.port ? ke->resp.port : 123);
        return 0;
}

int main(int argc, char *argv[]) {
        bool ke_mode = argc == 6 && strcmp(argv[1], "ke") == 0;
        if (!ke_mode && !(argc == 6 && strcmp(argv[1], "request") == 0)) {
                fprintf(stderr, "usage: %s ke ADDRESS PORT SECONDS CAFILE | request ADDRESS PORT CAFILE OUTFILE\n",
                        argv[0]);
                return EXIT_FAILURE;
        }
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[3])) };
        if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1 || (ntohl(to.sin_addr.s_addr) >> 24) != 127) {
                fprintf(stderr, "%s: not a loopback IPv4 address\n", argv[2]);
                return EXIT_FAILURE;
        }
        gnutls_certificate_credentials_t creds;
        gnutls_certificate_allocate_credentials(&creds);
        if (gnutls_certificate_set_x509_trust_file(creds, argv[ke_mode ? 5 : 4], GNUTLS_X509_FMT_PEM) <= 0) {
                fprintf(stderr, "cannot read %s\n", argv[ke_mode ? 5 : 4]);
                return EXIT_FAILURE;
        }
        Ke ke;
        if (!ke_mode)
                return ke_once(&to, creds, &ke) < 0 || write_request(&ke, argv[5]) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        unsigned done = 0, failed = 0;
        double start = now_seconds(), end = start + atof(argv[4]);
        while (now_seconds() < end)
                ke_once(&to, creds, &ke) < 0 ? failed++ : done++;
        double elapsed = now_seconds() - start;
        printf("%.0f handshakes/s (%u done, %u failed in %.1f s)\n", done / elapsed, done, failed, elapsed);
        return done > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
