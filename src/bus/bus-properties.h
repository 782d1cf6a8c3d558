/* Property snapshots for the D-Bus objects: each exported object is backed
 * by a plain struct of values in their bus types, refreshed from the live
 * state whenever sd-bus asks for it. A table of (name, offset, size) per
 * interface lets the daemon compare the snapshot it last announced with the
 * current one and emit one PropertiesChanged for what really changed. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct BusPropertyField {
        const char *name;
        size_t offset;
        size_t size;
} BusPropertyField;

#define BUS_PROPERTY_FIELD(name, type, field) \
        { name, offsetof(type, field), sizeof(((type *) NULL)->field) }

/* Collects into names[] (NULL-terminated, at most n_fields + 1 entries) the
 * properties whose values differ between old and new. Returns how many. */
size_t bus_properties_changed(const BusPropertyField *fields, size_t n_fields,
                              const void *old, const void *new, const char **names);

/* Offsets in chronyc's sign (positive: the local clock is ahead) from the
 * engine's (true - local), without printing "-0". */
static inline double bus_chronyc_offset(double true_minus_local) {
        return true_minus_local == 0 ? 0 : -true_minus_local;
}

/* A getter for string properties stored inline as char arrays. */
int bus_property_get_string_buffer(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error);
