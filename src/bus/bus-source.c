/* org.tempus.Tempus1.Source (see bus-source.h): vtable and snapshot. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
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

static void fill_authentication(BusSourceProps *p, const Source *s, const KeyTable *keys) {
        const Key *key = key_table_find(keys, s->spec.key);

        snprintf(p->authentication, sizeof p->authentication, "%s",
                 s->spec.nts ? "nts" : s->spec.key ? "symmetric" : "none");
        p->key_id = s->spec.key;
        snprintf(p->key_type, sizeof p->key_type, "%s", key ? key_type_to_string(key->type) : "");
        p->key_length = key ? (uint32_t) key->length * 8 : 0;
        p->auth_failures = (uint32_t) MIN(s->n_auth_failures, (uint64_t) UINT32_MAX);
        p->nts_cookies = s->nts.cookies;
        p->nts_cookie_length = s->nts.cookie_length;
        p->nts_ke_failures = (uint32_t) MIN(s->nts.ke_failures, (uint64_t) UINT32_MAX);
        p->nts_ke_attempts = s->nts.ke_attempts;
        p->nts_naks = (uint32_t) MIN(s->nts.naks, (uint64_t) UINT32_MAX);
        p->nts_last_ke_usec = s->nts.last_ke_usec;
}

static const char *leap_name(NtpLeap leap) {
        static const char *const names[] = {
                [NTP_LEAP_NONE] = "normal", [NTP_LEAP_INSERT] = "insert",
                [NTP_LEAP_DELETE] = "delete", [NTP_LEAP_UNSYNC] = "unsynchronized",
        };
        return leap < ELEMENTSOF(names) ? names[leap] : "unsynchronized";
}

static const char *ntp_mode_name(NtpMode mode) {
        return mode == NTP_MODE_SYMMETRIC_ACTIVE    ? "symmetric-active"
               : mode == NTP_MODE_SYMMETRIC_PASSIVE ? "symmetric-passive"
                                                    : "server";
}

static uint16_t address_port(const Source *s) {
        const struct sockaddr *a = (const struct sockaddr *) &s->address;
        if (a->sa_family == AF_INET)
                return ntohs(((const struct sockaddr_in *) a)->sin_port);
        if (a->sa_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) a)->sin6_port);
        return 0;
}

/* chronyc ntpdata's view: the last valid reply and how it was measured. */
static void fill_ntpdata(BusSourceProps *p, const Source *s) {
        snprintf(p->local_address, sizeof p->local_address, "%s", s->local_address);
        p->remote_port = address_port(s);
        p->ntp_version = s->version;
        snprintf(p->ntp_mode, sizeof p->ntp_mode, "%s", s->has_reply ? ntp_mode_name(s->mode) : "");
        snprintf(p->leap, sizeof p->leap, "%s", leap_name(s->leap));
        p->precision = s->precision;
        p->root_delay = s->root_delay;
        p->root_dispersion = s->root_dispersion;
        p->reference_id = s->remote_refid;
        p->reference_time_usec = s->reference_ts ? (uint64_t) (ntp_timestamp_to_nsec(s->reference_ts, s->last_rx) /
                                                               NSEC_PER_USEC) : 0;
        p->dispersion = s->has_reply ? s->last_sample.dispersion : 0;
        p->xleave = s->spec.xleave;
        p->interleaved = source_last_interleaved(s);
        p->authenticated = s->spec.key != 0 && s->has_reply;
        bool sampled = s->n_tx_hardware + s->n_tx_kernel + s->n_tx_daemon > 0;
        snprintf(p->tx_timestamping, sizeof p->tx_timestamping, "%s",
                 !sampled ? "" : timestamp_kind_to_string(s->sample_tx_kind));
        snprintf(p->rx_timestamping, sizeof p->rx_timestamping, "%s",
                 !s->has_reply ? "" : timestamp_kind_to_string(s->rx_kind));
        p->total_tx = s->n_requests;
        p->total_rx = s->n_rx;
        p->total_valid_rx = s->n_replies;
        p->hardware_tx_samples = s->n_tx_hardware;
        p->kernel_tx_samples = s->n_tx_kernel;
        p->daemon_tx_samples = s->n_tx_daemon;
        p->interleaved_replies = source_interleaved_count(s);
}

