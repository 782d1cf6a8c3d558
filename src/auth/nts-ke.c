/* NTS-KE records (see nts-ke.h). */
#include <errno.h>
#include <string.h>

#include "auth/nts-ke.h"

#define RECORD_HEADER 4

static uint16_t read_be16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void write_be16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

int nts_ke_record_append(uint8_t *buf, size_t size, size_t *len, bool critical, uint16_t type,
                         const void *body, size_t body_len) {
        if (body_len > UINT16_MAX || *len > size || size - *len < RECORD_HEADER + body_len)
                return -ENOBUFS;
        write_be16(buf + *len, (uint16_t) ((critical ? NTS_KE_CRITICAL : 0) | (type & 0x7fff)));
        write_be16(buf + *len + 2, (uint16_t) body_len);
        if (body_len > 0)
                memcpy(buf + *len + RECORD_HEADER, body, body_len);
        *len += RECORD_HEADER + body_len;
        return 0;
}

static int append_u16(uint8_t *buf, size_t size, size_t *len, bool critical, uint16_t type, uint16_t v) {
        uint8_t body[2];
        write_be16(body, v);
        return nts_ke_record_append(buf, size, len, critical, type, body, sizeof body);
}

int nts_ke_request_encode(uint8_t *buf, size_t size) {
        size_t len = 0;
        int r;

        /* RFC 8915 section 4: Next Protocol is critical; the client may
         * mark the AEAD record critical too, and does. */
        r = append_u16(buf, size, &len, true, NTS_KE_NEXT_PROTOCOL, NTS_PROTOCOL_NTPV4);
        if (r >= 0)
                r = append_u16(buf, size, &len, true, NTS_KE_AEAD, NTS_AEAD_AES_SIV_CMAC_256);
        if (r >= 0)
                r = nts_ke_record_append(buf, size, &len, true, NTS_KE_END, NULL, 0);
        return r < 0 ? r : (int) len;
}

int nts_ke_message_length(const uint8_t *buf, size_t len) {
        size_t pos = 0;

        while (len - pos >= RECORD_HEADER) {
                uint16_t type = read_be16(buf + pos) & 0x7fff;
                size_t next = pos + RECORD_HEADER + read_be16(buf + pos + 2);
                if (next > NTS_KE_MAX_MESSAGE)
                        return -EMSGSIZE;
                if (next > len)
                        return 0;
                if (type == NTS_KE_END)
                        return (int) next;
                pos = next;
        }
        return len >= NTS_KE_MAX_MESSAGE ? -EMSGSIZE : 0;
}

/* Calls fn for each record of a whole message (up to and including End).
 * Returns what fn returns if negative, -EBADMSG for a truncated message
 * or one without End, else 0. */
typedef int (*record_fn)(bool critical, uint16_t type, const uint8_t *body, uint16_t n, void *userdata);

static int for_each_record(const uint8_t *buf, size_t len, record_fn fn, void *userdata) {
        size_t pos = 0;

        while (len - pos >= RECORD_HEADER) {
                uint16_t t = read_be16(buf + pos), n = read_be16(buf + pos + 2);
                if (len - pos - RECORD_HEADER < n)
                        return -EBADMSG;
                int r = fn(t & NTS_KE_CRITICAL, t & 0x7fff, buf + pos + RECORD_HEADER, n, userdata);
                if (r < 0)
                        return r;
                pos += RECORD_HEADER + n;
                if ((t & 0x7fff) == NTS_KE_END)
                        return pos == len ? 0 : -EBADMSG;
        }
        return -EBADMSG;
}

/* Whether a list of 16-bit IDs (Next Protocol, AEAD) holds want. */
static bool u16_list_has(const uint8_t *body, uint16_t n, uint16_t want) {
        for (uint16_t i = 0; i + 1 < n; i += 2)
                if (read_be16(body + i) == want)
                        return true;
        return false;
}

typedef struct ResponseParse {
        NtsKeResponse *ret;
        const char *reason;
        bool seen_protocol, seen_aead;
} ResponseParse;

static int bad(ResponseParse *p, const char *why) {
        p->reason = why;
        return -EBADMSG;
}

