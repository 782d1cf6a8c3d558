/* Loading the configuration: the main file and its drop-in fragments, read
 * with libinih, checked key by key against config_keys[], with every error
 * reported as "FILE:LINE: Section.Key: reason". */
#include <dirent.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config-internal.h"
#include "shared/log.h"

#define MAX_DROPINS 256

void config_init_defaults(Config *c) {
        *c = (Config) {
                .min_sources = 1,
                .control = true,
                .port = 123,
                .ratelimit_interval = 3,
                .ratelimit_burst = 8,
        };
}

static void origins_free(struct ConfigOrigins *o) {
        if (!o)
                return;
        for (size_t i = 0; i < o->n; i++) {
                free(o->items[i].value);
                free(o->items[i].file);
        }
        free(o->items);
        free(o);
}

void config_done(Config *c) {
        for (size_t i = 0; i < c->n_sources; i++)
                source_spec_done(&c->sources[i]);
        free(c->sources);
        free(c->drift_file);
        free(c->hw_timestamp);
        free(c->leapsectz);
        access_list_clear(&c->access);
        for (char **a = c->bind_addresses; a && *a; a++)
                free(*a);
        free(c->bind_addresses);
        free(c->key_file);
        free(c->log_dir);
        origins_free(c->origins);
        config_init_defaults(c);
}

typedef struct ParseContext {
        Config *config;
        const char *file;
        FILE *f;
        unsigned line;
        unsigned errors;
} ParseContext;

static int record_origin(Config *c, unsigned key, const char *value, const char *file, unsigned line) {
        struct ConfigOrigins *o = c->origins;
        if (!o && !(o = c->origins = calloc(1, sizeof *o)))
                return -ENOMEM;
        ConfigAssignment *a = realloc(o->items, (o->n + 1) * sizeof(ConfigAssignment));
        if (!a)
                return -ENOMEM;
        o->items = a;
        a[o->n] = (ConfigAssignment) { .key = key, .value = strdup(value), .file = strdup(file), .line = line };
        if (!a[o->n].value || !a[o->n].file)
                return -ENOMEM;
        o->n++;
        return 0;
}

static bool section_known(const char *section) {
        for (size_t i = 0; i < config_keys_count; i++)
                if (streq(config_keys[i].section, section))
                        return true;
        return false;
}

static void report_unknown(ParseContext *ctx, const char *section, const char *name) {
        char buf[64];
        const char *hint = config_key_suggest(section, name, buf, sizeof buf);

        ctx->errors++;
        if (!section_known(section))
                log_error("%s:%u: %s.%s: unknown section [%s]%s%s%s", ctx->file, ctx->line, section, name,
                          section, hint ? ", did you mean " : "", hint ?: "", hint ? "?" : "");
        else if (hint)
                log_error("%s:%u: %s.%s: unknown key \"%s\", did you mean \"%s\"?", ctx->file, ctx->line, section,
                          name, name, hint);
        else
                log_error("%s:%u: %s.%s: unknown key \"%s\"", ctx->file, ctx->line, section, name, name);
}

static int config_ini_handler(void *user, const char *section, const char *name, const char *value) {
        ParseContext *ctx = user;
        const char *reason = NULL;

        int k = config_key_find(section, name);
        if (k < 0) {
                report_unknown(ctx, section, name);
                return 1;               /* keep going: report every error */
        }
        const ConfigKey *key = &config_keys[k];
        int r = key->parse(ctx->config, value, (uint8_t *) ctx->config + key->offset, &reason);
        if (r == -ENOMEM) {
                log_oom();
                ctx->errors++;
                return 0;
        }
        if (r < 0) {
                log_error("%s:%u: %s.%s: %s: \"%s\"", ctx->file, ctx->line, section, name,
                          reason ?: "invalid value", value);
                ctx->errors++;
                return 1;
        }
        if (record_origin(ctx->config, (unsigned) k, value, ctx->file, ctx->line) < 0) {
                log_oom();
                ctx->errors++;
        }
        return 1;
}

/* libinih reads lines through this, which lets us count them. */
static char *config_ini_reader(char *buf, int size, void *stream) {
        ParseContext *ctx = stream;
        char *s = fgets(buf, size, ctx->f);
        if (s)
                ctx->line++;
        return s;
}

static int config_parse_file(Config *c, const char *path, bool required) {
        ParseContext ctx = { .config = c, .file = path };

        ctx.f = fopen(path, "re");
        if (!ctx.f) {
                if (errno == ENOENT && !required)
                        return 0;
                log_error("%s: cannot read: %s", path, strerror(errno));
                return -errno;
        }
        int r = ini_parse_stream(config_ini_reader, &ctx, config_ini_handler, &ctx);
        fclose(ctx.f);
        if (r > 0) {
                log_error("%s:%d: syntax error (expected [Section] or Key=value)", path, r);
                ctx.errors++;
        } else if (r < 0) {
                log_error("%s: cannot parse: %s", path, r == -2 ? "out of memory" : "read error");
                return r == -2 ? -ENOMEM : -EIO;
        }
        return ctx.errors > 0 ? -EINVAL : 0;
}

/* ---- Drop-ins ------------------------------------------------------------ */

typedef struct Dropin {
        char *name;
        char *path;
} Dropin;

