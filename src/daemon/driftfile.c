/* The drift file (see driftfile.h). */
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/driftfile.h"
#include "shared/macro.h"

#define DRIFT_MAX_PPM 100000.0

static bool in_range(double freq, double skew) {
        return isfinite(freq) && isfinite(skew) && fabs(freq) <= DRIFT_MAX_PPM && skew >= 0 && skew <= DRIFT_MAX_PPM;
}

int driftfile_read(const char *path, double *ret_freq_ppm, double *ret_skew_ppm) {
        char buf[128], extra;
        double freq, skew;
        ssize_t n;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        if (sscanf(buf, "%lf %lf %c", &freq, &skew, &extra) != 2 || !in_range(freq, skew))
                return -EINVAL;
        *ret_freq_ppm = freq;
        *ret_skew_ppm = skew;
        return 0;
}

static int write_all(int fd, const char *s, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, s, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += k;
                n -= (size_t) k;
        }
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int driftfile_write(const char *path, double freq_ppm, double skew_ppm) {
        _cleanup_free_ char *tmp = NULL;
        char line[96];
        int r;

        if (!in_range(freq_ppm, skew_ppm))
                return -ERANGE;
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int n = snprintf(line, sizeof line, "%.6f %.6f\n", freq_ppm, skew_ppm);
        r = write_all(fd, line, (size_t) n);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_directory_of(path);
}
