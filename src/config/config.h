/* tempus configuration: the parsed, validated form of tempus.conf and its
 * drop-ins (DESIGN.md "Config"). config_load() reads the files; everything
 * else reads the Config struct. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/key.h"
#include "core/selection.h"
#include "core/source-spec.h"
#include "shared/access.h"
/* chrony's default clientloglimit: half a megabyte. */
#define CONFIG_DEFAULT_CLIENT_LOG_LIMIT 524288
/* At most 1 GiB (chrony caps its table at 2^24 records). */
#define CONFIG_MAX_CLIENT_LOG_LIMIT (UINT64_C(1) << 30)

typedef enum LogFlags {
        LOG_FLAG_MEASUREMENTS = 1 << 0,
        LOG_FLAG_STATISTICS   = 1 << 1,
        LOG_FLAG_TRACKING     = 1 << 2,
} LogFlags;

/* Where NTS cookies and server keys are saved without NTSDumpDir=. */
#define NTS_DEFAULT_DUMP_DIR "/var/lib/tempus/nts"

/* A list of paths (NTSTrustedCerts=, NTSServerCertFile=, ...). */
typedef struct PathList {
        char **paths;
        size_t n, n_allocated;
} PathList;

void path_list_clear(PathList *l);

typedef struct Config {
        /* [Sources] */
        SourceSpec *sources;
        size_t n_sources, n_sources_allocated;
        unsigned min_sources;           /* default 1 */
        double max_distance;            /* seconds; default 3 (chrony's maxdistance) */
        double max_jitter;              /* seconds; default 1 (chrony's maxjitter) */
        bool link_servers;              /* default true: servers networkd learns per link */
        char *link_server_options;      /* options for them ("iburst ..."); NULL: none */
        SelectAuthMode auth_select_mode; /* default mix */

        /* [Clock] */
        char *drift_file;               /* NULL: none */
        double makestep_threshold;      /* seconds */
        int makestep_limit;             /* 0: never step (default); <0: any update */
        bool rtc_sync;
        char *hw_timestamp;             /* interface or "*"; NULL: off */
        bool kernel_tx_timestamps;      /* TXTimestamps=kernel (default); false: daemon */
        char *leapsectz;                /* e.g. "right/UTC"; NULL: off */
        bool leap_slew;                 /* LeapSecMode=slew: we slew through a leap
                                         * second instead of the kernel stepping */
        bool control;                   /* default true; false = chronyd -x */

        /* [Server] */
        AccessList access;
        int local_stratum;              /* 0: off, else 1..15 */
        char **bind_addresses;          /* NULL-terminated; empty: any */
        size_t n_bind_allocated;
        uint16_t port;                  /* default 123; 0 disables serving */
        bool ratelimit;                 /* RateLimit= given */
        int ratelimit_interval;         /* log2 seconds, default 3 */
        unsigned ratelimit_burst;       /* default 8 */
        unsigned ratelimit_kod;         /* KoD RATE for one in 2^kod drops; 0: none (default) */
        PathList nts_server_certs;      /* NTSServerCertFile=, paired in order with */
        PathList nts_server_keys;       /* NTSServerKeyFile= */
        uint16_t nts_port;              /* NTS-KE server port, default 4460 */
        unsigned nts_max_connections;   /* default 100 */
        double nts_rotate;              /* seconds between server keys, default 1 week; 0: never */
        /* Bytes for the client log shared by rate limiting and interleaved
         * mode (chrony's clientloglimit); 0: no log, no interleaved mode. */
        uint64_t client_log_limit;

        /* [Auth] */
        char *key_file;
        KeyTable *keys;                 /* read from key_file by config_load() */
        PathList nts_trusted_certs;     /* CA files besides the system store */
        char *nts_dump_dir;             /* cookies and server keys; default /var/lib/tempus/nts */
        unsigned no_cert_time_check;    /* updates before certificate times count; default 1 */

        /* [Log] */
        char *log_dir;
        unsigned log_flags;             /* LogFlags */

        /* Where each value came from, for --dump-config. */
        struct ConfigOrigins *origins;
} Config;

/* Fills c with built-in defaults (no files read). */
void config_init_defaults(Config *c);
void config_done(Config *c);

/* Reads the configuration. With explicit_path NULL: the main file
 * TEMPUS_CONFIG_FILE (missing is fine) and drop-ins from the system
 * directories in DESIGN.md order. With explicit_path: that file (must exist)
 * and explicit_path.d/ only. Every problem is logged as
 * "file:line: Section.Key: reason", or "file: reason" for a file refused
 * whole (not a regular file, too large); returns 0, or -EINVAL if any value
 * or file was bad (ret is untouched on failure), or another negative errno
 * for I/O failures. Never blocks on a FIFO or a device. The key file that
 * [Auth] KeyFile= names is read too: its errors are "file:line: reason",
 * and a source whose key= is not in it is an error of the source's line. */
int config_load(const char *explicit_path, Config *ret);

typedef enum ConfigLoadFlags {
        CONFIG_LOAD_KEYS = 1 << 0,      /* read the key file too (tempusd does) */
} ConfigLoadFlags;

/* config_load() with a choice: without CONFIG_LOAD_KEYS the key file is
 * neither read nor checked against key=, which is what a reader of the
 * settings alone (tempusctl, as a user who may not read the keys) wants. */
int config_load_flags(const char *explicit_path, ConfigLoadFlags flags, Config *ret);

/* Prints the merged configuration as INI, each value followed by a comment
 * naming the file (and line) it came from. config_load() must have been
 * called on c. */
int config_dump(const Config *c, FILE *f);
