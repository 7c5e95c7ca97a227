"""``python -m simulator`` is the ``perksim`` command."""

from .cli import main

main()
