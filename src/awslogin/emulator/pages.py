"""HTML pages: Jinja2 templates (emulator/templates) served with strict security headers."""

from __future__ import annotations

import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, status: int = 200, **context: object) -> HTMLResponse:
    """Render *template*; its inline script (if any) runs only with this response's nonce."""
    nonce = secrets.token_urlsafe(16)
    html = _ENV.get_template(template).render(nonce=nonce, **context)
    headers = {
        # Nothing external can load: the emulator works offline and leaks nothing.
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
            "img-src data:; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # The confirmation page's URL holds the code: never send it anywhere as a Referer.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(html, status_code=status, headers=headers)
