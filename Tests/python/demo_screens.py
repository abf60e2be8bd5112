#!/usr/bin/env python3
"""Screenshots of every page during `koers demo`, in headless Chromium, and checks that
the overview updates live while the scenario unfolds and shows what the aggregator's
status says (the same status `koers status` prints).

Usage: demo_screens.py BASE_URL OUT_DIR
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

base, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
WORDS = {"done": "gereed", "not-started": "niet gestart", "on-track": "op koers", "at-risk": "risico",
         "lagging": "achter", "overdue": "te laat", "unknown": "onbekend"}

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1800"):
    options.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(base + "/")
    first = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-sequence"))
    driver.execute_script("window.__koersMarker = 'same page';")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-sequence"))
        if now > first:
            break
        time.sleep(0.2)
    assert now > first, f"the overview did not update live during the demo (sequence still {first})"
    assert driver.execute_script("return window.__koersMarker") == "same page", "the page reloaded instead of updating in place"
    driver.save_screenshot(f"{out}/demo-overview.png")
    # The page's programme state is the aggregator's (checked a few times: the demo moves fast).
    for attempt in range(20):
        with urllib.request.urlopen(base + "/api/v1/status", timeout=10) as r:
            status = json.load(r)
        programme = next(r["state"] for r in status["rollups"] if r["node"] == "programme")
        driver.get(base + "/")
        shown = driver.find_element(By.CSS_SELECTOR, ".summary .programme .word").text
        if shown == WORDS[programme]:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"the overview shows the programme {shown!r}, the aggregator says {programme}")
    for path, name in (("/wijken", "demo-wijken"), ("/wijken/gms", "demo-wijk-gms"), ("/items/bvs-werksferen", "demo-item"),
                       ("/items/tevreden-met-leven", "demo-indicator"), ("/alerts", "demo-alerts"), ("/?as_of=2023-01-01", "demo-as-of")):
        driver.get(base + path)
        assert driver.find_element(By.TAG_NAME, "h1").text, f"{path} has no heading"
        driver.save_screenshot(f"{out}/{name}.png")
finally:
    driver.quit()
print("demo screens: ok")
