/* NTPv4 wire format (see ntp-packet.h). All multi-byte fields are big
 * endian; the header layout is RFC 5905 figure 8:
 *
 *   0: LI(2) VN(3) Mode(3)   1: Stratum   2: Poll   3: Precision
 *   4: Root Delay   8: Root Dispersion   12: Reference ID
 *   16: Reference Timestamp   24: Origin Timestamp
 *   32: Receive Timestamp     40: Transmit Timestamp
 */
#include <stdio.h>
#include <string.h>

#include "ntp/ntp-packet.h"

/* RFC 7822: an extension field is at least 16 bytes, a multiple of 4. */
#define NTP_EXT_MIN_LENGTH 16
/* RFC 5905 MAC: 4-byte key ID plus an MD5 (16) or SHA-1 (20) digest; a
 * lone 4-byte key ID of 0 is a crypto-NAK. */
#define NTP_MAC_MD5_LENGTH 20
#define NTP_MAC_SHA1_LENGTH NTP_MAX_V4_MAC_LENGTH
#define NTP_CRYPTO_NAK_LENGTH 4

static const char *const ntp_drop_names[_NTP_DROP_MAX] = {
        [NTP_DROP_NONE] = "none",
        [NTP_DROP_TOO_SHORT] = "too short",
        [NTP_DROP_TOO_LONG] = "too long",
        [NTP_DROP_BAD_LENGTH] = "bad length",
        [NTP_DROP_BAD_VERSION] = "bad version",
        [NTP_DROP_BAD_MODE] = "bad mode",
        [NTP_DROP_BAD_EXTENSION] = "bad extension field",
};

const char *ntp_drop_to_string(NtpDrop d) {
        return d >= 0 && d < _NTP_DROP_MAX ? ntp_drop_names[d] : NULL;
}

static uint32_t read_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t read_be64(const uint8_t *p) {
        return (uint64_t) read_be32(p) << 32 | read_be32(p + 4);
}

static void write_be32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static void write_be64(uint8_t *p, uint64_t v) {
        write_be32(p, v >> 32);
        write_be32(p + 4, (uint32_t) v);
}

static bool is_mac_length(size_t n) {
        return n == NTP_MAC_MD5_LENGTH || n == NTP_MAC_SHA1_LENGTH || n == NTP_CRYPTO_NAK_LENGTH;
}

/* MACs of any size: a crypto-NAK, or a key ID and a whole MD5, SHA-1, SHA-256,
 * SHA-384 or SHA-512 digest. */
static bool is_any_mac_length(size_t n) {
        return is_mac_length(n) || n == 4 + 32 || n == 4 + 48 || n == NTP_MAX_MAC_LENGTH;
}

/* Walks what follows the header: extension fields, then an optional MAC.
 * A remainder that is exactly a MAC length is taken as the MAC even if it
 * could start a field, as RFC 7822 section 7.5 resolves the ambiguity. */
static NtpDrop parse_fields(const uint8_t *p, size_t n, NtpPacket *ret) {
        size_t off = 0;

        ret->extension_bytes = 0;
        ret->has_mac = false;
        ret->mac_length = 0;
        while (n - off > 0) {
                size_t left = n - off;
                if (is_mac_length(left)) {
                        ret->has_mac = true;
                        ret->mac_length = left;
                        return NTP_DROP_NONE;
                }
                if (left < NTP_EXT_MIN_LENGTH)
                        return NTP_DROP_BAD_EXTENSION;
                size_t field = (size_t) p[off + 2] << 8 | p[off + 3];
                if (field < NTP_EXT_MIN_LENGTH || field % 4 != 0 || field > left)
                        return NTP_DROP_BAD_EXTENSION;
                off += field;
                ret->extension_bytes += field;
        }
        return NTP_DROP_NONE;
}

/* ntpsec sends whole SHA-256, -384 and -512 digests in NTPv4 too: what
 * cannot be read as extension fields and is that long is such a MAC. */
static NtpDrop parse_trailer(const uint8_t *p, size_t n, NtpPacket *ret) {
        NtpDrop d = parse_fields(p, n, ret);

        if (d == NTP_DROP_BAD_EXTENSION && is_any_mac_length(n)) {
                ret->extension_bytes = 0;
                ret->has_mac = true;
                ret->mac_length = n;
                return NTP_DROP_NONE;
        }
        return d;
}

NtpDrop ntp_packet_parse(const void *buf, size_t len, NtpPacket *ret) {
        const uint8_t *p = buf;

        if (len < NTP_HEADER_SIZE)
                return NTP_DROP_TOO_SHORT;
        if (len > NTP_MAX_PACKET_SIZE)
                return NTP_DROP_TOO_LONG;
        if (len % 4 != 0)
                return NTP_DROP_BAD_LENGTH;

        *ret = (NtpPacket) {
                .leap = (NtpLeap) (p[0] >> 6),
                .version = (p[0] >> 3) & 7,
                .mode = (NtpMode) (p[0] & 7),
                .stratum = p[1],
                .poll = (int8_t) p[2],
                .precision = (int8_t) p[3],
                .root_delay = read_be32(p + 4),
                .root_dispersion = read_be32(p + 8),
                .reference_id = read_be32(p + 12),
                .reference_ts = read_be64(p + 16),
                .origin_ts = read_be64(p + 24),
                .receive_ts = read_be64(p + 32),
                .transmit_ts = read_be64(p + 40),
        };
        if (ret->version < 1 || ret->version > NTP_VERSION)
                return NTP_DROP_BAD_VERSION;
        if (ret->mode == NTP_MODE_RESERVED || ret->mode == NTP_MODE_CONTROL || ret->mode == NTP_MODE_PRIVATE)
                return NTP_DROP_BAD_MODE;
        /* NTPv1-3 had no extension fields: anything after the header is a
         * MAC, of up to a whole SHA-512 digest. */
        if (ret->version < 4 && len > NTP_HEADER_SIZE) {
                ret->has_mac = is_any_mac_length(len - NTP_HEADER_SIZE);
                ret->mac_length = ret->has_mac ? len - NTP_HEADER_SIZE : 0;
                return ret->has_mac ? NTP_DROP_NONE : NTP_DROP_BAD_EXTENSION;
        }
        return parse_trailer(p + NTP_HEADER_SIZE, len - NTP_HEADER_SIZE, ret);
}

