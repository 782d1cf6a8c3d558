/* Small file helpers. */
#pragma once

#include <stddef.h>

/* Reads the whole of a regular file of at most max bytes into a new buffer
 * (NUL-terminated, the NUL not counted in *ret_len). Returns 0, -EFBIG when
 * the file is larger, or a negative errno. */
int read_small_file(const char *path, size_t max, void **ret, size_t *ret_len);
