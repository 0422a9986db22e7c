"""The repository keeps its promises: README commands match CI, the code is lint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ci_test_command() -> str:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return next(line for line in lines if line.startswith("python3 -m venv"))


def test_readme_shows_the_ci_test_command_and_the_demo_at_the_top():
    readme = (ROOT / "README.md").read_text()
    top = readme[: readme.index("\n## ", readme.index("## Quick start") + 1)]
    assert _ci_test_command() in top
    assert "awslogin demo" in top


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
