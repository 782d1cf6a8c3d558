/* Tests for src/core/leap: tzfile leap tables (built here byte by byte, in
 * both layouts, plus the system's right/UTC when it is installed), the
 * pending leap and TAI - UTC at given times, and the sources' vote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/leap.h"

/* UTC midnights that ended leap days: 1972-07-01, 1973-01-01, 1974-01-01,
 * 2015-07-01, 2017-01-01. */
#define M1972 INT64_C(78796800)
#define M1973 INT64_C(94694400)
#define M1974 INT64_C(126230400)
#define M2015 INT64_C(1435708800)
#define M2017 INT64_C(1483228800)
#define HOUR INT64_C(3600)

typedef struct TestLeap {
        int64_t occurrence;
        int32_t correction;
} TestLeap;

static size_t put32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
        return 4;
}

static size_t put64(uint8_t *p, uint64_t v) {
        put32(p, (uint32_t) (v >> 32));
        return 4 + put32(p + 4, (uint32_t) v);
}

/* One header and data block: no transitions, one UTC type, the leaps. */
static size_t put_block(uint8_t *p, char version, const TestLeap *l, size_t n, size_t time_size) {
        size_t k = 0;

        memcpy(p, "TZif", 4);
        p[4] = (uint8_t) version;
        memset(p + 5, 0, 15);
        k = 20;
        k += put32(p + k, 0);           /* isutcnt */
        k += put32(p + k, 0);           /* isstdcnt */
        k += put32(p + k, (uint32_t) n);/* leapcnt */
        k += put32(p + k, 0);           /* timecnt */
        k += put32(p + k, 1);           /* typecnt */
        k += put32(p + k, 4);           /* charcnt */
        k += put32(p + k, 0);           /* ttinfo: utoff 0, isdst 0, idx 0 */
        p[k++] = 0;
        p[k++] = 0;
        memcpy(p + k, "UTC", 4);
        k += 4;
        for (size_t i = 0; i < n; i++) {
                k += time_size == 8 ? put64(p + k, (uint64_t) l[i].occurrence)
                                    : put32(p + k, (uint32_t) l[i].occurrence);
                k += put32(p + k, (uint32_t) l[i].correction);
        }
        return k;
}

static size_t build_tzif(uint8_t *buf, char version, const TestLeap *l, size_t n) {
        size_t k = put_block(buf, version, l, n, 4);
        if (version >= '2') {
                k += put_block(buf + k, version, l, n, 8);
                memcpy(buf + k, "\n\n", 2);
                k += 2;
        }
        return k;
}

/* The first three leaps: each record marks 23:59:60, counted with the
 * leaps before it. */
static const TestLeap three_leaps[] = {
        { M1972, 1 },
        { M1973 + 1, 2 },
        { M1974 + 2, 3 },
};

/* A table truncated before 2015 (version 4): its first record only gives
 * the count so far. */
static const TestLeap recent_leaps[] = {
        { M2015 + 25, 26 },
        { M2017 + 26, 27 },
};

static void check_three_leaps(const LeapTable *t) {
        assert_int_equal(t->n_entries, 3);
        assert_true(t->entries[0].midnight == M1972 && t->entries[0].sign == 1);
        assert_int_equal(t->entries[0].tai_offset, 11);
        assert_true(t->entries[1].midnight == M1973 && t->entries[1].tai_offset == 12);
        assert_true(t->entries[2].midnight == M1974 && t->entries[2].tai_offset == 13);
}

static void a_version_1_file_gives_its_leaps(void **state) {
        uint8_t buf[512];
        LeapTable *t;

        size_t len = build_tzif(buf, 0, three_leaps, 3);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), 0);
        check_three_leaps(t);
        leap_table_free(t);
}

static void a_version_2_file_is_read_from_its_64_bit_block(void **state) {
        uint8_t buf[1024];
        LeapTable *t;

        size_t len = build_tzif(buf, '2', three_leaps, 3);
        /* Spoil the 32-bit block's last record (header, one type, "UTC",
         * three 8-byte records): only the second block counts. */
        size_t first = 44 + 6 + 4 + 3 * 8;
        buf[first - 1] ^= 0xff;
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), 0);
        check_three_leaps(t);
        leap_table_free(t);
}

static void the_pending_leap_is_known_on_the_leap_day_only(void **state) {
        uint8_t buf[1024];
        LeapTable *t;
        nsec_t midnight;

        size_t len = build_tzif(buf, '4', recent_leaps, 2);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), 0);
        assert_int_equal(t->n_entries, 1);
        nsec_t noon = (M2017 - 12 * HOUR) * NSEC_PER_SEC;
        assert_int_equal(leap_table_pending(t, noon, &midnight), NTP_LEAP_INSERT);
        assert_true(midnight == M2017 * NSEC_PER_SEC);
        assert_int_equal(leap_table_pending(t, noon - 24 * HOUR * NSEC_PER_SEC, NULL), NTP_LEAP_NONE);
        assert_int_equal(leap_table_pending(t, M2017 * NSEC_PER_SEC, NULL), NTP_LEAP_NONE);
        /* TAI - UTC steps at the midnight. */
        assert_int_equal(leap_table_tai_offset(t, M2017 * NSEC_PER_SEC - 1), 36);
        assert_int_equal(leap_table_tai_offset(t, M2017 * NSEC_PER_SEC), 37);
        assert_int_equal(leap_table_tai_offset(NULL, noon), 0);
        leap_table_free(t);
        len = build_tzif(buf, '2', three_leaps, 3);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), 0);
        assert_int_equal(leap_table_tai_offset(t, (M1972 - 1) * NSEC_PER_SEC), 10);
        assert_int_equal(leap_table_tai_offset(t, M1974 * NSEC_PER_SEC), 13);
        leap_table_free(t);
}

