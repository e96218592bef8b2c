"""Screenshots of every page at every size its users have, for docs/screens/ (README links them).

    python scripts/screenshots.py [--out docs/screens] [--port 8790] [--lang zh,en] [--sizes 1920x1080,...]

Starts `sitroom demo` on a scratch data directory (seed 7, so the pictures are the same each time),
logs in as the demo's admin (who sees every page and every part of it) in headless Chromium, and
writes PAGE-LANG-WxH.png for each page, language and size. A page's console errors are printed:
a console error is a bug. Needs what the browser tests need (chromium, chromium-driver, selenium).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# the sizes the wall, leaders' laptops and tablets have (issue 13): 4K wall to portrait tablet
SIZES = ("3840x2160", "2560x1440", "1920x1080", "1366x768", "1280x800", "1024x768", "768x1024")
# page name -> (path, an element whose presence says the page is drawn)
PAGES = {"wall": ("/", "path.region"), "wall-kiosk": ("/?kiosk=1", "path.region"),
         "alerts": ("/alerts", "#al-queue"), "sources": ("/sources", "#quarantine-count"),
         "trends": ("/trends", "#tr-table-el tbody tr")}   # drawn with the chart, by one callback


def start_demo(port: int, data_dir: Path) -> tuple[subprocess.Popen, str]:
    """The demo, and the admin's password it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "sitroom", "demo", "--port", str(port), "--seed", "7",
                             "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        m = re.match(r"\s+demo-admin\s+admin\s.*\spassword (\S+)", line)
        if m:   # read the rest of its output, or it blocks writing once the pipe is full
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, m.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("the demo did not print its accounts")


def browser() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/screens"))
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--lang", default="zh,en")
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--pages", default=",".join(PAGES))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc, password = start_demo(args.port, Path(tmp))
        driver = browser()
        try:
            driver.get(url + "/login")
            WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.ID, "login-name"))
            driver.find_element(By.ID, "login-name").send_keys("demo-admin")
            driver.find_element(By.ID, "login-password").send_keys(password)
            driver.find_element(By.ID, "login-submit").click()
            WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
            time.sleep(20)   # the loaders' first polls and the rules' first evaluation
            for name in args.pages.split(","):
                path, drawn = PAGES[name]
                for lang in args.lang.split(","):
                    for size in args.sizes.split(","):
                        w, h = (int(x) for x in size.split("x"))
                        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                            "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
                        sep = "&" if "?" in path else "?"
                        driver.get(f"{url}{path}{sep}lang={lang}")
                        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, drawn))
                        time.sleep(3)   # markers, charts and fits settle
                        out = args.out / f"{name}-{lang}-{size}.png"
                        driver.save_screenshot(str(out))
                        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                        print(out, *(f"\n  console error: {e}" for e in errors))
        finally:
            driver.quit()
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
