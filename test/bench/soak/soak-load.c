/* The soak benchmark's packet load (test/bench/soak/soak.py runs it; not a
 * test): sends RATE datagrams a second for SECONDS to an NTP server on
 * 127.0.0.1 and ::1, a fixed mix of good requests and every kind of
 * malformed one, each from a source address drawn from a pool (127.1.0.1
 * onwards, and BASE6 + 1 onwards, which the caller must have put on lo), so
 * that a rate-limit table of a few thousand clients keeps changing hands;
 * one address of each family floods, to draw drops and Kiss-o'-Death.
 *
 * Every datagram of 48 bytes or more carries a tag in its transmit
 * timestamp (kind and length), so that the replies, which echo it as their
 * origin timestamp, are counted by kind, and a reply larger than its
 * request is noticed. SIGUSR1 prints the running totals; at the end, or
 * on SIGTERM, it prints one line per kind: name, sent, replies, KoD RATE
 * replies.
 * Loopback only: the targets are fixed, and the sources must be local. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DATAGRAM 1100
#define HEADER 48
#define TAG_MAGIC 0xa5u
#define V4_BASE 0x7f010000u             /* 127.1.0.0 */
#define SEND_BATCH 64

typedef enum Kind {
        GOOD,                   /* mode 3, version 4, 48 bytes */
        GOOD_V3,                /* mode 3, version 3 */
        GOOD_EXT,               /* version 4 with a well-formed 16-byte extension field */
        GOOD_MAC,               /* 48 + 20-byte MAC with a key nobody has */
        SYMMETRIC,              /* mode 1 */
        FLOOD,                  /* good requests from one address per family, far over any limit */
        SHORT,                  /* 0 to 47 bytes */
        MODE6,                  /* control queries */
        MODE7,                  /* private (monlist and friends) */
        NOT_REQUEST,            /* mode 0, 2, 4, 5 */
        BAD_VERSION,            /* version 0, 5, 6, 7 */
        BAD_EXTENSION,          /* extension field too short, too long, misaligned, or a ragged tail */
        TOO_LONG,               /* 1028 to 1100 bytes, else good */
        RANDOM,                 /* random bytes, 0 to 1100 of them */
        _KIND_MAX,
} Kind;

static const struct {
        const char *name;
        unsigned weight;        /* share of the datagrams, in parts of the sum */
} kinds[_KIND_MAX] = {
        [GOOD] = { "good", 28 },
        [GOOD_V3] = { "good-v3", 4 },
        [GOOD_EXT] = { "good-extension", 4 },
        [GOOD_MAC] = { "good-mac", 3 },
        [SYMMETRIC] = { "symmetric", 3 },
        [FLOOD] = { "flood", 10 },
        [SHORT] = { "short", 5 },
        [MODE6] = { "mode6", 4 },
        [MODE7] = { "mode7", 4 },
        [NOT_REQUEST] = { "other-modes", 4 },
        [BAD_VERSION] = { "bad-version", 5 },
        [BAD_EXTENSION] = { "bad-extension", 8 },
        [TOO_LONG] = { "too-long", 3 },
        [RANDOM] = { "random", 15 },
};

typedef struct Counts {
        uint64_t sent[_KIND_MAX], replies[_KIND_MAX], kods[_KIND_MAX];
        uint64_t send_errors, unmatched, larger;
} Counts;

typedef struct Load {
        int fd4, fd6;
        struct sockaddr_in to4;
        struct sockaddr_in6 to6;
        unsigned n4, n6;                /* pool sizes, the flooder not counted */
        struct in6_addr base6;          /* a /96: pool member i is base6 + i */
        uint64_t rng, counter;
        Counts c;
} Load;

static volatile sig_atomic_t report_requested, stop_requested;

static void on_usr1(int sig) {
        (void) sig;
        report_requested = 1;
}

static void on_term(int sig) {
        (void) sig;
        stop_requested = 1;
}

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible from the seed, good enough for traffic. */
static uint64_t next_random(Load *l) {
        l->rng ^= l->rng >> 12;
        l->rng ^= l->rng << 25;
        l->rng ^= l->rng >> 27;
        return l->rng * 0x2545f4914f6cdd1dull;
}

