/* UDP payloads of looped-back transmitted packets (see udp-frame.h). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "net/udp-frame.h"

#define ETHER_HEADER 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPV6_HEADER 40
#define UDP_HEADER 8

static uint16_t be16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

/* The UDP header at data (len bytes to the end of the packet). */
static int parse_udp(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len, uint16_t *ret_port) {
        if (len < UDP_HEADER)
                return -EBADMSG;
        size_t ulen = be16(data + 4);
        if (ulen < UDP_HEADER || ulen > len)
                return -EBADMSG;
        *ret_port = be16(data + 2);
        *ret_payload = data + UDP_HEADER;
        *ret_len = ulen - UDP_HEADER;
        return 0;
}

static int parse_ipv4(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len,
                      struct sockaddr_storage *ret_dest) {
        struct sockaddr_in *a = (struct sockaddr_in *) ret_dest;
        uint16_t port;

        if (len < 20 || data[0] >> 4 != 4 || data[9] != IPPROTO_UDP)
                return -EBADMSG;
        size_t ihl = (size_t) (data[0] & 0x0f) * 4, total = be16(data + 2);
        if (ihl < 20 || total < ihl || total > len)
                return -EBADMSG;
        int r = parse_udp(data + ihl, total - ihl, ret_payload, ret_len, &port);
        if (r < 0)
                return r;
        memset(ret_dest, 0, sizeof *ret_dest);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        memcpy(&a->sin_addr, data + 16, 4);
        return 0;
}

/* Without extension headers: tempus sends none. */
static int parse_ipv6(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len,
                      struct sockaddr_storage *ret_dest) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *) ret_dest;
        uint16_t port;

        if (len < IPV6_HEADER || data[0] >> 4 != 6 || data[6] != IPPROTO_UDP)
                return -EBADMSG;
        size_t plen = be16(data + 4);
        if (plen > len - IPV6_HEADER)
                return -EBADMSG;
        int r = parse_udp(data + IPV6_HEADER, plen, ret_payload, ret_len, &port);
        if (r < 0)
                return r;
        memset(ret_dest, 0, sizeof *ret_dest);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        memcpy(&a->sin6_addr, data + 24, 16);
        return 0;
}

static int parse_ip(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len,
                    struct sockaddr_storage *ret_dest) {
        if (len >= 1 && data[0] >> 4 == 4)
                return parse_ipv4(data, len, ret_payload, ret_len, ret_dest);
        if (len >= 1 && data[0] >> 4 == 6)
                return parse_ipv6(data, len, ret_payload, ret_len, ret_dest);
        return -EBADMSG;
}

int udp_frame_parse(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len,
                    struct sockaddr_storage *ret_dest) {
        if (len >= ETHER_HEADER) {
                uint16_t type = be16(data + 12);
                if ((type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6) &&
                    parse_ip(data + ETHER_HEADER, len - ETHER_HEADER, ret_payload, ret_len, ret_dest) == 0)
                        return 0;
        }
        return parse_ip(data, len, ret_payload, ret_len, ret_dest);
}
