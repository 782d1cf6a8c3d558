/* systemd-networkd's link state files (see netif-links.h). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netif-links.h"
#include "shared/alloc-util.h"
#include "shared/file-util.h"
#include "shared/macro.h"
#include "shared/parse-util.h"

/* A state file is a few hundred bytes; more is not networkd's. */
#define NETIF_STATE_MAX (64 * 1024)

static bool oper_state_is_up(const char *v) {
        return !streq(v, "off") && !streq(v, "no-carrier") && !streq(v, "dormant") && !streq(v, "missing");
}

static int add_server(NetifLink *l, const char *word, size_t len, size_t *allocated) {
        if (GREEDY_REALLOC(l->ntp, *allocated, l->n_ntp + 2) < 0)
                return -ENOMEM;
        if (!(l->ntp[l->n_ntp] = strndup(word, len)))
                return -ENOMEM;
        l->ntp[++l->n_ntp] = NULL;
        return 0;
}

static int parse_ntp(NetifLink *l, const char *v, size_t *allocated) {
        while (*(v += strspn(v, " \t"))) {
                size_t len = strcspn(v, " \t");
                int r = add_server(l, v, len, allocated);
                if (r < 0)
                        return r;
                v += len;
        }
        return 0;
}

int netif_link_parse(const char *text, NetifLink *l) {
        size_t allocated = 0;
        char line[4096];

        l->up = true;
        while (*text) {
                size_t len = strcspn(text, "\n");
                snprintf(line, sizeof line, "%.*s", (int) MIN(len, sizeof line - 1), text);
                text += len + (text[len] == '\n');
                char *eq = strchr(line, '=');
                if (!eq || line[0] == '#')
                        continue;
                *eq = 0;
                if (streq(line, "OPER_STATE"))
                        l->up = oper_state_is_up(eq + 1);
                else if (streq(line, "NTP")) {
                        int r = parse_ntp(l, eq + 1, &allocated);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

void netif_link_done(NetifLink *l) {
        strv_free_array(l->ntp, l->n_ntp);
        l->ntp = NULL;
        l->n_ntp = 0;
}

void netif_links_free(NetifLink *links, size_t n) {
        for (size_t i = 0; i < n; i++)
                netif_link_done(&links[i]);
        free(links);
}

static int read_link(const char *dir, int ifindex, NetifLink *l) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ void *text = NULL;
        size_t len;
        int r;

        *l = (NetifLink) { .ifindex = ifindex };
        if (!if_indextoname((unsigned) ifindex, l->name))
                snprintf(l->name, sizeof l->name, "#%d", ifindex);
        if (asprintf(&path, "%s/%d", dir, ifindex) < 0)
                return -ENOMEM;
        r = read_small_file(path, NETIF_STATE_MAX, &text, &len);
        if (r < 0)
                return r;
        return netif_link_parse(text, l);
}

static int compare_links(const void *a, const void *b) {
        const NetifLink *x = a, *y = b;
        return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int netif_links_read(const char *dir, NetifLink **ret, size_t *ret_n) {
        NetifLink *links = NULL;
        size_t n = 0, allocated = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while (r >= 0 && (de = readdir(d))) {
                long ifindex;
                if (parse_int_range(de->d_name, 1, INT32_MAX, &ifindex) < 0)
                        continue;       /* ".", "..", networkd's temporary files */
                if (GREEDY_REALLOC(links, allocated, n + 1) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = read_link(dir, (int) ifindex, &links[n]);
                if (r < 0)
                        netif_link_done(&links[n]);
                if (r == -ENOENT)
                        r = 0;          /* gone while we looked: no link */
                else if (r >= 0)
                        n++;
        }
        closedir(d);
        if (r < 0) {
                netif_links_free(links, n);
                return r;
        }
        if (n > 0)
                qsort(links, n, sizeof *links, compare_links);
        *ret = links;
        *ret_n = n;
        return 0;
}
