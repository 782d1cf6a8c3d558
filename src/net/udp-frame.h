/* Finding the UDP payload in a datagram the kernel hands back with a
 * transmit timestamp (the error queue returns the packet as the device
 * saw it: an Ethernet frame on most devices, loopback and veth included,
 * or a bare IP packet), and the address it was sent to. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Sets *ret_payload and *ret_len to the UDP payload and fills *ret_dest
 * (port included) from the IPv4 or IPv6 and UDP headers. Returns 0, or
 * -EBADMSG when data is neither such a frame nor such a packet. */
int udp_frame_parse(const uint8_t *data, size_t len, const uint8_t **ret_payload, size_t *ret_len,
                    struct sockaddr_storage *ret_dest);
