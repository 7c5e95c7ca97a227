"""``perksim run --profile`` (simulator.model.profile): every phase of a run timed, the run
itself unchanged, everything it wrapped restored. No test asserts a time: only that the table
accounts for the phases and adds up."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from simulator import scenario_from_text
from simulator.cli import cli
from simulator.experiment.plan import replicate_seed, run_once
from simulator.model import campaign, dynamics, metrics
from simulator.model.campaign import PerkCampaignModel
from simulator.model.profile import BUILD_PHASES, STEP_PHASES, profile_run

SMALL = """\
name: profiled
seed: 9
steps: 15
population: {size: 300}
campaigns:
  - {brand: courtside, topic: sports, region: los_angeles, perks: 10, start: 2,
     strategy: {kind: score_threshold, threshold: 50}}
processes: {gaming: true}
"""


def test_a_profiled_run_is_the_same_run_and_every_phase_is_counted():
    sc = scenario_from_text(SMALL)
    originals = (campaign.generate, campaign.build_population, PerkCampaignModel._warm_up,
                 metrics.brand_metrics, dynamics.follower_overlap)
    model, profile = profile_run(sc, rng=replicate_seed(sc.seed, 1))
    plain = run_once(sc, replicate=1)
    pd.testing.assert_frame_equal(model.steps_frame(), plain.steps)
    table = profile.table()
    assert list(table["phase"]) == [*BUILD_PHASES, *STEP_PHASES]
    assert abs(table["share"].sum() - 1) < 1e-9 and (table["seconds"] >= 0).all()
    timed = table.set_index("phase")["seconds"]
    for phase in ("graph", "population", "audience overlap", "warm-up",
                  "posting and engagement", "score map",
                  "allocation", "mentions", "exposure and adoption", "pout", "gaming",
                  "collection"):
        assert timed[phase] > 0, phase  # each wrapped function was called and timed
    calls = table.set_index("phase")["calls"]
    assert calls["posting and engagement"] == 15 and calls["graph"] == 1
    assert calls["collection"] == 2 * 15  # the metrics and their table row, once a step each
    steps = table[table["part"] == "step"]
    expected = 1e6 * steps["seconds"] / (300 * 15)
    assert ((steps["us_per_user_step"] - expected).abs() < 1e-9).all()
    # nothing stays wrapped: the module functions and the instance's methods are the originals
    assert (campaign.generate, campaign.build_population, PerkCampaignModel._warm_up,
            metrics.brand_metrics, dynamics.follower_overlap) == originals
    assert "_post_and_engage" not in model.__dict__ and "allocate" not in model.brands[0].__dict__
    assert "add_table_row" not in model.datacollector.__dict__


def test_perksim_run_profile_prints_the_table_and_writes_nothing(tmp_path):
    path = tmp_path / "profiled.yaml"
    path.write_text(SMALL)
    result = CliRunner().invoke(cli, ["run", str(path), "--profile", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "profiled: 300 users" in result.stdout and "replicate 0" in result.stdout
    for phase in [*BUILD_PHASES, *STEP_PHASES]:
        assert f"  {phase} " in result.stdout, phase
    assert "µs per user-step" in result.stdout
    assert not (tmp_path / "out").exists()
