/* Small file helpers: reading whole files and streams, writing all of a buffer. */
#pragma once

#include <stddef.h>

/* Reads the whole of a regular file of at most max bytes into a new buffer
 * (NUL-terminated, the NUL not counted in *ret_len). The file is opened
 * without blocking, so a FIFO or a device fails instead of hanging. Returns
 * 0, -EFBIG when the file is larger, -EINVAL when it is not a regular file,
 * or a negative errno. */
int read_small_file(const char *path, size_t max, void **ret, size_t *ret_len);
/* The same for a file already open. */
int read_small_fd(int fd, size_t max, void **ret, size_t *ret_len);
/* Reads a stream that need not be a regular file (standard input, a pipe)
 * to its end, at most max bytes, into a new NUL-terminated buffer: 0,
 * -EFBIG beyond max, or a negative errno. Blocks as the stream does. */
int read_small_stream(int fd, size_t max, void **ret, size_t *ret_len);
/* Writes all len bytes of buf, across short writes and EINTR: 0 or a
 * negative errno. */
int write_all(int fd, const void *buf, size_t len);
