/* Fuzz target for the configuration parser: any file is loaded or
 * rejected with an error, without crashing or leaking; a loaded one dumps
 * cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config-internal.h"
#include "config/config.h"
#include "shared/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *no_dropins[] = { NULL };
        char path[64];
        Config c;

        log_set_max_level(LOG_CRIT);
        int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (fd < 0)
                abort();
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (config_load_files(path, true, no_dropins, &c) >= 0) {
                FILE *null = fopen("/dev/null", "we");
                if (!null || config_dump(&c, null) < 0)
                        abort();
                fclose(null);
                config_done(&c);
        }
        close(fd);
        return 0;
}
