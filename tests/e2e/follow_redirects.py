"""A `$BROWSER` stand-in: GET the URL and follow its redirects, as a browser would.

Used as ``BROWSER="python /path/follow_redirects.py %s"``. On an auto-approving emulator the
authorize URL redirects straight to awslogin's loopback callback, so following the redirects
completes the same-device sign-in. Writes the final status and URL to the file named by
``$FOLLOW_REDIRECTS_LOG`` (when set) so a test can check what the "browser" saw.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            status, final, body = response.status, response.geturl(), response.read()
    except urllib.error.HTTPError as exc:
        status, final, body = exc.code, exc.geturl(), exc.read()
    log = os.environ.get("FOLLOW_REDIRECTS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{status} {final.split('?', 1)[0]} {len(body)}\n")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
