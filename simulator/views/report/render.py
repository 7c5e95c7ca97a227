"""The report as a small document — sections of paragraphs, lists, tables, figures and
commands, with ``code``, ``**bold**`` and ``[links](href)`` inline — rendered twice, to a
self-contained HTML page (inline CSS, figures as data URIs) and to Markdown, so the two files
always say the same thing."""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

# --- the document model -------------------------------------------------------------------------------


@dataclass
class Block:
    """One block of a section: ``p`` (paragraph), ``ul`` (list), ``table`` ({header, rows}),
    ``figure`` ({path, caption}), ``code`` (a command line), ``note`` (a small paragraph) or
    ``terms`` (a glossary: [(anchor, term, text)], each term a link target)."""

    kind: str
    content: Any


@dataclass
class Section:
    """A section of the report: a title, its anchor (``#anchor``) and its blocks, in order."""
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(Block("p", text))

    def ul(self, items: Sequence[str]) -> None:
        """Add a bulleted list (nothing if ``items`` is empty)."""
        if items:
            self.blocks.append(Block("ul", list(items)))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Add a table: a header row and rows of cell text."""
        self.blocks.append(Block("table", {"header": list(header), "rows": [list(r) for r in rows]}))

    def code(self, text: str) -> None:
        """Add a command line (shown as code)."""
        self.blocks.append(Block("code", text))

    def note(self, text: str) -> None:
        """Add a small paragraph (a note)."""
        self.blocks.append(Block("note", text))


# --- rendering ---------------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 2px solid var(--line); }
.meta { color: var(--muted); font-size: .9rem; margin: 0 0 1rem; }
p, li { margin: .35rem 0; }
ul { padding-left: 1.3rem; }
li { margin: .45rem 0; }
code { font: .88em/1.4 "SFMono-Regular", Consolas, "Liberation Mono", monospace; background: var(--soft);
       padding: .05em .3em; border-radius: 3px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: .5rem .75rem;
      white-space: pre-wrap; word-break: break-all; margin: .3rem 0 .8rem; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .86rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; vertical-align: top; text-align: left; }
th { background: var(--soft); }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.5rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .3rem; }
.note { color: var(--muted); font-size: .92rem; border-left: 3px solid var(--line); padding-left: .75rem; }
dl { margin: .4rem 0; } dt { font-weight: 600; margin-top: .5rem; } dd { margin: .1rem 0 .4rem 1.2rem; }
a { color: var(--accent); }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  pre, table, li { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  figure img { max-height: 22cm; }
}
"""


_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")


