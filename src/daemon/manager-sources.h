/* Configured sources: each Server= or Pool= line is a SourceGroup that
 * resolves its host name (without blocking the event loop) into one source
 * (Server=) or up to maxsources sources (Pool=), retries when resolution
 * fails, and replaces pool members that stay unreachable. */
#pragma once

#include "config/config.h"
#include "shared/macro.h"

typedef struct Manager Manager;
typedef struct ResolveQuery ResolveQuery;
typedef struct sd_event_source sd_event_source;

/* A pool member unreachable for this many polls is replaced. */
#define SOURCE_GROUP_REPLACE_POLLS 8
/* Seconds between attempts to resolve a name that did not resolve. */
#define SOURCE_GROUP_RETRY_SECONDS 60

typedef struct SourceGroup {
        Manager *manager;
        SourceSpec spec;
        ResolveQuery *query;
        sd_event_source *retry_timer;
} SourceGroup;

SourceGroup *source_group_free(SourceGroup *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(SourceGroup *, source_group_free);
