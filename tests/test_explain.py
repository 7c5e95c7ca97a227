"""perksim explain: one user's story, re-run exactly, matching the stored tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator import PerkCampaignModel, load_scenario
from simulator.cli import cli
from simulator.views.explain import ExplainError, explain, sparkline

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explain")
    result = CliRunner().invoke(cli, [
        "compare", str(ROOT / "scenarios" / "klout_pout.yaml"), "--replicates", "2",
        "--executor", "serial", "--set", "population.size=400", "--steps", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [run] = list((out / "klout_pout").iterdir())
    return run


def users(folder: Path, variant: str) -> pd.DataFrame:
    u = pd.read_csv(folder / "users.csv")
    return u[u.variant == variant]


def test_watching_a_user_does_not_change_the_run():
    sc = load_scenario(ROOT / "scenarios" / "klout_pout.yaml",
                       overrides=["population.size=300", "steps=25"])
    plain, watched = PerkCampaignModel(sc, rng=3), PerkCampaignModel(sc, rng=3)
    watched.watch([0, 5, 17])
    plain.run()
    watched.run()
    pd.testing.assert_frame_equal(plain.steps_frame(), watched.steps_frame())
    assert {r["phase"] for r in watched.watched[5]} >= {"allocation", "exposure", "end"}


def test_a_recipient_above_the_threshold_is_told_so(folder):
    u = users(folder, "klout_63")
    recipient = int(u[u.perk_courtside > 0].iloc[0].id)
    story = explain(folder, recipient, "courtside")
    assert story.consistent and story.outcome["perk"] == 1
    text = story.to_text()
    assert "Result: received a perk." in text and "points above it" in text


def test_the_closest_miss_gets_the_gap_to_the_threshold(folder):
    u = users(folder, "klout_63")
    below = u[(u.perk_courtside == 0) & (u.score < 63)]
    miss = int(below.sort_values("score").iloc[-1].id)
    story = explain(folder, miss, "courtside")
    assert story.allocation is not None and story.allocation["score"] < 63
    assert "points below it" in story.to_text()
    assert len(story.pout) == 30  # one value per step


def test_lottery_explanations_give_the_chance_and_relevance(folder):
    story = explain(folder, 7, "courtside", variant="lottery", replicate=1)
    text = story.to_text()
    assert story.variant == "lottery" and story.replicate == 1 and story.consistent
    assert "a lottery" in text and "chance of" in text and "Relevance to courtside" in text


def test_explain_command_prints_the_story_and_rejects_bad_input(folder):
    ok = CliRunner().invoke(cli, ["explain", str(folder), "--user", "3", "--brand", "courtside"])
    assert ok.exit_code == 0 and "User 3 and brand courtside" in ok.output
    for args, words in [(["--user", "4000", "--brand", "courtside"], "does not exist"),
                        (["--user", "3", "--brand", "nike"], "no brand 'nike'"),
                        (["--user", "3", "--brand", "courtside", "--variant", "x"], "no variant 'x'")]:
        bad = CliRunner().invoke(cli, ["explain", str(folder), *args])
        assert bad.exit_code == 2 and words in bad.output


def test_explain_refuses_a_folder_without_tables(tmp_path):
    with pytest.raises(ExplainError):
        explain(tmp_path, 0, "courtside")


def test_sparkline_is_bounded_and_keeps_peaks():
    line = sparkline([0.0] * 50 + [1.0] + [0.0] * 49)
    assert len(line) == 40 and "█" in line
    assert sparkline([0.0, 0.5, 1.0]) == " ▄█"


def test_the_most_frustrated_user_is_told_where_their_pout_came_from(folder):
    u = users(folder, "klout_63")
    u = u[u.replicate == 0] if "replicate" in u.columns else u
    worst = u.sort_values("pout_courtside").iloc[-1]
    assert worst.pout_courtside > 0
    story = explain(folder, int(worst.id), "courtside")
    parts = story.outcome["pout_from"]
    assert sum(parts.values()) == pytest.approx(worst.pout_courtside, rel=1e-9)
    for source, value in parts.items():  # the same decomposition as users.csv
        assert value == pytest.approx(worst[f"pout_from_{source}_courtside"], rel=1e-9, abs=1e-12)
    text = story.to_text()
    assert "Pout by what they saw" in text and "Feeling entitled" in text
    assert story.entitled is not None and 0 <= story.entitled["entitled"] <= 1
