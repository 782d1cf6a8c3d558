/* Symmetric keys and the key file (see key.h). */
#include <assert.h>
#include <ctype.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/key.h"
#include "shared/alloc-util.h"
#include "shared/file-util.h"
#include "shared/log.h"

/* A key file is a few lines; anything larger is a mistake. */
#define KEY_FILE_MAX_SIZE (1024 * 1024)

struct KeyTable {
        Key *keys;
        size_t n, allocated;
};

static const char *const key_type_names[_KEY_TYPE_MAX] = {
        [KEY_MD5] = "MD5",
        [KEY_SHA1] = "SHA1",
        [KEY_SHA256] = "SHA256",
        [KEY_SHA384] = "SHA384",
        [KEY_SHA512] = "SHA512",
        [KEY_AES128] = "AES128",
        [KEY_AES256] = "AES256",
};

const char *key_type_to_string(KeyType t) {
        return t >= 0 && t < _KEY_TYPE_MAX ? key_type_names[t] : NULL;
}

KeyType key_type_from_string(const char *s) {
        for (KeyType t = 0; t < _KEY_TYPE_MAX; t++)
                if (strcasecmp(s, key_type_names[t]) == 0)
                        return t;
        return _KEY_TYPE_INVALID;
}

bool key_type_is_cmac(KeyType t) {
        return t == KEY_AES128 || t == KEY_AES256;
}

static int fail(const char **reason, const char *why) {
        *reason = why;
        return -EINVAL;
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_hex(const char *s, Key *k, const char **reason) {
        size_t n = strlen(s);

        if (n == 0 || n % 2 != 0)
                return fail(reason, "HEX: key must have an even, non-zero number of hex digits");
        if (n / 2 > KEY_MAX_LENGTH)
                return fail(reason, "key is longer than 128 bytes");
        for (size_t i = 0; i < n; i += 2) {
                int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return fail(reason, "HEX: key has a character that is not a hex digit");
                k->data[i / 2] = (uint8_t) (hi << 4 | lo);
        }
        k->length = n / 2;
        return 0;
}

static int parse_ascii(const char *s, Key *k, const char **reason) {
        size_t n = strlen(s);

        if (n > KEY_MAX_LENGTH)
                return fail(reason, "key is longer than 128 bytes");
        memcpy(k->data, s, n);
        k->length = n;
        return 0;
}

static int check_length(const Key *k, const char **reason) {
        if (k->type == KEY_AES128 && k->length != 16)
                return fail(reason, "AES128 key must be 16 bytes (32 hex digits)");
        if (k->type == KEY_AES256 && k->length != 32)
                return fail(reason, "AES256 key must be 32 bytes (64 hex digits)");
        if (!key_type_is_cmac(k->type) && k->length < KEY_MIN_HASH_LENGTH)
                return fail(reason, "key is too short: at least 10 bytes (80 bits)");
        return 0;
}

static int parse_id(const char *s, uint32_t *ret, const char **reason) {
        char *end;

        if (!isdigit((unsigned char) s[0]))
                return fail(reason, "key ID must be an integer from 1 to 4294967295");
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v == 0 || v > UINT32_MAX)
                return fail(reason, "key ID must be an integer from 1 to 4294967295");
        *ret = (uint32_t) v;
        return 0;
}

/* Splits line into at most 4 whitespace-separated fields. */
static size_t split_fields(char *line, char *fields[static 4]) {
        size_t n = 0;
        char *save = NULL;

        for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < 4; tok = strtok_r(NULL, " \t\r\n", &save))
                fields[n++] = tok;
        return n;
}

static int parse_fields(char **f, size_t n, Key *k, const char **reason) {
        if (n < 2 || n > 3)
                return fail(reason, "expected \"ID TYPE KEY\"");
        int r = parse_id(f[0], &k->id, reason);
        if (r < 0)
                return r;
        /* "ID KEY": MD5, as in chrony and ntpd. */
        k->type = n == 3 ? key_type_from_string(f[1]) : KEY_MD5;
        if (k->type < 0)
                return fail(reason, "unknown key type (expected MD5, SHA1, SHA256, SHA384, SHA512, AES128 or AES256)");
        const char *text = f[n - 1];
        r = strncasecmp(text, "HEX:", 4) == 0 ? parse_hex(text + 4, k, reason) : parse_ascii(text, k, reason);
        if (r < 0)
                return r;
        return check_length(k, reason);
}

