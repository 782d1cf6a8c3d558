/* SipHash-2-4 (see siphash.h), written from the paper's description:
 * four 64-bit lanes initialised from the key, two SipRounds per 8-byte
 * little-endian message word, a final word that carries the length in its
 * top byte, then 0xff into v2 and four more rounds. */
#include "server/siphash.h"

static inline uint64_t rotl64(uint64_t x, unsigned b) {
        return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

typedef struct SipState {
        uint64_t v0, v1, v2, v3;
} SipState;

static void sip_round(SipState *s) {
        s->v0 += s->v1; s->v1 = rotl64(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl64(s->v0, 32);
        s->v2 += s->v3; s->v3 = rotl64(s->v3, 16); s->v3 ^= s->v2;
        s->v0 += s->v3; s->v3 = rotl64(s->v3, 21); s->v3 ^= s->v0;
        s->v2 += s->v1; s->v1 = rotl64(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl64(s->v2, 32);
}

/* c = 2 compression rounds per message word. */
static void sip_absorb(SipState *s, uint64_t m) {
        s->v3 ^= m;
        sip_round(s);
        sip_round(s);
        s->v0 ^= m;
}

uint64_t siphash24(const void *data, size_t len, const uint8_t key[static SIPHASH_KEY_SIZE]) {
        const uint8_t *in = data;
        uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
        /* The constants spell "somepseudorandomlygeneratedbytes". */
        SipState s = {
                .v0 = k0 ^ 0x736f6d6570736575ull,
                .v1 = k1 ^ 0x646f72616e646f6dull,
                .v2 = k0 ^ 0x6c7967656e657261ull,
                .v3 = k1 ^ 0x7465646279746573ull,
        };
        size_t whole = len & ~(size_t) 7;

        for (size_t i = 0; i < whole; i += 8)
                sip_absorb(&s, load_le64(in + i));
        /* The last word: the remaining bytes, and len mod 256 on top. */
        uint64_t last = (uint64_t) (len & 0xff) << 56;
        for (size_t i = whole; i < len; i++)
                last |= (uint64_t) in[i] << (8 * (i - whole));
        sip_absorb(&s, last);
        /* d = 4 finalisation rounds. */
        s.v2 ^= 0xff;
        for (int i = 0; i < 4; i++)
                sip_round(&s);
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
