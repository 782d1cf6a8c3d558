/* Growing arrays: one helper that checks the size arithmetic and grows
 * geometrically, so appending n elements costs O(n) in all. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "shared/macro.h"

/* Makes *p hold at least `need` elements of `size` bytes, doubling its
 * allocation (*allocated, in elements) when it must grow. Returns 0, or
 * -ENOMEM with *p and *allocated unchanged. */
static inline int greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        if (need <= *allocated)
                return 0;
        size_t n = MAX(need, MAX(*allocated * 2, (size_t) 8));
        if (n > SIZE_MAX / size)
                return -ENOMEM;
        void *q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *allocated = n;
        return 0;
}

#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))
