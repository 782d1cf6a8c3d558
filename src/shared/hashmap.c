/* Open-addressing hash table (see hashmap.h). */
#include <string.h>
#include <sys/random.h>

#include "shared/hashmap.h"

#define HASHMAP_MIN_CAPACITY 16

typedef struct Slot {
        const void *key;        /* NULL: empty */
        void *value;
        uint64_t hash;
} Slot;

struct Hashmap {
        const HashmapOps *ops;
        uint64_t seed;
        size_t n;
        size_t capacity;        /* a power of two, or 0 before the first put */
        Slot *slots;
};

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed) {
        const uint8_t *p = data;
        uint64_t h = seed ^ UINT64_C(14695981039346656037);

        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * UINT64_C(1099511628211);
        return h;
}

/* Spreads every input bit over the low bits that pick the slot
 * (splitmix64's finaliser). */
static uint64_t mix(uint64_t h) {
        h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
        return h ^ (h >> 31);
}

static uint64_t string_hash(const void *key, uint64_t seed) {
        return hash_bytes(key, strlen(key), seed);
}

static bool string_equal(const void *a, const void *b) {
        return streq((const char *) a, (const char *) b);
}

const HashmapOps string_hash_ops = { string_hash, string_equal };

Hashmap *hashmap_new(const HashmapOps *ops) {
        Hashmap *h = calloc(1, sizeof(Hashmap));

        if (!h)
                return NULL;
        h->ops = ops;
        /* Without entropy the table still works, only with a fixed seed. */
        if (getrandom(&h->seed, sizeof h->seed, GRND_NONBLOCK) != sizeof h->seed)
                h->seed = (uint64_t) (uintptr_t) h;
        return h;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (!h)
                return NULL;
        free(h->slots);
        free(h);
        return NULL;
}

size_t hashmap_size(const Hashmap *h) {
        return h->n;
}

static uint64_t key_hash(const Hashmap *h, const void *key) {
        return mix(h->ops->hash(key, h->seed));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const Hashmap *h, const void *key, uint64_t hash) {
        size_t mask = h->capacity - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const Slot *s = &h->slots[i];
                if (!s->key || (s->hash == hash && h->ops->equal(s->key, key)))
                        return i;
        }
}

static int resize(Hashmap *h, size_t capacity) {
        Slot *old = h->slots;
        size_t old_capacity = h->capacity;

        h->slots = calloc(capacity, sizeof(Slot));
        if (!h->slots) {
                h->slots = old;
                return -ENOMEM;
        }
        h->capacity = capacity;
        for (size_t i = 0; i < old_capacity; i++)
                if (old[i].key)
                        h->slots[find_slot(h, old[i].key, old[i].hash)] = old[i];
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const void *key, void *value) {
        /* At most three quarters full, so probes stay short and one slot
         * is always empty. */
        if ((h->n + 1) * 4 > h->capacity * 3) {
                if (h->capacity > SIZE_MAX / 2 / sizeof(Slot))
                        return -ENOMEM;
                int r = resize(h, MAX(h->capacity * 2, (size_t) HASHMAP_MIN_CAPACITY));
                if (r < 0)
                        return r;
        }
        uint64_t hash = key_hash(h, key);
        Slot *s = &h->slots[find_slot(h, key, hash)];
        if (s->key)
                return -EEXIST;
        *s = (Slot) { .key = key, .value = value, .hash = hash };
        h->n++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const void *key) {
        if (h->n == 0)
                return NULL;
        const Slot *s = &h->slots[find_slot(h, key, key_hash(h, key))];
        return s->key ? s->value : NULL;
}

/* Whether the entry whose home slot is `home` may move back to `hole`
 * without leaving the probe run that starts at home: true unless home lies
 * cyclically in (hole, at]. */
static bool may_fill(size_t hole, size_t at, size_t home) {
        if (hole <= at)
                return home <= hole || home > at;
        return home <= hole && home > at;
}

void *hashmap_remove(Hashmap *h, const void *key) {
        if (h->n == 0)
                return NULL;
        size_t mask = h->capacity - 1, hole = find_slot(h, key, key_hash(h, key));
        void *value = h->slots[hole].value;

        if (!h->slots[hole].key)
                return NULL;
        /* Backward shift: pull later entries of the same run into the hole,
         * so lookups never need tombstones. */
        for (size_t at = (hole + 1) & mask; h->slots[at].key; at = (at + 1) & mask)
                if (may_fill(hole, at, h->slots[at].hash & mask)) {
                        h->slots[hole] = h->slots[at];
                        hole = at;
                }
        h->slots[hole] = (Slot) {};
        h->n--;
        return value;
}
