/* The MAC that follows an NTP packet: a 4-byte key ID and a digest of
 * everything before it (RFC 5905 section 7.3, figure 8).
 *
 *   MD5, SHA1, SHA2:  digest = H(key || packet), the hashes truncated to
 *                     20 bytes as chrony and ntpsec send them (MD5: 16)
 *   AES128, AES256:   digest = AES-CMAC(key, packet), 16 bytes (RFC 8573)
 *
 * A MAC of a key ID of 0 alone is a crypto-NAK: the server could not
 * authenticate the request. Pure: buffers in, buffers out; the ciphers
 * are GnuTLS's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/key.h"

/* Digest bytes on the wire: chrony's and ntpsec's NTPv4 limit. */
#define MAC_MAX_DIGEST 20
#define MAC_KEY_ID_SIZE 4
#define MAC_MAX_SIZE (MAC_KEY_ID_SIZE + MAC_MAX_DIGEST)
#define MAC_CRYPTO_NAK_SIZE MAC_KEY_ID_SIZE

/* Bytes of digest a key of this type makes. */
size_t mac_digest_size(KeyType t);
/* Bytes of the whole MAC field (key ID and digest). */
size_t mac_size(KeyType t);

/* Computes the digest of data[0..len) into out. Returns its size, or a
 * negative errno from the cipher. */
int mac_digest(const Key *key, const void *data, size_t len, uint8_t out[static MAC_MAX_DIGEST]);

/* Appends the MAC of buf[0..len) to buf, which holds size bytes. Returns
 * the new length, -ENOBUFS if it does not fit, or a negative errno. */
int mac_sign(const Key *key, uint8_t *buf, size_t len, size_t size);

/* Appends a crypto-NAK (a key ID of 0) to buf. Returns the new length or
 * -ENOBUFS. */
int mac_append_crypto_nak(uint8_t *buf, size_t len, size_t size);

/* The key ID of the MAC of mac_len bytes at the end of a packet of len
 * bytes. */
uint32_t mac_key_id(const uint8_t *packet, size_t len, size_t mac_len);

/* Whether the last mac_len bytes of packet[0..len) are a MAC made with key
 * over the bytes before them: right key ID, right size, right digest
 * (compared in constant time). */
bool mac_verify(const Key *key, const uint8_t *packet, size_t len, size_t mac_len);
