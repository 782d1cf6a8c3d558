/* A stand-in for polkitd on the test's private bus: owns
 * org.freedesktop.PolicyKit1 and answers CheckAuthorization by the
 * caller's UID, so the polkit test can drive every answer tempusd may get.
 *
 * Usage: fake-polkit ALLOW_UID CHALLENGE_UID DELAY_MS
 *
 * A subject whose bus name belongs to ALLOW_UID is authorized; one of
 * CHALLENGE_UID is authorized when the check allows user interaction (as
 * if an agent had asked for the password) and challenged otherwise;
 * everyone else is refused. Every answer comes DELAY_MS late, so the test
 * can see that tempusd goes on serving meanwhile. Each question is logged
 * on stdout as "check ACTION uid=UID flags=FLAGS -> VERDICT". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Fake {
        sd_bus *bus;
        uid_t allow, challenge;
        uint64_t delay_usec;
} Fake;

typedef struct Pending {
        sd_bus_message *call;
        int authorized, challenged;
} Pending;

static int read_subject_name(sd_bus_message *m, const char **ret) {
        const char *kind, *key;
        int r;

        *ret = NULL;
        r = sd_bus_message_enter_container(m, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_read(m, "s", &kind);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && strcmp(kind, "system-bus-name") == 0 && strcmp(key, "name") == 0)
                        r = sd_bus_message_read(m, "v", "s", ret);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : *ret ? 0 : -EINVAL;
}

static int answer(sd_event_source *s, uint64_t usec, void *userdata) {
        Pending *p = userdata;

        (void) sd_bus_reply_method_return(p->call, "(bba{ss})", p->authorized, p->challenged, 0);
        sd_bus_message_unref(p->call);
        free(p);
        return 0;
}

static int method_check(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        sd_bus_message *reply = NULL;
        const char *name, *action;
        uint32_t flags;
        uid_t uid;
        int r;

        r = read_subject_name(m, &name);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "subject is not a system-bus-name");
        r = sd_bus_message_read(m, "s", &action);
        if (r >= 0)
                r = sd_bus_message_skip(m, "a{ss}");
        if (r >= 0)
                r = sd_bus_message_read(m, "u", &flags);
        if (r < 0)
                return r;
        r = sd_bus_call_method(f->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixUser", error, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &uid);
        sd_bus_message_unref(reply);
        if (r < 0)
                return r;

        Pending *p = calloc(1, sizeof(Pending));
        if (!p)
                return -ENOMEM;
        p->call = sd_bus_message_ref(m);
        p->authorized = uid == f->allow || (uid == f->challenge && (flags & 1));
        p->challenged = uid == f->challenge && !(flags & 1);
        printf("check %s uid=%u flags=%u -> %s\n", action, (unsigned) uid, flags,
               p->authorized ? "yes" : p->challenged ? "challenge" : "no");
        fflush(stdout);
        r = sd_event_add_time_relative(sd_bus_get_event(f->bus), NULL, CLOCK_MONOTONIC, f->delay_usec, 0,
                                       answer, p);
        return r < 0 ? r : 1;   /* handled: the answer follows */
}

static const sd_bus_vtable authority_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", method_check, 0),
        SD_BUS_VTABLE_END,
};

int main(int argc, char **argv) {
        sd_event *event = NULL;
        Fake f = {};
        int r;

        if (argc != 4) {
                fprintf(stderr, "usage: fake-polkit ALLOW_UID CHALLENGE_UID DELAY_MS\n");
                return 2;
        }
        f.allow = (uid_t) strtoul(argv[1], NULL, 10);
        f.challenge = (uid_t) strtoul(argv[2], NULL, 10);
        f.delay_usec = strtoull(argv[3], NULL, 10) * 1000;
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&f.bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f.bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
                                             "org.freedesktop.PolicyKit1.Authority", authority_vtable, &f);
        if (r >= 0)
                r = sd_bus_request_name(f.bus, "org.freedesktop.PolicyKit1", 0);
        if (r >= 0)
                r = sd_bus_attach_event(f.bus, event, 0);
        if (r >= 0) {
                printf("ready\n");
                fflush(stdout);
                r = sd_event_loop(event);
        }
        if (r < 0)
                fprintf(stderr, "fake-polkit: %s\n", strerror(-r));
        sd_bus_flush_close_unref(f.bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
