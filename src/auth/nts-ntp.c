/* NTS extension fields and AES-SIV-CMAC-256 (see nts-ntp.h). */
#include <assert.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "auth/nts-ntp.h"
#include "shared/macro.h"

#define NTP_HEADER 48
#define EF_HEADER 4
#define AUTH_HEADER 4
/* The plaintext of a reply's Authenticator: at most 8 cookie fields. */
/* A request's encrypted fields fit in the largest datagram we read. */
#define NTP_MAX_REQUEST 1024
#define MAX_PLAINTEXT (NTS_MAX_COOKIES * (EF_HEADER + NTS_MAX_COOKIE_SIZE))

static uint16_t read_be16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static void write_be16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static size_t pad4(size_t n) {
        return (n + 3) & ~(size_t) 3;
}

struct NtsAead {
        gnutls_aead_cipher_hd_t h;
};

int nts_aead_new(const uint8_t key[static NTS_KEY_SIZE], NtsAead **ret) {
        gnutls_datum_t k = { .data = (uint8_t *) key, .size = NTS_KEY_SIZE };
        NtsAead *a = calloc(1, sizeof(NtsAead));

        if (!a)
                return -ENOMEM;
        if (gnutls_aead_cipher_init(&a->h, GNUTLS_CIPHER_AES_128_SIV, &k) < 0) {
                free(a);
                return -EIO;
        }
        *ret = a;
        return 0;
}

NtsAead *nts_aead_free(NtsAead *a) {
        if (a) {
                gnutls_aead_cipher_deinit(a->h);
                free(a);
        }
        return NULL;
}

int nts_aead_set_key(NtsAead *a, const uint8_t key[static NTS_KEY_SIZE]) {
        gnutls_datum_t k = { .data = (uint8_t *) key, .size = NTS_KEY_SIZE };

        assert(a);
        return gnutls_aead_cipher_set_key(a->h, &k) < 0 ? -EIO : 0;
}

int nts_aead_seal(NtsAead *a, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_size) {
        size_t n = out_size;

        /* Nettle asserts on an empty nonce: never hand it one. */
        if (nonce_len == 0 || out_size < pt_len + NTS_TAG_SIZE)
                return -EINVAL;
        if (gnutls_aead_cipher_encrypt(a->h, nonce, nonce_len, ad, ad_len, NTS_TAG_SIZE, pt, pt_len, out, &n) < 0)
                return -EIO;
        return (int) n;
}

int nts_aead_open(NtsAead *a, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                  const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_size) {
        size_t n = out_size;

        if (nonce_len == 0 || ct_len < NTS_TAG_SIZE || out_size < ct_len - NTS_TAG_SIZE)
                return -EBADMSG;
        if (gnutls_aead_cipher_decrypt(a->h, nonce, nonce_len, ad, ad_len, NTS_TAG_SIZE, ct, ct_len, out, &n) < 0)
                return -EBADMSG;
        return (int) n;
}

int nts_aead_encrypt(const uint8_t key[static NTS_KEY_SIZE], const uint8_t *nonce, size_t nonce_len,
                     const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out, size_t out_size) {
        NtsAead *a;
        int r = nts_aead_new(key, &a);
        if (r < 0)
                return r;
        r = nts_aead_seal(a, nonce, nonce_len, ad, ad_len, pt, pt_len, out, out_size);
        nts_aead_free(a);
        return r;
}

int nts_aead_decrypt(const uint8_t key[static NTS_KEY_SIZE], const uint8_t *nonce, size_t nonce_len,
                     const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out, size_t out_size) {
        NtsAead *a;
        int r = nts_aead_new(key, &a);
        if (r < 0)
                return r;
        r = nts_aead_open(a, nonce, nonce_len, ad, ad_len, ct, ct_len, out, out_size);
        nts_aead_free(a);
        return r;
}

