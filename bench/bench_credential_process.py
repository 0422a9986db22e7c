"""Benchmark: `awslogin credential-process` on a cache hit, against a bare interpreter and botocore.

Runs, interleaved round by round (so machine noise hits every case alike), each in a new process:

  (a) bare       python -c pass                                  (the floor: interpreter start)
  (b) awslogin   awslogin credential-process --profile P          (the console script)
  (c) botocore   boto3.Session(profile_name=P).get_credentials()  (botocore's own login provider)
  (d) import     python -c "import awslogin.cli"                  (diagnosis: the CLI's imports)
  (e) fastpath   credential_process.fast_path() called directly   (diagnosis: the cache-hit
                 fast path without argparse, i.e. what (b) costs once `cli.main` tries it first)

against one cached login session valid for an hour (no refresh, no network). Prints medians and
the two ratios of the goal: b/a <= 2.5 and b/c <= 0.15.

    .venv/bin/python bench/bench_credential_process.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROFILE = "bench"
ARN = "arn:aws:sts::111122223333:assumed-role/Developer/bench"


def make_home(root: Path) -> dict[str, str]:
    """An isolated AWS home with one login_session profile and a fresh cache entry."""
    from awslogin import dpop
    from awslogin.store import cache, config

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(root),
        AWS_CONFIG_FILE=str(root / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(root / "credentials"),
        AWS_LOGIN_CACHE_DIRECTORY=str(root / "cache"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        config.update_section(f"profile {PROFILE}", {"login_session": ARN, "region": "us-east-1"})
        expires = datetime.now(timezone.utc) + timedelta(hours=1)
        cache.save_token(ARN, {
            "accessToken": {
                "accessKeyId": "ASIABENCHBENCHBENCH1", "secretAccessKey": "bench-secret",
                "sessionToken": "bench-token", "accountId": "111122223333",
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device",
            "refreshToken": "bench-refresh", "idToken": "e30.e30.sig",
            "dpopKey": dpop.key_to_pem(dpop.generate_key()),
        })
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return env


def cases(python: str, awslogin: str) -> dict[str, list[str]]:
    botocore = (
        f"import boto3; c = boto3.Session(profile_name={PROFILE!r}).get_credentials();"
        " assert c.get_frozen_credentials().access_key == 'ASIABENCHBENCHBENCH1'"
    )
    return {
        "bare": [python, "-c", "pass"],
        "awslogin": [awslogin, "credential-process", "--profile", PROFILE],
        "botocore": [python, "-c", botocore],
        "import": [python, "-c", "import awslogin.cli"],
        "fastpath": [python, "-c", "import sys; from awslogin.commands.credential_process "
                     f"import fast_path; sys.exit(fast_path(['--profile', '{PROFILE}']))"],
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{argv[:2]} failed: {out.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    opts = parser.parse_args()
    python = sys.executable
    awslogin = str(Path(python).with_name("awslogin"))
    with tempfile.TemporaryDirectory(prefix="awslogin-bench-") as tmp:
        env = make_home(Path(tmp))
        argvs = cases(python, awslogin)
        # Check the awslogin case really is a cache hit producing the cached key.
        first = subprocess.run(argvs["awslogin"], env=env, capture_output=True, text=True)
        assert json.loads(first.stdout)["AccessKeyId"] == "ASIABENCHBENCHBENCH1", first.stderr
        for argv in argvs.values():  # warm the file cache and .pyc files
            timed(argv, env)
        samples: dict[str, list[float]] = {name: [] for name in argvs}
        for i in range(opts.rounds):
            order = list(argvs)
            order = order[i % len(order):] + order[: i % len(order)]  # rotate who goes first
            for name in order:
                samples[name].append(timed(argvs[name], env))
    med = {name: statistics.median(v) * 1000 for name, v in samples.items()}
    result = {
        "rounds": opts.rounds,
        "median_ms": {k: round(v, 1) for k, v in med.items()},
        "awslogin_over_bare": round(med["awslogin"] / med["bare"], 2),
        "awslogin_over_botocore": round(med["awslogin"] / med["botocore"], 3),
        "fastpath_over_bare": round(med["fastpath"] / med["bare"], 2),
        "fastpath_over_botocore": round(med["fastpath"] / med["botocore"], 3),
        "goal": {"awslogin_over_bare": 2.5, "awslogin_over_botocore": 0.15},
    }
    if opts.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{opts.rounds} interleaved rounds, medians:")
    for name, argv in argvs.items():
        shown = " ".join(a if len(a) < 60 else a[:57] + "..." for a in argv[1:])
        print(f"  {name:<9} {med[name]:8.1f} ms   {Path(argv[0]).name} {shown}")
    print(f"awslogin / bare     = {result['awslogin_over_bare']:.2f}  (goal <= 2.5)")
    print(f"awslogin / botocore = {result['awslogin_over_botocore']:.3f} (goal <= 0.15)")
    print(f"fastpath / bare     = {result['fastpath_over_bare']:.2f}")
    print(f"fastpath / botocore = {result['fastpath_over_botocore']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