static unsigned below(Load *l, unsigned n) {
        return (unsigned) (next_random(l) % n);
}

static Kind pick_kind(Load *l) {
        unsigned total = 0;
        for (Kind k = 0; k < _KIND_MAX; k++)
                total += kinds[k].weight;
        unsigned r = below(l, total);
        for (Kind k = 0; k < _KIND_MAX; k++) {
                if (r < kinds[k].weight)
                        return k;
                r -= kinds[k].weight;
        }
        return GOOD;
}

static void put_be16(uint8_t *p, unsigned v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void fill_random(Load *l, uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) next_random(l);
}

/* A request header: leap 0, the version and mode, poll 6. */
static size_t header(uint8_t *p, unsigned version, unsigned mode) {
        memset(p, 0, HEADER);
        p[0] = (uint8_t) (version << 3 | mode);
        p[2] = 6;
        return HEADER;
}

/* A chain of extension fields that the parser must refuse. No trailer is
 * 4, 20 or 24 bytes long: those lengths are taken for a MAC. */
static size_t bad_extension(Load *l, uint8_t *p) {
        size_t n = header(p, 4, 3);
        memset(p + n, 0, 64);
        switch (below(l, 4)) {
        case 0:                         /* a field length under the 16-byte minimum */
                put_be16(p + n + 2, 4 * below(l, 4));
                return n + 16;
        case 1:                         /* a field that runs past the datagram */
                put_be16(p + n + 2, 32 + 4 * below(l, 64));
                return n + 28;
        case 2:                         /* a length that is not a multiple of 4 */
                put_be16(p + n + 2, 17 + 4 * below(l, 4));
                return n + 32;
        default:                        /* a good field of 16 or 20 bytes, then a tail too short for another */
                put_be16(p + n + 2, 16 + 4 * below(l, 2));
                return n + 28;
        }
}

/* Builds one datagram of the given kind into p; returns its length. */
static size_t build(Load *l, Kind k, uint8_t *p) {
        static const unsigned other_modes[] = { 0, 2, 4, 5 };
        static const unsigned bad_versions[] = { 0, 5, 6, 7 };
        size_t n;

        switch (k) {
        case GOOD_V3:
                return header(p, 3, 3);
        case GOOD_EXT:
                n = header(p, 4, 3);
                memset(p + n, 0, 16);
                put_be16(p + n, 0x0104);
                put_be16(p + n + 2, 16);
                return n + 16;
        case GOOD_MAC:
                n = header(p, 4, 3);
                fill_random(l, p + n, 20);
                return n + 20;
        case SYMMETRIC:
                return header(p, 4, 1);
        case SHORT:
                n = below(l, HEADER);
                fill_random(l, p, n);
                if (n > 0)
                        p[0] = 0x23;
                return n;
        case MODE6:
        case MODE7:
                n = header(p, 2 + below(l, 3), k == MODE6 ? 6 : 7);
                p[1] = (uint8_t) below(l, 43);  /* request codes, monlist (42) among them */
                return 12 + 4 * below(l, 10);
        case NOT_REQUEST:
                return header(p, 4, other_modes[below(l, 4)]);
        case BAD_VERSION:
                return header(p, bad_versions[below(l, 4)], 3);
        case BAD_EXTENSION:
                return bad_extension(l, p);
        case TOO_LONG:
                n = 1028 + 4 * below(l, 19);
                memset(p + HEADER, 0, n - HEADER);
                header(p, 4, 3);
                return n;
        case RANDOM:
                n = below(l, MAX_DATAGRAM + 1);
                fill_random(l, p, n);
                return n;
        default:
                return header(p, 4, 3);
        }
}

/* The transmit timestamp of a datagram: magic, kind, length, counter. */
static void tag(uint8_t *p, size_t n, Kind k, uint32_t counter) {
        if (n < HEADER)
                return;
        uint64_t t = (uint64_t) TAG_MAGIC << 56 | (uint64_t) k << 48 | (uint64_t) n << 32 | counter;
        for (int i = 0; i < 8; i++)
                p[40 + i] = (uint8_t) (t >> (56 - 8 * i));
}

