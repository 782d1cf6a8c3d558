/* Loading the configuration: the main file and its drop-in fragments (each
 * read by config-file.c), checked key by key against config_keys[], with
 * every error reported as "FILE:LINE: Section.Key: reason". */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config-internal.h"
#include "shared/alloc-util.h"
#include "shared/log.h"
#include "shared/macro.h"

void config_init_defaults(Config *c) {
        *c = (Config) {
                .min_sources = 1,
                .max_distance = 3.0,
                .max_jitter = 1.0,
                .link_servers = true,
                .auth_select_mode = SELECT_AUTH_MIX,
                .control = true,
                .kernel_tx_timestamps = true,
                .port = 123,
                .ratelimit_interval = 3,
                .ratelimit_burst = 8,
                .nts_port = 4460,
                .nts_max_connections = 100,
                .nts_rotate = 604800,
                .no_cert_time_check = 1,
                .client_log_limit = CONFIG_DEFAULT_CLIENT_LOG_LIMIT,
        };
}

void path_list_clear(PathList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->paths[i]);
        l->paths = mfree(l->paths);
        l->n = l->n_allocated = 0;
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
        free(c->link_server_options);
        free(c->drift_file);
        free(c->hw_timestamp);
        free(c->leapsectz);
        access_list_clear(&c->access);
        for (char **a = c->bind_addresses; a && *a; a++)
                free(*a);
        free(c->bind_addresses);
        free(c->key_file);
        key_table_free(c->keys);
        path_list_clear(&c->nts_trusted_certs);
        path_list_clear(&c->nts_server_certs);
        path_list_clear(&c->nts_server_keys);
        free(c->nts_dump_dir);
        free(c->log_dir);
        origins_free(c->origins);
        config_init_defaults(c);
}

static int record_origin(Config *c, unsigned key, const char *value, const char *file, unsigned line) {
        struct ConfigOrigins *o = c->origins;
        if (!o && !(o = c->origins = calloc(1, sizeof *o)))
                return -ENOMEM;
        if (GREEDY_REALLOC(o->items, o->n_allocated, o->n + 1) < 0)
                return -ENOMEM;
        ConfigAssignment *a = o->items;
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

static int report_unknown(const char *file, unsigned line, const char *section, const char *name) {
        char buf[64];
        const char *hint = config_key_suggest(section, name, buf, sizeof buf);

        if (!section_known(section))
                log_error("%s:%u: %s.%s: unknown section [%s]%s%s%s", file, line, section, name,
                          section, hint ? ", did you mean " : "", hint ?: "", hint ? "?" : "");
        else if (hint)
                log_error("%s:%u: %s.%s: unknown key \"%s\", did you mean \"%s\"?", file, line, section,
                          name, name, hint);
        else
                log_error("%s:%u: %s.%s: unknown key \"%s\"", file, line, section, name, name);
        return -EINVAL;
}

int config_assign(Config *c, const char *file, unsigned line, const char *section, const char *name,
                  const char *value) {
        const char *reason = NULL;

        int k = config_key_find(section, name);
        if (k < 0)
                return report_unknown(file, line, section, name);
        const ConfigKey *key = &config_keys[k];
        int r = key->parse(c, value, (uint8_t *) c + key->offset, &reason);
        if (r >= 0)
                r = record_origin(c, (unsigned) k, value, file, line);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                log_error("%s:%u: %s.%s: %s: \"%s\"", file, line, section, name, reason ?: "invalid value", value);
        return r;
}

/* ---- Drop-ins ------------------------------------------------------------ */

typedef struct Dropin {
        char *name;
        char *path;
        size_t dir;             /* index of its directory: earlier masks later */
} Dropin;

typedef struct DropinList {
        Dropin *items;
        size_t n, allocated;
} DropinList;

static void dropin_list_done(DropinList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].path);
        }
        free(l->items);
}

