/* Authorization of changing method calls through polkit (see bus-polkit.h).
 *
 * A query lives from the first dispatch of a method call, which sends
 * CheckAuthorization, until the second, which finds polkit's verdict here
 * and takes it. Queries are few and short-lived: a plain array. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus-polkit.h"
#include "shared/alloc-util.h"
#include "shared/log.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization's flag AllowUserInteraction. */
#define POLKIT_ALLOW_USER_INTERACTION 1u

typedef enum PolkitVerdict {
        VERDICT_PENDING,
        VERDICT_ALLOWED,
        VERDICT_DENIED,
        VERDICT_CHALLENGE,      /* polkit would allow it after an authentication
                                 * the call did not allow */
        VERDICT_FAILED,         /* polkit did not answer */
} PolkitVerdict;

struct BusPolkitQuery {
        BusPolkit *owner;
        sd_bus_message *request;        /* the method call, referenced */
        sd_bus_slot *slot;              /* the call to polkit in flight */
        bool interactive;               /* the call allows interactive authorization */
        PolkitVerdict verdict;
};

static BusPolkitQuery *query_free(BusPolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        free(q);
        return NULL;
}

static void query_remove(BusPolkit *p, BusPolkitQuery *q) {
        for (size_t i = 0; i < p->n_queries; i++)
                if (p->queries[i] == q) {
                        memmove(p->queries + i, p->queries + i + 1, (p->n_queries - i - 1) * sizeof(*p->queries));
                        p->n_queries--;
                        break;
                }
        query_free(q);
}

static BusPolkitQuery *query_find(BusPolkit *p, sd_bus_message *message) {
        for (size_t i = 0; i < p->n_queries; i++)
                if (p->queries[i]->request == message)
                        return p->queries[i];
        return NULL;
}

/* Answered queries whose call never came back (the object went away, say)
 * make room for new ones. */
static void drop_answered(BusPolkit *p) {
        for (size_t i = p->n_queries; i > 0; i--)
                if (p->queries[i - 1]->verdict != VERDICT_PENDING)
                        query_remove(p, p->queries[i - 1]);
}

void bus_polkit_done(BusPolkit *p) {
        for (size_t i = 0; i < p->n_queries; i++)
                query_free(p->queries[i]);
        p->queries = mfree(p->queries);
        p->n_queries = p->n_queries_allocated = 0;
}

/* The sender's effective UID (or its UID, when the bus does not pass the
 * effective one) is 0. */
static int sender_is_root(sd_bus_message *message) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT,
                                      &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        return r >= 0 && uid == 0;
}

/* CheckAuthorization returns (bba{ss}): is_authorized, is_challenge,
 * details. */
static PolkitVerdict verdict_from_reply(sd_bus_message *reply, bool interactive) {
        int authorized, challenge;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                log_info("polkit did not answer: %s: %s", e->name, strna(e->message));
                return VERDICT_FAILED;
        }
        if (sd_bus_message_enter_container(reply, 'r', "bba{ss}") < 0 ||
            sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0) {
                log_info("polkit's answer could not be read.");
                return VERDICT_FAILED;
        }
        /* A challenge after polkit was allowed to ask is a no: nobody
         * answered it. */
        return authorized ? VERDICT_ALLOWED : challenge && !interactive ? VERDICT_CHALLENGE : VERDICT_DENIED;
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        BusPolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->verdict = verdict_from_reply(reply, q->interactive);
        /* The method call goes through dispatch again, and its handler
         * finds the verdict. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_warning_errno(r, "Failed to dispatch a method call again after polkit's answer: %m");
                (void) sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
                                                  "The call could not be completed after authorization.");
                query_remove(q->owner, q);
        }
        return 0;
}

static int start_query(BusPolkit *p, sd_bus_message *message, const char *action, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = sd_bus_message_get_bus(message);
        const char *sender = sd_bus_message_get_sender(message);
        uint32_t flags = sd_bus_message_get_allow_interactive_authorization(message) > 0
                                 ? POLKIT_ALLOW_USER_INTERACTION : 0;
        int r;

        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "The caller has no bus name.");
        if (p->n_queries >= BUS_POLKIT_MAX_QUERIES)
                drop_answered(p);
        if (p->n_queries >= BUS_POLKIT_MAX_QUERIES)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                        "Too many authorization checks in progress; try again.");
        r = sd_bus_message_new_method_call(bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r >= 0)
                /* subject ("system-bus-name", {"name": sender}), action,
                 * details (none), flags, cancellation id (none). */
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
                                          action, 0, flags, "");
        if (r < 0)
                return r;

        BusPolkitQuery *q = calloc(1, sizeof(BusPolkitQuery));
        if (!q || GREEDY_REALLOC(p->queries, p->n_queries_allocated, p->n_queries + 1) < 0) {
                free(q);
                return -ENOMEM;
        }
        *q = (BusPolkitQuery) {
                .owner = p,
                .request = sd_bus_message_ref(message),
                .interactive = flags & POLKIT_ALLOW_USER_INTERACTION,
                .verdict = VERDICT_PENDING,
        };
        /* Asynchronous, with sd-bus's default timeout (25 s): nothing
         * waits for it but this one call. */
        r = sd_bus_call_async(bus, &q->slot, call, on_polkit_reply, q, 0);
        if (r < 0) {
                query_free(q);
                return r;
        }
        p->queries[p->n_queries++] = q;
        return 0;
}

static int verdict_to_result(PolkitVerdict v, const char *action, sd_bus_error *error) {
        switch (v) {
        case VERDICT_ALLOWED:
                return 1;
        case VERDICT_CHALLENGE:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required for %s; allow interactive authorization "
                                         "to be asked for it.", action);
        case VERDICT_FAILED:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not root, and polkit could not be asked about %s.", action);
        default:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not root, and polkit does not authorize %s.", action);
        }
}

int bus_polkit_verify(BusPolkit *p, sd_bus_message *message, const char *action, sd_bus_error *error) {
        int r;

        assert(p && message && action);
        r = sender_is_root(message);
        if (r != 0)
                return r;
        BusPolkitQuery *q = query_find(p, message);
        if (!q)
                return start_query(p, message, action, error);
        if (q->verdict == VERDICT_PENDING)
                /* Dispatched again before polkit answered: not our doing. */
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Authorization still in progress.");
        PolkitVerdict v = q->verdict;
        query_remove(p, q);
        return verdict_to_result(v, action, error);
}
