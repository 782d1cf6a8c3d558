/* Logging to stderr with syslog priority prefixes ("<3>..."), which the
 * journal turns into message levels. Every log_*_errno() call returns the
 * negative errno it was given, so errors are logged once where handled:
 *         return log_error_errno(r, "Failed to bind: %m");
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "shared/macro.h"

void log_set_max_level(int level);
/* Whether to write "<N>" prefixes; defaults to on unless stderr is a TTY. */
void log_set_prefix(bool on);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

/* Logs an event that people look up in the journal by its MESSAGE_ID
 * (`journalctl MESSAGE_ID=...`): sent to the journal with that field when
 * stderr is connected to it, written to stderr like any message otherwise. */
void log_event(int level, const char *message_id, const char *fmt, ...) _printf_(3, 4);

/* MESSAGE_IDs of tempusd's events. */
#define TEMPUS_MESSAGE_SYNCHRONIZED "df6876f2da094b8e819dc4435351986b"
#define TEMPUS_MESSAGE_CLOCK_STEPPED "6dcf4f172d1849cdb16267c70dadbf8e"
#define TEMPUS_MESSAGE_SYNC_LOST "f6d3d27af2cc40478989e984e788f037"
#define TEMPUS_MESSAGE_EXTERNAL_STEP "7df16e9042ce457b93e7554d11f4ffe3"

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
