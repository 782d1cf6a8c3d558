/* Command-line helpers shared by tempusctl's commands. */
#pragma once

#include "shared/macro.h"

/* Prints the message and a pointer to --help on stderr; returns -EINVAL,
 * which tempusctl turns into exit status 2. */
int usage_error(const char *fmt, ...) _printf_(1, 2);

/* The value of option args[*i], written "--name=VALUE" or "--name VALUE"
 * (then *i moves past VALUE); NULL when it has none. */
const char *option_value(char **args, int n, int *i);
