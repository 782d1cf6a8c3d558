/* Tests for when tempusctl starts a polkit agent for a changing call: before
 * it when a person at a terminal who is not root may be asked, after it
 * when polkit wanted to ask, and never with --no-ask-password or for
 * root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl/ctl-polkit.h"

#define NEEDS_AGENT CTL_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED

typedef struct AgentCase {
        CtlAgentFacts facts;
        const char *error;      /* of the first call */
        bool before, after;
} AgentCase;

static void test_agent_decisions(void **state) {
        static const AgentCase cases[] = {
                /* ask_password, root, stdin_tty, terminal, agent_running */
                { { true, false, true, true, false }, NULL, true, false },             /* a user at a terminal */
                { { true, false, false, true, false }, NULL, false, false },           /* stdin a pipe; success */
                { { true, false, false, true, false }, NEEDS_AGENT, false, true },     /* polkit wants to ask */
                { { true, false, false, false, false }, NEEDS_AGENT, false, false },   /* no terminal to ask on */
                { { true, false, true, true, true }, NEEDS_AGENT, false, false },      /* asked once already */
                { { false, false, true, true, false }, NEEDS_AGENT, false, false },    /* --no-ask-password */
                { { true, true, true, true, false }, NULL, false, false },             /* root: never asked */
                { { true, true, false, true, false }, NEEDS_AGENT, false, false },
                { { true, false, false, true, false }, "org.freedesktop.DBus.Error.AccessDenied", false, false },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const AgentCase *c = &cases[i];
                print_message("case %zu\n", i);
                assert_int_equal(ctl_polkit_agent_before_call(&c->facts), c->before);
                assert_int_equal(ctl_polkit_agent_after_error(&c->facts, c->error), c->after);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_agent_decisions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
