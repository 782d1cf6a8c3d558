/* The MAC that follows an NTP packet: a 4-byte key ID and a digest of
 * everything before it (RFC 5905 section 7.3, figure 8).
 *
 *   MD5, SHA1, SHA2:  digest = H(key || packet): in NTPv4 truncated to 20
 *                     bytes as chrony sends it (MD5: 16), in NTPv3 whole
 *                     (chrony sends NTPv3 with a SHA2 key, as NTPv3 has
 *                     no extension fields to confuse a long MAC with);
 *                     ntpsec sends the whole digest in NTPv4 too, and both
 *                     sizes verify
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

/* Digest bytes on the wire: chrony's and ntpsec's NTPv4 limit, and the
 * longest digest (SHA512) in NTPv3. */
#define MAC_MAX_V4_DIGEST 20
#define MAC_MAX_DIGEST 64
#define MAC_KEY_ID_SIZE 4
#define MAC_MAX_V4_SIZE (MAC_KEY_ID_SIZE + MAC_MAX_V4_DIGEST)
#define MAC_MAX_SIZE (MAC_KEY_ID_SIZE + MAC_MAX_DIGEST)
#define MAC_CRYPTO_NAK_SIZE MAC_KEY_ID_SIZE

/* Bytes of digest a key of this type makes in a packet of this NTP
 * version. */
size_t mac_digest_size(KeyType t, unsigned version);
/* Bytes of the whole MAC field (key ID and digest). */
size_t mac_size(KeyType t, unsigned version);

/* Whether a digest of n bytes is one a key of this type makes in a
 * packet of this version: the size above, or the whole hash. */
bool mac_digest_size_valid(KeyType t, unsigned version, size_t n);

/* Computes the digest of data[0..len) into out, truncated to n bytes (at
 * most the whole digest). Returns 0, or a negative errno. */
int mac_digest(const Key *key, const void *data, size_t len, uint8_t *out, size_t n);

/* Appends the MAC of buf[0..len), with a digest of digest_size bytes, to
 * buf, which holds size bytes. Returns the new length, -ENOBUFS if it
 * does not fit, or a negative errno. A client uses mac_digest_size(); a
 * server the size of the request's digest. */
int mac_sign(const Key *key, size_t digest_size, uint8_t *buf, size_t len, size_t size);

/* Appends a crypto-NAK (a key ID of 0) to buf. Returns the new length or
 * -ENOBUFS. */
int mac_append_crypto_nak(uint8_t *buf, size_t len, size_t size);

/* The key ID of the MAC of mac_len bytes at the end of a packet of len
 * bytes. */
uint32_t mac_key_id(const uint8_t *packet, size_t len, size_t mac_len);

/* Whether the last mac_len bytes of packet[0..len), an NTP packet of this
 * version, are a MAC made with key over the bytes before them: right key
 * ID, right size, right digest (compared in constant time). */
bool mac_verify(const Key *key, unsigned version, const uint8_t *packet, size_t len, size_t mac_len);
