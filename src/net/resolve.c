/* Asynchronous name resolution (see resolve.h).
 *
 * Ownership: a query is shared by the event loop and, while it runs, the
 * worker thread; each holds a reference and the last one frees it. */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "net/resolve.h"
#include "shared/macro.h"
#include "shared/sockaddr-util.h"

struct ResolveQuery {
        unsigned refs;
        bool cancelled;
        bool completing;        /* the handler is running */
        char *host;
        uint16_t port;
        resolve_handler_t cb;
        void *userdata;
        int pipe[2];
        sd_event_source *source;
        int error;
        char message[128];      /* the resolver's words for error */
        struct sockaddr_storage addrs[RESOLVE_MAX_ADDRESSES];
        size_t n;
};

static void query_unref(ResolveQuery *q) {
        if (__atomic_sub_fetch(&q->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        sd_event_source_disable_unref(q->source);
        safe_close(q->pipe[0]);
        safe_close(q->pipe[1]);
        free(q->host);
        free(q);
}

static void add_address(ResolveQuery *q, const struct sockaddr *a, socklen_t len) {
        if (q->n >= RESOLVE_MAX_ADDRESSES || len < sockaddr_len(a) || sockaddr_len(a) == 0)
                return;
        for (size_t i = 0; i < q->n; i++)
                if (sockaddr_equal((const struct sockaddr *) &q->addrs[i], a))
                        return;
        memset(&q->addrs[q->n], 0, sizeof q->addrs[0]);
        memcpy(&q->addrs[q->n++], a, sockaddr_len(a));
}

static bool resolve_numeric(ResolveQuery *q) {
        struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(q->port) };
        struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(q->port) };

        if (inet_pton(AF_INET, q->host, &a4.sin_addr) == 1)
                add_address(q, (struct sockaddr *) &a4, sizeof a4);
        else if (inet_pton(AF_INET6, q->host, &a6.sin6_addr) == 1)
                add_address(q, (struct sockaddr *) &a6, sizeof a6);
        return q->n > 0;
}

static int gai_to_errno(int e) {
        switch (e) {
        case EAI_NONAME:
        case EAI_NODATA:
                return -ENOENT;
        case EAI_AGAIN:
                return -EAGAIN;
        case EAI_MEMORY:
                return -ENOMEM;
        case EAI_SYSTEM:
                return -errno;
        default:
                return -EIO;
        }
}

/* Keeps getaddrinfo()'s own error, in its own words: "Name or service not
 * known" says more than the errno text it would map to. */
static void set_gai_error(ResolveQuery *q, int e) {
        char buf[64];

        q->error = gai_to_errno(e);
        if (e == EAI_SYSTEM)
                snprintf(q->message, sizeof q->message, "%s: %s", gai_strerror(e),
                         strerror_r(errno, buf, sizeof buf));
        else
                snprintf(q->message, sizeof q->message, "%s", gai_strerror(e));
}

static void *resolve_thread(void *userdata) {
        ResolveQuery *q = userdata;
        struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG }, *res = NULL;
        char port[8];

        snprintf(port, sizeof port, "%u", q->port);
        int e = getaddrinfo(q->host, port, &hints, &res);
        if (e != 0)
                set_gai_error(q, e);
        for (struct addrinfo *a = res; a; a = a->ai_next)
                if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
                        add_address(q, a->ai_addr, a->ai_addrlen);
        if (res)
                freeaddrinfo(res);
        if (e == 0 && q->n == 0) {
                q->error = -EADDRNOTAVAIL;
                snprintf(q->message, sizeof q->message, "no IPv4 or IPv6 address");
        }
        (void) write(q->pipe[1], "", 1);
        query_unref(q);
        return NULL;
}

/* Runs the handler and drops the loop's reference. While the handler runs,
 * resolve_cancel() on this query only marks it: the reference is dropped
 * here, once, so a handler that frees its owner (and with it, the query)
 * leaves nothing dangling. */
static void query_complete(ResolveQuery *q) {
        q->source = sd_event_source_disable_unref(q->source);
        if (!q->cancelled) {
                ResolveResult result = {
                        .error = q->error,
                        .message = q->error != 0 ? q->message : NULL,
                        .addrs = q->addrs,
                        .n = q->n,
                };
                q->completing = true;
                q->cb(&result, q->userdata);
        }
        query_unref(q);
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        query_complete(userdata);
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
        query_complete(userdata);
        return 0;
}

static int start_thread(ResolveQuery *q) {
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        q->refs++;              /* the thread's reference */
        r = pthread_create(&t, &attr, resolve_thread, q);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                q->refs--;
                return -r;
        }
        return 0;
}

int resolve_start(sd_event *e, const char *host, uint16_t port, resolve_handler_t cb, void *userdata,
                  ResolveQuery **ret) {
        ResolveQuery *q = calloc(1, sizeof(ResolveQuery));
        int r;

        if (!q)
                return -ENOMEM;
        *q = (ResolveQuery) { .refs = 1, .port = port, .cb = cb, .userdata = userdata, .pipe = { -EBADF, -EBADF } };
        q->host = strdup(host);
        if (!q->host) {
                query_unref(q);
                return -ENOMEM;
        }
        if (resolve_numeric(q))
                r = sd_event_add_defer(e, &q->source, on_defer, q);
        else if (pipe2(q->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                r = -errno;
        else {
                r = sd_event_add_io(e, &q->source, q->pipe[0], EPOLLIN, on_pipe, q);
                if (r >= 0)
                        r = start_thread(q);
        }
        if (r < 0) {
                query_unref(q);
                return r;
        }
        *ret = q;
        return 0;
}

ResolveQuery *resolve_cancel(ResolveQuery *q) {
        if (!q)
                return NULL;
        q->cancelled = true;
        if (q->completing)
                return NULL;
        q->source = sd_event_source_disable_unref(q->source);
        query_unref(q);
        return NULL;
}
