/* Reading one configuration file. The file is opened without blocking and
 * refused unless it is a regular file of at most CONFIG_FILE_MAX bytes
 * (/dev/null, through any symbolic link, reads as empty: that is how a
 * fragment is masked). libinih then sees it one physical line at a time
 * through line_reader(), so that its line numbers are the file's, a long
 * line is never split in two, an indented line is never joined to the one
 * before, and a NUL byte is an error instead of the end of a value.
 *
 * libinih decides what each line is (comment, [Section], Key=value or a
 * syntax error); the key and value of an assignment are then taken from
 * the whole line, which libinih's fixed line buffer may not hold. */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config/config-file.h"
#include "shared/file-util.h"
#include "shared/log.h"

typedef struct LineReader {
        ConfigAssignFn assign;
        void *userdata;
        const char *file;
        char *text;             /* the whole file, NUL-terminated */
        size_t len, pos;
        unsigned line;          /* number of the line being parsed */
        char *current;          /* that line, leading blanks skipped */
        const char *problem;    /* what is wrong with it, until reported */
        unsigned errors;
} LineReader;

static const char *file_type_name(mode_t mode) {
        return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device" :
               S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

static bool is_dev_null(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/* Reads path into *ret (NULL for a missing optional file or /dev/null).
 * Logs "path: reason" on failure. */
static int config_file_read(const char *path, bool required, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        *ret = NULL;
        *ret_len = 0;
        if (fd < 0 && errno == ENOENT && !required)
                return 0;
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(-errno, "%s: cannot open: %m", path);
        if (is_dev_null(&st))
                return 0;
        if (!S_ISREG(st.st_mode)) {
                log_error("%s: is %s, not a regular file", path, file_type_name(st.st_mode));
                return -EINVAL;
        }
        int r = read_small_fd(fd, CONFIG_FILE_MAX, (void **) ret, ret_len);
        if (r == -EFBIG)
                log_error("%s: larger than the limit of %u bytes for a configuration file", path,
                          CONFIG_FILE_MAX);
        else if (r < 0)
                log_error_errno(r, "%s: cannot read: %m", path);
        return r == -EFBIG ? -EINVAL : r;
}

/* Reports a problem of the previous line that no assignment reported. */
static void line_reader_flush(LineReader *r) {
        if (!r->problem)
                return;
        log_error("%s:%u: %s", r->file, r->line, r->problem);
        r->problem = NULL;
        r->errors++;
}

/* Copies into libinih's buffer as much of line as it takes to tell what
 * the line is: all of it when it fits, else at most size - 1 bytes and
 * nothing after the first '=' (the value is read from the whole line). */
static void line_reader_hand_over(const char *line, char *buf, int size) {
        size_t n = strlen(line);

        if (n >= (size_t) size) {
                const char *eq = memchr(line, '=', (size_t) size - 1);
                n = eq ? (size_t) (eq - line) + 1 : (size_t) size - 1;
        }
        memcpy(buf, line, n);
        buf[n] = 0;
}

static char *line_reader(char *buf, int size, void *userdata) {
        LineReader *r = userdata;

        line_reader_flush(r);
        if (r->pos >= r->len)
                return NULL;
        char *start = r->text + r->pos;
        char *eol = memchr(start, '\n', r->len - r->pos);
        size_t n = eol ? (size_t) (eol - start) : r->len - r->pos;

        r->pos += n + !!eol;
        r->line++;
        start[n] = 0;
        if (memchr(start, 0, n))
                r->problem = "line contains a NUL byte";
        /* No continuation lines: leading blanks mean nothing. */
        while (isspace((unsigned char) *start))
                start++;
        r->current = start;
        line_reader_hand_over(start, buf, size);
        return buf;
}

static char *strip(char *s) {
        char *end = s + strlen(s);

        while (isspace((unsigned char) *s))
                s++;
        while (end > s && isspace((unsigned char) end[-1]))
                end--;
        *end = 0;
        return s;
}

/* The current line is "Key=value" with name as its key: returns the value,
 * blanks around it removed, or NULL (libinih also splits at ':'). */
static const char *line_reader_value(LineReader *r, const char *name) {
        char *eq = strchr(r->current, '=');

        if (!eq)
                return NULL;
        *eq = 0;
        if (!streq(strip(r->current), name))
                return NULL;
        return strip(eq + 1);
}

static int line_reader_assignment(void *userdata, const char *section, const char *name, const char *unused) {
        LineReader *r = userdata;
        const char *problem = TAKE_PTR(r->problem);
        const char *value = problem ? NULL : line_reader_value(r, name);

        if (!value) {
                log_error("%s:%u: %s.%s: %s", r->file, r->line, section, name, problem ?: "expected Key=value");
                r->errors++;
                return 1;
        }
        int k = r->assign(r->userdata, r->file, r->line, section, name, value);
        if (k < 0)
                r->errors++;
        return k == -ENOMEM ? 0 : 1;            /* keep going: report every error */
}

int config_file_parse(const char *path, bool required, ConfigAssignFn assign, void *userdata) {
        LineReader r = { .assign = assign, .userdata = userdata, .file = path };
        _cleanup_free_ char *text = NULL;

        int k = config_file_read(path, required, &text, &r.len);
        if (k < 0 || !text)
                return k;
        r.text = text;
        /* A UTF-8 byte order mark is allowed, as libinih allows it. */
        if (r.len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                r.pos = 3;
        k = ini_parse_stream(line_reader, &r, line_reader_assignment, &r);
        line_reader_flush(&r);
        if (k > 0) {
                log_error("%s:%d: syntax error (expected [Section] or Key=value)", path, k);
                r.errors++;
        } else if (k < 0) {
                log_error("%s: cannot parse: out of memory", path);
                return -ENOMEM;
        }
        return r.errors > 0 ? -EINVAL : 0;
}