int key_parse_line(const char *line, Key *ret, const char **reason) {
        _cleanup_free_ char *copy = strdup(line);
        char *fields[4];
        Key k = {};

        if (!copy)
                return -ENOMEM;
        /* Comments take whole lines, as in chrony: an ASCII key may hold a '#'. */
        if (strchr("#!;%", copy[strspn(copy, " \t")]) && copy[strspn(copy, " \t")] != 0)
                return 0;
        size_t n = split_fields(copy, fields);
        if (n == 0)
                return 0;
        int r = parse_fields(fields, n, &k, reason);
        explicit_bzero(copy, strlen(line));
        if (r < 0) {
                explicit_bzero(&k, sizeof k);
                return r;
        }
        *ret = k;
        explicit_bzero(&k, sizeof k);
        return 1;
}

int key_table_new(KeyTable **ret) {
        KeyTable *t = calloc(1, sizeof(KeyTable));
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

KeyTable *key_table_free(KeyTable *t) {
        if (!t)
                return NULL;
        if (t->keys)
                explicit_bzero(t->keys, t->allocated * sizeof(Key));
        free(t->keys);
        free(t);
        return NULL;
}

/* Index of the first key with an ID not below id. */
static size_t lower_bound(const KeyTable *t, uint32_t id) {
        return LOWER_BOUND(t->keys, t->n, .id, id);
}

int key_table_add(KeyTable *t, const Key *key) {
        assert(t && key);
        size_t i = lower_bound(t, key->id);
        if (i < t->n && t->keys[i].id == key->id)
                return -EEXIST;
        /* Grown in place only: a moved array would leave a copy of the keys
         * behind in freed memory. */
        if (t->n + 1 > t->allocated) {
                size_t want = MAX(t->allocated * 2, (size_t) 8);
                Key *k = calloc(want, sizeof(Key));
                if (!k)
                        return -ENOMEM;
                if (t->keys) {
                        memcpy(k, t->keys, t->n * sizeof(Key));
                        explicit_bzero(t->keys, t->allocated * sizeof(Key));
                        free(t->keys);
                }
                t->keys = k;
                t->allocated = want;
        }
        memmove(&t->keys[i + 1], &t->keys[i], (t->n - i) * sizeof(Key));
        t->keys[i] = *key;
        t->n++;
        return 0;
}

const Key *key_table_find(const KeyTable *t, uint32_t id) {
        if (!t)
                return NULL;
        size_t i = lower_bound(t, id);
        return i < t->n && t->keys[i].id == id ? &t->keys[i] : NULL;
}

size_t key_table_size(const KeyTable *t) {
        return t ? t->n : 0;
}

/* Parses and adds one line; logs what is wrong with it. Returns 0 or -EINVAL. */
static int key_table_add_line(KeyTable *t, const char *line, const char *file, unsigned lineno) {
        const char *reason = NULL;
        Key k;

        int r = key_parse_line(line, &k, &reason);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_error("%s:%u: %s", file, lineno, reason);
                return -EINVAL;
        }
        if (r == 0)
                return 0;
        r = key_table_add(t, &k);
        uint32_t id = k.id;
        explicit_bzero(&k, sizeof k);
        if (r == -EEXIST) {
                log_error("%s:%u: duplicate key ID %u", file, lineno, id);
                return -EINVAL;
        }
        return r < 0 ? log_oom() : 0;
}

int key_table_parse(const char *text, const char *file, KeyTable **ret) {
        _cleanup_(key_table_freep) KeyTable *t = NULL;
        int r = key_table_new(&t), bad = 0;
        unsigned lineno = 0;

        if (r < 0)
                return log_oom();
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                if (!line)
                        return log_oom();
                r = key_table_add_line(t, line, file, ++lineno);
                explicit_bzero(line, n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = r;
                p += n + (p[n] == '\n');
        }
        if (bad < 0)
                return bad;
        *ret = TAKE_PTR(t);
        return 0;
}

/* The daemon's own group may read the file: it reads it again on reload,
 * after dropping root. */
static bool group_is_ours(gid_t gid) {
        struct passwd *pw = getpwnam(TEMPUS_USER);
        return gid == getegid() || (pw && gid == pw->pw_gid);
}

static void warn_if_readable(const char *path, int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return;
        if ((st.st_mode & S_IRWXO) || ((st.st_mode & S_IRWXG) && !group_is_ours(st.st_gid)))
                log_warning("%s: key file may be read by other users (mode %04o); it should be 0600, "
                            "or 0640 with group %s", path, (unsigned) (st.st_mode & 07777), TEMPUS_USER);
}

int key_table_load(const char *path, KeyTable **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (fd < 0)
                return log_error_errno(-errno, "%s: cannot open the key file: %m", path);
        warn_if_readable(path, fd);
        int r = read_small_fd(fd, KEY_FILE_MAX_SIZE, (void **) &text, &len);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read the key file: %m", path);
        if (strlen(text) != len) {
                explicit_bzero(text, len);
                log_error("%s: key file contains a NUL byte", path);
                return -EINVAL;
        }
        r = key_table_parse(text, path, ret);
        explicit_bzero(text, len);
        return r;
}
