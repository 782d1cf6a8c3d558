/* Small language helpers shared by every module: cleanup attributes,
 * ownership transfer and array sizes. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))
#define _const_ __attribute__((const))
#define _noreturn_ __attribute__((noreturn))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

/* Binary search in an array sorted by a member: the index of the first of
 * its n elements whose member is not below value (n if none). member is
 * what follows an element to reach the key, as in
 * LOWER_BOUND(peers, n, ->source->id, id) or LOWER_BOUND(keys, n, .id, id). */
#define LOWER_BOUND(array, n, member, value)                            \
        ({                                                              \
                size_t _lo_ = 0, _hi_ = (n);                            \
                while (_lo_ < _hi_) {                                   \
                        size_t _mid_ = _lo_ + (_hi_ - _lo_) / 2;        \
                        if ((array)[_mid_] member < (value))            \
                                _lo_ = _mid_ + 1;                       \
                        else                                            \
                                _hi_ = _mid_;                           \
                }                                                       \
                _lo_;                                                   \
        })

/* Hands ownership out of a _cleanup_ variable: returns the value and sets the
 * variable to NULL so the cleanup does nothing. */
#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })

#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd_ = (fd);                \
                (fd) = -EBADF;                  \
                _fd_;                           \
        })

/* Defines name##p(type **p) that calls func(*p) when *p is not NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void strv_free_array(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline int errno_or(int fallback) {
        return errno > 0 ? -errno : fallback;
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
