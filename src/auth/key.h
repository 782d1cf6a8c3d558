/* Symmetric keys for NTP authentication (RFC 5905 MAC, RFC 8573 AES-CMAC)
 * and the key file that holds them, in chrony's format:
 *
 *     # comment (also ! ; %, at the start of a line)
 *     ID TYPE KEY        e.g.  10 SHA256 HEX:4B6F...   or  11 MD5 secret
 *
 * ID is 1..4294967295 (0 is the crypto-NAK's); TYPE one of MD5, SHA1,
 * SHA256, SHA384, SHA512, AES128, AES256 (MD5 when left out); KEY is
 * "HEX:" and an even number of hex digits, or printable ASCII text.
 * Hash keys need at least KEY_MIN_HASH_LENGTH bytes; AES keys are exactly
 * 16 or 32 bytes. Parsing is pure; key_table_load() reads the file. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/macro.h"

typedef enum KeyType {
        KEY_MD5,
        KEY_SHA1,
        KEY_SHA256,
        KEY_SHA384,
        KEY_SHA512,
        KEY_AES128,
        KEY_AES256,
        _KEY_TYPE_MAX,
        _KEY_TYPE_INVALID = -EINVAL,
} KeyType;

/* 80 bits: shorter secrets fall to a search of the key space. */
#define KEY_MIN_HASH_LENGTH 10
#define KEY_MAX_LENGTH 128

typedef struct Key {
        uint32_t id;
        KeyType type;
        size_t length;
        uint8_t data[KEY_MAX_LENGTH];
} Key;

const char *key_type_to_string(KeyType t);
/* Case-insensitive, as chrony reads its key files. */
KeyType key_type_from_string(const char *s);
/* True for the CMAC types (RFC 8573), false for the RFC 5905 hashes. */
bool key_type_is_cmac(KeyType t);

/* Parses one line of a key file. Returns 1 and fills *ret for a key, 0 for
 * a blank or comment line, or -EINVAL with *reason saying what is wrong. */
int key_parse_line(const char *line, Key *ret, const char **reason);

/* The keys of one file, sorted by ID. */
typedef struct KeyTable KeyTable;

int key_table_new(KeyTable **ret);
/* Wipes the key material before freeing it. */
KeyTable *key_table_free(KeyTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(KeyTable *, key_table_free);

/* Adds a copy of key: -EEXIST if its ID is taken. */
int key_table_add(KeyTable *t, const Key *key);
const Key *key_table_find(const KeyTable *t, uint32_t id);
size_t key_table_size(const KeyTable *t);

/* Parses the text of a key file (NUL-terminated). Every bad line is
 * logged as "file:line: reason"; after one or more, -EINVAL. */
int key_table_parse(const char *text, const char *file, KeyTable **ret);
/* Reads and parses path, warning when users other than the owner may
 * read it. A missing file is an error (-ENOENT), logged. */
int key_table_load(const char *path, KeyTable **ret);
