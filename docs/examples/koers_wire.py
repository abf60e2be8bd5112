"""Koers wire protocol, version 1.1: a reference encoder/decoder in plain Python.

Standard library only (struct). It follows docs/protocol.md and is what an
out-of-tree theme service or operator tool written in Python can start from.
Run it to print the spec's golden vectors:

    python3 docs/examples/koers_wire.py
"""
import struct

MAGIC = b"KR"
VERSION = 1  # the envelope's version byte: 1 for protocol 1.0 and 1.1 alike

# Limits (docs/protocol.md section 2.2), in bytes
ENVELOPE_BYTES = 24
INGEST_PAYLOAD_MAX = 4096      # larger: NACK 106 payload_too_large
FRAME_MAX = 64 * 1024          # the ingest socket's ZMQ_MAXMSGSIZE: larger drops the connection, no NACK
CLOCK_SKEW_MS = 5 * 60 * 1000  # reported_at / sent_at further ahead than this: NACK 211 (not final)


def is_final(reason):
    """Whether a NACK with this reason settles the report (section 6): every code is
    final except 211 future_timestamp, 402 sequence_gap and every 5xx, which mean
    "keep the report and resend it" (402: from settled_through + 1; 211, 5xx: later)."""
    return not (reason in (211, 402) or reason // 100 == 5)

# Message types
HELLO, HEARTBEAT = 0x01, 0x02
MILESTONE_PROGRESS, INDICATOR_MEASUREMENT = 0x10, 0x11
ACK, NACK, WELCOME = 0x20, 0x21, 0x22
SNAPSHOT_REQUEST, SNAPSHOT_REPLY, ALERT_ACK, ALERT_ACK_REPLY, SNAPSHOT_ERROR = 0x30, 0x31, 0x32, 0x33, 0x34
ALERT_TRANSITION, STATUS_CHANGE, STREAM_HEARTBEAT = 0x40, 0x41, 0x42

# Field tags and how each is encoded
FIELDS = {
    "theme": (1, "str"), "item": (2, "str"), "value": (3, "f64"), "as_of": (4, "str"),
    "period_start": (5, "str"), "period_end": (6, "str"), "reported_at": (7, "i64"),
    "note": (8, "str"), "reporter": (9, "str"), "plan_version": (10, "u64"),
    "service": (11, "str"), "last_sequence": (12, "u64"), "outbox_depth": (13, "u64"),
    "settled_through": (14, "u64"), "reason": (15, "u16"), "detail": (16, "str"),
    "document": (17, "str"), "filter_theme": (18, "str"), "refused_sequence": (19, "u64"),
}
TAGS = {tag: (name, kind) for name, (tag, kind) in FIELDS.items()}


def envelope(msg_type, sequence, sent_at_ms):
    """The 24-byte first frame."""
    return struct.pack("<2sBBHHQq", MAGIC, VERSION, msg_type, 0, 0, sequence, sent_at_ms)


def payload(*fields):
    """The second frame from (name, value) pairs, in the order given."""
    out = bytearray()
    for name, value in fields:
        tag, kind = FIELDS[name]
        if kind == "str":
            raw = value.encode("utf-8")
        elif kind == "f64":
            raw = struct.pack("<d", value)
        elif kind == "i64":
            raw = struct.pack("<q", value)
        elif kind == "u64":
            raw = struct.pack("<Q", value)
        else:
            raw = struct.pack("<H", value)
        if len(raw) < 0xFFFF:
            out += struct.pack("<BH", tag, len(raw)) + raw
        else:  # the long form: escape, then a u32 length
            out += struct.pack("<BHI", tag, 0xFFFF, len(raw)) + raw
    return bytes(out)


def decode(envelope_frame, payload_frame):
    """(type, sequence, sent_at_ms, {field: value}); raises ValueError on bad input."""
    if len(envelope_frame) != 24:
        raise ValueError("envelope must be 24 bytes")
    magic, version, msg_type, flags, reserved, seq, sent = struct.unpack("<2sBBHHQq", envelope_frame)
    if magic != MAGIC or version != VERSION or flags or reserved:
        raise ValueError("bad envelope")
    fields, i = {}, 0
    while i < len(payload_frame):
        tag, length = struct.unpack_from("<BH", payload_frame, i)
        i += 3
        if length == 0xFFFF:
            (length,) = struct.unpack_from("<I", payload_frame, i)
            i += 4
        raw = payload_frame[i:i + length]
        if len(raw) != length:
            raise ValueError("truncated field")
        i += length
        if tag >= 128:
            continue
        name, kind = TAGS[tag]
        if name in fields:
            raise ValueError("duplicate field " + name)
        fields[name] = {"str": lambda b: b.decode("utf-8"), "f64": lambda b: struct.unpack("<d", b)[0],
                        "i64": lambda b: struct.unpack("<q", b)[0], "u64": lambda b: struct.unpack("<Q", b)[0],
                        "u16": lambda b: struct.unpack("<H", b)[0]}[kind](raw)
    return msg_type, seq, sent, fields


# The golden vectors of docs/protocol.md: fixed inputs, so every implementation
# can check its bytes against these.
SENT = 1669723200000        # 2022-11-29T12:00:00Z
REPORTED = 1669719600000    # 2022-11-29T11:00:00Z
GOLDEN = [
    ("hello", HELLO, 0, payload(("theme", "safety"), ("plan_version", 1), ("service", "koers-theme/0.1.0"),
                                ("last_sequence", 41))),
    ("heartbeat", HEARTBEAT, 0, payload(("theme", "safety"), ("last_sequence", 42), ("outbox_depth", 3))),
    ("milestone-progress", MILESTONE_PROGRESS, 42, payload(
        ("theme", "safety"), ("item", "vc-intentieovereenkomst"), ("value", 1.0), ("as_of", "2022-11-28"),
        ("reported_at", REPORTED), ("note", "Getekend door alle partners"), ("reporter", "a.jansen"))),
    ("indicator-measurement", INDICATOR_MEASUREMENT, 7, payload(
        ("theme", "health"), ("item", "gelukkig"), ("value", 82.0), ("period_start", "2013-01-01"),
        ("period_end", "2022-12-31"), ("reported_at", REPORTED))),
    ("ack", ACK, 0, payload(("settled_through", 42))),
    ("nack", NACK, 0, payload(("refused_sequence", 43), ("reason", 300),
                             ("detail", "`saffierflat-inhuzing` is not in the plan"))),
    ("welcome", WELCOME, 0, payload(("settled_through", 41), ("plan_version", 1))),
    ("snapshot-request", SNAPSHOT_REQUEST, 9, payload(("filter_theme", "work"))),
    ("snapshot-reply", SNAPSHOT_REPLY, 1207, payload(("document", '{"alerts":[],"date":"2022-11-29","items":[],"planVersion":1,"rollups":[],"sequence":1207,"silentThemes":[],"topics":{"status.work":1207}}'))),
    ("snapshot-error", SNAPSHOT_ERROR, 9, payload(("reason", 301), ("detail", "filter_theme `wrk` is not a theme of the plan; did you mean `work`?"))),
    ("alert-ack", ALERT_ACK, 10, payload(("document", '{"by":"bureau","key":"milestone-lagging:bvs-werksferen","reason":"werkgevers benaderd","until":"2023-07-01"}'))),
    ("alert-ack-reply", ALERT_ACK_REPLY, 10, payload(("document", '{"ok":true}'))),
    ("alert-transition", ALERT_TRANSITION, 1208, payload(("document", '{"alert":{"areas":["gms"],"evidence":{"summary":"4 of 10 werksferen on 2022-11-01; 6 expected by today"},"key":"milestone-lagging:bvs-werksferen","owner":"vereniging-bvs","rule":"milestone-lagging","ruleVersion":1,"severity":"warning","since":"2022-11-29","state":"firing","subject":"bvs-werksferen","theme":"work"},"date":"2022-11-29","from":"pending","key":"milestone-lagging:bvs-werksferen","previous":1190,"sequence":1208,"to":"firing","topic":"alert.work.warning"}'))),
    ("status-change", STATUS_CHANGE, 1209, payload(("document", '{"date":"2022-11-29","from":"on-track","item":"bvs-werksferen","previous":1201,"progress":0.4,"sequence":1209,"to":"lagging","topic":"status.work","why":"4 of 10 werksferen on 2022-11-01; 6 expected by today"}'))),
    ("stream-heartbeat", STREAM_HEARTBEAT, 1209, payload(("document", '{"sequence":1209,"topics":{"alert.work.warning":1208,"status.work":1209}}'))),
]

if __name__ == "__main__":
    for name, msg_type, seq, body in GOLDEN:
        env = envelope(msg_type, seq, SENT)
        print("golden:", name)
        print("envelope:", env.hex())
        print("payload:", body.hex() or "(empty)")
        assert decode(env, body)[0] == msg_type
        print()
    # The long form: from 65,535 bytes on, the length is the escape 0xFFFF and a u32.
    for size in (65534, 65535, 3 * 65536):
        doc = '{"pad":"' + "x" * (size - 10) + '"}'
        body = payload(("document", doc))
        assert body[1:3] == (b"\xff\xff" if size >= 65535 else struct.pack("<H", size))
        assert decode(envelope(SNAPSHOT_REPLY, 1, SENT), body)[3]["document"] == doc
