"""Public names imported on first use (PEP 562), for the package ``__init__`` modules: so that
``import simulator`` — and with it ``perksim --version`` and ``perksim list`` — loads neither
the model nor pandas, Mesa or matplotlib (tests/test_cli_fast.py)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public ``names`` come from
    the modules given (each imported when one of its names is first used, then kept)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name]), name)
        setattr(sys.modules[package], name, value)  # imported once
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