static int response_cookie(ResponseParse *p, const uint8_t *body, uint16_t n) {
        NtsKeResponse *ret = p->ret;

        if (n == 0 || n > NTS_MAX_COOKIE_SIZE)
                return bad(p, "a cookie is empty or longer than 256 bytes");
        /* Beyond eight, cookies are more than a client keeps. */
        if (ret->n_cookies < NTS_MAX_COOKIES) {
                ret->cookies[ret->n_cookies].length = n;
                memcpy(ret->cookies[ret->n_cookies++].data, body, n);
        }
        return 0;
}

static int response_server(ResponseParse *p, const uint8_t *body, uint16_t n) {
        if (n == 0 || n > NTS_KE_MAX_SERVER_NAME || memchr(body, 0, n))
                return bad(p, "the NTPv4 Server record is empty, too long or holds a NUL");
        memcpy(p->ret->server, body, n);
        p->ret->server[n] = 0;
        return 0;
}

static int response_u16(ResponseParse *p, const uint8_t *body, uint16_t n, int *field, const char *what) {
        if (n != 2)
                return bad(p, what);
        *field = read_be16(body);
        return 0;
}

static int response_record(bool critical, uint16_t type, const uint8_t *body, uint16_t n, void *userdata) {
        ResponseParse *p = userdata;
        NtsKeResponse *ret = p->ret;
        int v;

        switch (type) {
        case NTS_KE_END:
                return n == 0 ? 0 : bad(p, "End of Message has a body");
        case NTS_KE_NEXT_PROTOCOL:
                /* The server answers with one protocol, or none. */
                if (p->seen_protocol || (n != 0 && n != 2))
                        return bad(p, "more than one Next Protocol record, or more than one protocol");
                p->seen_protocol = true;
                ret->ntpv4 = n == 2 && read_be16(body) == NTS_PROTOCOL_NTPV4;
                return 0;
        case NTS_KE_ERROR:
                return response_u16(p, body, n, &ret->error, "an Error record is not 2 bytes");
        case NTS_KE_WARNING:
                return response_u16(p, body, n, &ret->warning, "a Warning record is not 2 bytes");
        case NTS_KE_AEAD:
                /* Empty: the server supports none of those offered. */
                if (p->seen_aead || (n != 0 && n != 2))
                        return bad(p, "more than one AEAD record, or more than one algorithm");
                p->seen_aead = true;
                ret->aead = n == 2 ? read_be16(body) : -1;
                return 0;
        case NTS_KE_NEW_COOKIE:
                return response_cookie(p, body, n);
        case NTS_KE_SERVER:
                return response_server(p, body, n);
        case NTS_KE_PORT:
                if (response_u16(p, body, n, &v, "a Port record is not 2 bytes") < 0 || v == 0)
                        return bad(p, "a Port record is not a port from 1 to 65535");
                ret->port = (uint16_t) v;
                return 0;
        default:
                return critical ? bad(p, "a critical record of an unknown type") : 0;
        }
}

int nts_ke_response_parse(const uint8_t *buf, size_t len, NtsKeResponse *ret, const char **reason) {
        ResponseParse p = { .ret = ret };

        *ret = (NtsKeResponse) { .error = -1, .warning = -1, .aead = -1 };
        int r = for_each_record(buf, len, response_record, &p);
        if (r < 0) {
                *reason = p.reason ?: "truncated, or no End of Message";
                return -EBADMSG;
        }
        /* An error says it all; the rest need not be there (4.1.3). */
        if (ret->error >= 0)
                return 0;
        if (!ret->ntpv4)
                return *reason = "the server does not offer NTPv4", -EBADMSG;
        if (ret->aead != NTS_AEAD_AES_SIV_CMAC_256)
                return *reason = "the server did not choose AES-SIV-CMAC-256", -EBADMSG;
        if (ret->n_cookies == 0)
                return *reason = "the server sent no cookie", -EBADMSG;
        return 0;
}

