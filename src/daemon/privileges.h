/* Dropping privileges: tempusd started as root binds its sockets, then
 * becomes the unprivileged service user keeping only CAP_SYS_TIME (or no
 * capability at all when it does not control the clock). Under systemd the
 * unit already runs it as that user with just CAP_SYS_TIME, and this is a
 * no-op. */
#pragma once

#include <stdbool.h>

/* Returns 0, or a negative errno when privileges could not be dropped as
 * asked (the caller must then not go on). A missing user is not an error:
 * tempusd stays root but still gives up every other capability. */
int privileges_drop(const char *user, bool keep_sys_time);
