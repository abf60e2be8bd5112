"""Validates operators' channel documents against docs/schemas/*.schema.json.

    python3 Tests/python/validate_documents.py [DOCUMENTS.jsonl]

Each line of DOCUMENTS.jsonl is {"schema": NAME, "document": TEXT}, as collected from a
running aggregator by the Swift test SchemaTests. With no file, or as well, the golden
vectors of docs/protocol.md §8 are decoded (with docs/examples/koers_wire.py) and
their documents validated too. Prints one line per problem; exits 1 if there is one.
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "docs", "examples"))

try:
    import jsonschema
except ImportError:
    sys.exit("validate_documents: the Python package jsonschema is missing; `make test` installs it "
             "(python3 -m pip install jsonschema)")
import koers_wire  # noqa: E402

GOLDEN_SCHEMA = {  # golden vector → the schema of its document
    "snapshot-reply": "snapshot", "alert-ack": "alert-ack", "alert-ack-reply": "alert-ack-reply",
    "alert-transition": "alert-transition", "status-change": "status-change", "stream-heartbeat": "stream-heartbeat",
}


def schemas():
    out = {}
    for name in os.listdir(os.path.join(ROOT, "docs", "schemas")):
        if name.endswith(".schema.json"):
            with open(os.path.join(ROOT, "docs", "schemas", name)) as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            out[name[:-len(".schema.json")]] = jsonschema.Draft202012Validator(schema)
    return out


def golden():
    """(name, document) for each §8 vector that carries one."""
    text = open(os.path.join(ROOT, "docs", "protocol.md"), encoding="utf-8").read()
    for name, env, body in re.findall(r"golden: (\S+)\nenvelope: ([0-9a-f]+)\npayload: (\S+)", text):
        if name not in GOLDEN_SCHEMA:
            continue
        payload = b"" if body == "(empty)" else bytes.fromhex(body)
        fields = koers_wire.decode(bytes.fromhex(env), payload)[3]
        yield name, GOLDEN_SCHEMA[name], fields.get("document")


def main():
    validators = schemas()
    problems, checked = [], {}

    def check(where, schema, document):
        checked[schema] = checked.get(schema, 0) + 1
        try:
            value = json.loads(document)
        except ValueError as e:
            problems.append(f"{where}: not JSON: {e}")
            return
        for err in validators[schema].iter_errors(value):
            path = "/".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(f"{where}: {schema}: at {path}: {err.message}")

    for name, schema, document in golden():
        if document is None:
            problems.append(f"§8 golden {name}: no document")
        else:
            check(f"§8 golden {name}", schema, document)
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                entry = json.loads(line)
                check(f"{sys.argv[1]}:{i}", entry["schema"], entry["document"])
    for p in problems:
        print(p)
    print("validated " + ", ".join(f"{n} {s}" for s, n in sorted(checked.items())) + f"; {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
