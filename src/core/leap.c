/* Leap seconds from sources and from tzfiles (see leap.h).
 *
 * TZif layout (RFC 8536 section 3): a 44-byte header
 *     "TZif", version, 15 reserved bytes,
 *     isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt (32-bit BE)
 * followed by the data block
 *     timecnt transition times, timecnt type indices, typecnt 6-byte
 *     local time types, charcnt abbreviation bytes, leapcnt leap records,
 *     isstdcnt and isutcnt indicators.
 * Version 1 writes times as 32 bits; version 2+ repeats header and block
 * with 64-bit times after the first one, which is what we read then.
 *
 * A leap record is (occurrence, correction): `correction` is the total of
 * leap seconds in force after `occurrence`, which counts the seconds since
 * the epoch including the earlier leaps. For an insertion the record marks
 * 23:59:60, so the Unix time of the midnight that ends the leap day is
 * occurrence - previous correction; for a deletion it marks the deleted
 * 23:59:59, one second before that midnight. TAI - UTC is 10 s plus the correction. A final
 * record that repeats the previous correction only says when the table
 * expires (version 4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/leap.h"

#define TZIF_HEADER_SIZE 44
#define SECONDS_PER_DAY INT64_C(86400)

typedef struct TzifCounts {
        uint32_t isut, isstd, leap, time, type, chars;
} TzifCounts;

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
        return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

static int read_header(const uint8_t *p, size_t len, char *version, TzifCounts *c) {
        if (len < TZIF_HEADER_SIZE || memcmp(p, "TZif", 4) != 0)
                return -EBADMSG;
        *version = (char) p[4];
        *c = (TzifCounts) {
                .isut = be32(p + 20), .isstd = be32(p + 24), .leap = be32(p + 28),
                .time = be32(p + 32), .type = be32(p + 36), .chars = be32(p + 40),
        };
        /* Counts bounded so that the size arithmetic below cannot wrap. */
        if (c->isut > 65536 || c->isstd > 65536 || c->leap > 65536 || c->time > 1 << 20 ||
            c->type > 256 || c->chars > 65536)
                return -EBADMSG;
        return 0;
}

static size_t block_size(const TzifCounts *c, size_t time_size) {
        return c->time * (time_size + 1) + c->type * 6 + c->chars + c->leap * (time_size + 4) +
               c->isstd + c->isut;
}

/* Turns the leap records into entries. */
static int build_table(const uint8_t *records, uint32_t n, size_t time_size, LeapTable *t) {
        int prev = 0;

        t->entries = calloc(n + 1, sizeof(LeapEntry));
        if (!t->entries)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *r = records + i * (time_size + 4);
                int64_t occurrence = time_size == 8 ? be64(r) : (int32_t) be32(r);
                int correction = (int32_t) be32(r + time_size);
                int delta = correction - prev;

                if (delta == 0 && i > 0 && i == n - 1) {
                        t->expires = occurrence - prev;
                        break;
                }
                if (delta != 1 && delta != -1) {
                        /* A truncated table (version 4) may start with the
                         * sum of the leaps before it. */
                        if (i != 0)
                                return -EBADMSG;
                        prev = correction;
                        continue;
                }
                int64_t midnight = occurrence - prev + (delta < 0 ? 1 : 0);
                if (midnight % SECONDS_PER_DAY != 0 ||
                    (t->n_entries > 0 && midnight <= t->entries[t->n_entries - 1].midnight))
                        return -EBADMSG;
                t->entries[t->n_entries++] = (LeapEntry) {
                        .midnight = midnight,
                        .sign = delta,
                        .tai_offset = LEAP_TAI_OFFSET_1972 + correction,
                };
                prev = correction;
        }
        return t->n_entries > 0 ? 0 : -ENODATA;
}

int leap_table_parse_tzfile(const void *buf, size_t len, LeapTable **ret) {
        _cleanup_(leap_table_freep) LeapTable *t = NULL;
        const uint8_t *p = buf;
        size_t time_size = 4;
        TzifCounts c;
        char version;
        int r;

        r = read_header(p, len, &version, &c);
        if (r < 0)
                return r;
        size_t size = TZIF_HEADER_SIZE + block_size(&c, 4);
        if (len < size)
                return -EBADMSG;
        if (version >= '2') {
                /* Skip the 32-bit block; use the 64-bit one that follows. */
                p += size;
                len -= size;
                r = read_header(p, len, &version, &c);
                if (r < 0)
                        return r;
                time_size = 8;
                if (len < TZIF_HEADER_SIZE + block_size(&c, 8))
                        return -EBADMSG;
        }

        const uint8_t *records = p + TZIF_HEADER_SIZE + c.time * (time_size + 1) + c.type * 6 + c.chars;
        t = calloc(1, sizeof(LeapTable));
        if (!t)
                return -ENOMEM;
        r = build_table(records, c.leap, time_size, t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

LeapTable *leap_table_free(LeapTable *t) {
        if (!t)
                return NULL;
        free(t->entries);
        free(t);
        return NULL;
}

static int64_t floor_div(int64_t a, int64_t b) {
        return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

nsec_t leap_day_end(nsec_t now) {
        int64_t day = floor_div(now, SECONDS_PER_DAY * NSEC_PER_SEC);
        return (day + 1) * SECONDS_PER_DAY * NSEC_PER_SEC;
}

NtpLeap leap_table_pending(const LeapTable *t, nsec_t now, nsec_t *midnight) {
        nsec_t end = leap_day_end(now);

        if (midnight)
                *midnight = end;
        if (!t)
                return NTP_LEAP_NONE;
        for (size_t i = 0; i < t->n_entries; i++)
                if (t->entries[i].midnight * NSEC_PER_SEC == end)
                        return t->entries[i].sign > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
        return NTP_LEAP_NONE;
}

int leap_table_tai_offset(const LeapTable *t, nsec_t now) {
        int offset = LEAP_TAI_OFFSET_1972;

        if (!t)
                return 0;
        if (t->n_entries > 0)
                offset = t->entries[0].tai_offset - t->entries[0].sign;
        for (size_t i = 0; i < t->n_entries && t->entries[i].midnight * NSEC_PER_SEC <= now; i++)
                offset = t->entries[i].tai_offset;
        return offset;
}

bool leap_is_leap_day(nsec_t now) {
        time_t s = (time_t) floor_div(now, NSEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&s, &tm))
                return false;
        return (tm.tm_mon == 5 && tm.tm_mday == 30) || (tm.tm_mon == 11 && tm.tm_mday == 31);
}

NtpLeap leap_vote(const NtpLeap *bits, size_t n) {
        size_t insert = 0, delete = 0;

        for (size_t i = 0; i < n; i++) {
                insert += bits[i] == NTP_LEAP_INSERT;
                delete += bits[i] == NTP_LEAP_DELETE;
        }
        if (2 * insert > n)
                return NTP_LEAP_INSERT;
        if (2 * delete > n)
                return NTP_LEAP_DELETE;
        return NTP_LEAP_NONE;
}
