"""Token-endpoint throughput and latency of `awslogin emulator` under concurrent DPoP refreshes.

Starts the emulator as a subprocess (`python -m awslogin emulator --port 0 --auto-approve`),
gives each of N concurrent clients its own session (code exchange with its own P-256 key), or
with --one-session makes them all refresh one session, then has them send valid DPoP-bound
refreshes (each with a new proof, always using the newest refresh token) until the total is
reached. Prints throughput and p50/p99 latency; any error makes the exit code 1.

The peer, in the same run and on the same server and connections: the same number of
`GET /.well-known/jwks.json` requests (HTTP stack, routing and logging, no DPoP verification,
no signing, no state), so the ratio shows what the token endpoint's own work costs on this
machine, whatever else the machine is doing.

    .venv/bin/python bench/bench_token_endpoint.py              # 32 clients, 10,000 refreshes
    .venv/bin/python bench/bench_token_endpoint.py --requests 500
    .venv/bin/python bench/bench_token_endpoint.py --one-session
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

CLIENT_ID = "arn:aws:signin:::devtools/same-device"
REDIRECT = "http://127.0.0.1:50000/oauth/callback"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Client:
    """One benchmark client: its own keep-alive connection, DPoP key and session."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.token_url = f"{base}/v1/token"
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "x": b64url(n.x.to_bytes(32, "big")),
                    "y": b64url(n.y.to_bytes(32, "big")), "crv": "P-256"}
        self.refresh_token = ""
        self.shared: Client | None = None  # --one-session: key and token come from this one

    def share(self, other: Client) -> None:
        """Refresh the session of *other* (same DPoP key, its newest refresh token)."""
        self.key, self.jwk, self.shared = other.key, other.jwk, other

    def proof(self) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        claims = {"htm": "POST", "htu": self.token_url, "iat": int(time.time()),
                  "jti": str(uuid.uuid4())}
        signing_input = ".".join(
            b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims)
        )
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(),
                                                  ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _post(self, body: dict) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "DPoP": self.proof()}
        self.conn.request("POST", "/v1/token", body=json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())

    def sign_in(self) -> None:
        """Authorize (auto-approve) and exchange the code: this client's own session."""
        verifier = b64url(secrets.token_bytes(48))
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        query = urlencode({"response_type": "code", "client_id": CLIENT_ID,
                           "state": str(uuid.uuid4()), "code_challenge_method": "SHA-256",
                           "scope": "openid", "redirect_uri": REDIRECT,
                           "code_challenge": challenge})
        self.conn.request("GET", f"/v1/authorize?{query}")
        response = self.conn.getresponse()
        response.read()
        code = re.search(r"[?&]code=([^&]+)", response.getheader("Location", "")).group(1)
        status, body = self._post({"clientId": CLIENT_ID, "grantType": "authorization_code",
                                   "code": code, "codeVerifier": verifier,
                                   "redirectUri": REDIRECT})
        if status != 200:
            raise SystemExit(f"code exchange failed: {status} {body.get('error')}")
        self.refresh_token = body["refreshToken"]

    def refresh(self) -> int:
        owner = self.shared or self
        status, body = self._post({"clientId": CLIENT_ID, "grantType": "refresh_token",
                                   "refreshToken": owner.refresh_token})
        if status == 200:
            owner.refresh_token = body["refreshToken"]
        return status

    def jwks(self) -> int:
        """The peer request: a cheap GET on the same server and connection."""
        self.conn.request("GET", "/.well-known/jwks.json")
        response = self.conn.getresponse()
        response.read()
        return response.status


def drive(workers: list[Client], total: int, call) -> tuple[list[float], list[int], float]:
    """*total* calls of ``call(client)`` spread over the workers' threads; latencies, errors,
    wall time."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    remaining = [total]

    def work(client: Client) -> None:
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            status = call(client)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(status)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - began


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "awslogin", "emulator", "--port", "0", "--auto-approve"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = process.stdout.readline().strip()
    match = re.match(r"^AWS Sign-In emulator listening on (http://\S+)$", line)
    if not match:
        process.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return process, match.group(1)


def run(clients: int, total: int, one_session: bool) -> int:
    process, base = start_emulator()
    try:
        workers = [Client(base) for _ in range(clients)]
        for w in workers[: 1 if one_session else clients]:
            w.sign_in()
        for w in workers[1:] if one_session else []:
            w.share(workers[0])
        latencies, errors, wall = drive(workers, total, Client.refresh)
        peer_latencies, peer_errors, peer_wall = drive(workers, total, Client.jwks)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)
    cuts = statistics.quantiles(latencies, n=100)
    peer = statistics.quantiles(peer_latencies, n=100)
    kind = "one shared session" if one_session else "a session each"
    print(f"{total} DPoP refreshes, {clients} concurrent clients ({kind}), {wall:.2f} s")
    print(f"  token endpoint  {total / wall:6.0f} req/s; p50 {cuts[49] * 1000:6.1f} ms, "
          f"p99 {cuts[98] * 1000:6.1f} ms; errors {len(errors)}")
    print(f"  peer (jwks GET) {total / peer_wall:6.0f} req/s; p50 {peer[49] * 1000:6.1f} ms, "
          f"p99 {peer[98] * 1000:6.1f} ms; errors {len(peer_errors)}")
    print(f"  token endpoint / peer: throughput {peer_wall / wall:.2f}x, "
          f"p50 {cuts[49] / peer[49]:.2f}x, p99 {cuts[98] / peer[98]:.2f}x")
    return 1 if errors or peer_errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="total refreshes")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--one-session",
        action="store_true",
        help="all clients refresh one session (one DPoP key, racing on its newest refresh "
        "token, as concurrent processes do; relies on the 'aws' rotation window)",
    )
    args = parser.parse_args()
    return run(args.clients, args.requests, args.one_session)


if __name__ == "__main__":
    raise SystemExit(main())
