/* An NTS client's keys and cookies (see nts-cookies.h). */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "auth/nts-cookies.h"
#include "shared/macro.h"

void nts_jar_reset(NtsCookieJar *j, const uint8_t c2s[static NTS_KEY_SIZE], const uint8_t s2c[static NTS_KEY_SIZE],
                   const NtsCookie *cookies, unsigned n) {
        nts_jar_clear(j);
        memcpy(j->c2s, c2s, NTS_KEY_SIZE);
        memcpy(j->s2c, s2c, NTS_KEY_SIZE);
        j->has_keys = true;
        nts_jar_add(j, cookies, n);
}

bool nts_jar_take(NtsCookieJar *j, NtsCookie *ret) {
        if (j->n_cookies == 0)
                return false;
        *ret = j->cookies[0];
        memmove(j->cookies, j->cookies + 1, (j->n_cookies - 1) * sizeof(NtsCookie));
        gnutls_memset(&j->cookies[--j->n_cookies], 0, sizeof(NtsCookie));
        return true;
}

void nts_jar_add(NtsCookieJar *j, const NtsCookie *cookies, unsigned n) {
        NtsCookie dropped;
        for (unsigned i = 0; i < n; i++) {
                if (j->n_cookies == NTS_MAX_COOKIES)
                        (void) nts_jar_take(j, &dropped);
                j->cookies[j->n_cookies++] = cookies[i];
        }
        gnutls_memset(&dropped, 0, sizeof dropped);
}

void nts_jar_clear(NtsCookieJar *j) {
        gnutls_memset(j, 0, sizeof *j);
}

static void write_hex(FILE *f, const char *name, const uint8_t *p, size_t n) {
        fprintf(f, "%s ", name);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%02x", p[i]);
        fputc('\n', f);
}

int nts_jar_write(const NtsCookieJar *j, const char *ke_host, uint16_t ke_port, const char *ntp_address,
                  uint16_t ntp_port, FILE *f) {
        fprintf(f, "tempus-nts 1\nke %s %u\nntp %s %u\n", ke_host, ke_port, ntp_address, ntp_port);
        write_hex(f, "c2s", j->c2s, NTS_KEY_SIZE);
        write_hex(f, "s2c", j->s2c, NTS_KEY_SIZE);
        for (unsigned i = 0; i < j->n_cookies; i++)
                write_hex(f, "cookie", j->cookies[i].data, j->cookies[i].length);
        return ferror(f) ? -EIO : 0;
}

/* Reads hex digits into out (at most max bytes); returns the count or -1. */
static int read_hex(const char *s, uint8_t *out, size_t max) {
        size_t n = strlen(s);
        if (n == 0 || n % 2 || n / 2 > max)
                return -1;
        for (size_t i = 0; i < n / 2; i++) {
                char byte[3] = { s[2 * i], s[2 * i + 1], 0 }, *end;
                out[i] = (uint8_t) strtoul(byte, &end, 16);
                if (*end || !strchr("0123456789abcdefABCDEF", byte[0]) || !strchr("0123456789abcdefABCDEF", byte[1]))
                        return -1;
        }
        return (int) (n / 2);
}

static int parse_line(char *line, const char *ke_host, uint16_t ke_port, NtsCookieJar *j, char *ntp_address,
                      uint16_t *ntp_port, unsigned *seen) {
        char *save = NULL, *key = strtok_r(line, " ", &save), *a = strtok_r(NULL, " ", &save),
             *b = strtok_r(NULL, " ", &save);
        if (!key || !a)
                return -EBADMSG;
        if (streq(key, "tempus-nts"))
                return streq(a, "1") ? (*seen |= 1, 0) : -EBADMSG;
        if (streq(key, "ke"))
                return b && streq(a, ke_host) && atoi(b) == ke_port ? (*seen |= 2, 0) : -EBADMSG;
        if (streq(key, "ntp")) {
                long port = b ? strtol(b, NULL, 10) : 0;
                if (strlen(a) >= 64 || port < 1 || port > 65535)
                        return -EBADMSG;
                strcpy(ntp_address, a);
                *ntp_port = (uint16_t) port;
                return *seen |= 4, 0;
        }
        if (streq(key, "c2s") || streq(key, "s2c"))
                return read_hex(a, key[0] == 'c' ? j->c2s : j->s2c, NTS_KEY_SIZE) == NTS_KEY_SIZE
                               ? (*seen |= key[0] == 'c' ? 8 : 16, 0) : -EBADMSG;
        if (streq(key, "cookie") && j->n_cookies < NTS_MAX_COOKIES) {
                int n = read_hex(a, j->cookies[j->n_cookies].data, NTS_MAX_COOKIE_SIZE);
                if (n <= 0)
                        return -EBADMSG;
                j->cookies[j->n_cookies++].length = (uint16_t) n;
                return 0;
        }
        return -EBADMSG;
}

int nts_jar_parse(const char *text, const char *ke_host, uint16_t ke_port, NtsCookieJar *ret,
                  char ntp_address[static 64], uint16_t *ret_ntp_port) {
        _cleanup_free_ char *copy = strdup(text);
        NtsCookieJar j = {};
        unsigned seen = 0;
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save))
                r = parse_line(line, ke_host, ke_port, &j, ntp_address, ret_ntp_port, &seen);
        gnutls_memset(copy, 0, strlen(text));
        if (r < 0 || seen != 31) {
                nts_jar_clear(&j);
                return -EBADMSG;
        }
        j.has_keys = true;
        *ret = j;
        nts_jar_clear(&j);
        return 0;
}