void bus_source_props_fill(BusSourceProps *p, const Source *s, const KeyTable *keys, const char *link,
                           int64_t now) {
        memset(p, 0, sizeof *p);
        p->id = s->id;
        snprintf(p->name, sizeof p->name, "%s", s->name);
        snprintf(p->address, sizeof p->address, "%s", s->address_string);
        snprintf(p->mode, sizeof p->mode, "%s", s->spec.kind == SOURCE_KIND_POOL ? "pool" : s->spec.kind == SOURCE_KIND_PEER ? "peer" : "server");
        snprintf(p->state, sizeof p->state, "%s",
                 !source_wants_polls(s) ? "denied" : select_state_to_string(s->state) ?: "unusable");
        snprintf(p->link, sizeof p->link, "%s", link ?: "");
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
        fill_authentication(p, s, keys);
        fill_statistics(p, s, now);
        fill_ntpdata(p, s);
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

#define BUS_PROPS_TYPE BusSourceProps

/* Every property of org.tempus.Tempus1.Source (see bus-properties.h for
 * the kinds). */
#define BUS_SOURCE_PROPERTIES(PLAIN, STRING, SPECIAL, COUNTER)                          \
        STRING("Name", name)                                                             \
        STRING("Address", address)                                                       \
        STRING("Mode", mode)                                                             \
        STRING("State", state)                                                           \
        PLAIN("Stratum", "y", stratum)                                                   \
        PLAIN("Poll", "i", poll)                                                         \
        PLAIN("Reach", "y", reach)                                                       \
        /* The age grows every microsecond; a change worth signalling is a new      \
         * reply, so it is compared by the time of the last one (last_rx). */       \
        SPECIAL("LastRxAgeUSec", "t", NULL, last_rx_age_usec, last_rx)                   \
        PLAIN("Offset", "d", offset)                                                     \
        PLAIN("MeasuredOffset", "d", measured_offset)                                    \
        PLAIN("Error", "d", error)                                                       \
        PLAIN("Delay", "d", delay)                                                       \
        PLAIN("Samples", "u", samples)                                                   \
        PLAIN("Runs", "u", runs)                                                         \
        PLAIN("Span", "d", span)                                                         \
        PLAIN("Frequency", "d", frequency)                                               \
        PLAIN("FrequencySkew", "d", frequency_skew)                                      \
        PLAIN("StdDev", "d", std_dev)                                                    \
        PLAIN("Prefer", "b", prefer)                                                     \
        PLAIN("IBurst", "b", iburst)                                                     \
        STRING("Authentication", authentication)                                         \
        PLAIN("KeyID", "u", key_id)                                                      \
        STRING("KeyType", key_type)                                                      \
        PLAIN("KeyLength", "u", key_length)                                              \
        PLAIN("AuthFailures", "u", auth_failures)                                        \
        PLAIN("NTSCookies", "u", nts_cookies)                                            \
        PLAIN("NTSCookieLength", "u", nts_cookie_length)                                 \
        PLAIN("NTSKEFailures", "u", nts_ke_failures)                                     \
        PLAIN("NTSKEAttempts", "u", nts_ke_attempts)                                     \
        PLAIN("NTSNAKs", "u", nts_naks)                                                  \
        PLAIN("NTSLastKEUSec", "t", nts_last_ke_usec)                                   \
        STRING("LocalAddress", local_address)                                            \
        PLAIN("RemotePort", "q", remote_port)                                            \
        PLAIN("NTPVersion", "y", ntp_version)                                            \
        STRING("NTPMode", ntp_mode)                                                      \
        STRING("Leap", leap)                                                             \
        PLAIN("Precision", "i", precision)                                               \
        PLAIN("RootDelay", "d", root_delay)                                              \
        PLAIN("RootDispersion", "d", root_dispersion)                                    \
        PLAIN("ReferenceID", "u", reference_id)                                          \
        PLAIN("ReferenceTimeUSec", "t", reference_time_usec)                             \
        PLAIN("Dispersion", "d", dispersion)                                             \
        PLAIN("XLeave", "b", xleave)                                                     \
        PLAIN("Interleaved", "b", interleaved)                                           \
        PLAIN("Authenticated", "b", authenticated)                                       \
        STRING("TXTimestamping", tx_timestamping)                                        \
        STRING("RXTimestamping", rx_timestamping)                                        \
        COUNTER("TotalTX", total_tx)                                                     \
        COUNTER("TotalRX", total_rx)                                                     \
        COUNTER("TotalValidRX", total_valid_rx)                                          \
        COUNTER("HardwareTXSamples", hardware_tx_samples)                                \
        COUNTER("KernelTXSamples", kernel_tx_samples)                                    \
        COUNTER("DaemonTXSamples", daemon_tx_samples)                                    \
        COUNTER("InterleavedReplies", interleaved_replies)                               \
        STRING("Link", link)

const sd_bus_vtable bus_source_vtable[] = {
        SD_BUS_VTABLE_START(0),
        BUS_SOURCE_PROPERTIES(BUS_VTABLE_PLAIN, BUS_VTABLE_STRING, BUS_VTABLE_SPECIAL, BUS_VTABLE_COUNTER)
        SD_BUS_VTABLE_END,
};

const BusPropertyField bus_source_fields[] = {
        BUS_SOURCE_PROPERTIES(BUS_FIELD_PLAIN, BUS_FIELD_STRING, BUS_FIELD_SPECIAL, BUS_FIELD_COUNTER)
};
const size_t bus_source_n_fields = ELEMENTSOF(bus_source_fields);
