/* Tests for src/core/selection: truechimers and falsetickers, prefer,
 * MinSources, combining, AuthSelectMode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "core/selection.h"
#include "test-util.h"

static SelectCandidate good(double offset, double distance) {
        return (SelectCandidate) { .usable = true, .stratum = 2, .offset = offset, .offset_sd = distance / 4,
                                   .distance = distance, .skew = 1e-8, .std_dev = 1e-5 };
}

static void select_n(const SelectCandidate *c, size_t n, int previous, SelectState *states, SelectResult *r) {
        select_sources(c, n, previous, &select_default_params, states, r);
}

static void one_source_is_selected(void **state) {
        SelectCandidate c[] = { good(1e-3, 5e-3) };
        SelectState st[1];
        SelectResult r;

        select_n(c, 1, -1, st, &r);
        assert_int_equal(r.selected, 0);
        assert_int_equal(st[0], SELECT_SELECTED);
        assert_near(r.offset, 1e-3, 1e-12);
        assert_null(r.reason);
}

static void two_agreeing_sources_are_both_used(void **state) {
        SelectCandidate c[] = { good(1e-3, 5e-3), good(2e-3, 6e-3) };
        SelectState st[2];
        SelectResult r;

        select_n(c, 2, -1, st, &r);
        assert_int_equal(r.selected, 0);
        assert_int_equal(st[1], SELECT_COMBINED);
        assert_int_equal(r.n_combined, 2);
        /* Inverse-variance mean: weights 1/25 and 1/36. */
        double expect = (1e-3 / 25 + 2e-3 / 36) / (1.0 / 25 + 1.0 / 36);
        assert_near(r.offset, expect, 1e-12);
}

static void two_disagreeing_sources_select_nothing(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0.5, 1e-3) };
        SelectState st[2];
        SelectResult r;

        select_n(c, 2, -1, st, &r);
        assert_int_equal(r.selected, -1);
        assert_string_equal(r.reason, "no majority agrees");
        assert_int_equal(st[0], SELECT_NOT_COMBINED);
}

static void the_first_to_answer_cannot_win_alone(void **state) {
        /* Five configured, one answered: the four still to answer could
         * all disagree with it. */
        SelectCandidate c[5] = { good(1.0, 2e-3) };
        SelectState st[5];
        SelectResult r;

        for (size_t i = 1; i < 5; i++)
                c[i] = (SelectCandidate) { .pending = true };
        select_n(c, 5, -1, st, &r);
        assert_int_equal(r.selected, -1);
        assert_string_equal(r.reason, "waiting for the sources to answer");
        assert_int_equal(r.n_voters, 5);
        /* Once they answered and three agree elsewhere, it is a liar. */
        c[1] = good(0, 2e-3);
        c[2] = good(0.0005, 2e-3);
        c[3] = good(-0.0005, 2e-3);
        c[4] = good(2.0, 2e-3);
        select_n(c, 5, -1, st, &r);
        assert_int_equal(st[0], SELECT_FALSETICKER);
        assert_int_equal(r.n_agree, 3);
        assert_true(r.selected >= 1 && r.selected <= 3);
}

static void three_liars_of_five_leave_no_majority(void **state) {
        SelectCandidate c[] = { good(1.0, 2e-3), good(2.0, 2e-3), good(3.0, 2e-3), good(0, 2e-3),
                                good(0.0001, 2e-3) };
        SelectState st[5];
        SelectResult r;

        select_n(c, 5, -1, st, &r);
        assert_int_equal(r.selected, -1);
        assert_string_equal(r.reason, "no majority agrees");
        assert_int_equal(r.n_agree, 2);
        assert_int_equal(r.n_voters, 5);
}

static void sources_beyond_max_distance_take_no_part(void **state) {
        SelectCandidate c[] = { good(0, 4.0) };
        SelectState st[1];
        SelectResult r;

        select_n(c, 1, -1, st, &r);
        assert_int_equal(r.selected, -1);
        assert_int_equal(st[0], SELECT_UNUSABLE);
}