static int dropin_compare(const void *a, const void *b) {
        const Dropin *x = a, *y = b;
        int k = strcmp(x->name, y->name);
        return k != 0 ? k : x->dir < y->dir ? -1 : x->dir > y->dir;
}

static bool has_conf_suffix(const char *name) {
        size_t n = strlen(name);
        return n > 5 && streq(name + n - 5, ".conf") && name[0] != '.';
}

static int dropin_list_add(DropinList *l, const char *dir, size_t index, const char *name) {
        if (l->n >= CONFIG_DROPINS_MAX) {
                log_error("%s: more than %u drop-in fragments in all directories together, refusing to read them",
                          dir, CONFIG_DROPINS_MAX);
                return -EINVAL;
        }
        if (GREEDY_REALLOC(l->items, l->allocated, l->n + 1) < 0)
                return -ENOMEM;
        Dropin *d = &l->items[l->n];
        *d = (Dropin) { .dir = index, .name = strdup(name) };
        if (!d->name || asprintf(&d->path, "%s/%s", dir, name) < 0) {
                free(d->name);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

/* Adds every *.conf name in dir; a missing directory has none. */
static int dropin_list_collect(DropinList *l, const char *dir, size_t index) {
        DIR *dp = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!dp && errno == ENOENT)
                return 0;
        if (!dp)
                return log_error_errno(-errno, "%s: cannot read the drop-in directory: %m", dir);
        while (r >= 0 && (errno = 0, de = readdir(dp)))
                if (has_conf_suffix(de->d_name))
                        r = dropin_list_add(l, dir, index, de->d_name);
        if (r >= 0 && errno != 0)
                r = log_error_errno(-errno, "%s: cannot read the drop-in directory: %m", dir);
        closedir(dp);
        return r;
}

/* Sorts by name and keeps, of each name, the fragment of the earliest
 * directory: the order is the names', never the order readdir() gives. */
static void dropin_list_sort_and_mask(DropinList *l) {
        size_t kept = 0;

        if (l->n == 0)
                return;
        qsort(l->items, l->n, sizeof(Dropin), dropin_compare);
        for (size_t i = 0; i < l->n; i++) {
                if (kept > 0 && streq(l->items[kept - 1].name, l->items[i].name)) {
                        free(l->items[i].name);
                        free(l->items[i].path);
                        continue;
                }
                l->items[kept++] = l->items[i];
        }
        l->n = kept;
}

static int assign_to_config(void *userdata, const char *file, unsigned line, const char *section,
                            const char *name, const char *value) {
        return config_assign(userdata, file, line, section, name, value);
}

static int apply_dropins(Config *c, const char *const *dirs) {
        DropinList l = {};
        int r = 0;

        for (size_t i = 0; dirs[i] && r >= 0; i++)
                r = dropin_list_collect(&l, dirs[i], i);
        if (r >= 0) {
                dropin_list_sort_and_mask(&l);
                for (size_t i = 0; i < l.n; i++) {
                        int k = config_file_parse(l.items[i].path, true, assign_to_config, c);
                        if (k < 0 && r >= 0)
                                r = k;
                }
        }
        dropin_list_done(&l);
        return r;
}

/* ---- Keys ---------------------------------------------------------------- */

static bool same_list(const ConfigKey *a, const ConfigKey *b);
static size_t effective_start(const struct ConfigOrigins *o, unsigned k);

static bool access_allows_any(const AccessList *l) {
        for (size_t i = 0; i < l->n_rules; i++)
                if (l->rules[i].allow)
                        return true;
        return false;
}

/* One source's key=: it must be in the key file. A peer without one needs
 * an explicit Allow=: unauthenticated symmetric mode lets anyone who can
 * spoof the peer's address disturb the association (CVE-2015-1853). */
static int check_source_key(const Config *c, const SourceSpec *s, const ConfigAssignment *a) {
        const ConfigKey *key = &config_keys[a->key];

        if (s->kind == SOURCE_KIND_PEER && c->port == 0) {
                log_error("%s:%u: %s.%s: a peer's packets go from and to the NTP port, but [Server] Port=0",
                          a->file, a->line, key->section, key->key);
                return -EINVAL;
        }
        if (s->kind == SOURCE_KIND_PEER && s->key == 0 && !access_allows_any(&c->access)) {
                log_error("%s:%u: %s.%s: a peer without key= needs an explicit [Server] Allow= for it "
                          "(unauthenticated symmetric mode is a denial-of-service risk)",
                          a->file, a->line, key->section, key->key);
                return -EINVAL;
        }
        if (s->key == 0 || key_table_find(c->keys, s->key))
                return 0;
        if (!c->key_file)
                log_error("%s:%u: %s.%s: key=%u, but no key file is configured ([Auth] KeyFile=)", a->file,
                          a->line, key->section, key->key, s->key);
        else
                log_error("%s:%u: %s.%s: key %u is not in the key file %s", a->file, a->line, key->section,
                          key->key, s->key, c->key_file);
        return -EINVAL;
}

/* The Server=/Pool= assignments still in effect are the sources, in order:
 * each one's key is checked against the line that gave it. */
static int check_source_keys(const Config *c) {
        const struct ConfigOrigins *o = c->origins;
        int server = config_key_find("Sources", "Server"), r = 0;
        size_t n = 0;

        for (size_t i = o ? effective_start(o, (unsigned) server) : 0; o && i < o->n; i++) {
                const ConfigAssignment *a = &o->items[i];
                if (!same_list(&config_keys[a->key], &config_keys[server]) || a->value[0] == 0)
                        continue;
                assert(n < c->n_sources);
                if (check_source_key(c, &c->sources[n++], a) < 0)
                        r = -EINVAL;
        }
        return r;
}

/* A relative KeyFile= names a file beside the one that set it. */
static int key_file_path(const Config *c, char **ret) {
        const struct ConfigOrigins *o = c->origins;
        unsigned k = (unsigned) config_key_find("Auth", "KeyFile");
        size_t i = o ? effective_start(o, k) : 0;

        if (c->key_file[0] == '/' || !o || i >= o->n || o->items[i].key != k)
                return (*ret = strdup(c->key_file)) ? 0 : -ENOMEM;
        const char *file = o->items[i].file, *slash = strrchr(file, '/');
        if (!slash)
                return (*ret = strdup(c->key_file)) ? 0 : -ENOMEM;
        return asprintf(ret, "%.*s/%s", (int) (slash - file), file, c->key_file) < 0 ? -ENOMEM : 0;
}

static int load_keys(Config *c) {
        if (c->key_file) {
                _cleanup_free_ char *path = NULL;
                int r = key_file_path(c, &path);
                if (r < 0)
                        return r;
                r = key_table_load(path, &c->keys);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return -EINVAL;
        }
        return check_source_keys(c);
}

/* The NTS files in effect must be readable files: "file:line: key:
 * cannot read PATH: reason" for each that is not, as tempusd reads them
 * (its certificates and keys at start, the CAs at the first NTS-KE). */
static bool is_nts_file_key(const ConfigKey *k) {
        return streq(k->key, "NTSServerCertFile") || streq(k->key, "NTSServerKeyFile") ||
               streq(k->key, "NTSTrustedCerts");
}

static bool path_in_list(const PathList *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->paths[i], path))
                        return true;
        return false;
}