static void a_deleted_second_and_an_expiry_record(void **state) {
        /* 2030-07-01 deletes 23:59:59 (record at the deleted second) after
         * 27 insertions; the last record only repeats the count. */
        const int64_t m2030 = INT64_C(1909094400);
        const TestLeap l[] = { { M2015 + 25, 26 }, { M2017 + 26, 27 }, { m2030 - 1 + 27, 26 },
                               { m2030 + 86400 * 100 + 26, 26 } };
        uint8_t buf[1024];
        LeapTable *t;

        size_t len = build_tzif(buf, '4', l, 4);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), 0);
        assert_int_equal(t->n_entries, 2);
        assert_true(t->entries[1].midnight == m2030 && t->entries[1].sign == -1);
        assert_int_equal(t->entries[1].tai_offset, 36);
        assert_true(t->expires == m2030 + 86400 * 100);
        assert_int_equal(leap_table_pending(t, (m2030 - HOUR) * NSEC_PER_SEC, NULL), NTP_LEAP_DELETE);
        leap_table_free(t);
}

static void malformed_files_are_rejected(void **state) {
        uint8_t buf[1024];
        LeapTable *t = NULL;

        size_t len = build_tzif(buf, '2', three_leaps, 3);
        assert_int_equal(leap_table_parse_tzfile(buf, 10, &t), -EBADMSG);
        assert_int_equal(leap_table_parse_tzfile(buf, len - 20, &t), -EBADMSG);
        buf[0] = 'X';
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), -EBADMSG);
        /* A zone without leap records is not a leap table. */
        len = build_tzif(buf, '2', NULL, 0);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), -ENODATA);
        /* A record that is not at a midnight. */
        const TestLeap bad[] = { { M1972 + 5, 1 } };
        len = build_tzif(buf, 0, bad, 1);
        assert_int_equal(leap_table_parse_tzfile(buf, len, &t), -EBADMSG);
        assert_null(t);
}

static void the_installed_right_utc_has_tai_minus_utc_37(void **state) {
        uint8_t buf[65536];
        LeapTable *t;

        int fd = open("/usr/share/zoneinfo/right/UTC", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                skip();
                return;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        assert_true(n > 0);
        assert_int_equal(leap_table_parse_tzfile(buf, (size_t) n, &t), 0);
        assert_true(t->n_entries >= 27);
        assert_int_equal(leap_table_pending(t, (M2017 - HOUR) * NSEC_PER_SEC, NULL), NTP_LEAP_INSERT);
        assert_int_equal(leap_table_tai_offset(t, (M2017 + HOUR) * NSEC_PER_SEC), 37);
        leap_table_free(t);
}

static void leaps_are_taken_on_june_30_and_december_31_only(void **state) {
        assert_true(leap_is_leap_day((M2017 - HOUR) * NSEC_PER_SEC));
        assert_false(leap_is_leap_day((M2017 + HOUR) * NSEC_PER_SEC));
        assert_true(leap_is_leap_day((M1972 - 1) * NSEC_PER_SEC));
        assert_false(leap_is_leap_day((M1972 - 86400 - 1) * NSEC_PER_SEC));
        assert_true(leap_day_end((M2017 - HOUR) * NSEC_PER_SEC) == M2017 * NSEC_PER_SEC);
}

static void the_majority_of_sources_decides(void **state) {
        const NtpLeap two_of_three[] = { NTP_LEAP_INSERT, NTP_LEAP_INSERT, NTP_LEAP_NONE };
        const NtpLeap one_of_two[] = { NTP_LEAP_INSERT, NTP_LEAP_NONE };
        const NtpLeap deleting[] = { NTP_LEAP_DELETE };
        const NtpLeap unsync[] = { NTP_LEAP_UNSYNC, NTP_LEAP_UNSYNC, NTP_LEAP_UNSYNC };

        assert_int_equal(leap_vote(two_of_three, 3), NTP_LEAP_INSERT);
        assert_int_equal(leap_vote(one_of_two, 2), NTP_LEAP_NONE);
        assert_int_equal(leap_vote(deleting, 1), NTP_LEAP_DELETE);
        assert_int_equal(leap_vote(unsync, 3), NTP_LEAP_NONE);
        assert_int_equal(leap_vote(NULL, 0), NTP_LEAP_NONE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_version_1_file_gives_its_leaps),
                cmocka_unit_test(a_version_2_file_is_read_from_its_64_bit_block),
                cmocka_unit_test(the_pending_leap_is_known_on_the_leap_day_only),
                cmocka_unit_test(a_deleted_second_and_an_expiry_record),
                cmocka_unit_test(malformed_files_are_rejected),
                cmocka_unit_test(the_installed_right_utc_has_tai_minus_utc_37),
                cmocka_unit_test(leaps_are_taken_on_june_30_and_december_31_only),
                cmocka_unit_test(the_majority_of_sources_decides),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
