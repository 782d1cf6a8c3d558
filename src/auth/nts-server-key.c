/* An NTS server's keys and cookies (see nts-server-key.h). */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auth/nts-ntp.h"
#include "auth/nts-server-key.h"
#include "shared/macro.h"

#define COOKIE_NONCE 16

static void write_be32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static uint32_t read_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

void nts_server_keys_rotate(NtsServerKeys *k, const uint8_t key[static NTS_KEY_SIZE], uint64_t now_usec) {
        uint32_t id = k->n > 0 ? k->keys[0].id + 1 : 1;

        if (k->n == NTS_SERVER_KEYS)
                k->keys[NTS_SERVER_KEYS - 1].aead = nts_aead_free(k->keys[NTS_SERVER_KEYS - 1].aead);
        memmove(k->keys + 1, k->keys, (NTS_SERVER_KEYS - 1) * sizeof(NtsServerKey));
        k->keys[0] = (NtsServerKey) { .id = id, .created_usec = now_usec };
        memcpy(k->keys[0].key, key, NTS_KEY_SIZE);
        k->n = MIN(k->n + 1, (unsigned) NTS_SERVER_KEYS);
        gnutls_memset(k->keys + k->n, 0, (NTS_SERVER_KEYS - k->n) * sizeof(NtsServerKey));
}

void nts_server_keys_clear(NtsServerKeys *k) {
        for (unsigned i = 0; i < k->n; i++)
                nts_aead_free(k->keys[i].aead);
        gnutls_memset(k, 0, sizeof *k);
}

static NtsAead *key_aead(NtsServerKey *key) {
        if (!key->aead)
                (void) nts_aead_new(key->key, &key->aead);
        return key->aead;
}

int nts_cookie_seal(NtsServerKeys *k, const uint8_t c2s[static NTS_KEY_SIZE],
                    const uint8_t s2c[static NTS_KEY_SIZE], const uint8_t nonce[static 16], NtsCookie *ret) {
        uint8_t pt[2 * NTS_KEY_SIZE];

        if (k->n == 0)
                return -ENOKEY;
        NtsAead *a = key_aead(&k->keys[0]);
        if (!a)
                return -ENOMEM;
        memcpy(pt, c2s, NTS_KEY_SIZE);
        memcpy(pt + NTS_KEY_SIZE, s2c, NTS_KEY_SIZE);
        write_be32(ret->data, k->keys[0].id);
        memcpy(ret->data + 4, nonce, COOKIE_NONCE);
        int r = nts_aead_seal(a, nonce, COOKIE_NONCE, NULL, 0, pt, sizeof pt, ret->data + 4 + COOKIE_NONCE,
                              sizeof ret->data - 4 - COOKIE_NONCE);
        gnutls_memset(pt, 0, sizeof pt);
        if (r < 0)
                return r;
        ret->length = NTS_COOKIE_SIZE;
        return 0;
}

int nts_cookie_open(NtsServerKeys *k, const uint8_t *cookie, size_t len, uint8_t c2s[static NTS_KEY_SIZE],
                    uint8_t s2c[static NTS_KEY_SIZE]) {
        uint8_t pt[2 * NTS_KEY_SIZE];

        if (len != NTS_COOKIE_SIZE)
                return -EBADMSG;
        uint32_t id = read_be32(cookie);
        for (unsigned i = 0; i < k->n; i++) {
                if (k->keys[i].id != id)
                        continue;
                NtsAead *a = key_aead(&k->keys[i]);
                if (!a)
                        return -ENOMEM;
                int r = nts_aead_open(a, cookie + 4, COOKIE_NONCE, NULL, 0, cookie + 4 + COOKIE_NONCE,
                                      len - 4 - COOKIE_NONCE, pt, sizeof pt);
                if (r != (int) sizeof pt)
                        return -EBADMSG;
                memcpy(c2s, pt, NTS_KEY_SIZE);
                memcpy(s2c, pt + NTS_KEY_SIZE, NTS_KEY_SIZE);
                gnutls_memset(pt, 0, sizeof pt);
                return 0;
        }
        return -ENOKEY;
}

int nts_server_keys_write(const NtsServerKeys *k, FILE *f) {
        fputs("tempus-nts-server-keys 1\n", f);
        for (unsigned i = 0; i < k->n; i++) {
                fprintf(f, "key %" PRIu32 " ", k->keys[i].id);
                for (size_t j = 0; j < NTS_KEY_SIZE; j++)
                        fprintf(f, "%02x", k->keys[i].key[j]);
                fprintf(f, " %" PRIu64 "\n", k->keys[i].created_usec);
        }
        return ferror(f) ? -EIO : 0;
}

static int parse_key_line(const char *line, NtsServerKey *ret) {
        char hex[2 * NTS_KEY_SIZE + 1];
        uint32_t id;
        uint64_t created;
        int end = 0;

        if (sscanf(line, "key %" SCNu32 " %64[0-9a-f] %" SCNu64 "%n", &id, hex, &created, &end) != 3 ||
            line[end] != 0 || strlen(hex) != 2 * NTS_KEY_SIZE || id == 0)
                return -EBADMSG;
        ret->id = id;
        ret->created_usec = created;
        for (size_t j = 0; j < NTS_KEY_SIZE; j++) {
                char byte[3] = { hex[2 * j], hex[2 * j + 1], 0 };
                ret->key[j] = (uint8_t) strtoul(byte, NULL, 16);
        }
        return 0;
}

int nts_server_keys_parse(const char *text, NtsServerKeys *ret) {
        _cleanup_free_ char *copy = strdup(text);
        NtsServerKeys k = {};
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        char *line = strtok_r(copy, "\n", &save);
        if (!line || !streq(line, "tempus-nts-server-keys 1"))
                r = -EBADMSG;
        while (r >= 0 && (line = strtok_r(NULL, "\n", &save)))
                r = k.n < NTS_SERVER_KEYS ? parse_key_line(line, &k.keys[k.n++]) : -EBADMSG;
        gnutls_memset(copy, 0, strlen(text));
        if (r < 0 || k.n == 0) {
                nts_server_keys_clear(&k);
                return -EBADMSG;
        }
        /* Moved, not copied: no handle is made before first use. */
        *ret = k;
        gnutls_memset(&k, 0, sizeof k);
        return 0;
}