def inline_html(text: str) -> str:
    """Inline Markdown (``code``, **bold**, [link](href), <br>) as escaped HTML."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f"<strong>{inline_html(m.group(2))}</strong>")
        else:
            out.append(f'<a href="{html.escape(m.group(4), quote=True)}">{_escape(m.group(3))}</a>')
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(text).replace("&lt;br&gt;", "<br>")


def render_html(title: str, meta: str, sections: Sequence[Section], css: str = CSS) -> str:
    """A self-contained HTML page: inline CSS (``css``), figures as data URIs (compressed,
    :func:`embedded_png`)."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title>", f"<style>{css}</style>", "</head>", "<body>",
             f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{inline_html(meta)}</p>']
    for s in sections:
        parts.append(f'<section id="{s.anchor}">')
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        for b in s.blocks:
            if b.kind == "p":
                parts.append(f"<p>{inline_html(b.content)}</p>")
            elif b.kind == "note":
                parts.append(f'<p class="note">{inline_html(b.content)}</p>')
            elif b.kind == "ul":
                parts.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b.content) + "</ul>")
            elif b.kind == "code":
                parts.append(f"<pre><code>{html.escape(b.content)}</code></pre>")
            elif b.kind == "table":
                head = "".join(f"<th>{inline_html(h)}</th>" for h in b.content["header"])
                body = "".join("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>"
                               for row in b.content["rows"])
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif b.kind == "terms":
                parts.append("<dl>" + "".join(f'<dt id="{html.escape(a, quote=True)}">{inline_html(t)}</dt>'
                                              f"<dd>{inline_html(d)}</dd>" for a, t, d in b.content)
                             + "</dl>")
            elif b.kind == "figure":
                path: Path = b.content["path"]
                parts.append(f'<figure><img src="{_data_uri(path)}" alt="{html.escape(path.stem)}">'
                             f"<figcaption><strong>{html.escape(path.name)}</strong> — "
                             f"{inline_html(b.content['caption'])}</figcaption></figure>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_markdown(title: str, meta: str, sections: Sequence[Section], folder: Path) -> str:
    """The Markdown twin: the same text, figures referenced relatively (figures/*.png)."""
    lines = [f"# {title}", "", meta, ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for b in s.blocks:
            if b.kind in ("p",):
                lines += [b.content.replace("<br>", " "), ""]
            elif b.kind == "note":
                lines += ["> " + b.content.replace("<br>", " "), ""]
            elif b.kind == "ul":
                lines += [f"- {i.replace('<br>', ' ')}" for i in b.content] + [""]
            elif b.kind == "code":
                lines += ["```sh", b.content, "```", ""]
            elif b.kind == "table":
                header = b.content["header"]
                lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
                lines.append("|" + "|".join("---" for _ in header) + "|")
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.content["rows"]]
                lines.append("")
            elif b.kind == "terms":
                lines += [f'- <a id="{a}"></a>**{t}** — {d}' for a, t, d in b.content] + [""]
            elif b.kind == "figure":
                path: Path = b.content["path"]
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                lines += [f"![{path.stem}]({rel})", "", f"*{path.name}* — {b.content['caption']}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(embedded_png(path)).decode("ascii")


# --- figures, compressed for embedding -----------------------------------------------------------------

FIGURE_BYTES = 64_000  # what an embedded figure may take (before base64), if it can
MAX_ERROR = 3.0  # mean colour error (0–255 per channel) a palette may cost: more loses light greys
_WIDTHS = (1000, 800, 700, 600)  # pixels: the page is about 1,000 px wide, a printed A4 17 cm
_PALETTES = (("MEDIANCUT", 64), ("FASTOCTREE", 64), ("FASTOCTREE", 32))  # tried in this order


def embedded_png(path: Path, budget: int = FIGURE_BYTES) -> bytes:
    """A figure as it is embedded in the HTML report: a palette PNG (Pillow's quantisation, no
    dithering, optimised), at most 1,000 px wide, made narrower or with fewer colours until it
    takes at most ``budget`` bytes (down to 600 px and 32 colours), never at a mean colour error
    above ``MAX_ERROR``; the smallest of those when none fits; the file's own bytes when they
    are smaller, or when it cannot be read as an image."""
    stat = path.stat()
    return _embedded_png(str(path), stat.st_mtime_ns, stat.st_size, budget)


@lru_cache(maxsize=64)
def _embedded_png(path: str, _mtime: int, _size: int, budget: int) -> bytes:
    raw = Path(path).read_bytes()
    try:
        from PIL import Image, ImageChops, ImageStat

        with Image.open(io.BytesIO(raw)) as im:
            rgb = _on_white(im)
    except Exception:  # not an image Pillow reads: embed it as it is
        return raw
    best = raw
    for width in _WIDTHS:
        scaled = rgb if rgb.width <= width else \
            rgb.resize((width, max(1, round(rgb.height * width / rgb.width))), Image.Resampling.LANCZOS)
        for method, colours in _PALETTES:
            palette = scaled.quantize(colors=colours, method=getattr(Image.Quantize, method),
                                      dither=Image.Dither.NONE)
            error = ImageStat.Stat(ImageChops.difference(scaled, palette.convert("RGB"))).mean
            if max(error) > MAX_ERROR:
                continue
            out = io.BytesIO()
            palette.save(out, "PNG", optimize=True)
            data = out.getvalue()
            if len(data) < len(best):
                best = data
            if len(data) <= budget:
                return best
    return best


def _on_white(im: Any) -> Any:
    """The image as RGB, transparent parts on white (matplotlib's figures are RGBA)."""
    from PIL import Image

    if im.mode in ("RGBA", "LA", "P"):
        rgba = im.convert("RGBA")
        back = Image.new("RGB", rgba.size, "white")
        back.paste(rgba, mask=rgba.getchannel("A"))
        return back
    return im.convert("RGB")