int nts_ef_append(uint8_t *buf, size_t size, size_t *len, uint16_t type, const void *body, size_t n) {
        size_t field = EF_HEADER + pad4(n);

        if (field > UINT16_MAX || *len > size || size - *len < field)
                return -ENOBUFS;
        write_be16(buf + *len, type);
        write_be16(buf + *len + 2, (uint16_t) field);
        if (n > 0)
                memcpy(buf + *len + EF_HEADER, body, n);
        memset(buf + *len + EF_HEADER + n, 0, field - EF_HEADER - n);
        *len += field;
        return 0;
}

int nts_ef_walk(const uint8_t *pkt, size_t len, nts_ef_fn fn, void *userdata) {
        size_t pos = NTP_HEADER;

        if (len < NTP_HEADER)
                return -EBADMSG;
        while (pos < len) {
                if (len - pos < EF_HEADER)
                        return -EBADMSG;
                size_t field = read_be16(pkt + pos + 2);
                if (field < EF_HEADER || field % 4 || field > len - pos)
                        return -EBADMSG;
                int r = fn(read_be16(pkt + pos), pkt + pos + EF_HEADER, field - EF_HEADER, pos, userdata);
                if (r < 0)
                        return r;
                pos += field;
        }
        return 0;
}

/* An Authenticator's body: nonce length, ciphertext length, the nonce and
 * the ciphertext, each padded to a multiple of 4 (RFC 8915 section 5.6). */
static int auth_parse(const uint8_t *body, size_t n, const uint8_t **nonce, size_t *nonce_len,
                      const uint8_t **ct, size_t *ct_len) {
        if (n < AUTH_HEADER)
                return -EBADMSG;
        *nonce_len = read_be16(body);
        *ct_len = read_be16(body + 2);
        if (*nonce_len == 0 || *ct_len < NTS_TAG_SIZE ||
            AUTH_HEADER + pad4(*nonce_len) + pad4(*ct_len) > n)
                return -EBADMSG;
        *nonce = body + AUTH_HEADER;
        *ct = body + AUTH_HEADER + pad4(*nonce_len);
        return 0;
}

/* Appends an Authenticator over buf[0..*len) with plaintext pt. */
static int auth_append(uint8_t *buf, size_t size, size_t *len, NtsAead *key,
                       const uint8_t nonce[static NTS_NONCE_SIZE], const uint8_t *pt, size_t pt_len) {
        size_t ct_len = pt_len + NTS_TAG_SIZE;
        size_t field = EF_HEADER + AUTH_HEADER + NTS_NONCE_SIZE + pad4(ct_len);

        if (*len > size || size - *len < field)
                return -ENOBUFS;
        uint8_t *p = buf + *len;
        memset(p, 0, field);
        write_be16(p, NTS_EF_AUTHENTICATOR);
        write_be16(p + 2, (uint16_t) field);
        write_be16(p + 4, NTS_NONCE_SIZE);
        write_be16(p + 6, (uint16_t) ct_len);
        memcpy(p + 8, nonce, NTS_NONCE_SIZE);
        int r = nts_aead_seal(key, nonce, NTS_NONCE_SIZE, buf, *len, pt, pt_len, p + 8 + NTS_NONCE_SIZE, ct_len);
        if (r < 0)
                return r;
        *len += field;
        return 0;
}

int nts_client_request_finish(uint8_t *buf, size_t len, size_t size, const uint8_t uid[static NTS_UID_SIZE],
                              const NtsCookie *cookie, unsigned placeholders,
                              const uint8_t c2s[static NTS_KEY_SIZE], const uint8_t nonce[static NTS_NONCE_SIZE]) {
        static const uint8_t zeros[NTS_MAX_COOKIE_SIZE];
        NtsAead *a;
        int r;

        assert(cookie->length > 0 && cookie->length <= NTS_MAX_COOKIE_SIZE);
        r = nts_ef_append(buf, size, &len, NTS_EF_UNIQUE_ID, uid, NTS_UID_SIZE);
        if (r >= 0)
                r = nts_ef_append(buf, size, &len, NTS_EF_COOKIE, cookie->data, cookie->length);
        for (unsigned i = 0; r >= 0 && i < placeholders; i++)
                r = nts_ef_append(buf, size, &len, NTS_EF_COOKIE_PLACEHOLDER, zeros, cookie->length);
        if (r >= 0)
                r = nts_aead_new(c2s, &a);
        if (r >= 0) {
                r = auth_append(buf, size, &len, a, nonce, NULL, 0);
                nts_aead_free(a);
        }
        return r < 0 ? r : (int) len;
}

