/* /etc/adjtime tells whether the real-time clock keeps local time (third
 * line "LOCAL", as `timedatectl set-local-rtc 1` writes) or UTC. tempusd
 * watches it: with a local-time RTC the kernel's 11-minute RTC updates,
 * which write UTC, must stay off. */
#pragma once

#include <stdbool.h>

#define ADJTIME_PATH "/etc/adjtime"

/* Parses the file's text: true if the RTC keeps local time. A missing or
 * short file means UTC, as hwclock and timedated read it. */
bool adjtime_parse_local(const char *text);

/* Reads path; a file that cannot be read counts as UTC. */
bool adjtime_read_local(const char *path);
