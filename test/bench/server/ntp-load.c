/* A closed-loop NTP load generator for the server benchmark: keeps
 * `window` client requests in flight to ADDRESS:PORT from one socket, sends
 * a new request for every reply, and prints the replies per second it got
 * over the run. Uses sendmmsg/recvmmsg so that the generator is not the
 * bottleneck. Loopback only: it refuses any other address. With a
 * REQUEST file (an NTS request from nts-load) as the fifth argument, it
 * sends that request, unchanged, instead of a plain one.
 *
 * With a fifth argument `basic` or `xleave` instead, it plays `window`
 * clients, each from an address of its own (127.0.1.N) with one request in
 * flight, as real clients are: `xleave` ones ask for interleaved mode (a
 * receive-timestamp cookie, and the receive timestamp of their last reply
 * as origin), `basic` ones do not. It then also prints the share of
 * replies that came back interleaved. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PACKET 48
#define MAX_PACKET 1024

static uint8_t payload[MAX_PACKET];
static size_t payload_len;

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill_request(uint8_t *p, uint64_t n) {
        memset(p, 0, PACKET);
        p[0] = 0x23;                    /* LI 0, version 4, mode 3 (client) */
        p[2] = 6;
        memcpy(p + 40, &n, sizeof n);   /* transmit timestamp: a counter */
}

static int send_requests(int fd, unsigned count, uint64_t *sent) {
        static uint8_t bufs[BATCH][MAX_PACKET];
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];

        count = count > BATCH ? BATCH : count;
        memset(msgs, 0, sizeof msgs);
        for (unsigned i = 0; i < count; i++) {
                ++*sent;
                if (payload_len)
                        memcpy(bufs[i], payload, payload_len);
                else
                        fill_request(bufs[i], *sent);
                iov[i] = (struct iovec) { bufs[i], payload_len ? payload_len : PACKET };
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = sendmmsg(fd, msgs, count, 0);
        return n < 0 ? -errno : n;
}

static int receive_replies(int fd) {
        static uint8_t bufs[BATCH][MAX_PACKET];
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];

        memset(msgs, 0, sizeof msgs);
        for (unsigned i = 0; i < BATCH; i++) {
                iov[i] = (struct iovec) { bufs[i], sizeof bufs[i] };
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        return n < 0 ? -errno : n;
}

/* ---- one client per address ---- */

#define MAX_CLIENTS 256

typedef struct Client {
        int fd;
        bool in_flight;
        uint64_t cookie;                /* our transmit timestamp */
        uint64_t rx_cookie;             /* our receive-timestamp cookie */
        uint64_t last_remote_rx;        /* the server's receive timestamp in our last reply */
} Client;

static int client_open(Client *c, unsigned index, const struct sockaddr_in *to) {
        struct sockaddr_in from = { .sin_family = AF_INET,
                                    .sin_addr.s_addr = htonl(0x7f000100u + 1 + index) };

        c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0 || bind(c->fd, (struct sockaddr *) &from, sizeof from) < 0 ||
            connect(c->fd, (const struct sockaddr *) to, sizeof *to) < 0)
                return -errno;
        return 0;
}

static void client_send(Client *c, bool xleave, uint64_t *counter) {
        uint8_t p[PACKET];

        fill_request(p, ++*counter);
        memcpy(&c->cookie, p + 40, 8);
        if (xleave && c->last_remote_rx) {
                c->rx_cookie = ~*counter;
                memcpy(p + 24, &c->last_remote_rx, 8);
                memcpy(p + 32, &c->rx_cookie, 8);
        }
        if (send(c->fd, p, PACKET, 0) == PACKET)
                c->in_flight = true;
}

/* Returns 1 for a reply, 2 for an interleaved one, 0 for nothing. */
static int client_receive(Client *c) {
        uint8_t p[512];
        uint64_t origin;

        ssize_t n = recv(c->fd, p, sizeof p, 0);
        if (n < PACKET)
                return 0;
        c->in_flight = false;
        memcpy(&c->last_remote_rx, p + 32, 8);
        memcpy(&origin, p + 24, 8);
        return origin == c->rx_cookie && origin != c->cookie ? 2 : 1;
}