static const char *const reply_check_names[_NTS_REPLY_CHECK_MAX] = {
        [NTS_REPLY_OK] = "ok",
        [NTS_REPLY_MALFORMED] = "malformed NTS extension fields",
        [NTS_REPLY_WRONG_UID] = "no Unique Identifier of our request",
        [NTS_REPLY_NAK] = "NTS NAK (the server could not use our cookie)",
        [NTS_REPLY_UNAUTHENTIC] = "the Authenticator is missing or does not verify",
};

const char *nts_reply_check_to_string(NtsReplyCheck c) {
        return c >= 0 && c < _NTS_REPLY_CHECK_MAX ? reply_check_names[c] : NULL;
}

typedef struct ReplyFields {
        const uint8_t *uid;
        bool uid_ok;
        const uint8_t *auth;
        size_t auth_len, auth_offset;
        bool after_auth;                /* a field follows the Authenticator */
} ReplyFields;

static int reply_field(uint16_t type, const uint8_t *body, size_t n, size_t offset, void *userdata) {
        ReplyFields *f = userdata;

        if (f->auth) {
                f->after_auth = true;
                return 0;
        }
        if (type == NTS_EF_UNIQUE_ID && n >= NTS_UID_SIZE && !f->uid_ok)
                f->uid_ok = gnutls_memcmp(body, f->uid, NTS_UID_SIZE) == 0;
        else if (type == NTS_EF_AUTHENTICATOR) {
                f->auth = body;
                f->auth_len = n;
                f->auth_offset = offset;
        }
        return 0;
}

static bool is_nak(const uint8_t *pkt) {
        return pkt[1] == 0 && memcmp(pkt + 12, NTS_NAK_CODE, 4) == 0;
}

/* The cookie fields in the decrypted part of a reply. */
static unsigned collect_cookies(const uint8_t *pt, size_t n, NtsCookie *cookies, unsigned max) {
        unsigned k = 0;

        for (size_t pos = 0; n - pos >= EF_HEADER;) {
                size_t field = read_be16(pt + pos + 2);
                if (field < EF_HEADER || field % 4 || field > n - pos)
                        break;
                size_t body = field - EF_HEADER;
                if (read_be16(pt + pos) == NTS_EF_COOKIE && body > 0 && body <= NTS_MAX_COOKIE_SIZE && k < max) {
                        cookies[k].length = (uint16_t) body;
                        memcpy(cookies[k++].data, pt + pos + EF_HEADER, body);
                }
                pos += field;
        }
        return k;
}

NtsReplyCheck nts_client_reply_check(const uint8_t *pkt, size_t len, const uint8_t uid[static NTS_UID_SIZE],
                                     const uint8_t s2c[static NTS_KEY_SIZE], NtsCookie *cookies, unsigned max,
                                     unsigned *ret_n) {
        ReplyFields f = { .uid = uid };
        const uint8_t *nonce, *ct;
        size_t nonce_len, ct_len;
        uint8_t pt[MAX_PLAINTEXT];

        *ret_n = 0;
        if (nts_ef_walk(pkt, len, reply_field, &f) < 0)
                return NTS_REPLY_MALFORMED;
        if (!f.uid_ok)
                return NTS_REPLY_WRONG_UID;
        if (!f.auth)
                return is_nak(pkt) ? NTS_REPLY_NAK : NTS_REPLY_UNAUTHENTIC;
        if (f.after_auth || auth_parse(f.auth, f.auth_len, &nonce, &nonce_len, &ct, &ct_len) < 0)
                return NTS_REPLY_UNAUTHENTIC;
        int n = nts_aead_decrypt(s2c, nonce, nonce_len, pkt, f.auth_offset, ct, ct_len, pt, sizeof pt);
        if (n < 0)
                return NTS_REPLY_UNAUTHENTIC;
        *ret_n = collect_cookies(pt, (size_t) n, cookies, max);
        gnutls_memset(pt, 0, sizeof pt);
        return NTS_REPLY_OK;
}

