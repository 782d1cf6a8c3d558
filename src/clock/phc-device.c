/* PTP hardware clock devices (see phc-device.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "clock/phc-device.h"

int phc_device_open(int index) {
        char path[32];

        if (index < 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/dev/ptp%d", index);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int sample_precise(void *userdata, PhcReading readings[static PHC_TRACKER_MAX_READINGS]) {
        struct ptp_sys_offset_precise p = {};

        if (ioctl(*(int *) userdata, PTP_SYS_OFFSET_PRECISE, &p) < 0)
                return -errno;
        return (int) phc_readings_from_precise(&p, readings);
}

static int sample_extended(void *userdata, PhcReading readings[static PHC_TRACKER_MAX_READINGS]) {
        struct ptp_sys_offset_extended p = { .n_samples = PHC_SAMPLE_READINGS };

        if (ioctl(*(int *) userdata, PTP_SYS_OFFSET_EXTENDED, &p) < 0)
                return -errno;
        return (int) phc_readings_from_extended(&p, readings);
}

static int sample_basic(void *userdata, PhcReading readings[static PHC_TRACKER_MAX_READINGS]) {
        struct ptp_sys_offset p = { .n_samples = PHC_SAMPLE_READINGS };

        if (ioctl(*(int *) userdata, PTP_SYS_OFFSET, &p) < 0)
                return -errno;
        return (int) phc_readings_from_basic(&p, readings);
}

const PhcSampleFunc phc_device_methods[_PHC_METHOD_MAX] = {
        [PHC_METHOD_PRECISE] = sample_precise,
        [PHC_METHOD_EXTENDED] = sample_extended,
        [PHC_METHOD_BASIC] = sample_basic,
};
