/* NTS extension fields in NTP packets (RFC 8915 section 5) and the AEAD
 * that authenticates them, AES-SIV-CMAC-256 (RFC 5297) from GnuTLS.
 *
 *   request:  header | Unique Identifier | Cookie | Cookie Placeholder*
 *             | Authenticator and Encrypted (over everything before it)
 *   reply:    header | Unique Identifier | Authenticator and Encrypted,
 *             whose encrypted part holds the new cookies
 *   NTS NAK:  a Kiss-o'-Death "NTSN" with the request's Unique Identifier
 *             and no Authenticator: the server could not read the cookie
 *
 * Each field is type (16 bits) | length (16 bits, the whole field) | body,
 * padded to a multiple of 4. Pure: buffers in, buffers out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/nts-ke.h"

#define NTS_EF_UNIQUE_ID 0x0104
#define NTS_EF_COOKIE 0x0204
#define NTS_EF_COOKIE_PLACEHOLDER 0x0304
#define NTS_EF_AUTHENTICATOR 0x0404

#define NTS_UID_SIZE 32
#define NTS_NONCE_SIZE 16
#define NTS_TAG_SIZE 16
/* The Kiss-o'-Death code of a NTS NAK. */
#define NTS_NAK_CODE "NTSN"

/* AES-SIV-CMAC-256: ciphertext is the 16-byte tag then the encrypted
 * bytes. The nonce must not be empty (RFC 5297 allows none; GnuTLS does
 * not). encrypt returns the ciphertext's length; decrypt the plaintext's,
 * or -EBADMSG when the tag does not verify. */
int nts_aead_encrypt(const uint8_t key[static NTS_KEY_SIZE], const uint8_t *nonce, size_t nonce_len,
                     const uint8_t *ad, size_t ad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out, size_t out_size);
int nts_aead_decrypt(const uint8_t key[static NTS_KEY_SIZE], const uint8_t *nonce, size_t nonce_len,
                     const uint8_t *ad, size_t ad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out, size_t out_size);

/* The same with the key schedule made once, for a key used again and
 * again (a server key): nts_aead_seal() and nts_aead_open() behave as
 * nts_aead_encrypt() and nts_aead_decrypt(). nts_aead_set_key() gives a
 * handle another key, which costs a key schedule but no new handle: the
 * server keeps one handle for each direction of its clients' keys. */
typedef struct NtsAead NtsAead;
int nts_aead_new(const uint8_t key[static NTS_KEY_SIZE], NtsAead **ret);
NtsAead *nts_aead_free(NtsAead *a);
int nts_aead_set_key(NtsAead *a, const uint8_t key[static NTS_KEY_SIZE]);
int nts_aead_seal(NtsAead *a, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                  const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_size);
int nts_aead_open(NtsAead *a, const uint8_t *nonce, size_t nonce_len, const uint8_t *ad, size_t ad_len,
                  const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_size);

/* Appends an extension field whose body is n bytes, zero-padded to a
 * multiple of 4, at buf[*len]. -ENOBUFS if it does not fit. */
int nts_ef_append(uint8_t *buf, size_t size, size_t *len, uint16_t type, const void *body, size_t n);

/* Calls fn for each extension field after the 48-byte header. Returns
 * -EBADMSG when the fields do not fill the packet exactly (a MAC after
 * them is not NTS), else 0 or what fn returned if negative. */
typedef int (*nts_ef_fn)(uint16_t type, const uint8_t *body, size_t n, size_t offset, void *userdata);
int nts_ef_walk(const uint8_t *pkt, size_t len, nts_ef_fn fn, void *userdata);

/* Completes a client request whose header is in buf[0..len): the Unique
 * Identifier, the cookie, placeholders of the cookie's size for the
 * cookies it asks for beyond the one it will get anyway, and the
 * Authenticator made with the client-to-server key. Returns the length,
 * or a negative errno. */
int nts_client_request_finish(uint8_t *buf, size_t len, size_t size, const uint8_t uid[static NTS_UID_SIZE],
                              const NtsCookie *cookie, unsigned placeholders,
                              const uint8_t c2s[static NTS_KEY_SIZE], const uint8_t nonce[static NTS_NONCE_SIZE]);

typedef enum NtsReplyCheck {
        NTS_REPLY_OK,
        NTS_REPLY_MALFORMED,            /* fields that do not parse */
        NTS_REPLY_WRONG_UID,            /* not the answer to our request */
        NTS_REPLY_NAK,                  /* an NTS NAK to our request */
        NTS_REPLY_UNAUTHENTIC,          /* no Authenticator, or it does not verify */
        _NTS_REPLY_CHECK_MAX,
} NtsReplyCheck;

const char *nts_reply_check_to_string(NtsReplyCheck c);

/* Checks a reply against the request's Unique Identifier and the
 * server-to-client key, and collects the new cookies it carries (up to
 * max; too long or empty ones are dropped). Any field after the
 * Authenticator, which it does not cover, makes the reply unauthentic. */
NtsReplyCheck nts_client_reply_check(const uint8_t *pkt, size_t len, const uint8_t uid[static NTS_UID_SIZE],
                                     const uint8_t s2c[static NTS_KEY_SIZE], NtsCookie *cookies, unsigned max,
                                     unsigned *ret_n);

/* What the server needs of a request: where its fields are. */
typedef struct NtsServerRequest {
        const uint8_t *uid;
        size_t uid_len;
        const uint8_t *cookie;
        size_t cookie_len;
        unsigned placeholders;
        const uint8_t *nonce;
        size_t nonce_len;
        const uint8_t *ciphertext;
        size_t ciphertext_len;
        size_t auth_offset;             /* start of the Authenticator: the AD ends there */
} NtsServerRequest;

/* Finds the NTS fields of a request. -EBADMSG when it has none of them
 * or they break RFC 8915 section 5.7 (no Unique Identifier, not exactly
 * one cookie, placeholders of another size, the Authenticator not last). */
int nts_server_request_parse(const uint8_t *pkt, size_t len, NtsServerRequest *ret);
/* Whether the request was made with the c2s key, which the handle holds. */
bool nts_server_request_verify(const NtsServerRequest *req, const uint8_t *pkt, NtsAead *c2s);

/* Completes a reply whose header is in buf[0..len): the request's Unique
 * Identifier and an Authenticator, made with the s2c key (the handle's)
 * and nonce, whose encrypted part holds the cookies. Returns the length or
 * -ENOBUFS. */
int nts_server_reply_finish(uint8_t *buf, size_t len, size_t size, const NtsServerRequest *req,
                            const NtsCookie *cookies, unsigned n_cookies,
                            NtsAead *s2c, const uint8_t nonce[static NTS_NONCE_SIZE]);
/* Completes a NTS NAK whose KoD header is in buf[0..len). */
int nts_server_nak_finish(uint8_t *buf, size_t len, size_t size, const NtsServerRequest *req);