static void two_liars_of_five_are_falsetickers(void **state) {
        SelectCandidate c[] = { good(0.0001, 2e-3), good(0.35, 2e-3), good(-0.0002, 2e-3), good(0.9, 2e-3),
                                good(0.0003, 2e-3) };
        SelectState st[5];
        SelectResult r;

        select_n(c, 5, -1, st, &r);
        assert_int_equal(st[1], SELECT_FALSETICKER);
        assert_int_equal(st[3], SELECT_FALSETICKER);
        assert_true(st[0] >= SELECT_COMBINED && st[2] >= SELECT_COMBINED && st[4] >= SELECT_COMBINED);
        assert_int_equal(r.n_truechimers, 3);
        assert_near(r.offset, 0, 1e-3);
}

static void a_preferred_truechimer_wins(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 4e-3) };
        SelectState st[2];
        SelectResult r;

        c[1].prefer = true;
        select_n(c, 2, -1, st, &r);
        assert_int_equal(r.selected, 1);
        /* Only preferred sources are combined. */
        assert_int_equal(st[0], SELECT_NOT_COMBINED);
}

static void a_preferred_falseticker_does_not(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 1e-3), good(2, 1e-3) };
        SelectState st[3];
        SelectResult r;

        c[2].prefer = true;
        select_n(c, 3, -1, st, &r);
        assert_int_equal(st[2], SELECT_FALSETICKER);
        assert_true(r.selected == 0 || r.selected == 1);
}

static void min_sources_holds_back_selection(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 1e-3) };
        SelectParams p = select_default_params;
        SelectState st[2];
        SelectResult r;

        p.min_sources = 3;
        select_sources(c, 2, -1, &p, st, &r);
        assert_int_equal(r.selected, -1);
        assert_string_equal(r.reason, "fewer sources agree than MinSources");
        p.min_sources = 2;
        select_sources(c, 2, -1, &p, st, &r);
        assert_true(r.selected >= 0);
}

static void a_jittery_source_is_left_out(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 3e-3) };
        SelectState st[2];
        SelectResult r;

        c[0].std_dev = 2.0;
        select_n(c, 2, -1, st, &r);
        assert_int_equal(st[0], SELECT_JITTERY);
        assert_int_equal(r.selected, 1);
}

static void unusable_sources_take_no_part(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(5, 1e-3) };
        SelectState st[2];
        SelectResult r;

        c[1].usable = false;
        select_n(c, 2, -1, st, &r);
        assert_int_equal(r.selected, 0);
        assert_int_equal(st[1], SELECT_UNUSABLE);
}

static void the_previous_peer_stays_unless_clearly_beaten(void **state) {
        SelectCandidate c[] = { good(0, 1.00e-3), good(0, 1.05e-3) };
        SelectState st[2];
        SelectResult r;

        select_n(c, 2, 1, st, &r);
        assert_int_equal(r.selected, 1);
        c[1].distance = 2e-3;
        select_n(c, 2, 1, st, &r);
        assert_int_equal(r.selected, 0);
}

static void lower_stratum_breaks_a_tie(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 1e-3) };
        SelectState st[2];
        SelectResult r;

        c[0].stratum = 3;
        c[1].stratum = 1;
        select_n(c, 2, -1, st, &r);
        assert_int_equal(r.selected, 1);
}

static void far_sources_are_not_combined(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 10e-3) };
        SelectState st[2];
        SelectResult r;

        select_n(c, 2, -1, st, &r);
        assert_int_equal(st[1], SELECT_NOT_COMBINED);
        assert_int_equal(r.n_combined, 1);
}

/* A candidate whose quality is its spread plus an asymmetry bound. */
static SelectCandidate spread_and_bound(double offset, double spread, double bound) {
        SelectCandidate c = good(offset, spread + bound);
        c.quality = spread + bound;
        c.asymmetry_bound = bound;
        return c;
}

/* Selects among three candidates that all agree; all three are combined. */
static double combined_offset_of_three(const SelectCandidate *c) {
        SelectState st[3];
        SelectResult r;

        select_n(c, 3, -1, st, &r);
        assert_int_equal(r.n_combined, 3);
        return r.offset;
}

