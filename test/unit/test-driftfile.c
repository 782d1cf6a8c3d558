/* Tests for src/daemon/driftfile: round trip, validation, atomic replace,
 * and no temporary left behind by a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/driftfile.h"
#include "test-util.h"

static char dir[64], path[128];

static int setup(void **state) {
        assert_int_equal(tmpdir_new(dir, sizeof dir), 0);
        snprintf(path, sizeof path, "%s/drift", dir);
        return 0;
}

static int teardown(void **state) {
        tmpdir_remove(dir);
        return 0;
}

static void write_text(const char *text) {
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
}

static void values_round_trip(void **state) {
        double f, s;
        assert_int_equal(driftfile_write(path, -12.345678, 0.012), 0);
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_near(f + 12.345678, 0, 1e-6);
        assert_near(s, 0.012, 1e-6);
}

static void chrony_drift_files_are_read(void **state) {
        double f, s;
        write_text("          -4.217633             0.023148\n");
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_near(f + 4.217633, 0, 1e-9);
}

static void missing_and_garbage_are_told_apart(void **state) {
        double f, s;
        unlink(path);
        assert_int_equal(driftfile_read(path, &f, &s), -ENOENT);
        static const char *const bad[] = { "", "abc\n", "1.0\n", "1.0 2.0 3.0\n", "nan 1\n", "200000 1\n", "1 -1\n" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                write_text(bad[i]);
                assert_int_equal(driftfile_read(path, &f, &s), -EINVAL);
        }
}

static void out_of_range_values_are_not_written(void **state) {
        double f, s;
        assert_int_equal(driftfile_write(path, 5.0, 0.1), 0);
        assert_int_equal(driftfile_write(path, 1e6, 0.1), -ERANGE);
        assert_int_equal(driftfile_write(path, NAN, 0.1), -ERANGE);
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_true(f == 5.0);
}

static void a_failed_write_keeps_the_old_file_and_leaves_no_temporary(void **state) {
        double f, s;
        char sub[160], file[200];

        assert_int_equal(driftfile_write(path, 7.0, 0.2), 0);
        /* A directory that cannot be written: the write fails cleanly. */
        snprintf(sub, sizeof sub, "%s/ro", dir);
        mkdir(sub, 0555);
        snprintf(file, sizeof file, "%s/drift", sub);
        if (geteuid() != 0)
                assert_true(driftfile_write(file, 1.0, 0.1) < 0);
        /* Renaming over a directory fails after the temporary is written. */
        mkdir(file, 0755);
        chmod(sub, 0755);
        assert_true(driftfile_write(file, 1.0, 0.1) < 0);
        DIR *d = opendir(sub);
        struct dirent *de;
        while ((de = readdir(d)))
                assert_true(de->d_name[0] == '.' || strcmp(de->d_name, "drift") == 0);
        closedir(d);
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_true(f == 7.0);
}

static bool exists(const char *name) {
        char p[200];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        return lstat(p, &st) == 0;
}

static void create(const char *name) {
        char p[200];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("1.0 0.1\n", f);
        fclose(f);
}

/* Names like the temporaries, "drift.XXXXXX", in dir. */
static unsigned count_temporaries(void) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                n += strncmp(de->d_name, "drift.", 6) == 0 && strlen(de->d_name) == 12;
        closedir(d);
        return n;
}

static void temporaries_left_by_a_crash_are_removed_at_start(void **state) {
        char sub[200];
        double f, s;

        assert_int_equal(driftfile_write(path, 3.0, 0.1), 0);
        create("drift.Ab12Cd");
        create("drift.zzzzzz");
        create("drift.keep");           /* not six characters */
        create("drift.Ab12Cd.x");
        create("other.Ab12Cd");
        snprintf(sub, sizeof sub, "%s/drift.Dir123", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_true(f == 3.0);
        assert_false(exists("drift.Ab12Cd"));
        assert_false(exists("drift.zzzzzz"));
        assert_true(exists("drift.keep"));
        assert_true(exists("drift.Ab12Cd.x"));
        assert_true(exists("other.Ab12Cd"));
        assert_true(exists("drift.Dir123"));
        rmdir(sub);
        static const char *const kept[] = { "drift.keep", "drift.Ab12Cd.x", "other.Ab12Cd" };
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
                char p[200];
                snprintf(p, sizeof p, "%s/%s", dir, kept[i]);
                unlink(p);
        }
}

static bool tmpfile_supported(void) {
        int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* The content is written while the file has no name: no write to a file
 * named like a temporary shows up in the directory's inotify events. */
static void the_temporary_gets_its_name_only_when_complete(void **state) {
        char events[16384];
        unsigned created = 0;

        if (!tmpfile_supported())
                skip();
        int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(in >= 0);
        assert_true(inotify_add_watch(in, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE) >= 0);
        assert_int_equal(driftfile_write(path, 2.5, 0.1), 0);
        ssize_t n = read(in, events, sizeof events);
        assert_true(n > 0);
        for (char *p = events; p < events + n;) {
                const struct inotify_event *e = (const void *) p;
                bool temporary = e->len > 0 && strncmp(e->name, "drift.", 6) == 0;
                print_message("event %#x %s\n", e->mask, e->len ? e->name : "");
                if (temporary && (e->mask & IN_CREATE))
                        created++;
                assert_false(temporary && (e->mask & (IN_MODIFY | IN_CLOSE_WRITE)));
                p += sizeof *e + e->len;
        }
        assert_int_equal(created, 1);
        close(in);
}

/* A writer killed at random moments, as by kill -9 or a power cut: the
 * drift file always holds one whole value, and whatever a kill left behind
 * is gone once the next start has read the file. */
static void kills_during_writes_leave_nothing_after_the_next_start(void **state) {
        unsigned left = 0;
        double f, s;

        assert_int_equal(driftfile_write(path, 1.0, 0.1), 0);
        srand((unsigned) time(NULL));
        for (int i = 0; i < 200; i++) {
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0)
                        for (unsigned k = 0;; k++)
                                (void) driftfile_write(path, 1.0 + k % 100, 0.1);
                usleep((useconds_t) (200 + rand() % 2000));
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                left += count_temporaries();
                assert_int_equal(driftfile_read(path, &f, &s), 0);
                assert_true(f >= 1.0 && f < 101.0);
                assert_int_equal(count_temporaries(), 0);
        }
        print_message("temporaries left by 200 kills, before the next start: %u\n", left);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(values_round_trip),
                cmocka_unit_test(chrony_drift_files_are_read),
                cmocka_unit_test(missing_and_garbage_are_told_apart),
                cmocka_unit_test(out_of_range_values_are_not_written),
                cmocka_unit_test(a_failed_write_keeps_the_old_file_and_leaves_no_temporary),
                cmocka_unit_test(temporaries_left_by_a_crash_are_removed_at_start),
                cmocka_unit_test(the_temporary_gets_its_name_only_when_complete),
                cmocka_unit_test(kills_during_writes_leave_nothing_after_the_next_start),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
