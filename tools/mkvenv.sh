#!/bin/sh
# Create the virtual environment .venv with a Python >= 3.12.
# Tries, in order: $PYTHON, python3.13, python3.12, python3, then pyenv-installed 3.12/3.13.
# Each candidate must actually run and report a version >= 3.12 (a pyenv shim for a
# version that is not selected fails to run and is skipped).
set -eu
venv="${1:-.venv}"
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in "${PYTHON:-}" python3.13 python3.12 python3 \
            "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
  [ -n "$cand" ] || continue
  if ok "$cand"; then
    if [ -x "$venv/bin/python" ] && ok "$venv/bin/python"; then
      echo "using existing $venv ($("$venv/bin/python" --version))"
      exit 0
    fi
    echo "creating $venv with $cand ($("$cand" --version 2>&1))"
    "$cand" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    exit 0
  fi
done
echo "error: no Python >= 3.12 found; install one, or set PYTHON=/path/to/python3.12" >&2
exit 2
