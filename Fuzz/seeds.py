#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (Fuzz/seeds/TARGET/) from the project's own
real inputs, so the seeds stay what the docs and the built-in data say:

- wire: every golden vector of docs/protocol.md §8, on the channel it belongs to and on
  the other one (the harness's first byte picks the channel, the second is the
  envelope frame's length; see Fuzz/WireFuzz.swift);
- plan: plans/nphln.yaml and every YAML block of docs/plan-format.md;
- csv: every CSV under Plugins/*/data for its own theme, the generic example of
  docs/theme-teams.md for each theme, and one spreadsheet-style copy (BOM, CRLF) of
  each (the harness's first byte picks the theme; see Fuzz/CSVFuzz.swift).

Run from the repository root: python3 Fuzz/seeds.py
"""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The theme plugins' folders, in the order of Package.swift's `themePlugins`, which is
# the order of ThemeRegistry.entries and so of the harness's first byte.
THEME_PLUGINS = re.findall(r'"(\w+)"', re.search(r"let themePlugins = \[(.*?)\]", open(
    os.path.join(ROOT, "Package.swift"), encoding="utf-8").read(), re.S).group(1))
SNAPSHOT_TYPES = {"snapshot-request", "snapshot-reply", "snapshot-error", "alert-ack", "alert-ack-reply",
                  "alert-transition", "status-change", "stream-heartbeat"}


def write(target, name, data):
    d = os.path.join(ROOT, "Fuzz", "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def wire():
    text = read("docs/protocol.md")
    vectors = re.findall(r"golden: (\S+)\nenvelope: ([0-9a-f]+)\npayload: ([0-9a-f]+)", text)
    assert len(vectors) >= 15, "docs/protocol.md §8 should hold the golden vectors"
    for name, env, payload in vectors:
        e, p = bytes.fromhex(env), bytes.fromhex(payload)
        own = 1 if name in SNAPSHOT_TYPES else 0
        for channel in (own, 1 - own):
            label = "snapshot" if channel else "ingest"
            write("wire", f"{name}.{label}", bytes([channel, len(e)]) + e + p)


def plan():
    write("plan", "nphln.yaml", read("plans/nphln.yaml").encode())
    blocks = re.findall(r"```yaml\n(.*?)```", read("docs/plan-format.md"), re.S)
    for i, block in enumerate(blocks):
        write("plan", f"plan-format-{i + 1}.yaml", block.encode())


def csv():
    generic = re.search(r"```text\n(kind,item,value.*?)```", read("docs/theme-teams.md"), re.S).group(1)
    for i, folder in enumerate(THEME_PLUGINS):
        theme = folder.lower()  # only the seed files' names
        sources = [("generic", generic)]
        for path in sorted(glob.glob(os.path.join(ROOT, "Plugins", folder, "data", "*.csv"))):
            sources.append((os.path.basename(path)[:-4], read(path)))
        for name, body in sources:
            write("csv", f"{theme}.{name}.csv", bytes([i]) + body.encode())
            spreadsheet = "\ufeff" + body.replace("\n", "\r\n")
            write("csv", f"{theme}.{name}.crlf.csv", bytes([i]) + spreadsheet.encode())


if __name__ == "__main__":
    wire()
    plan()
    csv()