/* The source address of pool member index (0: the flooder) as a control
 * message, so that one socket per family speaks for the whole pool. */
static void set_source(const Load *l, bool v6, uint32_t index, struct msghdr *m, char *buf) {
        struct cmsghdr *c = (struct cmsghdr *) buf;

        m->msg_control = buf;
        if (v6) {
                struct in6_pktinfo pi = { .ipi6_addr = l->base6 };
                uint32_t be = htonl(index);
                memcpy(pi.ipi6_addr.s6_addr + 12, &be, sizeof be);
                *c = (struct cmsghdr) { .cmsg_len = CMSG_LEN(sizeof pi), .cmsg_level = IPPROTO_IPV6,
                                        .cmsg_type = IPV6_PKTINFO };
                memcpy(CMSG_DATA(c), &pi, sizeof pi);
                m->msg_controllen = CMSG_SPACE(sizeof pi);
        } else {
                struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(V4_BASE + index) };
                *c = (struct cmsghdr) { .cmsg_len = CMSG_LEN(sizeof pi), .cmsg_level = IPPROTO_IP,
                                        .cmsg_type = IP_PKTINFO };
                memcpy(CMSG_DATA(c), &pi, sizeof pi);
                m->msg_controllen = CMSG_SPACE(sizeof pi);
        }
}

/* One datagram of a drawn kind, from a pool address of a family drawn in
 * proportion to the pools. */
static void send_one(Load *l) {
        static uint8_t p[MAX_DATAGRAM];
        union {
                char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
                struct cmsghdr align;
        } control;
        Kind k = pick_kind(l);
        size_t n = build(l, k, p);
        bool v6 = below(l, l->n4 + l->n6) >= l->n4;
        uint32_t index = k == FLOOD ? 0 : 1 + below(l, v6 ? l->n6 : l->n4);
        struct iovec iov = { p, n };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

        tag(p, n, k, (uint32_t) ++l->counter);
        memset(&control, 0, sizeof control);
        set_source(l, v6, index, &m, control.buf);
        if (v6) {
                m.msg_name = &l->to6;
                m.msg_namelen = sizeof l->to6;
        } else {
                m.msg_name = &l->to4;
                m.msg_namelen = sizeof l->to4;
        }
        l->c.sent[k]++;
        if (sendmsg(v6 ? l->fd6 : l->fd4, &m, MSG_DONTWAIT) < 0)
                l->c.send_errors++;
}

static uint64_t be64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

/* Counts one reply by the kind its origin timestamp names. */
static void count_reply(Load *l, const uint8_t *p, size_t n) {
        uint64_t origin = n >= HEADER ? be64(p + 24) : 0;
        unsigned kind = (unsigned) (origin >> 48) & 0xff;
        size_t request_len = (size_t) (origin >> 32) & 0xffff;

        if (origin >> 56 != TAG_MAGIC || kind >= _KIND_MAX) {
                l->c.unmatched++;
                return;
        }
        l->c.replies[kind]++;
        if (p[1] == 0 && memcmp(p + 12, "RATE", 4) == 0)
                l->c.kods[kind]++;
        if (n > request_len)
                l->c.larger++;
}

static void drain(Load *l, int fd) {
        uint8_t p[2048];
        ssize_t n;

        while ((n = recv(fd, p, sizeof p, MSG_DONTWAIT)) >= 0)
                count_reply(l, p, (size_t) n);
}

static uint64_t sum(const uint64_t v[static _KIND_MAX]) {
        uint64_t s = 0;
        for (Kind k = 0; k < _KIND_MAX; k++)
                s += v[k];
        return s;
}

static void print_running(const Load *l, double elapsed) {
        printf("at %.0f s: sent %llu replies %llu kod %llu\n", elapsed, (unsigned long long) sum(l->c.sent),
               (unsigned long long) sum(l->c.replies), (unsigned long long) sum(l->c.kods));
        fflush(stdout);
}

