#!/usr/bin/env python3
"""Forged replies to an authenticated source are rejected, counted and
leave time keeping unharmed. A server written here signs its replies with
the right SHA256 key (checked to give samples), or flips a bit after
signing, strips the MAC, signs with another key ID, or sends a
crypto-NAK; each of those sources gets no sample and counts AuthFailures,
and the clock follows the honest one alone."""
import hashlib
import threading

from tempus_test import *

PORT = 11130
SOURCE = "org.tempus.Tempus1.Source"
KEY = bytes.fromhex("6a1a0b3c5b0f3e9d2c7a8b1e4f6d0c9a3b5e7f1d2c4a6b8e0f1a3c5e7b9d1f20")
# What each address's server does to its reply.
BEHAVIOUR = {"127.0.0.1": "honest", "127.0.0.2": "flip", "127.0.0.3": "strip", "127.0.0.4": "other-key",
             "127.0.0.5": "nak"}


def ntp_now():
    t = time.time() + NTP_EPOCH_OFFSET
    return struct.pack("!II", int(t), int((t % 1) * 2**32))


def mac(key_id, data):
    return struct.pack("!I", key_id) + hashlib.sha256(KEY + data).digest()[:20]


def reply_for(request, behaviour):
    rx = ntp_now()
    header = (bytes([0x24, 2, request[2], 0xec]) + struct.pack("!II", 0x100, 0x100) + b"GOOD" + rx +
              request[40:48] + rx + ntp_now())
    if behaviour == "honest":
        return header + mac(1, header)
    if behaviour == "flip":
        signed = bytearray(header + mac(1, header))
        signed[44] ^= 0x01        # a bit of the transmit timestamp, after signing
        return bytes(signed)
    if behaviour == "strip":
        return header
    if behaviour == "other-key":
        return header + mac(7, header)
    return header + bytes(4)


def serve(address, behaviour, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, PORT))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            request, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(request) >= 48:
            s.sendto(reply_for(request, behaviour), peer)
    s.close()


def measured(t, address):
    return [r for r in t.measurements() if r[2] == address]


def test(args, wd):
    stop = threading.Event()
    threads = [threading.Thread(target=serve, args=(a, b, stop), daemon=True) for a, b in BEHAVIOUR.items()]
    for th in threads:
        th.start()
    keys = os.path.join(wd, "tempus.keys")
    with open(keys, "w") as f:
        f.write("1 SHA256 HEX:%s\n" % KEY.hex())
    os.chmod(keys, 0o600)
    BusDaemon(args, wd)
    t = Tempusd(args, wd, {
        "Sources": [("Server", "%s iburst key=1 port=%d" % (a, PORT)) for a in BEHAVIOUR],
        "Clock": [("Control", "no")],
        "Server": [("Port", "0")],
        "Auth": [("KeyFile", keys)],
        "Log": [("Dir", wd + "/log"), ("Log", "measurements tracking")],
    })
    try:
        wait_for("3 samples from the honest server", lambda: len(measured(t, "127.0.0.1")) >= 3, 30)
        paths = {}
        for p in wait_for("the sources on the bus", lambda: len(managed_sources()) == 5 and managed_sources(), 10):
            paths[bus_get("Address", p, SOURCE).strip('"')] = p
        for address, behaviour in BEHAVIOUR.items():
            if address == "127.0.0.1":
                continue
            failures = wait_for("AuthFailures on %s (%s)" % (address, behaviour),
                                lambda: int(bus_get("AuthFailures", paths[address], SOURCE)), 10)
            if measured(t, address):
                fail("a %s reply from %s gave a sample" % (behaviour, address))
            log("%s (%s): %d replies rejected, no sample" % (address, behaviour, failures))
        if int(bus_get("AuthFailures", paths["127.0.0.1"], SOURCE)) != 0:
            fail("AuthFailures on the honest server")
        rows = wait_for("the tracking log", lambda: t.tracking(), 20)
        refs = {r[2] for r in rows}
        if refs != {"127.0.0.1"}:
            fail("the clock followed %s, expected the honest 127.0.0.1 alone" % sorted(refs))
        code = t.stop()
        reports = sanitizer_reports(t.output())
        if code != 0 or reports:
            fail("tempusd exited with %s or reported a memory error:\n%s" % (code, "\n".join(reports)))
    finally:
        stop.set()


def managed_sources():
    r = run_as(["busctl", "--system", "tree", "--list", "org.tempus.Tempus1"])
    return [l for l in r.stdout.split() if re.match(r"^/org/tempus/Tempus1/source/\d+$", l)]


run(test)
