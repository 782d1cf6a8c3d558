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

/* Each interface names its properties once, in a list macro whose rows
 * are one of four kinds:
 *   PLAIN(name, signature, field)                 read from the field as is
 *   STRING(name, field)                           an inline char array
 *   SPECIAL(name, signature, getter, field, key)  read by getter (NULL: from
 *                                                 field), compared through key
 *   COUNTER(name, field)                          read from a uint64_t field,
 *                                                 never signalled
 * The same list, expanded with the BUS_VTABLE_* makers below, gives the
 * vtable entries, and with the BUS_FIELD_* makers, the table
 * bus_properties_changed() compares. BUS_PROPS_TYPE names the snapshot
 * struct at the place of expansion. */
#define BUS_VTABLE_PLAIN(name, sig, field) \
        SD_BUS_PROPERTY(name, sig, NULL, offsetof(BUS_PROPS_TYPE, field), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
#define BUS_VTABLE_STRING(name, field)                                                                \
        SD_BUS_PROPERTY(name, "s", bus_property_get_string_buffer, offsetof(BUS_PROPS_TYPE, field), \
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
#define BUS_VTABLE_SPECIAL(name, sig, getter, field, key) \
        SD_BUS_PROPERTY(name, sig, getter, offsetof(BUS_PROPS_TYPE, field), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
#define BUS_VTABLE_COUNTER(name, field) SD_BUS_PROPERTY(name, "t", NULL, offsetof(BUS_PROPS_TYPE, field), 0),

#define BUS_FIELD_PLAIN(name, sig, field) BUS_PROPERTY_FIELD(name, BUS_PROPS_TYPE, field),
#define BUS_FIELD_STRING(name, field) BUS_PROPERTY_FIELD(name, BUS_PROPS_TYPE, field),
#define BUS_FIELD_SPECIAL(name, sig, getter, field, key) BUS_PROPERTY_FIELD(name, BUS_PROPS_TYPE, key),
#define BUS_FIELD_COUNTER(name, field)

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