/* Two quiet sources agree to a microsecond where their bounds allow
 * milliseconds: the bounds are not errors here, and a noisy third
 * (a millisecond of spread) barely moves their combination. */
static void agreeing_quiet_sources_outweigh_a_noisy_one(void **state) {
        SelectCandidate c[] = { spread_and_bound(70e-6, 2e-6, 8e-3), spread_and_bound(72e-6, 2e-6, 12e-3),
                                spread_and_bound(-700e-6, 1e-3, 9e-3) };
        assert_near(combined_offset_of_three(c), 71e-6, 2e-6);
}

/* Quiet sources 800 us apart show fixed errors that large: the noisy one,
 * in the middle, then weighs almost as much as each of them. */
static void disagreeing_quiet_sources_share_the_weight(void **state) {
        SelectCandidate c[] = { spread_and_bound(500e-6, 10e-6, 5e-3), spread_and_bound(-300e-6, 10e-6, 5e-3),
                                spread_and_bound(0, 300e-6, 5e-3) };
        /* 100 us for the quiet two alone; 200 / 2.78 us with the third at
         * 0.78 of their weight. */
        assert_near(combined_offset_of_three(c), 72e-6, 5e-6);
}

static void the_majority_leap_indicator_wins(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 1e-3), good(0, 1e-3) };
        SelectState st[3];
        SelectResult r;

        c[0].leap = c[1].leap = 1;
        select_n(c, 3, -1, st, &r);
        assert_int_equal(r.leap, 1);
        c[1].leap = 0;
        select_n(c, 3, -1, st, &r);
        assert_int_equal(r.leap, 0);
}

static void state_names_match_the_bus_api(void **state) {
        assert_string_equal(select_state_to_string(SELECT_SELECTED), "selected");
        assert_string_equal(select_state_to_string(SELECT_NOT_COMBINED), "not-combined");
        assert_string_equal(select_state_to_string(SELECT_FALSETICKER), "falseticker");
        assert_null(select_state_to_string(_SELECT_STATE_MAX));
}

/* ---- AuthSelectMode ------------------------------------------------------ */

static SelectCandidate authed(double offset, double distance) {
        SelectCandidate c = good(offset, distance);
        c.authenticated = true;
        return c;
}

static void select_mode(const SelectCandidate *c, size_t n, SelectAuthMode mode, SelectState *states,
                        SelectResult *r) {
        SelectParams p = select_default_params;
        p.auth_mode = mode;
        select_sources(c, n, -1, &p, states, r);
}

static void mix_three_unauthenticated_liars_cannot_outvote_one_authenticated(void **state) {
        SelectCandidate c[] = { authed(0, 1e-3), good(0.5, 1e-3), good(0.5, 1e-3), good(0.5, 1e-3) };
        SelectState st[4];
        SelectResult r;

        select_mode(c, 4, SELECT_AUTH_MIX, st, &r);
        assert_int_equal(r.selected, 0);
        assert_near(r.offset, 0, 1e-12);
        for (int i = 1; i < 4; i++)
                assert_int_equal(st[i], SELECT_FALSETICKER);

        /* The same in ignore mode: the majority, unauthenticated, wins. */
        select_mode(c, 4, SELECT_AUTH_IGNORE, st, &r);
        assert_true(r.selected >= 1);
        assert_int_equal(st[0], SELECT_FALSETICKER);
}

static void mix_combines_unauthenticated_sources_that_agree(void **state) {
        SelectCandidate c[] = { authed(1e-3, 5e-3), good(2e-3, 5e-3) };
        SelectState st[2];
        SelectResult r;

        select_mode(c, 2, SELECT_AUTH_MIX, st, &r);
        assert_int_equal(r.n_combined, 2);
        assert_int_equal(st[1] == SELECT_COMBINED || st[1] == SELECT_SELECTED, true);
}

