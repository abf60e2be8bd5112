"""Writes the JSON Schemas of the operators' channel documents (docs/protocol.md §7).

    python3 docs/schemas/generate.py

One schema file per document, each with the shared definitions.
`Tests/python/validate_documents.py` checks real documents from a running aggregator
against them (the Swift test `SchemaTests` collects them), and the golden vectors of
docs/protocol.md §8 too.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def obj(props, required):
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def ref(name):
    return {"$ref": f"#/$defs/{name}"}


DEFS = {
    "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "sequence": {"type": "integer", "minimum": 0},
    "itemState": {"enum": ["done", "not-started", "on-track", "at-risk", "lagging", "overdue", "unknown"]},
    "alertState": {"enum": ["pending", "firing", "acknowledged", "flapping", "resolved"]},
    "topic": {"type": "string", "pattern": "^(status\\.[a-z0-9-]+|alert\\.[a-z0-9-]+\\.(info|warning|critical))$"},
    "evidence": obj({"summary": {"type": "string"}, "ageDays": {"type": "integer"}, "deviation": {"type": "number"},
                     "expected": {"type": "number"}, "forecast": ref("date"), "lastDate": ref("date"),
                     "lastValue": {"type": "number"}, "reportedBy": {"type": "string"}}, ["summary"]),
    "acknowledgement": obj({"by": {"type": "string"}, "reason": {"type": "string", "minLength": 1}, "until": ref("date")},
                           ["by", "reason"]),
    "resolution": obj({"summary": {"type": "string"}, "on": ref("date"), "value": {"type": "number"}, "asOf": ref("date"),
                       "reportedBy": {"type": "string"}}, ["summary", "on"]),
    "alert": obj({"key": {"type": "string", "pattern": "^[a-z0-9-]+:.+$"}, "rule": {"type": "string"},
                  "subject": {"type": "string"}, "theme": {"type": "string"},
                  "severity": {"enum": ["info", "warning", "critical"]}, "state": ref("alertState"), "since": ref("date"),
                  "acknowledgement": ref("acknowledgement"), "evidence": ref("evidence"), "owner": {"type": "string"},
                  "areas": {"type": "array", "items": {"type": "string"}}, "ruleVersion": {"type": "integer", "minimum": 1},
                  "resolvedBy": ref("resolution")},
                 ["key", "rule", "subject", "severity", "state", "since", "evidence", "areas", "ruleVersion"]),
    "itemStatus": obj({"item": {"type": "string"}, "state": ref("itemState"), "evidence": ref("evidence"),
                       "progress": {"type": "number"}}, ["item", "state", "evidence"]),
    "rollup": obj({"node": {"type": "string", "pattern": "^(programme|(theme|goal|intervention|area):[a-z0-9-]+)$"},
                   "state": ref("itemState"),
                   "counts": {"type": "object", "propertyNames": ref("itemState"),
                              "additionalProperties": {"type": "integer", "minimum": 0}}}, ["node", "state", "counts"]),
    "topics": {"type": "object", "propertyNames": ref("topic"), "additionalProperties": ref("sequence")},
}

DOCUMENTS = {
    "status-change": ("STATUS_CHANGE (0x41): one item's or roll-up node's state changed.", obj(
        {"sequence": ref("sequence"), "date": ref("date"), "item": {"type": "string"}, "from": ref("itemState"),
         "to": ref("itemState"), "why": {"type": "string"}, "evidence": ref("evidence"), "progress": {"type": "number"},
         "topic": ref("topic"), "previous": ref("sequence")},
        ["sequence", "date", "item", "to", "why", "topic", "previous"])),
    "alert-transition": ("ALERT_TRANSITION (0x40): an alert moved in its lifecycle.", obj(
        {"sequence": ref("sequence"), "date": ref("date"), "key": {"type": "string"}, "from": ref("alertState"),
         "to": ref("alertState"), "alert": ref("alert"), "topic": ref("topic"), "previous": ref("sequence")},
        ["sequence", "date", "key", "to", "alert", "topic", "previous"])),
    "snapshot": ("SNAPSHOT_REPLY (0x31): the state, and the stream sequence it holds at.", obj(
        {"sequence": ref("sequence"), "date": ref("date"), "planVersion": {"type": "integer", "minimum": 1},
         "items": {"type": "array", "items": ref("itemStatus")}, "rollups": {"type": "array", "items": ref("rollup")},
         "alerts": {"type": "array", "items": ref("alert")}, "silentThemes": {"type": "array", "items": {"type": "string"}},
         "topics": ref("topics")},
        ["sequence", "date", "planVersion", "items", "rollups", "alerts", "silentThemes", "topics"])),
    "stream-heartbeat": ("STREAM_HEARTBEAT (0x42): the last stream sequence, and each topic's.", obj(
        {"sequence": ref("sequence"), "topics": ref("topics")}, ["sequence", "topics"])),
    "alert-ack": ("ALERT_ACK (0x32): an operator takes an alert on.", obj(
        {"key": {"type": "string"}, "by": {"type": ["string", "null"]}, "reason": {"type": "string", "minLength": 1},
         "until": {"oneOf": [ref("date"), {"type": "null"}]}}, ["key", "reason"])),
    "alert-ack-reply": ("ALERT_ACK_REPLY (0x33): the acknowledgement is recorded (a refusal is a SNAPSHOT_ERROR).",
                        obj({"ok": {"const": True}}, ["ok"])),
}

if __name__ == "__main__":
    for name, (title, schema) in DOCUMENTS.items():
        doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"koers:{name}.schema.json", "title": title,
               "description": "docs/protocol.md §7. Written by docs/schemas/generate.py; edit that, not this.", **schema,
               "$defs": DEFS}
        with open(os.path.join(HERE, f"{name}.schema.json"), "w") as f:
            f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
