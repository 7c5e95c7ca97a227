"""The classroom dashboard (simulator/views/dashboard.py, served by simulator/views/server.py):
headless under solara, then in a real browser.

The browser test serves the page with ``solara run`` on a free loopback port and drives
Debian's chromium through Selenium and the system chromedriver (Selenium Manager never
downloads anything: the driver path is given). It is skipped only when /usr/bin/chromium or
/usr/bin/chromedriver is missing (``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

solara = pytest.importorskip("solara", reason="the dashboard needs the 'dashboard' extra")
import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from simulator.views import dashboard as app  # noqa: E402
from simulator.views import plots  # noqa: E402
from simulator.views import server as serving  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STRATEGY = "Strategy (who gets a perk)"


def _text(rc) -> str:
    """All text shown by solara.Text widgets of a headless render."""
    return "\n".join(str(w.children[0]) for w in rc.find(v.Html, tag="span").widgets
                     if w.children and isinstance(w.children[0], str))


@pytest.fixture
def built(monkeypatch):
    """Every ClassroomModel the page builds, in order (the page owns its model)."""
    models: list[app.ClassroomModel] = []
    original = app.ClassroomModel.__init__

    @functools.wraps(original)  # SolaraViz reads the signature through __wrapped__
    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        models.append(self)

    monkeypatch.setattr(app.ClassroomModel, "__init__", recording)
    return models


# --- the factory ---------------------------------------------------------------------------


def test_factory_applies_the_levers_to_campaign_zero():
    sc = app.make_scenario(strategy="lottery", perks=12, exclusivity=0.9, transparency=0.4,
                           mention="required", disclosure=False, seed="class 3B", size=10_000)
    c = sc.campaigns[0]
    assert c.strategy.kind == "lottery" and c.perks == 12 and c.start == app.CAMPAIGN_START
    assert (c.exclusivity, c.rule_transparency, c.mention, c.disclosure) == (0.9, 0.4, "required", False)
    assert sc.population.size == app.MAX_LIVE_USERS  # capped for the live view
    assert sc.seed == app.parse_seed("class 3B") == app.parse_seed(" class 3B ")
    assert app.make_scenario(strategy="score_threshold", threshold=40).campaigns[0].strategy.threshold == 40
    assert app.make_scenario(strategy="outreach", perks=7).campaigns[0].strategy.contacts == 7
    with pytest.raises(ValueError, match="unknown strategy"):
        app.overrides(strategy="bribery")


def test_the_levers_reach_the_scenario_as_typed_values_blamed_on_their_lever():
    """No YAML text in between: each lever is a typed override with the value as the control
    holds it, and a value the scenario refuses names the lever."""
    from simulator import ScenarioError
    from simulator.scenario.loader import Override

    levers = app.overrides(strategy="score_threshold", threshold=40.0, perks=12, seed="7")
    assert all(isinstance(o, Override) for o in levers)
    typed = {o.path: o.value for o in levers}
    assert typed["campaigns[0].strategy"] == {"kind": "score_threshold", "threshold": 40}
    assert type(typed["campaigns[0].strategy"]["threshold"]) is int  # an int slider's value
    assert typed["seed"] == 7 and typed["campaigns[0].disclosure"] is True
    with pytest.raises(ScenarioError, match="the perks slider"):
        app.make_scenario(perks=-1)


def test_layout_is_computed_once_per_graph(monkeypatch):
    import networkx as nx

    calls = []
    real = nx.spring_layout
    monkeypatch.setattr(nx, "spring_layout", lambda *a, **k: calls.append(1) or real(*a, **k))
    plots._layout.cache_clear()
    a = app.ClassroomModel(size=60, seed=11)
    app.network_figure(a)
    first = plots.network_layout(app._edges(a), a.n)
    a.step()
    app.network_figure(a)
    b = app.ClassroomModel(size=60, seed=11)  # Reset with the same seed: the same graph
    app.network_figure(b)
    assert plots.network_layout(app._edges(b), b.n) is first
    assert len(calls) == 1 and first.shape == (60, 2)


def test_the_pictures_are_the_saved_figures_with_the_scenarios_pout_threshold(monkeypatch):
    levers = app.overrides  # a base scenario with its own pouting threshold
    monkeypatch.setattr(app, "overrides", lambda **k: [*levers(**k), "behaviour.pout_threshold=0.05"])
    model = app.ClassroomModel(size=80, seed=5)
    assert model.spec.behaviour.pout_threshold == 0.05
    for _ in range(app.CAMPAIGN_START + 3):
        model.step()
    fig = app.network_figure(model)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "pouting, pout ≥ 0.05" in " ".join(labels)
    state = plots.network_states(model.users_frame(), model.brands[0].name, 0.05)
    assert labels[0] == f"got a perk ({(state == 'perk').sum()})"  # the saved picture's legend
    assert "day 6 of" in fig._suptitle.get_text()
    series = app.metrics_figure(model)
    titles = [ax.get_title().replace("\n", " ") for ax in series.axes if ax.get_visible()]
    assert titles == [plots.metric_info(m)[0] for m in app.SERIES]  # the catalogue's, wrapped
    assert all(ax.get_xlim() == (0, model.spec.steps) for ax in series.axes if ax.get_visible())
    assert len(series.axes[0].lines[0].get_xdata()) == model.t
    empty = app.metrics_figure(app.ClassroomModel(size=60, seed=5))  # day 0: no steps yet
    assert [line.get_linestyle() for line in empty.axes[0].lines] == ["--"]  # the start mark only


# --- headless render -----------------------------------------------------------------------


def test_page_renders_headless_and_steps_with_the_chosen_strategy(built):
    _box, rc = solara.render(app.page, handle_error=False)
    try:
        for label in ("Score threshold", "Perks", "Exclusivity", "Transparency", "Users"):
            rc.find(v.Slider, label=label).assert_single()
        rc.find(v.Select, label=STRATEGY).assert_single()
        rc.find(v.Select, label="Mention policy").assert_single()
        rc.find(v.Checkbox, label="Disclosure (#ad)").assert_single()
        rc.find(v.TextField, label="Seed (press Enter)").assert_single()
        assert rc.find(v.Select, label=STRATEGY).widget.items == app.strategies()
        assert len(rc.find(widgets.Image).widgets) >= 2  # the network and the metrics
        assert built and built[-1].t == 0
        before = bytes(rc.find(widgets.Image).widgets[0].value)

        rc.find(v.Select, label=STRATEGY).widget.v_model = "lottery"
        rc.find(v.Slider, label="Perks").widget.v_model = 20
        rc.find(v.Btn, children=["Reset"]).widget.click()
        model = built[-1]
        assert model.brands[0].strategy.name == "lottery" and model.spec.campaigns[0].perks == 20
        assert model.spec.campaigns[0].start == app.CAMPAIGN_START

        for _ in range(app.CAMPAIGN_START + 1):
            rc.find(v.Btn, children=["Step"]).widget.click()
        assert model is built[-1] and model.t == app.CAMPAIGN_START + 1
        assert int((model.perk[:, 0] > 0).sum()) == 20  # the lottery handed out every perk
        assert len(model.steps_frame()) == model.t
        shown = _text(rc)
        assert f"Day {model.t} of {model.spec.steps}" in shown and "strategy: lottery" in shown
        assert bytes(rc.find(widgets.Image).widgets[0].value) != before  # redrawn
    finally:
        rc.close()


# --- in a browser --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"solara exited with {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@pytest.fixture
def server(tmp_path):
    """``solara run`` serving the page on a free loopback port; yields its URL."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("browser test needs Debian's chromium and chromium-driver "
                    "(/usr/bin/chromium, /usr/bin/chromedriver): apt-get install chromium chromium-driver")
    if shutil.which("npm"):  # the page's browser files, from the npm registry (no CDN here)
        serving.fetch_frontend_assets()
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(serving.server_command("127.0.0.1", port), env=serving.server_env(None),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, timeout=40)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="perksim-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1500,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
def test_dashboard_in_a_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition, what: str, timeout: float = 30):
        try:
            return WebDriverWait(browser, timeout, poll_frequency=0.2).until(lambda d: condition())
        except Exception as exc:
            browser.save_screenshot(str(tmp_path / "failed.png"))
            body = browser.find_element(By.TAG_NAME, "body").text[:1500]
            server_log = (tmp_path / "server.log").read_text()[-1500:]
            raise AssertionError(f"timed out waiting for {what}\npage:\n{body}\nserver:\n"
                                 f"{server_log}") from exc

    def button(label: str):
        found = browser.find_elements(By.XPATH, f"//button[normalize-space()='{label}']")
        return found[0] if found else None

    def body() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def day() -> int:
        found = re.search(r"Day (\d+) of", body())
        return int(found.group(1)) if found else -1

    browser.get(server)
    wait(lambda: button("Step") and len(browser.find_elements(By.CSS_SELECTOR, "img")) >= 2,
         "the controls and the plots")
    text = body()
    for label in ("Strategy (who gets a perk)", "Score threshold", "Perks", "Exclusivity",
                  "Transparency", "Mention policy", "Disclosure (#ad)", "Seed", "Users"):
        assert label in text
    assert "Day 0 of" in text and "Running: score_threshold" in text

    # the strategy select: open it, pick the lottery
    field = browser.find_element(By.XPATH, f"//label[normalize-space()='{STRATEGY}']/ancestor::"
                                           "div[contains(@class, 'v-field')][1]")
    field.click()
    option = wait(lambda: next((e for e in browser.find_elements(
        By.XPATH, "//div[contains(@class, 'v-list-item')][normalize-space()='lottery']")
        if e.is_displayed()), None), "the strategy menu")
    option.click()
    # the perks slider: focus its thumb, five steps right with the keyboard
    thumb = browser.find_element(By.XPATH, "//label[normalize-space()='Perks']/ancestor::div"
                                           "[contains(concat(' ', @class, ' '), ' v-input ')][1]"
                                           "//*[@role='slider']")
    perks = int(thumb.get_attribute("aria-valuenow"))
    thumb.click()
    thumb.send_keys(*[Keys.ARROW_RIGHT] * 5)
    wait(lambda: int(thumb.get_attribute("aria-valuenow")) != perks, "the perks slider to move")
    moved = int(thumb.get_attribute("aria-valuenow"))

    # The slider's new value reaches the server over the websocket a moment after the browser
    # shows it; a Reset clicked within that moment (a test's speed, not a person's, and mostly on
    # a loaded machine) builds the model with the old value. So Reset again, up to three times,
    # until the running model has the new value.
    for attempt in range(3):
        button("Reset").click()
        wait(lambda: "Running: lottery" in body(), "Reset to build a lottery model")
        try:
            wait(lambda: f"{moved} perks" in body(), f"{moved} perks after Reset", timeout=5)
            break
        except AssertionError:
            if attempt == 2:
                raise
    network = browser.find_elements(By.CSS_SELECTOR, "img")[0].get_attribute("src")
    for _ in range(app.CAMPAIGN_START + 1):
        before = body()
        button("Step").click()
        wait(lambda b=before: body() != b, "a step to show")
    wait(lambda: f"Day {app.CAMPAIGN_START + 1} of" in body(), "the day counter")
    wait(lambda: browser.find_elements(By.CSS_SELECTOR, "img")[0].get_attribute("src") != network,
         "the network picture to be redrawn")
    assert f"perks given: {moved}" in body()  # the lottery handed every perk out

    button("▶").click()  # run (play) a few days, then pause
    wait(lambda: day() >= app.CAMPAIGN_START + 4, "play to run on")
    button("❚❚").click()
    wait(lambda: button("Step") is not None and button("Step").is_enabled(), "pause")

    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    if os.environ.get("PERKSIM_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["PERKSIM_KEEP_SCREENSHOT"])
