"""A Koers client written from docs/protocol.md alone (with koers_wire.py and pyzmq).

    python3 Tests/python/spec_client.py KEYS INGEST STREAM SNAPSHOT

Against a running aggregator with a fresh store whose KEYS hold safety.key_secret,
operator.spec.key_secret and aggregator.key: publishes as the safety team, follows
the safety topics with the Clone pattern and the per-topic `previous` links (§7),
checks that refusals come as SNAPSHOT_ERROR with a code (§3.2), and acknowledges an
alert as an operator. Prints what it did; exits 1 on the first thing that disagrees
with the spec.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples"))
import zmq  # noqa: E402
import koers_wire as kw  # noqa: E402

ITEM = "sociaal-veilig-financiering"
ALERT = "milestone-overdue:" + ITEM


def fail(why):
    print("spec client: FAILED:", why)
    sys.exit(1)


def key_file(path):
    """§1.2: one `name = "value"` per line, `#` comments."""
    fields = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, value = (p.strip() for p in line.split("=", 1))
        fields[name] = value.strip('"')
    return fields


def now():
    return int(time.time() * 1000)


def curve(sock, keys, stem):
    mine = key_file(os.path.join(keys, stem + ".key_secret"))
    sock.curve_publickey = mine["public-key"].encode()
    sock.curve_secretkey = mine["secret-key"].encode()
    sock.curve_serverkey = key_file(os.path.join(keys, "aggregator.key"))["public-key"].encode()
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10000)


def request(sock, msg_type, seq, body):
    sock.send_multipart([kw.envelope(msg_type, seq, now()), body])
    return kw.decode(*sock.recv_multipart())


def main(keys, ingest_ep, stream_ep, snapshot_ep):
    ctx = zmq.Context()
    # The operator's side first: subscribe (one theme's topics and the heartbeats), then snapshot.
    sub = ctx.socket(zmq.SUB)
    curve(sub, keys, "operator.spec")
    for prefix in (b"status.safety", b"alert.safety.", b"hb"):
        sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.connect(stream_ep)
    snap_sock = ctx.socket(zmq.DEALER)
    curve(snap_sock, keys, "operator.spec")
    snap_sock.connect(snapshot_ep)
    time.sleep(0.5)  # let the subscription reach the publisher before the snapshot is taken

    t, seq, _, f = request(snap_sock, kw.SNAPSHOT_REQUEST, 1, kw.payload(("filter_theme", "wrk")))
    if t != kw.SNAPSHOT_ERROR or f["reason"] != 301:
        fail(f"an unknown filter_theme should get SNAPSHOT_ERROR 301, got type {t:#x} {f}")
    print("unknown theme refused:", f["reason"], f["detail"])

    # Publish as the safety team: HELLO, then a report at settled_through + 1.
    dealer = ctx.socket(zmq.DEALER)
    curve(dealer, keys, "safety")
    dealer.connect(ingest_ep)
    t, _, _, f = request(dealer, kw.HELLO, 0, kw.payload(("theme", "safety"), ("plan_version", 1),
                                                          ("service", "spec-client/1.1"), ("last_sequence", 0)))
    if t != kw.WELCOME:
        fail(f"HELLO should get WELCOME, got {t:#x}")
    next_seq = f["settled_through"] + 1

    def report(value, as_of):
        nonlocal next_seq
        t, _, _, f = request(dealer, kw.MILESTONE_PROGRESS, next_seq, kw.payload(
            ("theme", "safety"), ("item", ITEM), ("value", value), ("as_of", as_of), ("reported_at", now())))
        if t != kw.ACK or f["settled_through"] != next_seq:
            fail(f"report {next_seq} should be settled by an ACK, got type {t:#x} {f}")
        next_seq += 1

    report(0.0, "2023-03-01")
    t, snap_seq, _, f = request(snap_sock, kw.SNAPSHOT_REQUEST, 2, kw.payload(("filter_theme", "safety")))
    if t != kw.SNAPSHOT_REPLY:
        fail(f"expected SNAPSHOT_REPLY, got {t:#x}")
    snap = json.loads(f["document"])
    if snap["sequence"] != snap_seq or "topics" not in snap:
        fail("the snapshot's sequence must equal its envelope's, and it must carry topics")
    if not any(a["key"] == ALERT and a["state"] == "firing" for a in snap["alerts"]):
        fail(f"{ALERT} should be firing in the snapshot")
    last = {topic: s for topic, s in snap["topics"].items()}
    print("snapshot at", snap_seq, "with", len(snap["items"]), "items")

    # Acknowledge as the operator; then the report that resolves it.
    ack = {"key": ALERT, "by": "spec", "reason": "tried from the spec", "until": None}
    t, _, _, f = request(snap_sock, kw.ALERT_ACK, 3, kw.payload(("document", json.dumps(ack))))
    if t != kw.ALERT_ACK_REPLY or json.loads(f["document"]) != {"ok": True}:
        fail(f"the acknowledgement should be recorded, got type {t:#x} {f}")
    report(1.0, "2023-03-15")

    # Follow the stream: drop what the snapshot holds, check each topic's `previous` link.
    seen = {"acknowledged": False, "resolved": False, "status": False}
    deadline = time.time() + 15
    while not all(seen.values()):
        if time.time() > deadline:
            fail(f"the stream did not show everything: {seen}")
        topic, env, body = sub.recv_multipart()
        t, seq, _, f = kw.decode(env, body)
        topic = topic.decode()
        if t == kw.STREAM_HEARTBEAT:
            hb = json.loads(f["document"])
            for tp, s in hb["topics"].items():
                if (tp == "status.safety" or tp.startswith("alert.safety.")) and s > last.get(tp, 0):
                    fail(f"heartbeat says {tp} reached {s}, this subscriber saw {last.get(tp, 0)}: a lost message")
            continue
        doc = json.loads(f["document"])
        if doc["topic"] != topic or doc["sequence"] != seq:
            fail(f"document and frames disagree: {topic} {seq} vs {doc['topic']} {doc['sequence']}")
        if seq <= last.get(topic, 0):
            continue  # already in the snapshot
        if doc["previous"] != last.get(topic, 0):
            fail(f"{topic}: previous {doc['previous']}, but the last seen was {last.get(topic, 0)}")
        last[topic] = seq
        if t == kw.ALERT_TRANSITION and doc["key"] == ALERT:
            seen[doc["to"]] = True
        if t == kw.STATUS_CHANGE and doc["item"] == ITEM:
            seen["status"] = True
        print(f"{seq} {topic} previous={doc['previous']}", doc.get("to"))
    print("spec client: ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
