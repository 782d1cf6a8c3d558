/* Fuzz target for the NTS extension fields of NTP packets: any datagram
 * is checked as a reply to a request of fixed keys and Unique Identifier
 * (the seeds hold a reply that verifies), and parsed as a request, its
 * cookie opened and its Authenticator verified with fixed server keys,
 * without crashing or reading out of bounds; a request that parses gets a
 * reply that is never longer than itself. */
#include <stdlib.h>
#include <string.h>

#include "auth/nts-ntp.h"
#include "auth/nts-server-key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys and UID of the seed corpus (test/fuzz/corpus/nts-ntp). */
static const uint8_t c2s[32] = { 1 }, s2c[32] = { 2 }, uid[32] = { 3 };
static const uint8_t server_key[32] = { 4 };

static void check_reply(const uint8_t *data, size_t size) {
        NtsCookie cookies[NTS_MAX_COOKIES];
        unsigned n;

        NtsReplyCheck c = nts_client_reply_check(data, size, uid, s2c, cookies, NTS_MAX_COOKIES, &n);
        if (c < 0 || c >= _NTS_REPLY_CHECK_MAX || n > NTS_MAX_COOKIES || (c != NTS_REPLY_OK && n != 0))
                abort();
        for (unsigned i = 0; i < n; i++)
                if (cookies[i].length == 0 || cookies[i].length > NTS_MAX_COOKIE_SIZE)
                        abort();
}

static void check_request(const uint8_t *data, size_t size) {
        NtsServerRequest req;
        NtsServerKeys keys = {};
        uint8_t a[32], b[32], reply[2048] = { 0x24 }, nonce[16] = { 5 };
        NtsCookie cookie;
        NtsAead *aead;

        if (nts_server_request_parse(data, size, &req) < 0)
                return;
        if (req.uid + req.uid_len > data + size || req.cookie + req.cookie_len > data + size ||
            req.ciphertext + req.ciphertext_len > data + size || req.auth_offset >= size)
                abort();
        nts_server_keys_rotate(&keys, server_key, 0);
        (void) nts_cookie_open(&keys, req.cookie, req.cookie_len, a, b);
        if (nts_aead_new(c2s, &aead) < 0)
                abort();
        (void) nts_server_request_verify(&req, data, aead);
        if (nts_cookie_seal(&keys, c2s, s2c, nonce, &cookie) < 0)
                abort();
        nts_server_keys_clear(&keys);
        if (nts_aead_set_key(aead, s2c) < 0)
                abort();
        int k = nts_server_reply_finish(reply, 48, size < sizeof reply ? size : sizeof reply, &req, &cookie, 1, aead,
                                        nonce);
        nts_aead_free(aead);
        if (k > (int) size)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 48)
                return 0;
        check_reply(data, size);
        check_request(data, size);
        return 0;
}
