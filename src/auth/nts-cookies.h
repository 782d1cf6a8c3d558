/* What an NTS client holds for one server: the two keys from NTS-KE and
 * up to 8 cookies, each used once, oldest first (RFC 8915 section 5.7);
 * and its text form for the dump directory, so that a restart needs no
 * new NTS-KE:
 *
 *     tempus-nts 1
 *     ke HOST PORT            the NTS-KE server it came from
 *     ntp ADDRESS PORT        the NTP server NTS-KE named
 *     c2s HEX
 *     s2c HEX
 *     cookie HEX              one line per cookie
 *
 * Pure: the daemon reads and writes the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auth/nts-ke.h"

typedef struct NtsCookieJar {
        uint8_t c2s[NTS_KEY_SIZE];
        uint8_t s2c[NTS_KEY_SIZE];
        NtsCookie cookies[NTS_MAX_COOKIES];     /* cookies[0] is the oldest */
        unsigned n_cookies;
        bool has_keys;
} NtsCookieJar;

/* Replaces keys and cookies with those of a new NTS-KE. */
void nts_jar_reset(NtsCookieJar *j, const uint8_t c2s[static NTS_KEY_SIZE], const uint8_t s2c[static NTS_KEY_SIZE],
                   const NtsCookie *cookies, unsigned n);
/* Takes the oldest cookie out, so that it is never sent twice. Returns
 * false when none is left. */
bool nts_jar_take(NtsCookieJar *j, NtsCookie *ret);
/* Adds the cookies of a reply, dropping the oldest beyond 8. */
void nts_jar_add(NtsCookieJar *j, const NtsCookie *cookies, unsigned n);
/* Forgets keys and cookies (after an NTS NAK), wiping them. */
void nts_jar_clear(NtsCookieJar *j);

/* Writes the jar's text form. */
int nts_jar_write(const NtsCookieJar *j, const char *ke_host, uint16_t ke_port, const char *ntp_address,
                  uint16_t ntp_port, FILE *f);
/* Reads it back: 0 and the jar when the text is whole and was made for
 * this NTS-KE server; -EBADMSG for anything else (a file of another
 * server, a truncated or corrupt one). ntp_address holds 64 bytes. */
int nts_jar_parse(const char *text, const char *ke_host, uint16_t ke_port, NtsCookieJar *ret,
                  char ntp_address[static 64], uint16_t *ret_ntp_port);
