/* One way for the unit tests to make a Source: a server polled at 64 s to
 * 1024 s (minpoll 6, maxpoll 10), named name, at IPv4 address on port 123.
 * Include after cmocka.h. */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "core/source.h"

static inline Source *make_source(unsigned id, const char *name, const char *address, bool iburst) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(123) };
        SourceSpec spec = { .kind = SOURCE_KIND_SERVER, .host = (char *) name, .port = 123,
                            .iburst = iburst, .minpoll = 6, .maxpoll = 10 };
        Source *s = NULL;

        assert_int_equal(inet_pton(AF_INET, address, &a.sin_addr), 1);
        assert_int_equal(source_new(id, &spec, name, (struct sockaddr *) &a, sizeof a, &s), 0);
        return s;
}
