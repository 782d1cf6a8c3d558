/* The little HTTP that `tempusctl metrics --http` speaks: one request read
 * from a connection that tempus-metrics.socket accepted, one response, then
 * the connection closes. Pure: parses a request head held in a buffer,
 * picks the status and the metrics format, and writes a response head. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/ctl-metrics.h"

/* A request head larger than this is refused. */
#define CTL_HTTP_MAX_HEAD 8192

typedef struct CtlHttpRequest {
        char method[16];
        char path[256];                 /* without the query string */
        CtlMetricsFormat format;        /* from Accept: OpenMetrics when asked for */
} CtlHttpRequest;

/* Returns the length of the request head in buf (up to and including the
 * blank line that ends it), or 0 when it is not complete yet. */
size_t ctl_http_head_length(const char *buf, size_t len);

/* Parses a complete request head. Returns 0, or -EINVAL for a malformed
 * request line, header or target (answered with 400). */
int ctl_http_parse_request(const char *head, size_t len, CtlHttpRequest *ret);

/* The format an Accept header asks for: OpenMetrics when it ranks
 * application/openmetrics-text above zero and at least as high as
 * text/plain, the 0.0.4 text format otherwise (no header included). */
CtlMetricsFormat ctl_http_negotiate(const char *accept);

/* 200 for GET or HEAD of /metrics, 405 for another method, 404 for
 * another path. */
int ctl_http_route(const CtlHttpRequest *r);

/* "HTTP/1.1 STATUS REASON" and the headers: Content-Type, Content-Length,
 * Connection: close, and Allow for 405. */
void ctl_http_write_head(FILE *f, int status, const char *content_type, size_t length);
