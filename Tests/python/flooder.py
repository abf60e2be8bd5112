#!/usr/bin/env python3
"""A hostile publisher for the fairness test: with a theme's own key it sends reports
whose sequence is far ahead (each one earns a 402 NACK) as fast as it can for SECONDS,
and never reads a reply. Usage: flooder.py KEYS THEME INGEST_ENDPOINT SECONDS"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples"))
import zmq  # noqa: E402
import koers_wire as kw  # noqa: E402
from spec_client import curve  # noqa: E402


def main(keys, theme, endpoint, seconds):
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    curve(dealer, keys, theme)
    dealer.setsockopt(zmq.RCVHWM, 100)  # and read nothing
    dealer.connect(endpoint)
    body = kw.payload(("theme", theme), ("item", "flood"), ("value", 1.0), ("as_of", "2023-01-01"),
                      ("reported_at", int(time.time() * 1000)))
    sent, end = 0, time.time() + seconds
    while time.time() < end:
        for _ in range(1000):
            dealer.send_multipart([kw.envelope(kw.MILESTONE_PROGRESS, 1_000_000 + sent, int(time.time() * 1000)), body])
            sent += 1
        time.sleep(0)
    print(f"flooder: sent {sent} messages in {seconds} s, read none", flush=True)
    dealer.close(linger=0)
    ctx.term()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
