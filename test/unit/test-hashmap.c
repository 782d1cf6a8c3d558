/* Tests for src/shared/hashmap: entries put are found, a key is stored
 * once, removal keeps every other entry reachable (backward shift), and the
 * table grows without losing anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "shared/hashmap.h"

#define N 2000

static char keys[N][16];

static Hashmap *filled(size_t n) {
        Hashmap *h = hashmap_new(&string_hash_ops);

        assert_non_null(h);
        for (size_t i = 0; i < n; i++) {
                snprintf(keys[i], sizeof keys[i], "host%zu", i);
                assert_int_equal(hashmap_put(h, keys[i], keys[i]), 0);
        }
        assert_int_equal(hashmap_size(h), n);
        return h;
}

static void entries_put_are_found(void **state) {
        Hashmap *h = filled(N);

        for (size_t i = 0; i < N; i++) {
                char copy[16];
                strcpy(copy, keys[i]);      /* equal, not the same pointer */
                assert_ptr_equal(hashmap_get(h, copy), keys[i]);
        }
        assert_null(hashmap_get(h, "absent"));
        hashmap_free(h);
}

static void a_key_is_stored_once(void **state) {
        Hashmap *h = filled(3);
        char other[16] = "host1";

        assert_int_equal(hashmap_put(h, other, other), -EEXIST);
        assert_ptr_equal(hashmap_get(h, "host1"), keys[1]);
        assert_int_equal(hashmap_size(h), 3);
        hashmap_free(h);
}

static void removal_keeps_the_rest_reachable(void **state) {
        Hashmap *h = filled(N);

        /* Remove every third entry, then check all of them. */
        for (size_t i = 0; i < N; i += 3)
                assert_ptr_equal(hashmap_remove(h, keys[i]), keys[i]);
        assert_null(hashmap_remove(h, keys[0]));
        for (size_t i = 0; i < N; i++)
                assert_ptr_equal(hashmap_get(h, keys[i]), i % 3 == 0 ? NULL : keys[i]);
        assert_int_equal(hashmap_size(h), N - (N + 2) / 3);
        /* And back in. */
        for (size_t i = 0; i < N; i += 3)
                assert_int_equal(hashmap_put(h, keys[i], keys[i]), 0);
        for (size_t i = 0; i < N; i++)
                assert_ptr_equal(hashmap_get(h, keys[i]), keys[i]);
        hashmap_free(h);
}

static void an_empty_table_answers(void **state) {
        Hashmap *h = hashmap_new(&string_hash_ops);

        assert_null(hashmap_get(h, "x"));
        assert_null(hashmap_remove(h, "x"));
        assert_int_equal(hashmap_size(h), 0);
        assert_null(hashmap_free(h));
        assert_null(hashmap_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(entries_put_are_found),
                cmocka_unit_test(a_key_is_stored_once),
                cmocka_unit_test(removal_keeps_the_rest_reachable),
                cmocka_unit_test(an_empty_table_answers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
