/* Parsing and copying of source specifications (see source-spec.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/source-spec.h"
#include "shared/macro.h"
#include "shared/parse-util.h"

static int fail(const char **reason, const char *why) {
        *reason = why;
        return -EINVAL;
}

void source_spec_done(SourceSpec *s) {
        s->host = mfree(s->host);
}

int source_spec_copy(SourceSpec *dst, const SourceSpec *src) {
        *dst = *src;
        dst->host = src->host ? strdup(src->host) : NULL;
        return !src->host || dst->host ? 0 : -ENOMEM;
}

/* An IPv6 literal, optionally with a scope: "fe80::1%eth0". */
static bool ipv6_is_valid(const char *h) {
        char addr[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        const char *scope = strchr(h, '%');
        size_t n = scope ? (size_t) (scope - h) : strlen(h);

        if (n >= sizeof addr)
                return false;
        memcpy(addr, h, n);
        addr[n] = 0;
        return inet_pton(AF_INET6, addr, &a6) == 1 && (!scope || ifname_is_valid(scope + 1));
}

static bool label_is_numeric(const char *label, size_t len) {
        return strspn(label, "0123456789") >= len;
}

/* An IPv6 literal, an IPv4 address, or a host name of at most 253
 * characters whose dot-separated labels are 1 to 63 letters, digits, '-' or
 * '_', not starting or ending with '-'. A name whose last label is all
 * digits must be an IPv4 address ("10.0.0.256" is neither). Returns NULL
 * when h is valid, else what is wrong with it. */
static const char *host_check(const char *h) {
        struct in_addr a4;
        bool numeric = false;

        if (strchr(h, ':'))
                return ipv6_is_valid(h) ? NULL : "not an IPv6 address (with an optional %interface scope)";
        if (!*h || strlen(h) > 253)
                return "a host name has 1 to 253 characters";
        for (const char *label = h; label;) {
                const char *dot = strchr(label, '.');
                size_t len = dot ? (size_t) (dot - label) : strlen(label);
                if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
                        return "invalid host name (labels of 1 to 63 characters, not starting or ending with '-')";
                for (size_t i = 0; i < len; i++)
                        if (!isalnum((unsigned char) label[i]) && !strchr("-_", label[i]))
                                return "invalid host name (letters, digits, '-', '_' and '.' only)";
                numeric = label_is_numeric(label, len);
                label = dot ? dot + 1 : NULL;
        }
        return !numeric || inet_pton(AF_INET, h, &a4) == 1 ? NULL : "not an IPv4 address";
}

/* minpoll or maxpoll not given (below any exponent that can be). */
#define POLL_UNSET (SOURCE_MIN_POLL - 1)

#define OPTIONS_EXPECTED \
        "unknown option (expected iburst, prefer, noselect, xleave, nts, minpoll=, maxpoll=, key=, port=, ntsport=, maxsources=)"

static int parse_source_option(SourceKind kind, const char *opt, SourceSpec *s, const char **reason) {
        const char *eq = strchr(opt, '=');
        long v;

        if (streq(opt, "iburst"))
                s->iburst = true;
        else if (streq(opt, "prefer"))
                s->prefer = true;
        else if (streq(opt, "noselect"))
                s->noselect = true;
        else if (streq(opt, "nts"))
                s->nts = true;
        else if (streq(opt, "xleave"))
                s->xleave = true;
        else if (!eq)
                return fail(reason, OPTIONS_EXPECTED);
        else if (strncmp(opt, "minpoll=", 8) == 0 || strncmp(opt, "maxpoll=", 8) == 0) {
                if (parse_int_range(eq + 1, SOURCE_MIN_POLL, SOURCE_MAX_POLL, &v) < 0)
                        return fail(reason, "poll exponent must be an integer from -7 to 24");
                *(opt[1] == 'i' ? &s->minpoll : &s->maxpoll) = (int) v;
        } else if (strncmp(opt, "key=", 4) == 0) {
                if (parse_int_range(eq + 1, 1, UINT32_MAX, &v) < 0)
                        return fail(reason, "key must be an integer from 1 to 4294967295");
                s->key = (uint32_t) v;
        } else if (strncmp(opt, "ntsport=", 8) == 0) {
                if (parse_int_range(eq + 1, 1, 65535, &v) < 0)
                        return fail(reason, "ntsport must be from 1 to 65535");
                s->nts_port = (uint16_t) v;
        } else if (strncmp(opt, "port=", 5) == 0) {
                if (parse_int_range(eq + 1, 1, 65535, &v) < 0)
                        return fail(reason, "port must be from 1 to 65535");
                s->port = (uint16_t) v;
        } else if (strncmp(opt, "maxsources=", 11) == 0) {
                if (kind != SOURCE_KIND_POOL)
                        return fail(reason, "maxsources= applies to Pool= only");
                if (parse_int_range(eq + 1, 1, 16, &v) < 0)
                        return fail(reason, "maxsources must be from 1 to 16");
                s->maxsources = (unsigned) v;
        } else
                return fail(reason, OPTIONS_EXPECTED);
        return 0;
}

/* Fills in the bounds not given. One given alone takes the other's
 * default with it where they would cross, as chrony does for minpoll
 * ("minpoll=12" polls every 2^12 s); two given that cross are refused. */
static int resolve_poll_range(SourceSpec *s) {
        bool min_given = s->minpoll != POLL_UNSET, max_given = s->maxpoll != POLL_UNSET;

        if (min_given && max_given)
                return s->minpoll <= s->maxpoll ? 0 : -EINVAL;
        if (min_given)
                s->maxpoll = MAX(s->minpoll, SOURCE_DEFAULT_MAXPOLL);
        else if (max_given)
                s->minpoll = MIN(s->maxpoll, SOURCE_DEFAULT_MINPOLL);
        else {
                s->minpoll = SOURCE_DEFAULT_MINPOLL;
                s->maxpoll = SOURCE_DEFAULT_MAXPOLL;
        }
        return 0;
}

int source_spec_parse(SourceKind kind, const char *value, SourceSpec *ret, const char **reason) {
        _cleanup_free_ char *copy = strdup(value);
        SourceSpec s = {
                .kind = kind,
                .port = 123,
                .minpoll = POLL_UNSET,
                .maxpoll = POLL_UNSET,
                .maxsources = kind == SOURCE_KIND_POOL ? POOL_DEFAULT_MAXSOURCES : 1,
                .nts_port = SOURCE_DEFAULT_NTS_PORT,
        };
        char *save = NULL, *tok;

        if (!copy)
                return -ENOMEM;
        tok = strtok_r(copy, " \t", &save);
        if (!tok)
                return fail(reason, "missing host name or address");
        /* "[2001:db8::1]" is accepted for IPv6 literals. */
        if (tok[0] == '[' && tok[strlen(tok) - 1] == ']') {
                tok[strlen(tok) - 1] = 0;
                tok++;
        }
        if (strchr(tok, '='))
                return fail(reason, "missing host name or address");
        const char *bad = host_check(tok);
        if (bad)
                return fail(reason, bad);
        const char *host = tok;
        while ((tok = strtok_r(NULL, " \t", &save)))
                if (parse_source_option(kind, tok, &s, reason) < 0)
                        return -EINVAL;
        if (resolve_poll_range(&s) < 0)
                return fail(reason, "minpoll is larger than maxpoll");
        if (kind == SOURCE_KIND_PEER && s.nts)
                return fail(reason, "nts applies to Server= and Pool= only (NTS has no symmetric mode)");
        if (s.nts && s.key != 0)
                return fail(reason, "nts and key= exclude each other: a source has one kind of authentication");
        s.host = strdup(host);
        if (!s.host)
                return -ENOMEM;
        *ret = s;
        return 0;
}
