/* Lets tempusd run inside clknetsim, the clock and network simulator
 * chrony's own tests use (see run.py). clknetsim replaces the system calls
 * of a select()/poll() daemon with its simulation; sd-event needs a few
 * more, which this library, preloaded in front of clknetsim.so, maps onto
 * the ones clknetsim has:
 *   - epoll on top of poll(), over the descriptors clknetsim made (its
 *     sockets and timers; others, such as the signalfd, never fire);
 *   - timerfds on CLOCK_BOOTTIME as CLOCK_MONOTONIC, absolute CLOCK_REALTIME
 *     expiries as relative ones, and no TFD_CLOEXEC or cancel-on-set flags;
 *   - sockets without SOCK_NONBLOCK and SOCK_CLOEXEC in their type;
 *   - a receive only where poll() said a datagram waits, and an error-queue
 *     read only where it said a transmit timestamp does (clknetsim serves
 *     any other read with the next datagram for the node);
 *   - the real effective user (clknetsim answers 0), so that tempusd does
 *     not try to drop privileges it does not have;
 *   - the end of the simulation, a SIGTERM that sd-event keeps blocked,
 *     as an exit.
 * Nothing here changes a real clock: the simulated clients run as an
 * unprivileged user. */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_EPOLL 16
#define MAX_WATCHES 256

typedef enum FdKind { FD_OTHER, FD_SOCKET, FD_TIMER, FD_TIMER_REALTIME } FdKind;

typedef struct FdState {
        FdKind kind;
        bool readable;          /* poll() reported a datagram */
        bool errqueue;          /* poll() reported a transmit timestamp */
} FdState;

typedef struct Watch {
        int fd;
        struct epoll_event event;
} Watch;

typedef struct EpollSet {
        int fd;                 /* 0: unused */
        size_t n;
        Watch watches[MAX_WATCHES];
} EpollSet;

static FdState fds[MAX_FD];
static EpollSet epolls[MAX_EPOLL];

/* The definition that clknetsim.so (or libc) gives, looked up once. */
#define NEXT(name) ({                                                   \
        static typeof(&name) next_;                                     \
        if (!next_)                                                     \
                next_ = (typeof(&name)) dlsym(RTLD_NEXT, #name);        \
        next_;                                                          \
})

static FdState *fd_state(int fd) {
        return fd >= 0 && fd < MAX_FD ? &fds[fd] : NULL;
}

static clockid_t simulated_clock(clockid_t id) {
        switch (id) {
        case CLOCK_BOOTTIME:
        case CLOCK_BOOTTIME_ALARM:
        case CLOCK_MONOTONIC_RAW:
                return CLOCK_MONOTONIC;
        case CLOCK_REALTIME_ALARM:
        case CLOCK_TAI:
                return CLOCK_REALTIME;
        default:
                return id;
        }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
        return NEXT(clock_gettime)(simulated_clock(id), ts);
}

uid_t geteuid(void) {
        return (uid_t) syscall(SYS_geteuid);
}

int kill(pid_t pid, int sig) {
        if (pid == getpid() && sig == SIGTERM)
                _exit(0);
        return NEXT(kill)(pid, sig);
}

int socket(int domain, int type, int protocol) {
        int fd = NEXT(socket)(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol);
        FdState *s = fd_state(fd);

        if (s)
                *s = (FdState) { .kind = FD_SOCKET };
        return fd;
}

int timerfd_create(int id, int flags) {
        clockid_t sim = simulated_clock(id);
        int fd = NEXT(timerfd_create)(sim, flags & TFD_NONBLOCK);
        FdState *s = fd_state(fd);

        if (s)
                *s = (FdState) { .kind = sim == CLOCK_REALTIME ? FD_TIMER_REALTIME : FD_TIMER };
        return fd;
}

/* An absolute expiry on the realtime clock, from now. */
static struct timespec realtime_to_relative(struct timespec at) {
        struct timespec now;
        long long ns;

        clock_gettime(CLOCK_REALTIME, &now);
        ns = (at.tv_sec - now.tv_sec) * 1000000000LL + (at.tv_nsec - now.tv_nsec);
        if (ns < 1)
                ns = 1;         /* due: expire at once rather than disarm */
        return (struct timespec) { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
}

int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
        struct itimerspec v = *value;
        FdState *s = fd_state(fd);
        bool armed = v.it_value.tv_sec || v.it_value.tv_nsec;

        if (old)
                timerfd_gettime(fd, old);
        flags &= ~TFD_TIMER_CANCEL_ON_SET;
        if ((flags & TFD_TIMER_ABSTIME) && armed && s && s->kind == FD_TIMER_REALTIME) {
                v.it_value = realtime_to_relative(v.it_value);
                flags &= ~TFD_TIMER_ABSTIME;
        }
        return NEXT(timerfd_settime)(fd, flags, &v, NULL);
}

static void forget_watches_of(int fd) {
        for (size_t i = 0; i < MAX_EPOLL; i++) {
                EpollSet *e = &epolls[i];
                for (size_t j = 0; j < e->n; j++)
                        if (e->watches[j].fd == fd)
                                e->watches[j--] = e->watches[--e->n];
        }
}

