/* Implementation of file-util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/alloc-util.h"
#include "shared/file-util.h"
#include "shared/macro.h"

int read_small_fd(int fd, size_t max, void **ret, size_t *ret_len) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((size_t) st.st_size > max)
                return -EFBIG;
        /* Read to the end, not to st_size: a file may grow or shrink
         * under us, and the stream reader bounds it all the same. */
        return read_small_stream(fd, max, ret, ret_len);
}

int read_small_stream(int fd, size_t max, void **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0;

        for (;;) {
                if (GREEDY_REALLOC(buf, allocated, len + 4096 + 1) < 0)
                        return -ENOMEM;
                ssize_t n = read(fd, buf + len, allocated - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int read_small_file(const char *path, size_t max, void **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return read_small_fd(fd, max, ret, ret_len);
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}
