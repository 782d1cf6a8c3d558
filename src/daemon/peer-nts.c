/* NTS for one peer (see peer-nts.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/manager.h"
#include "daemon/nts-ke-client.h"
#include "daemon/peer-nts.h"
#include "daemon/peer.h"
#include "shared/file-util.h"
#include "shared/log.h"
#include "shared/sockaddr-util.h"
#include "shared/time-util.h"

static usec_t monotonic_usec(void) {
        return (usec_t) (now_monotonic() / NSEC_PER_USEC);
}

static const char *dump_dir(const Manager *m) {
        return m->config.nts_dump_dir ?: NTS_DEFAULT_DUMP_DIR;
}

/* One file per source: the KE host, the address it resolved to, the port. */
static int dump_path(Peer *p, char **ret) {
        const Source *s = p->source;
        return asprintf(ret, "%s/client-%s-%s-%u.nts", dump_dir(p->manager), s->spec.host, s->address_string,
                        s->spec.nts_port) < 0 ? -ENOMEM : 0;
}

static void update_status(Peer *p) {
        SourceNtsStatus *st = &p->source->nts;
        st->cookies = p->nts.jar.n_cookies;
        if (p->nts.jar.n_cookies > 0)
                st->cookie_length = p->nts.jar.cookies[p->nts.jar.n_cookies - 1].length;
        manager_schedule_status(p->manager);
}

static int write_file_atomic(const char *path, const char *data, size_t len) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static void peer_nts_save(Peer *p) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char ntp[64];
        size_t size = 0;
        const struct sockaddr *a = (const struct sockaddr *) &p->nts.ntp_address;

        if (!p->nts.jar.has_keys || p->nts.ntp_address_len == 0 || dump_path(p, &path) < 0)
                return;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return;
        int r = nts_jar_write(&p->nts.jar, p->source->spec.host, p->source->spec.nts_port,
                              sockaddr_format(a, ntp, sizeof ntp), sockaddr_port(a), f);
        if (fclose(f) != 0 || r < 0)
                r = -EIO;
        if (r >= 0 && mkdir(dump_dir(p->manager), 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r >= 0)
                r = write_file_atomic(path, text, size);
        if (r < 0)
                log_warning_errno(r, "Failed to save the NTS cookies of %s in %s: %m", p->source->name, path);
        if (text)
                gnutls_memset(text, 0, size);
}

static int parse_ntp_address(const char *text, uint16_t port, struct sockaddr_storage *ret, socklen_t *ret_len) {
        if (sockaddr_make(AF_INET, text, port, ret, ret_len) >= 0)
                return 0;
        return sockaddr_make(AF_INET6, text, port, ret, ret_len);
}

void peer_nts_init(Peer *p) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *text = NULL;
        char ntp[64];
        uint16_t ntp_port;
        size_t len;

        if (!p->source->spec.nts || dump_path(p, &path) < 0 || read_small_file(path, 16384, &text, &len) < 0)
                return;
        if (nts_jar_parse(text, p->source->spec.host, p->source->spec.nts_port, &p->nts.jar, ntp, &ntp_port) < 0 ||
            parse_ntp_address(ntp, ntp_port, &p->nts.ntp_address, &p->nts.ntp_address_len) < 0) {
                log_warning("Ignoring %s: not NTS cookies saved for %s.", path, p->source->name);
                nts_jar_clear(&p->nts.jar);
        } else
                log_info("Read %u NTS cookies for %s from %s.", p->nts.jar.n_cookies, p->source->name, path);
        gnutls_memset(text, 0, len);
        update_status(p);
}

void peer_nts_done(Peer *p) {
        if (p->source && p->source->spec.nts)
                peer_nts_save(p);
        p->nts.ke = nts_ke_client_free(p->nts.ke);
        nts_jar_clear(&p->nts.jar);
}

static void ke_failed(Peer *p, int error, const char *reason) {
        SourceNtsStatus *st = &p->source->nts;
        usec_t backoff = PEER_NTS_KE_BACKOFF_MIN_USEC << MIN(st->ke_attempts, 8u);

        st->ke_failures++;
        st->ke_attempts++;
        backoff = MIN(backoff, (usec_t) PEER_NTS_KE_BACKOFF_MAX_USEC);
        p->nts.ke_not_before = monotonic_usec() + backoff;
        log_warning("NTS-KE with %s (%s port %u) failed: %s (%s); next attempt in %" PRIu64 " s.", p->source->name,
                    p->source->address_string, p->source->spec.nts_port, reason ?: "error", strerror(-error),
                    backoff / USEC_PER_SEC);
        manager_schedule_status(p->manager);
}

