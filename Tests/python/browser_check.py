#!/usr/bin/env python3
"""Koers' web pages in a real browser (Debian's chromium with chromedriver, through
selenium), against a running aggregator fed by real theme services.

Checks what a person sees, and saves a screenshot of each page in OUT:
  - the overview lists every theme of the plan, with each state as symbol and word;
  - a report sent makes the page change without a reload, within 2 s of the stream
    document that carries it (the report goes the whole way: `koers report`, the
    theme service's outbox, the aggregator, the SSE stream, the page);
  - acknowledging an alert from the alerts page shows on the stream;
  - the as-of page shows, item by item, the states `koers status --as-of --json` gives;
  - a lost connection is shown (the aggregator is stopped last).

Usage: browser_check.py BASE_URL OUT_DIR KOERS DATA KEYS TOKEN AGGREGATOR_PID THEME_NAMES
(THEME_NAMES: the plan's theme names, separated by `|`)
Prints `browser check: ok` at the end; any failed check raises.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

base, out, koers, data, keys, token, aggregator_pid, theme_names = sys.argv[1:9]
os.makedirs(out, exist_ok=True)


def get_json(path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600", "--lang=nl"):
        options.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class StreamWatch(threading.Thread):
    """Follows /api/v1/stream from `after`, noting when each document arrived."""

    def __init__(self, after):
        super().__init__(daemon=True)
        self.after = after
        self.events = []  # (monotonic time, event name, id, data)
        self.lock = threading.Lock()

    def run(self):
        req = urllib.request.Request(f"{base}/api/v1/stream?after={self.after}", headers={"Accept": "text/event-stream"})
        with urllib.request.urlopen(req, timeout=120) as r:
            event, ident, data = None, None, []
            for raw in r:
                line = raw.decode("utf-8").rstrip("\n")
                if line == "":
                    if data:
                        with self.lock:
                            self.events.append((time.monotonic(), event or "message", ident, "\n".join(data)))
                    event, ident, data = None, None, []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("id:"):
                    ident = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())

    def wait_for(self, predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                for e in self.events:
                    if predicate(e):
                        return e
            time.sleep(0.05)
        with self.lock:
            seen = [(e[1], e[2], e[3][:160]) for e in self.events[-5:]]
        raise AssertionError(f"the stream (from {self.after}) did not carry what was awaited; the last of {len(self.events)}: {seen}")


def eventually(what, seconds, condition):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError(what)


driver = browser()
try:
    # The overview: every theme, states as symbol and word.
    driver.get(base + "/")
    text = driver.find_element(By.TAG_NAME, "main").text
    for name in theme_names.split("|"):
        assert name in text, f"the overview does not list the theme {name}"
    for badge in driver.find_elements(By.CSS_SELECTOR, ".badge .word")[:20]:
        assert badge.text.strip(), "a state badge without its word"
    driver.save_screenshot(f"{out}/overview.png")

    # Live: a report makes the page change without a reload.
    seq = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-sequence"))
    driver.execute_script("window.__koersMarker = 'same page';")
    watch = StreamWatch(seq)
    watch.start()
    time.sleep(0.5)
    item = "sociaal-veilig-financiering"
    before = driver.find_element(By.ID, f"item-{item}").get_attribute("class")
    subprocess.run([koers, "report", "safety", "milestone", item, "--value", "1", "--as-of", "2023-03-01",
                    "--note", "browser test", "--data", data, "--keys", keys], check=True, capture_output=True)
    arrived = watch.wait_for(lambda e: e[1] == "status_change" and f'"item":"{item}"' in e[3], 60)
    changed = None
    deadline = arrived[0] + 2.0
    while time.monotonic() < deadline + 0.01:
        try:
            row = driver.find_element(By.ID, f"item-{item}")
            if row.get_attribute("class") != before:
                changed = time.monotonic()
                break
        except StaleElementReferenceException:
            pass  # the page swapped its content in between: look again
        time.sleep(0.05)
    assert changed is not None, f"the page did not change within 2 s of the stream document (class still {before})"
    assert driver.execute_script("return window.__koersMarker") == "same page", "the page reloaded instead of updating in place"
    print(f"page changed {changed - arrived[0]:.2f} s after the stream document {arrived[2]}")
    driver.save_screenshot(f"{out}/overview-after-report.png")

    # The other pages.
    for path, name in (("/wijken", "wijken"), ("/wijken/gms", "wijk-gms"), (f"/items/{item}", "item"),
                       ("/items/bvs-werksferen", "item-werksferen"), ("/items/tevreden-met-leven", "item-indicator")):
        driver.get(base + path)
        assert driver.find_element(By.TAG_NAME, "h1").text, f"{path} has no heading"
        driver.save_screenshot(f"{out}/{name}.png")

    # Acknowledge from the alerts page; the stream carries it (read from just before, so
    # however the stream's connections come and go, the transition is in what it resends).
    before_ack = get_json("/api/v1/status")["sequence"]
    driver.get(base + "/alerts")
    driver.save_screenshot(f"{out}/alerts.png")
    alerts = driver.find_elements(By.CSS_SELECTOR, "li.alert.alert-firing")
    assert alerts, "no firing alert to acknowledge"
    key = alerts[0].get_attribute("data-alert")
    alerts[0].find_element(By.CSS_SELECTOR, "details.ack summary").click()
    form = alerts[0].find_element(By.CSS_SELECTOR, "form.ack-form")
    form.find_element(By.NAME, "reason").send_keys("besproken in het alliantieoverleg")
    form.find_element(By.NAME, "by").send_keys("Browser")
    form.find_element(By.NAME, "token").send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    eventually("the page says the alert was taken on", 10, lambda: "in behandeling genomen" in driver.find_element(By.TAG_NAME, "main").text)
    after_ack = StreamWatch(before_ack)
    after_ack.start()
    def is_ack(e):
        if e[1] != "alert_transition":
            return False
        doc = json.loads(e[3])
        return doc["key"] == key and doc["to"] == "acknowledged"
    try:
        after_ack.wait_for(is_ack, 30)
    except AssertionError:
        keys = [(json.loads(e[3]).get("key"), json.loads(e[3]).get("to")) for e in after_ack.events if e[1] == "alert_transition"]
        raise AssertionError(f"acknowledged {key!r} on the page; the stream's transitions since: {keys}")
    driver.save_screenshot(f"{out}/alerts-after-ack.png")

    # As of a date: the page equals `koers status --as-of`.
    as_of = "2023-06-30"
    cli = subprocess.run([koers, "status", "--as-of", as_of, "--json", "--data", data], capture_output=True, text=True, check=True)
    expected = {i["item"]: i["state"] for i in json.loads(cli.stdout)["items"]}
    driver.get(f"{base}/?as_of={as_of}")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-item]")
    seen = {r.get_attribute("data-item"): r.get_attribute("class").replace("state-", "") for r in rows}
    assert seen, "the as-of page lists no items"
    for i, state in expected.items():
        assert seen.get(i) == state, f"as of {as_of}: {i} is {seen.get(i)} on the page, {state} in koers status"
    assert "30 juni 2023" in driver.find_element(By.TAG_NAME, "h1").text
    driver.save_screenshot(f"{out}/overview-as-of.png")

    # A lost connection is shown.
    driver.get(base + "/")
    time.sleep(1)
    os.kill(int(aggregator_pid), signal.SIGTERM)
    eventually("the page shows that the connection is lost", 20,
               lambda: "verbroken" in driver.find_element(By.ID, "live").text)
    driver.save_screenshot(f"{out}/connection-lost.png")
finally:
    driver.quit()
print("browser check: ok")
