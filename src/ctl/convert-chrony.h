/* chrony.conf → tempus.conf, following the directive table in DESIGN.md.
 *
 * Pure text in, text out: convert_chrony() reads the whole chrony.conf and
 * produces the equivalent tempus.conf plus one note for every directive (or
 * part of one) that has no tempus equivalent, saying why. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ConvertNote {
        unsigned line;          /* 1-based line in the chrony.conf */
        char *directive;        /* the line as written (trimmed) */
        char *reason;           /* why it was not (fully) converted, translated */
} ConvertNote;

typedef struct ConvertResult {
        char *config;           /* tempus.conf text, sections in fixed order */
        ConvertNote *notes;
        size_t n_notes;
} ConvertResult;

/* Converts chrony.conf text. Returns 0 or -ENOMEM. */
int convert_chrony(const char *text, ConvertResult *ret);
void convert_result_done(ConvertResult *r);

/* Writes r->config followed by the notes as comments, so the output is
 * itself a valid tempus.conf. */
void convert_result_print(FILE *f, const ConvertResult *r);
void convert_result_print_json(FILE *f, const ConvertResult *r);

/* Turns chrony's server/pool options ("iburst minpoll 4 maxsources 3") into
 * tempus's Server=/Pool= form ("iburst minpoll=4 maxsources=3"), appended
 * to out with a leading space each. Options tempus lacks are skipped (with
 * their value) and named in *ret_dropped (space separated, NULL if none).
 * Returns 0, -EINVAL if an option that needs a value lacks it (*ret_dropped
 * then names it), or -ENOMEM. */
int convert_source_options(char *const *words, size_t n, bool pool, FILE *out, char **ret_dropped);
