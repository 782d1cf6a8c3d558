/* Asynchronous name resolution for Server= and Pool= host names, so that
 * the event loop never waits for DNS: getaddrinfo() runs in a worker
 * thread that reports through a pipe watched by sd-event. Numeric
 * addresses complete without a thread. The handler always runs from the
 * event loop, never inside resolve_start(). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#define RESOLVE_MAX_ADDRESSES 16

typedef struct ResolveQuery ResolveQuery;

/* What a lookup found. error is 0 or a negative errno-style code (-ENOENT:
 * no such name, -EAGAIN: temporary failure, -EADDRNOTAVAIL: no IPv4 or IPv6
 * address); message is then the resolver's own words for it (gai_strerror),
 * for logs. addrs are IPv4 and IPv6, with the port set, deduplicated by
 * sockaddr_equal(). All of it lives only while the handler runs. */
typedef struct ResolveResult {
        int error;
        const char *message;
        const struct sockaddr_storage *addrs;
        size_t n;
} ResolveResult;

/* Runs from the event loop once the lookup is done. The query is freed
 * after the handler returns: the owner forgets its pointer in the handler
 * (calling resolve_cancel() on it there is harmless). */
typedef void (*resolve_handler_t)(const ResolveResult *result, void *userdata);

int resolve_start(sd_event *e, const char *host, uint16_t port, resolve_handler_t cb, void *userdata,
                  ResolveQuery **ret);
/* Stops a query: its handler will not run. Accepts NULL; returns NULL. */
ResolveQuery *resolve_cancel(ResolveQuery *q);
