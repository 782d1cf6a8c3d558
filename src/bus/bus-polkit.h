/* Who may call a changing method: root always; anyone else when polkit
 * (org.freedesktop.PolicyKit1 on the system bus) authorizes the method's
 * action for the calling bus name. The question goes to polkit as an
 * asynchronous call, so the event loop never waits for it (nor for a
 * person typing a password, when the caller allows interactive
 * authorization): the method handler returns at once, and sd-bus hands the
 * same method call to it again once polkit has answered. */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "shared/macro.h"

#define BUS_POLKIT_ACTION_MANAGE "org.tempus.tempus1.manage"
#define BUS_POLKIT_ACTION_SET_RUNTIME_SERVERS "org.freedesktop.timesync1.set-runtime-servers"

/* At most this many questions to polkit at a time: more callers than that
 * get LimitsExceeded. */
#define BUS_POLKIT_MAX_QUERIES 64

typedef struct BusPolkitQuery BusPolkitQuery;

typedef struct BusPolkit {
        BusPolkitQuery **queries;
        size_t n_queries, n_queries_allocated;
} BusPolkit;

/* Frees every query, cancelling those still waiting for polkit; p itself
 * belongs to its container (it is a field of the bus context). */
void bus_polkit_done(BusPolkit *p);

/* Whether the sender of message may do action. Returns 1: yes (the sender
 * is root, or polkit said yes to this very message before); 0: polkit has
 * been asked, and the caller must return from its handler without
 * replying (sd-bus calls it again with the same message once polkit has
 * answered); a negative errno with error set: no (AccessDenied,
 * InteractiveAuthorizationRequired when polkit wants a password the caller
 * did not allow it to ask for, LimitsExceeded). */
int bus_polkit_verify(BusPolkit *p, sd_bus_message *message, const char *action, sd_bus_error *error);

/* For method handlers: return from the handler unless the call is
 * authorized now. Checked before the arguments are read. */
#define BUS_REQUIRE_AUTHORIZED(p, message, action, error)                              \
        do {                                                                            \
                int _r = bus_polkit_verify(p, message, action, error);                  \
                if (_r <= 0)                                                            \
                        return _r < 0 ? _r : 1; /* 1: polkit's answer calls us again */ \
        } while (0)
