/* Hardware timestamping on network interfaces (see hwclock.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock/phc-device.h"
#include "daemon/hwclock.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

static void hwclock_done(HwClock *c) {
        c->fd = safe_close(c->fd);
}

HwClocks *hwclocks_free(HwClocks *h) {
        if (!h)
                return NULL;
        sd_event_source_disable_unref(h->timer);
        for (size_t i = 0; i < h->n; i++)
                hwclock_done(&h->clocks[i]);
        free(h->clocks);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}

/* One sampling of the PHC into its tracker. A clock that has no way of
 * being sampled is said once and used no more. */
static int hwclock_sample(HwClock *c) {
        PhcReading readings[PHC_TRACKER_MAX_READINGS];

        if (c->failed)
                return -EOPNOTSUPP;
        c->sampler.userdata = &c->fd;   /* the table may have moved since */
        int n = phc_sampler_sample(&c->sampler, readings);
        if (n == -EOPNOTSUPP) {
                c->failed = true;
                log_warning("HWTimestamp: %s: /dev/ptp%d answers none of PTP_SYS_OFFSET_PRECISE, _EXTENDED and "
                            "PTP_SYS_OFFSET: using the kernel's software timestamps.", c->name, c->phc_index);
                return n;
        }
        if (n < 0)
                return log_debug_errno(n, "HWTimestamp: %s: failed to sample /dev/ptp%d: %m", c->name, c->phc_index);
        c->last_sample = now_monotonic();
        if (phc_tracker_add(&c->tracker, readings, (size_t) n) == 1)
                log_info("HWTimestamp: %s: /dev/ptp%d or the system clock was stepped: conversion starts again.",
                         c->name, c->phc_index);
        return 0;
}

static HwClock *hwclocks_find(HwClocks *h, int ifindex) {
        for (size_t i = 0; i < h->n; i++)
                if (h->clocks[i].ifindex == ifindex && !h->clocks[i].failed)
                        return &h->clocks[i];
        return NULL;
}

static int hwclocks_convert(void *userdata, int ifindex, nsec_t phc, nsec_t *ret_sys) {
        HwClock *c = hwclocks_find(userdata, ifindex);
        double error;

        if (!c)
                return -ENODEV;
        if (c->last_sample == 0 || now_monotonic() - c->last_sample > HWCLOCK_STALE_NSEC)
                (void) hwclock_sample(c);
        return phc_tracker_convert(&c->tracker, phc, ret_sys, &error);
}

static int on_sample_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        HwClocks *h = userdata;

        for (size_t i = 0; i < h->n; i++)
                (void) hwclock_sample(&h->clocks[i]);
        int r = sd_event_source_set_time_relative(es, HWCLOCK_SAMPLE_INTERVAL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "HWTimestamp: failed to re-arm the PHC sampling timer: %m");
        return 0;
}

/* Turns hardware timestamping on for an interface that offers it and opens
 * its PHC. Returns 0 when it is on, a negative errno (said in the log)
 * when not. */
static int hwclock_open(HwClock *c, const HwtsInfo *info) {
        int r = hwts_enable(info, &c->config);
        if (r < 0)
                return log_warning_errno(r, "HWTimestamp: %s has hardware timestamping, but turning it on failed "
                                         "(SIOCSHWTSTAMP: %m): using the kernel's software timestamps.", info->name);
        if (!hwts_config_has_rx(&c->config) && !hwts_config_has_tx(&c->config)) {
                log_warning("HWTimestamp: %s: the driver turned on neither receive nor transmit timestamps: "
                            "using the kernel's software timestamps.", info->name);
                return -EOPNOTSUPP;
        }
        c->fd = phc_device_open(info->phc_index);
        if (c->fd < 0)
                return log_warning_errno(c->fd, "HWTimestamp: %s: failed to open /dev/ptp%d (%m): using the kernel's "
                                         "software timestamps.", info->name, info->phc_index);
        return 0;
}

static void hwclock_init(HwClock *c, const HwtsInfo *info) {
        *c = (HwClock) { .fd = -EBADF, .phc_index = info->phc_index, .ifindex = (int) if_nametoindex(info->name) };
        snprintf(c->name, sizeof c->name, "%s", info->name);
        phc_tracker_init(&c->tracker);
        phc_sampler_init(&c->sampler, phc_device_methods, NULL);
}

/* The interface's line in the log, and its clock in the table when its
 * hardware timestamping is on. */
static int hwclocks_add_interface(HwClocks *h, const char *name) {
        HwtsInfo info;
        char text[256];

        int r = hwts_interface_info(name, &info);
        if (r == -ENODEV) {
                log_warning("HWTimestamp=%s: no such network interface.", name);
                return 0;
        }
        if (r < 0) {
                log_notice("HWTimestamp: %s does not say what it offers: using the kernel's software timestamps.", name);
                return 0;
        }
        if (!hwts_info_usable(&info)) {
                log_notice("HWTimestamp: %s.", hwts_describe(&info, text));
                return 0;
        }
        if (GREEDY_REALLOC(h->clocks, h->n_allocated, h->n + 1) < 0)
                return -ENOMEM;
        HwClock *c = &h->clocks[h->n];
        hwclock_init(c, &info);
        if (hwclock_open(c, &info) < 0) {
                hwclock_done(c);
                return 0;
        }
        h->n++;
        /* The first sampling also finds the way the driver answers. */
        (void) hwclock_sample(c);
        log_notice("HWTimestamp: %s: hardware timestamping on (receive: %s, transmit: %s), PHC /dev/ptp%d read "
                   "with %s.", name, hwts_rx_filter_to_string(c->config.rx_filter),
                   hwts_config_has_tx(&c->config) ? "on" : "off", c->phc_index,
                   c->failed ? "nothing" : phc_method_to_string(c->sampler.method));
        return 0;
}

static int hwclocks_add_all(HwClocks *h) {
        struct if_nameindex *all = if_nameindex();
        int r = 0;

        if (!all)
                return log_warning_errno(-errno, "HWTimestamp=*: failed to list the network interfaces: %m");
        for (struct if_nameindex *i = all; i->if_name && r >= 0; i++)
                r = hwclocks_add_interface(h, i->if_name);
        if_freenameindex(all);
        return r;
}

static int hwclocks_start_timer(HwClocks *h) {
        int r = sd_event_add_time_relative(h->event, &h->timer, CLOCK_MONOTONIC, HWCLOCK_SAMPLE_INTERVAL_USEC,
                                           USEC_PER_SEC / 10, on_sample_timer, h);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

int hwclocks_new(sd_event *event, const char *want, HwClocks **ret) {
        _cleanup_(hwclocks_freep) HwClocks *h = calloc(1, sizeof(HwClocks));
        int r = 0;

        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        h->converter = (HardwareClockConverter) { .convert = hwclocks_convert, .userdata = h };
        if (want)
                r = streq(want, "*") ? hwclocks_add_all(h) : hwclocks_add_interface(h, want);
        if (r < 0)
                return r;
        if (h->n > 0) {
                r = hwclocks_start_timer(h);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(h);
        return 0;
}

bool hwclocks_enabled(const HwClocks *h) {
        return h && h->n > 0;
}

const HardwareClockConverter *hwclocks_converter(HwClocks *h) {
        return hwclocks_enabled(h) ? &h->converter : NULL;
}
