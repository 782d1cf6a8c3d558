/* When to start a polkit agent (see ctl-polkit.h). */
#include <stddef.h>
#include <string.h>

#include "ctl/ctl-polkit.h"

static bool may_ask(const CtlAgentFacts *f) {
        return f->ask_password && !f->root && !f->agent_running;
}

bool ctl_polkit_agent_before_call(const CtlAgentFacts *f) {
        return may_ask(f) && f->stdin_tty;
}

bool ctl_polkit_agent_after_error(const CtlAgentFacts *f, const char *error_name) {
        return may_ask(f) && f->terminal && error_name && strcmp(error_name, CTL_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) == 0;
}