static int dropin_compare(const void *a, const void *b) {
        return strcmp(((const Dropin *) a)->name, ((const Dropin *) b)->name);
}

static bool has_conf_suffix(const char *name) {
        size_t n = strlen(name);
        return n > 5 && streq(name + n - 5, ".conf") && name[0] != '.';
}

static bool name_taken(const Dropin *d, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(d[i].name, name))
                        return true;
        return false;
}

/* Adds dir's fragments whose names are not taken by an earlier directory. */
static int collect_dir(const char *dir, Dropin *d, size_t *n) {
        DIR *dp = opendir(dir);
        struct dirent *de;

        if (!dp)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        while ((de = readdir(dp))) {
                if (!has_conf_suffix(de->d_name) || name_taken(d, *n, de->d_name) || *n >= MAX_DROPINS)
                        continue;
                char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || !(d[*n].name = strdup(de->d_name))) {
                        free(path);
                        closedir(dp);
                        return -ENOMEM;
                }
                d[(*n)++].path = path;
        }
        closedir(dp);
        return 0;
}

static bool is_masked(const char *path) {
        char target[64];
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k < 0)
                return false;
        target[k] = 0;
        return streq(target, "/dev/null");
}

static int apply_dropins(Config *c, const char *const *dirs) {
        Dropin *d = calloc(MAX_DROPINS, sizeof(Dropin));
        size_t n = 0;
        int r = 0;

        if (!d)
                return -ENOMEM;
        for (size_t i = 0; dirs[i] && r >= 0; i++)
                r = collect_dir(dirs[i], d, &n);
        if (r >= 0) {
                qsort(d, n, sizeof(Dropin), dropin_compare);
                for (size_t i = 0; i < n; i++) {
                        if (is_masked(d[i].path))
                                continue;
                        int k = config_parse_file(c, d[i].path, false);
                        if (k < 0 && r >= 0)
                                r = k;
                }
        }
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
        return r;
}

int config_load_files(const char *main_path, bool main_required, const char *const *dropin_dirs, Config *ret) {
        Config c;
        int r, k;

        config_init_defaults(&c);
        r = config_parse_file(&c, main_path, main_required);
        /* Read the drop-ins even after an error, to report all errors. */
        k = apply_dropins(&c, dropin_dirs);
        if (r >= 0)
                r = k;
        if (r < 0) {
                config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int config_load(const char *explicit_path, Config *ret) {
        if (explicit_path) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s.d", explicit_path) < 0)
                        return -ENOMEM;
                const char *dirs[] = { dir, NULL };
                return config_load_files(explicit_path, true, dirs, ret);
        }
        static const char *const dirs[] = {
                TEMPUS_CONF_DIR "/tempus.conf.d",
                "/run/tempus/tempus.conf.d",
                "/usr/local/lib/tempus/tempus.conf.d",
                "/usr/lib/tempus/tempus.conf.d",
                NULL,
        };
        return config_load_files(TEMPUS_CONFIG_FILE, false, dirs, ret);
}

/* ---- --dump-config ------------------------------------------------------- */

/* The assignments to key k still in effect: for a list, those after the last
 * empty one; for a single value, the last one. Access rules are one list
 * shared by Allow= and Deny=, sources one shared by Server= and Pool=. */
static bool same_list(const ConfigKey *a, const ConfigKey *b) {
        return a == b || (a->kind == CONFIG_KEY_LIST && b->kind == CONFIG_KEY_LIST && streq(a->section, b->section) &&
                          !streq(a->key, "BindAddress") && !streq(b->key, "BindAddress") &&
                          !streq(a->key, "Log") && !streq(b->key, "Log"));
}

static size_t effective_start(const struct ConfigOrigins *o, unsigned k) {
        size_t start = 0;
        for (size_t i = 0; i < o->n; i++) {
                const ConfigKey *key = &config_keys[o->items[i].key];
                if (!same_list(key, &config_keys[k]))
                        continue;
                if (config_keys[k].kind == CONFIG_KEY_SINGLE || o->items[i].value[0] == 0)
                        start = i;
        }
        return start;
}

static void dump_key(const Config *c, unsigned k, FILE *f) {
        const struct ConfigOrigins *o = c->origins;
        const ConfigKey *key = &config_keys[k];
        bool any = false;

        for (size_t i = o ? effective_start(o, k) : 0; o && i < o->n; i++) {
                const ConfigAssignment *a = &o->items[i];
                if (a->key != k || (key->kind == CONFIG_KEY_LIST && a->value[0] == 0))
                        continue;
                if (key->kind == CONFIG_KEY_SINGLE && a->value[0] == 0)
                        break;
                fprintf(f, "%s=%s  # %s:%u\n", key->key, a->value, a->file, a->line);
                any = true;
        }
        if (!any && key->default_text)
                fprintf(f, "%s=%s  # default\n", key->key, key->default_text);
}

int config_dump(const Config *c, FILE *f) {
        const char *section = NULL;

        for (unsigned k = 0; k < config_keys_count; k++) {
                if (!section || !streq(section, config_keys[k].section)) {
                        section = config_keys[k].section;
                        fprintf(f, "%s[%s]\n", k > 0 ? "\n" : "", section);
                }
                dump_key(c, k, f);
        }
        return fflush(f) == 0 ? 0 : -errno;
}