static int check_nts_files(const Config *c) {
        const struct ConfigOrigins *o = c->origins;
        int r = 0;

        for (size_t i = 0; o && i < o->n; i++) {
                const ConfigAssignment *a = &o->items[i];
                const ConfigKey *k = &config_keys[a->key];
                if (!is_nts_file_key(k) || a->value[0] == 0 ||
                    !path_in_list((const PathList *) ((const char *) c + k->offset), a->value))
                        continue;
                _cleanup_close_ int fd = open(a->value, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                        log_error("%s:%u: %s.%s: cannot read %s: %s", a->file, a->line, k->section, k->key, a->value,
                                  fd < 0 ? strerror(errno) : "not a regular file");
                        r = -EINVAL;
                }
        }
        return r;
}

/* Each NTSServerCertFile= has its NTSServerKeyFile=: the error names the
 * last line that set either. */
static int check_nts_server_pairs(const Config *c) {
        const struct ConfigOrigins *o = c->origins;
        const ConfigAssignment *last = NULL;

        if (c->nts_server_certs.n == c->nts_server_keys.n)
                return 0;
        for (size_t i = 0; o && i < o->n; i++)
                if (streq(config_keys[o->items[i].key].key, "NTSServerCertFile") ||
                    streq(config_keys[o->items[i].key].key, "NTSServerKeyFile"))
                        last = &o->items[i];
        log_error("%s:%u: Server.%s: %zu NTSServerCertFile= but %zu NTSServerKeyFile=: they come in pairs",
                  last ? last->file : "?", last ? last->line : 0,
                  last ? config_keys[last->key].key : "NTSServerCertFile", c->nts_server_certs.n,
                  c->nts_server_keys.n);
        return -EINVAL;
}

