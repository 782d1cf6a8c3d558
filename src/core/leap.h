/* Leap seconds: which leap (if any) is due at the end of the current UTC
 * day, and the TAI - UTC offset, from two kinds of evidence:
 *
 *  - the leap indicator bits of the sources we synchronise to (RFC 5905
 *    section 7.3: LI = 1 inserts 23:59:60, LI = 2 deletes 23:59:59 at the
 *    end of the current month). A leap is taken when a majority of the
 *    selected and combined sources announce the same one, and only on the
 *    last day of June or December, the days ITU-R TF.460 gives first
 *    preference and the only ones ever used: a single confused server
 *    cannot make us insert a second on an arbitrary day;
 *
 *  - a leap second table read from a tzfile of the "right/" zones
 *    (tzfile(5), RFC 8536: TZif versions 1 to 4), e.g.
 *    /usr/share/zoneinfo/right/UTC, which lists every leap and so also
 *    gives TAI - UTC for the kernel's TAI clock.
 *
 * Pure: the caller reads the file and passes its bytes. The daemon wires it
 * as follows ([Clock] LeapSecTZ=NAME):
 *
 *     read /usr/share/zoneinfo/NAME into buf (at most a few kB);
 *     LeapTable *t;
 *     r = leap_table_parse_tzfile(buf, len, &t);   // -EBADMSG: not a TZif
 *     if (r >= 0) engine_set_leap_table(engine, t); // engine owns t now
 *
 * and re-reads it on reload (engine_set_leap_table(engine, NULL) drops it).
 * When the file has no leap records (a zone outside right/), parsing fails
 * with -ENODATA, so a wrong LeapSecTZ= is reported instead of ignored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntp/ntp-packet.h"
#include "shared/macro.h"
#include "shared/time-util.h"

/* TAI - UTC before the first leap second of 1972-06-30. */
#define LEAP_TAI_OFFSET_1972 10

typedef struct LeapEntry {
        int64_t midnight;       /* Unix time of the UTC midnight the leap ends */
        int sign;               /* +1: 23:59:60 inserted; -1: 23:59:59 deleted */
        int tai_offset;         /* TAI - UTC from midnight on */
} LeapEntry;

typedef struct LeapTable {
        LeapEntry *entries;     /* ascending */
        size_t n_entries;
        int64_t expires;        /* Unix time the table is good until; 0: unknown */
} LeapTable;

/* Parses a TZif file (version 1, or the 64-bit block of version 2+) held in
 * buf. Returns 0, -EBADMSG on a malformed or truncated file, -ENODATA if it
 * lists no leap seconds, -ENOMEM. */
int leap_table_parse_tzfile(const void *buf, size_t len, LeapTable **ret);
LeapTable *leap_table_free(LeapTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(LeapTable *, leap_table_free);

/* The leap due at the end of the UTC day that contains `now` (Unix
 * nanoseconds): NTP_LEAP_INSERT, NTP_LEAP_DELETE or NTP_LEAP_NONE. When
 * `midnight` is not NULL it gets that day's end, as Unix nanoseconds. */
NtpLeap leap_table_pending(const LeapTable *t, nsec_t now, nsec_t *midnight);
/* TAI - UTC at `now`, seconds (LEAP_TAI_OFFSET_1972 before the first leap). */
int leap_table_tai_offset(const LeapTable *t, nsec_t now);

/* Whether `now` falls on a day a leap second may end: June 30 or
 * December 31 (UTC). */
bool leap_is_leap_day(nsec_t now);
/* The UTC midnight that ends the day containing `now`. */
nsec_t leap_day_end(nsec_t now);

/* The majority vote of n leap indicators: the leap that more than half of
 * them announce, else NTP_LEAP_NONE. Unsynchronised (3) votes count as
 * "none". */
NtpLeap leap_vote(const NtpLeap *bits, size_t n);
