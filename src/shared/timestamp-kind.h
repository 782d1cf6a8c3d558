/* Where a packet's transmit or receive time came from: the clock read by
 * tempusd around the system call, the kernel's software timestamp, or the
 * network card's hardware timestamp converted to system time. Ordered:
 * a later kind is the more precise. */
#pragma once

typedef enum TimestampKind {
        TIMESTAMP_DAEMON,
        TIMESTAMP_KERNEL,
        TIMESTAMP_HARDWARE,
} TimestampKind;

/* "daemon", "kernel", "hardware": the names the D-Bus API gives. */
static inline const char *timestamp_kind_to_string(TimestampKind k) {
        return k == TIMESTAMP_HARDWARE ? "hardware" : k == TIMESTAMP_KERNEL ? "kernel" : "daemon";
}