static int load_files(const char *main_path, bool main_required, const char *const *dropin_dirs,
                      ConfigLoadFlags flags, Config *ret) {
        Config c;
        int r, k;

        config_init_defaults(&c);
        r = config_file_parse(main_path, main_required, assign_to_config, &c);
        /* Read the drop-ins even after an error, to report all errors. */
        k = apply_dropins(&c, dropin_dirs);
        if (r >= 0)
                r = k;
        k = flags & CONFIG_LOAD_KEYS ? load_keys(&c) : 0;
        if (r >= 0)
                r = k;
        k = check_nts_server_pairs(&c);
        if (r >= 0)
                r = k;
        k = flags & CONFIG_LOAD_KEYS ? check_nts_files(&c) : 0;
        if (r >= 0)
                r = k;
        if (r < 0) {
                config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int config_load_files(const char *main_path, bool main_required, const char *const *dropin_dirs, Config *ret) {
        return load_files(main_path, main_required, dropin_dirs, CONFIG_LOAD_KEYS, ret);
}

int config_load(const char *explicit_path, Config *ret) {
        return config_load_flags(explicit_path, CONFIG_LOAD_KEYS, ret);
}

int config_load_flags(const char *explicit_path, ConfigLoadFlags flags, Config *ret) {
        if (explicit_path) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s.d", explicit_path) < 0)
                        return -ENOMEM;
                const char *dirs[] = { dir, NULL };
                return load_files(explicit_path, true, dirs, flags, ret);
        }
        static const char *const dirs[] = {
                TEMPUS_CONF_DIR "/tempus.conf.d",
                "/run/tempus/tempus.conf.d",
                "/usr/local/lib/tempus/tempus.conf.d",
                "/usr/lib/tempus/tempus.conf.d",
                NULL,
        };
        return load_files(TEMPUS_CONFIG_FILE, false, dirs, flags, ret);
}

/* ---- --dump-config ------------------------------------------------------- */

/* The assignments to key k still in effect: for a list, those after the last
 * empty one; for a single value, the last one. Access rules are one list
 * shared by Allow= and Deny=, sources one shared by Server=, Pool= and Peer=. */
static bool shares_list(const ConfigKey *k) {
        return streq(k->key, "Server") || streq(k->key, "Pool") || streq(k->key, "Peer") || streq(k->key, "Allow") ||
               streq(k->key, "Deny");
}

static bool same_list(const ConfigKey *a, const ConfigKey *b) {
        return a == b || (a->kind == CONFIG_KEY_LIST && b->kind == CONFIG_KEY_LIST && streq(a->section, b->section) &&
                          shares_list(a) && shares_list(b));
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