static int run_clients(const struct sockaddr_in *to, double seconds, unsigned n, bool xleave) {
        static Client clients[MAX_CLIENTS];
        struct pollfd pfd[MAX_CLIENTS];
        uint64_t counter = 0, received = 0, interleaved = 0;

        n = n > MAX_CLIENTS ? MAX_CLIENTS : n;
        for (unsigned i = 0; i < n; i++) {
                if (client_open(&clients[i], i, to) < 0) {
                        perror("client socket");
                        return EXIT_FAILURE;
                }
                pfd[i] = (struct pollfd) { .fd = clients[i].fd, .events = POLLIN };
        }
        double start = now_seconds(), end = start + seconds;
        while (now_seconds() < end) {
                for (unsigned i = 0; i < n; i++)
                        if (!clients[i].in_flight)
                                client_send(&clients[i], xleave, &counter);
                if (poll(pfd, n, 100) == 0)
                        for (unsigned i = 0; i < n; i++)
                                clients[i].in_flight = false;   /* lost: send again */
                for (unsigned i = 0; i < n; i++) {
                        if (!(pfd[i].revents & POLLIN))
                                continue;
                        int k = client_receive(&clients[i]);
                        received += k > 0;
                        interleaved += k == 2;
                }
        }
        double elapsed = now_seconds() - start;
        printf("%.0f replies/s (%llu sent, %llu received in %.1f s, %.1f%% interleaved)\n", received / elapsed,
               (unsigned long long) counter, (unsigned long long) received, elapsed,
               received ? 100.0 * interleaved / received : 0.0);
        return received > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: %s ADDRESS PORT SECONDS WINDOW [REQUEST|basic|xleave]\n", argv[0]);
                return EXIT_FAILURE;
        }
        bool clients = argc == 6 && (strcmp(argv[5], "basic") == 0 || strcmp(argv[5], "xleave") == 0);
        if (argc == 6 && !clients) {
                FILE *f = fopen(argv[5], "rb");
                payload_len = f ? fread(payload, 1, sizeof payload, f) : 0;
                if (f)
                        fclose(f);
                if (payload_len < PACKET) {
                        fprintf(stderr, "%s: no request in it\n", argv[5]);
                        return EXIT_FAILURE;
                }
        }
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2])) };
        if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || (ntohl(to.sin_addr.s_addr) >> 24) != 127) {
                fprintf(stderr, "%s: not a loopback IPv4 address\n", argv[1]);
                return EXIT_FAILURE;
        }
        double seconds = atof(argv[3]);
        unsigned window = (unsigned) atoi(argv[4]);
        if (clients)
                return run_clients(&to, seconds, window, strcmp(argv[5], "xleave") == 0);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int size = 4 << 20;
        struct timeval timeout = { 0, 100 * 1000 };
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (fd < 0 || connect(fd, (struct sockaddr *) &to, sizeof to) < 0) {
                perror("socket");
                return EXIT_FAILURE;
        }

        uint64_t sent = 0, received = 0;
        unsigned in_flight = 0;
        double start = now_seconds(), end = start + seconds, last_rx = start;
        while (now_seconds() < end) {
                while (in_flight < window) {
                        int n = send_requests(fd, window - in_flight, &sent);
                        if (n <= 0)
                                break;
                        in_flight += (unsigned) n;
                }
                int n = receive_replies(fd);
                if (n > 0) {
                        received += (unsigned) n;
                        in_flight -= (unsigned) n > in_flight ? in_flight : (unsigned) n;
                        last_rx = now_seconds();
                } else if (now_seconds() - last_rx > 0.1) {
                        in_flight = 0;  /* requests or replies were lost: refill the window */
                        last_rx = now_seconds();
                }
        }
        double elapsed = now_seconds() - start;
        printf("%.0f replies/s (%llu sent, %llu received in %.1f s)\n", received / elapsed,
               (unsigned long long) sent, (unsigned long long) received, elapsed);
        return received > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
