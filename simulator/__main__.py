"""``python -m simulator`` is the ``perksim`` command."""

from simulator.cli import main

main()
