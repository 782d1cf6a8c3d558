/* Reading one configuration file into assignments (config-file.c): the
 * reader knows files and lines, not keys; what an assignment means is the
 * caller's. */
#pragma once

#include <stdbool.h>

/* A configuration file larger than this is refused. */
#define CONFIG_FILE_MAX (1024u * 1024u)

/* Called for each Key=value read at file:line; 0 or a negative errno
 * (-ENOMEM stops the parse, any other error is counted and reading goes
 * on, so that every mistake is reported). */
typedef int (*ConfigAssignFn)(void *userdata, const char *file, unsigned line, const char *section,
                              const char *name, const char *value);

/* Reads one file and hands each assignment to assign. A missing file is
 * fine when not required; /dev/null reads as empty; anything but a regular
 * file of at most CONFIG_FILE_MAX bytes is an error. Returns 0, -EINVAL when
 * the file was refused or had errors (all logged), or another negative
 * errno. */
int config_file_parse(const char *path, bool required, ConfigAssignFn assign, void *userdata);
