/* NTS Key Establishment records (RFC 8915 section 4): the messages a
 * client and a server exchange over TLS 1.3 (ALPN "ntske/1") before NTS
 * NTP begins. Each record is
 *
 *     C|type (15 bits) | body length (16 bits) | body
 *
 * where C, the critical bit, says that a receiver that does not know the
 * type must fail. A message is a sequence of records ending with End of
 * Message. Pure: buffers in, structs out; the TLS connection lives in the
 * daemon, which exports the keys with the context nts_ke_exporter_context()
 * gives. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTS_KE_ALPN "ntske/1"
#define NTS_KE_DEFAULT_PORT 4460
#define NTS_KE_CRITICAL 0x8000u

typedef enum NtsKeRecordType {
        NTS_KE_END = 0,
        NTS_KE_NEXT_PROTOCOL = 1,
        NTS_KE_ERROR = 2,
        NTS_KE_WARNING = 3,
        NTS_KE_AEAD = 4,
        NTS_KE_NEW_COOKIE = 5,
        NTS_KE_SERVER = 6,
        NTS_KE_PORT = 7,
} NtsKeRecordType;

/* Error codes (section 4.1.3). */
#define NTS_KE_ERROR_UNRECOGNIZED_CRITICAL 0
#define NTS_KE_ERROR_BAD_REQUEST 1
#define NTS_KE_ERROR_INTERNAL 2

/* Protocol ID 0: NTPv4. AEAD ID 15: AEAD_AES_SIV_CMAC_256 (RFC 5297). */
#define NTS_PROTOCOL_NTPV4 0
#define NTS_AEAD_AES_SIV_CMAC_256 15

/* Keys of AES-SIV-CMAC-256: two AES-128 keys, 32 bytes. */
#define NTS_KEY_SIZE 32
/* Cookies are opaque to the client; servers make them 100 or so bytes
 * long. Longer ones are refused, which bounds every request we make. */
#define NTS_MAX_COOKIE_SIZE 256
#define NTS_MAX_COOKIES 8
/* A message longer than this is refused: 8 cookies and every other record
 * fit with room to spare. */
#define NTS_KE_MAX_MESSAGE 4096
#define NTS_KE_MAX_SERVER_NAME 255

typedef struct NtsCookie {
        uint16_t length;
        uint8_t data[NTS_MAX_COOKIE_SIZE];
} NtsCookie;

/* What a server's response says. server is "" when it sent no Server
 * record (the NTP server is then the KE server's host), port 0 when it
 * sent no Port record (123). error and warning are -1 when absent. */
typedef struct NtsKeResponse {
        int error;
        int warning;
        bool ntpv4;                     /* Next Protocol was NTPv4 */
        int aead;                       /* the AEAD it chose, or -1 */
        NtsCookie cookies[NTS_MAX_COOKIES];
        unsigned n_cookies;
        char server[NTS_KE_MAX_SERVER_NAME + 1];
        uint16_t port;
} NtsKeResponse;

/* What a client's request asks for: whether it offered NTPv4 and AES-SIV-
 * CMAC-256, and whether a critical record of an unknown type was in it. */
typedef struct NtsKeRequest {
        bool ntpv4;
        bool aes_siv;
        bool has_next_protocol;
        bool has_aead;
        bool unknown_critical;
} NtsKeRequest;

/* Appends one record at buf[*len], advancing *len. -ENOBUFS if it does
 * not fit in size bytes. */
int nts_ke_record_append(uint8_t *buf, size_t size, size_t *len, bool critical, uint16_t type,
                         const void *body, size_t body_len);

/* The client's request: NTPv4 and AES-SIV-CMAC-256, then End. Returns its
 * length or -ENOBUFS. */
int nts_ke_request_encode(uint8_t *buf, size_t size);

/* Whether buf[0..len) holds a whole message: its length once an End of
 * Message record has arrived, 0 when more bytes are needed, -EMSGSIZE
 * when the message cannot end within NTS_KE_MAX_MESSAGE bytes. */
int nts_ke_message_length(const uint8_t *buf, size_t len);

/* Parses a server's response. Returns 0, or -EBADMSG with *reason saying
 * what is wrong: a malformed record, an unknown critical record, no
 * NTPv4, no AES-SIV-CMAC-256, no cookie. An Error record is returned as
 * 0 with ret->error set: the caller decides what a refusal means. */
int nts_ke_response_parse(const uint8_t *buf, size_t len, NtsKeResponse *ret, const char **reason);

/* Parses a client's request. Returns 0, or -EBADMSG for a malformed
 * message (which earns a Bad Request error). */
int nts_ke_request_parse(const uint8_t *buf, size_t len, NtsKeRequest *ret);

/* A server's reply to a request: an Error record when error >= 0,
 * else NTPv4, AES-SIV-CMAC-256, the cookies and, when given, a Server
 * and a Port record; then End. Returns its length or -ENOBUFS. */
int nts_ke_response_encode(int error, const NtsCookie *cookies, unsigned n_cookies, const char *server,
                           uint16_t port, uint8_t *buf, size_t size);

/* A server's reply to a request that offers no protocol or no algorithm
 * it supports (RFC 8915 sections 4.1.2 and 4.1.5): the Next Protocol
 * record holds NTPv4 only when offered, the AEAD record AES-SIV-CMAC-256
 * only when offered, each empty otherwise; no cookie; then End. Returns
 * its length or -ENOBUFS. */
int nts_ke_refusal_encode(bool ntpv4, bool aes_siv, uint8_t *buf, size_t size);

/* The TLS exporter's context for the client-to-server (c2s true) or
 * server-to-client key (RFC 8915 section 5.1): the protocol ID, the AEAD
 * ID, and 0x00 or 0x01. */
void nts_ke_exporter_context(bool c2s, uint8_t ret[static 5]);
#define NTS_KE_EXPORTER_LABEL "EXPORTER-network-time-security"
