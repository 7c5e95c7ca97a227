"""Lint: ``ruff check`` (ruff.toml's rules, docstrings of public code included) passes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["simulator", "tests", "benchmarks", "tools"]


def _ruff_available() -> bool:
    try:
        subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True, check=True,
                       timeout=30)
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired):
        return False
    return True


def test_ruff_check_passes():
    if not _ruff_available():
        found = shutil.which("ruff")
        pytest.skip("ruff is not installed for this Python (it is in the [test] extra: "
                    "pip install -e '.[test]')"
                    + (f"; the ruff on PATH ({found}) is not used" if found else ""))
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", *PATHS], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"ruff check {' '.join(PATHS)} failed (exit {proc.returncode}):\n"
                    f"{proc.stdout}{proc.stderr}", pytrace=False)