static EpollSet *epoll_set(int fd);

int close(int fd) {
        FdState *s = fd_state(fd);
        EpollSet *e = epoll_set(fd);

        if (s)
                *s = (FdState) {};
        if (e)
                *e = (EpollSet) {};     /* the number may come back as another descriptor */
        forget_watches_of(fd);
        return NEXT(close)(fd);
}

/* Whether a read of this kind may go to clknetsim now: once per report. */
static bool take_report(int fd, int flags) {
        FdState *s = fd_state(fd);
        bool *report;

        if (!s || s->kind != FD_SOCKET)
                return true;
        report = flags & MSG_ERRQUEUE ? &s->errqueue : &s->readable;
        if (!*report)
                return false;
        *report = false;
        return true;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
        if (!take_report(fd, flags)) {
                errno = EAGAIN;
                return -1;
        }
        return NEXT(recvmsg)(fd, msg, flags);
}

static EpollSet *epoll_set(int fd) {
        for (size_t i = 0; i < MAX_EPOLL; i++)
                if (fd > 0 && epolls[i].fd == fd)
                        return &epolls[i];
        return NULL;
}

int epoll_create1(int flags) {
        int fd = NEXT(epoll_create1)(flags);

        for (size_t i = 0; fd > 0 && i < MAX_EPOLL; i++)
                if (epolls[i].fd == 0) {
                        epolls[i] = (EpollSet) { .fd = fd };
                        break;
                }
        return fd;
}

int epoll_create(int size) {
        (void) size;
        return epoll_create1(0);
}

static Watch *find_watch(EpollSet *e, int fd) {
        for (size_t j = 0; j < e->n; j++)
                if (e->watches[j].fd == fd)
                        return &e->watches[j];
        return NULL;
}

static int fail(int error) {
        errno = error;
        return -1;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) {
        EpollSet *e = epoll_set(epfd);
        Watch *w;

        if (!e)
                return fail(EBADF);
        w = find_watch(e, fd);
        switch (op) {
        case EPOLL_CTL_ADD:
                if (w)
                        return fail(EEXIST);
                if (e->n == MAX_WATCHES)
                        return fail(ENOSPC);
                e->watches[e->n++] = (Watch) { .fd = fd, .event = *event };
                return 0;
        case EPOLL_CTL_MOD:
                if (!w)
                        return fail(ENOENT);
                w->event = *event;
                return 0;
        case EPOLL_CTL_DEL:
                if (!w)
                        return fail(ENOENT);
                *w = e->watches[--e->n];
                return 0;
        default:
                return fail(EINVAL);
        }
}

/* The poll() set for e's watches that clknetsim can report on. */
static size_t poll_set(const EpollSet *e, struct pollfd *p, size_t *which) {
        size_t n = 0;

        for (size_t j = 0; j < e->n; j++) {
                const FdState *s = fd_state(e->watches[j].fd);
                if (!s || s->kind == FD_OTHER || !(e->watches[j].event.events & EPOLLIN))
                        continue;
                p[n] = (struct pollfd) { .fd = e->watches[j].fd,
                                         .events = s->kind == FD_SOCKET ? POLLIN | POLLPRI : POLLIN };
                which[n++] = j;
        }
        return n;
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
        EpollSet *e = epoll_set(epfd);
        struct pollfd p[MAX_WATCHES];
        size_t which[MAX_WATCHES], n;
        int r, k = 0;

        if (!e)
                return fail(EBADF);
        n = poll_set(e, p, which);
        r = poll(p, n, timeout);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < n && k < max; i++) {
                FdState *s = fd_state(p[i].fd);
                if (!(p[i].revents & (POLLIN | POLLPRI)))
                        continue;
                s->readable = p[i].revents & POLLIN;
                s->errqueue = p[i].revents & POLLPRI;
                events[k] = e->watches[which[i]].event;
                events[k++].events = (s->readable ? EPOLLIN : 0) | (s->errqueue ? EPOLLERR : 0);
        }
        return k;
}

int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
        (void) mask;
        return epoll_wait(epfd, events, max, timeout);
}

int epoll_pwait2(int epfd, struct epoll_event *events, int max, const struct timespec *timeout,
                 const sigset_t *mask) {
        int ms = timeout ? (int) (timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000) : -1;

        (void) mask;
        return epoll_wait(epfd, events, max, ms);
}

/* clknetsim's syscall() knows clock_adjtime and getrandom only; the rest
 * (libsystemd asks for gettid and more) go to the kernel. */
long syscall(long number, ...) {
        static long (*kernel)(long, ...);
        long a[6];
        va_list ap;

        va_start(ap, number);
        for (size_t i = 0; i < 6; i++)
                a[i] = va_arg(ap, long);
        va_end(ap);
        if (number == SYS_clock_adjtime || number == SYS_getrandom)
                return NEXT(syscall)(number, a[0], a[1], a[2]);
        if (!kernel)
                kernel = dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), "syscall");
        return kernel(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