static void print_totals(const Load *l) {
        for (Kind k = 0; k < _KIND_MAX; k++)
                printf("kind %s %llu %llu %llu\n", kinds[k].name, (unsigned long long) l->c.sent[k],
                       (unsigned long long) l->c.replies[k], (unsigned long long) l->c.kods[k]);
        printf("total %llu %llu %llu\n", (unsigned long long) sum(l->c.sent),
               (unsigned long long) sum(l->c.replies), (unsigned long long) sum(l->c.kods));
        printf("send-errors %llu\nunmatched %llu\nlarger-than-request %llu\n",
               (unsigned long long) l->c.send_errors, (unsigned long long) l->c.unmatched,
               (unsigned long long) l->c.larger);
}

static int open_socket(int family) {
        int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int size = 4 << 20, on = 1;

        if (fd < 0)
                return -1;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (family == AF_INET6)
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        return fd;
}

/* Sends at rate datagrams a second until end, reading replies between. */
static void run(Load *l, double seconds, double rate) {
        struct pollfd fds[2] = { { .fd = l->fd4, .events = POLLIN }, { .fd = l->fd6, .events = POLLIN } };
        double start = now_seconds(), t;
        uint64_t attempted = 0;

        while ((t = now_seconds()) < start + seconds && !stop_requested) {
                uint64_t due = (uint64_t) ((t - start) * rate);
                for (unsigned i = 0; attempted < due && i < SEND_BATCH; i++, attempted++)
                        send_one(l);
                drain(l, l->fd4);
                drain(l, l->fd6);
                if (report_requested) {
                        report_requested = 0;
                        print_running(l, t - start);
                }
                if (attempted >= due)
                        (void) poll(fds, 2, 1);
        }
        /* The last replies. */
        for (double stop = now_seconds() + 1; now_seconds() < stop;) {
                (void) poll(fds, 2, 100);
                drain(l, l->fd4);
                drain(l, l->fd6);
        }
}

int main(int argc, char *argv[]) {
        Load l = { .fd4 = -1, .fd6 = -1 };

        if (argc != 8) {
                fprintf(stderr, "usage: %s PORT SECONDS RATE N4 BASE6 N6 SEED\n", argv[0]);
                return EXIT_FAILURE;
        }
        uint16_t port = (uint16_t) atoi(argv[1]);
        double seconds = atof(argv[2]), rate = atof(argv[3]);
        l.n4 = (unsigned) atoi(argv[4]);
        l.n6 = (unsigned) atoi(argv[6]);
        l.rng = strtoull(argv[7], NULL, 0) | 1;
        /* Sources: 127.1.0.0/16 and the documentation prefix only. */
        if (inet_pton(AF_INET6, argv[5], &l.base6) != 1 || l.base6.s6_addr[0] != 0x20 ||
            l.base6.s6_addr[1] != 0x01 || l.base6.s6_addr[2] != 0x0d || l.base6.s6_addr[3] != 0xb8 ||
            memcmp(l.base6.s6_addr + 12, "\0\0\0\0", 4) != 0) {
                fprintf(stderr, "%s: not a /96 under 2001:db8::/32\n", argv[5]);
                return EXIT_FAILURE;
        }
        if (port == 0 || rate <= 0 || l.n4 < 1 || l.n4 > 65535 || l.n6 > 65535) {
                fprintf(stderr, "bad arguments: PORT > 0, RATE > 0, 1 <= N4 <= 65535, N6 <= 65535\n");
                return EXIT_FAILURE;
        }
        l.to4 = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        l.to6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port),
                                        .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        l.fd4 = open_socket(AF_INET);
        l.fd6 = open_socket(AF_INET6);
        if (l.fd4 < 0 || l.fd6 < 0) {
                perror("socket");
                return EXIT_FAILURE;
        }
        signal(SIGUSR1, on_usr1);
        signal(SIGTERM, on_term);
        run(&l, seconds, rate);
        print_totals(&l);
        return EXIT_SUCCESS;
}
