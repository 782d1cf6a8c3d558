/* Tests for the Manager's sources (src/daemon/manager-sources.c) on a real
 * event loop: a pool member on loopback that never answers is replaced from
 * inside its own poll callback, its address backs off before it is tried
 * again, and the limit on sources holds. The silent member is a socket the
 * test binds and reads, so every request tempusd sends is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <math.h>
#include <stdio.h>
#include <sys/socket.h>

#include "daemon/manager-sources.h"
#include "daemon/manager.h"
#include "daemon/peer.h"
#include "shared/log.h"
#include "test-util.h"

/* Poll every 1/64 s, so a member is given up within a fraction of a second. */
#define FAST_POLL (-6)
#define RUN_LIMIT_USEC (5 * USEC_PER_SEC)

typedef struct Fixture {
        Manager *manager;
        int silent_fd;          /* the pool member that never answers */
        uint16_t silent_port;
        unsigned requests;      /* datagrams it received */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        Config c;

        assert_non_null(f);
        config_init_defaults(&c);
        c.control = false;      /* never the real clock */
        c.port = 0;
        assert_int_equal(manager_new(NULL, &c, &f->manager), 0);
        struct sockaddr_in a;
        f->silent_fd = loopback_udp_socket(&a);
        f->silent_port = ntohs(a.sin_port);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        manager_free(f->manager);
        safe_close(f->silent_fd);
        free(f);
        return 0;
}

static SourceSpec member_spec(const Fixture *f, SourceKind kind, const char *host) {
        return (SourceSpec) { .kind = kind, .host = (char *) host, .port = f->silent_port,
                              .minpoll = FAST_POLL, .maxpoll = FAST_POLL,
                              .maxsources = kind == SOURCE_KIND_POOL ? 1 : 0 };
}

static void count_requests(Fixture *f) {
        uint8_t buf[128];
        while (recv(f->silent_fd, buf, sizeof buf, 0) >= 0)
                f->requests++;
}

static usec_t now_usec(const Fixture *f) {
        uint64_t t = 0;
        assert_true(sd_event_now(f->manager->event, CLOCK_MONOTONIC, &t) >= 0);
        return t;
}

static unsigned first_source_id(const Manager *m) {
        return m->n_peers > 0 ? m->peers[0]->source->id : 0;
}

/* Runs the loop until the first source's id is no longer `id` (0: until
 * there is a source), counting the member's requests; fails after
 * RUN_LIMIT_USEC. */
static void run_until_first_source_changes(Fixture *f, unsigned id) {
        usec_t deadline = now_usec(f) + RUN_LIMIT_USEC;

        while (first_source_id(f->manager) == id) {
                assert_true(sd_event_run(f->manager->event, 10000) >= 0);
                count_requests(f);
                assert_true(now_usec(f) < deadline);
        }
}

static void run_for(Fixture *f, usec_t usec) {
        usec_t end = now_usec(f) + usec;

        while (now_usec(f) < end) {
                assert_true(sd_event_run(f->manager->event, 5000) >= 0);
                count_requests(f);
        }
}

static void a_silent_pool_member_is_replaced_from_its_own_poll(void **state) {
        Fixture *f = *state;
        SourceSpec spec = member_spec(f, SOURCE_KIND_POOL, "127.0.0.1");

        assert_int_equal(manager_add_source_spec(f->manager, &spec), 0);
        run_until_first_source_changes(f, 0);
        unsigned id = first_source_id(f->manager);
        f->requests = 0;

        /* The poll that finds the register empty for the last time drops
         * the member: the callback must not touch it afterwards. */
        run_until_first_source_changes(f, id);
        assert_int_equal(f->requests, SOURCE_GROUP_REPLACE_POLLS);
        /* The name gives nothing new, so the pool stays empty for now (its
         * back-off is 8 polls, 125 ms). */
        run_for(f, 50 * 1000);
        assert_int_equal(f->manager->n_peers, 0);
        assert_int_equal(f->requests, SOURCE_GROUP_REPLACE_POLLS);
}

static void a_dropped_member_is_tried_again_only_after_its_back_off(void **state) {
        Fixture *f = *state;
        SourceSpec spec = member_spec(f, SOURCE_KIND_POOL, "127.0.0.1");
        double poll = ldexp(1.0, FAST_POLL);
        usec_t dropped[2], readded[2];

        assert_int_equal(manager_add_source_spec(f->manager, &spec), 0);
        run_until_first_source_changes(f, 0);
        for (int round = 0; round < 2; round++) {
                run_until_first_source_changes(f, first_source_id(f->manager));
                dropped[round] = now_usec(f);
                unsigned requests = f->requests;
                run_until_first_source_changes(f, 0);
                readded[round] = now_usec(f);
                assert_int_equal(f->requests, requests);        /* nothing sent while backing off */
        }
        /* The first back-off is the time the member was given, in polls;
         * each further drop doubles it. */
        usec_t first = (usec_t) (SOURCE_GROUP_REPLACE_POLLS * poll * USEC_PER_SEC);
        assert_true(readded[0] - dropped[0] >= first);
        assert_true(readded[1] - dropped[1] >= 2 * first);
        assert_true(readded[0] - dropped[0] < first + USEC_PER_SEC);
}

