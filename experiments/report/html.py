"""The page's building blocks: escaping, numbers, tables, embedded figures, the style sheet, the page."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

FIGURES_FOLDER = "figures"


@dataclass
class Rendered:
    """A figure drawn in memory: its file bytes by format, a caption, its name."""

    name: str
    caption: str
    files: dict[str, bytes]


def render(fig: Figure, name: str, caption: str, formats: Sequence[str]) -> Rendered:
    """Draw ``fig`` into memory as PNG (always) and every format in ``formats``; close it."""
    files = {}
    for fmt in dict.fromkeys(["png", *formats]):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110)
        files[fmt] = buffer.getvalue()
    plt.close(fig)
    return Rendered(name, caption, files)


def esc(value: Any) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape(str(value))


def num(value: Any, digits: int = 3, sign: bool = False) -> str:
    """A number with ``digits`` decimals (``-`` for a missing value)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{float(value):+.{digits}f}" if sign else f"{float(value):.{digits}f}"


def interval(point: Any, low: Any, high: Any, digits: int = 3, sign: bool = False) -> str:
    """``point [low, high]``."""
    return f"{num(point, digits, sign)} [{num(low, digits, sign)}, {num(high, digits, sign)}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c.html if isinstance(c, Raw) else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@dataclass(frozen=True)
class Raw:
    """HTML that :func:`table` inserts as it is."""

    html: str


def figure_html(figure: Rendered) -> str:
    """An embedded figure (PNG data URI) with its caption."""
    data = base64.b64encode(figure.files["png"]).decode("ascii")
    return (
        f'<figure id="fig-{esc(figure.name)}"><img alt="{esc(figure.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(figure.caption)} <span class='file'>({FIGURES_FOLDER}/{esc(figure.name)}.png)</span>"
        "</figcaption></figure>"
    )


CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1320px; margin: 2em auto;
       padding: 0 1.2em; color: #1d1d1f; line-height: 1.5; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em;
margin-top: 2.2em; } h3 { margin-top: 1.6em; }
.meta, .file, figcaption { color: #555; font-size: 0.92em; }
.verdict { border-radius: 8px; padding: 1em 1.4em; margin: 1.2em 0; font-size: 1.08em; }
.verdict.supported { background: #e8f3e8; border-left: 8px solid #2e7d32; }
.verdict.not-supported { background: #fbe9e7; border-left: 8px solid #c62828; }
.verdict.undecided { background: #fff8e1; border-left: 8px solid #f9a825; }
.verdict .word { font-size: 1.5em; font-weight: 700; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.93em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.4em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; max-height: 32em; }
.note { background: #f4f4f6; padding: 0.6em 1em; border-radius: 6px; }
.bandwagoning { color: #c62828; font-weight: 600; } .balancing { color: #1565c0; font-weight: 600; }
.hedging { color: #555; font-weight: 600; }
"""


def page(body: str, generated: str) -> str:
    """The whole page."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Is Beijing pushing Japan away? Report of the claim test</title>
<style>{CSS}</style></head>
<body>
<h1>Is Beijing pushing Japan away? Report of the claim test</h1>
<p class="meta">Generated {esc(generated)} by <code>python -m experiments.report</code> from the result files named
under <a href="#provenance">Configuration and versions</a>. Sections: <a href="#question">question</a>,
<a href="#verdict">verdict</a>, <a href="#where">where the claim holds</a>, <a href="#evidence">validation</a>,
<a href="#q1">counterfactuals</a>, <a href="#q4">hysteresis</a>, <a href="#q5">Southeast Asia</a>,
<a href="#run">an illustrative run</a>.</p>
{body}
<h2 id="source">Source</h2>
<p>Roy, Denny (2024). "China isn't getting the Japan it wants." PacNet commentary, Pacific Forum; East-West Center.
The claim is paraphrased; the model, its equations and their sources are described in <code>docs/ODD.md</code>. Each
experiment's parameters (drawn from the calibrated posterior, or one parameter point as an illustration) are stated in
its section and configuration: the numbers are what this model says under them, not measurements.</p>
</body></html>
"""