static void mix_selects_nothing_without_an_authenticated_source(void **state) {
        SelectCandidate c[] = { authed(0, 1e-3), good(0, 1e-3), good(0, 1e-3) };
        SelectState st[3];
        SelectResult r;

        c[0].usable = false;            /* its replies fail to verify: no samples */
        select_mode(c, 3, SELECT_AUTH_MIX, st, &r);
        assert_int_equal(r.selected, -1);
        assert_string_equal(r.reason, "no authenticated source is usable");
        /* Only unauthenticated sources configured: mix uses them. */
        select_mode(c + 1, 2, SELECT_AUTH_MIX, st, &r);
        assert_true(r.selected >= 0);
}

static void require_never_uses_an_unauthenticated_source(void **state) {
        SelectCandidate c[] = { good(0, 1e-3), good(0, 1e-3) };
        SelectState st[3];
        SelectResult r;

        select_mode(c, 2, SELECT_AUTH_REQUIRE, st, &r);
        assert_int_equal(r.selected, -1);
        assert_int_equal(st[0], SELECT_UNUSABLE);
        assert_string_equal(r.reason, "no usable source");
}

static void prefer_drops_unauthenticated_sources_only_beside_authenticated_ones(void **state) {
        SelectCandidate c[] = { authed(0.1, 1e-3), good(0, 1e-3), good(0, 1e-3) };
        SelectState st[3];
        SelectResult r;

        select_mode(c, 3, SELECT_AUTH_PREFER, st, &r);
        assert_int_equal(r.selected, 0);
        assert_int_equal(st[1], SELECT_UNUSABLE);
        assert_near(r.offset, 0.1, 1e-12);

        /* A noselect authenticated source does not count. */
        c[0].noselect = true;
        c[0].usable = false;
        select_mode(c, 3, SELECT_AUTH_PREFER, st, &r);
        assert_true(r.selected >= 1);
}

static void auth_mode_names_match_the_config(void **state) {
        assert_int_equal(select_auth_mode_from_string("require"), SELECT_AUTH_REQUIRE);
        assert_int_equal(select_auth_mode_from_string("prefer"), SELECT_AUTH_PREFER);
        assert_int_equal(select_auth_mode_from_string("mix"), SELECT_AUTH_MIX);
        assert_int_equal(select_auth_mode_from_string("ignore"), SELECT_AUTH_IGNORE);
        assert_int_equal(select_auth_mode_from_string("always"), _SELECT_AUTH_MODE_INVALID);
        assert_string_equal(select_auth_mode_to_string(select_default_params.auth_mode), "mix");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(one_source_is_selected),
                cmocka_unit_test(the_first_to_answer_cannot_win_alone),
                cmocka_unit_test(three_liars_of_five_leave_no_majority),
                cmocka_unit_test(sources_beyond_max_distance_take_no_part),
                cmocka_unit_test(two_agreeing_sources_are_both_used),
                cmocka_unit_test(two_disagreeing_sources_select_nothing),
                cmocka_unit_test(two_liars_of_five_are_falsetickers),
                cmocka_unit_test(a_preferred_truechimer_wins),
                cmocka_unit_test(a_preferred_falseticker_does_not),
                cmocka_unit_test(min_sources_holds_back_selection),
                cmocka_unit_test(a_jittery_source_is_left_out),
                cmocka_unit_test(unusable_sources_take_no_part),
                cmocka_unit_test(the_previous_peer_stays_unless_clearly_beaten),
                cmocka_unit_test(lower_stratum_breaks_a_tie),
                cmocka_unit_test(far_sources_are_not_combined),
                cmocka_unit_test(agreeing_quiet_sources_outweigh_a_noisy_one),
                cmocka_unit_test(disagreeing_quiet_sources_share_the_weight),
                cmocka_unit_test(the_majority_leap_indicator_wins),
                cmocka_unit_test(state_names_match_the_bus_api),
                cmocka_unit_test(mix_three_unauthenticated_liars_cannot_outvote_one_authenticated),
                cmocka_unit_test(mix_combines_unauthenticated_sources_that_agree),
                cmocka_unit_test(mix_selects_nothing_without_an_authenticated_source),
                cmocka_unit_test(require_never_uses_an_unauthenticated_source),
                cmocka_unit_test(prefer_drops_unauthenticated_sources_only_beside_authenticated_ones),
                cmocka_unit_test(auth_mode_names_match_the_config),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