size_t ntp_packet_encode(const NtpPacket *pkt, uint8_t buf[static NTP_HEADER_SIZE]) {
        buf[0] = (uint8_t) ((pkt->leap & 3) << 6 | (pkt->version & 7) << 3 | (pkt->mode & 7));
        buf[1] = pkt->stratum;
        buf[2] = (uint8_t) pkt->poll;
        buf[3] = (uint8_t) pkt->precision;
        write_be32(buf + 4, pkt->root_delay);
        write_be32(buf + 8, pkt->root_dispersion);
        write_be32(buf + 12, pkt->reference_id);
        write_be64(buf + 16, pkt->reference_ts);
        write_be64(buf + 24, pkt->origin_ts);
        write_be64(buf + 32, pkt->receive_ts);
        write_be64(buf + 40, pkt->transmit_ts);
        return NTP_HEADER_SIZE;
}

double ntp_short_to_seconds(uint32_t v) {
        return (double) v / 65536.0;
}

uint32_t ntp_short_from_seconds(double s) {
        if (!(s > 0))
                return 0;
        if (s >= 65536.0)
                return UINT32_MAX;
        return (uint32_t) (s * 65536.0 + 0.5);
}

NtpTimestamp ntp_timestamp_from_nsec(nsec_t t) {
        /* Floor division so that times before 1970 work too. */
        int64_t sec = t / NSEC_PER_SEC, nsec = t % NSEC_PER_SEC;
        if (nsec < 0) {
                nsec += NSEC_PER_SEC;
                sec--;
        }
        uint64_t era_seconds = (uint64_t) (sec + NTP_UNIX_EPOCH_OFFSET) & UINT32_MAX;
        uint64_t fraction = ((uint64_t) nsec << 32) / (uint64_t) NSEC_PER_SEC;
        return era_seconds << 32 | fraction;
}

nsec_t ntp_timestamp_to_nsec(NtpTimestamp ts, nsec_t pivot) {
        /* Seconds since 1900 of the pivot; the timestamp's 32-bit seconds
         * are read as a signed difference from the pivot's, which picks the
         * era that lands within 68 years of it (RFC 5905 section 6). */
        int64_t pivot_sec = pivot / NSEC_PER_SEC - (pivot % NSEC_PER_SEC < 0) + NTP_UNIX_EPOCH_OFFSET;
        int64_t delta = (int32_t) ((uint32_t) (ts >> 32) - (uint32_t) pivot_sec);
        int64_t sec = pivot_sec + delta - NTP_UNIX_EPOCH_OFFSET;
        int64_t nsec = (int64_t) (((ts & UINT32_MAX) * (uint64_t) NSEC_PER_SEC + (UINT64_C(1) << 31)) >> 32);
        return sec * NSEC_PER_SEC + nsec;
}

double ntp_timestamp_diff(NtpTimestamp a, NtpTimestamp b) {
        return (double) (int64_t) (a - b) / 4294967296.0;
}

uint32_t ntp_refid_from_ascii(const char *s) {
        uint8_t b[4] = {};
        for (size_t i = 0; i < 4 && s[i]; i++)
                b[i] = (uint8_t) s[i];
        return read_be32(b);
}

static bool refid_is_printable(uint32_t refid) {
        for (int shift = 24; shift >= 0; shift -= 8) {
                uint8_t c = (refid >> shift) & 0xff;
                if (c != 0 && (c < 0x20 || c > 0x7e))
                        return false;
        }
        return true;
}

char *ntp_refid_to_string(uint32_t refid, uint8_t stratum, char buf[static 16]) {
        if (stratum <= 1 && refid_is_printable(refid)) {
                size_t n = 0;
                for (int shift = 24; shift >= 0; shift -= 8) {
                        char c = (char) ((refid >> shift) & 0xff);
                        if (c == 0)
                                break;
                        buf[n++] = c;
                }
                buf[n] = 0;
        } else
                snprintf(buf, 16, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 0xff, (refid >> 8) & 0xff,
                         refid & 0xff);
        return buf;
}

bool ntp_packet_is_kod(const NtpPacket *p, char code[static 5]) {
        /* RFC 5905 section 7.4: stratum 0 with a four-letter ASCII code. */
        if (p->stratum != 0 || !refid_is_printable(p->reference_id))
                return false;
        for (int i = 0; i < 4; i++)
                code[i] = (char) ((p->reference_id >> (24 - 8 * i)) & 0xff);
        code[4] = 0;
        return code[0] != 0;
}
