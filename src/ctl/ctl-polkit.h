/* When tempusctl starts a polkit agent for a changing call, as systemctl
 * and timedatectl do: a caller who is not root may be asked for a
 * password by polkit, and someone must ask it. The decision is pure;
 * ctl-agent.c runs the agent (pkttyagent). */
#pragma once

#include <stdbool.h>

#define CTL_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED \
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

typedef struct CtlAgentFacts {
        bool ask_password;      /* no --no-ask-password */
        bool root;              /* effective UID 0: tempusd never asks polkit */
        bool stdin_tty;         /* a person is there to answer */
        bool terminal;          /* a controlling terminal, where an agent can ask */
        bool agent_running;     /* started already for this call */
} CtlAgentFacts;

/* Whether to start an agent before the call: asking is allowed, the
 * caller is not root and standard input is a terminal. */
bool ctl_polkit_agent_before_call(const CtlAgentFacts *f);

/* Whether to start an agent and make the call again after it failed with
 * the D-Bus error error_name (NULL for none): polkit wanted to ask, asking
 * is allowed, the caller is not root, no agent runs yet and there is a
 * terminal to ask on (standard input may be a pipe). */
bool ctl_polkit_agent_after_error(const CtlAgentFacts *f, const char *error_name);
