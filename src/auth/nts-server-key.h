/* An NTS server's keys and the cookies it seals with them (RFC 8915
 * section 6 suggests the layout):
 *
 *     cookie = key ID (4) | nonce (16) | AES-SIV-CMAC-256(server key, nonce,
 *                                                           c2s || s2c)
 *
 * 100 bytes. The newest key seals; it and the two before it open, so a
 * cookie outlives two rotations (NTSRotate=). The keys' text form, for
 * the state directory, one line each, newest first:
 *
 *     tempus-nts-server-keys 1
 *     key ID HEX CREATED_USEC
 *
 * Pure: the daemon draws the random bytes, reads and writes the file. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/nts-ke.h"

#define NTS_SERVER_KEYS 3
#define NTS_COOKIE_SIZE (4 + 16 + 2 * NTS_KEY_SIZE + 16)

typedef struct NtsAead NtsAead;

typedef struct NtsServerKey {
        uint32_t id;
        uint8_t key[NTS_KEY_SIZE];
        uint64_t created_usec;          /* CLOCK_REALTIME */
        NtsAead *aead;                  /* its key schedule, made at first use */
} NtsServerKey;

typedef struct NtsServerKeys {
        NtsServerKey keys[NTS_SERVER_KEYS];     /* keys[0] is the newest */
        unsigned n;
} NtsServerKeys;

/* The keys own their cipher handles once used: a NtsServerKeys is moved,
 * never copied, and ends with nts_server_keys_clear(). */

/* Makes key (random bytes, drawn by the caller) the newest; the oldest
 * beyond three is wiped. Its ID is the newest's plus one. */
void nts_server_keys_rotate(NtsServerKeys *k, const uint8_t key[static NTS_KEY_SIZE], uint64_t now_usec);
void nts_server_keys_clear(NtsServerKeys *k);

/* Seals c2s and s2c into a cookie with the newest key. */
int nts_cookie_seal(NtsServerKeys *k, const uint8_t c2s[static NTS_KEY_SIZE],
                    const uint8_t s2c[static NTS_KEY_SIZE], const uint8_t nonce[static 16], NtsCookie *ret);
/* Opens a cookie: 0 and the keys, or -ENOKEY for a key we no longer (or
 * never) had, -EBADMSG for one that does not verify. */
int nts_cookie_open(NtsServerKeys *k, const uint8_t *cookie, size_t len, uint8_t c2s[static NTS_KEY_SIZE],
                    uint8_t s2c[static NTS_KEY_SIZE]);

int nts_server_keys_write(const NtsServerKeys *k, FILE *f);
/* -EBADMSG for anything but a whole, well-formed key file. */
int nts_server_keys_parse(const char *text, NtsServerKeys *ret);
