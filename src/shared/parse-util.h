/* Small parsers of text values used by more than one module: integers in
 * a range, booleans, network interface names. */
#pragma once

#include <stdbool.h>

/* A decimal integer from min to max, the whole string: 0 or -EINVAL. */
int parse_int_range(const char *s, long min, long max, long *ret);
/* yes/true/on/1 or no/false/off/0, in any case: 1, 0 or -EINVAL. */
int parse_boolean(const char *s);
/* A network interface name: 1 to 15 letters, digits, '-', '_' or '.'
 * (the kernel allows more, but no other character belongs in one), not
 * "." or "..". */
bool ifname_is_valid(const char *s);
