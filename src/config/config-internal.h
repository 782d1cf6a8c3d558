/* Internals of the configuration parser shared by its files and its tests. */
#pragma once

#include <stddef.h>

#include "config/config-file.h"
#include "config/config.h"

/* One assignment as read, for --dump-config. */
typedef struct ConfigAssignment {
        unsigned key;           /* index into config_keys[] */
        char *value;
        char *file;
        unsigned line;
} ConfigAssignment;

struct ConfigOrigins {
        ConfigAssignment *items;
        size_t n, n_allocated;
};

typedef struct ConfigParser ConfigParser;

/* Parses value into the field at offset in Config; on error returns
 * -EINVAL and sets *reason. An empty value resets the field: a list is
 * cleared, a single value returns to its built-in default. */
typedef int (*ConfigParseFn)(Config *c, const char *value, void *field, const char **reason);

typedef enum ConfigKeyKind {
        CONFIG_KEY_SINGLE,
        CONFIG_KEY_LIST,
} ConfigKeyKind;

typedef struct ConfigKey {
        const char *section;
        const char *key;
        ConfigParseFn parse;
        size_t offset;
        ConfigKeyKind kind;
        const char *default_text;       /* shown by --dump-config; NULL: none */
} ConfigKey;

extern const ConfigKey config_keys[];
extern const size_t config_keys_count;

/* Looks a key up; returns its index or -ENOENT. */
int config_key_find(const char *section, const char *key);
/* A known "Section.Key" close to the unknown one, or NULL. */
const char *config_key_suggest(const char *section, const char *key, char *buf, size_t size);
/* Edit distance, case-insensitive (exposed for tests). */
unsigned config_edit_distance(const char *a, const char *b);

/* At most this many *.conf files in all drop-in directories together. */
#define CONFIG_DROPINS_MAX 1024u

/* Applies one assignment read at file:line: checks the key and its value,
 * stores it in c and records where it came from. Logs
 * "file:line: Section.Key: reason" and returns -EINVAL when it is bad. */
int config_assign(Config *c, const char *file, unsigned line, const char *section, const char *name,
                  const char *value);


/* Loads main_path (which must exist when main_required) and the *.conf
 * fragments of the given drop-in directories (NULL-terminated), with the
 * masking and ordering rules of DESIGN.md. */
int config_load_files(const char *main_path, bool main_required, const char *const *dropin_dirs, Config *ret);
