/* A minimal JSON writer for tempusctl --json: escaped strings, numbers that
 * read back exactly, and nothing else. Callers write the punctuation. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Writes s as a JSON string (NULL as null), escaping quotes, backslashes
 * and control characters; UTF-8 passes through. */
void json_write_string(FILE *f, const char *s);

/* Writes the shortest of %.15g/%.17g that reads back as the same double;
 * NaN and infinities, which JSON lacks, as null. */
void json_write_double(FILE *f, double d);

/* The shortest of %.15g/%.17g that reads back as d, into buf (32 bytes
 * suffice); NaN and infinities as printf spells them. Returns buf. */
char *format_double_exact(char *buf, size_t size, double d);

void json_write_bool(FILE *f, bool b);

/* Writes "key": for the next member; first says whether a comma is needed. */
void json_write_key(FILE *f, bool *first, const char *key);
