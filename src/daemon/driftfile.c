/* The drift file (see driftfile.h). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/driftfile.h"
#include "shared/file-util.h"
#include "shared/macro.h"

#define DRIFT_MAX_PPM 100000.0
/* Temporaries are named "<name>.XXXXXX", six letters or digits. */
#define TEMP_SUFFIX_LEN 6
#define TEMP_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* The directory of a drift file, open, and the file's name in it. */
typedef struct DriftDir {
        int fd;
        char *copy;
        const char *name;
} DriftDir;

static void drift_dir_done(DriftDir *d) {
        d->fd = safe_close(d->fd);
        d->copy = mfree(d->copy);
}

static int drift_dir_open(const char *path, DriftDir *ret) {
        DriftDir d = { .fd = -EBADF, .copy = strdup(path) };

        if (!d.copy)
                return -ENOMEM;
        char *slash = strrchr(d.copy, '/');
        d.name = slash ? slash + 1 : d.copy;
        if (slash)
                *slash = 0;
        d.fd = open(!slash ? "." : slash == d.copy ? "/" : d.copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d.fd < 0 || !*d.name) {
                int r = d.fd < 0 ? -errno : -EISDIR;
                drift_dir_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

static bool is_temporary_name(const char *entry, const char *name) {
        size_t n = strlen(name);
        return strncmp(entry, name, n) == 0 && entry[n] == '.' && strlen(entry + n + 1) == TEMP_SUFFIX_LEN &&
               strspn(entry + n + 1, TEMP_ALPHABET) == TEMP_SUFFIX_LEN;
}

/* Removes the regular files named like our temporaries: what a crash
 * between creating one and renaming it left behind. */
static void drift_dir_remove_temporaries(const DriftDir *d) {
        int fd = dup(d->fd);
        DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        struct stat st;

        if (!dp) {
                safe_close(fd);
                return;
        }
        rewinddir(dp);
        while ((de = readdir(dp)))
                if (is_temporary_name(de->d_name, d->name) &&
                    fstatat(d->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        (void) unlinkat(d->fd, de->d_name, 0);
        closedir(dp);
}

static bool in_range(double freq, double skew) {
        return isfinite(freq) && isfinite(skew) && fabs(freq) <= DRIFT_MAX_PPM && skew >= 0 && skew <= DRIFT_MAX_PPM;
}

int driftfile_read(const char *path, double *ret_freq_ppm, double *ret_skew_ppm) {
        _cleanup_free_ char *text = NULL;
        DriftDir d;
        double freq, skew;
        size_t len;
        char extra;

        /* Read at start: the time to clear what an earlier run left. */
        if (drift_dir_open(path, &d) >= 0) {
                drift_dir_remove_temporaries(&d);
                drift_dir_done(&d);
        }
        int r = read_small_file(path, 4096, (void **) &text, &len);
        if (r == -EFBIG)
                return -EINVAL;
        if (r < 0)
                return r;
        if (sscanf(text, "%lf %lf %c", &freq, &skew, &extra) != 2 || !in_range(freq, skew))
                return -EINVAL;
        *ret_freq_ppm = freq;
        *ret_skew_ppm = skew;
        return 0;
}

static int write_content(int fd, const char *line) {
        int r = write_all(fd, line, strlen(line));
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        return r;
}

/* Fills buf with "<name>.XXXXXX", the X random. */
static void temporary_name(const DriftDir *d, char *buf, size_t size) {
        uint8_t rnd[TEMP_SUFFIX_LEN];
        char suffix[TEMP_SUFFIX_LEN + 1];

        if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd)
                for (size_t i = 0; i < sizeof rnd; i++)
                        rnd[i] = (uint8_t) (rand() ^ getpid() >> i);
        for (size_t i = 0; i < TEMP_SUFFIX_LEN; i++)
                suffix[i] = TEMP_ALPHABET[rnd[i] % (sizeof TEMP_ALPHABET - 1)];
        suffix[TEMP_SUFFIX_LEN] = 0;
        snprintf(buf, size, "%s.%s", d->name, suffix);
}

/* Gives the unnamed file fd the name tmp: with AT_EMPTY_PATH, which Linux
 * allows the file's opener since 6.10, else through /proc. */
static int link_unnamed(int fd, const DriftDir *d, const char *tmp) {
        char proc[64];

        if (linkat(fd, "", d->fd, tmp, AT_EMPTY_PATH) == 0)
                return 0;
        if (errno == EEXIST)
                return -EEXIST;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        return linkat(AT_FDCWD, proc, d->fd, tmp, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
}

/* The content goes into a file without a name (O_TMPFILE), which gets the
 * temporary name only once complete and synced: a crash before that leaves
 * nothing. -EOPNOTSUPP when the file system or kernel cannot do this. */
static int write_unnamed(const DriftDir *d, const char *line, char *tmp, size_t size) {
        _cleanup_close_ int fd = openat(d->fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        int r;

        if (fd < 0)
                return -EOPNOTSUPP;
        r = write_content(fd, line);
        if (r < 0)
                return r;
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                temporary_name(d, tmp, size);
                r = link_unnamed(fd, d, tmp);
                if (r != -EEXIST)
                        break;
        }
        if (r < 0)
                *tmp = 0;
        return r == -EEXIST || r >= 0 ? r : -EOPNOTSUPP;
}

/* Without O_TMPFILE: a new named file, written and synced. */
static int write_named(const DriftDir *d, const char *line, char *tmp, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        for (unsigned attempt = 0; attempt < 16 && fd < 0; attempt++) {
                temporary_name(d, tmp, size);
                fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0 && errno != EEXIST)
                        break;
        }
        if (fd < 0) {
                *tmp = 0;
                return -errno;
        }
        return write_content(fd, line);
}

int driftfile_write(const char *path, double freq_ppm, double skew_ppm) {
        _cleanup_(drift_dir_done) DriftDir d = { .fd = -EBADF };
        char line[96], tmp[NAME_MAX + 1] = "";
        int r;

        if (!in_range(freq_ppm, skew_ppm))
                return -ERANGE;
        r = drift_dir_open(path, &d);
        if (r < 0)
                return r;
        if (strlen(d.name) + 1 + TEMP_SUFFIX_LEN > NAME_MAX)
                return -ENAMETOOLONG;
        snprintf(line, sizeof line, "%.6f %.6f\n", freq_ppm, skew_ppm);
        r = write_unnamed(&d, line, tmp, sizeof tmp);
        if (r == -EOPNOTSUPP)
                r = write_named(&d, line, tmp, sizeof tmp);
        if (r >= 0 && renameat(d.fd, tmp, d.fd, d.name) < 0)
                r = -errno;
        if (r < 0) {
                if (*tmp)
                        (void) unlinkat(d.fd, tmp, 0);
                return r;
        }
        return fsync(d.fd) < 0 ? -errno : 0;
}
