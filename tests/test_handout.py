"""The handout (handout.html, two printed A4 pages at most) and the portability of the report:
figures compressed for embedding, links that still work once the file is sent (an embedded
glossary, no relative paths), and every number of the prose backed by a table of the same
report."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.views.report import GLOSSARY, MODEL_SECTIONS, handout_path, write_report
from simulator.views.report.render import FIGURE_BYTES, embedded_png
from tests.chromium import headless_chromium, skip_without_chromium
from tests.test_report import SMALL, _invoke


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run, a compare and a sweep at a small size, each with its report and handout."""
    out = tmp_path_factory.mktemp("handout")
    made = {
        "run": _invoke(["run", "klout_pout", *SMALL, "--out", str(out)]),
        "compare": _invoke(["compare", "klout_pout", *SMALL, "--replicates", "3",
                            "--executor", "serial", "--out", str(out)]),
        "sweep": _invoke(["sweep", "threshold_sweep", *SMALL, "--replicates", "2",
                          "--executor", "serial", "--out", str(out)]),
    }
    for folder in made.values():
        write_report(folder)
    return made


def _text(page: str) -> str:
    """The visible text of an HTML page, roughly (tags dropped, entities decoded)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


# --- the handout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_handout_has_every_part_taken_from_the_report(kind: str, folders) -> None:
    folder = folders[kind]
    page = handout_path(folder).read_text(encoding="utf-8")
    report = (folder / "report.md").read_text(encoding="utf-8")
    # print CSS: A4 pages with margins, page-break control
    assert "@page { size: A4; margin:" in page and "break-inside: avoid" in page
    # the question, the scenario in three lines
    question = re.search(r"<strong>([^<]+\?)</strong>", page)
    assert question and f"**{html.unescape(question.group(1))}**" in report
    first = page.split('<section id="question">')[1].split("</section>")[0]
    assert first.count("<li>") == 3
    for label in ("Population:", "The campaign:", "Compared:"):
        assert label in first
    # one figure, embedded; the key table, with 95% intervals beyond a single run
    assert len(re.findall(r"<img src=\"data:image/png;base64,", page)) == 1
    numbers = page.split('<section id="reading">')[1].split("</section>")[0]
    assert "<table>" in numbers
    if kind != "run":
        assert re.search(r"\d \[[−\d.]+, [−\d.]+\]", numbers) or "rare:" in numbers
    else:
        assert "no 95% interval" in numbers
    # the reading: the report's own sentences
    items = re.findall(r"<li>(.*?)</li>", numbers)
    assert items
    md_reading = report.split("## 4. What the numbers say")[1].split("## 5.")[0]
    for item in items:
        words = _text(item).strip()[-60:]
        assert words in _text(md_reading.replace("`", "").replace("**", "")), words
    # three prompts and one command to try, both from the report
    talk = page.split('<section id="discussion">')[1].split("</section>")[0]
    assert talk.count("<li>") == 3
    commands = re.findall(r"<pre><code>(.*?)</code></pre>", talk)
    assert len(commands) == 1 and commands[0].startswith("perksim ")
    commands = [html.unescape(c) for c in commands]
    assert commands[0] in report
    if kind == "run":  # a single run: the command to try is the comparison with replicates
        assert commands[0].startswith("perksim compare klout_pout") and "--replicates" in commands[0]
    else:
        assert "--replicates" not in commands[0]


@pytest.mark.slow
def test_perksim_report_writes_the_handout(folders, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(folders["run"], copy)
    handout_path(copy).unlink()
    result = CliRunner().invoke(cli, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert handout_path(copy).is_file()


def _pdf_pages(driver, page: Path) -> int:
    """Print ``page`` to PDF on A4 with the handout's own margins; its number of pages."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    driver.get(page.resolve().as_uri())
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    options.margin_top = options.margin_bottom = 1.1
    options.margin_left = options.margin_right = 1.2
    pdf = base64.b64decode(driver.print_page(options))
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    counts = [int(c) for c in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count (\d+)", pdf)]
    assert not counts or max(counts) == pages
    return pages


@pytest.fixture
def chromium():
    """Headless Chromium (tests/chromium.py); skipped without Debian's chromium."""
    skip_without_chromium("printing the handout")
    pytest.importorskip("selenium", reason="selenium is in the 'test' extra")
    with headless_chromium() as driver:
        yield driver


@pytest.mark.slow
def test_handout_prints_on_at_most_two_a4_pages(folders, chromium, tmp_path) -> None:
    """The longest handouts: klout_pout's comparison at a small size (3 replicates, so every
    cell and sentence says how rare it is), the sweep, the single run, and two_brands (two
    brands: two tables and two readings)."""
    two = _invoke(["compare", "two_brands", *SMALL, "--replicates", "3", "--executor", "serial",
                   "--out", str(tmp_path)])
    write_report(two)
    for folder in [*folders.values(), two]:
        pages = _pdf_pages(chromium, handout_path(folder))
        assert 1 <= pages <= 2, (folder, pages)


# --- the report, portable --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_links_work_once_the_file_is_sent(kind: str, folders) -> None:
    folder = folders[kind]
    for name in ("report.html", "handout.html"):
        page = (folder / name).read_text(encoding="utf-8")
        hrefs = re.findall(r'href="([^"]*)"', page)
        for href in hrefs:  # within the page, or absolute; never a path on this machine
            assert href.startswith(("#", "https://", "http://")), (name, href)
            if href.startswith("#"):
                assert f'id="{href[1:]}"' in page, (name, href)
    assert any(h.startswith("#glossary-") for h in re.findall(
        r'href="([^"]*)"', (folder / "report.html").read_text(encoding="utf-8")))
    md = (folder / "report.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", md):
        assert target.startswith(("#", "https://", "figures/")), target


def test_every_linked_part_of_the_model_has_a_glossary_entry() -> None:
    assert set(GLOSSARY) == set(MODEL_SECTIONS)
    assert all(len(text) > 60 for text in GLOSSARY.values())


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_embedded_figures_are_compressed(kind: str, folders) -> None:
    from PIL import Image

    folder = folders[kind]
    page = (folder / "report.html").read_text(encoding="utf-8")
    images = dict((stem, data) for data, stem in
                  re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page))
    figures = sorted((folder / "figures").glob("*.png"))
    assert sorted(images) == [p.stem for p in figures]
    for path in figures:
        raw = base64.b64decode(images[path.stem])
        assert len(raw) <= FIGURE_BYTES, path.name
        assert len(raw) <= path.stat().st_size, path.name
        with Image.open(io.BytesIO(raw)) as im, Image.open(path) as original:
            assert im.format == "PNG"
            assert im.mode == "P" or raw == path.read_bytes()  # a palette PNG, unless the file is smaller
            assert im.width <= 1000
            assert abs(im.width / im.height - original.width / original.height) < 0.02
    assert (folder / "report.html").stat().st_size < 600_000


