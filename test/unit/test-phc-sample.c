/* Tests for src/clock/phc-sample: which of the three PHC ioctls is used
 * (the best one the driver answers, remembered), and what their answers
 * mean as readings. The ioctls are fakes that answer or refuse as told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "clock/phc-sample.h"
#include "shared/macro.h"
#include "test-util.h"

#define T0 (INT64_C(1800000000) * NSEC_PER_SEC)

typedef struct FakeDriver {
        int answer[_PHC_METHOD_MAX];    /* what each way returns: a count or -errno */
        unsigned calls[_PHC_METHOD_MAX];
} FakeDriver;

static int fake(FakeDriver *d, PhcMethod m, PhcReading *readings) {
        d->calls[m]++;
        for (int i = 0; i < d->answer[m]; i++)
                readings[i] = (PhcReading) { T0 + i, T0 + i + (nsec_t) m * NSEC_PER_SEC, T0 + i + 1 };
        return d->answer[m];
}

static int fake_precise(void *u, PhcReading r[static PHC_TRACKER_MAX_READINGS]) {
        return fake(u, PHC_METHOD_PRECISE, r);
}
static int fake_extended(void *u, PhcReading r[static PHC_TRACKER_MAX_READINGS]) {
        return fake(u, PHC_METHOD_EXTENDED, r);
}
static int fake_basic(void *u, PhcReading r[static PHC_TRACKER_MAX_READINGS]) {
        return fake(u, PHC_METHOD_BASIC, r);
}

static const PhcSampleFunc fakes[_PHC_METHOD_MAX] = { fake_precise, fake_extended, fake_basic };

typedef struct ChoiceCase {
        const char *name;
        int precise, extended, basic;   /* the driver's answers */
        int expected;                   /* phc_sampler_sample()'s */
        PhcMethod method;               /* the way it keeps */
} ChoiceCase;

static const ChoiceCase choices[] = {
        { "all three: precise",              1,           10,           10, 1,           PHC_METHOD_PRECISE },
        { "no precise: extended",  -EOPNOTSUPP,           10,           10, 10,          PHC_METHOD_EXTENDED },
        { "old kernel (ENOTTY): extended", -ENOTTY,       10,           10, 10,          PHC_METHOD_EXTENDED },
        { "basic only",            -EOPNOTSUPP,  -EOPNOTSUPP,            7, 7,           PHC_METHOD_BASIC },
        { "extended refused with EINVAL", -EOPNOTSUPP, -EINVAL,          5, 5,           PHC_METHOD_BASIC },
        { "none",                  -EOPNOTSUPP,  -EOPNOTSUPP,  -EOPNOTSUPP, -EOPNOTSUPP, _PHC_METHOD_MAX },
        /* A passing failure of a way the driver has does not give it up. */
        { "precise busy",              -EBUSY,           10,           10, -EBUSY,      PHC_METHOD_PRECISE },
        { "extended fails with EIO", -EOPNOTSUPP,       -EIO,           10, -EIO,        PHC_METHOD_EXTENDED },
};

static void the_best_way_the_driver_answers_is_chosen(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(choices); i++) {
                const ChoiceCase *c = &choices[i];
                FakeDriver d = { .answer = { c->precise, c->extended, c->basic } };
                PhcReading r[PHC_TRACKER_MAX_READINGS];
                PhcSampler s;

                print_message("%s\n", c->name);
                phc_sampler_init(&s, fakes, &d);
                assert_int_equal(phc_sampler_sample(&s, r), c->expected);
                assert_int_equal(s.method, c->method);
                if (c->expected > 0)    /* the readings are that way's */
                        assert_int_equal(r[0].phc - r[0].sys_before, (nsec_t) c->method * NSEC_PER_SEC);
        }
}

/* A way the driver refused is not asked again; the chosen one is asked
 * first from then on. */
static void a_refused_way_is_not_asked_again(void **state) {
        FakeDriver d = { .answer = { -EOPNOTSUPP, 10, 10 } };
        PhcReading r[PHC_TRACKER_MAX_READINGS];
        PhcSampler s;

        phc_sampler_init(&s, fakes, &d);
        for (int i = 0; i < 3; i++)
                assert_int_equal(phc_sampler_sample(&s, r), 10);
        assert_int_equal(d.calls[PHC_METHOD_PRECISE], 1);
        assert_int_equal(d.calls[PHC_METHOD_EXTENDED], 3);
        assert_int_equal(d.calls[PHC_METHOD_BASIC], 0);
        assert_string_equal(phc_method_to_string(s.method), "PTP_SYS_OFFSET_EXTENDED");
}

