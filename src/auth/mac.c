/* NTP MACs over GnuTLS (see mac.h). */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "auth/mac.h"

static gnutls_digest_algorithm_t hash_algorithm(KeyType t) {
        switch (t) {
        case KEY_MD5:
                return GNUTLS_DIG_MD5;
        case KEY_SHA1:
                return GNUTLS_DIG_SHA1;
        case KEY_SHA256:
                return GNUTLS_DIG_SHA256;
        case KEY_SHA384:
                return GNUTLS_DIG_SHA384;
        case KEY_SHA512:
                return GNUTLS_DIG_SHA512;
        default:
                return GNUTLS_DIG_UNKNOWN;
        }
}

/* AES-CMAC (RFC 4493) gives one AES block whatever the key size. */
static size_t full_digest_size(KeyType t) {
        return key_type_is_cmac(t) ? 16 : gnutls_hash_get_len(hash_algorithm(t));
}

size_t mac_digest_size(KeyType t, unsigned version) {
        size_t n = full_digest_size(t);
        return version >= 4 && n > MAC_MAX_V4_DIGEST ? MAC_MAX_V4_DIGEST : n;
}

size_t mac_size(KeyType t, unsigned version) {
        return MAC_KEY_ID_SIZE + mac_digest_size(t, version);
}

bool mac_digest_size_valid(KeyType t, unsigned version, size_t n) {
        return n == mac_digest_size(t, version) || n == full_digest_size(t);
}

static int cmac_digest(const Key *key, const void *data, size_t len, uint8_t *out) {
        gnutls_mac_algorithm_t a = key->type == KEY_AES128 ? GNUTLS_MAC_AES_CMAC_128 : GNUTLS_MAC_AES_CMAC_256;
        if (gnutls_hmac_fast(a, key->data, key->length, data, len, out) < 0)
                return -EIO;
        return 0;
}

/* The RFC 5905 construction: the hash of the key followed by the packet. */
static int hash_digest(const Key *key, const void *data, size_t len, uint8_t *out) {
        gnutls_hash_hd_t h;

        if (gnutls_hash_init(&h, hash_algorithm(key->type)) < 0)
                return -EIO;
        if (gnutls_hash(h, key->data, key->length) < 0 || gnutls_hash(h, data, len) < 0) {
                gnutls_hash_deinit(h, NULL);
                return -EIO;
        }
        gnutls_hash_deinit(h, out);
        return 0;
}

int mac_digest(const Key *key, const void *data, size_t len, uint8_t *out, size_t n) {
        uint8_t full[MAC_MAX_DIGEST];

        if (key->type < 0 || key->type >= _KEY_TYPE_MAX || n > full_digest_size(key->type))
                return -EINVAL;
        int r = key_type_is_cmac(key->type) ? cmac_digest(key, data, len, full) : hash_digest(key, data, len, full);
        if (r >= 0)
                memcpy(out, full, n);
        gnutls_memset(full, 0, sizeof full);
        return r;
}

static void write_be32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

int mac_sign(const Key *key, size_t digest_size, uint8_t *buf, size_t len, size_t size) {
        uint8_t digest[MAC_MAX_DIGEST];

        if (size < len || size - len < MAC_KEY_ID_SIZE + digest_size)
                return -ENOBUFS;
        int r = mac_digest(key, buf, len, digest, digest_size);
        if (r < 0)
                return r;
        write_be32(buf + len, key->id);
        memcpy(buf + len + MAC_KEY_ID_SIZE, digest, digest_size);
        return (int) (len + MAC_KEY_ID_SIZE + digest_size);
}

int mac_append_crypto_nak(uint8_t *buf, size_t len, size_t size) {
        if (size < len || size - len < MAC_CRYPTO_NAK_SIZE)
                return -ENOBUFS;
        write_be32(buf + len, 0);
        return (int) (len + MAC_CRYPTO_NAK_SIZE);
}

uint32_t mac_key_id(const uint8_t *packet, size_t len, size_t mac_len) {
        if (mac_len < MAC_KEY_ID_SIZE || mac_len > len)
                return 0;
        const uint8_t *p = packet + len - mac_len;
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

bool mac_verify(const Key *key, unsigned version, const uint8_t *packet, size_t len, size_t mac_len) {
        uint8_t digest[MAC_MAX_DIGEST];

        if (mac_len <= MAC_KEY_ID_SIZE || mac_len > len || mac_key_id(packet, len, mac_len) != key->id)
                return false;
        size_t n = mac_len - MAC_KEY_ID_SIZE, data_len = len - mac_len;
        if (!mac_digest_size_valid(key->type, version, n) || mac_digest(key, packet, data_len, digest, n) < 0)
                return false;
        bool ok = gnutls_memcmp(digest, packet + data_len + MAC_KEY_ID_SIZE, n) == 0;
        gnutls_memset(digest, 0, sizeof digest);
        return ok;
}