static int request_record(bool critical, uint16_t type, const uint8_t *body, uint16_t n, void *userdata) {
        NtsKeRequest *ret = userdata;

        switch (type) {
        case NTS_KE_END:
                return n == 0 ? 0 : -EBADMSG;
        case NTS_KE_NEXT_PROTOCOL:
                if (ret->has_next_protocol || n % 2)
                        return -EBADMSG;
                ret->has_next_protocol = true;
                ret->ntpv4 = u16_list_has(body, n, NTS_PROTOCOL_NTPV4);
                return 0;
        case NTS_KE_AEAD:
                if (ret->has_aead || n % 2)
                        return -EBADMSG;
                ret->has_aead = true;
                ret->aes_siv = u16_list_has(body, n, NTS_AEAD_AES_SIV_CMAC_256);
                return 0;
        case NTS_KE_ERROR:
        case NTS_KE_WARNING:
        case NTS_KE_NEW_COOKIE:
                /* A client sends none of these (4.1.3, 4.1.4, 4.1.6). */
                return -EBADMSG;
        case NTS_KE_SERVER:
        case NTS_KE_PORT:
                /* Hints of what the client wants: ignored. */
                return 0;
        default:
                if (critical)
                        ret->unknown_critical = true;
                return 0;
        }
}

int nts_ke_request_parse(const uint8_t *buf, size_t len, NtsKeRequest *ret) {
        *ret = (NtsKeRequest) {};
        int r = for_each_record(buf, len, request_record, ret);
        if (r < 0)
                return -EBADMSG;
        /* Section 4: a request without Next Protocol is a bad request. */
        return ret->has_next_protocol ? 0 : -EBADMSG;
}

static int encode_error(int error, uint8_t *buf, size_t size, size_t *len) {
        int r = append_u16(buf, size, len, true, NTS_KE_ERROR, (uint16_t) error);
        return r < 0 ? r : nts_ke_record_append(buf, size, len, true, NTS_KE_END, NULL, 0);
}

int nts_ke_response_encode(int error, const NtsCookie *cookies, unsigned n_cookies, const char *server,
                           uint16_t port, uint8_t *buf, size_t size) {
        size_t len = 0;
        int r;

        if (error >= 0) {
                r = encode_error(error, buf, size, &len);
                return r < 0 ? r : (int) len;
        }
        r = append_u16(buf, size, &len, true, NTS_KE_NEXT_PROTOCOL, NTS_PROTOCOL_NTPV4);
        if (r >= 0)
                r = append_u16(buf, size, &len, true, NTS_KE_AEAD, NTS_AEAD_AES_SIV_CMAC_256);
        for (unsigned i = 0; r >= 0 && i < n_cookies; i++)
                r = nts_ke_record_append(buf, size, &len, false, NTS_KE_NEW_COOKIE, cookies[i].data,
                                         cookies[i].length);
        if (r >= 0 && server && *server)
                r = nts_ke_record_append(buf, size, &len, true, NTS_KE_SERVER, server, strlen(server));
        if (r >= 0 && port != 0)
                r = append_u16(buf, size, &len, true, NTS_KE_PORT, port);
        if (r >= 0)
                r = nts_ke_record_append(buf, size, &len, true, NTS_KE_END, NULL, 0);
        return r < 0 ? r : (int) len;
}

int nts_ke_refusal_encode(bool ntpv4, bool aes_siv, uint8_t *buf, size_t size) {
        static const uint8_t ntpv4_id[2] = { 0, NTS_PROTOCOL_NTPV4 }, aead_id[2] = { 0, NTS_AEAD_AES_SIV_CMAC_256 };
        size_t len = 0;

        int r = nts_ke_record_append(buf, size, &len, true, NTS_KE_NEXT_PROTOCOL, ntpv4_id, ntpv4 ? 2 : 0);
        if (r >= 0)
                r = nts_ke_record_append(buf, size, &len, true, NTS_KE_AEAD, aead_id, aes_siv ? 2 : 0);
        if (r >= 0)
                r = nts_ke_record_append(buf, size, &len, true, NTS_KE_END, NULL, 0);
        return r < 0 ? r : (int) len;
}

void nts_ke_exporter_context(bool c2s, uint8_t ret[static 5]) {
        write_be16(ret, NTS_PROTOCOL_NTPV4);
        write_be16(ret + 2, NTS_AEAD_AES_SIV_CMAC_256);
        ret[4] = c2s ? 0x00 : 0x01;
}
