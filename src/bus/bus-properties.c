/* Snapshot comparison for coalesced PropertiesChanged signals (see
 * bus-properties.h). */
#include <string.h>

#include "bus/bus-properties.h"

size_t bus_properties_changed(const BusPropertyField *fields, size_t n_fields,
                              const void *old, const void *new, const char **names) {
        size_t n = 0;

        for (size_t i = 0; i < n_fields; i++) {
                const BusPropertyField *f = &fields[i];
                if (memcmp((const char *) old + f->offset, (const char *) new + f->offset, f->size) != 0)
                        names[n++] = f->name;
        }
        names[n] = NULL;
        return n;
}

int bus_property_get_string_buffer(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        return sd_bus_message_append_basic(reply, 's', userdata);
}
