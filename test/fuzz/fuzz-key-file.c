/* Fuzz target for the key file parser: any text is parsed into keys or
 * rejected, without crashing or leaking; every key it yields has a known
 * type, a length that type allows, and makes a MAC that verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
#include "auth/mac.h"
#include "shared/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_key(const Key *k) {
        uint8_t buf[48 + MAC_MAX_SIZE] = { 0x23 };

        if (!key_type_to_string(k->type) || k->length == 0 || k->length > KEY_MAX_LENGTH)
                abort();
        int n = mac_sign(k, mac_digest_size(k->type, 4), buf, 48, sizeof buf);
        if (n < 0 || !mac_verify(k, 4, buf, (size_t) n, (size_t) n - 48))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        KeyTable *t = NULL;

        if (!text)
                abort();
        log_set_max_level(LOG_CRIT);
        memcpy(text, data, size);
        text[size] = 0;
        if (key_table_parse(text, "fuzz.keys", &t) >= 0)
                for (uint32_t id = 0; id < 64; id++) {
                        const Key *k = key_table_find(t, id);
                        if (k)
                                check_key(k);
                }
        key_table_free(t);
        free(text);
        return 0;
}
