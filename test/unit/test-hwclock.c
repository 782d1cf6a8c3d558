/* Tests for src/daemon/hwclock with interfaces that have no hardware
 * timestamping on any machine (loopback, and one that does not exist):
 * HWTimestamp= names the interface once, turns nothing on, starts no
 * sampling timer and gives no converter, so the sockets keep the kernel's
 * software timestamps. HWTimestamp=* is left to the integration test
 * `timestamping`, in a network namespace of its own: here it could turn
 * hardware timestamping on for a real card. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "daemon/hwclock.h"
#include "test-util.h"

/* hwclocks_new(want) with what it logged in out. */
static HwClocks *new_logged(sd_event *e, const char *want, char *out, size_t size) {
        char path[] = "/tmp/tempus-test-hwclock-XXXXXX";
        int fd = mkstemp(path);
        HwClocks *h = NULL;

        assert_true(fd >= 0);
        close(fd);
        int saved = stderr_redirect(path);
        int r = hwclocks_new(e, want, &h);
        stderr_restore(saved, path, out, size);
        unlink(path);
        assert_int_equal(r, 0);
        assert_non_null(h);
        return h;
}

static size_t count(const char *text, const char *what) {
        size_t n = 0;
        for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
                n++;
        return n;
}

static void without_hwtimestamp_nothing_is_asked(void **state) {
        sd_event *e = NULL;
        char out[1024];

        assert_int_equal(sd_event_new(&e), 0);
        HwClocks *h = new_logged(e, NULL, out, sizeof out);
        assert_false(hwclocks_enabled(h));
        assert_null(hwclocks_converter(h));
        assert_null(h->timer);
        assert_null(strstr(out, "HWTimestamp"));
        hwclocks_free(h);
        sd_event_unref(e);
}

static void loopback_is_named_once_as_software_only(void **state) {
        sd_event *e = NULL;
        char out[1024];

        assert_int_equal(sd_event_new(&e), 0);
        HwClocks *h = new_logged(e, "lo", out, sizeof out);
        assert_false(hwclocks_enabled(h));
        assert_null(hwclocks_converter(h));
        assert_null(h->timer);
        assert_int_equal(count(out, "HWTimestamp: lo has no hardware timestamping (software only): using the "
                                    "kernel's software timestamps."), 1);
        assert_int_equal(count(out, "HWTimestamp"), 1);
        hwclocks_free(h);
        sd_event_unref(e);
}

static void a_missing_interface_is_a_warning(void **state) {
        sd_event *e = NULL;
        char out[1024];

        assert_int_equal(sd_event_new(&e), 0);
        HwClocks *h = new_logged(e, "tempus-none0", out, sizeof out);
        assert_false(hwclocks_enabled(h));
        assert_int_equal(count(out, "HWTimestamp=tempus-none0: no such network interface."), 1);
        hwclocks_free(h);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(without_hwtimestamp_nothing_is_asked),
                cmocka_unit_test(loopback_is_named_once_as_software_only),
                cmocka_unit_test(a_missing_interface_is_a_warning),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
