/* Implementation of log.h: formats one line per message onto stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "shared/log.h"

static int max_level = LOG_INFO;
static int use_prefix = -1;

void log_set_max_level(int level) {
        max_level = level;
}

void log_set_prefix(bool on) {
        use_prefix = on;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved_errno = errno;
        char buf[2048];
        va_list ap;

        error = error < 0 ? -error : error;
        if (level > max_level)
                return -error;
        if (use_prefix < 0)
                use_prefix = !isatty(STDERR_FILENO) || getenv("JOURNAL_STREAM");

        /* Let %m print the error we were handed. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (use_prefix)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else
                fprintf(stderr, "%s\n", buf);
        (void) file;
        (void) line;
        errno = saved_errno;
        return -error;
}

void log_event(int level, const char *message_id, const char *fmt, ...) {
        char buf[2048];
        va_list ap;

        if (level > max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (getenv("JOURNAL_STREAM") &&
            sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level, "MESSAGE_ID=%s", message_id,
                            "SYSLOG_IDENTIFIER=%s", program_invocation_short_name, NULL) >= 0)
                return;
        log_internal(level, 0, __FILE__, __LINE__, "%s", buf);
}
