"""The view layer: figures, the report, explanations and the dashboard, made from tables.

Top layer under the command line: it reads experiments (:mod:`simulator.experiment`) and
scenarios, and nothing below imports it. Modules are imported where used (the dashboard needs
solara, which the rest does not).

- :mod:`~simulator.views.plots` — the figures
- :mod:`~simulator.views.report` — the HTML/Markdown report of a results folder
- :mod:`~simulator.views.explain` — why one user got a perk or pouted
- :mod:`~simulator.views.console` and :mod:`~simulator.views.progress` — tables and progress
  on the terminal; :mod:`~simulator.views.fields` — swept field paths in words
- :mod:`~simulator.views.dashboard` — the solara dashboard (the page);
  :mod:`~simulator.views.dashboard_model` — its model, without solara
- :mod:`~simulator.views.server` — starting the dashboard server (`perksim dashboard`)
"""
