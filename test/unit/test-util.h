/* Helpers shared by the unit tests: a tolerance assertion that prints
 * both values, and temporary directories that clean up after themselves. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* |a - b| < eps, printing both values (and the tolerance) when not. */
#define assert_near(a, b, eps) _assert_near((double) (a), (double) (b), (double) (eps), #a, #b, __FILE__, __LINE__)

static inline void _assert_near(double a, double b, double eps, const char *ea, const char *eb, const char *file,
                                int line) {
        if (fabs(a - b) < eps)
                return;
        print_error("%s = %.12g and %s = %.12g differ by %.3g, not less than %.3g\n", ea, a, eb, b, fabs(a - b),
                    eps);
        _fail(file, line);
}

/* A fresh directory under $TMPDIR (or /tmp) in buf; 0 or -errno. */
static inline int tmpdir_new(char *buf, size_t size) {
        const char *base = getenv("TMPDIR") ?: "/tmp";
        if ((size_t) snprintf(buf, size, "%s/tempus-test-XXXXXX", base) >= size)
                return -ENAMETOOLONG;
        return mkdtemp(buf) ? 0 : -errno;
}

static inline int tmpdir_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -errno : 0;
}

/* Removes the directory and everything in it. */
static inline void tmpdir_remove(const char *dir) {
        (void) nftw(dir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Sends what is written to stderr from now on to the file path; returns
 * the descriptor that stderr_restore() puts back. */
static inline int stderr_redirect(const char *path) {
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(saved >= 0 && fd >= 0);
        dup2(fd, STDERR_FILENO);
        close(fd);
        return saved;
}

/* Puts stderr back and reads what went to path into out (NUL-terminated). */
static inline void stderr_restore(int saved, const char *path, char *out, size_t size) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(out, 1, size - 1, f);
        out[n] = 0;
        fclose(f);
}

/* A non-blocking UDP socket bound to an ephemeral port on 127.0.0.1; its
 * address in *ret if ret is not NULL. */
static inline int loopback_udp_socket(struct sockaddr_in *ret) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        if (ret)
                *ret = a;
        return fd;
}
