/* A closed-loop NTP load generator for the server benchmark: keeps
 * `window` client requests in flight to ADDRESS:PORT from one socket, sends
 * a new request for every reply, and prints the replies per second it got
 * over the run. Uses sendmmsg/recvmmsg so that the generator is not the
 * bottleneck. Loopback only: it refuses any other address. With a
 * REQUEST file (an NTS request from nts-load), it sends that request,
 * unchanged, instead of a plain one. */
#include <arpa/inet.h>
#include <errno.h>
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

int main(int argc, char *argv[]) {
        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: %s ADDRESS PORT SECONDS WINDOW [REQUEST]\n", argv[0]);
                return EXIT_FAILURE;
        }
        if (argc == 6) {
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
