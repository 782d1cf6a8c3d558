"""A referee on the wire for the real-kernel benchmark: every NTP exchange
between the clients and the far server, timed where the packets enter and
leave the client's side of the path (a packet socket on tnear0, with the
kernel's receive timestamps), independently of either client.

For each exchange the server's own T2 and T3 come from the reply, so

    round trip  = (t4 - t1) - (T3 - T2)
    path offset = ((T2 - t1) + (T3 - t4)) / 2

with t1 and t4 the wire's times. The server's clock is the system clock,
so the path offset is what that exchange, perfectly timestamped, would
have made any client believe: the path's own error, not the client's.

Each exchange is the client's whose address sent the request. Each
client's measurement log is then matched to that client's exchanges on the
wire, row by row (within a second and a half, the exchange of the nearest
round trip), which gives:
  - how its round trips compare with the wire's (its timestamps' error);
  - the path offsets of its own exchanges, mean and median (the error the
    path put into its samples; two clients on one path draw different
    exchanges, and a few held far longer move the mean, not the median).
Every exchange is also written to a log, one line each, with the
server's response time T3 - T2 last. The round trip and the path offset
leave it out, but it shows how warm the server was: with default polling
and tempusd 8 s behind chronyd, the server took 290 to 820 us to answer
chronyd's requests, which came after 56 s of quiet, and 110 to 340 us to
answer tempusd's (see stagger() in kernel_bench.py)."""

import socket
import statistics
import struct
import threading

from tempus_test import NTP_EPOCH_OFFSET

MATCH_WINDOW = 1.5      # seconds between a logged sample and its exchange, at most
SO_TIMESTAMPNS = 35
ETH_P_ALL = 0x0003
NTP_PORT = 123


def _ntp_time(raw):
    seconds, fraction = struct.unpack("!II", raw)
    return seconds - NTP_EPOCH_OFFSET + fraction / 2**32


def _kernel_time(ancillary):
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds * 1e-9
    return None


def nearest_exchange(exchanges, at, delay):
    """The exchange a measurement-log row at time `at` with round trip
    `delay` was: of those within MATCH_WINDOW, the nearest round trip;
    None when there is none."""
    near = [e for e in exchanges if abs(e[0] - at) <= MATCH_WINDOW]
    return min(near, key=lambda e: abs(e[1] - delay)) if near else None


class Wire:
    """Records every exchange seen on `device` until the process ends."""

    def __init__(self, device, log_path):
        self.exchanges = []             # (t1, round trip, path offset) in seconds, client address
        self._log = open(log_path, "w", buffering=1)
        self._log.write("# t1 (Unix s) round_trip_us path_offset_us client server_response_us, timed on %s\n" % device)
        self._requests = {}             # (client address, port) -> wire time of the request
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self._socket.bind((device, 0))
        self._socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        while True:
            try:
                data, ancillary, _, _ = self._socket.recvmsg(2048, 256)
            except OSError:
                return                  # the device went away with the path
            at = _kernel_time(ancillary)
            if at is not None:
                self._packet(data, at)

    def _packet(self, ip, at):
        header = (ip[0] & 15) * 4
        if len(ip) < header + 8 + 48 or ip[9] != socket.IPPROTO_UDP:
            return
        source, destination = struct.unpack("!HH", ip[header:header + 4])
        ntp = ip[header + 8:]
        if destination == NTP_PORT:
            self._requests[(ip[12:16], source)] = at
        elif source == NTP_PORT and (ip[16:20], destination) in self._requests:
            t1, t4 = self._requests.pop((ip[16:20], destination)), at
            t2, t3 = _ntp_time(ntp[32:40]), _ntp_time(ntp[40:48])
            exchange = (t1, (t4 - t1) - (t3 - t2), ((t2 - t1) + (t3 - t4)) / 2, socket.inet_ntoa(ip[16:20]))
            self.exchanges.append(exchange)
            self._log.write("%.6f %.1f %+.1f %s %.1f\n" % (exchange[0], exchange[1] * 1e6, exchange[2] * 1e6,
                                                         exchange[3], (t3 - t2) * 1e6))

    def match(self, rows, log_time, since=0.0, client=None):
        """(logged round trip - wire's, wire's path offset) for each row of a
        chrony-style measurement log at or after `since`, among the
        exchanges of the client at address `client` (None: any)."""
        out = []
        for r in rows:
            at, delay = log_time(r), float(r[12])
            if at < since:
                continue
            e = nearest_exchange([e for e in list(self.exchanges) if client in (None, e[3])], at, delay)
            if e:
                out.append((delay - e[1], e[2]))
        return out


def summary(matched):
    """(exchanges, median round trip - wire's, mean and median path offset),
    microseconds."""
    if not matched:
        return 0, float("nan"), float("nan"), float("nan")
    offsets = [m[1] * 1e6 for m in matched]
    return (len(matched), statistics.median(m[0] for m in matched) * 1e6, statistics.mean(offsets),
            statistics.median(offsets))
