/* Reading /etc/adjtime (see adjtime.h). */
#include <stdlib.h>
#include <string.h>

#include "daemon/adjtime.h"
#include "shared/file-util.h"
#include "shared/macro.h"

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
        _cleanup_free_ void *text = NULL;
        size_t len;

        if (read_small_file(path, 4096, &text, &len) < 0)
                return false;
        return adjtime_parse_local(text);
}
