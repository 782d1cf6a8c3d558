/* Reading /etc/adjtime (see adjtime.h). */
#include <stdio.h>
#include <string.h>

#include "daemon/adjtime.h"

bool adjtime_parse_local(const char *text) {
        /* Skip the drift line and the last-calibration line. */
        for (int line = 0; line < 2; line++) {
                text = strchr(text, '\n');
                if (!text)
                        return false;
                text++;
        }
        return strncmp(text, "LOCAL", 5) == 0 && strchr("\n", text[5]);
}

bool adjtime_read_local(const char *path) {
        char buf[512];
        FILE *f = fopen(path, "re");

        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        return adjtime_parse_local(buf);
}
