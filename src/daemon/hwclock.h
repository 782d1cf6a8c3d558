/* Hardware timestamping ([Clock] HWTimestamp=). For each interface named
 * (or each of them, with *) that offers hardware receive and transmit
 * timestamps and a PTP hardware clock (PHC), tempusd turns them on
 * (SIOCSHWTSTAMP), opens the PHC and samples it against the system clock on
 * a timer (and before a conversion when the last sampling is stale), so
 * that the raw hardware timestamps of packets on that interface convert to
 * system time (a PhcTracker per interface). An interface without them, or
 * one where turning them on fails, is named once in the log and keeps the
 * kernel's software timestamps. */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "clock/phc-sample.h"
#include "clock/phc-tracker.h"
#include "net/hwts.h"
#include "net/timestamping.h"
#include "shared/macro.h"

/* How often each PHC is sampled, and when a sampling is too old to
 * convert with before a new one. */
#define HWCLOCK_SAMPLE_INTERVAL_USEC (4 * USEC_PER_SEC)
#define HWCLOCK_STALE_NSEC (8 * NSEC_PER_SEC)

typedef struct HwClock {
        char name[IF_NAMESIZE];
        int ifindex;
        int fd;                         /* /dev/ptpN */
        int phc_index;
        struct hwtstamp_config config;  /* what the driver turned on */
        PhcSampler sampler;
        PhcTracker tracker;
        nsec_t last_sample;             /* CLOCK_MONOTONIC; 0: never */
        bool failed;                    /* no way to sample it: said once, not used */
} HwClock;

typedef struct HwClocks {
        sd_event *event;
        HwClock *clocks;
        size_t n, n_allocated;
        sd_event_source *timer;
        HardwareClockConverter converter;
} HwClocks;

/* Sets up every interface that want names ("*": all; NULL: none) and
 * starts the sampling timer when any has hardware timestamping on. Needs
 * CAP_NET_ADMIN and the PHC devices' permissions, so it runs before
 * privileges are dropped. Fails only when out of memory or when the timer
 * cannot be set. */
int hwclocks_new(sd_event *event, const char *want, HwClocks **ret);
HwClocks *hwclocks_free(HwClocks *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HwClocks *, hwclocks_free);

/* Whether any interface has hardware timestamping on (sockets then ask
 * for hardware timestamps). NULL: false. */
bool hwclocks_enabled(const HwClocks *h);

/* The converter for packet_timestamps_choose(); NULL when none is on. */
const HardwareClockConverter *hwclocks_converter(HwClocks *h);
