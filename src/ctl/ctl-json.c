/* Implementation of ctl-json.h. */
#include <math.h>
#include <stdlib.h>

#include "ctl/ctl-json.h"

void json_write_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f);  break;
                case '\t': fputs("\\t", f);  break;
                case '\r': fputs("\\r", f);  break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

char *format_double_exact(char *buf, size_t size, double d) {
        snprintf(buf, size, "%.15g", d);
        if (isfinite(d) && strtod(buf, NULL) != d)
                snprintf(buf, size, "%.17g", d);
        return buf;
}

void json_write_double(FILE *f, double d) {
        char buf[40];

        fputs(isfinite(d) ? format_double_exact(buf, sizeof buf, d) : "null", f);
}

void json_write_bool(FILE *f, bool b) {
        fputs(b ? "true" : "false", f);
}

void json_write_key(FILE *f, bool *first, const char *key) {
        if (!*first)
                fputc(',', f);
        *first = false;
        json_write_string(f, key);
        fputc(':', f);
}
