"""Request bodies read with a cap: refused as soon as they pass the limit (SECURITY.md A10).

`await request.body()` or `request.form()` would buffer a chunked body of any size before a
length check could run, so every endpoint reads through `read_capped` instead.
"""

from __future__ import annotations

from starlette.requests import Request

MAX_BODY = 64 * 1024


class BodyTooLarge(Exception):
    """The body (declared or actually sent) is larger than the endpoint accepts."""


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, read chunk by chunk; BodyTooLarge once it passes *limit* bytes.

    A declared `Content-Length` over the limit (or not a number) is refused before reading.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
