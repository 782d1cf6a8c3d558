/* The polkit agent tempusctl runs for the length of a changing call:
 * pkttyagent, found in $PATH, registered for tempusctl's process and
 * asking on the terminal, unless an agent of the session (a desktop's)
 * already answers (--fallback). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Whether the process has a controlling terminal (pkttyagent asks there,
 * whatever standard input is). */
bool ctl_agent_terminal(void);

/* Starts pkttyagent and waits until it has registered with polkit (or
 * given up). Returns its PID, or 0 when it is not installed or could not
 * register: the call then goes on without it. */
pid_t ctl_agent_open(void);
/* Stops the agent started by ctl_agent_open() and reaps it; 0 is none. */
void ctl_agent_close(pid_t pid);
