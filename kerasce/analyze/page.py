"""The comparison as one self-contained HTML page that leads with the answer: the summary (each
wiring's loss path and whether it differs from its reference), then the figures of differences,
then the overlaid curves and the full tables, folded, with sortable columns.

Everything is inline (styles, a small sorting script, figures as data URIs): the page makes no
request, so it opens from a file, from an MLflow artifact or offline. It fits a 1,400-pixel
window without horizontal scrolling (long names break after '_' and '.'), and prints with every
fold open.
"""

import base64
import html
import math
import re

import pandas as pd

from kerasce.analyze.paired import TWIN
from kerasce.analyze.summary import (
    NO_PAIRS,
    NON_FINITE,
    REFERENCE,
    SUMMARY_INTRO,
    TOLERANCE_RULE,
    answer,
    effect_line,
    has_pairs,
    sections,
    sentence,
    wiring,
)
from kerasce.analyze.tolerance import Difference
from kerasce.vocabulary import AuditStatus, LossPath, status_of

DIFFERENCE_FIGURE_SUFFIX = "differences.png"

STYLE = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0}
main{max-width:1360px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:1.5em;margin:.4em 0 .2em}h2{font-size:1.25em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1.05em;margin:1em 0 .3em}
p.rule,p.lede{color:#444;margin:.2em 0;max-width:110ch}
ul.notes{color:#8a4b00}
ul.answer{font-size:1.05em;padding-left:1.2em;margin:.3em 0 .8em}ul.answer li{margin:.15em 0}
.effect.rounding{color:#2f6b3a}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.3em 0 1em}
th,td{border:1px solid #d6d6d6;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3;font-weight:600}
tr.setting th{background:#e8eef7;font-weight:600}
table.summary td.wiring{font-weight:600}
.path{padding:0 4px;border-radius:3px}
.path.ok{background:#dff3e4}.path.fragile{background:#fff1cc}.path.clipped,.path.naive{background:#fbdad5}
.path.unclassified{background:#eee}
.verdict.zero{color:#2f6b3a}.verdict.differs{font-weight:700;color:#9c2a00}.verdict.ref{color:#666}
.effect{display:block;padding:0 4px;margin:1px 0;border-radius:3px}
.effect.differs{background:#fde9b8}.effect.differs.worse{background:#fbd5d0}
.effect.differs.better{background:#d4edda}
.effect .metric{color:#444}
figure{margin:.5em 0 1.5em}figure img{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:13px}
details{margin:.4em 0}details>summary{cursor:pointer;font-weight:600;padding:.3em 0}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[data-dir=asc]::after{content:" ▲"}table.sortable th[data-dir=desc]::after{content:" ▼"}
@media print{body{font-size:10pt}main{max-width:none;padding:0}table{font-size:8pt}
figure,tr{break-inside:avoid}details>summary{list-style:none}}
"""

# Sort a table by the clicked column (numbers by value, from data-sort), and open every fold to print.
SCRIPT = """
document.querySelectorAll('table.sortable th').forEach((th, column) => th.addEventListener('click', () => {
  const table = th.closest('table'), body = table.tBodies[0];
  const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
  table.querySelectorAll('th').forEach(h => delete h.dataset.dir);
  th.dataset.dir = dir;
  const key = cell => {
    const raw = cell.dataset.sort ?? cell.textContent, value = parseFloat(raw);
    return raw !== '' && !isNaN(value) && isFinite(raw) ? value : raw;
  };
  const order = (a, b) => typeof a === 'number' && typeof b === 'number' ? a - b
    : typeof a === 'number' ? -1 : typeof b === 'number' ? 1 : String(a).localeCompare(String(b));
  [...body.rows].sort((a, b) => (dir === 'asc' ? 1 : -1) * order(key(a.cells[column]), key(b.cells[column])))
    .forEach(row => body.appendChild(row));
}));
window.addEventListener('beforeprint',
  () => document.querySelectorAll('details').forEach(d => d.open = true));
"""


def breakable(text) -> str:
    """Escaped text that may break after '_', '/' and a '.' before a letter (long wiring and
    metric names such as data.dataset), never inside a number."""
    return re.sub(r"(_|/|\.(?=[A-Za-z]))", r"\1<wbr>", html.escape(str(text)))


def path_badge(loss_path: str) -> str:
    meanings = [LossPath(p).meaning if p in set(LossPath) else "" for p in str(loss_path).split("/")]
    status = status_of(loss_path) if "/" not in str(loss_path) else AuditStatus.UNCLASSIFIED
    return (
        f'<span class="path {status}" title="{html.escape(" / ".join(filter(None, meanings)))}">'
        f"{breakable(loss_path)}</span>"
    )


VERDICT_STYLE = {
    Difference.IDENTICAL: "zero",
    Difference.ROUNDING: "zero",
    Difference.DIFFERS: "differs",
    NON_FINITE: "differs",
    REFERENCE: "ref",
}


def verdict_cell(verdict: str) -> str:
    style = VERDICT_STYLE.get(verdict, "plain")
    return f'<td class="verdict {style}">{html.escape(verdict)}</td>'


def effect_html(item) -> str:
    if item.verdict == Difference.ROUNDING:
        return f'<span class="effect rounding">{breakable(effect_line(item))}</span>'
    classes = f"effect {'differs' if item.verdict == Difference.DIFFERS else ''} {item.direction}"
    return (
        f'<span class="{classes}"><span class="metric">{breakable(item.metric)}</span> '
        f"{html.escape(item.text)}{' ' + item.direction if item.direction else ''}</span>"
    )


def effects_cell(row) -> str:
    """The NaN/Inf note (first, coloured as worse) and the effects under a wiring's verdict."""
    note = (
        f'<span class="effect differs worse">{html.escape(row["non_finite"])}</span>'
        if row["non_finite"]
        else ""
    )
    return f"<td>{note}{''.join(effect_html(e) for e in row['effects'])}</td>"


def answer_list(summary: pd.DataFrame, group_keys: list[str]) -> str:
    """The answer at a glance: per dataset and setting, which wirings differ, which do not."""
    items = []
    for heading, verdicts in answer(summary, group_keys):
        parts = [
            f'<span class="verdict {VERDICT_STYLE.get(v, "plain")}">{html.escape(v)}</span>: '
            f"{', '.join(breakable(n) for n in names)}"
            for v, names in verdicts
        ]
        if parts:
            items.append(f"<li><b>{html.escape(heading)}</b> — {'; '.join(parts)}</li>")
    return f'<ul class="answer">{"".join(items)}</ul>'


SUMMARY_HEADER = ["wiring", "loss path", "against", "pairs", "verdict", "differences"]


def summary_section(summary: pd.DataFrame, group_keys: list[str]) -> str:
    """Per dataset and setting, one row per wiring: loss path, reference, verdict, effects."""
    if not has_pairs(summary):
        return f'<section id="summary"><h2>Summary</h2><p>{html.escape(NO_PAIRS)}</p></section>'
    header = "".join(f"<th>{h}</th>" for h in SUMMARY_HEADER)
    bodies = []
    for heading, rows in sections(summary, group_keys):
        cells = [f'<tr class="setting"><th colspan="{len(SUMMARY_HEADER)}">{html.escape(heading)}</th></tr>']
        for _, row in rows.iterrows():
            cells.append(
                f'<tr><td class="wiring">{breakable(wiring(row))}</td><td>{path_badge(row["loss_path"])}</td>'
                f"<td>{breakable(row['reference'])}</td><td>{row['n_pairs'] or ''}</td>"
                f"{verdict_cell(row['verdict'])}{effects_cell(row)}</tr>"
            )
        bodies.append(f"<tbody>{''.join(cells)}</tbody>")
    return (
        f'<section id="summary"><h2>Summary</h2>{answer_list(summary, group_keys)}'
        f'<p class="lede">{html.escape(sentence(SUMMARY_INTRO))}</p>'
        f'<p class="rule">{html.escape(sentence(TOLERANCE_RULE))}</p>'
        f'<table class="summary"><colgroup><col style="width:14%"><col style="width:14%">'
        f'<col style="width:10%"><col style="width:5%"><col style="width:17%"><col></colgroup>'
        f"<thead><tr>{header}</tr></thead>{''.join(bodies)}</table></section>"
    )


def figure_html(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode()
    return (
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
    )


def figures_section(images: dict) -> str:
    """The difference figures first; the overlaid ones folded below them."""
    differences = {k: v for k, v in images.items() if k.endswith(DIFFERENCE_FIGURE_SUFFIX)}
    overlaid = {k: v for k, v in images.items() if k not in differences}
    if not images:
        return ""
    parts = ['<section id="figures"><h2>Figures</h2>']
    if differences:
        parts.append(
            "<p>Each wiring's curve minus its reference's on the same seed: the mean over seeds "
            "(line) and its 95% interval (band); wirings with the reference's very curve are "
            "listed in the panel, not drawn.</p>"
        )
        parts += [figure_html(k, v) for k, v in differences.items()]
    if overlaid:
        parts.append("<details><summary>Overlaid curves: every group on one axis</summary>")
        parts += [figure_html(k, v) for k, v in overlaid.items()]
        parts.append("</details>")
    return "".join(parts) + "</section>"


def sort_value(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(float(value)) if math.isfinite(value) else ""
    return html.escape(str(value), quote=True)


def sortable_table(shown: pd.DataFrame, sort_keys: dict | None = None) -> str:
    """`shown` as an HTML table whose columns sort on click; `sort_keys` maps a shown column to the
    Series of numbers it sorts by (its cells are text such as '0.22 ± 0.11')."""
    sort_keys = sort_keys or {}
    header = "".join(f'<th title="sort">{breakable(column)}</th>' for column in shown.columns)
    rows = []
    for position in range(len(shown)):
        cells = []
        for column in shown.columns:
            text = shown[column].iloc[position]
            key = sort_keys[column].iloc[position] if column in sort_keys else text
            cells.append(f'<td data-sort="{sort_value(key)}">{breakable(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="sortable"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def tables_section(comparison) -> str:
    """The aggregate and the paired table, folded, numbers rounded, sortable."""
    metrics = comparison.metrics
    aggregate_keys = {m: comparison.table[f"{m}_mean"] for m in metrics if m in comparison.shown}
    aggregate_keys["nan_rate"] = comparison.table["nan_rate"]
    parts = [
        '<section id="tables"><h2>Full tables</h2>',
        "<details><summary>Every group: mean ± 95% half-width over seeds (click a column to sort)</summary>",
        sortable_table(comparison.shown, aggregate_keys),
        "</details>",
    ]
    if not comparison.paired_shown.empty:
        paired_keys = {
            f"Δ {m}": comparison.paired[f"{m}_diff_mean"]
            for m in metrics
            if f"Δ {m}" in comparison.paired_shown
        }
        parts += [
            "<details><summary>Paired differences: each wiring minus its reference on the same seed, "
            "mean [95% interval]</summary>",
            sortable_table(comparison.paired_shown, paired_keys),
            "</details>",
        ]
    return "".join(parts) + "</section>"


def reference_words(reference: str) -> str:
    if reference == TWIN:
        return "its from-logits twin (logits_ce or logit_bce) trained on the same seed"
    return f"{reference} trained on the same seed"


def comparison_page(comparison) -> str:
    """The page of a comparison (kerasce.api.Comparison): summary, figures, tables."""
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in comparison.notes)
    title = html.escape(comparison.title)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{title}</h1>"
        f'<p class="lede">Grouped by {html.escape(", ".join(comparison.group_keys) or "nothing")}; '
        f"each wiring is paired with {html.escape(reference_words(comparison.reference))}.</p>"
        f"{f'<ul class=notes>{notes}</ul>' if notes else ''}"
        f"{summary_section(comparison.summary, comparison.group_keys)}"
        f"{figures_section(comparison.images)}"
        f"{tables_section(comparison)}"
        f"</main><script>{SCRIPT}</script></body></html>"
    )
