/* Tests for src/daemon/driftfile: round trip, validation, atomic replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/driftfile.h"

static char dir[64], path[128];

static int setup(void **state) {
        strcpy(dir, "/tmp/tempus-test-drift-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/drift", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        return system(cmd);
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
        assert_true(fabs(f + 12.345678) < 1e-6);
        assert_true(fabs(s - 0.012) < 1e-6);
}

static void chrony_drift_files_are_read(void **state) {
        double f, s;
        write_text("          -4.217633             0.023148\n");
        assert_int_equal(driftfile_read(path, &f, &s), 0);
        assert_true(fabs(f + 4.217633) < 1e-9);
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(values_round_trip),
                cmocka_unit_test(chrony_drift_files_are_read),
                cmocka_unit_test(missing_and_garbage_are_told_apart),
                cmocka_unit_test(out_of_range_values_are_not_written),
                cmocka_unit_test(a_failed_write_keeps_the_old_file_and_leaves_no_temporary),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
