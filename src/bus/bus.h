/* tempusd on the system bus: owns the connection, the names
 * org.tempus.Tempus1 and org.freedesktop.timesync1, the Manager, Source
 * and timesync1 objects and the ObjectManager, and turns state changes
 * into coalesced PropertiesChanged, InterfacesAdded and InterfacesRemoved
 * signals. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "bus/bus-manager.h"
#include "bus/bus-polkit.h"
#include "bus/bus-source.h"
#include "bus/bus-timesync.h"
#include "shared/macro.h"

typedef struct Manager Manager;
typedef struct Source Source;

typedef struct BusSourceEntry {
        unsigned id;
        bool announced;         /* InterfacesAdded sent */
        BusSourceProps now;     /* refreshed on every read */
        BusSourceProps sent;    /* as last announced */
} BusSourceEntry;

typedef struct BusContext {
        Manager *manager;
        sd_bus *bus;
        BusManagerProps manager_now, manager_sent;
        BusTimesyncProps timesync_now, timesync_sent;
        BusPolkit polkit;
        BusSourceEntry *sources;        /* in order of id */
        size_t n_sources, n_sources_allocated;
} BusContext;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS or the default),
 * exports the objects and requests the name. Without a bus, tempusd runs on
 * without the API: returns -ENOTCONN then, after logging why. */
int bus_context_new(Manager *m, BusContext **ret);
BusContext *bus_context_free(BusContext *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(BusContext *, bus_context_free);

/* Offers the D-Bus API for m: creates the context and makes it the
 * manager's listener, which frees it with the manager. Without a system
 * bus (or its name), returns 0 and tempusd runs on without the API. */
int bus_context_attach(Manager *m);

/* Emits what changed since the last call: PropertiesChanged for the
 * Manager, the timesync1 Manager and each Source, InterfacesAdded for new sources. Called from the
 * manager's deferred status update, so a burst of changes is one signal. */
void bus_context_flush(BusContext *b, const Tracking *t);

/* Announces the removal of a source; call while the manager still lists
 * it, since sd-bus looks the object up to name its interfaces. */
void bus_context_source_removed(BusContext *b, const Source *s);
