/* A hash table from keys to values: open addressing with linear probing and
 * deletion by backward shift (no tombstones), so put, get and remove take
 * expected O(1) time however many entries it holds.
 *
 * Keys are not copied: each key points into its value (a host name, a
 * socket address) and must not change while the entry is in the table.
 * Each table draws a random seed, so which keys collide differs from one
 * run to the next. The hash is not cryptographic: the tables in tempus hold
 * bounded sets (at most MANAGER_MAX_SOURCES sources) that only root or the
 * answers for a configured name can fill. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/macro.h"

typedef struct HashmapOps {
        uint64_t (*hash)(const void *key, uint64_t seed);
        bool (*equal)(const void *a, const void *b);
} HashmapOps;

/* Keys that are NUL-terminated strings (sockaddr-util.h has the ops for
 * socket addresses). */
extern const HashmapOps string_hash_ops;

typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(const HashmapOps *ops);
Hashmap *hashmap_free(Hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free);

/* Adds key -> value. Returns 0, -EEXIST when an equal key is present (the
 * table is unchanged), or -ENOMEM. */
int hashmap_put(Hashmap *h, const void *key, void *value);
/* The value stored under a key equal to key, or NULL. */
void *hashmap_get(const Hashmap *h, const void *key);
/* Removes the entry of a key equal to key; returns its value, or NULL. */
void *hashmap_remove(Hashmap *h, const void *key);
size_t hashmap_size(const Hashmap *h);

/* FNV-1a over data, starting from seed (chain calls to hash several
 * fields). */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
