/* org.tempus.Tempus1.Source (see bus-source.h): vtable and snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus-source.h"
#include "core/source.h"

static void fill_statistics(BusSourceProps *p, const Source *s, int64_t now) {
        SourceEstimate e;

        if (!sourcestats_estimate(&s->stats, now, &e))
                return;
        p->offset = bus_chronyc_offset(e.last_offset);
        p->samples = e.n_samples;
        p->runs = e.n_runs;
        p->span = e.span;
        p->frequency = e.frequency * 1e6;
        p->frequency_skew = e.skew * 1e6;
        p->std_dev = e.std_dev;
}

void bus_source_props_fill(BusSourceProps *p, const Source *s, int64_t now) {
        memset(p, 0, sizeof *p);
        p->id = s->id;
        snprintf(p->name, sizeof p->name, "%s", s->name);
        snprintf(p->address, sizeof p->address, "%s", s->address_string);
        snprintf(p->mode, sizeof p->mode, "%s", s->spec.kind == SOURCE_KIND_POOL ? "pool" : "server");
        snprintf(p->state, sizeof p->state, "%s",
                 !source_wants_polls(s) ? "denied" : select_state_to_string(s->state) ?: "unusable");
        p->stratum = s->stratum;
        p->poll = s->poll;
        p->reach = s->reach;
        p->last_rx = s->has_reply ? s->last_rx : 0;
        p->last_rx_age_usec = s->has_reply && now >= s->last_rx
                                      ? (uint64_t) ((now - s->last_rx) / NSEC_PER_USEC) : UINT64_MAX;
        if (s->has_reply) {
                p->measured_offset = bus_chronyc_offset(s->last_sample.offset);
                p->error = s->last_sample.delay / 2 + s->last_sample.dispersion;
                p->delay = s->last_sample.delay;
        }
        p->prefer = s->spec.prefer;
        p->iburst = s->spec.iburst;
        fill_statistics(p, s, now);
}

char *bus_source_path(unsigned id, char *buf, size_t size) {
        snprintf(buf, size, BUS_SOURCE_PREFIX "/%u", id);
        return buf;
}

int bus_source_path_parse(const char *path, unsigned *ret) {
        const char *prefix = BUS_SOURCE_PREFIX "/";
        char *end;

        if (strncmp(path, prefix, strlen(prefix)) != 0)
                return -EINVAL;
        const char *digits = path + strlen(prefix);
        if (*digits < '0' || *digits > '9')
                return -EINVAL;
        errno = 0;
        unsigned long id = strtoul(digits, &end, 10);
        if (errno != 0 || *end || id > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) id;
        return 0;
}

#define PROP(name, sig, field) \
        SD_BUS_PROPERTY(name, sig, NULL, offsetof(BusSourceProps, field), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define PROP_STRING(name, field)                                                             \
        SD_BUS_PROPERTY(name, "s", bus_property_get_string_buffer, offsetof(BusSourceProps, field), \
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable bus_source_vtable[] = {
        SD_BUS_VTABLE_START(0),
        PROP_STRING("Name", name),
        PROP_STRING("Address", address),
        PROP_STRING("Mode", mode),
        PROP_STRING("State", state),
        PROP("Stratum", "y", stratum),
        PROP("Poll", "i", poll),
        PROP("Reach", "y", reach),
        PROP("LastRxAgeUSec", "t", last_rx_age_usec),
        PROP("Offset", "d", offset),
        PROP("MeasuredOffset", "d", measured_offset),
        PROP("Error", "d", error),
        PROP("Delay", "d", delay),
        PROP("Samples", "u", samples),
        PROP("Runs", "u", runs),
        PROP("Span", "d", span),
        PROP("Frequency", "d", frequency),
        PROP("FrequencySkew", "d", frequency_skew),
        PROP("StdDev", "d", std_dev),
        PROP("Prefer", "b", prefer),
        PROP("IBurst", "b", iburst),
        SD_BUS_VTABLE_END,
};

#define FIELD(name, field) BUS_PROPERTY_FIELD(name, BusSourceProps, field)

const BusPropertyField bus_source_fields[] = {
        FIELD("Name", name),
        FIELD("Address", address),
        FIELD("Mode", mode),
        FIELD("State", state),
        FIELD("Stratum", stratum),
        FIELD("Poll", poll),
        FIELD("Reach", reach),
        FIELD("LastRxAgeUSec", last_rx),
        FIELD("Offset", offset),
        FIELD("MeasuredOffset", measured_offset),
        FIELD("Error", error),
        FIELD("Delay", delay),
        FIELD("Samples", samples),
        FIELD("Runs", runs),
        FIELD("Span", span),
        FIELD("Frequency", frequency),
        FIELD("FrequencySkew", frequency_skew),
        FIELD("StdDev", std_dev),
        FIELD("Prefer", prefer),
        FIELD("IBurst", iburst),
};
const size_t bus_source_n_fields = sizeof bus_source_fields / sizeof bus_source_fields[0];