static void on_ke_done(NtsKeClient *k, int error, const char *reason, const NtsKeResult *res, void *userdata) {
        Peer *p = userdata;
        SourceNtsStatus *st = &p->source->nts;

        if (error < 0) {
                ke_failed(p, error, reason);
                return;
        }
        nts_jar_reset(&p->nts.jar, res->c2s, res->s2c, res->cookies, res->n_cookies);
        p->nts.ntp_address = res->ntp_address;
        p->nts.ntp_address_len = res->ntp_address_len;
        st->ke_count++;
        st->ke_attempts = 0;
        st->last_ke_usec = (uint64_t) (now_realtime() / NSEC_PER_USEC);
        log_info("NTS-KE with %s done: %u cookies.", p->source->name, res->n_cookies);
        update_status(p);
        peer_nts_save(p);
        /* The poll that found no cookie sent nothing: ask now. */
        (void) peer_poll_soon(p);
}

/* Certificate dates are not checked for the first NoCertTimeCheck=
 * updates of a clock that was never synchronised. */
static bool check_cert_time(const Manager *m) {
        return m->engine->ever_synchronized || m->engine->discipline.n_updates >= m->config.no_cert_time_check;
}

static void start_ke(Peer *p) {
        Manager *m = p->manager;
        Source *s = p->source;
        struct sockaddr_storage a = s->address;

        int r = manager_nts_credentials(m);
        if (r < 0) {
                ke_failed(p, r, "cannot read NTSTrustedCerts=");
                return;
        }
        sockaddr_set_port((struct sockaddr *) &a, s->spec.nts_port);
        NtsKeClientParams params = {
                .host = s->spec.host,
                .address = (const struct sockaddr *) &a,
                .address_len = s->address_len,
                .creds = m->nts_creds,
                .check_time = check_cert_time(m),
        };
        p->nts.ke = nts_ke_client_free(p->nts.ke);
        r = nts_ke_client_start(m->event, &params, on_ke_done, p, &p->nts.ke);
        if (r < 0)
                ke_failed(p, r, "cannot start");
        else
                log_debug("NTS-KE with %s (%s port %u) started.", s->name, s->address_string, s->spec.nts_port);
}

bool peer_nts_ready(Peer *p) {
        if (p->nts.jar.has_keys && p->nts.jar.n_cookies > 0 && p->nts.ntp_address_len > 0)
                return true;
        if (!nts_ke_client_running(p->nts.ke) && monotonic_usec() >= p->nts.ke_not_before)
                start_ke(p);
        return false;
}

const struct sockaddr *peer_nts_address(Peer *p, socklen_t *ret_len) {
        *ret_len = p->nts.ntp_address_len;
        return (const struct sockaddr *) &p->nts.ntp_address;
}

/* Placeholders that bring us back to 8 cookies once the reply is in,
 * as many as fit in a datagram we would accept ourselves. */
static unsigned placeholders_wanted(const NtsCookieJar *j, size_t cookie_len, size_t len, size_t size) {
        size_t field = 4 + ((cookie_len + 3) & ~(size_t) 3);
        size_t fixed = len + 4 + NTS_UID_SIZE + field + 4 + 4 + NTS_NONCE_SIZE + NTS_TAG_SIZE;
        unsigned want = NTS_MAX_COOKIES - 1 - j->n_cookies;

        if (fixed > size)
                return 0;
        return (unsigned) MIN((size_t) want, (size - fixed) / field);
}

int peer_nts_finish_request(Peer *p, uint8_t *buf, size_t len, size_t size) {
        NtsCookie cookie;
        uint8_t nonce[NTS_NONCE_SIZE];

        if (!nts_jar_take(&p->nts.jar, &cookie))
                return -ENOKEY;
        if (gnutls_rnd(GNUTLS_RND_NONCE, p->nts.uid, sizeof p->nts.uid) < 0 ||
            gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof nonce) < 0)
                return -EIO;
        unsigned ph = placeholders_wanted(&p->nts.jar, cookie.length, len, size);
        int r = nts_client_request_finish(buf, len, size, p->nts.uid, &cookie, ph, p->nts.jar.c2s, nonce);
        gnutls_memset(&cookie, 0, sizeof cookie);
        update_status(p);
        return r;
}

bool peer_nts_reply_authentic(Peer *p, const UdpMessage *msg) {
        Source *s = p->source;
        NtsCookie cookies[NTS_MAX_COOKIES];
        unsigned n;

        NtsReplyCheck c = nts_client_reply_check(msg->data, msg->len, p->nts.uid, p->nts.jar.s2c, cookies,
                                                 NTS_MAX_COOKIES, &n);
        if (c == NTS_REPLY_OK) {
                nts_jar_add(&p->nts.jar, cookies, n);
                gnutls_memset(cookies, 0, sizeof cookies);
                /* A UID answers one request: a replay of this reply fails. */
                memset(p->nts.uid, 0, sizeof p->nts.uid);
                update_status(p);
                return true;
        }
        s->n_auth_failures++;
        if (c == NTS_REPLY_NAK) {
                /* The server cannot read our cookies (it changed its keys):
                 * the rest are as useless, and NTS-KE runs at the next poll. */
                s->nts.naks++;
                nts_jar_clear(&p->nts.jar);
                update_status(p);
        }
        log_debug("Reply from %s dropped: %s", s->address_string, nts_reply_check_to_string(c));
        manager_schedule_status(p->manager);
        return false;
}