static void a_member_in_use_is_not_added_twice(void **state) {
        Fixture *f = *state;
        SourceSpec server = member_spec(f, SOURCE_KIND_SERVER, "127.0.0.1");
        SourceSpec pool = member_spec(f, SOURCE_KIND_POOL, "localhost");

        pool.maxsources = 4;
        assert_int_equal(manager_add_source_spec(f->manager, &server), 0);
        assert_int_equal(manager_add_source_spec(f->manager, &pool), 0);
        usec_t deadline = now_usec(f) + RUN_LIMIT_USEC;
        while (now_usec(f) < deadline && f->manager->n_groups > 1 && f->manager->groups[1]->query)
                assert_true(sd_event_run(f->manager->event, 10000) >= 0);
        /* localhost resolves to 127.0.0.1 (and maybe ::1): the IPv4
         * address is the server's already. */
        size_t v4 = 0;
        for (size_t i = 0; i < f->manager->n_peers; i++)
                v4 += f->manager->peers[i]->source->address.ss_family == AF_INET;
        assert_int_equal(v4, 1);
}

static void a_second_line_for_a_host_is_refused(void **state) {
        Fixture *f = *state;
        SourceSpec server = member_spec(f, SOURCE_KIND_SERVER, "127.0.0.1");
        SourceSpec pool = member_spec(f, SOURCE_KIND_POOL, "127.0.0.1");

        assert_int_equal(manager_add_source_spec(f->manager, &server), 0);
        assert_int_equal(manager_add_source_spec(f->manager, &pool), -EEXIST);
        assert_int_equal(f->manager->n_groups, 1);
}

static void lines_beyond_the_source_limit_are_refused(void **state) {
        Fixture *f = *state;
        SourceSpec pool = member_spec(f, SOURCE_KIND_POOL, NULL);
        char host[32];

        /* Pools of 16 fill the limit exactly; each counts as its maxsources.
         * (Numeric hosts: nothing is looked up.) */
        pool.maxsources = 16;
        for (unsigned i = 0; i < MANAGER_MAX_SOURCES / 16; i++) {
                snprintf(host, sizeof host, "127.0.2.%u", i);
                pool.host = host;
                assert_int_equal(manager_add_source_spec(f->manager, &pool), 0);
        }
        assert_int_equal(f->manager->source_slots, MANAGER_MAX_SOURCES);
        SourceSpec server = member_spec(f, SOURCE_KIND_SERVER, "127.0.0.1");
        assert_int_equal(manager_add_source_spec(f->manager, &server), -ENOSPC);
        /* Removing a line gives its share back. */
        assert_int_equal(manager_remove_source_by_name(f->manager, "127.0.2.0"), 0);
        assert_int_equal(manager_add_source_spec(f->manager, &server), 0);
        assert_int_equal(f->manager->source_slots, MANAGER_MAX_SOURCES - 16 + 1);
}

static void sources_are_found_by_id(void **state) {
        Fixture *f = *state;
        char host[32];

        for (unsigned i = 1; i <= 40; i++) {
                snprintf(host, sizeof host, "127.0.1.%u", i);
                SourceSpec server = member_spec(f, SOURCE_KIND_SERVER, host);
                assert_int_equal(manager_add_source_spec(f->manager, &server), 0);
        }
        while (f->manager->n_peers < 40)
                assert_true(sd_event_run(f->manager->event, 10000) >= 0);
        unsigned removed = f->manager->peers[6]->source->id;
        assert_int_equal(manager_remove_source_by_name(f->manager, f->manager->peers[6]->source->address_string), 0);
        for (size_t i = 0; i < f->manager->n_peers; i++) {
                Peer *p = f->manager->peers[i];
                assert_ptr_equal(manager_find_peer_by_id(f->manager, p->source->id), p);
        }
        assert_null(manager_find_peer_by_id(f->manager, removed));
        assert_null(manager_find_peer_by_id(f->manager, 1000));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(a_silent_pool_member_is_replaced_from_its_own_poll, setup, teardown),
                cmocka_unit_test_setup_teardown(a_dropped_member_is_tried_again_only_after_its_back_off, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_member_in_use_is_not_added_twice, setup, teardown),
                cmocka_unit_test_setup_teardown(a_second_line_for_a_host_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(lines_beyond_the_source_limit_are_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(sources_are_found_by_id, setup, teardown),
        };
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
