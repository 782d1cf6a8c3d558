/* Privilege dropping with libcap (see privileges.h). */
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon/privileges.h"
#include "shared/log.h"

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}

static bool have_permitted(cap_value_t v) {
        _cleanup_(cap_freep) cap_t caps = cap_get_proc();
        cap_flag_value_t on = CAP_CLEAR;

        if (!caps || cap_get_flag(caps, v, CAP_PERMITTED, &on) < 0)
                return false;
        return on == CAP_SET;
}

/* Leaves only `keep` (if any) in the permitted and effective sets. */
static int limit_capabilities(bool keep_sys_time) {
        _cleanup_(cap_freep) cap_t caps = cap_init();
        cap_value_t sys_time = CAP_SYS_TIME;

        if (!caps)
                return -ENOMEM;
        if (keep_sys_time &&
            (cap_set_flag(caps, CAP_PERMITTED, 1, &sys_time, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_EFFECTIVE, 1, &sys_time, CAP_SET) < 0))
                return -errno;
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}

static int switch_user(const struct passwd *pw) {
        /* Keep permitted capabilities across setuid(), then trim them. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return -errno;
        if (setgroups(0, NULL) < 0)
                return -errno;
        if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
                return -errno;
        if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                return -errno;
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int privileges_drop(const char *user, bool keep_sys_time) {
        int r;

        if (geteuid() != 0)
                return 0;
        keep_sys_time = keep_sys_time && have_permitted(CAP_SYS_TIME);

        const struct passwd *pw = getpwnam(user);
        if (pw) {
                r = switch_user(pw);
                if (r < 0)
                        return log_error_errno(r, "Failed to switch to user %s: %m", user);
        } else
                log_warning("User %s does not exist; staying root with reduced capabilities.", user);

        r = limit_capabilities(keep_sys_time);
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities: %m");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error_errno(-errno, "Failed to set no_new_privs: %m");
        log_debug("Running as %s with %s.", pw ? user : "root", keep_sys_time ? "CAP_SYS_TIME only" : "no capabilities");
        return 0;
}
