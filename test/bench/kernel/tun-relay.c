/* tun-relay: a delayed, jittery, lossy path between two network namespaces,
 * for a kernel without sch_netem. It creates one TUN device in its own
 * namespace ("near", where the clients run) and one in the namespace given
 * with --netns ("far", the server's), and copies every IP packet from one
 * to the other after holding it for a delay drawn from a normal
 * distribution (redrawn while negative), independently each way; --loss
 * drops that fraction of packets each way.
 *
 * Each address on the near side draws from a generator of its own, one per
 * direction, and every one starts from the same seed: two clients on two
 * addresses get the same draws, their n-th request the same hold and the
 * same fate as each other's n-th, and so do their n-th replies. A
 * comparison of the two then measures the clients, not their luck with
 * the path (common random numbers). Packets that are not IPv4 draw from a
 * generator of their own.
 *
 * Every packet is logged (--log) with its intended and achieved hold time
 * and its near-side address, so the path itself can be checked; a summary
 * per direction goes to stderr when the relay ends (SIGTERM or SIGINT). It
 * prints "ready" on stdout once both devices exist; addresses and routes
 * are the caller's.
 *
 * --server-offset S and --server-drift PPM make the far side's clock look
 * wrong: in NTP replies coming back (UDP from port 123) the reference,
 * receive and transmit timestamps are moved forward by S + PPM * 1e-6 * t,
 * t being the seconds since the relay started, so the near side's true
 * offset is known. The UDP checksum of such a packet is cleared (allowed
 * over IPv4).
 *
 * A packet's hold runs from when it left its sender's side, not from when
 * the relay read it. A packet socket on each device sees every packet the
 * kernel sends into it, with the kernel's timestamp (as the benchmark's
 * referee on the wire does, kernel_wire.py), and the relay holds each
 * packet it reads until that time plus its draw. Reading it takes a
 * sender-dependent while: on a kernel without preemption the relay, woken
 * by the send, runs only once the sender's system call has returned, and
 * one client's requests were read a median 10 to 36 us later than the
 * other's, which held them that much longer on the request leg. A packet
 * read later than its hold is released at once (late); one the packet
 * socket missed is held from its reading (counted: "not seen on the
 * wire").
 *
 * Held packets wait in a heap ordered by release time; the relay sleeps in
 * ppoll() until shortly before the next release (timer slack set to 1 ns)
 * and spins the last SPIN_NS. It asks for SCHED_FIFO (and goes on without
 * it), so that other work on the machine delays its wake-ups less; the
 * achieved hold is taken just before the packet is written on. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 2048
#define MAX_HELD 4096
#define SPIN_NS 60000
#define NTP_PORT 123
/* Packets seen on the wire and not yet read from the device, per direction. */
#define MAX_SEEN 64

enum { OUT, BACK, N_DIRS };     /* near -> far, far -> near */
static const char *const dir_names[N_DIRS] = { "out", "back" };

typedef struct Delay {
        double mean, sd;        /* seconds */
} Delay;

typedef struct Held {
        uint64_t due, sent;     /* CLOCK_MONOTONIC, ns; sent: left its sender */
        double intended;        /* seconds */
        int dir;
        char near[16];          /* near-side IPv4 address, or "-" */
        size_t len;
        uint8_t data[MAX_PACKET];
} Held;

/* A packet as the packet socket saw it leave its sender's side. */
typedef struct Seen {
        uint64_t sent;          /* CLOCK_MONOTONIC, ns */
        size_t len;
        uint8_t data[MAX_PACKET];
} Seen;

typedef struct Stats {
        unsigned long packets, dropped, released, late_50us, unmatched;
        double sum_intended, sum2_intended, sum_achieved, sum2_achieved, sum_late, max_late, min_late;
} Stats;

/* The draws of one near-side address, one generator per direction. */
#define MAX_STREAMS 16
typedef struct Stream {
        uint32_t address;       /* network order */
        uint64_t rng[N_DIRS];
} Stream;

typedef struct Relay {
        int fd[N_DIRS];         /* read side of each direction: OUT reads near */
        int wire[N_DIRS];       /* packet socket on that device */
        Seen *seen[N_DIRS][MAX_SEEN];
        size_t n_seen[N_DIRS];
        Delay delay[N_DIRS];
        double loss;
        double server_offset, server_drift_ppm;
        uint64_t seed;
        uint64_t rng;           /* packets that are not IPv4 */
        Stream streams[MAX_STREAMS];
        size_t n_streams;
        uint64_t start_mono;
        struct timespec start_real;
        FILE *log;
        Held *heap[MAX_HELD];
        size_t n_held;
        Stats stats[N_DIRS];
} Relay;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void) sig;
        stop_requested = 1;
}

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void *must_malloc(size_t size) {
        void *p = malloc(size);
        if (!p) {
                perror("malloc");
                exit(1);
        }
        return p;
}