typedef struct RequestFields {
        NtsServerRequest *req;
        unsigned n_cookies;
        bool bad;
} RequestFields;

static int request_field(uint16_t type, const uint8_t *body, size_t n, size_t offset, void *userdata) {
        RequestFields *f = userdata;
        NtsServerRequest *req = f->req;

        if (req->nonce)
                return -EBADMSG;        /* the Authenticator must come last */
        switch (type) {
        case NTS_EF_UNIQUE_ID:
                if (req->uid || n < NTS_UID_SIZE)
                        return -EBADMSG;
                req->uid = body;
                req->uid_len = n;
                return 0;
        case NTS_EF_COOKIE:
                if (f->n_cookies++ > 0 || n == 0)
                        return -EBADMSG;
                req->cookie = body;
                req->cookie_len = n;
                return 0;
        case NTS_EF_COOKIE_PLACEHOLDER:
                req->placeholders++;
                /* Checked against the cookie's length once both are known. */
                if (req->cookie_len && n != pad4(req->cookie_len))
                        f->bad = true;
                return 0;
        case NTS_EF_AUTHENTICATOR:
                req->auth_offset = offset;
                return auth_parse(body, n, &req->nonce, &req->nonce_len, &req->ciphertext, &req->ciphertext_len);
        default:
                return 0;
        }
}

int nts_server_request_parse(const uint8_t *pkt, size_t len, NtsServerRequest *ret) {
        RequestFields f = { .req = ret };

        *ret = (NtsServerRequest) {};
        if (nts_ef_walk(pkt, len, request_field, &f) < 0 || f.bad)
                return -EBADMSG;
        if (!ret->uid || !ret->cookie || !ret->nonce)
                return -EBADMSG;
        return 0;
}

bool nts_server_request_verify(const NtsServerRequest *req, const uint8_t *pkt, NtsAead *c2s) {
        uint8_t pt[NTP_MAX_REQUEST];
        return nts_aead_open(c2s, req->nonce, req->nonce_len, pkt, req->auth_offset, req->ciphertext,
                             req->ciphertext_len, pt, sizeof pt) >= 0;
}

int nts_server_reply_finish(uint8_t *buf, size_t len, size_t size, const NtsServerRequest *req,
                            const NtsCookie *cookies, unsigned n_cookies,
                            NtsAead *s2c, const uint8_t nonce[static NTS_NONCE_SIZE]) {
        uint8_t pt[MAX_PLAINTEXT];
        size_t pt_len = 0;
        int r;

        r = nts_ef_append(buf, size, &len, NTS_EF_UNIQUE_ID, req->uid, req->uid_len);
        for (unsigned i = 0; r >= 0 && i < n_cookies; i++)
                r = nts_ef_append(pt, sizeof pt, &pt_len, NTS_EF_COOKIE, cookies[i].data, cookies[i].length);
        if (r >= 0)
                r = auth_append(buf, size, &len, s2c, nonce, pt, pt_len);
        gnutls_memset(pt, 0, sizeof pt);
        return r < 0 ? r : (int) len;
}

int nts_server_nak_finish(uint8_t *buf, size_t len, size_t size, const NtsServerRequest *req) {
        int r = nts_ef_append(buf, size, &len, NTS_EF_UNIQUE_ID, req->uid, req->uid_len);
        return r < 0 ? r : (int) len;
}
