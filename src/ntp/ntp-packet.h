/* NTPv4 wire format (RFC 5905, section 7.3): the 48-byte header, NTP
 * timestamps with era handling, and the optional extension fields and MAC
 * that may follow the header. Pure code: buffers in, structs out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/time-util.h"

#define NTP_HEADER_SIZE 48
/* Largest datagram we accept: header, a few extension fields and a MAC. */
#define NTP_MAX_PACKET_SIZE 1024
/* The longest MAC (key ID and digest) after the header: in NTPv4 RFC
 * 5905's SHA-1 size, which chrony and ntpsec keep for every hash; in
 * NTPv3, which has no extension fields, a whole SHA-512 digest. */
#define NTP_MAX_V4_MAC_LENGTH 24
#define NTP_MAX_MAC_LENGTH 68
#define NTP_PORT 123
#define NTP_VERSION 4
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_EPOCH_OFFSET INT64_C(2208988800)
#define NTP_MAX_STRATUM 16
#define NTP_MAX_DISPERSION 16.0    /* MAXDISP, seconds */
/* RFC 5905 PHI: the frequency tolerance of a free-running clock, s/s;
 * dispersion grows by this much per second. */
#define NTP_PHI 15e-6

/* 64-bit NTP timestamp: seconds since the start of the era in the upper 32
 * bits, fraction in the lower 32. */
typedef uint64_t NtpTimestamp;

typedef enum NtpLeap {
        NTP_LEAP_NONE = 0,
        NTP_LEAP_INSERT = 1,
        NTP_LEAP_DELETE = 2,
        NTP_LEAP_UNSYNC = 3,
} NtpLeap;

typedef enum NtpMode {
        NTP_MODE_RESERVED = 0,
        NTP_MODE_SYMMETRIC_ACTIVE = 1,
        NTP_MODE_SYMMETRIC_PASSIVE = 2,
        NTP_MODE_CLIENT = 3,
        NTP_MODE_SERVER = 4,
        NTP_MODE_BROADCAST = 5,
        NTP_MODE_CONTROL = 6,
        NTP_MODE_PRIVATE = 7,
} NtpMode;

typedef struct NtpPacket {
        NtpLeap leap;
        uint8_t version;
        NtpMode mode;
        uint8_t stratum;
        int8_t poll;
        int8_t precision;
        uint32_t root_delay;        /* NTP short format, 16.16 seconds */
        uint32_t root_dispersion;   /* NTP short format, 16.16 seconds */
        uint32_t reference_id;      /* host order */
        NtpTimestamp reference_ts;
        NtpTimestamp origin_ts;
        NtpTimestamp receive_ts;
        NtpTimestamp transmit_ts;
        /* Filled by the parser: bytes of extension fields and MAC seen after
         * the header (skipped, not interpreted). */
        size_t extension_bytes;
        bool has_mac;
        size_t mac_length;          /* the MAC's bytes at the end (key ID included), 0: none */
} NtpPacket;

/* Why a datagram was dropped. Counted per reason by the daemon. */
typedef enum NtpDrop {
        NTP_DROP_NONE = 0,
        NTP_DROP_TOO_SHORT,         /* under 48 bytes */
        NTP_DROP_TOO_LONG,          /* over NTP_MAX_PACKET_SIZE */
        NTP_DROP_BAD_LENGTH,        /* not a multiple of 4 after the header */
        NTP_DROP_BAD_VERSION,       /* version not 1..4 */
        NTP_DROP_BAD_MODE,          /* mode 0, 6, 7 or otherwise not handled */
        NTP_DROP_BAD_EXTENSION,     /* malformed extension field chain */
        _NTP_DROP_MAX,
} NtpDrop;

/* Parses a datagram. Returns NTP_DROP_NONE and fills *ret, or the reason to
 * drop it (and leaves *ret unspecified). Modes 1-5 are accepted here; callers
 * decide which they handle. */
NtpDrop ntp_packet_parse(const void *buf, size_t len, NtpPacket *ret);

/* Writes the 48-byte header. Returns NTP_HEADER_SIZE. */
size_t ntp_packet_encode(const NtpPacket *p, uint8_t buf[static NTP_HEADER_SIZE]);

const char *ntp_drop_to_string(NtpDrop d);

/* NTP short format (16.16) <-> seconds. Negative input encodes as 0;
 * input above 65535.99 saturates. */
double ntp_short_to_seconds(uint32_t v);
uint32_t ntp_short_from_seconds(double s);

/* Unix nanoseconds -> NTP timestamp (era is implied by the 32-bit wrap). */
NtpTimestamp ntp_timestamp_from_nsec(nsec_t t);
/* NTP timestamp -> Unix nanoseconds, choosing the era that puts the result
 * closest to pivot (RFC 5905 section 6: eras are resolved from context). */
nsec_t ntp_timestamp_to_nsec(NtpTimestamp ts, nsec_t pivot);
/* a - b in seconds, correct across an era boundary for |a - b| < 68 years. */
double ntp_timestamp_diff(NtpTimestamp a, NtpTimestamp b);

/* Reference ID helpers: "LOCL" style ASCII IDs for stratum 0/1, and the
 * IPv4 address (or first 4 bytes of the MD5 of an IPv6 address) otherwise. */
uint32_t ntp_refid_from_ascii(const char *s);
/* Writes a printable form: ASCII for kiss codes/stratum-1 IDs, dotted quad
 * otherwise. buf must hold 16 bytes. */
char *ntp_refid_to_string(uint32_t refid, uint8_t stratum, char buf[static 16]);

/* Kiss-o'-Death: stratum 0 replies with a code in reference_id (RFC 5905
 * section 7.4). Returns true and the code (e.g. "RATE") if p is one. */
bool ntp_packet_is_kod(const NtpPacket *p, char code[static 5]);