static struct ptp_clock_time ptp(nsec_t t) {
        return (struct ptp_clock_time) { .sec = t / NSEC_PER_SEC, .nsec = (uint32_t) (t % NSEC_PER_SEC) };
}

static void precise_is_one_reading_without_a_bracket(void **state) {
        struct ptp_sys_offset_precise p = { .device = ptp(T0 + 37 * NSEC_PER_SEC), .sys_realtime = ptp(T0 + 5) };
        PhcReading r[PHC_TRACKER_MAX_READINGS];

        assert_int_equal(phc_readings_from_precise(&p, r), 1);
        assert_int_equal(r[0].sys_before, T0 + 5);
        assert_int_equal(r[0].sys_after, T0 + 5);
        assert_int_equal(r[0].phc, T0 + 37 * NSEC_PER_SEC);
}

static void extended_gives_a_bracket_per_reading(void **state) {
        struct ptp_sys_offset_extended p = { .n_samples = 3 };
        PhcReading r[PHC_TRACKER_MAX_READINGS];

        for (int i = 0; i < 3; i++) {
                p.ts[i][0] = ptp(T0 + i * 1000);
                p.ts[i][1] = ptp(T0 + i * 1000 + 400 + 37 * NSEC_PER_SEC);
                p.ts[i][2] = ptp(T0 + i * 1000 + 900);
        }
        assert_int_equal(phc_readings_from_extended(&p, r), 3);
        assert_int_equal(r[2].sys_before, T0 + 2000);
        assert_int_equal(r[2].phc, T0 + 2400 + 37 * NSEC_PER_SEC);
        assert_int_equal(r[2].sys_after, T0 + 2900);
}

/* PTP_SYS_OFFSET alternates system and PHC readings: each PHC reading lies
 * between its neighbours, which it shares. */
static void basic_brackets_each_phc_reading_by_its_neighbours(void **state) {
        struct ptp_sys_offset p = { .n_samples = 2 };
        PhcReading r[PHC_TRACKER_MAX_READINGS];

        for (int i = 0; i < 5; i++)
                p.ts[i] = ptp(T0 + i * 1000 + (i % 2 ? 37 * NSEC_PER_SEC : 0));
        assert_int_equal(phc_readings_from_basic(&p, r), 2);
        assert_int_equal(r[0].sys_before, T0);
        assert_int_equal(r[0].phc, T0 + 1000 + 37 * NSEC_PER_SEC);
        assert_int_equal(r[0].sys_after, T0 + 2000);
        assert_int_equal(r[1].sys_before, T0 + 2000);
        assert_int_equal(r[1].sys_after, T0 + 4000);
}

static void a_sample_count_beyond_the_kernels_limit_is_clamped(void **state) {
        struct ptp_sys_offset_extended p = { .n_samples = 1000 };
        PhcReading r[PTP_MAX_SAMPLES];

        assert_int_equal(phc_readings_from_extended(&p, r), PTP_MAX_SAMPLES);
}

/* The readings go into a tracker as they are: two samplings convert. */
static void readings_feed_the_tracker(void **state) {
        struct ptp_sys_offset_precise p;
        PhcReading r[PHC_TRACKER_MAX_READINGS];
        PhcTracker t;
        nsec_t sys;

        phc_tracker_init(&t);
        for (int i = 0; i < 2; i++) {
                p = (struct ptp_sys_offset_precise) { .device = ptp(T0 + i * NSEC_PER_SEC + 37 * NSEC_PER_SEC),
                                                      .sys_realtime = ptp(T0 + i * NSEC_PER_SEC) };
                assert_int_equal(phc_tracker_add(&t, r, phc_readings_from_precise(&p, r)), 0);
        }
        assert_int_equal(phc_tracker_convert(&t, T0 + 37 * NSEC_PER_SEC + NSEC_PER_SEC / 2, &sys, NULL), 0);
        assert_near(nsec_diff(sys, T0 + NSEC_PER_SEC / 2), 0, 1e-9);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_best_way_the_driver_answers_is_chosen),
                cmocka_unit_test(a_refused_way_is_not_asked_again),
                cmocka_unit_test(precise_is_one_reading_without_a_bracket),
                cmocka_unit_test(extended_gives_a_bracket_per_reading),
                cmocka_unit_test(basic_brackets_each_phc_reading_by_its_neighbours),
                cmocka_unit_test(a_sample_count_beyond_the_kernels_limit_is_clamped),
                cmocka_unit_test(readings_feed_the_tracker),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
