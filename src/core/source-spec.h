/* One Server= or Pool= line, as the engine needs it: the host and the
 * options chrony's "server" and "pool" directives take. The configuration
 * and the D-Bus AddSource() call both produce it with source_spec_parse();
 * the engine and its sources keep their own copies. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum SourceKind {
        SOURCE_KIND_SERVER,
        SOURCE_KIND_POOL,
        SOURCE_KIND_PEER,       /* symmetric active (chrony's peer) */
} SourceKind;

#define SOURCE_DEFAULT_MINPOLL 6
#define SOURCE_DEFAULT_MAXPOLL 10
#define SOURCE_MIN_POLL (-7)
#define SOURCE_MAX_POLL 24
#define POOL_DEFAULT_MAXSOURCES 4
#define SOURCE_DEFAULT_NTS_PORT 4460

typedef struct SourceSpec {
        SourceKind kind;
        char *host;
        uint16_t port;          /* default 123 */
        bool iburst;
        bool prefer;
        bool noselect;
        bool xleave;            /* ask for interleaved mode */
        int minpoll;            /* log2 seconds */
        int maxpoll;
        uint32_t key;           /* 0: no authentication */
        bool nts;               /* NTS (RFC 8915): keys and cookies from NTS-KE */
        uint16_t nts_port;      /* the NTS-KE server's port, default 4460 */
        unsigned maxsources;    /* pools only */
} SourceSpec;

/* Parses one Server=/Pool= value ("host iburst prefer minpoll=4 ..."), as
 * chrony parses its server and pool lines. On -EINVAL, *reason says what is
 * wrong. */
int source_spec_parse(SourceKind kind, const char *value, SourceSpec *ret, const char **reason);
void source_spec_done(SourceSpec *s);
int source_spec_copy(SourceSpec *dst, const SourceSpec *src);
