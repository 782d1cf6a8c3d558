/* Implementation of ctl-http.h (RFC 9112 request heads, RFC 9110 content
 * negotiation, to the extent one resource needs them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl/ctl-http.h"
#include "shared/macro.h"

size_t ctl_http_head_length(const char *buf, size_t len) {
        const char *end = memmem(buf, len, "\r\n\r\n", 4);

        if (end)
                return (size_t) (end - buf) + 4;
        /* Bare newlines, as some hand-typed requests end. */
        end = memmem(buf, len, "\n\n", 2);
        return end ? (size_t) (end - buf) + 2 : 0;
}

/* tchar of RFC 9110: the characters of methods and header names. */
static bool is_token_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!is_token_char(s[i]))
                        return false;
        return len > 0;
}

/* "METHOD /target HTTP/1.x": method and the target's path. */
static int parse_request_line(const char *line, size_t len, CtlHttpRequest *ret) {
        const char *sp1 = memchr(line, ' ', len);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t) (sp1 + 1 - line)) : NULL;

        if (!sp2)
                return -EINVAL;
        size_t method_len = (size_t) (sp1 - line), target_len = (size_t) (sp2 - sp1 - 1);
        const char *version = sp2 + 1;
        size_t version_len = len - (size_t) (version - line);
        if (!is_token(line, method_len) || method_len >= sizeof ret->method)
                return -EINVAL;
        if (version_len != 8 || strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9')
                return -EINVAL;
        if (target_len == 0 || sp1[1] != '/')
                return -EINVAL;
        size_t path_len = strcspn(sp1 + 1, "?# ");
        path_len = MIN(path_len, target_len);
        if (path_len >= sizeof ret->path)
                return -EINVAL;
        for (size_t i = 0; i < target_len; i++)
                if ((unsigned char) sp1[1 + i] <= ' ' || sp1[1 + i] == 0x7f)
                        return -EINVAL;
        memcpy(ret->method, line, method_len);
        ret->method[method_len] = '\0';
        memcpy(ret->path, sp1 + 1, path_len);
        ret->path[path_len] = '\0';
        return 0;
}

/* Appends one Accept field value to accept (comma-joined, as RFC 9110
 * allows repeated list fields to be combined). */
static void append_accept(char *accept, size_t size, const char *value, size_t len) {
        size_t used = strlen(accept);

        if (used + len + 2 > size)
                return;
        if (used > 0)
                accept[used++] = ',';
        memcpy(accept + used, value, len);
        accept[used + len] = '\0';
}

/* "Name: value"; collects Accept. Folded lines (RFC 9112 obs-fold) are
 * refused. */
static int parse_header_line(const char *line, size_t len, char *accept, size_t accept_size) {
        const char *colon = memchr(line, ':', len);

        if (!colon || !is_token(line, (size_t) (colon - line)))
                return -EINVAL;
        size_t name_len = (size_t) (colon - line);
        const char *value = colon + 1;
        const char *end = line + len;
        while (value < end && (*value == ' ' || *value == '\t'))
                value++;
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        if (name_len == 6 && strncasecmp(line, "Accept", 6) == 0)
                append_accept(accept, accept_size, value, (size_t) (end - value));
        return 0;
}

int ctl_http_parse_request(const char *head, size_t len, CtlHttpRequest *ret) {
        char accept[CTL_HTTP_MAX_HEAD] = "";
        CtlHttpRequest r = {};
        const char *p = head, *end = head + len;
        int r_line;

        for (unsigned n = 0; p < end; n++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t line_len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                if (line_len > 0 && p[line_len - 1] == '\r')
                        line_len--;
                if (line_len == 0)
                        break;          /* the blank line ending the head */
                if (memchr(p, '\0', line_len))
                        return -EINVAL;
                r_line = n == 0 ? parse_request_line(p, line_len, &r)
                                : parse_header_line(p, line_len, accept, sizeof accept);
                if (r_line < 0)
                        return r_line;
                p = nl ? nl + 1 : end;
        }
        if (!r.method[0])
                return -EINVAL;
        r.format = ctl_http_negotiate(accept);
        *ret = r;
        return 0;
}

/* The q of one media range's parameters ("version=1.0.0;q=0.5"): 1 when
 * absent, 0 when malformed. */
static double media_range_q(const char *params, size_t len) {
        const char *p = params, *end = params + len;

        while (p < end) {
                const char *semi = memchr(p, ';', (size_t) (end - p));
                const char *stop = semi ?: end;
                while (p < stop && (*p == ' ' || *p == '\t'))
                        p++;
                if (stop - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                        char num[16];
                        size_t k = MIN((size_t) (stop - p - 2), sizeof num - 1);
                        memcpy(num, p + 2, k);
                        num[k] = '\0';
                        char *e;
                        double q = strtod(num, &e);
                        return e == num || q < 0 || q > 1 ? 0 : q;
                }
                p = semi ? semi + 1 : end;
        }
        return 1;
}

static bool media_type_is(const char *type, size_t len, const char *want) {
        while (len > 0 && (type[len - 1] == ' ' || type[len - 1] == '\t'))
                len--;
        return len == strlen(want) && strncasecmp(type, want, len) == 0;
}

CtlMetricsFormat ctl_http_negotiate(const char *accept) {
        double q_openmetrics = 0, q_text = 0;
        const char *p = accept;

        while (p && *p) {
                p += strspn(p, " \t");
                size_t len = strcspn(p, ",");
                size_t type_len = strcspn(p, ";,");
                double q = media_range_q(p + type_len, len - type_len);

                if (media_type_is(p, type_len, "application/openmetrics-text"))
                        q_openmetrics = MAX(q_openmetrics, q);
                else if (media_type_is(p, type_len, "text/plain") || media_type_is(p, type_len, "text/*") ||
                         media_type_is(p, type_len, "*/*"))
                        q_text = MAX(q_text, q);
                p += len;
                if (*p == ',')
                        p++;
        }
        return q_openmetrics > 0 && q_openmetrics >= q_text ? CTL_METRICS_OPENMETRICS : CTL_METRICS_PROMETHEUS;
}

int ctl_http_route(const CtlHttpRequest *r) {
        if (!streq(r->method, "GET") && !streq(r->method, "HEAD"))
                return 405;
        if (!streq(r->path, "/metrics"))
                return 404;
        return 200;
}

static const char *reason_phrase(int status) {
        static const struct { int status; const char *reason; } reasons[] = {
                { 200, "OK" },
                { 400, "Bad Request" },
                { 404, "Not Found" },
                { 405, "Method Not Allowed" },
                { 408, "Request Timeout" },
                { 431, "Request Header Fields Too Large" },
                { 500, "Internal Server Error" },
                { 503, "Service Unavailable" },
        };

        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (reasons[i].status == status)
                        return reasons[i].reason;
        return "Error";
}

void ctl_http_write_head(FILE *f, int status, const char *content_type, size_t length) {
        fprintf(f, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
        fprintf(f, "Content-Type: %s\r\n", content_type);
        fprintf(f, "Content-Length: %zu\r\n", length);
        if (status == 405)
                fputs("Allow: GET, HEAD\r\n", f);
        fputs("Connection: close\r\n\r\n", f);
}
