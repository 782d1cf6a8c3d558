/* Implementation of metrics-command.h: the bus reads, the one-shot HTTP
 * exchange on standard input and output, and the command's options. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl-http.h"
#include "ctl/ctl-i18n.h"
#include "ctl/ctl-metrics.h"
#include "ctl/ctl-usage.h"
#include "ctl/metrics-command.h"
#include "shared/file-util.h"
#include "shared/macro.h"
#include "shared/time-util.h"

/* How long a client may take to send its request head. */
#define HTTP_READ_TIMEOUT_NSEC (10 * NSEC_PER_SEC)

typedef struct MetricsOptions {
        CtlBusKind kind;
        const char *address;
        CtlMetricsFormat format;
        bool format_set;
        bool http;
} MetricsOptions;

/* Reads the daemon's state and renders it into *ret (NUL-terminated). On
 * failure, error holds one line saying why. */
static int render_metrics(const MetricsOptions *o, CtlMetricsFormat format, char **ret, size_t *ret_len,
                          char *error, size_t error_size) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        CtlTracking t = {};
        CtlSourceInfo *s = NULL;
        size_t n = 0;
        int r;

        r = ctl_bus_open(o->kind, o->address, &bus);
        if (r < 0) {
                snprintf(error, error_size, _("Failed to connect to the bus: %s"), strerror(-r));
                return r;
        }
        r = ctl_bus_get_tracking(bus, &t, &e);
        if (r >= 0)
                r = ctl_bus_get_sources(bus, &s, &n, &e);
        if (r < 0)
                ctl_bus_error_text(error, error_size, &e, r);
        else {
                FILE *f = open_memstream(ret, ret_len);
                if (!f)
                        r = -ENOMEM;
                else {
                        ctl_metrics_write(f, format, &t, s, n);
                        r = fclose(f) == 0 ? 0 : -ENOMEM;
                }
                if (r < 0)
                        snprintf(error, error_size, "%s", strerror(-r));
        }
        sd_bus_error_free(&e);
        ctl_source_info_free_array(s, n);
        ctl_tracking_done(&t);
        return r;
}

static int print_metrics(const MetricsOptions *o) {
        _cleanup_free_ char *text = NULL;
        char error[512];
        size_t len = 0;
        int r = render_metrics(o, o->format, &text, &len, error, sizeof error);

        if (r < 0) {
                fprintf(stderr, "%s\n", error);
                return -EIO;
        }
        fwrite(text, 1, len, stdout);
        return 0;
}

/* ---- HTTP on standard input and output ---- */

/* Reads until the request head is complete. Returns its length, -ETIMEDOUT,
 * -E2BIG when it outgrows the buffer, -ENODATA when the client closed
 * without a byte, -EINVAL when it closed half way, or another -errno. */
static ssize_t read_request_head(int fd, char *buf, size_t size) {
        nsec_t deadline = now_monotonic() + HTTP_READ_TIMEOUT_NSEC;
        size_t len = 0;

        for (;;) {
                size_t head = ctl_http_head_length(buf, len);
                if (head > 0)
                        return (ssize_t) head;
                if (len == size)
                        return -E2BIG;
                nsec_t left = deadline - now_monotonic();
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int k = left > 0 ? poll(&pfd, 1, (int) (left / NSEC_PER_MSEC) + 1) : 0;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ETIMEDOUT;
                ssize_t got = read(fd, buf + len, size - len);
                if (got < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (got < 0)
                        return -errno;
                if (got == 0)
                        return len > 0 ? -EINVAL : -ENODATA;
                len += (size_t) got;
        }
}

/* Sends a whole response: head, then body unless the request was HEAD. */
static int send_response(int status, const char *content_type, const char *body, size_t len, bool head_only) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        ctl_http_write_head(f, status, content_type, len);
        if (!head_only)
                fwrite(body, 1, len, f);
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_all(STDOUT_FILENO, text, size);
}

static int send_error(int status, const char *message, bool head_only) {
        char body[600];
        int len = snprintf(body, sizeof body, "%s\n", message);

        return send_response(status, "text/plain; charset=utf-8", body, (size_t) MIN(len, (int) sizeof body - 1),
                             head_only);
}

static int status_for_read_error(ssize_t r) {
        return r == -ETIMEDOUT ? 408 : r == -E2BIG ? 431 : 400;
}

static int serve_http(const MetricsOptions *o) {
        char buf[CTL_HTTP_MAX_HEAD], error[512];
        _cleanup_free_ char *text = NULL;
        CtlHttpRequest req;
        size_t len = 0;

        /* A client that hangs up early must not kill us before we log. */
        (void) signal(SIGPIPE, SIG_IGN);
        ssize_t head = read_request_head(STDIN_FILENO, buf, sizeof buf);
        if (head == -ENODATA)
                return 0;
        if (head < 0)
                return send_error(status_for_read_error(head), "Bad request.", false);
        if (ctl_http_parse_request(buf, (size_t) head, &req) < 0)
                return send_error(400, "Bad request.", false);

        bool head_only = streq(req.method, "HEAD");
        int status = ctl_http_route(&req);
        if (status == 404)
                return send_error(404, "Not found: the metrics are at /metrics.", head_only);
        if (status != 200)
                return send_error(status, "Only GET and HEAD are served.", false);

        CtlMetricsFormat format = o->format_set ? o->format : req.format;
        if (render_metrics(o, format, &text, &len, error, sizeof error) < 0) {
                fprintf(stderr, "Cannot serve metrics: %s\n", error);
                return send_error(503, error, head_only);
        }
        return send_response(200, ctl_metrics_content_type(format), text, len, head_only);
}

/* ---- options ---- */

static int parse_options(MetricsOptions *o, char **args, int n) {
        for (int i = 0; i < n; i++) {
                const char *value = NULL;

                if (streq(args[i], "--http"))
                        o->http = true;
                else if (streq(args[i], "--format") || strncmp(args[i], "--format=", 9) == 0) {
                        value = option_value(args, n, &i);
                        if (!value)
                                return usage_error(_("Option '%s' needs a value."), "--format");
                } else
                        return usage_error(_("Unknown argument to metrics: '%s'."), args[i]);
                if (value && ctl_metrics_format_from_string(value, &o->format) < 0)
                        return usage_error(_("Unknown metrics format '%s': use openmetrics or prometheus."), value);
                o->format_set = o->format_set || value;
        }
        return 0;
}

int metrics_command(CtlBusKind kind, const char *address, char **args, int n) {
        MetricsOptions o = { .kind = kind, .address = address, .format = CTL_METRICS_OPENMETRICS };
        int r = parse_options(&o, args, n);

        if (r < 0)
                return r;
        if (!o.http)
                return print_metrics(&o);
        r = serve_http(&o);
        if (r < 0)
                fprintf(stderr, "Failed to send the response: %s\n", strerror(-r));
        return r < 0 ? -EIO : 0;
}