static double uniform(uint64_t *rng) {
        /* xorshift64* */
        *rng ^= *rng >> 12;
        *rng ^= *rng << 25;
        *rng ^= *rng >> 27;
        return (double) ((*rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static double normal(uint64_t *rng) {
        /* Box-Muller; 1 - u keeps the logarithm finite. */
        double u = 1.0 - uniform(rng), v = uniform(rng);
        return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static double draw_delay(uint64_t *rng, const Delay *d) {
        for (int i = 0; i < 1000; i++) {
                double x = d->mean + d->sd * normal(rng);
                if (x >= 0)
                        return x;
        }
        return 0;
}

/* A generator's first state from the seed and a stream number (never 0). */
static uint64_t seeded(uint64_t seed, uint64_t stream) {
        uint64_t x = (seed + stream) * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
        return x ? x : 1;
}

/* The generator for a packet: its near-side address's, in its direction.
 * Every address's generators start alike (see the top of the file). Notes
 * the address in h->near for the log. */
static uint64_t *generator_for(Relay *r, Held *h) {
        const uint8_t *ip = h->data;
        int dir = h->dir;

        strcpy(h->near, "-");
        if (h->len < 20 || (ip[0] >> 4) != 4)
                return &r->rng;
        uint32_t address;
        memcpy(&address, ip + (dir == OUT ? 12 : 16), sizeof address);
        inet_ntop(AF_INET, &address, h->near, sizeof h->near);
        for (size_t i = 0; i < r->n_streams; i++)
                if (r->streams[i].address == address)
                        return &r->streams[i].rng[dir];
        if (r->n_streams == MAX_STREAMS)
                return &r->rng;
        Stream *st = &r->streams[r->n_streams++];
        st->address = address;
        for (int d = 0; d < N_DIRS; d++)
                st->rng[d] = seeded(r->seed, 1 + (uint64_t) d);
        return &st->rng[dir];
}

/* ---- the heap of held packets, earliest release first ---- */

static bool heap_before(const Held *a, const Held *b) {
        return a->due < b->due;
}

static void heap_swap(Relay *r, size_t i, size_t j) {
        Held *t = r->heap[i];
        r->heap[i] = r->heap[j];
        r->heap[j] = t;
}

static void heap_push(Relay *r, Held *h) {
        size_t i = r->n_held++;
        r->heap[i] = h;
        while (i > 0 && heap_before(r->heap[i], r->heap[(i - 1) / 2])) {
                heap_swap(r, i, (i - 1) / 2);
                i = (i - 1) / 2;
        }
}

static Held *heap_pop(Relay *r) {
        Held *top = r->heap[0];
        r->heap[0] = r->heap[--r->n_held];
        for (size_t i = 0;;) {
                size_t l = 2 * i + 1, m = i;
                if (l < r->n_held && heap_before(r->heap[l], r->heap[m]))
                        m = l;
                if (l + 1 < r->n_held && heap_before(r->heap[l + 1], r->heap[m]))
                        m = l + 1;
                if (m == i)
                        break;
                heap_swap(r, i, m);
                i = m;
        }
        return top;
}

/* ---- the far side's clock ---- */

static void add_to_timestamp(uint8_t *p, int64_t shift) {
        uint64_t t = 0;
        for (int i = 0; i < 8; i++)
                t = t << 8 | p[i];
        if (t == 0)
                return;
        t += (uint64_t) shift;
        for (int i = 7; i >= 0; i--, t >>= 8)
                p[i] = (uint8_t) t;
}

/* Moves the timestamps of an NTP reply by the far clock's error now. */
static void shift_server_timestamps(Relay *r, Held *h) {
        uint8_t *ip = h->data;
        if (r->server_offset == 0 && r->server_drift_ppm == 0)
                return;
        if (h->len < 20 || (ip[0] >> 4) != 4 || ip[9] != 17)
                return;
        size_t ihl = (size_t) (ip[0] & 0xf) * 4;
        uint8_t *udp = ip + ihl, *ntp = udp + 8;
        if (h->len < ihl + 8 + 48 || (udp[0] << 8 | udp[1]) != NTP_PORT)
                return;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double t = (double) (now.tv_sec - r->start_real.tv_sec) + (now.tv_nsec - r->start_real.tv_nsec) * 1e-9;
        double error = r->server_offset + r->server_drift_ppm * 1e-6 * t;
        int64_t shift = (int64_t) llround(error * 4294967296.0);
        add_to_timestamp(ntp + 16, shift);      /* reference */
        add_to_timestamp(ntp + 32, shift);      /* receive */
        add_to_timestamp(ntp + 40, shift);      /* transmit */
        udp[6] = udp[7] = 0;
}

static void log_packet(Relay *r, const Held *h, const char *what, double achieved) {
        if (!r->log)
                return;
        double at = (double) (h->sent - r->start_mono) * 1e-9;
        if (achieved < 0)
                fprintf(r->log, "%.6f %s %zu %.1f %s %s\n", at, dir_names[h->dir], h->len, h->intended * 1e6, what,
                        h->near);
        else
                fprintf(r->log, "%.6f %s %zu %.1f %.1f %s\n", at, dir_names[h->dir], h->len, h->intended * 1e6,
                        achieved * 1e6, h->near);
}

/* ---- when a packet left its sender's side ---- */

static void forget_seen(Relay *r, int dir, size_t count) {
        for (size_t i = 0; i < count; i++)
                free(r->seen[dir][i]);
        memmove(r->seen[dir], r->seen[dir] + count, (r->n_seen[dir] - count) * sizeof(Seen *));
        r->n_seen[dir] -= count;
}

/* The kernel's timestamp of a packet received with msg (CLOCK_REALTIME),
 * as a CLOCK_MONOTONIC time; now if it has none. */
static uint64_t monotonic_stamp(struct msghdr *msg) {
        struct timespec stamp = { 0, 0 }, real;
        uint64_t now = mono_ns();

        clock_gettime(CLOCK_REALTIME, &real);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
                        memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        int64_t age = (int64_t) (real.tv_sec - stamp.tv_sec) * 1000000000 + (real.tv_nsec - stamp.tv_nsec);
        return stamp.tv_sec && age >= 0 ? now - (uint64_t) age : now;
}

/* Takes in what the packet socket of dir has seen the kernel send into
 * the device since last time. */
static void read_wire(Relay *r, int dir) {
        Seen *x = NULL;

        for (;;) {
                if (!x)
                        x = must_malloc(sizeof(Seen));
                char control[CMSG_SPACE(sizeof(struct timespec))];
                struct sockaddr_ll from;
                struct iovec iov = { x->data, sizeof x->data };
                struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                                      .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
                ssize_t n = recvmsg(r->wire[dir], &msg, MSG_DONTWAIT);
                if (n <= 0) {
                        free(x);
                        return;
                }
                if (from.sll_pkttype != PACKET_OUTGOING)
                        continue;       /* the relay's own writes */
                x->sent = monotonic_stamp(&msg);
                x->len = (size_t) n;
                if (r->n_seen[dir] == MAX_SEEN)
                        forget_seen(r, dir, 1);
                r->seen[dir][r->n_seen[dir]++] = x;
                x = NULL;
        }
}

/* When h, just read from the device of dir, left its sender's side: the
 * oldest packet seen on the wire with its bytes (those seen before it were
 * read already, or lost to the relay), or now if none was. */
static uint64_t sent_time(Relay *r, int dir, const Held *h) {
        uint64_t now = mono_ns();

        read_wire(r, dir);
        for (size_t i = 0; i < r->n_seen[dir]; i++) {
                const Seen *x = r->seen[dir][i];
                if (x->len != h->len || memcmp(x->data, h->data, h->len) != 0)
                        continue;
                uint64_t sent = x->sent < now ? x->sent : now;
                forget_seen(r, dir, i + 1);
                return sent;
        }
        r->stats[dir].unmatched++;
        return now;
}

/* ---- moving packets ---- */

static void receive(Relay *r, int dir) {
        for (;;) {
                Held *h = must_malloc(sizeof(Held));
                ssize_t n = read(r->fd[dir], h->data, sizeof h->data);
                if (n <= 0) {
                        free(h);
                        if (n < 0 && errno != EAGAIN && errno != EINTR)
                                perror("read");
                        return;
                }
                h->dir = dir;
                h->len = (size_t) n;
                h->sent = sent_time(r, dir, h);
                uint64_t *rng = generator_for(r, h);
                h->intended = draw_delay(rng, &r->delay[dir]);
                h->due = h->sent + (uint64_t) llround(h->intended * 1e9);
                Stats *s = &r->stats[dir];
                s->packets++;
                if ((r->loss > 0 && uniform(rng) < r->loss) || r->n_held == MAX_HELD) {
                        s->dropped++;
                        log_packet(r, h, "drop", -1);
                        free(h);
                        continue;
                }
                if (dir == BACK)
                        shift_server_timestamps(r, h);
                heap_push(r, h);
        }
}

static void release_due(Relay *r) {
        while (r->n_held > 0 && r->heap[0]->due <= mono_ns()) {
                Held *h = heap_pop(r);
                double achieved = (double) (mono_ns() - h->sent) * 1e-9;
                if (write(r->fd[!h->dir], h->data, h->len) < 0 && errno != EIO)
                        perror("write");
                double late = achieved - h->intended;
                Stats *s = &r->stats[h->dir];
                unsigned long n = ++s->released;
                s->sum_intended += h->intended;
                s->sum2_intended += h->intended * h->intended;
                s->sum_achieved += achieved;
                s->sum2_achieved += achieved * achieved;
                s->sum_late += late;
                s->late_50us += late > 50e-6;
                s->max_late = n == 1 || late > s->max_late ? late : s->max_late;
                s->min_late = n == 1 || late < s->min_late ? late : s->min_late;
                log_packet(r, h, NULL, achieved);
                free(h);
        }
}

static void mean_sd(double sum, double sum2, unsigned long n, double *mean, double *sd) {
        *mean = n ? sum / (double) n : 0;
        *sd = n > 1 ? sqrt(fmax(sum2 / (double) n - *mean * *mean, 0)) : 0;
}

static void print_summary(const Relay *r) {
        for (int d = 0; d < N_DIRS; d++) {
                const Stats *s = &r->stats[d];
                unsigned long n = s->released;
                double im, isd, am, asd;
                mean_sd(s->sum_intended, s->sum2_intended, n, &im, &isd);
                mean_sd(s->sum_achieved, s->sum2_achieved, n, &am, &asd);
                fprintf(stderr,
                        "%s: %lu packets, %lu dropped; hold intended %.1f +- %.1f us, achieved %.1f +- %.1f us; "
                        "achieved - intended: mean %.1f us, min %.1f us, max %.1f us, over 50 us %lu; "
                        "not seen on the wire %lu\n",
                        dir_names[d], s->packets, s->dropped, im * 1e6, isd * 1e6, am * 1e6, asd * 1e6,
                        n ? s->sum_late / (double) n * 1e6 : 0, s->min_late * 1e6, s->max_late * 1e6, s->late_50us,
                        s->unmatched);
        }
}

/* Waits for a packet, or until SPIN_NS before the next release. */
static void wait_for_work(Relay *r, const sigset_t *unblocked) {
        struct pollfd fds[N_DIRS] = { { r->fd[OUT], POLLIN, 0 }, { r->fd[BACK], POLLIN, 0 } };
        struct timespec ts = { 0, 0 }, *timeout = NULL;

        if (r->n_held > 0) {
                uint64_t now = mono_ns(), due = r->heap[0]->due;
                uint64_t wait = due > now + SPIN_NS ? due - now - SPIN_NS : 0;
                ts = (struct timespec) { (time_t) (wait / 1000000000u), (long) (wait % 1000000000u) };
                timeout = &ts;
        }
        int n = ppoll(fds, N_DIRS, timeout, unblocked);
        if (n < 0 && errno != EINTR) {
                perror("ppoll");
                exit(1);
        }
        for (int d = 0; d < N_DIRS; d++)
                if (n > 0 && (fds[d].revents & POLLIN))
                        receive(r, d);
}

static int open_tun(const char *name) {
        struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
                perror("/dev/net/tun");
                exit(1);
        }
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                fprintf(stderr, "TUNSETIFF %s: %s\n", name, strerror(errno));
                exit(1);
        }
        return fd;
}

/* A packet socket that sees what the kernel sends into device fd, with
 * the kernel's timestamps. */
static int open_wire(int fd) {
        struct ifreq ifr = {};
        int one = 1;

        if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
                perror("TUNGETIFF");
                exit(1);
        }
        int s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
        struct sockaddr_ll at = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
        if (s < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0)
                goto fail;
        at.sll_ifindex = ifr.ifr_ifindex;
        if (bind(s, (struct sockaddr *) &at, sizeof at) < 0 ||
            setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
                goto fail;
        return s;
fail:
        fprintf(stderr, "packet socket on %s: %s\n", ifr.ifr_name, strerror(errno));
        exit(1);
}

static void enter_netns(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                fprintf(stderr, "entering %s: %s\n", path, strerror(errno));
                exit(1);
        }
        close(fd);
}

static Delay parse_delay(const char *s) {
        Delay d = { 0, 0 };
        if (sscanf(s, "%lf,%lf", &d.mean, &d.sd) < 1 || d.mean < 0 || d.sd < 0) {
                fprintf(stderr, "bad delay '%s': expected MEAN_US[,SD_US]\n", s);
                exit(2);
        }
        d.mean *= 1e-6;
        d.sd *= 1e-6;
        return d;
}

static void usage(void) {
        fprintf(stderr,
                "usage: tun-relay --netns PATH --out MEAN_US[,SD_US] [--back MEAN_US[,SD_US]]\n"
                "                 [--near NAME] [--far NAME] [--loss FRACTION] [--seed N] [--log FILE]\n"
                "                 [--server-offset SECONDS] [--server-drift PPM]\n");
        exit(2);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "netns", required_argument, NULL, 'n' },   { "near", required_argument, NULL, 'a' },
                { "far", required_argument, NULL, 'b' },     { "out", required_argument, NULL, 'o' },
                { "back", required_argument, NULL, 'r' },    { "loss", required_argument, NULL, 'l' },
                { "seed", required_argument, NULL, 's' },    { "log", required_argument, NULL, 'g' },
                { "server-offset", required_argument, NULL, 'O' },
                { "server-drift", required_argument, NULL, 'D' },
                {},
        };
        const char *netns = NULL, *near = "tnear0", *far = "tfar0", *log_path = NULL;
        bool have_out = false, have_back = false;
        Relay r = { .seed = (uint64_t) time(NULL) };
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'n': netns = optarg; break;
                case 'a': near = optarg; break;
                case 'b': far = optarg; break;
                case 'o': r.delay[OUT] = parse_delay(optarg); have_out = true; break;
                case 'r': r.delay[BACK] = parse_delay(optarg); have_back = true; break;
                case 'l': r.loss = atof(optarg); break;
                case 's': r.seed = strtoull(optarg, NULL, 0); break;
                case 'g': log_path = optarg; break;
                case 'O': r.server_offset = atof(optarg); break;
                case 'D': r.server_drift_ppm = atof(optarg); break;
                default: usage();
                }
        }
        if (!netns || !have_out || optind != argc || r.loss < 0 || r.loss >= 1)
                usage();
        if (!have_back)
                r.delay[BACK] = r.delay[OUT];
        r.rng = seeded(r.seed, 0);
        if (log_path && !(r.log = fopen(log_path, "we"))) {
                perror(log_path);
                return 1;
        }
        if (r.log)
                setvbuf(r.log, NULL, _IOLBF, 0);

        (void) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
        struct sched_param sp = { .sched_priority = 20 };
        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
                fprintf(stderr, "SCHED_FIFO not available (%s): hold times may be less exact\n", strerror(errno));
        sigset_t block, unblocked;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigprocmask(SIG_BLOCK, &block, &unblocked);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);

        r.fd[OUT] = open_tun(near);
        r.wire[OUT] = open_wire(r.fd[OUT]);
        enter_netns(netns);
        r.fd[BACK] = open_tun(far);
        r.wire[BACK] = open_wire(r.fd[BACK]);
        r.start_mono = mono_ns();
        clock_gettime(CLOCK_REALTIME, &r.start_real);
        if (r.log)
                fprintf(r.log, "# time_s dir bytes intended_us achieved_us|drop; out %.1f+-%.1f us, back %.1f+-%.1f us, "
                        "loss %.3f\n", r.delay[OUT].mean * 1e6, r.delay[OUT].sd * 1e6, r.delay[BACK].mean * 1e6,
                        r.delay[BACK].sd * 1e6, r.loss);
        printf("ready\n");
        fflush(stdout);

        while (!stop_requested) {
                release_due(&r);
                wait_for_work(&r, &unblocked);
        }
        print_summary(&r);
        if (r.log)
                fclose(r.log);
        return 0;
}