def test_embedded_png_meets_its_budget(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(3)
    fig, ax = plt.subplots(figsize=(10, 9), dpi=150)
    ax.scatter(rng.normal(size=3000), rng.normal(size=3000), s=rng.uniform(2, 40, 3000),
               c=rng.integers(0, 5, 3000), cmap="tab10", alpha=0.8)
    path = tmp_path / "busy.png"
    fig.savefig(path)
    plt.close(fig)
    small = embedded_png(path)
    assert len(small) <= FIGURE_BYTES < path.stat().st_size
    not_an_image = tmp_path / "broken.png"
    not_an_image.write_bytes(b"not a png")
    assert embedded_png(not_an_image) == b"not a png"  # embedded as it is


# --- every number of the prose is in a table of the same report ----------------------------------------

NUMBER = re.compile(r"(?<![\w.])[−+-]?\d[\d,]*(?:\.\d+)?(?![\w%])")
PROSE_SECTIONS = ("4.", "5.", "7.")  # the reading, things to notice, questions for discussion
SETTING_SECTIONS = ("1.", "2.", "8.")  # the scenario, the design and the assumptions: settings


def _sections(md: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    fenced = False
    for line in md.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if line.startswith("## "):
            current = line[3:]
            out[current] = []
        elif current is not None and not fenced:
            out[current].append(line)
    return out


def _numbers(text: str) -> list[str]:
    """The numbers of a line, without `code` spans (commands, metric and parameter names),
    percentages (relative differences of two table numbers), years of cited studies (four
    digits, no thousands separator), section numbers and the rarity rule ("fewer than 5 runs")."""
    text = re.sub(r"`[^`]*`", " ", text.replace("<br>", " "))
    text = re.sub(r"\b(?:section|§)\s*\d+(?:\.\d+)?|\bfewer than \d+ runs", " ", text)
    found = [m.group(0).replace("−", "-").replace("+", "").replace(",", "")
             for m in NUMBER.finditer(text)]
    return [n for n in found if not re.fullmatch(r"(19|20)\d\d", n)]


def _same(a: str, b: str) -> bool:
    """Whether two printed numbers can be the same value: their rounding intervals overlap
    (``6.5`` and ``6.50``, ``0.0147`` and ``0.015``)."""
    def interval(s: str) -> tuple[float, float]:
        half = 0.5 * 10 ** -len(s.split(".")[1]) if "." in s else 0.5
        return float(s) - half, float(s) + half
    (lo_a, hi_a), (lo_b, hi_b) = interval(a), interval(b)
    return lo_a <= hi_b + 1e-12 and lo_b <= hi_a + 1e-12


def unbacked_numbers(md: str) -> dict[str, list[str]]:
    """The rule: every number in the prose of the reading, things to notice and the questions
    for discussion (paragraphs and lists, outside tables and code) appears in a table of the
    same report (within the printed rounding), or is a setting stated in the scenario, the
    design or the assumptions (sections 1, 2 and 8: the population, the perks, the replicates,
    parameter values). Returns the numbers that are neither, by section."""
    sections = _sections(md)
    tables = [n for lines in sections.values() for ln in lines if ln.startswith("|")
              for n in _numbers(ln)]
    settings = {n for name, lines in sections.items() if name.startswith(SETTING_SECTIONS)
                for ln in lines if not ln.startswith("|") for n in _numbers(ln)}
    out: dict[str, list[str]] = {}
    for name, lines in sections.items():
        if not name.startswith(PROSE_SECTIONS):
            continue
        for line in lines:
            if line.startswith("|"):
                continue
            for n in _numbers(line):
                if n not in settings and not any(_same(n, t) for t in tables):
                    out.setdefault(name, []).append(n)
    return out


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_every_number_quoted_in_prose_is_in_a_table(kind: str, folders) -> None:
    md = (folders[kind] / "report.md").read_text(encoding="utf-8")
    assert unbacked_numbers(md) == {}
    # the scenario's claims quote their authors' numbers: they are in a table, beside what these
    # runs measured
    if kind != "run":
        assert "| the scenario claims | measured in these runs | here |" in md


def test_the_rule_finds_a_number_no_table_has() -> None:
    md = ("## 1. The question and the scenario\n\n- **Population:** 300 users\n\n"
          "## 4. What the numbers say\n\nMeans: a 6.5 [4.55, 8.85]; b 0.0147 of 300 users (+25%).\n\n"
          "| x | a | b |\n|---|---|---|\n| `m` | 6.50 [4.55, 8.85] | 0.015 |\n\n"
          "## 5. Things to notice\n\n- About 18 paid mentions (Goel et al. 2012), see section 8.\n")
    assert unbacked_numbers(md) == {"5. Things to notice": ["18"]}
