/* tempusctl's side of the org.tempus.Tempus1 D-Bus API (DESIGN.md): opening
 * the bus, reading the Manager's and the Sources' properties into the plain
 * structs of ctl-format.h, calling methods, and turning bus errors into one
 * line a user can act on. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "ctl/ctl-format.h"

#define TEMPUS_BUS_NAME          "org.tempus.Tempus1"
#define TEMPUS_BUS_PATH          "/org/tempus/Tempus1"
#define TEMPUS_MANAGER_INTERFACE "org.tempus.Tempus1.Manager"
#define TEMPUS_SOURCE_INTERFACE  "org.tempus.Tempus1.Source"
#define TEMPUS_SOURCE_PATH_PREFIX TEMPUS_BUS_PATH "/source/"

typedef enum CtlBusKind {
        CTL_BUS_SYSTEM,         /* honours DBUS_SYSTEM_BUS_ADDRESS */
        CTL_BUS_USER,
        CTL_BUS_ADDRESS,        /* an explicit address */
} CtlBusKind;

int ctl_bus_open(CtlBusKind kind, const char *address, sd_bus **ret);

/* GetAll on the Manager: tracking properties, settings and access rules.
 * Unknown properties are ignored; properties of an unexpected type too. */
int ctl_bus_get_tracking(sd_bus *bus, CtlTracking *ret, sd_bus_error *error);

/* GetManagedObjects: every Source object, ordered by its number N in
 * /org/tempus/Tempus1/source/N. */
int ctl_bus_get_sources(sd_bus *bus, CtlSourceInfo **ret, size_t *ret_n, sd_bus_error *error);

/* Calls a Manager method; types/... as sd_bus_call_method(). interactive:
 * polkit may have an agent ask the caller for a password (the
 * allow-interactive-authorization flag). */
int ctl_bus_call(sd_bus *bus, bool interactive, sd_bus_error *error, const char *method, const char *types, ...);

/* One translated line (no newline) describing a failed call: "tempusd is
 * not running", "Access denied: ...", the daemon's InvalidArgs message, or
 * the bus error itself. r is the call's negative errno. */
const char *ctl_bus_error_text(char *buf, size_t size, const sd_bus_error *error, int r);
