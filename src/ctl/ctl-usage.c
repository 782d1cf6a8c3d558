/* Implementation of ctl-usage.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl-i18n.h"
#include "ctl/ctl-usage.h"

int usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, _(" See 'tempusctl --help'.\n"));
        return -EINVAL;
}

const char *option_value(char **args, int n, int *i) {
        const char *eq = strchr(args[*i], '=');

        if (eq)
                return eq[1] ? eq + 1 : NULL;
        if (*i + 1 >= n)
                return NULL;
        return args[++*i];
}
