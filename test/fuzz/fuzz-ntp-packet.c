/* Fuzz target for the NTP packet parser: any datagram is either dropped
 * with a reason or parsed; extension fields and MAC cover what follows the
 * header; a parsed header encodes back to the same 48 bytes and parses to
 * the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntp/ntp-packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NtpPacket p, again;
        uint8_t buf[NTP_HEADER_SIZE];

        NtpDrop drop = ntp_packet_parse(data, size, &p);
        if (drop != NTP_DROP_NONE) {
                if (!ntp_drop_to_string(drop))
                        abort();
                return 0;
        }
        /* Fields and MAC account for every byte after the header. */
        if (p.extension_bytes + p.mac_length != size - NTP_HEADER_SIZE || p.has_mac != (p.mac_length > 0) ||
            p.mac_length > NTP_MAX_MAC_LENGTH)
                abort();
        if (ntp_packet_encode(&p, buf) != NTP_HEADER_SIZE || memcmp(buf, data, NTP_HEADER_SIZE) != 0)
                abort();
        if (ntp_packet_parse(buf, sizeof buf, &again) != NTP_DROP_NONE)
                abort();
        if (again.leap != p.leap || again.version != p.version || again.mode != p.mode ||
            again.stratum != p.stratum || again.poll != p.poll || again.precision != p.precision ||
            again.root_delay != p.root_delay || again.root_dispersion != p.root_dispersion ||
            again.reference_id != p.reference_id || again.reference_ts != p.reference_ts ||
            again.origin_ts != p.origin_ts || again.receive_ts != p.receive_ts ||
            again.transmit_ts != p.transmit_ts)
                abort();
        return 0;
}
