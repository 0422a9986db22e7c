"""A `$BROWSER` that is a real browser with a person's click: Debian chromium via Playwright.

Used as ``BROWSER="python /path/approve_in_chromium.py %s"``: opens the sign-in URL, picks the
first console session on the emulator's page, clicks Approve, and waits until chromium lands
on awslogin's loopback callback page, whose text it writes to ``$APPROVE_LOG`` when set.
"""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def main(url: str) -> int:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.click("#approve")
            page.wait_for_url("http://127.0.0.1:*/oauth/callback?*", timeout=30_000)
            log = os.environ.get("APPROVE_LOG")
            if log:
                with open(log, "w", encoding="utf-8") as fh:
                    fh.write(page.inner_text("body"))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
