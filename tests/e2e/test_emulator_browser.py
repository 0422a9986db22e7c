"""The emulator's pages in real chromium: choose and approve, cancel, copy the code, no JS,
phone viewport, no external assets."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from test_emulator_support import (
    CROSS_DEVICE,
    DEFAULT_ARN,
    SAME_DEVICE,
    DpopKey,
    Grant,
    authorize_url,
    exchange,
    pkce,
)

pytestmark = pytest.mark.browser
USER = "arn:aws:iam::444455556666:user/bob"
PHONE = {"width": 375, "height": 667}


class Callback:
    """A loopback /oauth/callback that records what the browser brings back."""

    def __init__(self) -> None:
        received: list[dict[str, str]] = []
        self.received = received
        arrived = threading.Event()
        self.arrived = arrived

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path == "/oauth/callback":
                    received.append({k: v[0] for k, v in parse_qs(parts.query).items()})
                    arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<!doctype html><title>done</title><p>You can close this.")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def result(self) -> dict[str, str]:
        assert self.arrived.wait(15), "the browser never reached the callback"
        return self.received[-1]


@pytest.fixture
def callback() -> Iterator[Callback]:
    cb = Callback()
    yield cb
    cb.server.shutdown()
    cb.server.server_close()


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory("--identity", DEFAULT_ARN, "--identity", USER)


def watch_requests(page, allowed: tuple[str, ...]) -> list[str]:
    """Record every request the page makes that does not go to an allowed origin."""
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(allowed) else outside.append(r.url))
    return outside


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
        " && document.body.scrollWidth <= window.innerWidth"
    )


def test_choose_a_session_and_approve(browser, emu, callback) -> None:
    verifier, challenge = pkce()
    state = str(uuid.uuid4())
    page = browser.new_page()
    outside = watch_requests(page, (emu.url, callback.uri.rsplit("/oauth", 1)[0]))
    page.goto(authorize_url(emu.url, redirect_uri=callback.uri, state=state, challenge=challenge))
    radios = page.locator('input[type=radio][name="identity"]')
    assert radios.count() == 2
    assert radios.nth(0).is_checked() and radios.nth(0).get_attribute("value") == DEFAULT_ARN
    page.check(f'input[name="identity"][value="{USER}"]')
    page.click("#approve")
    got = callback.result()
    assert got["state"] == state and got["code"]
    page.wait_for_url(callback.uri + "*")
    assert outside == []
    out = exchange(emu.url, Grant(got["code"], verifier, callback.uri, SAME_DEVICE, state),
                   DpopKey())
    claims = out["idToken"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"] == USER


def test_cancel_redirects_with_access_denied(browser, emu, callback) -> None:
    state = str(uuid.uuid4())
    page = browser.new_page()
    page.goto(authorize_url(emu.url, redirect_uri=callback.uri, state=state))
    page.click("#cancel")
    assert callback.result() == {"error": "access_denied", "state": state}


def test_cross_device_code_and_copy_button(browser, emu) -> None:
    state = str(uuid.uuid4())
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    outside = watch_requests(page, (emu.url,))
    page.goto(authorize_url(emu.url, client_id=CROSS_DEVICE, state=state))
    page.click("#approve")
    page.wait_for_url(f"{emu.url}/v1/sessions/confirmation*")
    shown = page.locator("#verification-code").inner_text().strip()
    decoded = parse_qs(base64.b64decode(shown, validate=True).decode())
    assert decoded["state"] == [state] and decoded["code"][0]
    assert "terminal" in page.content()
    copy = page.locator("#copy")
    assert copy.is_visible()
    copy.click()
    page.wait_for_function("document.getElementById('copied').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == shown
    assert outside == []
    context.close()


def test_pages_work_without_javascript(browser, emu) -> None:
    state = str(uuid.uuid4())
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(authorize_url(emu.url, client_id=CROSS_DEVICE, state=state))
    page.check(f'input[name="identity"][value="{USER}"]')
    page.click("#approve")
    page.wait_for_url(f"{emu.url}/v1/sessions/confirmation*")
    shown = page.locator("#verification-code").inner_text().strip()
    assert parse_qs(base64.b64decode(shown).decode())["state"] == [state]
    assert not page.locator("#copy").is_visible()  # Copy needs JavaScript: hidden without it
    context.close()


def test_pages_fit_a_phone(browser, emu) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    outside = watch_requests(page, (emu.url,))
    page.goto(f"{emu.url}/")
    assert no_horizontal_scroll(page)
    page.goto(authorize_url(emu.url, client_id=CROSS_DEVICE))
    assert no_horizontal_scroll(page)
    assert page.locator("#approve").is_visible() and page.locator("#cancel").is_visible()
    page.click("#approve")
    page.wait_for_url(f"{emu.url}/v1/sessions/confirmation*")
    assert no_horizontal_scroll(page)
    box = page.locator("#verification-code").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert outside == []
    context.close()
